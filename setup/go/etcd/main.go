// Command etcd is upstream etcd's server, built through its etcdmain package: the root
// etcd module carries replace lines, so `go install go.etcd.io/etcd/v3` cannot build it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
