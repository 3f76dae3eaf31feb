"""The header readers of a first page: organ block, `Số:` line (number and notation), place
and date, the type title and the subject under it (ND30 layout: `pipeline.layout`; the text
rules: `pipeline.metadata_rules`)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline import metadata_rules as rules
from pipeline.extracted import Extracted
from pipeline.layout import (
    COLUMN_GAP_HEIGHTS,
    REPAIRED_WORD_CONFIDENCE,
    PageLines,
    Segment,
    confidence_of,
    words_in_span,
)
from pipeline.lexicon import WordPairs
from pipeline.strokes import COUNTED_CONFIDENCE
from schemas.models import Word
from schemas.text import fold, nfc

CONFIRMED_CODE = 0.9  # số/ký hiệu whose structure the type line or V/v line confirms
REPAIRED_CODE = 0.8  # ký hiệu whose type abbreviation was put right from the title line
GUESSED_DATE_CAP = 0.5  # a date with a digit guessed from a mark (`metadata_dates`)
UNFINISHED_SUBJECT_CAP = 0.6  # a subject ending in `quý`, `của`, `và`: a line was lost
ROMAN_NUMERAL_CAP = 0.8  # subjects with a roman numeral ("quý III") are always looked at
HEADER_ZONE = 0.4  # fraction of the page height the ND30 header stays within
SUBJECT_MAX_WIDTH = 0.62  # fraction of the page width: ND30 sets the subject within 80 % of
# the text block; a wider line is body text
SUBJECT_BLOCK_SHARE = 0.86  # ... or within this share of the text block as the page prints it
# (narrow margins make the block, and the 80 % subject, wider than the page share allows)
DATE_LINE_MAX_WIDTH = 0.55  # fraction of the page width: a header's date line is a column's
SUBJECT_LINE_GAP = 0.8  # blank space between two subject lines, at most, in line heights
SAME_BLOCK_PITCH = 2.0  # consecutive lines of one block: top-to-top ≤ this × line height
# ... or ≤ this × the page's own line pitch (its body text, measured): a page set with wider
# line spacing than the corpus's keeps a two-line subject together; the space under the
# subject (its rule and a blank line) is ≥ 1.5 pitches (pages2, tuning seed).
SAME_BLOCK_PAGE_PITCH = 1.3
PITCH_MIN_LINES = 5  # line steps needed to measure a page's pitch


@dataclass(frozen=True)
class Header:
    organ_lines: tuple[Segment, ...]
    code: Segment | None
    dated: Segment | None
    vv_lines: tuple[Segment, ...]
    bottom: float  # lowest y of the header (Số / date row or the V/v lines)
    parent_lines: tuple[Segment, ...] = ()  # a parent organ printed in mixed case, over them


def find_header(lines: PageLines) -> Header | None:
    """The ND30 header of a first page: organ block, Số line, date line, V/v lines."""
    zone = [s for s in lines.segments if s.top < HEADER_ZONE * lines.height]
    national = next((s for s in zone if rules.is_national_title(s.text)), None)
    code = next((s for s in zone if lines.left(s) and rules.parse_code_line(s.text)), None)
    dated = _date_line(lines, zone)
    anchors = [s for s in (code, dated) if s is not None]
    if not anchors:
        return _header_by_title(lines, zone, national) if national is not None else None
    # the organ block ends above the Số line (the date, in the other column, may stand higher)
    row_top = anchors[0].top  # the Số line when there is one
    above = [
        _rejoined(lines, zone, s)
        for s in zone
        if lines.left(s)
        # the line's own height, not its lowest box: a skewed scan (pages2 heavy) hangs the
        # organ's last line's end below the Số line's top
        and s.top + s.height <= row_top + 0.2 * s.height
        and s is not code
        and not _title_or_motto(s)
    ]
    organ_lines = tuple(s for s in above if rules.is_caps_title(s.text, tolerance=0.2))
    parent_lines = _mixed_case_parent(lines, above, organ_lines)
    vv_lines = _vv_lines(lines, zone, code)
    bottom = max([s.bottom for s in (*anchors, *vv_lines)])
    return Header(organ_lines, code, dated, vv_lines, bottom, parent_lines)


def _header_by_title(lines: PageLines, zone: list[Segment], national: Segment) -> Header | None:
    """The organ block when OCR read neither the Số line nor the date line (pages2: both lost
    to a faint print): the left column's lines from the one level with the national title
    down, each a line's pitch from the last — a mixed-case parent line first, then capitals."""
    left = sorted(
        (_rejoined(lines, zone, s) for s in zone if lines.left(s) and not _title_or_motto(s)),
        key=lambda s: s.top,
    )
    first = next((i for i, s in enumerate(left) if s.top <= national.bottom), None)
    if first is None:
        return None
    block = [left[first]]
    pitch = line_pitch(lines)
    for seg in left[first + 1 :]:
        by_height = SAME_BLOCK_PITCH * max(seg.height, block[-1].height)
        if not _same_block(block[-1], seg, by_height, pitch):
            break
        if not rules.is_caps_title(seg.text, tolerance=0.2):
            break
        block.append(seg)
    organ_lines = tuple(s for s in block if rules.is_caps_title(s.text, tolerance=0.2))
    if not organ_lines:
        return None
    parent_lines = _mixed_case_parent(lines, block, organ_lines)
    if len(parent_lines) + len(organ_lines) < len(block):
        return None  # a mixed-case line that opens no organ: no header of ours
    return Header(organ_lines, None, None, (), max(s.bottom for s in block), parent_lines)


