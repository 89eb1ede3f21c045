#!/usr/bin/env bash
# Makes a Docker engine answer for the kind provider: installs Debian's docker.io when no
# dockerd exists, and starts dockerd in the background when none runs (no systemd needed).
# The engine it starts cannot route anything off the machine:
#   --ip-forward=false --iptables=false --ip-masq=false --bridge=none: dockerd neither
#     turns on forwarding nor adds NAT; there is no default bridge to NAT from;
#   --dns 127.0.0.1: the embedded DNS of a container network forwards nowhere outside;
#   runc-drop-caps as the default runtime: `--privileged` works where root lacks some
#     capabilities (see the wrapper).
# The kind network itself is made by setup/kind/network.sh (internal, with a drop rule).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=setup/lib.sh
. "$here/../lib.sh"

log=${SVC_DOCKER_LOG:-/var/log/svc-conformance-dockerd.log}

if docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
  say "docker: engine $(docker info --format '{{.ServerVersion}}') answers"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "setup --kind: no Docker engine answers and starting one needs root; start Docker yourself or run as root" >&2; exit 2; }
if ! command -v dockerd >/dev/null; then
  say "docker: installing Debian's docker.io"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >/dev/null
fi
if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null && docker info >/dev/null 2>&1; then
  say "docker: started by systemd (its own settings: check that it cannot NAT to the outside)"
  exit 0
fi

wrapper=$SVC_CACHE/bin/runc-drop-caps
mkdir -p "$(dirname "$wrapper")"
install -m 0755 "$here/runc-drop-caps" "$wrapper"
say "docker: starting dockerd (log: $log)"
# setsid: dockerd outlives this script and the shell that ran it.
setsid dockerd \
  --add-runtime "svc-runc=$wrapper" --default-runtime svc-runc \
  --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
  --dns 127.0.0.1 --log-level warn >>"$log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    say "docker: engine $(docker info --format '{{.ServerVersion}}') answers"
    exit 0
  fi
  if ! kill -0 $! 2>/dev/null; then break; fi
  sleep 1
done
echo "setup --kind: dockerd did not start; the kind provider needs a Docker engine. Last lines of $log:" >&2
tail -n 15 "$log" >&2
exit 2
