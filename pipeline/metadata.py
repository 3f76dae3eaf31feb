"""Administrative metadata of ND30 documents, read from word boxes and page zones.

An ND30 header is two columns side by side (organ and `Số:` on the left; Quốc hiệu, Tiêu ngữ,
place and date on the right), so plain OCR text interleaves them. Here words are grouped into
lines, lines are cut where a column gap separates them (`Segment`), and each field is read from
the zone ND30 puts it in: header columns and the title on the first page, the Nơi nhận list and
the signer block at the foot of the last page. The text rules live in `metadata_rules`.

Every field carries a confidence (0..1) from the OCR confidence of its words and how cleanly
its line parsed. Empty beats wrong: a value that cannot be read stays None; a key field that is
missing or below its threshold sets `needs_review` with a reason. Pure code: no I/O.
"""

from __future__ import annotations

import bisect
import difflib
import statistics
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline import metadata_rules as rules
from pipeline.lexicon import WordPairs
from pipeline.strokes import COUNTED_CONFIDENCE, covers, stroke_shaped
from schemas.models import (
    AdminMetadata,
    Field,
    Organ,
    PageResult,
    PageSource,
    PageStatus,
    Word,
    document_id_key,
)

FindOrgan = Callable[[str, str | None, date | None], Organ | None]

# Key fields and the confidence each needs to pass without review.
KEY_THRESHOLDS: dict[str, float] = {
    "organ_name": 0.75,
    "code_number": 0.75,
    "code_notation": 0.75,
    "issued_date": 0.75,
    "type_name": 0.75,
    "subject": 0.85,  # tone slips (đẩy → đấy) come at 0.80–0.85 (bench/metadata.py)
    "signer_name": 0.85,  # names are an open set: nothing else on the page confirms them
}
REPAIRED_WORD_CONFIDENCE = 85.0
UNKNOWN_ORGAN_CONFIDENCE = 0.7  # organ name the registry (when given) does not know
CONFIRMED_CODE = 0.9  # số/ký hiệu whose structure the type line or V/v line confirms
REPAIRED_CODE = 0.8  # ký hiệu whose type abbreviation was put right from the title line
CONFIRMED_PLACE = 0.9  # place that the organ's name (header or registry) spells
# Other fields are dropped (left empty) below their confidence rather than shown wrong.
KEEP_THRESHOLDS: dict[str, float] = {
    "issued_place": 0.75,
    "recipients": 0.85,
    "signer_competence": 0.7,
    "signer_position": 0.85,
}
KEEP_THRESHOLD = 0.6
# Long free-text fields read from a page the pipeline measured as noisy (`denoised`): on such
# scans OCR swaps tone marks with high confidence (measured: bench/metadata.py, heavy level),
# so they always go to a person.
NOISY_PAGE_FLAG = "denoised"
NOISY_FREE_TEXT_CAP = 0.7
ROMAN_NUMERAL_CAP = 0.8  # subjects with a roman numeral ("quý III") are always looked at
RESPELLED_NAME_CAP = 0.8  # a name with a syllable respelled from the list of name syllables

COLUMN_GAP_HEIGHTS = 1.6  # a horizontal gap wider than this many word heights splits a line
COLUMN_BAND = (0.43, 0.50)  # fractions of the page width where the two header columns meet
LEFT_COLUMN_END = 0.47  # fraction of the page width: header/footer left column centres before it
CENTRED_TOLERANCE = 0.06  # fraction of the page width a centred title may be off centre
HEADER_ZONE = 0.4  # fraction of the page height the ND30 header stays within
SUBJECT_MAX_WIDTH = 0.62  # fraction of the page width: ND30 sets the subject within 80 % of
# the text block; a wider line is body text
SUBJECT_LINE_GAP = 0.8  # blank space between two subject lines, at most, in line heights
SAME_BLOCK_PITCH = 2.0  # consecutive lines of one block: top-to-top ≤ this × line height


# =========================================================================== layout


@dataclass(frozen=True)
class Segment:
    """Words of one line that sit together (a line cut at column gaps)."""

    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.left + w.width for w in self.words)

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.top + w.height for w in self.words)

    @property
    def centre_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def centre_y(self) -> float:
        return statistics.median(w.top + w.height / 2 for w in self.words)

    @property
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


# =========================================================================== fields


