#!/usr/bin/env bash
# Validates docker-compose.yml the way the issue asks: it "must pass `docker compose config`".
#
#   scripts/compose-check.sh        # install Compose v2 if needed, `config --quiet`, the rules
#   scripts/compose-check.sh -v     # ... and print the rendered config (--format yaml)
#   scripts/compose-check.sh -f FILE --env-file FILE   # another compose file / env file
#
# The rules (operators' safety, checked on the rendered config and the file's text):
#   - the API is published on the loopback only, unless the operator's .env says otherwise,
#     and OpenSearch, Redis and minio-init publish nothing; any other published port is on
#     the loopback by default;
#   - every secret variable (a name with PASSWORD, SECRET, TOKEN, ROOT_USER or ending in _KEY)
#     is written ${VAR:?message}: no default, compose refuses to start without it; no value
#     of .env.example's secrets and no URL with a password is written in the file; every
#     secret-named environment entry of every service takes its value from the env file;
#   - the application's S3 keys are other variables than MinIO's root login, and the root
#     login reaches only the minio and minio-init services.
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

usage() { sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
VERBOSE=0
while [ $# -gt 0 ]; do
    case "$1" in
        -v|--verbose) VERBOSE=1 ;;
        -f) [ $# -ge 2 ] || fail "-f needs a file"; COMPOSE_FILE_="$(realpath "$2")"; shift ;;
        --env-file) [ $# -ge 2 ] || fail "--env-file needs a file"; ENV_FILE="$(realpath "$2")"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; fail "unknown argument '$1'" ;;
    esac
    shift
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
if [ "$rc" -ne 0 ]; then
    say "$COMPOSE_FILE_ does NOT pass '${COMPOSE[*]} config' (exit $rc)"
    exit "$rc"
fi
env "${unset_args[@]}" "${PYTHON:-python3}" - "$COMPOSE_FILE_" "$ENV_FILE" "$V1" "${COMPOSE[@]}" <<'PY' || rc=$?
"""The rules of the header, on `config` renders: with the env file, and with only sentinel
secrets (so that defaults show and every secret's way into the config can be traced)."""
import json
import re
import subprocess
import sys
import tempfile

compose_file, env_file, v1, compose = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
SECRET = re.compile(r"PASSWORD|SECRET|TOKEN|ROOT_USER|_KEY$")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
UNPUBLISHED = {"search", "redis", "minio-init"}
problems = []


def render(env_path):
    fmt = [] if v1 else ["--format", "json"]
    cmd = [*compose, "--env-file", env_path, "-f", compose_file, "config", *fmt]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return None, done.stderr
    if v1:
        import yaml  # Compose v1 renders YAML only

        return yaml.safe_load(done.stdout), ""
    return json.loads(done.stdout), ""


scratch = tempfile.TemporaryDirectory(prefix="compose-check-")


def with_env(lines, count=[0]):  # noqa: B006 (a counter for the file names)
    count[0] += 1
    path = f"{scratch.name}/{count[0]}.env"
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(f"{line}\n" for line in lines))
    return path


text = open(compose_file, encoding="utf-8").read()
example = dict(
    line.split("=", 1)
    for line in open(env_file, encoding="utf-8").read().splitlines()
    if "=" in line and not line.lstrip().startswith("#")
)
referenced = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
secrets = sorted(name for name in referenced if SECRET.search(name))
if not secrets:
    problems.append("no secret variable is referenced at all")
for name in secrets:
    for use in re.findall(r"\$\{" + name + r"\b([^}]*)\}", text):
        if not re.fullmatch(r":\?\s*\S.*", use):
            problems.append(f"${{{name}{use}}}: a secret must be ${{{name}:?message}}, no default")
    if name not in example:
        problems.append(f"{name} has no placeholder in {env_file}")
    elif len(example[name]) >= 4 and example[name] in text:
        problems.append(f"{name}'s example value is written in {compose_file}")
if re.search(r"://[^/\s:@${}]+:[^/\s@]+@", text):
    problems.append("a URL with a password is written in the file")

base, _ = render(env_file)
sentinel = {name: f"sentinel-{name.lower()}" for name in secrets}
defaults, err = render(with_env(f"{k}={v}" for k, v in sentinel.items()))
if defaults is None:
    problems.append(f"does not render with only its secrets set: {err.strip()}")
if render(with_env([]))[0] is not None:
    problems.append("renders without any secret set: compose would start without them")

for label, config in (("by default", defaults), ("with the env file", base)):
    for name, service in ((config or {}).get("services") or {}).items():
        for port in service.get("ports") or []:
            host_ip = port.get("host_ip", "") if isinstance(port, dict) else str(port)
            if name in UNPUBLISHED:
                problems.append(f"{name} publishes a port ({label}): keep it internal")
            elif name == "api" and host_ip not in LOOPBACK:
                problems.append(f"api is published on {host_ip or '0.0.0.0'} ({label})")
            elif label == "by default" and host_ip not in LOOPBACK:
                problems.append(f"{name} is published on {host_ip or '0.0.0.0'} by default")

services = (defaults or {}).get("services") or {}
for name, service in services.items():
    env = service.get("environment") or {}
    for key, value in env.items():
        if SECRET.search(key) and value not in sentinel.values():
            problems.append(f"{name}: {key} does not come from a secret variable of the env file")
    if name not in ("minio", "minio-init"):
        for root in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
            if sentinel.get(root) in env.values():
                problems.append(f"{name} is given MinIO's root login ({root})")
for app in ("api", "worker"):
    env = (services.get(app) or {}).get("environment") or {}
    root_env = (services.get("minio") or {}).get("environment") or {}
    for app_key, root_key in (
        ("SOHOA_MINIO_ACCESS_KEY", "MINIO_ROOT_USER"),
        ("SOHOA_MINIO_SECRET_KEY", "MINIO_ROOT_PASSWORD"),
    ):
        if app in services and (env.get(app_key) is None or env.get(app_key) == root_env.get(root_key)):
            problems.append(f"{app}: {app_key} must be the application's own key, not {root_key}")
    base_env = ((base or {}).get("services", {}).get(app) or {}).get("environment") or {}
    base_root = ((base or {}).get("services", {}).get("minio") or {}).get("environment") or {}
    if base_env and base_env.get("SOHOA_MINIO_ACCESS_KEY") == base_root.get("MINIO_ROOT_USER"):
        problems.append(f"{app}: the env file gives the app MinIO's root user as its S3 key")

for problem in problems:
    print(f"compose-check: rule: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
if [ "$rc" -eq 0 ]; then
    say "$COMPOSE_FILE_ is valid and keeps the rules ($("${COMPOSE[@]}" version --short 2>/dev/null || "${COMPOSE[@]}" version 2>/dev/null | head -n 1), env file $ENV_FILE)"
else
    say "$COMPOSE_FILE_ passes '${COMPOSE[*]} config' but breaks the rules above (exit $rc)"
fi
exit "$rc"