def _title_or_motto(seg: Segment) -> bool:
    return rules.is_national_title(seg.text) or rules.is_motto(seg.text)


def _rejoined(lines: PageLines, zone: list[Segment], seg: Segment) -> Segment:
    """An organ line the layout cut at the column boundary, whole again: the capitals right
    after it on its row, less than a column gap away, that are neither the national title nor
    the motto (a one-column header, `ỦY BAN NHÂN DÂN PHƯỜNG` | `NINH KIỀU`: nothing stands in
    the right column on that row)."""
    for other in zone:
        gap = other.left - seg.right
        if (
            other is not seg
            and not lines.left(other)
            and 0 <= gap <= COLUMN_GAP_HEIGHTS * seg.height
            and abs(other.centre_y - seg.centre_y) <= 0.5 * seg.height
            and rules.is_caps_title(seg.text, tolerance=0.2)
            and rules.is_caps_title(other.text, tolerance=0.2)
            and not _title_or_motto(other)
        ):
            return Segment((*seg.words, *other.words))
    return seg


def _date_line(lines: PageLines, zone: list[Segment]) -> Segment | None:
    """The header's place-and-date line: right of the left column, no wider than a header
    column (a body line that holds a date — `Đến hết ngày 04/06/2024`, a biên bản's `Hôm nay, …
    ngày 13 tháng 03 năm 2023` — spans the text block), above the type title; the long form
    (`ngày … tháng … năm …`) before a short one, a day or month read as letters included."""
    title = next((s for s in zone if lines.centred(s) and _is_type_title(s.text)), None)
    found = [
        s
        for s in zone
        if not lines.left(s)
        and s.right - s.left <= DATE_LINE_MAX_WIDTH * lines.width
        and (title is None or s.top < title.top)
        and rules.is_date_line(s.text)  # a day read `T8` still marks the line (`date_parts`)
    ]
    return min(found, key=lambda s: ("th" not in fold(s.text), s.top), default=None)


def _is_type_title(text: str) -> bool:
    return rules.is_caps_title(text) and rules.type_from_line(text) is not None


