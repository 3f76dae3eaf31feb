"""Fingerprints that survive a rescan of the same paper (issue 20), and the LSH band keys that
find a page's look-alikes without reading every record.

Two kinds, measured against each other by bench/near_duplicates.py (docs/benchmarks.md):
- `image_hash`: a difference hash of the deskewed page, cropped to its ink and shrunk to a
  small grid (the page step has the deskewed page; no second render).
- `text_minhash`: a MinHash of the page's OCR word 3-grams (no second OCR).
Pure: arrays and strings in, numbers out.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import cv2
import numpy as np

# Image hash: a grid of HASH_SIDE x HASH_SIDE bits, each "is this cell lighter than its right
# neighbour", over the page cropped to where its ink is.
HASH_SIDE = 16
INK = 160  # grey level below which a pixel is ink
INK_SHARE = 0.01  # of a row or column's pixels, for it to hold ink (dust and specks hold less)

# Text MinHash: PERMUTATIONS values, cut into BANDS bands of PERMUTATIONS / BANDS rows.
SHINGLE = 3
PERMUTATIONS = 64
BANDS = 16
MIN_SHINGLES = 8  # a page with fewer word 3-grams than this has too little text to compare
_WORD = re.compile(r"\w+")
_blake2b = hashlib.blake2b
_MASK32 = np.uint64(0xFFFFFFFF)
# Fixed random multipliers and offsets of the multiply-shift hash family: the same on every
# machine and in every version, since stored fingerprints are compared with new ones.
_RNG = np.random.default_rng(20_2026)
_A = _RNG.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _RNG.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)


# ------------------------------------------------------------------ image difference hash


def ink_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the rows and columns holding ink, None on a blank page.
    Cropping to it makes the hash indifferent to where the paper lay and at what resolution."""
    ink = grey < INK
    rows = np.flatnonzero(ink.mean(axis=1) > INK_SHARE)
    cols = np.flatnonzero(ink.mean(axis=0) > INK_SHARE)
    if rows.size < 2 or cols.size < 2:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def image_hash(grey: np.ndarray, side: int = HASH_SIDE) -> str | None:
    """Difference hash of a deskewed greyscale page, as hex (side*side bits); None when the
    page holds no ink."""
    box = ink_box(grey)
    if box is None:
        return None
    top, bottom, left, right = box
    # Ink share per cell, not grey: the paper's shade (uneven light, a darker sheet) is gone.
    _, ink = cv2.threshold(
        grey[top:bottom, left:right], 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU
    )
    small = cv2.resize(ink, (side + 1, side), interpolation=cv2.INTER_AREA)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return np.packbits(bits).tobytes().hex()


def image_similarity(a: str, b: str) -> float:
    """1 - the share of differing bits of two image hashes of one size."""
    x, y = np.frombuffer(bytes.fromhex(a), np.uint8), np.frombuffer(bytes.fromhex(b), np.uint8)
    if x.size != y.size or not x.size:
        return 0.0
    return 1.0 - float(np.unpackbits(x ^ y).sum()) / (8 * x.size)


# ------------------------------------------------------------------ text MinHash


def shingles(text: str) -> set[str]:
    """The page's word 3-grams, case and marks kept (NFC), punctuation dropped."""
    words = _WORD.findall(unicodedata.normalize("NFC", text).lower())
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def text_minhash(text: str) -> list[int] | None:
    """MinHash (PERMUTATIONS 32-bit values) of the page's word 3-grams; None when the page has
    fewer than MIN_SHINGLES of them."""
    grams = shingles(text)
    if len(grams) < MIN_SHINGLES:
        return None
    # The 4-byte digests read as big-endian integers all at once (the values stored
    # fingerprints hold: the hash cannot change without them all being made again)
    digests = b"".join([_blake2b(g.encode(), digest_size=4).digest() for g in grams])
    base = np.frombuffer(digests, dtype=">u4").astype(np.uint64)
    # multiply-shift: the high 32 bits of a*x + b (mod 2^64), one (a, b) per permutation
    hashed = (np.outer(_A, base) + _B[:, None]) >> np.uint64(32)
    return [int(v) for v in (hashed & _MASK32).min(axis=1)]


def text_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two pages' word 3-grams."""
    if len(a) != len(b) or not a:
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def text_bands(minhash: Sequence[int]) -> list[str]:
    """The LSH band keys of a MinHash, `<band>-<digest>`: two pages whose 3-grams are similar
    share at least one with high probability (BANDS bands of PERMUTATIONS / BANDS rows)."""
    rows = len(minhash) // BANDS
    keys = []
    for band in range(BANDS):
        values = ",".join(map(str, minhash[band * rows : (band + 1) * rows]))
        keys.append(f"{band:02d}-{hashlib.blake2b(values.encode(), digest_size=8).hexdigest()}")
    return keys


def image_bands(hex_hash: str, width_bytes: int = 2) -> list[str]:
    """The LSH band keys of an image hash, `<band>-<bits>`: `width_bytes` bytes a band. Two
    rescans differ in a few bits, so most bands stay equal (bench/near_duplicates.py)."""
    return [
        f"{i // (2 * width_bytes):02d}-{hex_hash[i : i + 2 * width_bytes]}"
        for i in range(0, len(hex_hash), 2 * width_bytes)
    ]
