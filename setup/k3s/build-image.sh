#!/usr/bin/env bash
# Builds a k3s image with no registry, for the k3s provider: the k3s multicall binary (server,
# agent, its embedded containerd, kubectl, crictl, ctr) built from k3s's source at the commit
# pinned in setup/k3s/k3s.json, containerd's runc shim from k3s's containerd fork, and a Debian
# bookworm root filesystem with runc, the CNI plugins, iptables, nftables, ipset, conntrack and
# iproute2, with CoreDNS, pause and the suites' images preloaded where k3s imports them at start
# (/var/lib/rancher/k3s/agent/images). Each piece is cached in $SVC_CACHE keyed by version (or by
# its inputs); a warm run takes seconds.
#   1 k3s source   2 binaries   3 root filesystem   4 images to preload   5 the image
# What is not upstream's, and why:
#   - k3s's source is not on the Go module proxy here (github.com/k3s-io/k3s and its Kubernetes
#     fork github.com/k3s-io/kubernetes answer 403 "not available"): the source comes from a git
#     copy (SVC_K3S_SRC), and Kubernetes from the upstream modules at the same version
#     (k8s.io/kubernetes v1.34.4, staging v0.34.4) in place of v1.34.4-k3s1;
#   - flannel's CNI plugin (github.com/flannel-io/cni-plugin) is not on the proxy either: the
#     image is labelled svc-conformance.k3s.cni=bridge, and the provider runs k3s with
#     --flannel-backend=none and a CNI bridge config (helpers/cluster/k3s/cni.ts);
#   - runc and the CNI plugins are Debian's (runc with seccomp, which pods of Pod Security
#     "restricted" ask for).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/../lib.sh"
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local

