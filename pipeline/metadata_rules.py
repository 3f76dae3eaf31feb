"""Text rules for Nghị định 30/2020 header and footer lines, tolerant of OCR slips.

Each parser takes the text of one line (or a few joined lines) as OCR or a text layer gave it,
and returns the value as ND30 prints it, or None when the line does not say it clearly.
None is always preferred over a guess: the caller records it as missing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz

from pipeline.lexicon import newer_placement

# The date and signer rules live in their own modules; their names stay importable from here.
from pipeline.metadata_dates import Dated, is_date_line, parse_date_line  # noqa: F401
from pipeline.metadata_names import (  # noqa: F401
    FAMILY_NAMES,
    TITLES,
    Name,
    is_caps_title,
    is_distinct_family_name,
    is_name_syllable,
    known_title,
    name_tones,
    person_name,
    split_competence,
)
from pipeline.metadata_text import DIGIT_SLIPS, similarity, squash  # noqa: F401
from schemas.text import fold, nfc

# --------------------------------------------------------------------------- fixed lines

NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


def is_national_title(text: str) -> bool:
    return similarity(text, NATIONAL_TITLE) >= 0.8


def is_motto(text: str) -> bool:
    return similarity(text, MOTTO) >= 0.8


def is_recipients_label(text: str) -> bool:
    """`Nơi nhận:` (also `Noi nhan`, `Nơi nhân`, a stray dot or a missing colon)."""
    head = re.sub(r"[^a-z]", "", fold(text))[:7]
    return fuzz.ratio(head, "noinhan") >= 80


def is_page_number(text: str) -> bool:
    return re.fullmatch(r"[-–\s]*\d{1,3}[-–\s]*", text) is not None


# --------------------------------------------------------------------------- document types

# Nghị định 30/2020, Phụ lục III: type name -> abbreviation in the ký hiệu.
TYPE_ABBREVIATIONS: dict[str, str] = {
    "Nghị quyết": "NQ",
    "Quyết định": "QĐ",
    "Chỉ thị": "CT",
    "Quy chế": "QC",
    "Quy định": "QyĐ",
    "Thông cáo": "TC",
    "Thông báo": "TB",
    "Hướng dẫn": "HD",
    "Chương trình": "CTr",
    "Kế hoạch": "KH",
    "Phương án": "PA",
    "Đề án": "ĐA",
    "Dự án": "DA",
    "Báo cáo": "BC",
    "Biên bản": "BB",
    "Tờ trình": "TTr",
    "Hợp đồng": "HĐ",
    "Công điện": "CĐ",
    "Bản ghi nhớ": "BGN",
    "Bản thỏa thuận": "BTT",
    "Giấy ủy quyền": "GUQ",
    "Giấy mời": "GM",
    "Giấy giới thiệu": "GGT",
    "Giấy nghỉ phép": "GNP",
    "Phiếu gửi": "PG",
    "Phiếu chuyển": "PC",
    "Phiếu báo": "PB",
}
CONG_VAN = "Công văn"
_TYPE_BY_ABBR = {abbr: name for name, abbr in TYPE_ABBREVIATIONS.items()}
# Abbreviations as OCR may return them (Đ read as D, case lost), when that reading is unique.
_ABBR_BY_FOLD: dict[str, str] = {}
for _abbr in TYPE_ABBREVIATIONS.values():
    _ABBR_BY_FOLD.setdefault(fold(_abbr), _abbr)
for _abbr in ("ĐA", "DA", "HĐ", "HD"):  # ĐA/DA and HĐ/HD differ only by the stroke
    _ABBR_BY_FOLD.pop(fold(_abbr), None)
# Organ abbreviations in ký hiệu whose Đ OCR may lose; D alone there is never meant.
_KNOWN_PARTS = {"hdnd": "HĐND", "ubnd": "UBND", "dang": "ĐẢNG"}
# Legal documents' type abbreviations (Luật Ban hành văn bản quy phạm pháp luật, not ND30's
# list) whose Đ OCR may lose, as the first part of a ký hiệu: `12/2019/ND-CP` is a Nghị định.
_LEGAL_TYPES = {"nd": "NĐ"}


def type_from_line(text: str) -> tuple[str, float] | None:
    """The type name a caps title line states (`QUYẾT ĐỊNH`, `QUYET DINH`), with a match score."""
    best, score = None, 0.0
    for name in TYPE_ABBREVIATIONS:
        s = similarity(text, name)
        if s > score:
            best, score = name, s
    if best is None or score < 0.85:
        return None
    return best, score


def is_abbreviation(part: str) -> bool:
    """An organ or unit abbreviation in a ký hiệu: 2–10 capitals (`UBND`, `SNV`, `VTLTNN`)."""
    return re.fullmatch(r"[A-ZĐƯƠÂĂÔÊ]{2,10}", part) is not None


def abbreviates(abbr: str, organ_name: str) -> bool:
    """Whether `abbr` is the organ's initials, as ký hiệu abbreviate organs: `UBND` (ỦY BAN
    NHÂN DÂN TỈNH …), `STTTT` (SỞ THÔNG TIN VÀ TRUYỀN THÔNG), `VTLTNN` (CỤC VĂN THƯ VÀ …)."""
    initials = "".join(w[0] for w in fold(organ_name).split() if w != "va" and w[0].isalnum())
    folded = fold(abbr)
    return len(folded) >= 2 and folded in initials


def abbreviation_of(type_name: str) -> str | None:
    return TYPE_ABBREVIATIONS.get(type_name)


def type_from_abbreviation(abbr: str) -> str | None:
    return _TYPE_BY_ABBR.get(abbr)


# --------------------------------------------------------------------------- số, ký hiệu

_CODE = re.compile(
    r"^.{0,3}?[s§]\S{0,2}\s*[:;.,]?\s*"  # Số: / Sô: / So; / §ố:, after up to 3 specks
    r"(?P<number>[0-9OolI|Ø]{1,5})\s*(?:[/|]\s*|(?=[A-ZĐ]))"  # the slash may be lost
    # the year a legal document's code carries (`12/2019/NĐ-CP`), its slash read as a stroke
    r"(?:(?P<year>[12][0-9OolI]{3})\s*(?P<slash>[/|lI1]?)\s*(?=[A-ZĐÐ]))?"
    r"(?P<notation>[^\s/][^\s]*(?:\s*-\s*[^\s]+)*)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Code:
    number: str
    notation: str
    clean: bool  # True when nothing had to be repaired
    span: tuple[int, int] = (0, 0)  # where number/notation stand in the squashed line
    raw_number: str = ""  # the number as read, before digit look-alikes were mapped


def parse_code_line(text: str) -> Code | None:
    """`Số: 1452/QĐ-UBND` → Code("1452", "QĐ-UBND"); tolerates `Sô:`, `QD-UBND`, stray dots."""
    text = squash(text)
    match = _CODE.match(text)
    if not match:
        return None
    raw_number = match["number"]
    number = raw_number.translate(DIGIT_SLIPS)
    end_of_number = match.end("number")
    slash = "/" in text[end_of_number : match.start("year" if match["year"] else "notation")]
    notation, repaired = normalise_notation(match["notation"])
    if not number.isdigit() or notation is None:
        return None
    if match["year"]:
        year = match["year"].translate(DIGIT_SLIPS)
        if not year.isdigit() or not 1945 <= int(year) <= 2100:
            return None
        # kept in the notation, so that number/notation print the code as it stands
        notation = f"{year}/{notation}"
        repaired = repaired or year != match["year"] or match["slash"] != "/"
    clean = not repaired and number == raw_number and slash
    span = (match.start("number"), match.end("notation"))
    return Code(number, notation, clean, span, raw_number)


def normalise_notation(raw: str) -> tuple[str | None, bool]:
    """(`QĐ-UBND`, repaired?) from an OCR reading such as `QD - UBND.`; None when unreadable."""
    text = re.sub(r"\s*-+\s*", "-", raw.strip().replace("Ð", "Đ").replace("ð", "đ"))
    text = re.sub(r"^[\W_]+|[\W_]+$", "", text)  # stray dots, quotes, underscores
    parts = [p for p in text.split("-")]
    if not parts or any(not p for p in parts):
        return None, True
    fixed = [_fix_notation_part(p, first=i == 0) for i, p in enumerate(parts)]
    if any(not re.fullmatch(r"[A-ZĐƯƠÂĂÔÊ0-9][A-Za-zĐđƯƠÂĂÔÊ0-9]*", p) for p in fixed):
        return None, True
    result = "-".join(fixed)
    return result, result != raw.strip()


_YEAR_PREFIX = re.compile(r"^(?:19|20)\d\d/")


def split_year(notation: str) -> tuple[str, str]:
    """(`2019/`, `NĐ-CP`) of a legal document's notation `2019/NĐ-CP`; ("", notation) for
    one without a year (`QĐ-UBND`)."""
    match = _YEAR_PREFIX.match(notation)
    return (match[0], notation[match.end() :]) if match else ("", notation)


def _fix_notation_part(part: str, *, first: bool) -> str:
    folded = fold(part)
    if first and folded in _ABBR_BY_FOLD:
        return _ABBR_BY_FOLD[folded]
    if first and folded in _LEGAL_TYPES:
        return _LEGAL_TYPES[folded]
    if folded in _KNOWN_PARTS:
        return _KNOWN_PARTS[folded]
    return part if part in TYPE_ABBREVIATIONS.values() else part.upper()


# --------------------------------------------------------------------------- subject

_VV = re.compile(r"^\s*v\s*[/|l1iI\\]\s*[vy]\b\s*[:.]?\s*", re.IGNORECASE)


def vv_subject(text: str) -> str | None:
    """`V/v triển khai …` (also `V/V`, `Vịv`, `V/y`) → `V/v triển khai …`; None otherwise."""
    text = squash(text)
    match = _VV.match(fold(text[:6]) + text[6:])
    if not match:
        return None
    rest = text[match.end() :].strip()
    return f"V/v {rest}" if rest else None


_VOWEL_RUN = re.compile(r"[aeiouy]+")


def respacings(text: str, limit: int = 16) -> list[str]:
    """`text` and its readings with run-together words split again: a Vietnamese syllable has
    one vowel group, so `ĐẮKHÀ` may be `ĐẮK HÀ` or `ĐẮ KHÀ`, `KONTUM` is `KON TUM` (or
    `KO NTUM`). Only words of two vowel groups are split; at most `limit` readings."""
    readings = [[]]
    for word in text.split():
        groups = list(_VOWEL_RUN.finditer(fold(word)))
        options = [word]
        if len(groups) == 2:
            gap = range(groups[0].end(), groups[1].start() + 1)
            options += [f"{word[:i]} {word[i:]}" for i in gap]
        readings = [[*r, o] for r in readings for o in options][:limit]
    return [" ".join(r) for r in readings]


# Phrases of organ names (not place names), as they are spelled: words of an organ line in
# capitals that fold like one of these phrases and are spelled otherwise are OCR slips (`ỦY BẠN
# NHÂN DÂN`, `THÀNH PHÔ`). Whole phrases, because single words fold alike (PHỐ/PHỔ, ĐỒNG/ĐỘNG,
# PHÒNG/Phong the place); a word printed in the older tone placement (`UỶ`) is kept as printed.
ORGAN_PHRASES = (
    "ỦY BAN NHÂN DÂN",
    "HỘI ĐỒNG NHÂN DÂN",
    "THÀNH PHỐ",
    "THỊ TRẤN",
    "THỊ XÃ",
    "NHÂN DÂN XÃ",
    "NHÂN DÂN TỈNH",
    "NHÂN DÂN HUYỆN",
    "NHÂN DÂN PHƯỜNG",
    "NHÂN DÂN QUẬN",
    "BAN QUẢN LÝ DỰ ÁN",
    "ĐẦU TƯ XÂY DỰNG",
    "TRUNG HỌC PHỔ THÔNG",
    "TRUNG TÂM Y TẾ",
    "CHI CỤC KIỂM LÂM",
    "NÔNG NGHIỆP VÀ MÔI TRƯỜNG",
    "NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN",
    "TÀI NGUYÊN VÀ MÔI TRƯỜNG",
    "GIÁO DỤC VÀ ĐÀO TẠO",
    "LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI",
    "KẾ HOẠCH VÀ ĐẦU TƯ",
    "SỞ Y TẾ",
    "SỞ NỘI VỤ",
    "SỞ TÀI CHÍNH",
    "VĂN PHÒNG",
    "THANH TRA",
    "TƯ PHÁP",
)
_PHRASE_WORDS = [(tuple(fold(w) for w in p.split()), p.split()) for p in ORGAN_PHRASES]


def respell_organ_words(line: str) -> str:
    """An organ line in capitals with the words of its organ-name phrases spelled as they are
    spelled (place names are left as read: the registry knows them)."""
    if not is_caps_title(line, tolerance=0.2):
        return line
    words = line.split()
    folded = [fold(w) for w in words]
    for keys, spelled in _PHRASE_WORDS:
        for i in range(len(words) - len(keys) + 1):
            if tuple(folded[i : i + len(keys)]) != keys:
                continue
            for j, known in enumerate(spelled):
                if newer_placement(words[i + j]) != known:
                    words[i + j] = known
    return " ".join(words)


def clean_organ_line(text: str) -> str:
    """An organ line without the specks OCR reads at its ends (`KON TUM_`, `.SỞ NỘI VỤ`)."""
    text = re.sub(r"(?<=[^\W\d])\.(?=[^\W\d])", " ", squash(text))  # `ỦY.BAN` → `ỦY BAN`
    words = [w for w in text.split() if any(c.isalnum() for c in w)]
    return " ".join(words).strip(" _-.,:;'\"`~|")


def clean_subject(text: str) -> str:
    """The subject without the specks OCR reads as punctuation: at its ends (`-Hành động …`,
    `… năm 2023 .`) and inside (`chất lượng.cán bộ`, `cuộc họp .về`, `_các`, `đo- lường`,
    `tổ chức. bộ máy`: a subject is one phrase, never two sentences)."""
    text = squash(text).replace("_", " ")
    text = re.sub(r"(?<=[^\W\d_])\.(?=[^\W\d_])", " ", text)
    text = re.sub(r"(?<=\s)[.,;:'`~-]+(?=[^\W\d_])", "", text)
    text = re.sub(r"(?<=[^\W\d_])[.-]\s+(?=[a-zà-ỹđ])", " ", text)
    text = re.sub(r"^[\W_]+", "", squash(text))
    return re.sub(r"(?<=\w)[\s.;,:_'`~-]+$", "", text)


_ROMAN = re.compile(r"(?=[IVXL])L?X{0,3}(IX|IV|V?I{0,3})")


def has_roman_numeral(text: str) -> bool:
    """`quý III`, `khóa XV`: numerals OCR reads stroke by stroke (not the `V` of `V/v`)."""
    text = re.sub(r"^V/v\b", "", text)
    return any(_ROMAN.fullmatch(t) for t in re.findall(r"[^\s,;.()/-]+", text))


# Words a subject never ends with: each asks for what follows (`… lưu trữ quý` has lost its
# `III/2025`, pages2 tuning #34). `năm`/`tháng` are left out: `hằng năm` ends subjects.
_UNFINISHED_ENDINGS = frozenset(
    ["quý", "của", "và", "về", "cho", "tại", "với", "các", "những", "trong", "theo", "đối"]
    + ["từ", "đến", "giữa"]
)


def ends_unfinished(text: str) -> bool:
    """The subject's last word asks for more: a line of it was probably lost."""
    words = squash(text).rstrip(" ,;:-").split()
    return bool(words) and words[-1].lower() in _UNFINISHED_ENDINGS


