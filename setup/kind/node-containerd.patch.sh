#!/usr/bin/env bash
# Adapts kind's containerd config (copied from the kind module into NODE_ROOT) to this
# offline image: the sandbox image is the locally built pause (else every pod start tries
# a pull), and containerd never asks for a negative oom_score_adj (root on some hosts lacks
# CAP_SYS_RESOURCE: runc then fails "can't get final child's PID from pipe: EOF").
# systemd in the node ignores the EPERM of OOMScoreAdjust= itself ("containerized").
set -euo pipefail
node=$1
cfg=$node/etc/containerd/config.toml
sed -i "s#^\(\s*sandbox_image = \).*#\1\"$PAUSE_IMAGE\"#; s#^\(\s*restrict_oom_score_adj = \).*#\1true#" "$cfg"
grep -q "sandbox_image = \"$PAUSE_IMAGE\"" "$cfg" && grep -q 'restrict_oom_score_adj = true' "$cfg" ||
  { echo "node-containerd.patch.sh: kind's containerd config changed shape; update the patch" >&2; exit 1; }
