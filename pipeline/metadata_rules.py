"""Text rules for Nghị định 30/2020 header and footer lines, tolerant of OCR slips.

Each parser takes the text of one line (or a few joined lines) as OCR or a text layer gave it,
and returns the value as ND30 prints it, or None when the line does not say it clearly.
None is always preferred over a guess: the caller records it as missing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

# --------------------------------------------------------------------------- folding


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d), for matching labels OCR may have misread."""
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
    )
    return stripped.replace("đ", "d").replace("Đ", "d").replace("Ð", "d").lower()


def squash(text: str) -> str:
    """NFC, whitespace runs as one space, stripped."""
    return re.sub(r"\s+", " ", nfc(text)).strip()


def similarity(text: str, target: str) -> float:
    """0..1: how closely `text` reads as `target`, ignoring case, diacritics and spacing."""
    a = re.sub(r"[^a-z0-9]", "", fold(text))
    b = re.sub(r"[^a-z0-9]", "", fold(target))
    return fuzz.ratio(a, b) / 100 if a and b else 0.0


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


def type_from_abbreviation(abbr: str) -> str | None:
    return _TYPE_BY_ABBR.get(abbr)


# --------------------------------------------------------------------------- số, ký hiệu

_DIGIT_SLIPS = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "i": "1"})
_CODE = re.compile(
    r"^\s*s\S{0,2}\s*[:;.,]?\s*"  # Số: / Sô: / So; / S6:
    r"(?P<number>[0-9OolI|]{1,5})\s*[/|]\s*"
    r"(?P<notation>[^\s/][^\s]*(?:\s*-\s*[^\s]+)*)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Code:
    number: str
    notation: str
    clean: bool  # True when nothing had to be repaired
    span: tuple[int, int] = (0, 0)  # where number/notation stand in the squashed line


def parse_code_line(text: str) -> Code | None:
    """`Số: 1452/QĐ-UBND` → Code("1452", "QĐ-UBND"); tolerates `Sô:`, `QD-UBND`, stray dots."""
    text = squash(text)
    match = _CODE.match(fold(text[:3]) + text[3:]) if text else None
    if not match:
        return None
    raw_number = match["number"]
    number = raw_number.translate(_DIGIT_SLIPS)
    notation, repaired = normalise_notation(match["notation"])
    if not number.isdigit() or notation is None:
        return None
    clean = not repaired and number == raw_number
    return Code(number, notation, clean, (match.start("number"), match.end("notation")))


def normalise_notation(raw: str) -> tuple[str | None, bool]:
    """(`QĐ-UBND`, repaired?) from an OCR reading such as `QD - UBND.`; None when unreadable."""
    text = re.sub(r"\s*-\s*", "-", raw.strip()).strip(".,;:'\"`")
    parts = [p for p in text.split("-")]
    if not parts or any(not p for p in parts):
        return None, True
    fixed = [_fix_notation_part(p, first=i == 0) for i, p in enumerate(parts)]
    if any(not re.fullmatch(r"[A-ZĐƯƠÂĂÔÊ0-9][A-Za-zĐđƯƠÂĂÔÊ0-9]*", p) for p in fixed):
        return None, True
    result = "-".join(fixed)
    return result, result != raw.strip()


def _fix_notation_part(part: str, *, first: bool) -> str:
    folded = fold(part)
    if first and folded in _ABBR_BY_FOLD:
        return _ABBR_BY_FOLD[folded]
    if folded in _KNOWN_PARTS:
        return _KNOWN_PARTS[folded]
    return part if part in TYPE_ABBREVIATIONS.values() else part.upper()


# --------------------------------------------------------------------------- place and date

_LONG_DATE = re.compile(
    r"ng\S{0,2}y\s*[:.]?\s*(?P<d>[0-9OolI|]{1,2})\s*[.,]?\s*"
    r"th\S{0,2}ng\s*[:.]?\s*(?P<m>[0-9OolI|]{1,2})\s*[.,]?\s*"
    r"n\S{0,2}m\s*[:.]?\s*(?P<y>[0-9OolI|]{4})",
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


def parse_date_line(text: str) -> Dated | None:
    """`Kon Tum, ngày 14 tháng 11 năm 2023` → (Kon Tum, 2023-11-14); also `ngày 05/3/2020`,
    `ngay 5 thang 3 nam 2020`. None unless the date exists and the year is plausible."""
    text = squash(text)
    folded = fold(text)
    match = _LONG_DATE.search(folded) or _SHORT_DATE.search(folded)
    if not match:
        return None
    raw = match["d"] + match["m"] + match["y"]
    d, m, y = (match[k].translate(_DIGIT_SLIPS) for k in ("d", "m", "y"))
    try:
        issued = date(int(y), int(m), int(d))
    except ValueError:
        return None
    if not 1945 <= issued.year <= 2100:
        return None
    place = text[: match.start()].strip(" ,.;:-")
    place = place if re.search(r"\w", place) else None
    clean = raw.isdigit() and place is not None
    return Dated(place, issued, clean, (match.start(), match.end()))


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


def clean_organ_line(text: str) -> str:
    """An organ line without the specks OCR reads at its ends (`KON TUM_`, `.SỞ NỘI VỤ`)."""
    words = [w for w in squash(text).split() if any(c.isalnum() for c in w)]
    return " ".join(words).strip(" _-.,:;'\"`~|")


def clean_subject(text: str) -> str:
    return squash(text).strip(" ;,")


_ROMAN = re.compile(r"(?=[IVXL])L?X{0,3}(IX|IV|V?I{0,3})")


def has_suspect_token(text: str) -> bool:
    """A token OCR typically garbles: roman-numeral look-alikes (`IHI`, `IIH` for `III`)."""
    for token in re.findall(r"[^\s,;.()/-]+", text):
        if re.fullmatch(r"[IVXLHl|]+", token) and not _ROMAN.fullmatch(token):
            return True
    return False


# --------------------------------------------------------------------------- signer

COMPETENCE_PREFIXES = ("TM.", "KT.", "TL.", "TUQ.", "Q.")
_COMPETENCE = re.compile(r"^\s*(TUQ|TM|KT|TL|Q)\s*[.,:;]?\s+(?=\S)", re.IGNORECASE)


def split_competence(text: str) -> tuple[str, str] | None:
    """`KT. GIÁM ĐỐC` → ("KT.", "GIÁM ĐỐC"); also `KT, GIÁM ĐỐC`, `T.M. ỦY BAN…`."""
    text = squash(text).replace("T.M.", "TM.").replace("K.T.", "KT.")
    match = _COMPETENCE.match(text)
    if not match:
        return None
    title = text[match.end() :].strip()
    if not title or not title.replace(" ", "").isupper():
        return None
    return f"{match[1].upper()}.", title


# Titles printed in signer blocks (ND30, Phụ lục I): a caps line that folds to one of these is
# that title, whatever diacritics OCR dropped (`PHÓ CHỦ TICH` → `PHÓ CHỦ TỊCH`).
TITLES = (
    "CHỦ TỊCH",
    "PHÓ CHỦ TỊCH",
    "GIÁM ĐỐC",
    "PHÓ GIÁM ĐỐC",
    "BỘ TRƯỞNG",
    "THỨ TRƯỞNG",
    "CỤC TRƯỞNG",
    "PHÓ CỤC TRƯỞNG",
    "TỔNG CỤC TRƯỞNG",
    "PHÓ TỔNG CỤC TRƯỞNG",
    "VỤ TRƯỞNG",
    "PHÓ VỤ TRƯỞNG",
    "CHI CỤC TRƯỞNG",
    "TRƯỞNG PHÒNG",
    "PHÓ TRƯỞNG PHÒNG",
    "CHÁNH VĂN PHÒNG",
    "PHÓ CHÁNH VĂN PHÒNG",
    "CHÁNH THANH TRA",
    "TRƯỞNG BAN",
    "PHÓ TRƯỞNG BAN",
    "VIỆN TRƯỞNG",
    "HIỆU TRƯỞNG",
    "THỦ TRƯỞNG",
    "TỔNG GIÁM ĐỐC",
    "ỦY BAN NHÂN DÂN",
    "HỘI ĐỒNG NHÂN DÂN",
    "THƯỜNG TRỰC HỘI ĐỒNG NHÂN DÂN",
    "CHÍNH PHỦ",
    "THỦ TƯỚNG",
    "PHÓ THỦ TƯỚNG",
    "BAN THƯỜNG VỤ",
    "BAN CHỈ ĐẠO",
)
_TITLE_BY_FOLD = {" ".join(fold(t).split()): t for t in TITLES}


def known_title(text: str) -> str | None:
    """The signer title `text` reads as, diacritics restored; None when it is not a known one."""
    return _TITLE_BY_FOLD.get(" ".join(re.sub(r"[^\w\s]", " ", fold(text)).split()))


def is_caps_title(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


_NAME_WORD = re.compile(r"[A-ZĐÀ-Ỹ][a-zà-ỹđ]*")


# Vietnamese family names: a closed set. A name whose first word folds to one of these gets
# that spelling (`Định` → `Đinh`); a first word outside the set makes the name doubtful.
_FAMILY_NAMES_TEXT = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trương "
    "Lương Đoàn Trịnh Đào Cao Lâm Hà Tạ Tô Chu Thái Kiều Quách Vương Mai Lưu Văn Triệu "
    "Thân Mạc Đàm Tăng Lại Khổng Từ Nông Hứa Lục Kim Thạch Y Ksor Nay Rơ Châu Giang Tôn "
    "Âu Bạch Cù Diệp Doãn Đồng Hàn Khúc Kha La Lã Lò Lưu Mã Mạnh Nghiêm Ninh Ông Phí Phùng "
    "Quan Sầm Tống Trình Ung Viên Yên"
)
FAMILY_NAMES = tuple(_FAMILY_NAMES_TEXT.split())
_FAMILY_SPELLINGS: dict[str, set[str]] = {}
for _name in FAMILY_NAMES:
    _FAMILY_SPELLINGS.setdefault(fold(_name), set()).add(_name)
_KNOWN_FAMILY = set(FAMILY_NAMES)
# Only a fold with one spelling may be respelled (La / Lã share one: kept as read).
_FAMILY_BY_FOLD = {k: next(iter(v)) for k, v in _FAMILY_SPELLINGS.items() if len(v) == 1}


@dataclass(frozen=True)
class Name:
    text: str
    known_family: bool


def person_name(text: str) -> Name | None:
    """A Vietnamese full name (2–5 capitalised words), family name spelled as it is spelled."""
    words = squash(text).strip(" .,;").split()
    if not 2 <= len(words) <= 5:
        return None
    if not all(_NAME_WORD.fullmatch(nfc(w)) and w[0].isupper() for w in words):
        return None
    family = _FAMILY_BY_FOLD.get(fold(words[0]))
    if family is not None:
        words[0] = family
    return Name(" ".join(words), words[0] in _KNOWN_FAMILY)


# --------------------------------------------------------------------------- recipients


_FOR_REPORT = re.compile(r"\(b\s*/\s*[cC]?\)")  # "(b/c)", read as "(b/)" or "(b/C)"


def is_for_report_mark(word: str) -> bool:
    return _FOR_REPORT.fullmatch(word.rstrip(";.,")) is not None


def split_recipients(lines: list[str]) -> list[str]:
    """Nơi nhận items (without `- ` and the closing `;`/`.`), joining wrapped lines."""
    items: list[str] = []
    ended = True
    for raw in lines:
        line = _FOR_REPORT.sub("(b/c)", squash(raw))
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
    items = [item.rstrip(" ;.,") for item in items if item.rstrip(" ;.,")]
    if items:
        items[-1] = _archive_item(items[-1])
    return items


def _archive_item(item: str) -> str:
    """`Lưu: VT, …` ends every Nơi nhận list: repair its label (`Tưu`, `Luu`) and `VT`."""
    match = re.match(r"^\S{2,4}\s*[:;.]\s*(\S+?)(,|$)", item)
    if not match or fuzz.ratio(fold(item[:3]), "luu") < 60:
        return item
    office = "VT" if fold(match[1]) in ("vt", "vi", "v1", "vf") else match[1]
    return f"Lưu: {office}{match[2]}{item[match.end() :]}"


# --------------------------------------------------------------------------- language

_VIETNAMESE_ONLY = set("ăâđêôơưĂÂĐÊÔƠƯ")


def looks_vietnamese(text: str) -> float:
    """Share of words carrying Vietnamese-only letters or tone marks (0..1)."""
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    if not words:
        return 0.0
    marked = sum(
        1
        for w in words
        if any(c in _VIETNAMESE_ONLY for c in w)
        or any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", w))
    )
    return marked / len(words)
