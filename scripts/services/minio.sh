#!/usr/bin/env bash
# A local S3-compatible object store for sohoa's MinIO backend (SOHOA_STORAGE=minio://...).
#
#   scripts/services/minio.sh install          # build the server once into ~/.cache/sohoa/bin
#   scripts/services/minio.sh up [DATA_DIR]    # start (or find running); prints SOHOA_STORAGE=...
#   scripts/services/minio.sh down             # stop it
#   scripts/services/minio.sh status           # "up minio://KEY:***@..." (exit 0) or "down ..." (exit 3)
#
# The server is NOT MinIO itself: the MinIO server is under the AGPL, which this workplace does
# not take in (its package list marks AGPL Go modules "not-to-use"). It is Versity's S3 gateway
# (github.com/versity/versitygw, Apache-2.0) with its POSIX backend: a real S3 server (SigV4,
# multipart uploads, presigned URLs, ...) storing each bucket as a folder under DATA_DIR and
# object metadata in extended attributes. The Python `minio` client talks to it as to MinIO; it
# also answers MinIO's liveness probe path, /minio/health/live. There is no web console.
#
# install: `go install github.com/versity/versitygw/cmd/versitygw@VERSION` from the Go module
# proxy (no replace directives, so this works), niced, into ~/.cache/sohoa/bin/versitygw, with
# versitygw.manifest beside it (version, sha256, Go version). Later runs check the manifest and
# the binary's sha256 and do nothing else (well under 2 s); a mismatch rebuilds. The first build
# takes minutes (a cold Go build cache, one job by default).
#
# `up` prints exactly one line on stdout, `SOHOA_STORAGE=minio://KEY:SECRET@127.0.0.1:PORT/sohoa`,
# so `export "$(scripts/services/minio.sh up)"` works; progress and errors go to stderr. It does not
# create the bucket. When our server already answers on the port it only prints the line.
#
# Environment:
#   SOHOA_MINIO_PORT (9000)   SOHOA_MINIO_ACCESS_KEY (sohoa)   SOHOA_MINIO_SECRET_KEY (sohoa-secret-key)
#   SOHOA_MINIO_BUCKET (sohoa: only the path of the printed URL)
#   SOHOA_VERSITYGW_VERSION (v1.8.0)   SOHOA_BUILD_JOBS (1: go build -p and GOMAXPROCS)
#   (the first build: ~7 min of wall time niced on a busy 2-core machine, ~160 s of CPU; on an
#   idle machine SOHOA_BUILD_JOBS=2 makes it faster)
#   SOHOA_CACHE_DIR (~/.cache/sohoa): bin/ holds the binary; run/ holds minio-PORT.pid,
#   minio-PORT.log, minio-PORT.url (the URL the running server was started with, mode 600) and
#   the default DATA_DIR (run/minio, or run/minio-PORT for a port other than 9000)
# Any failure prints the command that failed and its output, and exits non-zero.
set -Eeuo pipefail

VERSION="${SOHOA_VERSITYGW_VERSION:-v1.8.0}"
MODULE=github.com/versity/versitygw
PKG="$MODULE/cmd/versitygw"
PORT="${SOHOA_MINIO_PORT:-9000}"
HOST=127.0.0.1
ACCESS_KEY="${SOHOA_MINIO_ACCESS_KEY:-sohoa}"
SECRET_KEY="${SOHOA_MINIO_SECRET_KEY:-sohoa-secret-key}"
BUCKET="${SOHOA_MINIO_BUCKET:-sohoa}"
JOBS="${SOHOA_BUILD_JOBS:-1}"
CACHE="${SOHOA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sohoa}"
BINDIR="$CACHE/bin"
BIN="$BINDIR/versitygw"
MANIFEST="$BINDIR/versitygw.manifest"
RUN="$CACHE/run"
PIDFILE="$RUN/minio-$PORT.pid"
LOGFILE="$RUN/minio-$PORT.log"
URLFILE="$RUN/minio-$PORT.url"   # the URL (with keys) the running server was started with, mode 600
if [ "$PORT" = 9000 ]; then DEFAULT_DATA="$RUN/minio"; else DEFAULT_DATA="$RUN/minio-$PORT"; fi
HEALTH=/minio/health/live
WAIT_SECONDS="${SOHOA_MINIO_WAIT:-60}"