pin() { jq -r ".$1" "$here/k3s.json"; }
version=$(pin version); commit=$(pin commit); image=$(pin localImage)
k8s=${version%%+*}; k8s_staging=v0.${k8s#v1.}
work=$SVC_CACHE/build/k3s-$version; bin=$SVC_CACHE/bin/k3s-$version
mkdir -p "$work" "$bin"

# 1 k3s source at the pinned commit, its go.mod pointed at upstream Kubernetes.
if [ ! -f "$work/src/.ready" ]; then
  src=${SVC_K3S_SRC:-}
  if [ -z "$src" ] || ! git -C "$src" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "setup --k3s: k3s's source is not on the Go module proxy, so the build needs a git copy holding commit $commit (k3s release-1.34, Kubernetes v1.34.4): clone https://github.com/k3s-io/k3s and run SVC_K3S_SRC=/path/to/k3s npm run setup -- --k3s${src:+ (SVC_K3S_SRC=$src does not hold it)}" >&2
    exit 2
  fi
  say "k3s $version: source from $src at ${commit:0:12}"
  rm -rf "$work/src"; mkdir -p "$work/src"
  git -C "$src" archive "$commit" | tar -x -C "$work/src"
  # The k3s-io/kubernetes fork (and etcd's client/v2 fork) cannot be fetched: upstream modules of
  # the same version instead (k8s.io/kubernetes as the patched copy below); k8s.io/node-api is a
  # fork-only module nothing here imports.
  sed -i -E \
    -e "s#github.com/k3s-io/kubernetes/staging/src/(k8s.io/[a-z-]+) $k8s-k3s1#\1 $k8s_staging#" \
    -e "s#=> github.com/k3s-io/kubernetes $k8s-k3s1#=> ../kubernetes#" \
    -e '/k8s.io\/node-api =>/d' -e '/go.etcd.io\/etcd\/client\/v2 =>/d' "$work/src/go.mod"
  # k3s's own calls into the fork's changed signatures, back to upstream's (see the patched copy below).
  sed -i -e 's/apiapp.NewAPIServerCommand(ctx.Done())/apiapp.NewAPIServerCommand()/' \
    -e 's/sapp.NewSchedulerCommand(ctx.Done())/sapp.NewSchedulerCommand()/' "$work/src/pkg/executor/embed/embed.go"
  # --advertise-port is the fork's flag (the kubernetes Service's endpoints name k3s's port 6443,
  # where agents also find k3s's own endpoints): handed to the patched apiserver below instead.
  sed -i -e 's/^\targsMap\["advertise-port"\] = strconv.Itoa(cfg.AdvertisePort)$/\tos.Setenv("K3S_ADVERTISE_PORT", strconv.Itoa(cfg.AdvertisePort))/' \
    "$work/src/pkg/daemons/control/server.go"
  grep -q 'os.Setenv("K3S_ADVERTISE_PORT"' "$work/src/pkg/daemons/control/server.go" ||
    { echo "setup --k3s: the patch of k3s's apiserver arguments did not apply" >&2; exit 1; }
  # k3s's scripts/build embeds its manifests (CoreDNS, RBAC, ...) this way before compiling.
  cp -a "$work/src/manifests/." "$work/src/pkg/deploy/embed/"
  touch "$work/src/.ready"
fi

# What k3s needs of its Kubernetes fork, patched into a copy of the upstream module (go build
# -overlay may not touch the module cache) that go.mod points k8s.io/kubernetes at:
#   - kube-apiserver hands k3s its handler chain and authenticator (StartupConfig): k3s serves
#     the API on its own port 6443 and passes requests to it in-process;
#   - kube-apiserver, kube-scheduler and kubelet stop with the context k3s runs them in, instead
#     of each installing a signal handler (a second one panics: they share one process);
#   - node proxying can skip the hostname check (DisableProxyHostnameCheck), as k3s sets;
#   - kube-controller-manager leaves the WatchListClient gate as kube-apiserver set it;
#   - the kubernetes Service's endpoints name k3s's port (the fork's --advertise-port).
if [ ! -f "$work/kubernetes/.patched" ]; then
  mod=$(cd /tmp && go mod download -json "k8s.io/kubernetes@$k8s" | jq -r .Dir)
  k=$work/kubernetes; rm -rf "$k"; cp -r "$mod" "$k"; chmod -R u+w "$k"
  patch_file() { # FILE SED-ARGS...: fails when the patch changed nothing
    local f=$1; shift; cp "$f" "$f.orig"; sed -i "$@" "$f"
    if cmp -s "$f" "$f.orig"; then echo "setup --k3s: the patch of ${f#"$k"/} did not apply to k8s.io/kubernetes $k8s" >&2; exit 1; fi
    rm "$f.orig"
  }
  patch_file "$k/cmd/kube-apiserver/app/server.go" \
    -e 's/^\tctx := genericapiserver.SetupSignalContext()$/\tvar ctx context.Context/' \
    -e 's/^\t\t\tfs := cmd.Flags()$/\t\t\tfs := cmd.Flags()\n\t\t\tctx = cmd.Context()/' \
    -e 's/^\tserver, err := CreateServerChain(completed)$/&\n\tif err == nil {\n\t\tStartupConfig <- StartupConfigValue{Handler: server.GenericAPIServer.Handler, Authenticator: completed.KubeAPIs.ControlPlane.Generic.Authentication.Authenticator}\n\t}/'
  cat > "$k/cmd/kube-apiserver/app/k3s_startup.go" <<'GO'
package app

import (
	"net/http"

	"k8s.io/apiserver/pkg/authentication/authenticator"
)

// StartupConfig carries the running API server's handler chain and authenticator to the
// program that embeds it (k3s), which serves the API on its own listener.
var StartupConfig = make(chan StartupConfigValue, 1)

type StartupConfigValue struct {
	Handler       http.Handler
	Authenticator authenticator.Request
}
GO
  patch_file "$k/cmd/kubelet/app/server.go" \
    -e 's/^\t\t\tctx := genericapiserver.SetupSignalContext()$/\t\t\t_ = genericapiserver.SetupSignalContext\n\t\t\tctx := cmd.Context()/'
  patch_file "$k/cmd/kube-scheduler/app/server.go" \
    -e 's/^\t\tstopCh := server.SetupSignalHandler()$/\t\t_ = server.SetupSignalHandler\n\t\tstopCh := cmd.Context().Done()/'
  patch_file "$k/pkg/registry/core/node/strategy.go" \
    -e 's/if err := isProxyableHostname(ctx, info.Hostname); err != nil {/if err := isProxyableHostname(ctx, info.Hostname); err != nil \&\& !DisableProxyHostnameCheck {/'
  # kube-controller-manager may not move a feature gate's default once kube-apiserver (same
  # process, same gates) has added the gates to its flags: keep the apiserver's.
  patch_file "$k/cmd/kube-controller-manager/app/options/options.go" \
    -e 's/^\t\t\tpanic(fmt.Sprintf("unable to set %s feature gate, err: %v", clientgofeaturegate.WatchListClient, err))$/\t\t\t_ = err/'
  patch_file "$k/pkg/controlplane/instance.go" \
    -e 's/^\tkubernetesServiceCtrl := kubernetesservice.New(kubernetesservice.Config{$/\tpublicServicePort = advertisedPort(publicServicePort)\n&/'
  cat > "$k/pkg/controlplane/k3s_advertise_port.go" <<'GO'
package controlplane

import (
	"os"
	"strconv"
)

// advertisedPort is the port the kubernetes Service's endpoints name: K3S_ADVERTISE_PORT when
// the embedding program (k3s) serves the API on another port than the apiserver's own.
func advertisedPort(port int) int {
	if p, err := strconv.Atoi(os.Getenv("K3S_ADVERTISE_PORT")); err == nil && p > 0 {
		return p
	}
	return port
}
GO
  printf 'package node\n\n// DisableProxyHostnameCheck lets the embedding program (k3s) proxy to nodes by any hostname.\nvar DisableProxyHostnameCheck bool\n' > "$k/pkg/registry/core/node/k3s_proxy.go"
  touch "$k/.patched"
fi

# 2 binaries: k3s (cgo: kine's sqlite), the runc shim of k3s's containerd fork.
if [ ! -x "$bin/k3s" ]; then
  say "k3s $version: go build ./cmd/server (cold: about 20 minutes on 2 cores)"
  mod() { (cd "$work/src" && go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$1"); }
  ld="-s -w -X github.com/k3s-io/k3s/pkg/version.Version=$version -X github.com/k3s-io/k3s/pkg/version.GitCommit=${commit:0:8}"
  # k3s refuses to start unless this names the Go it was built with; Kubernetes pins go1.24.12
  # for v1.34 (build/dependencies.yaml), this build uses the local Go and says so.
  ld+=" -X github.com/k3s-io/k3s/pkg/version.UpstreamGolang=$(go env GOVERSION)"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$version -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%FT%TZ)"
  done
  ld+=" -X sigs.k8s.io/cri-tools/pkg/version.Version=$(mod sigs.k8s.io/cri-tools)"
  ld+=" -X github.com/containerd/containerd/v2/version.Version=$(mod github.com/containerd/containerd/v2)"
  ld+=" -X github.com/containerd/containerd/v2/version.Package=github.com/k3s-io/containerd"
  (cd "$work/src" && CGO_ENABLED=1 go build -trimpath -ldflags "$ld" -o "$bin/k3s.tmp" \
    -tags "ctrd netcgo osusergo providerless urfave_cli_no_docs sqlite_omit_load_extension" ./cmd/server)
  mv "$bin/k3s.tmp" "$bin/k3s"
fi
if [ ! -x "$bin/containerd-shim-runc-v2" ]; then
  say "k3s $version: containerd-shim-runc-v2 from k3s's containerd fork"
  (cd "$work/src" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$bin/containerd-shim-runc-v2" \
    github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2)
fi

# 3 root filesystem (debootstrap; deb.debian.org is the only network this needs).
rootfs=$SVC_CACHE/rootfs/k3s-bookworm
mkdir -p "$SVC_CACHE/rootfs"
command -v debootstrap >/dev/null || { say "installing debootstrap"; apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
packages=ca-certificates,runc,containernetworking-plugins,iptables,nftables,ipset,conntrack,iproute2,mount,util-linux,kmod,procps,findutils
if [ "$(cat "$rootfs/.packages" 2>/dev/null)" != "$packages" ]; then
  say "rootfs k3s-bookworm: debootstrap bookworm with $packages (a few minutes)"
  rm -rf "$rootfs.tmp" "$rootfs"
  debootstrap --variant=minbase --include="$packages" bookworm "$rootfs.tmp" http://deb.debian.org/debian >"$rootfs.log" 2>&1 ||
    { tail -n 20 "$rootfs.log" >&2; exit 1; }
  rm -rf "$rootfs.tmp/var/cache/apt/archives/"*.deb "$rootfs.tmp/var/lib/apt/lists/"*
  echo "$packages" > "$rootfs.tmp/.packages"; mv "$rootfs.tmp" "$rootfs"
fi

# 4 images k3s imports at start: ours under the names k3s's manifests and --pause-image default
# use (the docker-archive gets a second RepoTag), and the suites' own.
imgs=$SVC_CACHE/images-k3s/$version; mkdir -p "$imgs"
retag() { # ARCHIVE OUT EXTRA_TAG
  local tmp; tmp=$(mktemp -d)
  tar -C "$tmp" -xf "$1"
  jq --arg t "$3" '.[0].RepoTags += [$t]' "$tmp/manifest.json" > "$tmp/m" && mv "$tmp/m" "$tmp/manifest.json"
  rm -f "$tmp/repositories"; tar -C "$tmp" -cf "$2" .; rm -rf "$tmp"
}
corednsTag=$(sed -n 's/.*image: "%{SYSTEM_DEFAULT_REGISTRY}%\(rancher\/mirrored-coredns-coredns:[^"]*\)".*/\1/p' "$work/src/manifests/coredns.yaml")
pauseTag=$(sed -n 's/.*Value: *"\(rancher\/mirrored-pause:[^"]*\)".*/\1/p' "$work/src/pkg/cli/cmds/agent.go")
[ -n "$corednsTag" ] && [ -n "$pauseTag" ] || { echo "setup --k3s: cannot read k3s's CoreDNS or pause image name from its source" >&2; exit 1; }
for a in coredns pause agnhost client; do [ -f "$SVC_CACHE/images/$a.tar" ] || bash "$here/../build-images.sh"; done
[ "$imgs/coredns.tar" -nt "$SVC_CACHE/images/coredns.tar" ] || retag "$SVC_CACHE/images/coredns.tar" "$imgs/coredns.tar" "docker.io/$corednsTag"
[ "$imgs/pause.tar" -nt "$SVC_CACHE/images/pause.tar" ] || retag "$SVC_CACHE/images/pause.tar" "$imgs/pause.tar" "docker.io/$pauseTag"
archives=("$imgs"/{coredns,pause}.tar "$SVC_CACHE"/images/{agnhost,client}.tar)

# 5 the image.
key=$(cat "$0" "$here/k3s.json" "$rootfs/.packages" "$bin"/{k3s,containerd-shim-runc-v2} "${archives[@]}" | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "svc-conformance.key"}}' "$image" 2>/dev/null)" = "$key" ]; then
  say "k3s image $image: cached"; exit 0
fi
say "k3s image $image: assembling"
node=$(mktemp -d "$SVC_CACHE/k3s-node.XXXX")
trap 'rm -rf "$node"' EXIT
cp -a "$rootfs/." "$node/"; rm -f "$node/.packages"
install -m 0755 "$bin/k3s" "$node/bin/k3s"
# The multicall binary runs what its argv[0] names, as k3s's own image links them.
for cmd in containerd kubectl crictl ctr k3s-server k3s-agent; do ln -sf k3s "$node/bin/$cmd"; done
install -m 0755 "$bin/containerd-shim-runc-v2" "$node/bin/containerd-shim-runc-v2"
mkdir -p "$node/opt/cni" "$node/etc/cni/net.d" "$node/var/lib/rancher/k3s/agent/images" "$node/etc/rancher/k3s"
ln -sfn /usr/lib/cni "$node/opt/cni/bin"
install -m 0644 "${archives[@]}" "$node/var/lib/rancher/k3s/agent/images/"
tar -C "$node" -c . | docker import \
  --change 'ENTRYPOINT ["/bin/k3s"]' --change 'CMD ["agent"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'VOLUME ["/var/lib/kubelet", "/var/lib/rancher/k3s", "/var/lib/cni", "/var/log"]' \
  --change "LABEL svc-conformance.key=$key" --change 'LABEL svc-conformance.k3s.cni=bridge' \
  - "$image" >/dev/null
say "k3s image $image: built ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
