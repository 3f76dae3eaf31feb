#!/usr/bin/env bash
# Real servers for the production backends, on loopback, installed and started by the project:
#   scripts/services.sh up|down|status [search|minio|redis ...]   (default: all three)
# `up` prints the settings to use, one KEY=VALUE per line (SOHOA_SEARCH, SOHOA_STORAGE,
# SOHOA_BROKER), so `eval "$(scripts/services.sh up)"` or `export $(…)` configures sohoa.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-status}"
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(search minio redis)

case "$cmd" in
    up|down|status|install) ;;
    *) echo "usage: $0 up|down|status|install [search|minio|redis ...]" >&2; exit 64 ;;
esac
status=0
for name in "${names[@]}"; do
    script="$here/services/$name.sh"
    [ -f "$script" ] || { echo "services: unknown service $name" >&2; exit 64; }
    bash "$script" "$cmd" || { echo "services: $name $cmd failed" >&2; status=1; }
done
exit $status
