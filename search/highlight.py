"""Snippets with highlighted terms, computed on folded text and shown on the original."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from schemas.text import fold, nfc

_CHANGED_WHITESPACE = re.compile(r"\s{2,}|[^\S ]")  # what collapsing changes


@dataclass(frozen=True)
class Snippet:
    text: str
    spans: list[tuple[int, int]]  # [start, end) offsets of matched terms inside `text`

    def marked(self, start: str = "«", end: str = "»") -> str:
        out, last = [], 0
        for a, b in self.spans:
            out += [self.text[last:a], start, self.text[a:b], end]
            last = b
        out.append(self.text[last:])
        return "".join(out)


@lru_cache(maxsize=256)
def _terms_pattern(folded_terms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(folded_terms, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")


def term_spans(
    text: str, folded_terms: list[str], folded: str | None = None
) -> list[tuple[int, int]]:
    """Where whole-word folded terms occur in `text` (NFC offsets); `folded` is fold(text)
    when the caller has it already."""
    if not folded_terms:
        return []
    if folded is None:
        folded = fold(text)
    return [m.span() for m in _terms_pattern(tuple(folded_terms)).finditer(folded)]


def make_snippet(text: str, folded_terms: list[str], width: int = 180) -> Snippet:
    """The window of about `width` characters holding the most distinct terms."""
    text = nfc(text)
    folded = fold(text)
    return _snippet(text, folded, term_spans(text, folded_terms, folded), width)


def _snippet(text: str, folded: str, spans: list[tuple[int, int]], width: int) -> Snippet:
    if not spans:
        head = " ".join(text[:width].split())
        return Snippet(head, [])
    start = _best_window_start(folded, spans, width)
    end = min(len(text), start + width)
    start, end = _widen_to_word_bounds(text, start, end)
    window = [(a - start, b - start) for a, b in spans if a >= start and b <= end]
    return _collapse_whitespace(text[start:end], window, start > 0, end < len(text))


def _best_window_start(folded: str, spans: list[tuple[int, int]], width: int) -> int:
    """The start (a quarter width before a match) of the window holding the most distinct
    terms; the first such window on ties. Spans are sorted and disjoint, so the spans inside
    [lo, lo + width] are a sliding run of them as lo grows."""
    words = [folded[x:y] for x, y in spans]
    counts: dict[str, int] = {}
    best, best_score = 0, -1
    first = last = 0  # spans[first:last] lie inside the current window
    for a, _ in spans:
        lo = max(0, a - width // 4)
        while first < len(spans) and spans[first][0] < lo:
            if first < last:
                word = words[first]
                counts[word] -= 1
                if not counts[word]:
                    del counts[word]
            first += 1
        if last < first:
            last = first
        while last < len(spans) and spans[last][1] <= lo + width:
            counts[words[last]] = counts.get(words[last], 0) + 1
            last += 1
        if len(counts) > best_score:
            best, best_score = lo, len(counts)
    return best


def _widen_to_word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def _collapse_whitespace(
    chunk: str, spans: list[tuple[int, int]], cut_left: bool, cut_right: bool
) -> Snippet:
    """Squash newlines and runs of spaces (leading ones dropped), keeping span offsets right."""
    pieces: list[str] = []
    starts: list[int] = []  # starts of the whitespace runs that change ...
    ends: list[int] = []
    removed: list[int] = []  # ... and characters removed up to the end of each
    last = gone = len(chunk) - len(chunk.lstrip())  # leading whitespace: dropped
    if gone:
        starts.append(0)
        ends.append(gone)
        removed.append(gone)
    for run in _CHANGED_WHITESPACE.finditer(chunk, last):  # a single " " stays as it is
        a, b = run.span()
        pieces += [chunk[last:a], " "]
        gone += b - a - 1
        starts.append(a)
        ends.append(b)
        removed.append(gone)
        last = b
    pieces.append(chunk[last:])

    def moved(offset: int) -> int:
        i = bisect_right(starts, offset) - 1  # the last changed run starting at or before it
        if i < 0:
            return offset
        if offset >= ends[i]:
            return offset - removed[i]
        before = removed[i - 1] if i else 0
        a = starts[i]
        return a - before + (0 if offset == a or a == 0 else 1)  # inside the run

    prefix = "… " if cut_left else ""
    shift = len(prefix)
    body = "".join(pieces).rstrip()
    new_spans = [(moved(a) + shift, moved(b) + shift) for a, b in spans]
    return Snippet(prefix + body + (" …" if cut_right else ""), new_spans)


def best_pages(
    pages: list[tuple[int, str]], folded_terms: list[str], limit: int
) -> list[tuple[int, Snippet]]:
    """The pages holding the most distinct query terms (then the most matches), with snippets."""
    scored = []
    for page_no, text in pages:
        text = nfc(text)
        folded = fold(text)
        spans = term_spans(text, folded_terms, folded)
        if spans:
            distinct = len({folded[a:b] for a, b in spans})
            scored.append((-distinct, -len(spans), page_no, text, folded, spans))
    scored.sort(key=lambda s: s[:3])
    return [
        (page_no, _snippet(text, folded, spans, 180))
        for _, _, page_no, text, folded, spans in scored[:limit]
    ]
