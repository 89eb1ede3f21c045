module svc-conformance.local/e2e-tests

go 1.24