def has_suspect_token(text: str) -> bool:
    """A token OCR typically garbles: roman-numeral look-alikes (`IHI`, `IIH` for `III`)."""
    for token in re.findall(r"[^\s,;.()/-]+", text):
        if re.fullmatch(r"[IVXLHl|]+", token) and not _ROMAN.fullmatch(token):
            return True
    return False


# --------------------------------------------------------------------------- recipients


_FOR_REPORT = re.compile(r"\(b\s*/\s*[cC]?\)")  # "(b/c)", read as "(b/)" or "(b/C)"
_FOR_REPORT_AFTER = re.compile(r"(\(để\s+)b\s*[/íi]\s*[cC]?\)")  # "(để b/c)" read "(để b/)"


def is_for_report_mark(word: str) -> bool:
    return _FOR_REPORT.fullmatch(word.rstrip(";.,")) is not None


_STANDARD_RECIPIENT_WORD = re.compile(r"b\s*/\s*[cC]?\)|\(b\s*/\s*[cC]?\)|V[TI1f]")


def is_standard_recipient_word(word: str) -> bool:
    """A word of the set phrases every list has, which the rules read back to its one form
    whatever OCR made of it: `(b/c)` / `b/c)` of `(để b/c)` (read `b/)`), and the archive's
    `VT` (read `VI`, `V1`, `Vf`: `_archive_item`). Its OCR score says nothing of the list."""
    return _STANDARD_RECIPIENT_WORD.fullmatch(word.rstrip(";.,")) is not None