@dataclass
class Extracted:
    """Field values with confidences while a document is being read."""

    values: dict[str, Field]
    code_repaired: bool = False  # the số had digits put right (`8Ø` → `80`): never confirmed

    def set(self, name: str, value: Any, confidence: float, *, empty_ok: bool = False) -> None:
        """Record a value; "" only where it is a reading (no parent line, head signs)."""
        if value is None or value == [] or (value == "" and not empty_ok):
            return
        self.values[name] = Field(value=value, confidence=round(min(max(confidence, 0), 1), 3))

    def get(self, name: str) -> Any:
        field = self.values.get(name)
        return field.value if field else None

    def conf(self, name: str) -> float:
        field = self.values.get(name)
        return field.confidence if field else 0.0


@dataclass(frozen=True)
class Header:
    organ_lines: tuple[Segment, ...]
    code: Segment | None
    dated: Segment | None
    vv_lines: tuple[Segment, ...]
    bottom: float  # lowest y of the header (Số / date row or the V/v lines)


def find_header(lines: PageLines) -> Header | None:
    """The ND30 header of a first page: organ block, Số line, date line, V/v lines."""
    zone = [s for s in lines.segments if s.top < HEADER_ZONE * lines.height]
    national = next((s for s in zone if rules.is_national_title(s.text)), None)
    code = next((s for s in zone if lines.left(s) and rules.parse_code_line(s.text)), None)
    dated = next((s for s in zone if not lines.left(s) and rules.parse_date_line(s.text)), None)
    if code is None and dated is None and national is None:
        return None
    anchors = [s for s in (code, dated) if s is not None]
    row_top = min((s.top for s in anchors), default=None)
    if row_top is None:
        return None
    organ_lines = tuple(
        s
        for s in zone
        if lines.left(s)
        and s.bottom <= row_top + 0.2 * s.height
        and s is not code
        and not rules.is_national_title(s.text)
        and not rules.is_motto(s.text)
        and rules.is_caps_title(s.text, tolerance=0.2)
    )
    vv_lines = _vv_lines(lines, zone, code)
    bottom = max([s.bottom for s in (*anchors, *vv_lines)])
    return Header(organ_lines, code, dated, vv_lines, bottom)


def _vv_lines(lines: PageLines, zone: list[Segment], code: Segment | None) -> tuple[Segment, ...]:
    if code is None:
        return ()
    below = [s for s in zone if lines.left(s) and s.top > code.top + 0.5 * code.height]
    if not below or rules.vv_subject(below[0].text) is None:
        return ()
    found = [below[0]]
    for seg in below[1:]:
        if seg.top - found[-1].top > SAME_BLOCK_PITCH * found[-1].height:
            break
        if rules.is_caps_title(seg.text):
            break
        found.append(seg)
    return tuple(found)


def read_organ(header: Header, out: Extracted) -> None:
    lines = [rules.clean_organ_line(s.text) for s in header.organ_lines]
    if not lines:
        return
    parent, name = split_organ_lines(lines)
    conf = confidence_of(header.organ_lines)
    out.set("organ_name", name, conf)
    if parent is not None:
        out.set("organ_parent", parent, confidence_of(header.organ_lines[:1]))
    elif name:
        out.set("organ_parent", "", conf, empty_ok=True)


_ORGAN_HEADS = (
    "so",
    "phong",
    "cuc",
    "chi cuc",
    "tong cuc",
    "uy ban",
    "hoi dong",
    "bo",
    "van phong",
    "ban",
    "trung tam",
    "vu",
    "thanh tra",
    "vien",
    "truong",
    "benh vien",
    "kho bac",
    "cong an",
)
_ADMIN_UNITS = ("tinh", "huyen", "xa", "phuong", "thi tran", "thanh pho", "quan", "thi xa")
_CONNECTORS = ("va", "cua", "ve", "-", ",")


def split_organ_lines(lines: list[str]) -> tuple[str | None, str]:
    """(parent line or None, issuing organ as one line) from the organ block's lines.

    A first line is the parent when it is followed by the start of another organ name
    (`UBND TỈNH KON TUM` / `SỞ NỘI VỤ`); it is the first half of the organ's own name when the
    next line continues it (`ỦY BAN NHÂN DÂN` / `TỈNH KON TUM`, `BỘ THÔNG TIN VÀ` / `TRUYỀN THÔNG`).
    """
    if len(lines) == 1:
        return None, lines[0]
    if len(lines) >= 3:
        return lines[0], " ".join(lines[1:])
    first, second = lines
    if _continues(first, second):
        return None, f"{first} {second}"
    return first, second