def _mixed_case_parent(
    lines: PageLines, above: list[Segment], organ: tuple[Segment, ...]
) -> tuple[Segment, ...]:
    """The parent organ printed in mixed case (`Ủy ban nhân dân tỉnh Lào` / `Cai`) over the
    organ's capitals: the lines right above the first capital line, each a line's pitch from
    the next, the first of them starting as an organ name does."""
    if not organ:
        return ()
    found: list[Segment] = []
    below = organ[0]
    pitch = line_pitch(lines)
    # A line's own height, not its lowest box: a speck or a descending mark under the line
    # (pages2, `Ủy ban nhân dân thành phố Hà Tĩnh`) must not put it level with the organ's.
    ends_above = [s for s in above if s.top + s.height <= below.top + 0.3 * s.height]
    for seg in sorted(ends_above, key=_top_desc):
        by_height = SAME_BLOCK_PITCH * max(seg.height, below.height)
        if not _same_block(seg, below, by_height, pitch) or (
            rules.is_caps_title(seg.text, tolerance=0.2)
        ):
            break
        if not re.fullmatch(r"[^\W\d_][\w\s,.-]*", rules.squash(seg.text)):
            break
        found.insert(0, seg)
        below = seg
    if found and not _starts_organ(found[0].text):
        return ()
    return tuple(found)


def _top_desc(seg: Segment) -> float:
    return -seg.top


def _starts_organ(text: str) -> bool:
    folded = fold(text)
    heads = (*_ORGAN_HEADS, *_ADMIN_UNITS, "ubnd", "hdnd")
    return any(folded == h or folded.startswith(h + " ") for h in heads)


def _vv_lines(lines: PageLines, zone: list[Segment], code: Segment | None) -> tuple[Segment, ...]:
    if code is None:
        return ()
    # in the left column, or (one-column header) starting where the Số line starts
    below = [
        s
        for s in zone
        if (lines.left(s) or s.left <= code.left + code.height)
        and s.top > code.top + 0.5 * code.height
    ]
    if not below or rules.vv_subject(below[0].text) is None:
        return ()
    found = [below[0]]
    pitch = line_pitch(lines)
    for seg in below[1:]:
        if not _same_block(found[-1], seg, SAME_BLOCK_PITCH * found[-1].height, pitch):
            break
        if rules.is_caps_title(seg.text):
            break
        found.append(seg)
    return tuple(found)


def read_organ(header: Header, out: Extracted) -> None:
    lines = [rules.clean_organ_line(s.text) for s in header.organ_lines]
    if not lines:
        return
    if header.parent_lines:  # the parent in mixed case: every capital line is the organ's name
        parent = " ".join(rules.clean_organ_line(s.text) for s in header.parent_lines)
        out.set("organ_parent", parent, confidence_of(header.parent_lines))
        name = rules.respell_organ_words(" ".join(lines))
        out.set("organ_name", name, confidence_of(header.organ_lines))
        return
    parent, name = split_organ_lines(lines)
    conf = confidence_of(header.organ_lines)
    out.set("organ_name", rules.respell_organ_words(name), conf)
    if parent is not None:
        parent_conf = confidence_of(header.organ_lines[: len(lines) - _line_count(name, lines)])
        out.set("organ_parent", rules.respell_organ_words(parent), parent_conf)
    elif name:
        out.set("organ_parent", "", conf, empty_ok=True)


def _line_count(name: str, lines: list[str]) -> int:
    """How many of the last `lines` make up `name`."""
    for k in range(1, len(lines) + 1):
        if " ".join(lines[-k:]) == name:
            return k
    return len(lines) - 1


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
    # the parent ends where a line starts another organ's name rather than continuing one
    # (`SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ` / `TĨNH` / `TRƯỜNG TRUNG HỌC PHỔ` / `THÔNG NGUYỄN DU`)
    for k in range(1, len(lines)):
        if not _continues(lines[k - 1], lines[k]):
            return " ".join(lines[:k]), " ".join(lines[k:])
    if len(lines) >= 3:  # no line starts an organ: the first is the parent, as ND30 sets it
        return lines[0], " ".join(lines[1:])
    return None, " ".join(lines)


def _continues(first: str, second: str) -> bool:
    f1, f2 = fold(first).split(), fold(second)
    if f1 and f1[-1] in _CONNECTORS:
        return True
    if f2 in _ORGAN_HEADS and " " not in f2:
        return True  # `TRƯỜNG`, `VIỆN` alone name no organ: the end of a wrapped name
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
    first, *rest = rules.split_year(notation)[1].split("-")
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
    year, read = rules.split_year(out.get("code_notation"))
    notation = year + "-".join([expected, *read.split("-")[1:]])
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
    conf = _date_confidence(words) * (1.0 if dated.place is not None else 0.85)
    if dated.guessed:  # `0§` read as 08: a value to confirm, never one to trust
        conf = min(conf, GUESSED_DATE_CAP)
    out.set("issued_date", dated.issued, conf)
    if dated.place:
        place = words_in_span(header.dated, 0, len(dated.place))
        out.set("issued_place", dated.place, min(conf, confidence_of([place])))