def is_junk_recipient(item: str) -> bool:
    """An item with no word of three letters (`Ha`, `nu`, `hi Đụ`), or with a mark no
    recipient is written with (`công; 'z`): specks or a torn line read as text."""
    if _STRAY_MARK.search(item):
        return True
    return not any(len(w) >= 3 for w in re.findall(r"[^\W\d_]+", item))


_STRAY_MARK = re.compile(r"[^\w\s()/,.;:%&+\-–]")


def split_recipients(lines: list[str]) -> list[str]:
    """Nơi nhận items (without `- ` and the closing `;`/`.`), joining wrapped lines."""
    items: list[str] = []
    ended = True
    for raw in lines:
        line = _FOR_REPORT.sub("(b/c)", _FOR_REPORT_AFTER.sub(r"\1b/c)", squash(raw)))
        starts = re.match(r"^[-–—•+*]\s*", line)
        if starts:
            line = line[starts.end() :]
        if not line:
            continue
        if starts or ended or not items:
            items.append(line)
        else:
            items[-1] += " " + line
        ended = line.endswith((";", "."))
    items = [_tidy_item(item) for item in items]
    items = [item for item in items if item]
    if items:
        items[-1] = _archive_item(items[-1])
    return items


def _tidy_item(item: str) -> str:
    """An item without the specks OCR reads as punctuation: a `.` or `-` inside a phrase
    (`hành.chính`, `Phục-vụ`), a `:` before it, a comma with no space after (`VT,QLBVR`)."""
    item = _PUNCT_IN_WORDS.sub(" ", item)
    item = re.sub(r",(?=\S)", ", ", item)
    return item.strip(" ;.,:")


