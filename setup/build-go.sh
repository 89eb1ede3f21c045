#!/usr/bin/env bash
# Builds every Go program the local cluster runs, at the versions in setup/versions.json,
# into $SVC_CACHE/bin/<component>-<version>/. A finished build leaves a .done stamp, so a
# warm machine skips it. Usage: setup/build-go.sh [k8s|agnhost|etcd|coredns|tools|e2e|mutants|metallb|flannel|all]...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/lib.sh"

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# k8s: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
# kubectl and agnhost, from k8s.io/kubernetes required as a module. Its go.mod replaces
# every staging module with a local path, so the wrapper module replaces each one with the
# published k8s.io/<m> v0.<minor>.<patch>; the list comes from that version's own go.mod.
k8s_module() {
  local v; v=$(version kubernetes)
  local work="$SVC_CACHE/build/k8s-$v"
  # Made already for this version (go.mod names it and tidy wrote go.sum).
  [ -f "$work/go.sum" ] && grep -qx "require k8s.io/kubernetes $v" "$work/go.mod" 2>/dev/null && return
  mkdir -p "$work"
  cp "$here/go/k8s/tools.go" "$work/"
  local upstream
  if ! upstream=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$v" 2>/dev/null | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p') || [ -z "$upstream" ]; then
    local served; served=$(cd "$work" && go list -m -versions k8s.io/kubernetes 2>/dev/null | tr ' ' '\n' | grep -E '^v1\.[0-9]+\.[0-9]+$' | tail -8 | tr '\n' ' ')
    rm -rf "$work"
    echo "setup: Kubernetes $v cannot be downloaded from the Go module proxy; newest served: ${served:-none (no network to it?)}" >&2
    exit 2
  fi
  local staging="v0.${v#v1.}"
  {
    echo "module svc-conformance.local/k8s-build"
    grep -m1 '^go ' "$upstream"
    grep -m1 '^godebug ' "$upstream" || true
    echo "require k8s.io/kubernetes $v"
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$upstream" |
      awk -v s="$staging" '{print "replace " $1 " => " $1 " " s}'
  } > "$work/go.mod"
  say "kubernetes $v: $(grep -c '^replace' "$work/go.mod") staging replace lines; go mod tidy"
  (cd "$work" && go mod tidy)
}