_DATE_NUMBER = re.compile(r"[0-9OolI|\]/.\-]+")
_ONE_LOOKALIKES = re.compile(r"[lI|\]]")  # a stroke OCR reads for the digit 1, and only for it


def _date_confidence(words: Segment) -> float:
    """0..1: how surely the day, month and year were read. Only the numbers count (ngày,
    tháng, năm are fixed words the rule finds up to slips), each as much as the weakest: one
    wrong digit makes a wrong date. A `1` read as `I`, `l`, `|` or `]` (the stroke of a serif
    font's 1, measured on pages2) is the digit 1 as surely as a repaired word (layout's
    REPAIRED_WORD_CONFIDENCE); an `O`/`o` read for 0 stays as OCR scored it."""
    confs = []
    for word in words.words:
        core = word.text.strip(".,:;")
        if not core or not _DATE_NUMBER.fullmatch(core) or not re.search(r"[0-9lI|\]]", core):
            continue
        digits = _ONE_LOOKALIKES.sub("1", core)
        sure = word.confidence
        if digits != core and re.fullmatch(r"[0-9/.\-]+", digits):
            sure = max(sure, REPAIRED_WORD_CONFIDENCE)
        confs.append(sure)
    return round(min(confs) / 100, 3) if confs else confidence_of([words])


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
            set_subject(out, subject, header.vv_lines, speller, pairs)
        _set_type(out, None, 0.0)
        return
    after = [s for s in lines.below(header.bottom) if lines.centred(s)][:3]
    for i, seg in enumerate(after):
        found = rules.type_from_line(seg.text) if rules.is_caps_title(seg.text) else None
        if found:
            _set_type(out, found[0], confidence_of([seg]) * found[1])
            subject = subject_lines(lines, seg)
            if subject:
                set_subject(out, " ".join(s.text for s in subject), subject, speller, pairs)
            return
        if i == 0 and not rules.is_caps_title(seg.text):
            break
    _set_type(out, None, 0.0)


# `chi` read with a hook over its i (`chỉ`): on the tuning part of pages2 Tesseract makes this
# slip at 93–97 % confidence, and `chỉ trả` is a real pair of words, so no bigram list tells.
# Before these words the hooked reading means nothing in an administrative subject (`chỉ
# tiêu`, a real term, is not listed).
_CHI_BEFORE = re.compile(r"\b([Cc])hỉ(?= (?:cục|trả|phí|nhánh)\b)")


def respell_set_phrases(text: str) -> str:
    """`Phó Chỉ cục trưởng` → `Phó Chi cục trưởng`, `chỉ trả trợ cấp` → `chi trả trợ cấp`."""
    return _CHI_BEFORE.sub(r"\1hi", nfc(text))


_SET_PHRASE_AFTER_CHI = {"cuc", "tra", "phi", "nhanh"}


def _set_phrase_words_sure(segs: Sequence[Segment]) -> list[Segment]:
    """The segments with each `chi` before `cục/trả/phí/nhánh` counted as fairly sure (a
    repaired word): `respell_set_phrases` gives it its one spelling whatever tone OCR read,
    so a low score for its mark (`Chi` at 60 under `Phó Chi cục trưởng`) doubts nothing."""
    words = [w for s in segs for w in s.words]
    sure = {
        id(w)
        for w, nxt in zip(words, words[1:], strict=False)
        if fold(w.text) == "chi" and fold(nxt.text).strip(".,;:") in _SET_PHRASE_AFTER_CHI
    }

    def lifted(w: Word) -> Word:
        if id(w) not in sure or w.confidence >= REPAIRED_WORD_CONFIDENCE:
            return w
        return w.model_copy(update={"confidence": REPAIRED_WORD_CONFIDENCE})

    return [Segment(tuple(lifted(w) for w in s.words)) for s in segs]


