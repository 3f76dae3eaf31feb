"""The place-and-date line read a second time (`Kon Tum, ngày 14 tháng 11 năm 2023`, right of
the Số line under the national motto) when the page read is unsure of a date digit, guessed one
from a mark, or found no date: where the line lies (`date_line_box`), and the vote per part
(day, month, year) between the page read, the line's own read and the year in the code's
notation (`vote_date`). A part two reads agree on is sure; parts they dispute stay flagged.
Pure code: the pipeline reads the box (`pipeline.page.date_zone_words`)."""

from __future__ import annotations

from datetime import date

from pipeline.extracted import Extracted
from pipeline.header import GUESSED_DATE_CAP, Header, find_header
from pipeline.layout import PageLines, Segment, page_lines
from pipeline.metadata_dates import DateParts, date_parts, in_future, notation_year
from pipeline.metadata_rules import is_date_line, is_motto, is_national_title
from schemas.fields import KEEP_THRESHOLDS, KEY_THRESHOLDS
from schemas.models import PageResult, Word
from schemas.text import fold

DATE_ZONE = "date"
DATE_SURE = 90.0  # every date digit read at least this surely: the line is not read again
DATE_LINE_MARGIN = 0.35  # line heights round the date line (the lines over and under it stay out)
UNDER_MOTTO_DEPTH = 7.0  # line heights under the motto where a date line the page read lost is
AGREED_CONFIDENCE = 0.95  # a part two reads of other pixels agree on
NO_PLACE_FACTOR = 0.85  # as `header.read_date`: a date line without its place parsed less cleanly
DOUBT = KEY_THRESHOLDS["issued_date"] - 0.01
# A place read with a doubted date: the lowest confidence a place is kept at (below it the
# field is left empty), under every "sure" mark of the views.
PLACE_UNDER_MOTTO = KEEP_THRESHOLDS["issued_place"]


Box = tuple[int, int, int, int]


def date_line_box(page: PageResult) -> tuple[Box, bool] | None:
    """The box (left, top, right, bottom) of the page's place-and-date line when its second read
    can change the date, and whether it holds that one line: the line as the page read found it
    when a date digit is unsure or guessed (one line); the band under the national motto when
    the page read found no date there (several). None when the date was read surely, or the
    page has no national motto to place the line by."""
    lines = page_lines(page)
    header = find_header(lines)
    dated = _page_date_line(header)
    if dated is not None:
        parts = date_parts([(w.text, w.confidence) for w in dated.words])
        if parts is not None and not parts.guessed and min(parts.sure.values()) >= DATE_SURE:
            return None
        pad = DATE_LINE_MARGIN * dated.height
        box = (
            max(0, round(dated.left - 2 * pad)),
            max(0, round(dated.top - pad)),
            min(lines.width, round(dated.right + 2 * pad)),
            min(lines.height, round(dated.bottom + pad)),
        )
        return box, True
    band = _under_motto(lines)
    return (band, False) if band is not None else None


def _page_date_line(header: Header | None) -> Segment | None:
    return header.dated if header is not None else None


def _under_motto(lines: PageLines) -> Box | None:
    """The right column under the motto (`Độc lập - Tự do - Hạnh phúc`), where ND30 prints the
    place and date: a line a seal's edge or a speck made the page layout drop or misread."""
    top_lines = [s for s in lines.segments if s.top < 0.4 * lines.height]
    motto = next((s for s in top_lines if is_motto(s.text)), None)
    if motto is None:
        return None
    national = next((s for s in top_lines if is_national_title(s.text)), motto)
    left = min(motto.left, national.left) - 2 * motto.height
    return (
        max(0, round(left)),
        round(motto.bottom),
        lines.width,
        min(lines.height, round(motto.bottom + UNDER_MOTTO_DEPTH * motto.height)),
    )


def zone_date(words: list[Word]) -> DateParts | None:
    """The date the line's second read holds: its lines, the long form first."""
    if not words:
        return None
    zone = PageResult(page_no=1, words=[w for w in words if w.text.strip()])
    found = [s for s in page_lines(zone).segments if is_date_line(s.text)]
    found.sort(key=lambda s: ("th" not in fold(s.text), s.top))
    for seg in found:
        parts = date_parts([(w.text, w.confidence) for w in seg.words])
        if parts is not None:
            return parts
    return None