SERVICE_NAME=minio.sh
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "$PORT" in ''|*[!0-9]*) fail "SOHOA_MINIO_PORT must be a port number, got '$PORT'";; esac
case "$JOBS" in ''|*[!0-9]*|0) fail "SOHOA_BUILD_JOBS must be a positive number, got '$JOBS'";; esac

urlencode() {  # RFC 3986 unreserved characters stay, everything else is %XX
    local LC_ALL=C s="$1" out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c="${s:i:1}"
        case "$c" in [A-Za-z0-9._~-]) out+="$c" ;; *) out+="$(printf '%%%02X' "'$c")" ;; esac
    done
    printf '%s' "$out"
}
URL="minio://$(urlencode "$ACCESS_KEY"):$(urlencode "$SECRET_KEY")@$HOST:$PORT/$BUCKET"

manifest_get() { sed -n "s/^$1=//p" "$MANIFEST" 2>/dev/null | head -n 1; }

binary_ok() {  # the cached binary is the wanted version and its sha256 matches the manifest
    [ -x "$BIN" ] && [ -f "$MANIFEST" ] || return 1
    [ "$(manifest_get version)" = "$VERSION" ] || return 1
    local want have
    want="$(manifest_get sha256)"
    have="$(sha256sum "$BIN" | cut -d' ' -f1)"
    if [ "$want" != "$have" ]; then
        say "warning: $BIN sha256 $have does not match the manifest ($want); rebuilding"
        return 1
    fi
}

cmd_install() {
    binary_ok && return 0
    command -v go >/dev/null || fail "Go is not on PATH; it is needed once to build $PKG@$VERSION"
    run mkdir -p "$BINDIR"
    local tmp="$BINDIR/.build.$$" log="$BINDIR/.build.$$.log" t0=$SECONDS rc=0
    rm -rf "$tmp"
    say "building $PKG@$VERSION with $(go env GOVERSION) (nice 19, $JOBS job(s)); this takes minutes the first time"
    # From a neutral folder, so no go.mod/go.work around us counts; GOFLAGS only what we set.
    (cd "$BINDIR" && nice -n 19 env GOWORK=off GOFLAGS=-buildvcs=false GOMAXPROCS="$JOBS" GOBIN="$tmp" \
        go install -p "$JOBS" -trimpath -ldflags "-s -w -X main.Version=$VERSION" "$PKG@$VERSION") \
        >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "error: command failed (exit $rc): cd $BINDIR && GOBIN=$tmp go install -p $JOBS -trimpath -ldflags '-s -w -X main.Version=$VERSION' $PKG@$VERSION"
        tail -n 40 "$log" >&2
        rm -rf "$tmp" "$log"
        exit "$rc"
    fi
    [ -x "$tmp/versitygw" ] || fail "go install succeeded but left no $tmp/versitygw"
    local sum gover
    sum="$(sha256sum "$tmp/versitygw" | cut -d' ' -f1)"
    gover="$(go env GOVERSION)"
    run mv -f "$tmp/versitygw" "$BIN"
    rm -rf "$tmp" "$log"
    {
        echo "module=$PKG"
        echo "version=$VERSION"
        echo "sha256=$sum"
        echo "go=$gover"
        echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "build_seconds=$((SECONDS - t0))"
        echo "bytes=$(stat -c %s "$BIN")"
    } >"$MANIFEST.tmp"
    run mv -f "$MANIFEST.tmp" "$MANIFEST"
    say "built $BIN ($VERSION, $(stat -c %s "$BIN") bytes, sha256 $sum) in $((SECONDS - t0))s"
}

# ours_alive: the pid file names a live versitygw process.
ours_alive() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    case "$pid" in ''|*[!0-9]*) return 1;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = versitygw ]
}

# healthy: GET /minio/health/live answers 200 (plain bash, no curl needed).
healthy() {
    local status=""
    status="$(
        exec 2>/dev/null
        exec 3<>"/dev/tcp/$HOST/$PORT" || exit 1
        printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$HEALTH" "$HOST" "$PORT" >&3
        IFS= read -r -t 2 line <&3 && printf '%s' "$line"
    )" 2>/dev/null || return 1
    case "$status" in "HTTP/1."[01]" 200"*) return 0 ;; *) return 1 ;; esac
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

