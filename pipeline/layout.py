"""Lines of a page as ND30 lays them out, from OCR word boxes.

An ND30 header is two columns side by side (organ and `Số:` on the left; Quốc hiệu, Tiêu ngữ,
place and date on the right), so plain OCR text interleaves them. Here words are grouped into
lines and lines are cut where a column gap separates them (`Segment`); the readers find each
field in the zone ND30 puts it in. Pure code: no I/O.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from schemas.models import PageResult, Word

REPAIRED_WORD_CONFIDENCE = 85.0
COLUMN_GAP_HEIGHTS = 1.6  # a horizontal gap wider than this many word heights splits a line
COLUMN_BAND = (0.43, 0.50)  # fractions of the page width where the two header columns meet
LEFT_COLUMN_END = 0.47  # fraction of the page width: header/footer left column centres before it
CENTRED_TOLERANCE = 0.06  # fraction of the page width a centred title may be off centre


@dataclass(frozen=True)
class Segment:
    """Words of one line that sit together (a line cut at column gaps). Its words never
    change, so what is derived from them is computed once (the readers ask each segment
    for its edges many times: ~1 ms CPU per page of a born-digital batch, issue 17)."""

    words: tuple[Word, ...]

    @cached_property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @cached_property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @cached_property
    def right(self) -> int:
        return max(w.left + w.width for w in self.words)

    @cached_property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @cached_property
    def bottom(self) -> int:
        return max(w.top + w.height for w in self.words)

    @cached_property
    def centre_x(self) -> float:
        return (self.left + self.right) / 2

    @cached_property
    def centre_y(self) -> float:
        return statistics.median(w.top + w.height / 2 for w in self.words)

    @cached_property
    def height(self) -> float:
        return statistics.median(w.height for w in self.words)


def words_in_span(seg: Segment, start: int, end: int) -> Segment:
    """The words of `seg` that overlap characters start..end of `seg.text`."""
    picked, offset = [], 0
    for word in seg.words:
        if offset < end and offset + len(word.text) > start:
            picked.append(word)
        offset += len(word.text) + 1
    return Segment(tuple(picked)) if picked else seg


def confidence_of(
    segments: Sequence[Segment], repaired: Callable[[str], bool] | None = None
) -> float:
    """0..1 from the OCR confidences of the words: the weakest word counts most. Words a rule
    `repaired` to their only possible form count as fairly sure."""
    confs = [
        max(w.confidence, REPAIRED_WORD_CONFIDENCE)
        if repaired and repaired(w.text)
        else w.confidence
        for s in segments
        for w in s.words
    ]
    if not confs:
        return 0.0
    return round((0.7 * min(confs) + 0.3 * statistics.fmean(confs)) / 100, 3)


@dataclass(frozen=True)
class PageLines:
    """A page's segments in reading order (top to bottom, then left to right)."""

    segments: tuple[Segment, ...]
    width: int
    height: int

    def left(self, seg: Segment) -> bool:
        return seg.centre_x < LEFT_COLUMN_END * self.width

    def centred(self, seg: Segment) -> bool:
        return abs(seg.centre_x - self.width / 2) <= CENTRED_TOLERANCE * self.width

    def below(self, y: float) -> list[Segment]:
        return [s for s in self.segments if s.top > y]


LinesOf = Callable[[PageResult], "PageLines"]


def page_lines(page: PageResult) -> PageLines:
    words = [w for w in page.words if w.text.strip()]
    width = page.width_px or max((w.left + w.width for w in words), default=1)
    height = page.height_px or max((w.top + w.height for w in words), default=1)
    rows = _rows_by_engine(words) if _has_engine_lines(words) else _rows_by_position(words)
    segments = [seg for row in rows for seg in _split_at_gaps(row, width)]
    segments.sort(key=lambda s: (s.top, s.left))
    return PageLines(tuple(segments), width, height)


def _has_engine_lines(words: list[Word]) -> bool:
    return any(w.block or w.line for w in words)


def _rows_by_engine(words: list[Word]) -> list[list[Word]]:
    rows: dict[tuple[int, int], list[Word]] = {}
    for word in words:
        rows.setdefault((word.block, word.line), []).append(word)
    return list(rows.values())


def _rows_by_position(words: list[Word]) -> list[list[Word]]:
    """Text-layer words have no line numbers: group words whose vertical centres agree."""
    rows: list[list[Word]] = []
    centres: list[float] = []  # per row: the sum of its words' vertical centres
    heights: list[list[int]] = []  # per row: its words' heights, sorted (for the median)
    for word in sorted(words, key=lambda w: (w.top + w.height / 2, w.left)):
        cy = word.top + word.height / 2
        if rows:
            n, row_heights = len(rows[-1]), heights[-1]
            row_h = (row_heights[(n - 1) // 2] + row_heights[n // 2]) / 2
            if abs(cy - centres[-1] / n) <= 0.4 * max(row_h, word.height):
                rows[-1].append(word)
                centres[-1] += cy
                bisect.insort(row_heights, word.height)
                continue
        rows.append([word])
        centres.append(cy)
        heights.append([word.height])
    return rows


def _split_at_gaps(row: list[Word], width: int) -> list[Segment]:
    """Cut a line where a gap wider than any justified space separates two columns (or a
    narrower gap sits where ND30 puts the column boundary)."""
    row = sorted(row, key=lambda w: w.left)
    height = statistics.median(w.height for w in row)
    band = (COLUMN_BAND[0] * width, COLUMN_BAND[1] * width)
    segments: list[list[Word]] = [[row[0]]]
    for prev, word in zip(row, row[1:], strict=False):
        gap_from, gap_to = prev.left + prev.width, word.left
        gap = gap_to - gap_from
        at_boundary = gap_from < band[1] and gap_to > band[0]
        if gap > COLUMN_GAP_HEIGHTS * height or (at_boundary and gap > 0.8 * height):
            segments.append([word])
        else:
            segments[-1].append(word)
    return [Segment(tuple(ws)) for ws in segments]
