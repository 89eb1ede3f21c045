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
set -euo pipefail
NET=${SVC_KIND_NETWORK:-svc-kind}
BRIDGE=svckind0
V4=${SVC_KIND_SUBNET:-172.29.0.0/24}
V6=${SVC_KIND_SUBNET6:-fd53:7663:6b69:6e64::/64}
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

if ! docker network inspect "$NET" >/dev/null 2>&1; then
  docker network create --driver bridge --ipv6 \
    --subnet "$V4" --subnet "$V6" \
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
