#!/usr/bin/env bash
# The images the upstream e2e tests run (npm run bench, npm run conformance), under their
# upstream names, built here (no registry), each matching its upstream Dockerfile at the
# pinned Kubernetes version field by field (docs/CONFORMANCE.md has the table):
#   agnhost          test/images/agnhost/Dockerfile: ENTRYPOINT ["/agnhost"], CMD ["pause"],
#                    EXPOSE 80 8080 8081 9376 5000, /localhost.crt and /localhost.key (porter's
#                    https certificate), /uploads, /agnhost-2, user-defined-in-image (1000) in
#                    group-defined-in-image (50000), with home and shadow entry as busybox adduser
#                    writes them; bind tools, curl, netcat, iproute2, iperf (+ /usr/local/bin/iperf), bash;
#                    /coredns (upstream downloads release 1.6.2; here the pinned CoreDNS build of setup,
#                    which has the hosts and log plugins "DNS should support configurable pod resolv.conf" uses)
#   jessie-dnsutils  test/images/jessie-dnsutils/Dockerfile: no ENTRYPOINT, CMD ["bash"] (its
#                    base's), dnsutils, /fixup-apt-list.sh
#   pause            build/pause/Dockerfile: /pause built from build/pause/linux/pause.c, USER
#                    65535:65535, ENTRYPOINT ["/pause"], nothing else
#   busybox          test/images/busybox: docker's busybox (sh, sleep, nc, CMD ["sh"]); here the
#                    root filesystem below (dash, coreutils, netcat-openbsd), CMD ["sh"]
#   distroless-iptables  build-image (kubernetes/release): iptables and conntrack tools with a shell;
#                    here the root filesystem below, without them (upstream's CLOSE_WAIT test reads
#                    /proc/net/nf_conntrack when it exists, as it does here, and needs only sh, cat, grep)
#   regression-issue-74839  test/images/regression-issue-74839/Dockerfile: debian-base bookworm,
#                    /regression-issue-74839 built from the pinned source, ENTRYPOINT it
# Upstream's bases are Alpine (agnhost) and Debian jessie; here both are one Debian bookworm
# minbase root filesystem (debootstrap) with the same tools; busybox's wget (upstream agnhost's)
# is Debian's wget. Archives go to $SVC_CACHE/images-e2e/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/lib.sh"

