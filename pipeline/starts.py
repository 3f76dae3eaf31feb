"""Where documents begin in a box scan: an ND30 header near the top of a page (or what is left
of a damaged one); blank backs and appendices stay with the document before them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from pipeline import metadata_rules as rules
from pipeline.layout import LinesOf, PageLines, Segment, page_lines
from schemas.models import PageResult, PageStatus
from schemas.text import fold

START_ZONE = 0.3  # fraction of the page height a first page's header lies within
RIGHT_COLUMN_START = 0.55  # fraction of the page width: ND30's right header column (Quốc hiệu,
# date) centres after it; an appendix or a form centres its Quốc hiệu or "Kèm theo" line
CONTENT_MIN_WORDS = 3  # a page with fewer readable words (specks, bleed-through) is not one
CONTENT_MIN_CONFIDENCE = 60.0
# two characters str.isalnum() takes (\w is isalnum() or "_")
_TWO_ALNUM = re.compile(r"[^\W_].*?[^\W_]", re.DOTALL)
# Lines that open an appendix page or a form, as folded text starts.
APPENDIX_MARKS = ("phu luc", "mau so", "kem theo", "ban hanh kem theo")


def find_document_starts(pages: list[PageResult], lines_of: LinesOf = page_lines) -> list[int]:
    """1-based numbers of the pages where a new document begins (an ND30 header near the
    top); the first page with text always begins one. Blank pages, backs with specks or
    bleed-through and appendices (`Phụ lục`, forms) never begin one: they stay with the
    document before them."""
    return list(iter_document_starts(pages, lines_of))


def iter_document_starts(
    pages: Iterable[PageResult], lines_of: LinesOf = page_lines
) -> Iterator[int]:
    """`find_document_starts`, each start given as soon as its page is read: a caller that
    reads the pages one at a time handles a document when the next one begins."""
    found = False
    for page in pages:
        if not has_content(page):
            continue
        if not found or is_document_start(lines_of(page)):
            found = True
            yield page.page_no


def has_content(page: PageResult) -> bool:
    """The page has text: a few words OCR read with some confidence (a blank back with specks
    or bleed-through gives a handful of low-confidence shreds)."""
    if page.status == PageStatus.skipped or not page.words:
        return False
    found = 0  # stops at the few words needed: every page of a scan is asked (issue 17)
    for w in page.words:
        if w.confidence >= CONTENT_MIN_CONFIDENCE and _TWO_ALNUM.search(w.text):
            found += 1
            if found >= CONTENT_MIN_WORDS:
                return True
    return False


def is_appendix_mark(text: str) -> bool:
    """`Phụ lục II`, `Mẫu số 01`, `(Kèm theo Quyết định số …)`, `(Ban hành kèm theo …)`."""
    folded = " ".join(fold(text).strip(" ([").split())
    return folded.startswith(APPENDIX_MARKS)


def is_document_start(lines: PageLines) -> bool:
    """An ND30 header near the top: two of Quốc hiệu (right column), `Số:` (left column) and
    place and date (right column), `Số:` among them on a page with an appendix mark. When the
    header is damaged (torn, faded, stamped over), and the page has no page number at the top,
    no appendix mark (`Phụ lục`, `Mẫu số`, `Kèm theo …`) and no form's centred Quốc hiệu: the
    Quốc hiệu alone, the organ block over `Số:`, or what only a first page has under its
    header (the type title, `Kính gửi:`)."""
    top = [s for s in lines.segments if s.top < START_ZONE * lines.height]
    if not top:
        return False
    right = RIGHT_COLUMN_START * lines.width
    marked = any(is_appendix_mark(s.text) for s in top)
    titles = [s for s in top if rules.is_national_title(s.text) or rules.is_motto(s.text)]
    national = any(s.centre_x >= right for s in titles)
    form = any(s.centre_x < right for s in titles)  # a form centres its Quốc hiệu
    code = next((s for s in top if lines.left(s) and rules.parse_code_line(s.text)), None)
    dated = any(
        s.centre_x >= right and rules.parse_date_line(s.text) and not is_appendix_mark(s.text)
        for s in top
    )
    numbered = rules.is_page_number(top[0].text) and lines.centred(top[0])
    evidence = national + (code is not None) + dated
    if evidence >= 2 and (code is not None or not marked):
        return True  # (a form may copy Quốc hiệu and date: under an appendix mark, Số counts)
    if marked or numbered or form:
        return False
    if national or (code is not None and _organ_above(lines, top, code)):
        return True
    return any(_first_page_opening(lines, s) for s in top)


def _first_page_opening(lines: PageLines, seg: Segment) -> bool:
    """The type title (`QUYẾT ĐỊNH`, centred caps; not the `QUYẾT ĐỊNH:` over the articles)
    or `Kính gửi:`: ND30 puts them under the header of a first page only."""
    if fold(seg.text).lstrip(" -").startswith("kinh gui"):
        return True
    return (
        lines.centred(seg)
        and rules.is_caps_title(seg.text, tolerance=0.2)
        and not seg.text.rstrip().endswith(":")
        and rules.type_from_line(seg.text) is not None
    )


def _organ_above(lines: PageLines, top: Sequence[Segment], code: Segment) -> bool:
    """An organ name (caps, left column) right above the `Số:` line."""
    return any(
        lines.left(s)
        and s.bottom <= code.top + 0.2 * s.height
        and code.top - s.bottom <= 4 * code.height
        and sum(c.isalpha() for c in s.text) >= 4
        and rules.is_caps_title(s.text, tolerance=0.2)
        and not rules.is_national_title(s.text)
        for s in top
    )
