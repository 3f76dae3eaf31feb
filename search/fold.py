"""Diacritic folding shared by queries and documents, in every backend (DESIGN §7).

`fold` maps each character of the NFC text to exactly one character, so offsets found in the
folded text are offsets in the NFC text too: highlights are computed on folded text and shown
on the original.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPECIAL = {"đ": "d", "Đ": "d", "Ð": "d", "ð": "d"}
_TOKEN = re.compile(r"[^\W_]+")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    base = base.lower()
    return base if len(base) == 1 else char.lower()[:1] or char


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_TABLE_END = 0x3000  # Latin, Vietnamese, Greek, Cyrillic, punctuation: folded by one table
_TABLE = {code: _fold_char(chr(code)) for code in range(_TABLE_END)}


def fold(text: str) -> str:
    """NFC, drop combining marks, đ→d, lower-case; one output character per NFC character."""
    text = nfc(text)
    if not text or max(text) < chr(_TABLE_END):
        return text.translate(_TABLE)  # C speed: indexing folds every page twice
    return "".join(_fold_char(c) for c in text)


def tokens(text: str) -> list[str]:
    """Word tokens as the index sees them (letters and digits; punctuation separates)."""
    return _TOKEN.findall(text)


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """(folded terms, exact lower-case NFC terms) of a user query, in order, without repeats."""
    exact = list(dict.fromkeys(t.lower() for t in tokens(nfc(query))))
    folded = list(dict.fromkeys(fold(t) for t in exact))
    return folded, exact