k8s_ldflags() {
  local v; v=$(version kubernetes)
  local minor=${v#v1.}; minor=${minor%%.*}
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  echo "$ld"
}

build_k8s() {
  local v; v=$(version kubernetes)
  local out="$SVC_CACHE/bin/k8s-$v" work="$SVC_CACHE/build/k8s-$v"
  done_stamp "$out" && { say "kubernetes $v: cached"; return; }
  k8s_module
  mkdir -p "$out"
  local ld; ld=$(k8s_ldflags)
  local cmd
  for cmd in kube-proxy kube-scheduler kubectl kube-controller-manager kube-apiserver kubelet; do
    say "kubernetes $v: go build $cmd"
    (cd "$work" && go build -trimpath -tags selinux,notest -ldflags "$ld" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  done
  # agnhost goes into the suites' images, which are the pinned version's whatever cluster runs them.
  if [ -z "${SVC_KUBERNETES:-}" ]; then
    say "kubernetes $v: go build agnhost"
    (cd "$work" && go build -trimpath -ldflags "$ld" -o "$out/agnhost" k8s.io/kubernetes/test/images/agnhost)
  fi
  mark_done "$out"
}

# kube-proxy mutants: kube-proxy with one regression each (setup/kube-proxy-mutants/NAME.patch),
# for the self-test to prove a kube-proxy bug is blamed on kube-proxy. Go refuses -overlay on
# the read-only module cache, so each mutant builds from a writable copy of the module (keyed
# by version and patch hash) that a copy of the build module replaces k8s.io/kubernetes with.
# Binaries: $SVC_CACHE/bin/kube-proxy-mutants-<version>/<name>-<hash>/kube-proxy (named kube-proxy,
# so the process looks like kube-proxy to ps and /proc/PID/comm).
build_mutants() {
  local v; v=$(version kubernetes)
  build_k8s
  local work="$SVC_CACHE/build/k8s-$v" out="$SVC_CACHE/bin/kube-proxy-mutants-$v"
  local upstream; upstream=$(cd "$work" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
  local ld; ld=$(k8s_ldflags)
  mkdir -p "$out"
  local patch name hash src mod
  for patch in "$here"/kube-proxy-mutants/*.patch; do
    name=$(basename "$patch" .patch)
    hash=$(sha256sum "$patch" | cut -c1-12)
    [ -x "$out/$name-$hash/kube-proxy" ] && { say "kube-proxy mutant $name: cached"; continue; }
    src="$SVC_CACHE/build/kube-proxy-mutant-$v-$name-$hash"
    mod="$src/build"
    rm -rf "$src"; mkdir -p "$mod"
    cp -r "$upstream" "$src/kubernetes"; chmod -R u+w "$src/kubernetes"
    # A patch that no longer applies (another version's source) stops setup here, by name.
    if ! patch -s -p1 -d "$src/kubernetes" --no-backup-if-mismatch < "$patch"; then
      echo "setup: kube-proxy mutant $name does not apply to kubernetes $v ($patch)" >&2; exit 2
    fi
    cp "$work/go.mod" "$work/go.sum" "$work/tools.go" "$mod/"
    sed -i 's#^module .*#module svc-conformance.local/kube-proxy-mutant#' "$mod/go.mod"
    echo "replace k8s.io/kubernetes => ../kubernetes" >> "$mod/go.mod"
    say "kube-proxy mutant $name ($hash): go build"
    mkdir -p "$out/$name-$hash"
    (cd "$mod" && go build -mod=mod -trimpath -tags selinux,notest -ldflags "$ld" -o "$out/$name-$hash/kube-proxy.new" k8s.io/kubernetes/cmd/kube-proxy)
    mv "$out/$name-$hash/kube-proxy.new" "$out/$name-$hash/kube-proxy"
  done
}

# agnhost alone (setup --images-only: the suites' images for a cluster you bring).
build_agnhost() {
  local v; v=$(version kubernetes)
  local out="$SVC_CACHE/bin/k8s-$v" work="$SVC_CACHE/build/k8s-$v"
  [ -x "$out/agnhost" ] && { say "agnhost $v: cached"; return; }
  k8s_module
  mkdir -p "$out"
  say "kubernetes $v: go build agnhost"
  (cd "$work" && go build -trimpath -ldflags "$(k8s_ldflags)" -o "$out/agnhost.new" k8s.io/kubernetes/test/images/agnhost)
  mv "$out/agnhost.new" "$out/agnhost"
}

# e2e: the upstream end-to-end test binary (go test -c of k8s.io/kubernetes/test/e2e) at
# the same version, for the side-by-side benchmark (npm run bench). Not part of the
# default setup: it is a large build (about 15 minutes cold on 2 cores).
build_e2e() {
  local v; v=$(version kubernetes)
  local out="$SVC_CACHE/bin/e2e-$v" work="$SVC_CACHE/build/e2e-$v"
  done_stamp "$out" && { say "e2e.test $v: cached"; return; }
  build_k8s
  mkdir -p "$work" "$out"
  cp "$SVC_CACHE/build/k8s-$v/go.mod" "$SVC_CACHE/build/k8s-$v/go.sum" "$work/"
  sed -i 's#^module .*#module svc-conformance.local/e2e-build#' "$work/go.mod"
  # The test binary's own imports (test/e2e/e2e_test.go), so tidy records their modules.
  local upstream; upstream=$(cd "$work" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
  {
    echo '//go:build tools'
    echo 'package tools'
    echo 'import ('
    sed -n '/^import (/,/^)/p' "$upstream/test/e2e/e2e_test.go" | grep -o '"k8s.io/kubernetes/[^"]*"\|"github.com/onsi/[^"]*"\|"go.yaml.in/[^"]*"' | sort -u | sed 's/^/\t_ /'
    # The ginkgo CLI (parallel runs), from the version Kubernetes' go.mod pins, as upstream builds it from its tree.
    printf '\t_ "github.com/onsi/ginkgo/v2/ginkgo"\n'
    echo ')'
  } > "$work/tools.go"
  (cd "$work" && go mod tidy)
  local minor=${v#v1.}; minor=${minor%%.*}
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  say "e2e.test $v: go test -c k8s.io/kubernetes/test/e2e"
  (cd "$work" && go test -mod=mod -c -trimpath -ldflags "$ld" -o "$out/e2e.test" k8s.io/kubernetes/test/e2e)
  say "ginkgo $(cd "$work" && go list -m -f '{{.Version}}' github.com/onsi/ginkgo/v2): go build github.com/onsi/ginkgo/v2/ginkgo"
  (cd "$work" && go build -mod=mod -trimpath -o "$out/ginkgo" github.com/onsi/ginkgo/v2/ginkgo)
  mark_done "$out"
}

# A wrapper module around one main package of ours: etcd (through etcdmain), CoreDNS
# (a plugin subset), or the project's own programs.
build_wrapped() {
  local name=$1 module=$2 v=$3 src=$4 ldflags=${5:-}
  local out="$SVC_CACHE/bin/$name-$v" work="$SVC_CACHE/build/$name-$v"
  done_stamp "$out" && { say "$name $v: cached"; return; }
  mkdir -p "$work" "$out"
  cp "$src"/*.go "$work/"; [ -f "$src/go.mod" ] && cp "$src/go.mod" "$work/"
  [ -f "$work/go.mod" ] || (cd "$work" && go mod init "svc-conformance.local/$name-build" >/dev/null 2>&1)
  if [ -n "$module" ]; then (cd "$work" && go get "$module@$v"); fi
  (cd "$work" && go mod tidy)
  say "$name $v: go build"
  (cd "$work" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out/$name" .)
  mark_done "$out"
}

build_etcd() { build_wrapped etcd go.etcd.io/etcd/server/v3 "$(version etcd)" "$here/go/etcd"; }

build_coredns() {
  local v; v=$(version coredns)
  build_wrapped coredns github.com/coredns/coredns "$v" "$here/go/coredns" \
    "-X github.com/coredns/coredns/coremain.GitCommit=$v"
}

# MetalLB's controller and speaker (LoadBalancer addresses on the clusters we make), from
# go.universe.tf/metallb required as a module; its go.mod has no replace lines.
build_metallb() {
  local v; v=$(version metallb)
  local out="$SVC_CACHE/bin/metallb-$v" work="$SVC_CACHE/build/metallb-$v"
  done_stamp "$out" && { say "metallb $v: cached"; return; }
  mkdir -p "$work" "$out"
  cp "$here/go/metallb/tools.go" "$work/"
  [ -f "$work/go.mod" ] || (cd "$work" && go mod init svc-conformance.local/metallb-build >/dev/null 2>&1)
  (cd "$work" && go get "go.universe.tf/metallb@$v" && go mod tidy)
  local cmd
  for cmd in controller speaker; do
    say "metallb $v: go build $cmd"
    (cd "$work" && go build -trimpath -ldflags "-s -w -X go.universe.tf/metallb/internal/version.gitCommit=$v" \
      -o "$out/$cmd" "go.universe.tf/metallb/$cmd")
  done
  # Its install manifest (CRDs, RBAC, the controller Deployment, the speaker DaemonSet), which the providers apply.
  cp "$(cd "$work" && go list -m -f '{{.Dir}}' go.universe.tf/metallb)/config/manifests/metallb-native.yaml" "$out/"
  mark_done "$out"
}

# flanneld (--cni flannel): flannel's own main package, from its module at the pinned version. The root
# package imports every backend for its init(); two cannot build here and go: tencentvpc (its Tencent
# Cloud SDK module, tencentcloud/vpc v1.3.188, is not served by the Go module proxy) and udp (cgo, which
# flannel itself builds only on amd64). VXLAN, which the local cluster runs, is untouched.
build_flannel() {
  local v; v=$(version flannel)
  local out="$SVC_CACHE/bin/flannel-$v" work="$SVC_CACHE/build/flannel-$v"
  done_stamp "$out" && { say "flanneld $v: cached"; return; }
  mkdir -p "$work" "$out"
  local src
  if ! src=$(cd "$work" && go mod download -json "github.com/flannel-io/flannel@$v" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p') || [ -z "$src" ]; then
    echo "setup: flannel $v cannot be downloaded from the Go module proxy" >&2; exit 2
  fi
  grep -v -e 'pkg/backend/tencentvpc"' -e 'pkg/backend/udp"' "$src/main.go" > "$work/main.go"
  {
    echo "module svc-conformance.local/flannel-build"
    grep -m1 '^go ' "$src/go.mod"
    echo "require github.com/flannel-io/flannel $v"
  } > "$work/go.mod"
  (cd "$work" && go mod tidy)
  say "flanneld $v: go build"
  (cd "$work" && go build -trimpath -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$v" -o "$out/flanneld" .)
  mark_done "$out"
}

# The project's own programs are keyed by a hash of their sources, not a version.
build_tools() {
  local prog
  for prog in svcprobe mkimage; do
    build_wrapped "$prog" "" "$(source_hash "$here/go/$prog")" "$here/go/$prog"
  done
}

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(all)
for t in "${targets[@]}"; do
  case $t in
    k8s) build_k8s ;; agnhost) build_agnhost ;; metallb) build_metallb ;; etcd) build_etcd ;; coredns) build_coredns ;; tools) build_tools ;; e2e) build_e2e ;; mutants) build_mutants ;; flannel) build_flannel ;;
    all) build_tools; build_etcd; build_coredns; build_k8s; build_mutants; build_metallb; build_flannel ;;
    *) echo "build-go.sh: unknown target '$t' (k8s, agnhost, etcd, coredns, tools, e2e, mutants, metallb, flannel, all)" >&2; exit 2 ;;
  esac
done
