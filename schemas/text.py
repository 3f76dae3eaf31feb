"""The one diacritic fold: how every package compares Vietnamese text (organ names in the
registry and in document headers, OCR lines against ND30 labels, queries against documents in
both search backends, DESIGN §7).

`fold` maps each character of the NFC text to exactly one character, so offsets found in the
folded text are offsets in the NFC text too: highlights are computed on folded text and shown
on the original.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

_SPECIAL = {"đ": "d", "Đ": "d", "Ð": "d", "ð": "d"}


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    base = base.lower()
    return base if len(base) == 1 else char.lower()[:1] or char


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


TABLE_END = 0x3000  # Latin, Vietnamese, Greek, Cyrillic, punctuation: folded by one table
_TABLE = {code: _fold_char(chr(code)) for code in range(TABLE_END)}


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def from_code_points(codes: np.ndarray) -> str:
    return codes.tobytes().decode("utf-32-le")


_FOLD_CODES = np.array([ord(_TABLE[code]) for code in range(TABLE_END)], dtype=np.uint32)
_SHORT = 64  # characters: below this, str.translate is quicker than setting up arrays


def fold(text: str) -> str:
    """NFC, drop combining marks, đ→d, lower-case; one output character per NFC character."""
    text = nfc(text)
    if len(text) < _SHORT:
        if not text or max(text) < chr(TABLE_END):
            return text.translate(_TABLE)
    else:  # indexing folds every page: one numpy lookup per character
        codes = code_points(text)
        if codes.max() < TABLE_END:
            return from_code_points(_FOLD_CODES[codes])
    return "".join(_fold_char(c) for c in text)
