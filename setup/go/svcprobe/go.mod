module svc-conformance.local/svcprobe

go 1.24