_PUNCT_IN_WORDS = re.compile(r"(?<=[^\W\d_])[.\-](?=[^\W\d_A-ZĐ])")


def _archive_item(item: str) -> str:
    """`Lưu: VT, …` ends every Nơi nhận list: repair its label (`Tưu`, `Luu`) and `VT`."""
    match = re.match(r"^\S{2,4}\s*[:;.]\s*(\S+?)(,|$)", item)
    if not match or fuzz.ratio(fold(item[:3]), "luu") < 60:
        return item
    office = "VT" if fold(match[1]) in ("vt", "vi", "v1", "vf") else match[1]
    return f"Lưu: {office}{match[2]}{item[match.end() :]}"


# --------------------------------------------------------------------------- respelling

_LETTERS = re.compile(r"([^\W\d_]+)")


class ContextSpeller:
    """Tone marks OCR got wrong in a short field (`tố chức`, `chuyến đổi số`), put right by how
    the same document spells the same letters between the same neighbours elsewhere.

    On a noisy scan Tesseract trades hỏi for sắc (ả/á, ổ/ố, ể/ế) with high confidence, but it
    does so on a few words among many: the rest of the document, OCRed from other pixels,
    nearly always spells a phrase the way its subject does. Only a spelling the document uses
    at least twice between the same two neighbours, and more often than the field's own
    reading, replaces it; anything less is left as read.
    """

    def __init__(self, text: str) -> None:
        tokens = [t.lower() for t in _LETTERS.findall(nfc(text))]
        pairs = list(zip(tokens, tokens[1:], strict=False))
        triples = list(zip(tokens, tokens[1:], tokens[2:], strict=False))
        self._after = Counter((fold(a), b) for a, b in pairs)  # word b after a folded word
        self._before = Counter((a, fold(b)) for a, b in pairs)  # word a before a folded word
        self._between = Counter((fold(a), b, fold(c)) for a, b, c in triples)
        self._count = Counter(tokens)
        self._spellings: dict[str, set[str]] = {}
        for token in tokens:
            self._spellings.setdefault(fold(token), set()).add(token)

    def support(self, prev: str | None, word: str, nxt: str | None) -> int:
        """How often `word` stands between words folding like `prev` and `nxt` (one side at the
        ends of the field)."""
        if prev and nxt:
            return self._between[(fold(prev), word, fold(nxt))]
        if prev:
            return self._after[(fold(prev), word)]
        return self._before[(word, fold(nxt))] if nxt else 0

    def _one_side(
        self, own: ContextSpeller, prev: str | None, word: str, nxt: str | None, best: str
    ) -> bool:
        """A reading the document never uses elsewhere, against a spelling it uses at least
        three times beside one of the same neighbours (`tố chức` when `tổ chức` is common)."""
        if self._count[word] - own._count[word] > 0:
            return False
        left = self.support(prev, best, None) - own.support(prev, best, None) if prev else 0
        right = self.support(None, best, nxt) - own.support(None, best, nxt) if nxt else 0
        return max(left, right) >= 3

    def spellings(self, word: str) -> set[str]:
        return self._spellings.get(fold(word), set())

    def respell(self, text: str) -> tuple[str, int]:
        """`text` with words respelled by their context here; how many were changed."""
        own = ContextSpeller(text)
        parts = _LETTERS.split(nfc(text))
        words = [parts[i].lower() for i in range(1, len(parts), 2)]
        changed = 0
        for k, word in enumerate(words):
            prev = words[k - 1] if k else None
            nxt = words[k + 1] if k + 1 < len(words) else None

            def elsewhere(spelling: str, prev: str | None = prev, nxt: str | None = nxt) -> int:
                return self.support(prev, spelling, nxt) - own.support(prev, spelling, nxt)

            best = max(self.spellings(word) - {word}, key=elsewhere, default=None)
            if best is None:
                continue
            between = elsewhere(best) >= 2 and elsewhere(best) > elsewhere(word)
            if not between and not self._one_side(own, prev, word, nxt, best):
                continue
            original = parts[2 * k + 1]
            parts[2 * k + 1] = best[0].upper() + best[1:] if original[0].isupper() else best
            words[k] = best
            changed += 1
        return "".join(parts), changed


# --------------------------------------------------------------------------- language

_VIETNAMESE_ONLY = set("ăâđêôơưĂÂĐÊÔƠƯ")


def looks_vietnamese(text: str) -> float:
    """Share of words carrying Vietnamese-only letters or tone marks (0..1)."""
    # Both tests are of single characters (a word's NFD holds a mark iff one of its letters'
    # does), so each distinct character is looked at once, not each time a word holds it: the
    # whole text of every document is read here (~1 ms per page before, issue 17).
    chars = set(text)
    letters = {c for c in chars if c.isalpha()}
    marks = {
        c
        for c in chars
        if c in _VIETNAMESE_ONLY
        or any(unicodedata.combining(d) for d in unicodedata.normalize("NFD", c))
    }
    words = [w for w in text.split() if not letters.isdisjoint(w)]
    if not words:
        return 0.0
    return sum(1 for w in words if not marks.isdisjoint(w)) / len(words)
