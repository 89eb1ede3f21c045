#!/usr/bin/env bash
# npm run setup: installs and builds everything the default run needs, idempotent and
# cached in $SVC_CACHE (default ~/.cache/svc-conformance). A warm machine takes seconds.
#   1 Debian packages   2 npm packages   3 Go builds (Kubernetes, etcd, CoreDNS, MetalLB, flanneld, our tools)
#   4 images as archives   (--kind) 5 Docker, the kind CLI and an offline kind node image
#   (--images-only) only what the suites' images need (svcprobe, mkimage, agnhost, busybox),
#   for a cluster you bring: load $SVC_CACHE/images/{agnhost,client}.tar into its nodes
#   (--k3s) Docker, the network svc-kind and an offline k3s image (needs SVC_K3S_SRC: see setup/k3s/build-image.sh)
#   (--kubernetes VERSION) also the local cluster's Kubernetes at VERSION (v1.MINOR.PATCH), beside the
#   pinned one and cached apart ($SVC_CACHE/bin/k8s-VERSION); run it with --kubernetes VERSION
set -euo pipefail
with_kind=false with_k3s=false images_only=false extra_k8s=()
usage="known: --kind, --k3s, --images-only, --kubernetes VERSION"
while [ $# -gt 0 ]; do
  case $1 in
    --kind) with_kind=true ;;
    --k3s) with_k3s=true ;;
    --images-only) images_only=true ;;
    --kubernetes=*) extra_k8s+=("${1#--kubernetes=}") ;;
    --kubernetes) [ $# -ge 2 ] || { echo "setup: --kubernetes needs a version, e.g. --kubernetes v1.33.13" >&2; exit 2; }; extra_k8s+=("$2"); shift ;;
    *) echo "setup: unknown option $1 ($usage)" >&2; exit 2 ;;
  esac
  shift
done
# SVC_KUBERNETES (the version runs use) set here asks for that version too; the pinned one is always built.
if [ -n "${SVC_KUBERNETES:-}" ]; then extra_k8s+=("$SVC_KUBERNETES"); unset SVC_KUBERNETES; fi
for v in ${extra_k8s[@]+"${extra_k8s[@]}"}; do
  [[ $v =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "setup: --kubernetes $v is not a release version; give v1.MINOR.PATCH, e.g. v1.33.13" >&2; exit 2; }
done
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/lib.sh"
cd "$here/.."
started=$(date +%s)

APT_PACKAGES=(containerd runc containernetworking-plugins iptables nftables conntrack iproute2 procps mount
  util-linux openssl busybox-static ca-certificates)
$images_only && APT_PACKAGES=(busybox-static ca-certificates)

step() { say "step $1: $2"; }

step 1/4 "Debian packages"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=; [ "$(id -u)" = 0 ] || ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null || sudo="sudo -n"
  [ "$(id -u)" = 0 ] || [ -n "$sudo" ] || { echo "setup: Debian packages ${missing[*]} are missing and installing them needs root; run as root (or with passwordless sudo)" >&2; exit 2; }
  say "installing ${missing[*]}"
  $sudo apt-get update -q >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's containerd unit may start a system containerd; the local cluster runs its own.

step 2/4 "npm packages"
if [[ $PWD == */node_modules/* ]]; then
  say "installed as a package: its npm packages are your project's (npm, pnpm or yarn put them in place)"
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  say "node_modules up to date"
fi

step 3/4 "Go builds (cold: about 15 minutes on 2 cores; cached after)"
command -v go >/dev/null || { echo "setup: Go is not installed; install Go 1.24 or newer" >&2; exit 2; }
if $images_only; then bash "$here/build-go.sh" tools agnhost; else bash "$here/build-go.sh" tools etcd coredns k8s mutants metallb flannel; fi
# Other Kubernetes versions: the cluster's binaries only (the suites' images stay the pinned version's).
for v in ${extra_k8s[@]+"${extra_k8s[@]}"}; do SVC_KUBERNETES=$v bash "$here/build-go.sh" k8s; done
# The current build of our own programs, by a stable name.
for prog in svcprobe mkimage; do
  ln -sfn "$SVC_CACHE/bin/$prog-$(source_hash "$here/go/$prog")/$prog" "$SVC_CACHE/bin/$prog"
done

step 4/4 "images"
bash "$here/build-images.sh"

if $with_kind; then
  step 5/5 "kind provider: Docker engine, network svc-kind, kind CLI, kubeadm, node image (cold: about 20 minutes)"
  bash "$here/kind/start-docker.sh"
  bash "$here/kind/network.sh"
  bash "$here/kind/build-node-image.sh"
fi

if $with_k3s; then
  step k3s "k3s provider: Docker engine, network svc-kind, k3s built from its source, k3s image (cold: about 25 minutes)"
  bash "$here/kind/start-docker.sh"
  bash "$here/kind/network.sh"
  bash "$here/k3s/build-image.sh"
fi

say "setup done in $(( $(date +%s) - started ))s; cache: $SVC_CACHE ($(du -sh "$SVC_CACHE" 2>/dev/null | cut -f1))"
