#!/usr/bin/env bash
# The Docker network kind nodes live on (KIND_EXPERIMENTAL_DOCKER_NETWORK=svc-kind): a
# bridge named svckind0 that Docker never masquerades, plus a host nft table of our own that
# drops and counts anything from that bridge bound for an address off the kind network that
# is not this host's own nor the kind pod range (prerouting: whether or not the host
# forwards; with br_netfilter, pod traffic the bridge switches between kind nodes passes
# this hook too, so the pod range of kind-config/ is allowed), anything the host
# would route elsewhere (forward), and anything with a kind address leaving another way. Idempotent. `network.sh counters` prints them.
# Not `--internal`: Docker publishes no ports there, and kind reads the API server's
# published port to write its kubeconfig (kind create fails "failed to get api server
# port"). Isolation does not rest on it: the dockerd that start-docker.sh runs adds no NAT
# and turns no forwarding on (this host's net.ipv4.ip_forward stays as it is), and the
# forward rule below drops what would leave even where forwarding is on.
# LoadBalancer addresses (MetalLB in L2 mode) are on the segment too: the network's subnet holds
# Docker's range for the containers (--ip-range) and, apart from it, the pool the speakers announce.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/../lib.sh"
NET=${SVC_KIND_NETWORK:-svc-kind}
BRIDGE=svckind0
V4=${SVC_KIND_SUBNET:-172.29.0.0/23}
V6=${SVC_KIND_SUBNET6:-fd53:7663:6b69:6e64::/64}
# Where Docker puts containers (nodes, the outside client); the rest of the subnet is never assigned.
NODES4=${SVC_KIND_NODE_RANGE:-172.29.0.0/24}
NODES6=${SVC_KIND_NODE_RANGE6:-fd53:7663:6b69:6e64::/80}
# The LoadBalancer pool (helpers/settings.ts reads the same variables): in the subnet, off Docker's range.
LB4=${SVC_KIND_LB_IP_RANGE:-172.29.1.0/24}
LB6=${SVC_KIND_LB_IP_RANGE6:-fd53:7663:6b69:6e64:1::/112}
# The pod ranges of kind-config/*.yaml (podSubnet): node-to-node pod traffic crosses the bridge.
PODS4=${SVC_KIND_POD_SUBNET:-10.220.0.0/16}
PODS6=${SVC_KIND_POD_SUBNET6:-fd20:220::/56}
# The externalIPs checks' addresses: the outside client (a container, not a node) routes one of
# them to one node, so it is switched on the bridge; the host routes none of them (the forward
# chain drops what it would).
EXT4=${SVC_KIND_EXTERNAL_IP_RANGE:-10.221.0.0/24}
EXT6=${SVC_KIND_EXTERNAL_IP_RANGE6:-fd20:221::/112}
TABLE=svc_conformance_kind

if [ "${1:-}" = counters ]; then
  nft list table inet "$TABLE" | grep -E 'counter'
  exit 0
fi

# A network made before the ranges were split (or with other ones) is made again while nothing is on it.
want="$V4 $NODES4 $V6 $NODES6"
have=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.IPRange}} {{end}}' "$NET" 2>/dev/null || true)
if [ -n "$have" ] && [ "${have% }" != "$want" ]; then
  attached=$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$NET")
  if [ -n "$attached" ]; then
    echo "setup: Docker network $NET has subnets/ranges \"${have% }\", not \"$want\", and containers on it ($attached);" \
      "delete those clusters (svc-conformance cluster down --provider kind|k3s) and run this again" >&2
    exit 2
  fi
  say "network $NET: made again with subnets $V4, $V6 (Docker assigns $NODES4, $NODES6; LoadBalancer pool $LB4, $LB6)"
  docker network rm "$NET" >/dev/null
fi
if ! docker network inspect "$NET" >/dev/null 2>&1; then
  docker network create --driver bridge --ipv6 \
    --subnet "$V4" --ip-range "$NODES4" --subnet "$V6" --ip-range "$NODES6" \
    -o com.docker.network.bridge.name="$BRIDGE" \
    -o com.docker.network.bridge.enable_ip_masquerade=false \
    "$NET" >/dev/null
fi

# The host routes the externalIPs test addresses nowhere: a node that sent one to its gateway gets
# an ICMP error back instead of a packet forwarded off the machine (the forward chain drops it too).
ip route replace unreachable "$EXT4"
ip -6 route replace unreachable "$EXT6"

nft -f - <<NFT
table inet $TABLE
delete table inet $TABLE
table inet $TABLE {
  comment "svc-conformance kind network: nothing from $BRIDGE is routed off it"
  chain prerouting {
    type filter hook prerouting priority filter - 10; policy accept;
    iifname "$BRIDGE" ip daddr != { $V4, $PODS4, $EXT4 } fib daddr type unicast counter drop comment "bound off the kind network"
    iifname "$BRIDGE" ip6 daddr != { $V6, $PODS6, $EXT6 } fib daddr type unicast counter drop comment "bound off the kind network (v6)"
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname "$BRIDGE" oifname != "$BRIDGE" counter drop comment "routed out of the kind network"
  }
  chain postrouting {
    type filter hook postrouting priority filter - 10; policy accept;
    oifname != { "$BRIDGE", "lo" } ip saddr $V4 counter drop comment "kind address leaving another way"
    oifname != { "$BRIDGE", "lo" } ip6 saddr $V6 counter drop comment "kind address leaving another way (v6)"
  }
}
NFT