def _continues(first: str, second: str) -> bool:
    f1, f2 = rules.fold(first).split(), rules.fold(second)
    if f1 and f1[-1] in _CONNECTORS:
        return True
    if any(f2 == u or f2.startswith(u + " ") for u in _ADMIN_UNITS):
        return True
    starts_organ = any(f2 == h or f2.startswith(h + " ") for h in _ORGAN_HEADS)
    return not starts_organ


def read_code(header: Header, out: Extracted) -> None:
    if header.code is None:
        return
    code = rules.parse_code_line(header.code.text)
    if code is None:
        return
    words = words_in_span(header.code, *code.span)
    conf = confidence_of([words]) * (1.0 if code.clean else 0.85)
    out.code_repaired = code.number != code.raw_number
    out.set("code_number", code.number, conf)
    out.set("code_notation", code.notation, conf)


def confirm_code(out: Extracted) -> None:
    """Tesseract scores long tokens such as `53/QĐ-UBND` low even when every character is right,
    so a ký hiệu whose structure the rest of the page confirms is trusted on that evidence: its
    type abbreviation names the type the title line states, or (công văn) it has none and the
    subject is a `V/v` line; its organ part is the initials of the organ read in the header;
    every other part an abbreviation. A số with repaired digits is never confirmed."""
    notation, number = out.get("code_notation"), out.get("code_number")
    if not notation or not number or len(number) > 4 or out.code_repaired:
        return
    first, *rest = notation.split("-")
    if not rest or not all(rules.is_abbreviation(p) for p in rest):
        return
    type_name, subject = out.get("type_name"), out.get("subject") or ""
    read = first
    first = _repair_type_abbreviation(out, first, type_name)
    from_abbr = rules.type_from_abbreviation(first)
    organ_part = first if from_abbr is None else rest[0]
    if not rules.abbreviates(organ_part, out.get("organ_name") or ""):
        return  # the organ part reads as no abbreviation of the organ: left to its OCR score
    if from_abbr is not None and from_abbr == type_name and out.conf("type_name") >= 0.8:
        confirmed = CONFIRMED_CODE
    elif from_abbr is None and type_name == rules.CONG_VAN and rules.is_abbreviation(first):
        confirmed = CONFIRMED_CODE if subject.startswith("V/v") else 0.0
    else:
        return
    for name in ("code_number", "code_notation"):
        ceiling = REPAIRED_CODE if read != first else 1.0
        out.set(name, out.get(name), min(max(out.conf(name), confirmed), ceiling))


def _repair_type_abbreviation(out: Extracted, first: str, type_name: str | None) -> str:
    """`TIr-UBND` under a `TỜ TRÌNH` title is `TTr-UBND`: the title line, read apart, names the
    type, and ND30 gives each type one abbreviation. Only a same-length near miss is repaired."""
    expected = rules.abbreviation_of(type_name) if type_name else None
    if (
        expected is None
        or first == expected
        or rules.type_from_abbreviation(first) is not None
        or len(first) != len(expected)
        or rules.similarity(first, expected) < 0.6
        or out.conf("type_name") < 0.8
    ):
        return first
    notation = "-".join([expected, *out.get("code_notation").split("-")[1:]])
    conf = min(out.conf("code_notation"), REPAIRED_CODE)
    out.set("code_notation", notation, conf)
    return expected


def read_date(header: Header, out: Extracted) -> None:
    if header.dated is None:
        return
    dated = rules.parse_date_line(header.dated.text)
    if dated is None:
        return
    words = words_in_span(header.dated, *dated.span)
    conf = confidence_of([words]) * (1.0 if dated.clean else 0.85)
    out.set("issued_date", dated.issued, conf)
    if dated.place:
        place = words_in_span(header.dated, 0, len(dated.place))
        out.set("issued_place", dated.place, min(conf, confidence_of([place])))


def read_title(
    lines: PageLines,
    header: Header,
    out: Extracted,
    speller: rules.ContextSpeller | None,
    pairs: WordPairs | None = None,
) -> None:
    """Type name (caps line under the header) and subject (the centred lines under it)."""
    if header.vv_lines:
        subject = rules.vv_subject(" ".join(s.text for s in header.vv_lines))
        if subject:
            _set_subject(out, subject, header.vv_lines, speller, pairs)
        _set_type(out, None, 0.0)
        return
    after = [s for s in lines.below(header.bottom) if lines.centred(s)][:3]
    for i, seg in enumerate(after):
        found = rules.type_from_line(seg.text) if rules.is_caps_title(seg.text) else None
        if found:
            _set_type(out, found[0], confidence_of([seg]) * found[1])
            subject = _subject_lines(lines, seg)
            if subject:
                _set_subject(out, " ".join(s.text for s in subject), subject, speller, pairs)
            return
        if i == 0 and not rules.is_caps_title(seg.text):
            break
    _set_type(out, None, 0.0)


