//go:build tools

// Package tools pins MetalLB's two commands, the LoadBalancer implementation of the clusters
// we make. go.mod beside it is made per version by setup/build-go.sh, never committed.
package tools

import (
	_ "go.universe.tf/metallb/controller"
	_ "go.universe.tf/metallb/speaker"
)
