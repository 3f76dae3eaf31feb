"""Diacritic folding shared by queries and documents, in every backend (DESIGN §7).

`fold` maps each character of the NFC text to exactly one character, so offsets found in the
folded text are offsets in the NFC text too: highlights are computed on folded text and shown
on the original.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import numpy as np

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


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _text(codes: np.ndarray) -> str:
    return codes.tobytes().decode("utf-32-le")


_FOLD_CODES = np.array([ord(_TABLE[code]) for code in range(_TABLE_END)], dtype=np.uint32)
_SHORT = 64  # characters: below this, str.translate is quicker than setting up arrays


def fold(text: str) -> str:
    """NFC, drop combining marks, đ→d, lower-case; one output character per NFC character."""
    text = nfc(text)
    if len(text) < _SHORT:
        if not text or max(text) < chr(_TABLE_END):
            return text.translate(_TABLE)
    else:  # indexing folds every page: one numpy lookup per character
        codes = _codes(text)
        if codes.max() < _TABLE_END:
            return _text(_FOLD_CODES[codes])
    return "".join(_fold_char(c) for c in text)


def tokens(text: str) -> list[str]:
    """Word tokens as the index sees them (letters and digits; punctuation separates)."""
    return _TOKEN.findall(text)


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """(folded terms, exact lower-case NFC terms) of a user query, in order, without repeats."""
    exact = list(dict.fromkeys(t.lower() for t in tokens(nfc(query))))
    folded = list(dict.fromkeys(fold(t) for t in exact))
    return folded, exact


# -- words for a server index ------------------------------------------------------------------
# A server index splits the words it gets at whitespace only, so it sees exactly the words that
# SqliteIndex indexes (`search.sqlite.document_terms`): the `tokens()` of the lower-cased text,
# and those words folded (`fold`). A table lookup (numpy, one per character) makes the first:
# each character maps to its lower case, or to a space when that is not part of a word.
# Characters beyond the table, and those whose lower case is not one character of the table or
# depends on the context (İ, final Σ), take the slow path, which gives the same text.

_SLOW = 0xFFFFFFFF  # in the lower-case table: this character takes the slow path


@cache  # built on first use: only a server index needs it
def _lower_table() -> np.ndarray:
    """Lower-case word character, space, or _SLOW for every code below _TABLE_END; _SLOW last,
    for every code beyond."""
    lower = np.full(_TABLE_END + 1, _SLOW, dtype=np.uint32)
    for code in range(_TABLE_END):
        low = chr(code).lower()
        if len(low) == 1 and ord(low) < _TABLE_END and code != ord("Σ"):
            lower[code] = ord(low) if _TOKEN.fullmatch(low) else ord(" ")
    return lower


def lower_words(text: str) -> str:
    """The words of an NFC text lower-cased, separated by spaces (runs of them at places):
    `.split()` of it is `tokens(text.lower())`."""
    lower = _lower_table().take(_codes(text), mode="clip")
    if lower.size and lower.max() == _SLOW:
        return " ".join(tokens(text.lower()))
    return _text(lower)
