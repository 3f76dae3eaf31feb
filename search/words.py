"""Words as both search backends cut them: tokens of the NFC text, query terms and phrases,
the lower-cased words a server index receives (the fold itself is `schemas.text.fold`), and the
proximity of query words in a text, which both backends use to rank."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

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


# A document's texts (metadata strings, pages) joined into one string of words, one space
# apart, with a gap of PROXIMITY_WINDOW non-words between texts: a phrase, or a pair of query
# words, found in it stands inside one text (never across a page break).
PROXIMITY_WINDOW = 4  # words: "quyết định về việc số hóa" keeps "định" near "số"
_GAP = " " + "| " * PROXIMITY_WINDOW
NEAR = 0.5  # credit of a pair standing within the window but not adjacent


def spaced_texts(texts: list[str]) -> tuple[str, str]:
    """(folded, exact lower-case) words of the texts, one space apart, a space on either end
    and the gap between texts: `" so hoa "` in the first is the phrase "số hóa"."""
    joined = nfc(_RAW_GAP.join(texts))
    lower = _gap_table().take(code_points(joined), mode="clip")
    if lower.size and lower.max() == _SLOW:
        words = _GAP.join(" ".join(lower_words(nfc(text)).split()) for text in texts)
    else:
        words = " ".join(from_code_points(lower).split())
    return fold(f" {words} "), f" {words} "


_RAW_GAP = " \0" * PROXIMITY_WINDOW + " "  # NUL: becomes the gap's "|" in one table lookup


@cache
def _gap_table() -> np.ndarray:
    table = _lower_table().copy()
    table[0] = ord("|")
    return table


def has_phrase(spaced: str, phrase: tuple[str, ...]) -> bool:
    """Whether the words of `phrase` stand adjacent, in order, in a `spaced_texts` string."""
    return f" {' '.join(phrase)} " in spaced


@lru_cache(maxsize=256)
def _pairs(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(adjacent, near) tests of each pair of consecutive words, repeats dropped."""
    pairs = dict.fromkeys(zip(words, words[1:], strict=False))
    gap = f"(?:\\S+ ){{1,{PROXIMITY_WINDOW - 1}}}"
    return tuple(
        (f" {a} {b} ", re.compile(f" {re.escape(a)} {gap}{re.escape(b)} ")) for a, b in pairs
    )


def proximity(spaced: str, words: list[str]) -> float:
    """How close together the query `words` (as typed) stand in a `spaced_texts` string, from
    0 (no two consecutive ones within PROXIMITY_WINDOW) to 1 (the whole query stands there as
    typed): half for its pairs of consecutive words (an adjacent pair counts 1, one within the
    window NEAR), half for the whole query as a phrase."""
    pairs = _pairs(tuple(words))
    if not pairs:
        return 0.0
    total = 0.0
    for adjacent, near in pairs:
        if adjacent in spaced:
            total += 1.0
        elif near.search(spaced):
            total += NEAR
    whole = total == len(pairs) and has_phrase(spaced, tuple(words))
    return (total / len(pairs) + whole) / 2


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
