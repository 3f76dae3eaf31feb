#!/usr/bin/env bash
# Validate PDFs against PDF/A-2b with veraPDF (greenfield parser), installed from Maven Central.
#
#   scripts/verapdf.sh [--launcher VERAPDF] FILE.pdf...
#
# --launcher: veraPDF's own launcher (the `verapdf` of a veraPDF installation; `sohoa pdfa check`
# passes SOHOA_VERAPDF or its --verapdf here): run as is, nothing installed.
# The first run downloads veraPDF with Maven into ~/.cache/sohoa/verapdf (28 MB: 19 MB of veraPDF
# jars, the rest Maven's dependency plugin); later runs find it there and start at once, offline.
# Prints one line per file, then its failed rules:
#   PASS file.pdf  (PDF/A-2b)
#   FAIL file.pdf  (PDF/A-2b: N failed rules)
#     6.6.2.1-1  (1 failed checks) The Catalog dictionary ...
#         e.g. <first error message>  at <where in the file>
# Exit: 0 all compliant, 1 any not compliant (or not readable), 2 veraPDF cannot be installed,
# 3 veraPDF ran but gave no report, 64 usage.
#
# Environment: SOHOA_VERAPDF_HOME (install folder), SOHOA_VERAPDF_VERSION (greenfield-apps version),
# SOHOA_VERAPDF_FLAVOUR (default 2b), SOHOA_VERAPDF_JAVA_OPTS, JAVA, MVN.
set -uo pipefail

VERSION="${SOHOA_VERAPDF_VERSION:-1.28.2}"
FLAVOUR="${SOHOA_VERAPDF_FLAVOUR:-2b}"
HOME_DIR="${SOHOA_VERAPDF_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sohoa/verapdf}"
GROUP=org.verapdf.apps
ARTIFACT=greenfield-apps
MAIN=org.verapdf.apps.GreenfieldCliWrapper
LIB="$HOME_DIR/lib-$VERSION"
JAVA="${JAVA:-java}"
MVN="${MVN:-mvn}"

LAUNCHER=""
if [ "${1:-}" = "--launcher" ]; then
    LAUNCHER="${2:-}"
    shift 2 || shift $#
fi
if [ "$#" -eq 0 ]; then
    echo "usage: $0 [--launcher VERAPDF] FILE.pdf..." >&2
    exit 64
fi

install_failed() {  # $1: what failed, $2: details
    echo "verapdf.sh: cannot install veraPDF $GROUP:$ARTIFACT:$VERSION: $1" >&2
    echo "$2" >&2
    exit 2
}

install() {
    command -v "$JAVA" >/dev/null || install_failed "Java is missing" "no '$JAVA' on PATH"
    command -v "$MVN" >/dev/null || install_failed "Maven is missing" "no '$MVN' on PATH"
    mkdir -p "$HOME_DIR" || install_failed "cache folder not writable" "command: mkdir -p $HOME_DIR"
    cat >"$HOME_DIR/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sohoa</groupId>
  <artifactId>verapdf-install</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>$GROUP</groupId>
      <artifactId>$ARTIFACT</artifactId>
      <version>$VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
    local tmp="$HOME_DIR/lib-$VERSION.partial.$$"
    rm -rf "$tmp"
    local cmd=("$MVN" -B --no-transfer-progress -f "$HOME_DIR/pom.xml"
        "-Dmaven.repo.local=$HOME_DIR/m2"
        dependency:copy-dependencies -DincludeScope=runtime "-DoutputDirectory=$tmp")
    echo "verapdf.sh: installing veraPDF $VERSION from Maven Central into $HOME_DIR (first run only)" >&2
    local log="$HOME_DIR/install.log"
    if ! "${cmd[@]}" >"$log" 2>&1 || [ ! -f "$tmp/$ARTIFACT-$VERSION.jar" ]; then
        rm -rf "$tmp"
        local why
        why="$(grep -m 6 -E '^\[ERROR\] .+' "$log" || tail -n 20 "$log")"
        install_failed "Maven could not fetch it" "command: ${cmd[*]}
Maven's errors (full log: $log):
$why"
    fi
    rm -rf "$LIB" && mv "$tmp" "$LIB"
    rm -rf "$HOME_DIR/m2"  # Maven's copy of the same jars and its plugins: not needed to run
}

if [ -n "$LAUNCHER" ]; then
    if ! command -v "$LAUNCHER" >/dev/null || [ -d "$LAUNCHER" ]; then
        echo "verapdf.sh: veraPDF launcher not found or not executable: $LAUNCHER" >&2
        exit 2
    fi
    found="$("$LAUNCHER" --version 2>/dev/null | grep -m 1 -oE 'veraPDF [0-9][^ ]*')"
    VERSION="${found#veraPDF }"
    VERSION="${VERSION:-unknown}"
elif [ ! -f "$LIB/$ARTIFACT-$VERSION.jar" ]; then
    mkdir -p "$HOME_DIR" 2>/dev/null
    # One installer at a time (e.g. parallel test workers); the others wait and then find it done.
    if command -v flock >/dev/null && [ -d "$HOME_DIR" ]; then
        exec 9>"$HOME_DIR/.install.lock" && flock 9
    fi
    [ -f "$LIB/$ARTIFACT-$VERSION.jar" ] || install
    exec 9>&-
