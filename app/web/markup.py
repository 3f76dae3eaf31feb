"""HTML fragments built from attacker-controlled text (OCR, file names): every piece escaped
first, then wrapped; and the word boxes of a page that match a query."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from schemas.models import PageResult
from schemas.text import fold
from search.highlight import term_spans
from search.words import query_terms, tokens


def marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    """`text` escaped, with each [start, end) span wrapped in <mark>; matched words next to
    each other are one mark (`<mark>Quyết định</mark>`)."""
    out, last = [], 0
    for a, b in _joined(text, spans):
        out += [escape(text[last:a]), Markup("<mark>"), escape(text[a:b]), Markup("</mark>")]
        last = b
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _joined(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans, overlapping ones dropped, those apart by spaces only joined."""
    joined: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if joined and a < joined[-1][1]:  # overlapping: never cut the markup in two
            continue
        if joined and not text[joined[-1][1] : a].strip(" "):
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    return joined


def marked_terms(text: str, query: str) -> Markup:
    """`text` escaped, the query's words (folded matches too) wrapped in <mark>."""
    folded, _ = query_terms(query)
    return marked(text, term_spans(text, folded))


@dataclass(frozen=True)
class Box:
    """A word's rectangle in page pixels (the page's width_px × height_px)."""

    left: int
    top: int
    width: int
    height: int
    text: str


def hit_boxes(page: PageResult, query: str) -> list[Box]:
    """The boxes of the page's words that are (folded) query terms."""
    folded = set(query_terms(query)[0])
    if not folded:
        return []
    return [
        Box(w.left, w.top, w.width, w.height, w.text)
        for w in page.words
        if any(fold(t) in folded for t in tokens(w.text))
    ]
