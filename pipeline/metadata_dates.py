"""Place-and-date lines of ND30 headers (`Kon Tum, ngày 14 tháng 11 năm 2023`), tolerant of
OCR slips: the rules of `metadata_rules` for the issued date and place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pipeline.metadata_text import DIGIT_SLIPS, squash
from schemas.text import fold

# A `§` stands where a stamp's edge or a speck met an 8 (`0§` for 08, tuning part of pages2):
# read as 8, but only as a guess (`Dated.guessed`) that a person confirms.
_GUESSED_DIGITS = str.maketrans({"§": "8"})
_LONG_DATE = re.compile(
    r"ng\S{0,2}y\s*[:.]?\s*(?P<d>[0-9OolI|\]§]{1,2})\s*[.,]?\s*"
    r"th\S{0,2}ng\s*[:.]?\s*(?P<m>[0-9OolI|\]§]{1,2})\s*[.,]?\s*"
    r"n\S{0,2}m\s*[:.]?\s*(?P<y>[0-9OolI|§]{4})",
    re.IGNORECASE,
)
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