# xattr_ok DIR: user extended attributes work there (the POSIX backend keeps metadata in them).
xattr_ok() {
    command -v python3 >/dev/null || return 0   # cannot tell: let versitygw's own check decide
    python3 - "$1" <<'EOF' 2>/dev/null
import os, sys, tempfile
fd, path = tempfile.mkstemp(dir=sys.argv[1], prefix=".xattr-test.")
try:
    os.setxattr(path, "user.sohoa", b"1")
    ok = os.getxattr(path, "user.sohoa") == b"1"
finally:
    os.close(fd); os.unlink(path)
sys.exit(0 if ok else 1)
EOF
}

cmd_up() {
    local data="${1:-$DEFAULT_DATA}"
    cmd_install
    if ours_alive && healthy; then
        if [ -f "$URLFILE" ] && [ "$(cat "$URLFILE")" != "$URL" ]; then
            fail "our server on $HOST:$PORT runs with other keys (or bucket) than SOHOA_MINIO_* ask for; '$0 down' first"
        fi
        echo "SOHOA_STORAGE=$URL"
        return 0
    fi
    if port_busy; then
        fail "$HOST:$PORT is already in use by another process (not ours: no live pid in $PIDFILE); set SOHOA_MINIO_PORT"
    fi
    run mkdir -p "$RUN" "$data"
    data="$(cd "$data" && pwd)"
    local meta=()
    if ! xattr_ok "$data"; then
        say "no user xattrs on $data: keeping object metadata in the sidecar folder $data.meta"
        run mkdir -p "$data.meta"
        meta=(--sidecar "$data.meta")
    fi
    rm -f "$PIDFILE"
    echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) minio.sh up: versitygw $VERSION posix $data on $HOST:$PORT" >>"$LOGFILE"
    # Own session (setsid) so it outlives this shell and its terminal; keys through the
    # environment, not argv, so `ps` does not show them.
    ROOT_ACCESS_KEY_ID="$ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$SECRET_KEY" \
        setsid "$BIN" --port "$HOST:$PORT" --health "$HEALTH" --region us-east-1 --quiet \
        posix "${meta[@]}" "$data" </dev/null >>"$LOGFILE" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    local deadline=$((SECONDS + WAIT_SECONDS))
    until healthy; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE"
            say "error: versitygw exited during start-up: $BIN --port $HOST:$PORT --health $HEALTH --region us-east-1 --quiet posix ${meta[*]} $data"
            say "last log lines ($LOGFILE):"
            tail -n 20 "$LOGFILE" >&2
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "error: no 200 from http://$HOST:$PORT$HEALTH within ${WAIT_SECONDS}s (pid $pid left running; '$0 down' stops it); last log lines ($LOGFILE):"
            tail -n 20 "$LOGFILE" >&2
            exit 1
        fi
        sleep 0.1
    done
    (umask 077 && echo "$URL" >"$URLFILE")
    say "up on $HOST:$PORT (versitygw $VERSION, pid $pid, data $data, log $LOGFILE)"
    echo "SOHOA_STORAGE=$URL"
}

cmd_down() {
    if ! ours_alive; then
        rm -f "$PIDFILE" "$URLFILE"
        say "already down ($HOST:$PORT)"
        return 0
    fi
    local pid
    pid="$(cat "$PIDFILE")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid did not stop within 10s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    kill -0 "$pid" 2>/dev/null && fail "could not stop versitygw pid $pid"
    rm -f "$PIDFILE" "$URLFILE"
    say "down ($HOST:$PORT)"
}

cmd_status() {
    if ours_alive && healthy; then
        local url="$URL"
        [ -f "$URLFILE" ] && url="$(cat "$URLFILE")"
        echo "up $(redact_url "$url") (versitygw $(manifest_get version), pid $(cat "$PIDFILE"))"
        return 0
    fi
    echo "down $(redact_url "$URL")"
    return 3
}

service_main "$@"
