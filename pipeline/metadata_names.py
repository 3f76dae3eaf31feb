"""Signer blocks of ND30 footers: the competence prefix (`KT.`, `TM.`), the titles, and the
signer's name checked against the closed set of family names and the common name syllables."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from pipeline.lexicon import newer_placement
from pipeline.metadata_text import squash
from schemas.text import fold, nfc

_COMPETENCE = re.compile(r"^(TUQ|TM|KT|TL|Q)(?:\s*[.,:;]+\s*|\s+)(?=\S)", re.IGNORECASE)


def split_competence(text: str) -> tuple[str, str] | None:
    """`KT. GIÁM ĐỐC` → ("KT.", "GIÁM ĐỐC"); also `KT, GIÁM ĐỐC`, `T.M. ỦY BAN…`."""
    text = squash(text).replace("T.M.", "TM.").replace("K.T.", "KT.")
    text = re.sub(r"^[^\w]+", "", text)  # specks before the prefix: `-'KT. CỤC TRƯỞNG`
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
_TITLE_SPELLINGS: dict[str, set[str]] = {}
for _title in TITLES:
    _TITLE_SPELLINGS.setdefault(fold(_title).replace(" ", ""), set()).add(_title)
# THỨ TRƯỞNG and THỦ TRƯỞNG fold alike: such titles are never respelled, only recognised.
_TITLE_BY_FOLD = {k: next(iter(v)) for k, v in _TITLE_SPELLINGS.items() if len(v) == 1}


def known_title(text: str) -> str | None:
    """The signer title `text` reads as, diacritics restored; None when it is not a known one
    or when its letters could be two titles (then the reading stands as OCR gave it)."""
    text = squash(text)
    if text in TITLES or newer_placement(text) in TITLES:
        return text  # `UỶ BAN NHÂN DÂN` as printed: the older tone placement is no slip
    title = _TITLE_BY_FOLD.get(re.sub(r"[^\w]", "", fold(text)))  # `CH ÁNH V ĂN PHÒNG` too
    if title is None or len(text.split()) != len(title.split()):
        return title
    # `UỶ BẠN NHÂN DẪN`: `UỶ` is the older tone placement of the title's `ỦY`, as printed
    return " ".join(
        read if newer_placement(read) == word else word
        for read, word in zip(text.split(), title.split(), strict=True)
    )


def is_caps_title(text: str, *, tolerance: float = 0.0) -> bool:
    """Set in capitals (a `tolerance` share of letters OCR read in lower case allowed)."""
    letters = [c for c in text if c.isalpha()]
    lower = sum(1 for c in letters if not c.isupper())
    return len(letters) >= 2 and lower <= tolerance * len(letters)


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


def _far_from_other_families(key: str) -> bool:
    return all(Levenshtein.distance(key, other) > 1 for other in _FAMILY_SPELLINGS if other != key)


# Family names whose letters settle them: one spelling for the letters (so no tone doubt), at
# least three letters, and no other family name one letter away (`Hoàng`, `Nguyễn`, `Trần`;
# not `Lê` or `Võ`, which one slipped letter makes `La` or `Vũ`, nor `Đặng` ~ `Đồng`).
_DISTINCT_FAMILY = {
    name for key, name in _FAMILY_BY_FOLD.items() if len(key) >= 3 and _far_from_other_families(key)
}


def is_distinct_family_name(word: str) -> bool:
    """`word` is a family name no OCR slip of one letter or one tone turns into another."""
    return word in _DISTINCT_FAMILY


# Syllables common in Vietnamese middle and given names. A name using another syllable is
# not refused (names are an open set) but doubted, since OCR tone slips make non-names
# (`Quân` → `Quần`).
_NAME_SYLLABLES_TEXT = (
    "An Anh Ánh Ân Bá Bách Bảo Bắc Bằng Bích Bình Bội Ca Cảnh Cát Châu Chi Chí Chiến Chinh "
    "Chính Chung Công Cúc Cường Cương Đan Đào Đạo Đạt Đăng Điệp Diễm Diệp Dịu Định Đoan Đông "
    "Đồng Đức Dung Dũng Dương Duy Duyên Gia Giang Giao Hà Hạ Hải Hạnh Hào Hảo Hằng Hân Hậu "
    "Hiền Hiển Hiếu Hiệp Hiệu Hinh Hòa Hoa Hoài Hoàn Hoàng Hồng Hợp Huân Huệ Hùng Hưng Hương "
    "Hường Hữu Huy Huyền Khải Khang Khánh Khanh Khoa Khôi Khuê Kiên Kiệt Kiều Kim Kỳ Lai Lam "
    "Lâm Lan Lành Lệ Liên Liễu Linh Loan Lộc Lợi Long Luân Lực Lương Ly Lý Mai Mạnh Minh My "
    "Mỹ Nam Nga Ngân Nghĩa Ngọc Nguyên Nguyệt Nhã Nhàn Nhân Nhật Nhi Nhung Như Ninh Oanh Phát "
    "Phong Phú Phúc Phụng Phước Phương Phượng Quang Quế Quốc Quý Quyên Quyết Quỳnh Sang Sơn "
    "Sương Tài Tâm Tân Thạch Thái Thanh Thành Thảo Thắm Thắng Thế Thi Thịnh Thơ Thông Thu Thư "
    "Thuận Thúy Thủy Thùy Thư Thương Tiến Tiên Tín Toàn Trà Trang Trâm Trí Triều Trinh Trọng "
    "Trung Trúc Trường Tú Tuấn Tùng Tuyết Tường Uyên Văn Vân Việt Vinh Vĩnh Võ Vũ Vy Xuân Yên "
    "Yến Hiếu Hậu Đông Kiên Quân Nhất Nhị Tam Tứ Hữu Đình Khắc Thị Công Gia Tuân Toản Thuần "
    "Quyền Hoan Hoán Đức Lực Luận Phấn Sĩ Sỹ Tư Vượng Ánh Hiến"
)
_NAME_SYLLABLES = {nfc(w) for w in _NAME_SYLLABLES_TEXT.split()}
_SYLLABLE_SPELLINGS: dict[str, set[str]] = {}
for _syllable in _NAME_SYLLABLES:
    _SYLLABLE_SPELLINGS.setdefault(fold(_syllable), set()).add(_syllable)


def is_name_syllable(word: str) -> bool:
    """A syllable of the list, in either tone placement (`Thủy`, `Thuỷ`)."""
    return word in _NAME_SYLLABLES or newer_placement(word) in _NAME_SYLLABLES


def name_tones(word: str, *, family: bool = False) -> list[str]:
    """The name syllables (and family names) spelled with `word`'s letters, in the newer tone
    placement: more than one means its tone mark decides which name it is (`Thủy`, `Thúy`,
    `Thùy`), and a name cannot be looked up anywhere to tell. `family`: family names only."""
    key = fold(word)
    if family:
        return sorted(_FAMILY_SPELLINGS.get(key, set()))
    found = _SYLLABLE_SPELLINGS.get(key, set()) | _FAMILY_SPELLINGS.get(key, set())
    return sorted(found)


@dataclass(frozen=True)
class Name:
    text: str
    known_family: bool
    known_given: bool = True
    respelled: bool = False  # a given-name syllable was put right: a person should confirm


def settled_spelling(word: str, *, family: bool) -> str | None:
    """The one name spelled with `word`'s letters, tone marks included (`Đăng` as a family
    name: `Đặng`; `Huyên`: `Huyền`); None when the letters spell no name or several
    (`Thuy`: `Thủy`, `Thúy`, `Thùy`). Only reads that agree on the letters may use it."""
    key = fold(word)
    spellings = _FAMILY_SPELLINGS.get(key, set()) if family else _SYLLABLE_SPELLINGS.get(key, set())
    return next(iter(spellings)) if len(spellings) == 1 else None


# Specks a seal or a signature leaves at a name's ends and between its words (`„Trần`,
# `Hoàng/Văn`: a pen stroke read as a slash).
_NAME_SPECKS = " .,;~-_'`\"„“”‘’›‹"


def person_name(text: str) -> Name | None:
    """A Vietnamese full name (2–5 capitalised words; specks between: `Võ-Thanh`), family fixed."""
    text = re.sub(r"(?<=[^\W\d_])[-–_.~/](?=[A-ZĐÀ-Ỹ])", " ", squash(text))
    words = text.strip(_NAME_SPECKS).split()
    if not 2 <= len(words) <= 5:
        return None
    if not all(_NAME_WORD.fullmatch(nfc(w)) and w[0].isupper() for w in words):
        return None
    respelled = False
    family = _FAMILY_BY_FOLD.get(fold(words[0]))
    if family is not None:
        words[0] = family
    for i, word in enumerate(words[1:], start=1):  # `Viêt` → `Việt`, when only one name fits
        spellings = _SYLLABLE_SPELLINGS.get(fold(word), set())
        if not is_name_syllable(word) and len(spellings) == 1:
            words[i] = next(iter(spellings))
            respelled = True
    known_given = all(is_name_syllable(w) or w in _KNOWN_FAMILY for w in words[1:])
    return Name(" ".join(words), words[0] in _KNOWN_FAMILY, known_given, respelled)
