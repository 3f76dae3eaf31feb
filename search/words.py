"""Words as both search backends cut them: tokens of the NFC text, query terms and phrases,
the lower-cased words a server index receives (the fold itself is `schemas.text.fold`), and the
proximity of query words in a text, which both backends use to rank."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache

import numpy as np

from schemas.text import TABLE_END, code_points, fold, from_code_points, nfc

_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Word tokens as the index sees them (letters and digits; punctuation separates)."""
    return _TOKEN.findall(text)


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """(folded terms, exact lower-case NFC terms) of a user query, in order, without repeats."""
    parsed = parse_query(query)
    return parsed.folded, parsed.exact


# Straight quotes and those a Vietnamese keyboard (Unikey, the phone ones) types: any of them
# opens or closes a phrase, so a mismatched pair still reads as the user meant.
QUOTES = re.compile('["\u201c\u201d\u201e\u00ab\u00bb]')


@dataclass(frozen=True)
class Query:
    """A user query: every word is a term (all must occur, folded); the words of a quoted
    phrase must also stand adjacent, in order, inside one page or one metadata string."""

    folded: list[str]  # distinct folded terms, in order (phrase words included)
    exact: list[str]  # distinct lower-case NFC terms, in order
    words: list[str]  # folded words as typed, repeats kept: what proximity looks for
    exact_words: list[str]
    phrases: list[tuple[str, ...]]  # folded words of each quoted phrase of two words or more


def parse_query(query: str) -> Query:
    """Terms and phrases of a user query. Text between quotes is a phrase; an unclosed quote
    runs to the end; quotes holding one word or none add nothing to the plain terms."""
    exact_words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for i, part in enumerate(QUOTES.split(nfc(query))):
        words = [t.lower() for t in tokens(part)]
        exact_words += words
        if i % 2 and len(words) > 1:  # odd parts lie between quotes
            phrases.append(tuple(fold(w) for w in words))
    words = [fold(w) for w in exact_words]
    exact = list(dict.fromkeys(exact_words))
    return Query(
        list(dict.fromkeys(words)), exact, words, exact_words, list(dict.fromkeys(phrases))
    )


def spaced_words(text: str) -> str:
    """The words of a text lower-cased and folded, one space apart, a space on either side:
    `" so hoa "` in it is the phrase "số hóa" inside the text."""
    return f" {' '.join(fold(lower_words(nfc(text))).split())} "


def has_phrase(spaced: str, phrase: tuple[str, ...]) -> bool:
    """Whether the words of `phrase` stand adjacent, in order, in a `spaced_words` text."""
    return f" {' '.join(phrase)} " in spaced


# -- proximity ---------------------------------------------------------------------------------
# How close together the query words stand in a text, from 0 (never within PROXIMITY_WINDOW of
# each other) to 1 (the query, as typed, is a run of the text): each pair of consecutive query
# words counts 1 / distance when the second follows the first within the window.
PROXIMITY_WINDOW = 4  # words: "quyết định về việc số hóa" keeps "định" near "số"


def proximity(words: list[str], query: list[str]) -> float:
    """Proximity of the `query` words (typed order) in the list of words of one text."""
    if len(query) < 2:
        return 0.0
    wanted = set(query)
    at: dict[str, list[int]] = {}
    for i, word in enumerate(words):
        if word in wanted:
            at.setdefault(word, []).append(i)
    total = 0.0
    for first, second in zip(query, query[1:], strict=False):
        total += _pair_closeness(at.get(first, ()), at.get(second, ()))
    return total / (len(query) - 1)


def _pair_closeness(firsts: list[int] | tuple, seconds: list[int] | tuple) -> float:
    """1 / the smallest distance at which a `seconds` position follows a `firsts` one, within
    PROXIMITY_WINDOW; 0 when none does. Both lists ascend."""
    best = PROXIMITY_WINDOW + 1
    for p in firsts:
        j = bisect_left(seconds, p + 1)
        if j < len(seconds) and seconds[j] - p < best:
            best = seconds[j] - p
            if best == 1:
                break
    return 1.0 / best if best <= PROXIMITY_WINDOW else 0.0


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
