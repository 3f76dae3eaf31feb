# Shared helpers of the service scripts. Set SERVICE_NAME before sourcing this file.
# shellcheck shell=bash

say() { echo "${SERVICE_NAME}: $*" >&2; }
# redact_url TEXT: TEXT with the password of every URL in it as *** (as schemas/redact.py does).
redact_url() { printf '%s' "$1" | sed -E 's#(://[^/@:[:space:]]*):[^/@[:space:]]*@#\1:***@#g'; }
fail() { say "error: $*"; exit 1; }
# Any command that fails without going through run() still names itself.
trap 'rc=$?; say "error: command failed (exit $rc) at line $LINENO: $BASH_COMMAND"; exit $rc' ERR

# run CMD...: run it, keep its output, and on failure print the exact command and that output.
run() {
    local out rc=0
    out="$("$@" 2>&1)" || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "error: command failed (exit $rc): $(printf '%q ' "$@")"
        [ -n "$out" ] && printf '%s\n' "$out" | tail -n 40 >&2
        exit "$rc"
    fi
    [ -z "${RUN_QUIET:-}" ] && [ -n "$out" ] && printf '%s\n' "$out" >&2
    return 0
}

# service_main ARGS...: the install|up [DATA_DIR]|down|status front end, calling cmd_<action>.
service_main() {
    usage() { echo "usage: $0 install|up [DATA_DIR]|down|status" >&2; exit 64; }
    [ "$#" -ge 1 ] || usage
    local action="$1"; shift
    case "$action" in
        install) [ "$#" -eq 0 ] || usage; cmd_install ;;
        up) [ "$#" -le 1 ] || usage; cmd_up "$@" ;;
        down) [ "$#" -eq 0 ] || usage; cmd_down ;;
        status) [ "$#" -eq 0 ] || usage; trap - ERR; cmd_status ;;
        *) usage ;;
    esac
}
