#!/usr/bin/env bash
# The install a newcomer and the Docker image get: `pip install .` WITHOUT extras, in a fresh
# virtualenv under a temporary folder, from exactly the files the Dockerfile copies. Then, from
# outside the checkout, `sohoa --help`, `sohoa --version`, one embedded ingest of a small scanned
# page (OCR included) and a search that finds it, in a fresh data folder. It proves that
# [project.dependencies] holds every run-time import and that the Dockerfile copies every
# package. Needs what scripts/setup.sh installs (tesseract `vie`); pip's cache under ~/.cache is
# used, nothing else is kept. Run by .ci/run; by hand: bash scripts/install-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
PY="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/sohoa-install-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
say() { echo "install-check: $*" >&2; }

# The sources of every `COPY SRC... DEST` line of the Dockerfile, and nothing else.
sources=()
while read -r _ args; do
    read -r -a words <<<"$args"
    sources+=("${words[@]:0:${#words[@]}-1}")
done < <(grep -E '^COPY ' Dockerfile)
mkdir "$work/src"
tar -c --exclude=__pycache__ "${sources[@]}" | tar -x -C "$work/src"

"$PY" -m venv "$work/venv"
if ! "$work/venv/bin/pip" install -q --disable-pip-version-check "$work/src" >"$work/pip.log" 2>&1; then
    cat "$work/pip.log" >&2
    say "error: pip install of the package without extras failed (log above)"
    exit 1
fi
sohoa="$work/venv/bin/sohoa"

# From a folder outside the checkout, with only the embedded backends: the installed package.
cd "$work"
unset SOHOA_STORAGE SOHOA_SEARCH SOHOA_BROKER
export SOHOA_DATA_DIR="$work/data"
"$sohoa" --help >/dev/null
version="$("$sohoa" --version)"
say "installed $version"
"$work/venv/bin/python" -m corpus "$work/in" --pages 1 --seed 7 --formats png --levels clean \
    --no-rotate >/dev/null
"$sohoa" ingest "$work/in" --no-progress >"$work/ingest.txt" || {
    cat "$work/ingest.txt" >&2; say "error: sohoa ingest failed"; exit 1; }
# A word of the page's subject, accents folded away as a user may type it.
query="$("$work/venv/bin/python" -c '
import json, sys
from schemas.text import fold
truth = json.load(open(sys.argv[1]))
print(fold(truth["files"][0]["metadata"]["subject"]).split()[0])' "$work/in/truth.json")"
"$sohoa" search "$query" --json >"$work/search.json"
total="$("$work/venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"])' "$work/search.json")"
if [ "$total" -lt 1 ]; then
    cat "$work/ingest.txt" "$work/search.json" >&2
    say "error: sohoa search '$query' found nothing after the ingest"
    exit 1
fi
cd "$repo"
say "ok: $version installed without extras; ingest and search '$query' ($total hit(s)) work"
