#!/usr/bin/env bash
# Validates docker-compose.yml the way the issue asks: it "must pass `docker compose config`".
#
#   scripts/compose-check.sh        # install Compose v2 if needed, then `config --quiet`
#   scripts/compose-check.sh -v     # ... and print the rendered config (--format yaml)
#
# Runs, from the repo root:
#   docker compose --env-file .env.example -f docker-compose.yml config --quiet
# and exits with compose's exit code. SOHOA_* and COMPOSE_* variables of the calling shell are
# left out of that command, so the check renders the file with .env.example alone, the same on
# every machine (compose lets the shell's variables override the env file).
#
# Compose v2 is a docker CLI plugin. When `docker compose version` fails, this script builds it
# once from the Go module proxy: `go install github.com/docker/compose/v2/cmd@VERSION`, which is
# refused for the exclude directives in compose's go.mod, so then `go build ./cmd` in a copy of the
# module source that `go mod download` fetched, niced, with at most 2 jobs, into
# ~/.cache/sohoa/bin/docker-compose with docker-compose.manifest beside it (version, sha256, Go
# version), and links it as ~/.docker/cli-plugins/docker-compose ($DOCKER_CONFIG/cli-plugins when
# DOCKER_CONFIG is set). Later runs check the manifest and the binary's sha256 and build nothing
# (well under 2 s); a mismatch rebuilds. The first build takes a few minutes. Without a docker CLI
# the binary runs on its own (it is also a standalone `docker-compose`).
#
# If Compose v2 cannot be built at all, it falls back to Debian's docker-compose 1.29
# (apt-get install -y --no-install-recommends docker-compose: without docker.io and its engine)
# and says so loudly: v1 does not know all of the Compose spec that v2 does (e.g. the top-level
# `name:`), so its verdict is not the one the issue asks for. SOHOA_COMPOSE_V1_FALLBACK=0 fails
# instead.
#
# Environment:
#   SOHOA_COMPOSE_VERSION (v2.40.3)   SOHOA_BUILD_JOBS (2; 1 or 2: go build -p and GOMAXPROCS)
#   SOHOA_CACHE_DIR (~/.cache/sohoa)  DOCKER_CONFIG (~/.docker)  SOHOA_COMPOSE_V1_FALLBACK (1)
# Install messages go to stderr; stdout carries only compose's own output.
set -Eeuo pipefail

VERSION="${SOHOA_COMPOSE_VERSION:-v2.40.3}"
MODULE=github.com/docker/compose/v2
PKG="$MODULE/cmd"
JOBS="${SOHOA_BUILD_JOBS:-2}"
CACHE="${SOHOA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sohoa}"
BINDIR="$CACHE/bin"
BIN="$BINDIR/docker-compose"
MANIFEST="$BINDIR/docker-compose.manifest"
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
PLUGIN="$PLUGIN_DIR/docker-compose"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE=.env.example
COMPOSE_FILE_=docker-compose.yml

say() { echo "compose-check: $*" >&2; }
fail() { say "error: $*"; exit 1; }
trap 'rc=$?; say "error: command failed (exit $rc) at line $LINENO: $BASH_COMMAND"; exit $rc' ERR

usage() { sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
VERBOSE=0
for arg in "$@"; do
    case "$arg" in
        -v|--verbose) VERBOSE=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; fail "unknown argument '$arg'" ;;
    esac
done
case "$JOBS" in 1|2) ;; *) fail "SOHOA_BUILD_JOBS must be 1 or 2, got '$JOBS'" ;; esac

manifest_get() { sed -n "s/^$1=//p" "$MANIFEST" 2>/dev/null | head -n 1; }

binary_ok() {  # the cached binary is the wanted version and its sha256 matches the manifest ($1=quiet: no warning)
    [ -x "$BIN" ] && [ -f "$MANIFEST" ] || return 1
    [ "$(manifest_get version)" = "$VERSION" ] || return 1
    local want have
    want="$(manifest_get sha256)"
    have="$(sha256sum "$BIN" | cut -d' ' -f1)"
    if [ "$want" != "$have" ]; then
        [ "${1:-}" = quiet ] || say "warning: $BIN sha256 $have does not match the manifest ($want); rebuilding"
        return 1
    fi
}

plugin_is_ours() { [ -L "$PLUGIN" ] && [ "$(readlink "$PLUGIN")" = "$BIN" ]; }

