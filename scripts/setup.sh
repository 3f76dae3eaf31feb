#!/usr/bin/env bash
# Installs everything sohoa needs, idempotently: Debian packages, then a virtualenv with the
# project. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd poppler-utils fonts-liberation2
              fonts-dejavu-core qpdf ghostscript curl ca-certificates openssl
              libtesseract-dev libleptonica-dev pkg-config build-essential)
EXTRAS="${SOHOA_EXTRAS:-test}"
VENV="${SOHOA_VENV:-.venv}"
# The browser tests (tests/test_web_browser.py) drive Debian's chromium through Playwright;
# Playwright's own browser download is never used.
case ",$EXTRAS," in *,test,*) APT_PACKAGES+=(chromium) ;; esac
# The independent page set (pages2/: bench/ocr.py, tests/test_pages2.py) is set in FreeSerif and
# Noto Serif, faces the tuning corpus never uses.
case ",$EXTRAS," in *,bench,*|*,test,*) APT_PACKAGES+=(fonts-freefont-ttf fonts-noto-core) ;; esac

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "setup: need root for: $*" >&2; return 1; fi
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
tesseract --list-langs 2>/dev/null | grep -qx vie || { echo "setup: tesseract has no 'vie' data" >&2; exit 1; }
bash scripts/tessdata.sh  # the accurate `vie` model and word pairs for the key fields

PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating virtualenv $VENV"
    "$PY" -m venv "$VENV"
fi
stamp="$VENV/.sohoa-installed"
want="$(sha256sum pyproject.toml | cut -c1-16) $EXTRAS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing sohoa[$EXTRAS] into $VENV"
    log="$VENV/pip-install.log"
    if ! { "$VENV/bin/pip" install -q --upgrade pip && PIP_NO_BINARY=tesserocr "$VENV/bin/pip" install -q -e ".[$EXTRAS]"; } >"$log" 2>&1; then
        cat "$log" >&2; echo "setup: pip install failed (log above)" >&2; exit 1
    fi
    echo "$want" > "$stamp"
fi
echo "setup: ready ($("$VENV/bin/sohoa" --help >/dev/null && echo sohoa), $(tesseract --version 2>&1 | head -1))"
