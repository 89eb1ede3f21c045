#!/usr/bin/env bash
# Builds a kind node image with no registry: a Debian bookworm root filesystem (systemd,
# Debian's containerd, runc, CNI plugins, iptables, nftables) plus kind's own base files
# from the sigs.k8s.io/kind module, the locally built kubeadm/kubelet/kubectl, and every
# image the cluster and the suites run already in the node's containerd. kind then creates
# clusters from it offline. Also builds the kind CLI and kubeadm. Each piece is cached in
# $SVC_CACHE keyed by version (or by its inputs); a warm run takes seconds.
#   1 kind CLI   2 kubeadm   3 root filesystems   4 control-plane images   5 node image
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/../lib.sh"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

k8s=$(version kubernetes); kind=$(version kind); etcd=$(version etcd); coredns=$(version coredns)
bin=$SVC_CACHE/bin; k8sbin=$bin/k8s-$k8s
repo=localhost/svc-conformance
NODE_IMAGE=${SVC_KIND_NODE_IMAGE_LOCAL:-$repo/kind-node:$k8s}
ETCD_TAG=${etcd#v}-0 # kubeadm picks etcd flags by this tag: 3.5.x gets the 3.5 ones

# 1 kind CLI, from its Go module at the pinned version.
if [ ! -x "$bin/kind-$kind/kind" ]; then
  say "kind $kind: go install sigs.k8s.io/kind@$kind"
  GOBIN="$bin/kind-$kind" go install -trimpath -ldflags '-s -w' "sigs.k8s.io/kind@$kind"
fi
kindmod=$(go env GOMODCACHE)/sigs.k8s.io/kind@$kind
[ -d "$kindmod/images/base/files" ] || (cd /tmp && go mod download "sigs.k8s.io/kind@$kind")

# 2 kubeadm, from the same Kubernetes module as the other binaries (a copy of the wrapper
# module that setup/build-go.sh made, with kubeadm's own dependencies added).
if [ ! -x "$k8sbin/kubeadm" ]; then
  [ -f "$SVC_CACHE/build/k8s-$k8s/go.mod" ] || bash "$here/../build-go.sh" k8s
  work=$SVC_CACHE/build/kubeadm-$k8s; mkdir -p "$work"
  cp "$SVC_CACHE/build/k8s-$k8s/go.mod" "$SVC_CACHE/build/k8s-$k8s/go.sum" "$work/"
  sed -i 's#^module .*#module svc-conformance.local/kubeadm-build#' "$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubeadm"\n' > "$work/tools.go"
  minor=${k8s#v1.}; minor=${minor%%.*}; ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  say "kubeadm $k8s: go build"
  (cd "$work" && go mod tidy && go build -trimpath -tags selinux,notest -ldflags "$ld" -o "$k8sbin/kubeadm" k8s.io/kubernetes/cmd/kubeadm)
fi

# 3 root filesystems (debootstrap; deb.debian.org is the only network this needs).
command -v debootstrap >/dev/null || { say "installing debootstrap"; apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
rootfs() { # NAME PACKAGES...
  local dir=$SVC_CACHE/rootfs/$1; shift
  mkdir -p "$(dirname "$dir")"
  local want; want=$(echo "$*" | tr ' ' ',')
  if [ "$(cat "$dir/.packages" 2>/dev/null)" != "$want" ]; then
    say "rootfs $(basename "$dir"): debootstrap bookworm with $want (a few minutes)"
    rm -rf "$dir.tmp" "$dir"
    debootstrap --variant=minbase --include="$want" bookworm "$dir.tmp" http://deb.debian.org/debian >"$dir.log" 2>&1 ||
      { tail -n 20 "$dir.log" >&2; exit 1; }
    rm -rf "$dir.tmp/var/cache/apt/archives/"*.deb "$dir.tmp/var/lib/apt/lists/"*
    echo "$want" > "$dir.tmp/.packages"; mv "$dir.tmp" "$dir"
  fi
}
rootfs kind-base-bookworm systemd systemd-sysv dbus conntrack iptables nftables iproute2 ethtool util-linux mount \
  kmod libseccomp2 pigz bash ca-certificates jq procps containerd runc containernetworking-plugins socat libcap2-bin
rootfs kube-proxy-bookworm iptables nftables conntrack kmod

# 4 the control-plane images kubeadm runs, as docker-archives (tags match helpers/cluster/kind.ts).
imgs=$SVC_CACHE/images-kind/$k8s; mkdir -p "$imgs"
mkimage=$bin/mkimage # setup links it to the build of the current sources
path=(--env PATH=/usr/local/bin:/usr/bin:/bin) # kubeadm's manifests run the commands by name
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -f "$imgs/$c.tar" ] || "$mkimage" --tag "$repo/$c:$k8s" --out "$imgs/$c.tar" --entrypoint "[\"/usr/local/bin/$c\"]" "${path[@]}" "$k8sbin/$c:/usr/local/bin/$c"
done
[ -f "$imgs/etcd.tar" ] || "$mkimage" --tag "$repo/etcd:$ETCD_TAG" --out "$imgs/etcd.tar" --entrypoint '["/usr/local/bin/etcd"]' "${path[@]}" \
  "$bin/etcd-$etcd/etcd:/usr/local/bin/etcd"
if [ ! -f "$imgs/kube-proxy.tar" ]; then
  # kube-proxy needs iptables/nft inside; it uses the iptables backend the node uses.
  tmp=$(mktemp -d); cp -a "$SVC_CACHE/rootfs/kube-proxy-bookworm/." "$tmp/"
  install -m 0755 "$k8sbin/kube-proxy" "$tmp/usr/local/bin/kube-proxy.bin"
  install -m 0755 "$here/kube-proxy-entry" "$tmp/usr/local/bin/kube-proxy"
  tar -C "$tmp" -c . | docker import --change 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]' - "$repo/kube-proxy:$k8s" >/dev/null
  docker save -o "$imgs/kube-proxy.tar" "$repo/kube-proxy:$k8s"; rm -rf "$tmp"
fi

# 5 the node image.
archives=("$imgs"/{kube-apiserver,kube-controller-manager,kube-scheduler,kube-proxy,etcd}.tar "$SVC_CACHE"/images/{pause,coredns,agnhost,client}.tar)
# MetalLB's, when setup built it: the LoadBalancer implementation the provider installs (helpers/cluster/container-metallb.ts).
for m in metallb-controller metallb-speaker; do
  if [ -f "$SVC_CACHE/images/$m.tar" ]; then archives+=("$SVC_CACHE/images/$m.tar"); fi
done
key=$(cat "$0" "$here/kube-proxy-entry" "$here/node-containerd.patch.sh" "$SVC_CACHE/rootfs/kind-base-bookworm/.packages" \
  "$k8sbin"/{kubeadm,kubelet,kubectl} "${archives[@]}" | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "svc-conformance.key"}}' "$NODE_IMAGE" 2>/dev/null)" = "$key" ]; then
  say "kind node image $NODE_IMAGE: cached"; exit 0