link_plugin() {
    plugin_is_ours && return 0
    mkdir -p "$PLUGIN_DIR"
    ln -sfn "$BIN" "$PLUGIN.tmp.$$"
    mv -Tf "$PLUGIN.tmp.$$" "$PLUGIN"
    say "linked $PLUGIN -> $BIN"
}

have_docker() { command -v docker >/dev/null 2>&1; }
docker_compose_works() { have_docker && docker compose version >/dev/null 2>&1; }

# build: go install (or go build in a copied module source) into $BIN + manifest. Non-zero on failure.
build() {
    command -v go >/dev/null || { say "Go is not on PATH; it is needed once to build $PKG@$VERSION"; return 1; }
    local tmp log t0=$SECONDS rc=0 gover how
    tmp="$(mktemp -d "$BINDIR/.compose-build.XXXXXX")" || { say "cannot create a build folder in $BINDIR"; return 1; }
    log="$tmp/build.log"
    gover="$(go env GOVERSION)"
    local ldflags="-s -w -X $MODULE/internal.Version=$VERSION"
    # Only what we set counts: no go.work, no GOFLAGS from the caller, static like the releases.
    local goenv=(env GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOMAXPROCS="$JOBS")
    how="GOBIN=$tmp/bin go install -p $JOBS -trimpath -ldflags '$ldflags' $PKG@$VERSION"
    say "building $PKG@$VERSION with $gover (nice 19, $JOBS job(s)); this takes minutes the first time"
    (cd "$tmp" && nice -n 19 "${goenv[@]}" GOBIN="$tmp/bin" \
        go install -p "$JOBS" -trimpath -ldflags "$ldflags" "$PKG@$VERSION") >"$log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ] && [ -x "$tmp/bin/cmd" ]; then
        mv -f "$tmp/bin/cmd" "$tmp/docker-compose"
    elif grep -qE '(replace|exclude) directives|interpreted differently' "$log"; then
        # go install mod@version refuses modules whose go.mod has replace or exclude directives
        # (compose's has excludes): build in a copy of the module source fetched from the proxy
        # instead, where its go.mod applies as is.
        say "go install mod@version is refused (compose's go.mod has replace/exclude directives); building from the module source"
        rc=0
        how="go mod download -json $MODULE@$VERSION, then go build -p $JOBS -trimpath -ldflags '$ldflags' ./cmd in a copy of its Dir"
        local dir
        dir="$(cd "$tmp" && "${goenv[@]}" GOFLAGS=-mod=mod go mod download -json "$MODULE@$VERSION" 2>>"$log" |
               sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || rc=$?
        if [ "$rc" -eq 0 ] && [ -n "$dir" ] && [ -d "$dir" ]; then
            cp -r "$dir" "$tmp/src" && chmod -R u+w "$tmp/src" &&
            (cd "$tmp/src" && nice -n 19 "${goenv[@]}" \
                go build -p "$JOBS" -trimpath -ldflags "$ldflags" -o "$tmp/docker-compose" ./cmd) >>"$log" 2>&1 || rc=$?
        else
            [ "$rc" -ne 0 ] || rc=1
        fi
    else
        [ "$rc" -ne 0 ] || rc=1
    fi
    if [ "$rc" -ne 0 ] || [ ! -x "$tmp/docker-compose" ]; then
        say "error: building $PKG@$VERSION failed (exit $rc): $how"
        tail -n 40 "$log" >&2
        rm -rf "$tmp"
        return 1
    fi
    # It must run as a compose v2 before it replaces anything.
    local v
    if ! v="$("$tmp/docker-compose" version --short 2>&1)"; then
        say "error: the built binary does not run: $v"; rm -rf "$tmp"; return 1
    fi
    local sum
    sum="$(sha256sum "$tmp/docker-compose" | cut -d' ' -f1)"
    if ! { chmod 755 "$tmp/docker-compose" && mv -f "$tmp/docker-compose" "$BIN"; }; then
        say "error: cannot install $BIN"; rm -rf "$tmp"; return 1
    fi
    if ! {
        printf '%s\n' "module=$PKG" "version=$VERSION" "sha256=$sum" "go=$gover" \
            "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "build_seconds=$((SECONDS - t0))" \
            "bytes=$(stat -c %s "$BIN")" >"$MANIFEST.tmp" && mv -f "$MANIFEST.tmp" "$MANIFEST"
    }; then
        say "error: cannot write $MANIFEST"; rm -rf "$tmp"; return 1
    fi
    rm -rf "$tmp"
    say "built $BIN (compose $v, $(stat -c %s "$BIN") bytes, sha256 $sum) in $((SECONDS - t0))s"
}