k8s=$(version kubernetes)
bin=$SVC_CACHE/bin; out=$SVC_CACHE/images-e2e
agnhost=$bin/k8s-$k8s/agnhost; coredns=$bin/coredns-$(version coredns)/coredns; mkimage=${MKIMAGE:-$bin/mkimage}
packages=bind9-dnsutils,curl,netcat-openbsd,iproute2,iperf,wget,bash
# Keyed by the package list: a changed list is a new root filesystem.
rootfs=$SVC_CACHE/rootfs/e2e-bookworm-$(printf '%s' "$packages" | sha256sum | cut -c1-8)
upstream=$(cd "$SVC_CACHE/build/k8s-$k8s" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
# The tags test/utils/image/manifest.go of this Kubernetes version asks for.
manifest=$upstream/test/utils/image/manifest.go
tag_of() { sed -n "s/.*configs\[$1\] = Config{list\.[A-Za-z0-9]*, \"\([^\"]*\)\", \"\([^\"]*\)\"}.*/\1:\2/p" "$manifest"; }
agnhost_tag=registry.k8s.io/e2e-test-images/$(tag_of Agnhost)
pause_tag=registry.k8s.io/$(tag_of Pause)
dnsutils_tag=registry.k8s.io/e2e-test-images/$(tag_of JessieDnsutils)
busybox_tag=registry.k8s.io/e2e-test-images/$(tag_of BusyBox)
iptables_tag=registry.k8s.io/build-image/$(tag_of DistrolessIptables)
regression_tag=registry.k8s.io/e2e-test-images/$(tag_of RegressionIssue74839)
regression_src=$upstream/test/images/regression-issue-74839
# Docker's default PATH, which upstream's images carry.
docker_path=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

if [ ! -f "$rootfs/.done" ]; then
  command -v debootstrap >/dev/null || { say "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
  say "debootstrap bookworm minbase + $packages (a few minutes)"
  rm -rf "$rootfs"; mkdir -p "$(dirname "$rootfs")"
  debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  mark_done "$rootfs"
fi
command -v gcc >/dev/null || { say "installing gcc (upstream's pause is a static C program)"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc libc6-dev >/dev/null; }

[ -x "$coredns" ] || bash "$here/build-go.sh" coredns
pause_src=$upstream/build/pause/linux/pause.c
key=$(cat "$0" "$agnhost" "$coredns" "$mkimage" "$rootfs/.done" "$pause_src" "$upstream/test/images/agnhost/porter/localhost.crt" "$regression_src"/*.go | sha256sum | cut -c1-16)
if [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then say "e2e images: cached"; exit 0; fi
mkdir -p "$out"; rm -f "$out/.key"
say "e2e images: $agnhost_tag, $pause_tag, $dnsutils_tag, $busybox_tag, $iptables_tag, $regression_tag"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# pause: upstream's C program, static and stripped, built as build/pause/Makefile builds it.
pause_version=${pause_tag##*:}
gcc -Os -Wall -Werror -static -DVERSION="v$pause_version-svc-conformance" -o "$work/pause" "$pause_src"
strip "$work/pause"
"$mkimage" --tag "$pause_tag" --out "$out/pause.tar" --bare --user 65535:65535 --env "$docker_path" \
  --entrypoint '["/pause"]' "$work/pause:/pause"

exclude=(--exclude=./proc/* --exclude=./sys/* --exclude=./dev/* --exclude=./.done)

# jessie-dnsutils: the root filesystem and the fixup script, no entrypoint, its base's CMD.
tar -C "$rootfs" "${exclude[@]}" -cf "$work/dnsutils.tar" .
install -m 0755 "$upstream/test/images/jessie-dnsutils/fixup-apt-list.sh" "$work/fixup-apt-list.sh"
tar -C "$work" -rf "$work/dnsutils.tar" fixup-apt-list.sh
"$mkimage" --tag "$dnsutils_tag" --out "$out/jessie-dnsutils.tar" --layer-tar "$work/dnsutils.tar" \
  --env "$docker_path" --cmd '["bash"]'

# agnhost: the root filesystem with upstream's additions, each written once (a layer with one
# entry per path, so no runtime has to pick between duplicates).
extra=$work/agnhost; mkdir -p "$extra/etc" "$extra/uploads" "$extra/usr/local/bin" "$extra/home/user-defined-in-image"
install -m 0755 "$agnhost" "$extra/agnhost"; ln -s agnhost "$extra/agnhost-2"
install -m 0755 "$coredns" "$extra/coredns"
install -m 0644 "$upstream/test/images/agnhost/porter/localhost.crt" "$extra/localhost.crt"
install -m 0644 "$upstream/test/images/agnhost/porter/localhost.key" "$extra/localhost.key"
ln -s /usr/bin/iperf "$extra/usr/local/bin/iperf"
chmod 02755 "$extra/home/user-defined-in-image"; chown 1000:1000 "$extra/home/user-defined-in-image"
cp "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/shadow" "$extra/etc/"
echo 'user-defined-in-image:x:1000:1000:Linux User,,,:/home/user-defined-in-image:/bin/sh' >> "$extra/etc/passwd"
printf 'user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n' >> "$extra/etc/group"
echo "user-defined-in-image:!:$(( $(date +%s) / 86400 )):0:99999:7:::" >> "$extra/etc/shadow"
chmod 0640 "$extra/etc/shadow"
tar -C "$rootfs" "${exclude[@]}" --exclude=./etc/passwd --exclude=./etc/group --exclude=./etc/shadow \
  -cf "$work/agnhost.tar" .
tar -C "$extra" -rf "$work/agnhost.tar" agnhost agnhost-2 coredns localhost.crt localhost.key uploads \
  usr/local/bin/iperf home/user-defined-in-image etc/passwd etc/group etc/shadow
"$mkimage" --tag "$agnhost_tag" --out "$out/agnhost.tar" --layer-tar "$work/agnhost.tar" --env "$docker_path" \
  --entrypoint '["/agnhost"]' --cmd '["pause"]' \
  --expose 80/tcp --expose 8080/tcp --expose 8081/tcp --expose 9376/tcp --expose 5000/tcp

# busybox and distroless-iptables: the root filesystem as it is (one layer, the same in both), a
# shell and the tools upstream's tests run in them (sleep, echo, nc; cat, grep, test).
tar -C "$rootfs" "${exclude[@]}" -cf "$work/rootfs.tar" .
"$mkimage" --tag "$busybox_tag" --out "$out/busybox.tar" --layer-tar "$work/rootfs.tar" --env "$docker_path" \
  --cmd '["sh"]'
"$mkimage" --tag "$iptables_tag" --out "$out/distroless-iptables.tar" --layer-tar "$work/rootfs.tar" \
  --env "$docker_path"

# regression-issue-74839: its Go program, built from the pinned source, on the root filesystem.
(cd "$SVC_CACHE/build/k8s-$k8s" && CGO_ENABLED=0 go build -trimpath -o "$work/regression-issue-74839" \
  k8s.io/kubernetes/test/images/regression-issue-74839)
cp "$work/rootfs.tar" "$work/regression.tar"
tar -C "$work" -rf "$work/regression.tar" regression-issue-74839
"$mkimage" --tag "$regression_tag" --out "$out/regression-issue-74839.tar" --layer-tar "$work/regression.tar" \
  --env "$docker_path" --entrypoint '["/regression-issue-74839"]'
echo "$key" > "$out/.key"