def set_subject(
    out: Extracted,
    text: str,
    segs: Sequence[Segment],
    speller: rules.ContextSpeller | None,
    pairs: WordPairs | None,
) -> None:
    text = rules.clean_subject(text)
    scored = _set_phrase_words_sure(segs) if speller is not None else segs
    conf = confidence_of(scored) * (0.5 if rules.has_suspect_token(text) else 1.0)
    if speller is not None:  # OCR text (a text layer is taken as exact)
        text, _ = speller.respell(text)
        if pairs is not None:
            text, _ = pairs.respell(text)
        text = respell_set_phrases(text)
        if rules.has_roman_numeral(text) and not _numerals_counted(segs):
            conf = min(conf, ROMAN_NUMERAL_CAP)  # OCR reads III as II or IHI (measured)
    if rules.ends_unfinished(text):
        conf = min(conf, UNFINISHED_SUBJECT_CAP)
    out.set("subject", text, conf)


def _numerals_counted(segs: Sequence[Segment]) -> bool:
    """Every numeral of the segments has had its strokes counted on the image."""
    numerals = [w for s in segs for w in s.words if rules.has_roman_numeral(w.text)]
    return bool(numerals) and all(w.confidence >= COUNTED_CONFIDENCE for w in numerals)


def subject_lines(lines: PageLines, type_line: Segment) -> list[Segment]:
    """The centred lines right under the type line, up to the first gap wider than a line's
    leading (the rule under the subject and the space after it), a caps line or body text."""
    found: list[Segment] = []
    prev = type_line
    below = [s for s in lines.segments if s.centre_y > type_line.centre_y + 0.5 * type_line.height]
    widest = max(SUBJECT_MAX_WIDTH * lines.width, SUBJECT_BLOCK_SHARE * _text_block_width(lines))
    pitch = line_pitch(lines)
    for seg in sorted(below, key=lambda s: s.centre_y):
        too_wide = seg.right - seg.left > widest
        if not lines.centred(seg) or too_wide:
            break
        if found and rules.is_caps_title(seg.text):
            break
        blank = seg.top - prev.bottom <= SUBJECT_LINE_GAP * max(prev.height, seg.height)
        if found and not (blank or _same_block(prev, seg, 0.0, pitch)):
            break
        found.append(seg)
        prev = seg
    return found


def line_pitch(lines: PageLines) -> float | None:
    """The page's own line pitch: the median top-to-top distance between a line and the next
    one under it in the same column (body text dominates a page); None on a page too short to
    tell. Line spacing differs from organ to organ, so a gap is judged against this."""
    steps = []
    segs = sorted(lines.segments, key=lambda s: s.top)
    for above, seg in zip(segs, segs[1:], strict=False):
        step = seg.top - above.top
        overlap = min(above.right, seg.right) - max(above.left, seg.left)
        narrower = min(seg.right - seg.left, above.right - above.left)
        if step > 0.8 * above.height and overlap > 0.5 * narrower:
            steps.append(step)
    if len(steps) < PITCH_MIN_LINES:
        return None
    return float(statistics.median(steps))


def _same_block(above: Segment, seg: Segment, by_height: float, pitch: float | None) -> bool:
    """`seg` continues the block `above` ends: within `by_height` top to top, or within
    SAME_BLOCK_PAGE_PITCH of the page's line pitch."""
    step = seg.top - above.top
    return step <= by_height or (pitch is not None and step <= SAME_BLOCK_PAGE_PITCH * pitch)


def _text_block_width(lines: PageLines) -> float:
    """The width the page's text spans (its margins vary from organ to organ)."""
    if not lines.segments:
        return 0.0
    return max(s.right for s in lines.segments) - min(s.left for s in lines.segments)


def _set_type(out: Extracted, from_line: str | None, line_conf: float) -> None:
    """Type from its title line, checked against the ký hiệu; Công văn when neither names one."""
    notation = out.get("code_notation") or ""
    abbr = rules.split_year(notation)[1].split("-")[0] if notation else ""
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