fi
say "kind node image $NODE_IMAGE: assembling"
node=$(mktemp -d "$SVC_CACHE/kind-node.XXXX")
cleanup() { [ -n "${ctrd:-}" ] && kill "$ctrd" 2>/dev/null; rm -rf "$node"; }
trap cleanup EXIT
cp -a "$SVC_CACHE/rootfs/kind-base-bookworm/." "$node/"; rm -f "$node/.packages"
# kind's base files, as its images/base/Dockerfile copies them.
files=$kindmod/images/base/files
install -m 0755 "$files"/usr/local/bin/* "$node/usr/local/bin/"
mkdir -p "$node/kind/bin" "$node/etc/containerd" "$node/etc/systemd/system/kubelet.service.d" "$node/etc/kubernetes/manifests"
install -m 0755 "$files"/kind/bin/* "$node/kind/bin/"
install -m 0644 "$files"/etc/crictl.yaml "$node/etc/"
install -m 0644 "$files"/etc/containerd/* "$node/etc/containerd/"
install -m 0644 "$files"/etc/default/* "$node/etc/default/"
install -m 0644 "$files"/etc/sysctl.d/* "$node/etc/sysctl.d/"
install -m 0644 "$files"/etc/systemd/system/*.service "$files"/etc/systemd/system/*.slice "$node/etc/systemd/system/"
install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$node/etc/systemd/system/kubelet.service.d/"
# Debian's containerd, runc and CNI plugins where kind's files expect upstream builds.
ln -sf /usr/bin/containerd /usr/bin/ctr /usr/bin/containerd-shim-runc-v2 "$node/usr/local/bin/"
mkdir -p "$node/opt/cni"; rm -rf "$node/opt/cni/bin"; ln -s /usr/lib/cni "$node/opt/cni/bin"
PAUSE_IMAGE="$repo/pause:$k8s" bash "$here/node-containerd.patch.sh" "$node"
ctr oci spec | jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
  jq 'del(.process.rlimits)' > "$node/etc/containerd/cri-base.json"
(
  cd "$node"
  find lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
  rm -f lib/systemd/system/multi-user.target.wants/* etc/systemd/system/*.wants/* lib/systemd/system/local-fs.target.wants/* \
    lib/systemd/system/sockets.target.wants/*udev* lib/systemd/system/sockets.target.wants/*initctl* lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >> etc/systemd/journald.conf
)
chroot "$node" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
chroot "$node" systemctl mask systemd-binfmt.service >/dev/null 2>&1
install -m 0755 "$k8sbin/kubeadm" "$k8sbin/kubelet" "$k8sbin/kubectl" "$node/usr/bin/"
echo "$k8s" > "$node/kind/version"

# Preload every image into the node's containerd store: a containerd of the same Debian
# build runs on this host against the node's /var/lib/containerd, imports, and stops.
run=$(mktemp -d /run/svc-kind-build.XXXX)
cat > "$run/config.toml" <<EOF
version = 2
root = "$node/var/lib/containerd"
state = "$run/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$run/containerd.sock"
EOF
containerd --config "$run/config.toml" --log-level warn >"$run/containerd.log" 2>&1 &
ctrd=$!
for _ in $(seq 1 30); do ctr -a "$run/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.5; done
for a in "${archives[@]}"; do
  ctr -a "$run/containerd.sock" -n k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests "$a" >/dev/null
done
say "kind node image: preloaded $(ctr -a "$run/containerd.sock" -n k8s.io images list -q | grep -v '^sha256:' | grep -vc '@sha256:') images"
kill "$ctrd"; wait "$ctrd" 2>/dev/null || true; ctrd=""; rm -rf "$run"

tar -C "$node" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'ENV container=docker' \
  --change "LABEL svc-conformance.key=$key" - "$NODE_IMAGE" >/dev/null
say "kind node image $NODE_IMAGE: built ($(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" | numfmt --to=iec))"
