"""Snippets with highlighted terms, computed on folded text and shown on the original."""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.fold import fold, nfc


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


def term_spans(text: str, folded_terms: list[str]) -> list[tuple[int, int]]:
    """Where whole-word folded terms occur in `text` (NFC offsets)."""
    if not folded_terms:
        return []
    folded = fold(text)
    alternatives = "|".join(re.escape(t) for t in sorted(folded_terms, key=len, reverse=True))
    pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")
    return [(m.start(), m.end()) for m in pattern.finditer(folded)]


def make_snippet(text: str, folded_terms: list[str], width: int = 180) -> Snippet:
    """The window of about `width` characters holding the most distinct terms."""
    text = nfc(text)
    spans = term_spans(text, folded_terms)
    if not spans:
        head = " ".join(text[:width].split())
        return Snippet(head, [])
    start = _best_window_start(text, spans, width)
    end = min(len(text), start + width)
    start, end = _widen_to_word_bounds(text, start, end)
    window = [(a - start, b - start) for a, b in spans if a >= start and b <= end]
    return _collapse_whitespace(text[start:end], window, start > 0, end < len(text))


def _best_window_start(text: str, spans: list[tuple[int, int]], width: int) -> int:
    folded = fold(text)
    best, best_score = 0, -1
    for a, _ in spans:
        lo = max(0, a - width // 4)
        inside = {folded[x:y] for x, y in spans if x >= lo and y <= lo + width}
        if len(inside) > best_score:
            best, best_score = lo, len(inside)
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
    """Squash newlines and runs of spaces, keeping span offsets right."""
    out: list[str] = []
    mapping: list[int] = []  # old offset -> new offset
    prev_space = True
    for char in chunk:
        mapping.append(len(out))
        if char.isspace():
            if not prev_space:
                out.append(" ")
            prev_space = True
        else:
            out.append(char)
            prev_space = False
    mapping.append(len(out))
    prefix = "… " if cut_left else ""
    shift = len(prefix)
    body = "".join(out).rstrip()
    new_spans = [(mapping[a] + shift, mapping[b] + shift) for a, b in spans]
    return Snippet(prefix + body + (" …" if cut_right else ""), new_spans)


def best_pages(
    pages: list[tuple[int, str]], folded_terms: list[str], limit: int
) -> list[tuple[int, Snippet]]:
    """The pages holding the most distinct query terms (then the most matches), with snippets."""
    scored = []
    for page_no, text in pages:
        spans = term_spans(text, folded_terms)
        if spans:
            folded = fold(text)
            distinct = len({folded[a:b] for a, b in spans})
            scored.append((-distinct, -len(spans), page_no, text))
    scored.sort()
    return [(page_no, make_snippet(text, folded_terms)) for *_, page_no, text in scored[:limit]]
