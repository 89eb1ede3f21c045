module svc-conformance.local/mkimage

go 1.24
