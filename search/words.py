"""Words as both search backends cut them: tokens of the NFC text, query terms, and the
lower-cased words a server index receives (the fold itself is `schemas.text.fold`)."""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from schemas.text import TABLE_END, code_points, fold, from_code_points, nfc

_TOKEN = re.compile(r"[^\W_]+")


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
    """Lower-case word character, space, or _SLOW for every code below TABLE_END; _SLOW last,
    for every code beyond."""
    lower = np.full(TABLE_END + 1, _SLOW, dtype=np.uint32)
    for code in range(TABLE_END):
        low = chr(code).lower()
        if len(low) == 1 and ord(low) < TABLE_END and code != ord("Σ"):
            lower[code] = ord(low) if _TOKEN.fullmatch(low) else ord(" ")
    return lower


def lower_words(text: str) -> str:
    """The words of an NFC text lower-cased, separated by spaces (runs of them at places):
    `.split()` of it is `tokens(text.lower())`."""
    lower = _lower_table().take(code_points(text), mode="clip")
    if lower.size and lower.max() == _SLOW:
        return " ".join(tokens(text.lower()))
    return from_code_points(lower)