fi
[ -n "$LAUNCHER" ] || command -v "$JAVA" >/dev/null || { echo "verapdf.sh: no '$JAVA' on PATH" >&2; exit 2; }

status=0
args=()   # every argument, absolute where the file exists (veraPDF reports absolute names)
files=()  # the ones veraPDF gets
for f in "$@"; do
    if [ -f "$f" ]; then
        f="$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
        files+=("$f")
    else
        status=1
    fi
    args+=("$f")
done
if [ "${#files[@]}" -eq 0 ]; then
    for f in "${args[@]}"; do echo "FAIL $f  (no such file)"; done
    exit 1
fi

# -Duser.home keeps veraPDF's config folder (.verapdf/config) inside the cache, not in ~.
# C1-only JIT: about half the CPU for these short runs.
read -r -a java_opts <<<"${SOHOA_VERAPDF_JAVA_OPTS:--XX:TieredStopAtLevel=1}"
run=("$JAVA" "${java_opts[@]}" "-Duser.home=$HOME_DIR/home" -cp "$LIB/*" "$MAIN")
shown="$JAVA [java options] -cp $LIB/* $MAIN"
if [ -n "$LAUNCHER" ]; then
    run=("$LAUNCHER")
    shown="$LAUNCHER"
fi
run+=(--flavour "$FLAVOUR" --maxfailuresdisplayed 1 --loglevel 1 --nonpdfext)
report="$(mktemp "${TMPDIR:-/tmp}/verapdf-report.XXXXXX")"
errors="$(mktemp "${TMPDIR:-/tmp}/verapdf-stderr.XXXXXX")"
trap 'rm -f "$report" "$errors"' EXIT
echo "verapdf.sh: veraPDF $VERSION ($ARTIFACT), profile PDF/A-$FLAVOUR" >&2  # read by workers/pdfa_check.py
"${run[@]}" --format xml "${files[@]}" >"$report" 2>"$errors"
vera_rc=$?

PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
if [ -z "$PYTHON" ]; then  # no Python to read the XML: fall back to veraPDF's own text lines
    "${run[@]}" --format text --verbose "${files[@]}"
    rc=$?
    [ "$rc" -eq 0 ] && exit "$status"
    exit 1
fi

"$PYTHON" - "$report" "$FLAVOUR" "${args[@]}" <<'EOF'
import os
import sys
import xml.etree.ElementTree as ET

report, flavour, files = sys.argv[1], sys.argv[2], sys.argv[3:]
try:
    root = ET.parse(report).getroot()
except (ET.ParseError, OSError) as exc:
    print(f"verapdf.sh: veraPDF gave no readable report ({exc})", file=sys.stderr)
    sys.exit(3)
label = f"PDF/A-{flavour}"
lines, bad = {}, 0
for job in root.iter("job"):
    name = job.findtext("item/name", default="?")
    emit = lines.setdefault(name, []).append  # collected, then printed in argument order
    result = job.find("validationReport")
    if result is None:
        problem = " ".join(
            (e.text or "").strip() for e in job.iter() if e.tag in ("taskException", "exceptionMessage")
        ) or "not validated"
        emit(f"FAIL {name}  ({label}: veraPDF could not read it: {problem[:300]})")
        bad += 1
        continue
    failed = result.findall("details/rule[@status='failed']")
    if result.get("isCompliant") == "true":
        emit(f"PASS {name}  ({label})")
        continue
    bad += 1
    emit(f"FAIL {name}  ({label}: {len(failed)} failed rules)")
    for rule in failed:
        rid = f"{rule.get('clause')}-{rule.get('testNumber')}"
        desc = " ".join((rule.findtext("description") or "").split())
        msg = " ".join((rule.findtext("check/errorMessage") or "").split())
        # The context names objects of the PDF (a font's name): its line breaks must not start
        # lines of their own (a forged "PASS file" verdict), so all whitespace is one space.
        where = " ".join((rule.findtext("check/context") or "").split())
        emit(f"  {rid}  ({rule.get('failedChecks')} failed checks) {desc}")
        if msg:
            emit(f"      e.g. {msg}  at {where}")
for name in files:
    if name in lines:
        sys.stdout.write("".join(line + "\n" for line in lines.pop(name)))
    elif not os.path.isfile(name):
        sys.stdout.write(f"FAIL {name}  (no such file)\n")
        bad += 1
    else:
        sys.stdout.write(f"FAIL {name}  ({label}: missing from veraPDF's report)\n")
        bad += 1
for name, out in lines.items():  # reported under another name than asked: still show it
    sys.stdout.write("".join(line + "\n" for line in out))
sys.exit(1 if bad else 0)
EOF
rc=$?
if [ "$rc" -ge 3 ] || { [ "$rc" -ne 0 ] && [ "$vera_rc" -gt 1 ]; }; then
    # the command without SOHOA_VERAPDF_JAVA_OPTS: they may hold a proxy's password
    echo "verapdf.sh: veraPDF exit code $vera_rc; command: $shown --flavour $FLAVOUR --format xml ${files[*]}" >&2
    head -c 3000 "$errors" >&2
fi
[ "$rc" -eq 0 ] && exit "$status"
[ "$rc" -eq 1 ] && exit 1
exit 3