def _set_subject(
    out: Extracted,
    text: str,
    segs: Sequence[Segment],
    speller: rules.ContextSpeller | None,
    pairs: WordPairs | None,
) -> None:
    text = rules.clean_subject(text)
    conf = confidence_of(segs) * (0.5 if rules.has_suspect_token(text) else 1.0)
    if speller is not None:  # OCR text (a text layer is taken as exact)
        text, _ = speller.respell(text)
        if pairs is not None:
            text, _ = pairs.respell(text)
        if rules.has_roman_numeral(text) and not _numerals_counted(segs):
            conf = min(conf, ROMAN_NUMERAL_CAP)  # OCR reads III as II or IHI (measured)
    out.set("subject", text, conf)


def _numerals_counted(segs: Sequence[Segment]) -> bool:
    """Every numeral of the segments has had its strokes counted on the image."""
    numerals = [w for s in segs for w in s.words if rules.has_roman_numeral(w.text)]
    return bool(numerals) and all(w.confidence >= COUNTED_CONFIDENCE for w in numerals)


def _subject_lines(lines: PageLines, type_line: Segment) -> list[Segment]:
    """The centred lines right under the type line, up to the first gap wider than a line's
    leading (the rule under the subject and the space after it), a caps line or body text."""
    found: list[Segment] = []
    prev = type_line
    below = [s for s in lines.segments if s.centre_y > type_line.centre_y + 0.5 * type_line.height]
    for seg in sorted(below, key=lambda s: s.centre_y):
        too_wide = seg.right - seg.left > SUBJECT_MAX_WIDTH * lines.width
        if not lines.centred(seg) or too_wide:
            break
        if found and (
            seg.top - prev.bottom > SUBJECT_LINE_GAP * max(prev.height, seg.height)
            or rules.is_caps_title(seg.text)
        ):
            break
        found.append(seg)
        prev = seg
    return found


def _set_type(out: Extracted, from_line: str | None, line_conf: float) -> None:
    """Type from its title line, checked against the ký hiệu; Công văn when neither names one."""
    notation = out.get("code_notation") or ""
    abbr = notation.split("-")[0] if notation else ""
    from_abbr = rules.type_from_abbreviation(abbr)
    code_conf = out.conf("code_notation")
    if from_line and from_abbr:
        if from_line == from_abbr:
            out.set("type_name", from_line, max(line_conf, code_conf))
        else:
            out.set("type_name", from_line, min(line_conf, 0.5))
    elif from_line:
        out.set("type_name", from_line, line_conf * 0.9)
    elif from_abbr:
        out.set("type_name", from_abbr, code_conf * 0.9)
    elif str(out.get("subject") or "").startswith("V/v"):  # only a công văn has a V/v line
        out.set("type_name", rules.CONG_VAN, max(out.conf("subject"), code_conf))


# --------------------------------------------------------------------------- footer


@dataclass(frozen=True)
class Footer:
    label: Segment | None
    recipients: tuple[Segment, ...]
    signer: tuple[Segment, ...]


def find_footer(lines: PageLines) -> Footer | None:
    label = next(
        (s for s in lines.segments if lines.left(s) and rules.is_recipients_label(s.text)), None
    )
    if label is None:
        return _signer_without_label(lines)
    recipients: list[Segment] = []
    for seg in lines.below(label.top + 0.5 * label.height):
        if not lines.left(seg):
            continue
        if recipients and seg.top - recipients[-1].top > 3 * recipients[-1].height:
            break
        recipients.append(seg)
    signer = [
        s for s in lines.segments if not lines.left(s) and s.top >= label.top - 2.5 * label.height
    ]
    return Footer(label, tuple(recipients), tuple(signer))


def _signer_without_label(lines: PageLines) -> Footer | None:
    """No `Nơi nhận` was read: the signer block is the right-column competence or title line
    in the lower part of the page and what follows it."""
    titles = [
        s
        for s in lines.segments
        if not lines.left(s)
        and s.top > 0.25 * lines.height
        and (rules.split_competence(s.text) or rules.known_title(s.text))
    ]
    if not titles:
        return None
    competence = [s for s in titles if rules.split_competence(s.text)]
    start = competence[-1] if competence else titles[0]
    block = [s for s in lines.segments if not lines.left(s) and s.top >= start.top]
    return Footer(None, (), tuple(block))


