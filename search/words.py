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
# Proximity clauses as both backends weigh them, in BM25 units (the phrase's own BM25):
PROXIMITY_BOOST = 1.0  # each pair of consecutive query words standing within the window
WHOLE = 2.0  # × PROXIMITY_BOOST: the whole query standing as typed (three words or more)


def spaced_texts(texts: list[str]) -> tuple[str, str]:
    """(folded, exact lower-case) words of the texts, one space apart, a space on either end
    and the gap between texts: `" so hoa "` in the first is the phrase "số hóa"."""
    joined = nfc(_RAW_GAP.join(texts))
    lower = _gap_table().take(code_points(joined), mode="clip")
    if lower.size and lower.max() == _SLOW:
        words = _GAP.join(" ".join(lower_words(nfc(text)).split()) for text in texts)
    else:
        words = from_code_points(_single_spaced(lower)).strip()
    return fold(f" {words} "), f" {words} "


def _single_spaced(codes: np.ndarray) -> np.ndarray:
    """The code points with each run of spaces made one space (as `" ".join(s.split())` but
    for the ends, in one vector operation instead of a list of every word)."""
    space = codes == ord(" ")
    keep = np.ones(len(codes), bool)
    keep[1:] = ~(space[1:] & space[:-1])
    return codes[keep]


_RAW_GAP = " \0" * PROXIMITY_WINDOW + " "  # NUL: becomes the gap's "|" in one table lookup
_RAW_END = " \1 "  # between documents: becomes "#", a non-word like "|"


@cache
def _gap_table() -> np.ndarray:
    table = _lower_table().copy()
    table[0] = ord("|")
    table[1] = ord("#")
    return table


def folded_documents(documents: list[list[str]]) -> list[str]:
    """`spaced_texts(texts)[0]` of each document's texts, all made in one table lookup and one
    fold: per document, these calls cost more than the work (a phrase check reads hundreds)."""
    joined = nfc(_RAW_END.join(_RAW_GAP.join(texts) for texts in documents))
    lower = _gap_table().take(code_points(joined), mode="clip")
    if lower.size and lower.max() == _SLOW:
        return [spaced_texts(texts)[0] for texts in documents]
    pieces = fold(from_code_points(_single_spaced(lower))).split(" # ")
    if len(pieces) != len(documents):  # a text held the \1 itself
        return [spaced_texts(texts)[0] for texts in documents]
    return [f" {piece.strip()} " for piece in pieces]


def has_phrase(spaced: str, phrase: tuple[str, ...]) -> bool:
    """Whether the words of `phrase` stand adjacent, in order, in a `spaced_texts` string."""
    return f" {' '.join(phrase)} " in spaced


@lru_cache(maxsize=256)
def _pair_patterns(words: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """A pattern for each distinct pair of consecutive words (one server clause each): the
    second word after the first with fewer than PROXIMITY_WINDOW words between, nearest first
    (the gap words are the group)."""
    gap = f"((?:\\S+ ){{0,{PROXIMITY_WINDOW - 1}}}?)"
    return tuple(
        re.compile(f"(?<= ){re.escape(a)} {gap}{re.escape(b)}(?= )")
        for a, b in dict.fromkeys(zip(words, words[1:], strict=False))
    )


def pair_frequencies(spaced: str, words: list[str]) -> list[float]:
    """How often each distinct pair of consecutive query `words` (as typed) stands together in a
    `spaced_texts` string, as a server counts a `match_phrase` with slop (Lucene's sloppy
    frequency): each occurrence counts 1 / (1 + the number of words between the two)."""
    return [
        sum(1.0 / (1 + m.group(1).count(" ")) for m in pattern.finditer(spaced))
        for pattern in _pair_patterns(tuple(words))
    ]


def phrase_frequency(spaced: str, words: list[str]) -> int:
    """How often the `words` stand adjacent, in order, in a `spaced_texts` string."""
    return spaced.count(f" {' '.join(words)} ")


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
