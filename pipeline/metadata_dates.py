"""Place-and-date lines of ND30 headers (`Kon Tum, ngày 14 tháng 11 năm 2023`), tolerant of
OCR slips: the rules of `metadata_rules` for the issued date and place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pipeline.metadata_text import DIGIT_SLIPS, squash
from schemas.text import fold

# A `§` stands where a stamp's edge or a speck met an 8 (`0§` for 08, tuning part of pages2),
# an `S` where a 5 lost its corner (`năm 201S`, tuning): read as 8 and 5, but only as a guess
# (`Dated.guessed`) that a person confirms or a second read of the line settles.
_GUESSED_DIGITS = str.maketrans({"§": "8", "S": "5", "s": "5"})
_LONG_DATE = re.compile(
    r"ng\S{0,2}y\s*[:.]?\s*(?P<d>[0-9OolI|\]§]{1,2})\s*[.,]?\s*"
    r"th\S{0,2}ng\s*[:.]?\s*(?P<m>[0-9OolI|\]§]{1,2})\s*[.,]?\s*"
    r"n\S{0,2}m\s*[:.]?\s*(?P<y>[0-9OolI|§S]{4})",
    re.IGNORECASE,
)
# The same line with a day or month OCR read as letters (`ngày T8`, `ngày IS`, `tháng 0T`,
# pages2 tuning part: a serif 1 or 8 under a speck): still the place-and-date line, where ND30
# puts it, but that part is unread (`DateParts.unread`) and another read of the line gives it.
_LOOSE_DATE = re.compile(
    r"ng\S{0,2}y\s*[:.]?\s*(?P<d>\S{1,2}?)\s*[.,]?\s*"
    r"th\S{0,2}ng\s*[:.]?\s*(?P<m>\S{1,2}?)\s*[.,]?\s*"
    r"n\S{0,2}m\s*[:.]?\s*(?P<y>[0-9OolI|§S]{4})\b",
    re.IGNORECASE,
)
_DAY_MONTH = re.compile(r"[0-9OolI|\]§]{1,2}", re.IGNORECASE)  # as `_LONG_DATE` reads them
_SHORT_DATE = re.compile(
    r"ng\S{0,2}y\s*[:.]?\s*(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Dated:
    place: str | None
    issued: date
    clean: bool
    span: tuple[int, int] = (0, 0)  # where "ngày … năm …" stands in the squashed line
    guessed: bool = False  # a digit was read from a mark that is no digit's look-alike (`§`)


def is_date_line(text: str) -> bool:
    """A place-and-date line, even with its day or month read as letters (`ngày T8 tháng
    06 năm 2019`): `date_parts` gives the parts it holds."""
    return parse_date_line(text) is not None or _LOOSE_DATE.search(fold(squash(text))) is not None


def parse_date_line(text: str) -> Dated | None:
    """`Kon Tum, ngày 14 tháng 11 năm 2023` → (Kon Tum, 2023-11-14); also `ngày 05/3/2020`,
    `ngay 5 thang 3 nam 2020`. None unless the date exists and the year is plausible."""
    text = squash(text)
    folded = fold(text)
    match = _LONG_DATE.search(folded) or _SHORT_DATE.search(folded)
    if not match:
        return None
    raw = match["d"] + match["m"] + match["y"]
    d, m, y = (match[k].translate(DIGIT_SLIPS).translate(_GUESSED_DIGITS) for k in "dmy")
    try:
        issued = date(int(y), int(m), int(d))
    except ValueError:
        return None
    if not 1945 <= issued.year <= 2100:
        return None
    place = text[: match.start()].strip(" ,.;:-")
    place = place if re.search(r"\w", place) else None
    clean = raw.isdigit() and place is not None
    guessed = raw != raw.translate(_GUESSED_DIGITS)
    return Dated(place, issued, clean, (match.start(), match.end()), guessed)


# ---------------------------------------------------------------- the date's parts, per read

_PARTS = "dmy"
_ONE_STROKES = re.compile(r"[lI|\]i]")  # a serif 1's stroke, read for the digit 1 and only it
STROKE_ONE_CONFIDENCE = 85.0  # as sure as a repaired word (layout.REPAIRED_WORD_CONFIDENCE)


@dataclass(frozen=True)
class DateParts:
    """One read of a date line: each part's value (day, month, year), how surely its digits
    were read (0..100, the weakest word holding it), and whether it was guessed from a mark
    that is no digit's look-alike (`§`, `S`)."""

    values: dict[str, int]
    sure: dict[str, float]
    guessed: frozenset[str]
    place: str | None
    unread: frozenset[str] = frozenset()  # parts read as marked letters (`ló`): no digits seen

    def issued(self, values: dict[str, int] | None = None) -> date | None:
        v = values or self.values
        return plausible_date(v["d"], v["m"], v["y"])


