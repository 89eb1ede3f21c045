#!/usr/bin/env bash
# The images the upstream e2e tests of the benchmark run (npm run bench), under their
# upstream names, built here (no registry). Upstream agnhost is alpine + bind-tools, curl,
# netcat, iproute2, bash (test/images/agnhost/Dockerfile): its DNS probes run `dig`. Here
# both agnhost and jessie-dnsutils are a Debian bookworm minbase root filesystem with
# bind9-dnsutils, curl, netcat-openbsd and iproute2 (debootstrap); agnhost adds the binary
# from the local Kubernetes build, /uploads and the image's test user and group. pause is
# agnhost's `pause`. Archives go to $SVC_CACHE/images-e2e/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/lib.sh"

k8s=$(version kubernetes)
bin=$SVC_CACHE/bin; out=$SVC_CACHE/images-e2e; rootfs=$SVC_CACHE/rootfs/e2e-bookworm
agnhost=$bin/k8s-$k8s/agnhost; mkimage=${MKIMAGE:-$bin/mkimage}
# The tags test/utils/image/manifest.go of this Kubernetes version asks for.
manifest=$(cd "$SVC_CACHE/build/k8s-$k8s" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/test/utils/image/manifest.go
tag_of() { sed -n "s/.*configs\[$1\] = Config{list\.[A-Za-z0-9]*, \"\([^\"]*\)\", \"\([^\"]*\)\"}.*/\1:\2/p" "$manifest"; }
agnhost_tag=registry.k8s.io/e2e-test-images/$(tag_of Agnhost)
pause_tag=registry.k8s.io/$(tag_of Pause)
dnsutils_tag=registry.k8s.io/e2e-test-images/$(tag_of JessieDnsutils)

if [ ! -f "$rootfs/.done" ]; then
  command -v debootstrap >/dev/null || { say "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
  say "debootstrap bookworm minbase + bind9-dnsutils curl netcat-openbsd iproute2 (a few minutes)"
  rm -rf "$rootfs"; mkdir -p "$(dirname "$rootfs")"
  debootstrap --variant=minbase --include=bind9-dnsutils,curl,netcat-openbsd,iproute2 bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  mark_done "$rootfs"
fi

key=$(cat "$0" "$agnhost" "$mkimage" "$rootfs/.done" | sha256sum | cut -c1-16)
if [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then say "e2e images: cached"; exit 0; fi
mkdir -p "$out"; rm -f "$out/.key"
say "e2e images: $agnhost_tag, $pause_tag, $dnsutils_tag"
"$mkimage" --tag "$pause_tag" --out "$out/pause.tar" --entrypoint '["/agnhost","pause"]' "$agnhost:/agnhost"
exclude=(--exclude=./proc/* --exclude=./sys/* --exclude=./dev/* --exclude=./.done)
tar -C "$rootfs" "${exclude[@]}" -cf "$out/rootfs.tar" .
"$mkimage" --tag "$dnsutils_tag" --out "$out/jessie-dnsutils.tar" --layer-tar "$out/rootfs.tar" --entrypoint '["/bin/sh"]'
# agnhost: the same root filesystem plus what upstream's Dockerfile adds.
extra=$(mktemp -d); trap 'rm -rf "$extra"' EXIT
cp "$agnhost" "$extra/agnhost"; ln -s agnhost "$extra/agnhost-2"; mkdir -p "$extra/uploads" "$extra/etc"
cp "$rootfs/etc/passwd" "$rootfs/etc/group" "$extra/etc/"
echo 'user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh' >> "$extra/etc/passwd"
printf 'user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n' >> "$extra/etc/group"
tar -C "$extra" -rf "$out/rootfs.tar" agnhost agnhost-2 uploads etc/passwd etc/group
"$mkimage" --tag "$agnhost_tag" --out "$out/agnhost.tar" --layer-tar "$out/rootfs.tar" --entrypoint '["/agnhost"]'
rm -f "$out/rootfs.tar"
echo "$key" > "$out/.key"
