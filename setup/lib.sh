# Shared by the setup scripts: where the cache lives, how versions are read, and the
# .done stamps that make every step idempotent.
: "${SVC_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/svc-conformance}"
export SVC_CACHE
SETUP_DIR=${SETUP_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

say() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# version NAME: the pin for NAME in setup/versions.json (Kubernetes: SVC_KUBERNETES, when set,
# builds another version beside the pinned one).
version() {
  if [ "$1" = kubernetes ] && [ -n "${SVC_KUBERNETES:-}" ]; then echo "$SVC_KUBERNETES"; return; fi
  sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" "$SETUP_DIR/versions.json"
}

done_stamp() { [ -f "$1/.done" ]; }
mark_done() { date -u +%FT%TZ > "$1/.done"; }

# source_hash DIR: a short content hash of DIR's files, to key builds of our own code.
source_hash() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
}
