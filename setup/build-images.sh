#!/usr/bin/env bash
# Writes the images the local cluster and the suites run as docker-archives in
# $SVC_CACHE/images/, from binaries that setup/build-go.sh built (no registry, no Docker).
# Tags match helpers/config.ts. Rebuilt only when an input changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/lib.sh"

k8s=$(version kubernetes); coredns=$(version coredns)
bin=$SVC_CACHE/bin; out=$SVC_CACHE/images
agnhost=$bin/k8s-$k8s/agnhost
mkimage=$bin/mkimage; svcprobe=$bin/svcprobe
busybox=/bin/busybox
# CoreDNS is the local cluster's; setup --images-only (a cluster you bring) builds the suites' images only.
corednsbin=$bin/coredns-$coredns/coredns
[ -x "$corednsbin" ] || corednsbin=
# MetalLB (the LoadBalancer implementation of the clusters we make) likewise, when setup built it.
metallb=$(version metallb); metallbdir=$bin/metallb-$metallb
[ -f "$metallbdir/.done" ] || metallbdir=
# porter's https certificate and key, as upstream's agnhost image carries them (/localhost.crt, /localhost.key;
# the suites set CERT_FILE and KEY_FILE to them), from the pinned source tree in the module cache.
upstream=$(cd "$SVC_CACHE/build/k8s-$k8s" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
porter_crt=$upstream/test/images/agnhost/porter/localhost.crt porter_key=$upstream/test/images/agnhost/porter/localhost.key
key=$(cat "$0" "$here/versions.json" "$agnhost" "$porter_crt" "$porter_key" ${corednsbin:+"$corednsbin"} ${metallbdir:+"$metallbdir/controller" "$metallbdir/speaker"} \
  "$svcprobe" "$mkimage" "$busybox" | sha256sum | cut -c1-16)
if [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then say "images: cached"; exit 0; fi
mkdir -p "$out"; rm -f "$out/.key"

# busybox applets the images carry, for `sh -c` in netexec and for people debugging a pod.
applets=(sh cat ls ip nslookup wget nc sleep ps env grep)
links=(); for a in "${applets[@]}"; do links+=(--link "/bin/$a=busybox"); done

repo=localhost/svc-conformance
say "images: pause, agnhost, client${corednsbin:+, coredns}"
"$mkimage" --tag "$repo/pause:$k8s" --out "$out/pause.tar" --entrypoint '["/agnhost","pause"]' "$agnhost:/agnhost"
"$mkimage" --tag "$repo/agnhost:$k8s" --out "$out/agnhost.tar" --entrypoint '["/agnhost"]' "${links[@]}" \
  "$agnhost:/agnhost" "$busybox:/bin/busybox" "$porter_crt:/localhost.crt" "$porter_key:/localhost.key"
"$mkimage" --tag "$repo/client:$k8s" --out "$out/client.tar" --entrypoint '["/svcprobe","idle"]' "${links[@]}" \
  "$svcprobe:/svcprobe" "$busybox:/bin/busybox"
if [ -n "$corednsbin" ]; then
  "$mkimage" --tag "$repo/coredns:$coredns" --out "$out/coredns.tar" --entrypoint '["/coredns"]' "$corednsbin:/coredns"
fi
if [ -n "$metallbdir" ]; then
  say "images: metallb-controller, metallb-speaker $metallb"
  "$mkimage" --tag "$repo/metallb-controller:$metallb" --out "$out/metallb-controller.tar" --entrypoint '["/controller"]' \
    "$metallbdir/controller:/controller"
  "$mkimage" --tag "$repo/metallb-speaker:$metallb" --out "$out/metallb-speaker.tar" --entrypoint '["/speaker"]' \
    "$metallbdir/speaker:/speaker"
fi
echo "$key" > "$out/.key"