def plausible_date(day: int, month: int, year: int) -> date | None:
    """The date, if the parts can be one of an administrative record: day 1–31 and month 1–12
    as the calendar has them (`30 tháng 02` is no date), year 1945–2100."""
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1945 <= year <= 2100):
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_parts(words: list[tuple[str, float]]) -> DateParts | None:
    """The date of a line given as its words (text, confidence 0..100) with each part's
    certainty: `ngày 2] tháng 10 năm 2017` at 77, 53, 96 → 21 (77), 10 (53), 2017 (96). None
    when the line holds no date or its parts cannot be one (`plausible_date`)."""
    texts = [squash(t) for t, _ in words]
    starts, at = [], 0
    for text in texts:
        starts.append(at)
        at += len(text) + 1
    line = " ".join(texts)
    folded = fold(line)
    match = _LONG_DATE.search(folded) or _SHORT_DATE.search(folded) or _LOOSE_DATE.search(folded)
    if not match:
        return None
    values, sure, guessed, unread = {}, {}, set(), set()
    for part in _PARTS:
        raw = match[part]
        digits = raw.translate(DIGIT_SLIPS).translate(_GUESSED_DIGITS)
        letters = match.re is _LOOSE_DATE and not _DAY_MONTH.fullmatch(raw)
        if letters or not digits.isdigit():  # `T8`, `IS` (an S for 5 or 8): no digits seen
            values[part], sure[part] = 0, 0.0
            unread.add(part)
            continue
        values[part] = int(digits)
        if raw != raw.translate(_GUESSED_DIGITS):
            guessed.add(part)
        lo, hi = match.span(part)
        holding = [i for i, s in enumerate(starts) if s < hi and s + len(texts[i]) > lo]
        sure[part] = min(_digit_sureness(texts[i], words[i][1]) for i in holding)
        if line[lo:hi].lower() != folded[lo:hi]:
            # `ló` for 16 (an upscaled 6 read as a marked o): folding makes it 10, but no
            # digit was seen there; as sure as nothing (the line's other read may have it)
            unread.add(part)
            sure[part] = 0.0
    if not _plausible_parts(values, unread):
        return None
    place = line[: match.start()].strip(" ,.;:-")
    place = place if re.search(r"\w", place) else None
    return DateParts(values, sure, frozenset(guessed), place, frozenset(unread))


def _plausible_parts(values: dict[str, int], unread: set[str]) -> bool:
    """The parts read can be a date's (`plausible_date`); a line with every part unread holds
    none."""
    if unread >= set(_PARTS):
        return False
    if not unread:
        return plausible_date(values["d"], values["m"], values["y"]) is not None
    ranges = {"d": range(1, 32), "m": range(1, 13), "y": range(1945, 2101)}
    return all(values[p] in ranges[p] for p in _PARTS if p not in unread)


def _digit_sureness(text: str, confidence: float) -> float:
    """A word's certainty as a date number: a `1` read as a stroke (`I`, `l`, `|`, `]`) is the
    digit 1 as surely as a repaired word; anything else as OCR scored it."""
    core = text.strip(".,:;")
    if _ONE_STROKES.search(core) and re.fullmatch(r"[0-9/.\-]+", _ONE_STROKES.sub("1", core)):
        return max(confidence, STROKE_ONE_CONFIDENCE)
    return confidence


# ---------------------------------------------------------------- consistency of a date

_NOTATION_YEAR = re.compile(r"(?:^|/)((?:19|20)\d\d)(?=/)")


def notation_year(notation: str | None) -> int | None:
    """The year ND30 puts in a code's notation between slashes (`12/2019/NĐ-CP` → 2019);
    None for a notation without one (`123/QĐ-UBND`)."""
    match = _NOTATION_YEAR.search(notation or "")
    return int(match[1]) if match else None


def in_future(issued: date, today: date) -> bool:
    """A record is not issued after the day it is read: such a date has a digit read wrong."""
    return issued > today
