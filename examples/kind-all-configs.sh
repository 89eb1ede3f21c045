#!/usr/bin/env bash
# Every guide suite on a throwaway kind cluster per config in kind-config/, one after the
# other, each with its own results directory. Needs `npm run setup -- --kind` once (Docker,
# the kind CLI and, without a registry, the locally built node image).
#   examples/kind-all-configs.sh [CONFIG...]     default: iptables nftables two-node
set -uo pipefail
cd "$(dirname "$0")/.."
configs=("$@"); [ ${#configs[@]} -gt 0 ] || configs=(iptables nftables two-node)
status=0
for c in "${configs[@]}"; do
  out=test-results/kind-$c
  mkdir -p "$out"
  SVC_RESULTS=$out npx svc-conformance run --provider kind --kind-config "$c" > "$out/run.log" 2>&1
  code=$?
  printf '%-10s exit %d  %s\n' "$c" "$code" "$(tail -n 1 "$out/run.log")"
  [ "$code" -le "$status" ] || status=$code
done
exit "$status"