def vote_date(
    page: PageResult, header: Header | None, out: Extracted, today: date | None = None
) -> None:
    """The issued date from every read of it: the page's (`header.read_date` set it), the date
    line's second read (`page.zones["date"]`) and the year in the code's notation; then the
    checks that lower trust (a date after `today`, a notation year that differs)."""
    page_parts = _page_parts(header)
    zone_parts = zone_date(page.zones.get(DATE_ZONE) or [])
    year = notation_year(out.get("code_notation"))
    year_sure = year is not None and out.conf("code_notation") >= KEY_THRESHOLDS["code_notation"]
    page_doubt = page_parts is not None and (year_sure or bool(page_parts.unread))
    if zone_parts is not None or page_doubt:
        _set_voted(out, page_parts, zone_parts, year if year_sure else None)
    issued = out.get("issued_date")
    if issued is None:
        return
    if zone_parts is not None and (header is None or header.dated is None):
        # read in the band under the motto (`date_line_box`): several lines, and a body line's
        # reference (`Căn cứ Luật ... ngày 19 tháng 6 năm 2015`) holds a date as well
        out.cap("issued_date", DOUBT)
        out.notes["issued_date"] = "read only under the motto, the date line not found"
        if out.get("issued_place") is not None and out.get("issued_place") == zone_parts.place:
            # read from the same line as the doubted date: kept, but not shown as sure (the
            # organ's name may still confirm it: reconcile.confirm_place)
            out.cap("issued_place", PLACE_UNDER_MOTTO)
    if year is not None and year != issued.year:
        out.cap("issued_date", DOUBT)
        out.notes["issued_date"] = f"year differs from the code's ({year})"
    if today is not None and in_future(issued, today):
        out.cap("issued_date", DOUBT)
        out.notes["issued_date"] = "after the day it was read"


def _page_parts(header: Header | None) -> DateParts | None:
    if header is None or header.dated is None:
        return None
    return date_parts([(w.text, w.confidence) for w in header.dated.words])


def _set_voted(
    out: Extracted, page: DateParts | None, zone: DateParts | None, year: int | None
) -> None:
    """Each part as the reads that have it vote: agreeing reads (one of them not a guess) make
    it sure; disputing ones give the surer read's value, below the review threshold; a part
    only one read has keeps that read's certainty (a guess stays a guess)."""
    values: dict[str, int] = {}
    confs: list[float] = []
    for part in "dmy":
        reads = [r for r in (page, zone) if r is not None]
        # a part one read saw as a marked letter (`ló`) is the other read's to give
        reads = [r for r in reads if part not in r.unread] or reads
        votes = [(r.values[part], r.sure[part] / 100, part in r.guessed) for r in reads]
        if part == "y" and year is not None:
            votes.append((year, AGREED_CONFIDENCE, False))
        values[part], conf = _vote_part(votes)
        confs.append(conf)
    issued = (page or zone).issued(values) if (page or zone) else None
    if issued is None:
        return
    place_read = page if page is not None else zone
    conf = min(confs) * (1.0 if place_read and place_read.place else NO_PLACE_FACTOR)
    if place_read is not None and place_read.place and out.get("issued_place") is None:
        # the page read's line when the header could not parse it (`ngày T8`), else the zone's
        out.set("issued_place", place_read.place, conf)
    out.set("issued_date", issued, conf)


def _vote_part(votes: list[tuple[int, float, bool]]) -> tuple[int, float]:
    """(value, confidence 0..1) of one part from its reads (value, certainty, guessed)."""
    values = {v for v, _, _ in votes}
    if len(values) == 1:
        value = votes[0][0]
        if len(votes) > 1 and not all(g for _, _, g in votes):
            return value, max(AGREED_CONFIDENCE, *(c for _, c, g in votes if not g))
        sure = max(c for _, c, _ in votes)
        return value, min(sure, GUESSED_DATE_CAP) if votes[0][2] else sure
    value, sure, guessed = max(votes, key=lambda v: (not v[2], v[1]))
    return value, min(sure, GUESSED_DATE_CAP if guessed else DOUBT)
