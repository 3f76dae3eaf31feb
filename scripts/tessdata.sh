#!/usr/bin/env bash
# Tesseract's standard `vie` data, beside Debian's fast model: its LSTM (integer version of
# tessdata_best) gives the key-field zones a second, independent read, and its legacy word-pair
# dictionary (`bigram-dawg`, 263k Vietnamese word pairs) puts right tone marks OCR slipped in a
# field (`tố chức` -> `tổ chức`). Debian ships only the fast LSTM, so the file comes from the
# npm registry package @tesseract.js-data/vie (tessdata 4.0.0, Apache-2.0), checked against the
# registry's SHA-512. Idempotent; the download is cached under ~/.cache/sohoa/downloads.
#   scripts/tessdata.sh            install into $SOHOA_TESSDATA (default ~/.cache/sohoa/tessdata)
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sohoa"
DIR="${SOHOA_TESSDATA:-$CACHE/tessdata}"
URL="https://registry.npmjs.org/@tesseract.js-data/vie/-/vie-1.0.0.tgz"
SHA512="hFxBtxSiCw6+64uxf0psrlLvcYA5kQimYhTSx1RwjbD5jSxe1bWg3EmipAozkzELQIFAMkJC5vu+ONGRem7YLA=="
TARBALL="$CACHE/downloads/tesseract.js-data-vie-1.0.0.tgz"

# Tesseract's output configs (`tsv`, `pdf`) are looked up beside the model: the system's.
link_configs() {
    local system
    system="$(tesseract --list-langs 2>&1 | sed -n 's/^List of available languages in "\(.*\)".*/\1/p')"
    [ -d "$system/configs" ] && ln -sfn "${system%/}/configs" "$DIR/configs"
}

if [ -s "$DIR/vie.traineddata" ] && [ -s "$DIR/vie.bigrams.txt" ]; then
    [ -e "$DIR/configs" ] || link_configs
    exit 0
fi

sha512_b64() { openssl dgst -sha512 -binary "$1" | base64 -w0; }

mkdir -p "$CACHE/downloads" "$DIR"
if [ ! -s "$TARBALL" ] || [ "$(sha512_b64 "$TARBALL")" != "$SHA512" ]; then
    echo "tessdata.sh: downloading $URL" >&2
    curl -fsSL --retry 3 -o "$TARBALL.part" "$URL"
    got="$(sha512_b64 "$TARBALL.part")"
    if [ "$got" != "$SHA512" ]; then
        echo "tessdata.sh: $URL has SHA-512 $got, expected $SHA512" >&2
        rm -f "$TARBALL.part"; exit 1
    fi
    mv "$TARBALL.part" "$TARBALL"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$TARBALL" -C "$work" package/4.0.0/vie.traineddata.gz
gunzip -c "$work/package/4.0.0/vie.traineddata.gz" > "$work/vie.traineddata"
(cd "$work" && combine_tessdata -u vie.traineddata vie. >/dev/null 2>&1 \
    && dawg2wordlist vie.unicharset vie.bigram-dawg vie.bigrams.txt >/dev/null 2>&1)
[ -s "$work/vie.bigrams.txt" ] || { echo "tessdata.sh: no word pairs in $URL" >&2; exit 1; }
mv "$work/vie.bigrams.txt" "$DIR/vie.bigrams.txt.new" && mv "$DIR/vie.bigrams.txt.new" "$DIR/vie.bigrams.txt"
mv "$work/vie.traineddata" "$DIR/vie.traineddata.new" && mv "$DIR/vie.traineddata.new" "$DIR/vie.traineddata"
link_configs
echo "tessdata.sh: installed $DIR (vie.traineddata, $(wc -l < "$DIR/vie.bigrams.txt") word pairs)" >&2