def read_recipients(footer: Footer, out: Extracted, pairs: WordPairs | None = None) -> None:
    """The Nơi nhận list; with `pairs` (OCR text), tone slips set right item by item."""
    items = rules.split_recipients([s.text for s in footer.recipients])
    if pairs is not None:
        items = [pairs.respell(item)[0] for item in items]
    if items:
        # ND30 lists always end with the archive copy, and a lost line leaves a gap
        complete = items[-1].startswith("Lưu:") and not _line_missing(footer)
        conf = confidence_of(footer.recipients, rules.is_for_report_mark)
        out.set("recipients", items, conf * (1 if complete else 0.5))


def _line_missing(footer: Footer) -> bool:
    """A step between the Nơi nhận lines much longer than their usual pitch."""
    tops = [s.top for s in ((footer.label,) if footer.label else ()) + footer.recipients]
    steps = [b - a for a, b in zip(tops, tops[1:], strict=False)]
    return len(steps) >= 2 and max(steps) > 1.6 * statistics.median(steps)


def read_signer(footer: Footer, out: Extracted) -> None:
    segs = list(footer.signer)
    name_seg = next((s for s in reversed(segs) if rules.person_name(s.text)), None)
    if name_seg is None:
        return
    name = rules.person_name(name_seg.text)
    assert name is not None
    doubt = (1 if name.known_family else 0.6) * (1 if name.known_given else 0.8)
    conf = confidence_of([name_seg]) * doubt
    out.set("signer_name", name.text, min(conf, RESPELLED_NAME_CAP) if name.respelled else conf)
    titles = [s for s in segs if s.top < name_seg.top and rules.is_caps_title(s.text)]
    if not titles:
        return
    first = rules.split_competence(titles[0].text)
    if first is None:
        out.set("signer_competence", "", confidence_of(titles[:1]), empty_ok=True)
        out.set("signer_position", *_title(titles))
        return
    prefix, title = first
    known = rules.known_title(title)
    competence_conf = confidence_of(titles[:1])
    if known:
        title, competence_conf = known, max(competence_conf, 0.9)
    out.set("signer_competence", f"{prefix} {title}", competence_conf)
    if titles[1:]:
        out.set("signer_position", *_title(titles[1:]))
    else:
        out.set("signer_position", "", competence_conf, empty_ok=True)


def _title(segs: Sequence[Segment]) -> tuple[str, float]:
    """A signer title line (or lines) as printed, with its confidence; known titles respelled."""
    text = rules.squash(" ".join(s.text for s in segs))
    known = rules.known_title(text)
    if known:
        return known, max(confidence_of(segs), 0.9)
    return text, confidence_of(segs)


# =========================================================================== key-field zones

ZONE_MARGIN = 0.8  # line heights of margin round a zone box
SIGNER_ZONE_DEPTH = 14  # line heights under the signer's title where a dropped name line sits


