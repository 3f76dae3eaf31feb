#!/usr/bin/env bash
# A local Redis for sohoa's Dramatiq broker: Debian's redis-server, run as our own process (no
# systemd), on loopback only.
#
#   scripts/services/redis.sh install          # apt-get install redis-server if it is missing
#   scripts/services/redis.sh up [DATA_DIR]    # start (or find running); prints SOHOA_BROKER=...
#   scripts/services/redis.sh down             # stop it (AOF is flushed by SHUTDOWN)
#   scripts/services/redis.sh status           # "up redis://..." (exit 0) or "down ..." (exit 3)
#
# `up` prints exactly one line on stdout, `SOHOA_BROKER=redis://127.0.0.1:PORT/0`, so
#   export "$(scripts/services/redis.sh up)"
# works; progress and errors go to stderr. It is idempotent: when our server already answers on
# the port it only prints the line.
#
# Environment: SOHOA_REDIS_PORT (6379), SOHOA_CACHE_DIR (~/.cache/sohoa). Files live under
# $SOHOA_CACHE_DIR/run: redis-PORT.pid, redis-PORT.log, and the data folder (default
# run/redis, or run/redis-PORT for a port other than 6379) with the append-only file.
# Any failure prints the command that failed and its output, and exits non-zero.
set -Eeuo pipefail

PORT="${SOHOA_REDIS_PORT:-6379}"
HOST=127.0.0.1
CACHE="${SOHOA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sohoa}"
RUN="$CACHE/run"
PIDFILE="$RUN/redis-$PORT.pid"
LOGFILE="$RUN/redis-$PORT.log"
if [ "$PORT" = 6379 ]; then DEFAULT_DATA="$RUN/redis"; else DEFAULT_DATA="$RUN/redis-$PORT"; fi
URL="redis://$HOST:$PORT/0"
WAIT_SECONDS="${SOHOA_REDIS_WAIT:-60}"

SERVICE_NAME=redis.sh
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        fail "need root for: $*"; fi
}

case "$PORT" in ''|*[!0-9]*) fail "SOHOA_REDIS_PORT must be a port number, got '$PORT'";; esac

cmd_install() {
    if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
        return 0
    fi
    local svc_pid_before=""
    [ -f /run/redis/redis-server.pid ] && svc_pid_before=1
    say "installing Debian package redis-server"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server)
    # apt-get update only when the package is not known yet (fresh machine without lists).
    if ! apt-cache policy redis-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        RUN_QUIET=1 run as_root apt-get update -qq
    fi
    local rc=0 out
    out="$(as_root "${apt[@]}" 2>&1)" || rc=$?
    if [ "$rc" -ne 0 ]; then
        # Stale lists (404 on a superseded .deb): update once and retry.
        say "apt-get install failed (exit $rc); running apt-get update and retrying"
        RUN_QUIET=1 run as_root apt-get update -qq
        RUN_QUIET=1 run as_root "${apt[@]}"
    fi
    command -v redis-server >/dev/null || fail "redis-server still not on PATH after apt-get install"
    # Where no policy-rc.d holds it back, the package starts the system service on 6379; stop
    # that one (we run our own), but only if it was started by this install.
    if [ -z "$svc_pid_before" ] && [ -f /run/redis/redis-server.pid ]; then
        say "stopping the system redis-server service that the package started"
        as_root invoke-rc.d redis-server stop >/dev/null 2>&1 || as_root service redis-server stop >/dev/null 2>&1 || true
    fi
    say "installed $(redis-server --version | head -1)"
}

# ours_alive: the pid file names a live redis-server process.
ours_alive() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    case "$pid" in ''|*[!0-9]*) return 1;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = redis-server ]
}

pong() { [ "$(redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null)" = PONG ]; }

port_busy() {
    # bash's /dev/tcp: a connect that succeeds means something listens.
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

cmd_up() {
    local data="${1:-$DEFAULT_DATA}"
    cmd_install
    if ours_alive && pong; then
        echo "SOHOA_BROKER=$URL"
        return 0
    fi
    if port_busy; then
        fail "$HOST:$PORT is already in use by another process (not ours: no live pid in $PIDFILE); set SOHOA_REDIS_PORT"
    fi
    run mkdir -p "$RUN" "$data"
    data="$(cd "$data" && pwd)"
    rm -f "$PIDFILE"
    RUN_QUIET=1 run redis-server \
        --bind "$HOST" --port "$PORT" --protected-mode yes \
        --daemonize yes --save '' --appendonly yes \
        --dir "$data" --pidfile "$PIDFILE" --logfile "$LOGFILE"
    local deadline=$((SECONDS + WAIT_SECONDS))
    until pong; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "error: redis-server did not answer PING on $HOST:$PORT within ${WAIT_SECONDS}s; last log lines ($LOGFILE):"
            tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
            exit 1
        fi
        if [ -f "$PIDFILE" ] && ! ours_alive; then
            say "error: redis-server exited during start-up; last log lines ($LOGFILE):"
            tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
    say "up on $HOST:$PORT (pid $(cat "$PIDFILE"), data $data, log $LOGFILE)"
    echo "SOHOA_BROKER=$URL"
}

cmd_down() {
    if ! ours_alive; then
        rm -f "$PIDFILE"
        say "already down ($HOST:$PORT)"
        return 0
    fi
    local pid
    pid="$(cat "$PIDFILE")"
    # SHUTDOWN flushes the append-only file; fall back to SIGTERM (which does the same).
    redis-cli -h "$HOST" -p "$PORT" shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid did not stop within 10s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    kill -0 "$pid" 2>/dev/null && fail "could not stop redis-server pid $pid"
    rm -f "$PIDFILE"
    say "down ($HOST:$PORT)"
}

cmd_status() {
    if ours_alive && pong; then
        echo "up $URL (pid $(cat "$PIDFILE"))"
        return 0
    fi
    echo "down $URL"
    return 3
}

service_main "$@"