# ensure_v2: make `docker compose` (or the standalone binary) a working Compose v2. Sets COMPOSE,
# or V2_OK=0 when Compose v2 could not be had.
COMPOSE=()
V2_OK=1
ensure_v2() {
    local ok=0
    binary_ok && ok=1
    if [ "$ok" = 0 ] && ! { docker_compose_works && ! plugin_is_ours; }; then
        # Neither our verified binary nor someone else's working plugin: build (once, under a lock
        # so that parallel runs do not build twice).
        mkdir -p "$BINDIR"
        exec 9>"$BINDIR/.docker-compose.lock"
        flock 9
        # build checks each of its steps itself: called in a condition, errexit is off there.
        binary_ok quiet || build || { exec 9>&-; V2_OK=0; return 0; }
        exec 9>&-
        ok=1
    fi
    if [ "$ok" = 1 ]; then
        link_plugin
        if docker_compose_works; then
            COMPOSE=(docker compose)
        else
            have_docker && say "warning: 'docker compose version' fails even with $PLUGIN; running $BIN directly"
            COMPOSE=("$BIN")
        fi
    else
        COMPOSE=(docker compose)   # someone else's working plugin
    fi
}

fallback_v1() {
    [ "${SOHOA_COMPOSE_V1_FALLBACK:-1}" != 0 ] || fail "Compose v2 could not be built or found (and SOHOA_COMPOSE_V1_FALLBACK=0)"
    {
        echo "######################################################################################"
        echo "# compose-check: WARNING: Compose v2 could not be built or found.                     #"
        echo "# Falling back to Debian's docker-compose 1.29 (Compose v1). v1 does NOT understand   #"
        echo "# all of the Compose spec that v2 does (e.g. the top-level 'name:'), so this is NOT   #"
        echo "# the 'docker compose config' check the issue asks for.                               #"
        echo "######################################################################################"
    } >&2
    if ! command -v docker-compose >/dev/null 2>&1 || ! docker-compose version 2>/dev/null | grep -q '^docker-compose version 1\.'; then
        [ "$(id -u)" = 0 ] || fail "need root to apt-get install docker-compose"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >&2
    fi
    COMPOSE=(docker-compose)
}

V1=0
ensure_v2
if [ "$V2_OK" = 0 ]; then
    fallback_v1
    V1=1
fi

cd "$ROOT"
[ -f "$ENV_FILE" ] || fail "$ROOT/$ENV_FILE not found"
[ -f "$COMPOSE_FILE_" ] || fail "$ROOT/$COMPOSE_FILE_ not found"

# The check sees .env.example only: drop the caller's SOHOA_* and COMPOSE_* variables.
unset_args=()
while IFS= read -r name; do
    unset_args+=(-u "$name")
done < <(compgen -e | grep -E '^(SOHOA|COMPOSE)_' || true)

trap - ERR
rc=0
if [ "$V1" = 1 ]; then
    env "${unset_args[@]}" "${COMPOSE[@]}" --env-file "$ENV_FILE" -f "$COMPOSE_FILE_" config --quiet || rc=$?
    if [ "$rc" -eq 0 ] && [ "$VERBOSE" = 1 ]; then
        env "${unset_args[@]}" "${COMPOSE[@]}" --env-file "$ENV_FILE" -f "$COMPOSE_FILE_" config || rc=$?
    fi
else
    env "${unset_args[@]}" "${COMPOSE[@]}" --env-file "$ENV_FILE" -f "$COMPOSE_FILE_" config --quiet || rc=$?
    if [ "$rc" -eq 0 ] && [ "$VERBOSE" = 1 ]; then
        env "${unset_args[@]}" "${COMPOSE[@]}" --env-file "$ENV_FILE" -f "$COMPOSE_FILE_" config --format yaml || rc=$?
    fi
fi
if [ "$rc" -eq 0 ]; then
    say "$COMPOSE_FILE_ is valid ($("${COMPOSE[@]}" version --short 2>/dev/null || "${COMPOSE[@]}" version 2>/dev/null | head -n 1), env file $ENV_FILE)"
else
    say "$COMPOSE_FILE_ does NOT pass '${COMPOSE[*]} config' (exit $rc)"
fi
exit "$rc"
