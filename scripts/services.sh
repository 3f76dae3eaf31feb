#!/usr/bin/env bash
# Real servers for the production backends, on loopback, installed and started by the project:
#   scripts/services.sh up|down|status [search|minio|redis ...]   (default: all three)
# `up` prints the settings to use, one `export KEY='VALUE'` line each (SOHOA_SEARCH,
# SOHOA_STORAGE, SOHOA_BROKER), so `eval "$(scripts/services.sh up)"` configures sohoa in the
# calling shell. That is the one output that carries the S3 keys (it is meant for eval);
# `status` and every message show URLs with their password as ***.
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
# quoted VALUE: VALUE in single quotes, safe for eval whatever characters it holds.
quoted() { local q="'\\''"; printf "'%s'" "${1//\'/$q}"; }

# exports: each service's `KEY=VALUE` line as `export KEY='VALUE'`; anything else to stderr.
exports() {
    local line
    while IFS= read -r line; do
        case "$line" in
            SOHOA_*=*) printf 'export %s=%s\n' "${line%%=*}" "$(quoted "${line#*=}")" ;;
            ?*) printf '%s\n' "$line" >&2 ;;
        esac
    done
}

status=0
for name in "${names[@]}"; do
    script="$here/services/$name.sh"
    [ -f "$script" ] || { echo "services: unknown service $name" >&2; exit 64; }
    if [ "$cmd" = up ]; then
        out="$(bash "$script" up)" || { echo "services: $name up failed" >&2; status=1; continue; }
        exports <<<"$out"
    else
        bash "$script" "$cmd" || { echo "services: $name $cmd failed" >&2; status=1; }
    fi
done
exit $status