def key_zone_boxes(page: PageResult) -> dict[str, tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) of the zones that carry the subject and the signer, found
    from a page's OCR words: the pipeline reads them a second time, upscaled (`PageResult.zones`).
    A page without an ND30 header has no subject zone; one without a signer block no signer."""
    lines = page_lines(page)
    boxes: dict[str, tuple[int, int, int, int]] = {}
    header = find_header(lines)
    if header is not None:
        subject = _subject_zone(lines, header)
        if subject:
            boxes["subject"] = _box(lines, subject, depth=0.0)
    footer = find_footer(lines)
    if footer is not None and footer.signer:
        boxes["signer"] = _box(lines, footer.signer, depth=SIGNER_ZONE_DEPTH)
    return boxes


def _subject_zone(lines: PageLines, header: Header) -> list[Segment]:
    if header.vv_lines:
        return list(header.vv_lines)
    after = [s for s in lines.below(header.bottom) if lines.centred(s)][:3]
    for i, seg in enumerate(after):
        if rules.is_caps_title(seg.text) and rules.type_from_line(seg.text):
            return _subject_lines(lines, seg)
        if i == 0 and not rules.is_caps_title(seg.text):
            break
    return []


def _box(lines: PageLines, segs: Sequence[Segment], depth: float) -> tuple[int, int, int, int]:
    height = statistics.median(s.height for s in segs)
    pad = ZONE_MARGIN * height
    bottom = max(max(s.bottom for s in segs) + pad, segs[0].top + depth * height)
    return (
        max(0, round(min(s.left for s in segs) - 2 * pad)),
        max(0, round(min(s.top for s in segs) - pad)),
        min(lines.width, round(max(s.right for s in segs) + 2 * pad)),
        min(lines.height, round(bottom)),
    )


def _zone_lines(
    page: PageResult, name: str, within: tuple[float, float] | None = None
) -> list[Segment]:
    """The lines of a zone's second read, without specks read as punctuation; with `within`
    (top, bottom), only words whose middle lies between (the margin catches bits of the lines
    round the zone)."""
    words = [w for w in page.zones.get(name) or [] if any(c.isalnum() for c in w.text)]
    if within is not None:
        words = [w for w in words if within[0] <= w.top + w.height / 2 <= within[1]]
    if not words:
        return []
    return list(page_lines(page.model_copy(update={"words": words})).segments)


def _vote_subject(
    page: PageResult,
    lines: PageLines,
    header: Header,
    out: Extracted,
    speller: rules.ContextSpeller | None,
    pairs: WordPairs | None,
) -> None:
    """The subject as the second, upscaled read of its zone has it, against the page read."""
    read = _subject_zone(lines, header)
    if not read:
        return
    segs = _zone_lines(page, "subject", (read[0].top, read[-1].bottom))
    if not segs:
        return
    text = " ".join(s.text for s in segs)
    if header.vv_lines:
        text = rules.vv_subject(text) or ""
    if not text:
        return
    zone = Extracted({})
    _set_subject(zone, text, segs, speller, pairs)
    read_value, zone_value = out.get("subject"), zone.get("subject")
    if NOISY_PAGE_FLAG in page.quality_flags and read_value and zone_value:
        merged = hooks_from(read_value, zone_value)
        if merged != read_value:
            ceiling = KEY_THRESHOLDS["subject"] - 0.01
            out.set("subject", merged, min(out.conf("subject"), ceiling))
        return
    _vote(out, zone, "subject")


_ACUTE, _HOOK = "\u0301", "\u0309"


def hooks_from(read: str, zone: str) -> str:
    """`read` with each word that the zone's read spells with a hỏi where `read` has a sắc
    (`tố` / `tổ`, `đấy` / `đẩy`) taken from the zone. On a noisy page the median filter blurs
    the hook into an acute for the page read; the zone is read from the unfiltered page
    (`pipeline.page.zone_image`), and no other difference between the two is trusted."""
    words, others = read.split(), zone.split()
    matcher = difflib.SequenceMatcher(
        None, [rules.fold(w) for w in words], [rules.fold(w) for w in others], autojunk=False
    )
    merged = list(words)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag != "equal":
            continue  # words the two reads disagree on beyond diacritics: the page read's
        for k in range(i2 - i1):
            if _acute_for_hook(words[i1 + k], others[j1 + k]):
                merged[i1 + k] = others[j1 + k]
    return " ".join(merged)


def _acute_for_hook(word: str, other: str) -> bool:
    a, b = unicodedata.normalize("NFD", word), unicodedata.normalize("NFD", other)
    if len(a) != len(b) or a == b:
        return False
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return all(pair == (_ACUTE, _HOOK) for pair in pairs)


def _vote_signer(page: PageResult, out: Extracted) -> None:
    segs = _zone_lines(page, "signer")
    if not segs:
        return
    zone = Extracted({})
    read_signer(Footer(None, (), tuple(segs)), zone)
    _vote(out, zone, "signer_name")


def _vote(out: Extracted, zone: Extracted, name: str) -> None:
    """Two reads of one field: agreeing, the page read as it was; disagreeing, the reading with
    the higher confidence (the zone's on a tie), never above the review threshold; a field only
    the zone read keeps its own confidence."""
    page_value, zone_value = out.get(name), zone.get(name)
    if zone_value is None:
        return
    if page_value is None:
        out.set(name, zone_value, zone.conf(name))
    elif page_value == zone_value:
        return  # one engine twice: its slips agree too (`đấy`), so no surer than the page read
    else:
        value, conf = (
            (zone_value, zone.conf(name))
            if zone.conf(name) >= out.conf(name)
            else (page_value, out.conf(name))
        )
        out.set(name, value, min(conf, KEY_THRESHOLDS[name] - 0.01))


# =========================================================================== organ registry


def read_registry(find_organ: FindOrgan | None, out: Extracted) -> Organ | None:
    name, parent = out.get("organ_name"), out.get("organ_parent")
    if find_organ is None or not name:
        return None
    issued = out.get("issued_date")
    organ = _find_respaced(find_organ, name, parent or None, issued)
    if organ is None:
        # Not in the registry: a new organ, or a misread name. Either way a person looks.
        out.set("organ_name", name, min(out.conf("organ_name"), UNKNOWN_ORGAN_CONFIDENCE))
        return None
    conf = out.conf("organ_name")
    _adopt_registry_form(out, "organ_name", name, organ)
    _check_parent(find_organ, out, organ)
    out.set("organ_id", organ.organ_id, max(conf, 0.9))
    out.set("organ_level", str(organ.level.value), max(conf, 0.9))
    return organ


def confirm_place(out: Extracted, organ: Organ | None) -> None:
    """The place (địa danh) is usually the locality the organ's own name ends with (`ỦY BAN
    NHÂN DÂN XÃ ĐẮK MAR` → `Đắk Mar`; the registry: `Sở Nội vụ tỉnh Kon Tum` → `Kon Tum`).
    A place that reads as such a locality up to diacritics takes that spelling."""
    place = out.get("issued_place")
    if not place:
        return
    names = [organ.name] if organ is not None else []
    names += [n.title() for n in (out.get("organ_name"), out.get("organ_parent")) if n]
    want = rules.fold(place).split()
    for name in names:
        words = name.split()
        folded = [rules.fold(w) for w in words]
        for i in range(len(words) - len(want) + 1):
            if folded[i : i + len(want)] == want:
                spelled = " ".join(words[i : i + len(want)])
                out.set("issued_place", spelled, max(out.conf("issued_place"), CONFIRMED_PLACE))
                return


def _check_parent(find_organ: FindOrgan, out: Extracted, organ: Organ) -> None:
    """The parent line as the registry spells it, when that is what was read."""
    parent = out.get("organ_parent")
    if parent:
        upper = _find_respaced(find_organ, parent, None, out.get("issued_date"))
        if upper is not None and upper.organ_id == organ.parent:
            _adopt_registry_form(out, "organ_parent", parent, upper)


def _find_respaced(
    find_organ: FindOrgan, name: str, parent: str | None, on: date | None
) -> Organ | None:
    """`find_organ`, and when it knows no such organ, the same names with words OCR ran
    together split again (`ĐẮKHÀ`, `KONTUM`, `TINVÀ`): the one organ some split finds."""
    organ = find_organ(name, parent, on)
    if organ is not None:
        return organ
    found = {
        o.organ_id: o
        for n in rules.respacings(name)
        for p in (rules.respacings(parent) if parent else [None])
        if (n, p) != (name, parent) and (o := find_organ(n, p, on)) is not None
    }
    return next(iter(found.values())) if len(found) == 1 else None


def _adopt_registry_form(out: Extracted, field: str, read: str, organ: Organ) -> None:
    """The registry's header form of the name, when it is what was read up to OCR slips
    (diacritics, a lost space: `KONTUM`)."""
    forms = [f for f in (organ.name, *organ.aliases) if f.isupper()]
    for form in forms:
        if rules.fold(form).replace(" ", "") == rules.fold(read).replace(" ", ""):
            out.set(field, form, max(out.conf(field), 0.95))
            return


def read_document_id(out: Extracted) -> None:
    organ_id, issued = out.get("organ_id"), out.get("issued_date")
    number, notation = out.get("code_number"), out.get("code_notation")
    if organ_id and issued and number and notation:
        conf = min(out.conf(k) for k in ("organ_id", "issued_date", "code_number", "code_notation"))
        out.set("document_id", document_id_key(organ_id, issued, number, notation), conf)


# =========================================================================== public API


def extract_metadata(
    pages: list[PageResult],
    *,
    find_organ: FindOrgan | None = None,
    pairs: WordPairs | None = None,
) -> AdminMetadata:
    """Metadata of ONE document from its pages in order (header on the first, signer on the
    last). `find_organ(name, parent, on)` maps the header's organ to the registry; `pairs`
    (lexicon.word_pairs) set right the tone slips of OCR text in the subject and recipients."""
    out = Extracted({})
    readable = [p for p in pages if p.status != PageStatus.skipped and p.words]
    if readable:
        speller = None  # a text layer is exact: nothing to respell
        if readable[0].source != PageSource.text_layer:
            speller = rules.ContextSpeller("\n".join(p.text for p in readable))
        readable[0] = with_counted_numerals(readable[0])
        first = page_lines(readable[0])
        header = find_header(first)
        if header is not None:
            read_organ(header, out)
            read_code(header, out)
            read_date(header, out)
            read_title(first, header, out, speller, pairs)
            confirm_code(out)
            _vote_subject(readable[0], first, header, out, speller, pairs)
            if NOISY_PAGE_FLAG in readable[0].quality_flags:
                _cap(out, "subject", NOISY_FREE_TEXT_CAP)
        for page in reversed(readable):
            footer = find_footer(page_lines(page))
            if footer is not None:
                ocr = page.source != PageSource.text_layer
                read_recipients(footer, out, pairs if ocr else None)
                read_signer(footer, out)
                _vote_signer(page, out)
                break
        organ = read_registry(find_organ, out)
        confirm_place(out, organ)
        read_document_id(out)
    # Blank backs of a duplex scan are skipped pages, not pages of the document.
    out.set("page_amount", sum(p.status != PageStatus.skipped for p in pages) or len(pages), 1.0)
    text = " ".join(p.text for p in readable)
    share = rules.looks_vietnamese(text)
    if share >= 0.2:
        out.set("language", "vi", min(1.0, 0.5 + share))
    return _finish(out)


def with_counted_numerals(page: PageResult) -> PageResult:
    """The page with every numeral of I strokes its reads spelled (`II`, `IHI`) replaced by the
    strokes counted on the image (`zones["numerals"]`, `pipeline.strokes`)."""
    numerals = page.zones.get("numerals")
    if not numerals:
        return page

    def recounted(words: list[Word]) -> list[Word]:
        return [_recounted(w, numerals) for w in words]

    zones = {**page.zones, "subject": recounted(page.zones.get("subject") or [])}
    return page.model_copy(update={"words": recounted(page.words), "zones": zones})


def _recounted(word: Word, numerals: list[Word]) -> Word:
    if not stroke_shaped(word.text):
        return word
    for numeral in numerals:
        if covers(numeral, word):
            return word.model_copy(update={"text": numeral.text, "confidence": numeral.confidence})
    return word


def _cap(out: Extracted, name: str, ceiling: float) -> None:
    if out.get(name) is not None:
        out.set(name, out.get(name), min(out.conf(name), ceiling))


def _finish(out: Extracted) -> AdminMetadata:
    reasons: list[str] = []
    values: dict[str, Field] = {}
    for name, field in out.values.items():
        threshold = KEY_THRESHOLDS.get(name)
        if threshold is None and field.confidence < KEEP_THRESHOLDS.get(name, KEEP_THRESHOLD):
            continue  # empty beats wrong for fields nobody is asked to review
        values[name] = field
    for name, threshold in KEY_THRESHOLDS.items():
        field = values.get(name)
        if field is None:
            reasons.append(f"{name} missing")
        elif field.confidence < threshold:
            reasons.append(f"{name} low confidence {field.confidence:.2f}")
    return AdminMetadata(**values, needs_review=bool(reasons), review_reasons=reasons)


START_ZONE = 0.3  # fraction of the page height a first page's header lies within
RIGHT_COLUMN_START = 0.55  # fraction of the page width: ND30's right header column (Quốc hiệu,
# date) centres after it; an appendix or a form centres its Quốc hiệu or "Kèm theo" line
CONTENT_MIN_WORDS = 3  # a page with fewer readable words (specks, bleed-through) is not one
CONTENT_MIN_CONFIDENCE = 60.0
# Lines that open an appendix page or a form, as folded text starts.
APPENDIX_MARKS = ("phu luc", "mau so", "kem theo", "ban hanh kem theo")


def find_document_starts(pages: list[PageResult]) -> list[int]:
    """1-based numbers of the pages where a new document begins (an ND30 header near the
    top); the first page with text always begins one. Blank pages, backs with specks or
    bleed-through and appendices (`Phụ lục`, forms) never begin one: they stay with the
    document before them."""
    starts: list[int] = []
    for page in pages:
        if not has_content(page):
            continue
        if not starts or is_document_start(page_lines(page)):
            starts.append(page.page_no)
    return starts


def has_content(page: PageResult) -> bool:
    """The page has text: a few words OCR read with some confidence (a blank back with specks
    or bleed-through gives a handful of low-confidence shreds)."""
    if page.status == PageStatus.skipped or not page.words:
        return False
    words = [
        w
        for w in page.words
        if sum(c.isalnum() for c in w.text) >= 2 and w.confidence >= CONTENT_MIN_CONFIDENCE
    ]
    return len(words) >= CONTENT_MIN_WORDS


def is_appendix_mark(text: str) -> bool:
    """`Phụ lục II`, `Mẫu số 01`, `(Kèm theo Quyết định số …)`, `(Ban hành kèm theo …)`."""
    folded = " ".join(rules.fold(text).strip(" ([").split())
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
    if rules.fold(seg.text).lstrip(" -").startswith("kinh gui"):
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
