"""What a synthetic ND30 document says: organs, numbers, dates, signers, subjects, body text.

Everything is drawn from a `random.Random` passed in, so a seed fixes the whole document.
Body paragraphs are real Vietnamese administrative prose from the seed texts
(`corpus/seeds/*.txt`, copies of the project's shared seed texts; override with
`SOHOA_CORPUS_SEEDS`).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

# Copies of the project's shared seed texts travel with the package, so the demo and the tests
# work on any machine; SOHOA_CORPUS_SEEDS points elsewhere.
DEFAULT_SEEDS_DIR = Path(__file__).with_name("seeds")


def nfc(text: str) -> str:
    """NFC with every run of whitespace (tabs, no-break spaces…) folded to one space, and the
    look-alike Icelandic eth (Ð, U+00D0, found in web copies) replaced by Vietnamese Đ (U+0110):
    the two glyphs are identical on paper, so no OCR could tell them apart."""
    text = unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110")
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- organs


@dataclass(frozen=True)
class Organ:
    level: str  # central | province | district | commune (the registry's terms)
    parent: str  # upper line of the header ("" when the organ has no parent line)
    name: str  # issuing organ, caps; may be drawn on two lines
    abbr: str  # used in the ký hiệu: QĐ-SNV, SNV-VP
    place: str  # địa danh in the date line
    short: str  # name in running text: "Sở Nội vụ"
    superior: str  # whom a Tờ trình is addressed to
    head: str  # GIÁM ĐỐC, CHỦ TỊCH, BỘ TRƯỞNG…
    deputy: str
    units: tuple[str, ...]  # unit abbreviations for "Lưu: VT, …" and công văn ký hiệu
    collective: str = ""  # TM. line for collegial organs (Ủy ban nhân dân)
    has_office: bool = True  # may sign TL./TUQ. through the head of office
    organ_id: str = ""  # its id in organs/organs.csv, so registry lookups can be checked
    types: tuple[str, ...] = ()  # DocType keys it issues; () = every type but Nghị quyết


ORGANS: tuple[Organ, ...] = (
    # central: ministries (no parent line) and a department of a ministry (parent line)
    Organ(
        "central",
        "",
        "BỘ NỘI VỤ",
        "BNV",
        "Hà Nội",
        "Bộ Nội vụ",
        "Thủ tướng Chính phủ",
        "BỘ TRƯỞNG",
        "THỨ TRƯỞNG",
        ("VP", "CCHC", "TCBC", "TCCB"),
        organ_id="000.00.00.G09",
    ),
    Organ(
        "central",
        "BỘ NỘI VỤ",
        "CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC",
        "VTLTNN",
        "Hà Nội",
        "Cục Văn thư và Lưu trữ nhà nước",
        "Bộ trưởng Bộ Nội vụ",
        "CỤC TRƯỞNG",
        "PHÓ CỤC TRƯỞNG",
        ("VP", "NVVT", "NVLT"),
        organ_id="000.00.12.G09",
    ),
    Organ(
        "central",
        "",
        "BỘ THÔNG TIN VÀ TRUYỀN THÔNG",
        "BTTTT",
        "Hà Nội",
        "Bộ Thông tin và Truyền thông",
        "Thủ tướng Chính phủ",
        "BỘ TRƯỞNG",
        "THỨ TRƯỞNG",
        ("VP", "CĐS", "KHCN"),
        organ_id="000.00.00.G14",
    ),
    Organ(
        "central",
        "",
        "BỘ KHOA HỌC VÀ CÔNG NGHỆ",
        "BKHCN",
        "Hà Nội",
        "Bộ Khoa học và Công nghệ",
        "Thủ tướng Chính phủ",
        "BỘ TRƯỞNG",
        "THỨ TRƯỞNG",
        ("VP", "KHTC", "PC", "ƯDCN"),
        organ_id="000.00.00.G20",
    ),
    # province
    Organ(
        "province",
        "",
        "ỦY BAN NHÂN DÂN TỈNH KON TUM",
        "UBND",
        "Kon Tum",
        "Ủy ban nhân dân tỉnh Kon Tum",
        "Thường trực Hội đồng nhân dân tỉnh Kon Tum",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("NC", "KGVX", "HTKT", "KTTH"),
        collective="ỦY BAN NHÂN DÂN",
        organ_id="000.00.00.H34",
    ),
    Organ(
        "province",
        "",
        "HỘI ĐỒNG NHÂN DÂN TỈNH KON TUM",
        "HĐND",
        "Kon Tum",
        "Hội đồng nhân dân tỉnh Kon Tum",
        "Ủy ban nhân dân tỉnh Kon Tum",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("VP", "KTNS", "VHXH", "PC"),
        collective="HỘI ĐỒNG NHÂN DÂN",
        has_office=False,
        organ_id="000.01.00.H34",
        types=("nq", "tb", "bc", "kh", "cv", "gm", "ctr"),
    ),
    Organ(
        "province",
        "UBND TỈNH KON TUM",
        "SỞ NỘI VỤ",
        "SNV",
        "Kon Tum",
        "Sở Nội vụ",
        "Ủy ban nhân dân tỉnh Kon Tum",
        "GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        ("VP", "CCHC", "TCCB", "XDCQ"),
        organ_id="000.00.02.H34",
    ),
    Organ(
        "province",
        "UBND TỈNH VĨNH PHÚC",
        "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        "STTTT",
        "Vĩnh Phúc",
        "Sở Thông tin và Truyền thông",
        "Ủy ban nhân dân tỉnh Vĩnh Phúc",
        "GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        ("VP", "CNTT", "BCVT"),
        organ_id="000.00.09.H64",
    ),
    Organ(
        "province",
        "UBND TỈNH BẮC GIANG",
        "SỞ TÀI CHÍNH",
        "STC",
        "Bắc Giang",
        "Sở Tài chính",
        "Ủy ban nhân dân tỉnh Bắc Giang",
        "GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        ("VP", "QLNS", "TCĐT"),
        organ_id="000.00.05.H06",
    ),
    Organ(
        "province",
        "UBND TỈNH PHÚ THỌ",
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        "SKHCN",
        "Phú Thọ",
        "Sở Khoa học và Công nghệ",
        "Ủy ban nhân dân tỉnh Phú Thọ",
        "GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        ("VP", "QLKH", "TĐC"),
        organ_id="000.00.07.H46",
    ),
    Organ(
        "province",
        "",
        "ỦY BAN NHÂN DÂN TỈNH ĐIỆN BIÊN",
        "UBND",
        "Điện Biên",
        "Ủy ban nhân dân tỉnh Điện Biên",
        "Thường trực Hội đồng nhân dân tỉnh Điện Biên",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("KT", "VX", "TH"),
        collective="ỦY BAN NHÂN DÂN",
        organ_id="000.00.00.H17",
    ),
    Organ(
        "province",
        "",
        "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI",
        "UBND",
        "Quảng Ngãi",
        "Ủy ban nhân dân tỉnh Quảng Ngãi",
        "Thường trực Hội đồng nhân dân tỉnh Quảng Ngãi",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("KT", "KGVX", "NC", "TH"),
        collective="ỦY BAN NHÂN DÂN",
        organ_id="000.00.00.H55",
    ),
    # district
    Organ(
        "district",
        "",
        "ỦY BAN NHÂN DÂN HUYỆN TAM DƯƠNG",
        "UBND",
        "Tam Dương",
        "Ủy ban nhân dân huyện Tam Dương",
        "Ủy ban nhân dân tỉnh Vĩnh Phúc",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("VP", "NV", "TCKH"),
        collective="ỦY BAN NHÂN DÂN",
        organ_id="000.00.51.H64",
    ),
    Organ(
        "district",
        "UBND HUYỆN ĐẮK HÀ",
        "PHÒNG NỘI VỤ",
        "PNV",
        "Đắk Hà",
        "Phòng Nội vụ",
        "Ủy ban nhân dân huyện Đắk Hà",
        "TRƯỞNG PHÒNG",
        "PHÓ TRƯỞNG PHÒNG",
        ("NV",),
        has_office=False,
        organ_id="000.01.52.H34",
    ),
    Organ(
        "district",
        "",
        "ỦY BAN NHÂN DÂN THÀNH PHỐ KON TUM",
        "UBND",
        "Kon Tum",
        "Ủy ban nhân dân thành phố Kon Tum",
        "Ủy ban nhân dân tỉnh Kon Tum",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("VP", "NV", "VHTT"),
        collective="ỦY BAN NHÂN DÂN",
        organ_id="000.00.51.H34",
    ),
    Organ(
        "district",
        "UBND THÀNH PHỐ KON TUM",
        "PHÒNG VĂN HÓA VÀ THÔNG TIN",
        "PVHTT",
        "Kon Tum",
        "Phòng Văn hóa và Thông tin",
        "Ủy ban nhân dân thành phố Kon Tum",
        "TRƯỞNG PHÒNG",
        "PHÓ TRƯỞNG PHÒNG",
        ("VHTT",),
        has_office=False,
        organ_id="000.02.51.H34",
    ),
    # commune
    Organ(
        "commune",
        "UBND HUYỆN TAM DƯƠNG",
        "ỦY BAN NHÂN DÂN XÃ HOÀNG HOA",
        "UBND",
        "Hoàng Hoa",
        "Ủy ban nhân dân xã Hoàng Hoa",
        "Ủy ban nhân dân huyện Tam Dương",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("VP",),
        collective="ỦY BAN NHÂN DÂN",
        has_office=False,
        organ_id="001.00.51.H64",
    ),
    Organ(
        "commune",
        "UBND HUYỆN ĐẮK HÀ",
        "ỦY BAN NHÂN DÂN XÃ ĐẮK MAR",
        "UBND",
        "Đắk Mar",
        "Ủy ban nhân dân xã Đắk Mar",
        "Ủy ban nhân dân huyện Đắk Hà",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("VP",),
        collective="ỦY BAN NHÂN DÂN",
        has_office=False,
        organ_id="001.00.52.H34",
    ),
    Organ(
        "commune",
        "UBND HUYỆN ĐẮK HÀ",
        "ỦY BAN NHÂN DÂN THỊ TRẤN ĐẮK HÀ",
        "UBND",
        "Đắk Hà",
        "Ủy ban nhân dân thị trấn Đắk Hà",
        "Ủy ban nhân dân huyện Đắk Hà",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("VP", "ĐCXD"),
        collective="ỦY BAN NHÂN DÂN",
        has_office=False,
        organ_id="004.00.52.H34",
    ),
    Organ(
        "commune",
        "UBND THÀNH PHỐ KON TUM",
        "ỦY BAN NHÂN DÂN PHƯỜNG QUYẾT THẮNG",
        "UBND",
        "Kon Tum",
        "Ủy ban nhân dân phường Quyết Thắng",
        "Ủy ban nhân dân thành phố Kon Tum",
        "CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        ("VP",),
        collective="ỦY BAN NHÂN DÂN",
        has_office=False,
        organ_id="002.00.51.H34",
    ),
)

# Organs added with the metadata work (issue 6). They are drawn apart from the first fourteen
# (`random_spec`), so every document the earlier corpus drew is still drawn the same way.
_ADDED_ORGAN_IDS = (
    "000.00.00.G20",
    "000.01.00.H34",
    "000.00.07.H46",
    "000.00.00.H55",
    "000.02.51.H34",
    "004.00.52.H34",
)
CLASSIC_ORGANS = tuple(o for o in ORGANS if o.organ_id not in _ADDED_ORGAN_IDS)
ADDED_ORGANS = tuple(o for o in ORGANS if o.organ_id in _ADDED_ORGAN_IDS)

RECIPIENT_POOLS: dict[str, tuple[str, ...]] = {
    "central": (
        "Thủ tướng Chính phủ (để b/c);",
        "Văn phòng Chính phủ;",
        "Các Bộ, cơ quan ngang Bộ;",
        "UBND các tỉnh, thành phố trực thuộc TW;",
        "Lãnh đạo Bộ;",
        "Cổng TTĐT Bộ;",
        "Các đơn vị thuộc Bộ;",
    ),
    "province": (
        "Bộ Nội vụ (b/c);",
        "TT Tỉnh ủy, TT HĐND tỉnh (b/c);",
        "Chủ tịch, các PCT UBND tỉnh;",
        "Các sở, ban, ngành thuộc tỉnh;",
        "UBND các huyện, thành phố;",
        "Cổng TTĐT tỉnh;",
        "Lãnh đạo cơ quan;",
    ),
    "district": (
        "UBND tỉnh (b/c);",
        "TT Huyện ủy, TT HĐND huyện (b/c);",
        "Chủ tịch, các PCT UBND huyện;",
        "Các phòng, ban thuộc huyện;",
        "UBND các xã, thị trấn;",
        "Trang TTĐT huyện;",
    ),
    "commune": (
        "UBND huyện (b/c);",
        "TT Đảng ủy, TT HĐND xã (b/c);",
        "Chủ tịch, các PCT UBND xã;",
        "Các ban, ngành, đoàn thể xã;",
        "Các thôn, tổ dân phố;",
    ),
}

ADDRESSEES: dict[str, tuple[str, ...]] = {
    "central": (
        "Các đơn vị thuộc Bộ",
        "UBND các tỉnh, thành phố trực thuộc Trung ương",
        "Sở Nội vụ các tỉnh, thành phố trực thuộc Trung ương",
    ),
    "province": (
        "Các sở, ban, ngành thuộc tỉnh",
        "UBND các huyện, thành phố",
        "Các đơn vị sự nghiệp thuộc tỉnh",
    ),
    "district": (
        "Các phòng, ban thuộc huyện",
        "UBND các xã, thị trấn",
        "Các đơn vị sự nghiệp thuộc huyện",
    ),
    "commune": (
        "Các ban, ngành, đoàn thể xã",
        "Trưởng các thôn, tổ dân phố",
        "Công chức chuyên môn xã",
    ),
}

# --------------------------------------------------------------------------- types & subjects


@dataclass(frozen=True)
class DocType:
    key: str
    name: str  # type_name as stored in metadata: "Quyết định"
    abbr: str  # "" for công văn


DOC_TYPES: tuple[DocType, ...] = (
    DocType("qd", "Quyết định", "QĐ"),
    DocType("bc", "Báo cáo", "BC"),
    DocType("kh", "Kế hoạch", "KH"),
    DocType("tb", "Thông báo", "TB"),
    DocType("ttr", "Tờ trình", "TTr"),
    DocType("cv", "Công văn", ""),
    DocType("ct", "Chỉ thị", "CT"),
    DocType("hd", "Hướng dẫn", "HD"),
    DocType("gm", "Giấy mời", "GM"),
    DocType("ctr", "Chương trình", "CTr"),
    DocType("nq", "Nghị quyết", "NQ"),
)
CLASSIC_TYPES = DOC_TYPES[:6]
CLASSIC_TYPE_WEIGHTS = (3, 2, 2, 2, 1, 3)
# Relative frequencies of the types an added organ issues, or a document is switched to.
TYPE_WEIGHTS: dict[str, int] = {
    "qd": 6,
    "bc": 3,
    "kh": 3,
    "tb": 3,
    "ttr": 2,
    "cv": 6,
    "ct": 2,
    "hd": 2,
    "gm": 2,
    "ctr": 2,
    "nq": 12,
}

TOPICS: tuple[str, ...] = (
    "công tác cải cách hành chính",
    "chuyển đổi số trong cơ quan nhà nước",
    "thực hiện cơ chế một cửa, một cửa liên thông",
    "kiện toàn tổ chức bộ máy các cơ quan chuyên môn",
    "đánh giá, xếp loại chất lượng cán bộ, công chức, viên chức",
    "công tác văn thư, lưu trữ",
    "số hóa tài liệu lưu trữ",
    "giải quyết thủ tục hành chính trên môi trường điện tử",
    "công tác thi đua, khen thưởng",
    "phòng, chống tham nhũng, tiêu cực",
    "tuyển dụng công chức, viên chức",
    "đo lường sự hài lòng của người dân, tổ chức",
    "ứng dụng công nghệ thông tin trong hoạt động của cơ quan nhà nước",
    "kiểm tra công vụ, kỷ luật, kỷ cương hành chính",
)

PERIODS: tuple[str, ...] = (
    "năm {y}",
    "6 tháng đầu năm {y}",
    "quý III năm {y}",
    "giai đoạn {y}-{y2}",
)


def _subject(rng: random.Random, doc_type: DocType, organ: Organ, year: int) -> str:
    topic = rng.choice(TOPICS)
    period = rng.choice(PERIODS).format(y=year, y2=year + 2)
    head = organ.head.capitalize()
    templates: dict[str, tuple[str, ...]] = {
        "qd": (
            "Về việc ban hành Kế hoạch {t} {p}",
            "Về việc thành lập Tổ công tác {t}",
            "Về việc phê duyệt Đề án {t} {p}",
            "Về việc kiện toàn Ban Chỉ đạo {t}",
        ),
        "bc": ("Kết quả thực hiện {t} {p}", "Tình hình {t} {p}"),
        "kh": ("Triển khai {t} {p}", "Thực hiện {t} {p}"),
        "tb": ("Kết luận của {h} tại cuộc họp về {t}", "Về việc tổ chức kiểm tra {t} {p}"),
        "ttr": (
            "Về việc đề nghị phê duyệt Kế hoạch {t} {p}",
            "Về việc đề nghị ban hành Quy chế {t}",
        ),
        "cv": (
            "V/v triển khai {t} {p}",
            "V/v báo cáo kết quả {t} {p}",
            "V/v góp ý dự thảo Kế hoạch {t} {p}",
            "V/v tăng cường {t}",
        ),
        "ct": ("Về việc tăng cường {t}", "Về đẩy mạnh {t} {p}"),
        "hd": ("Thực hiện {t} {p}", "Triển khai {t} trong các cơ quan, đơn vị"),
        "gm": ("Dự hội nghị sơ kết {t} {p}", "Dự họp bàn về {t}"),
        "ctr": ("Công tác {t} {p}", "Hành động thực hiện {t} {p}"),
        "nq": (
            "Về việc thông qua Kế hoạch {t} {p}",
            "Quy định một số chính sách hỗ trợ {t} {p}",
        ),
    }
    return rng.choice(templates[doc_type.key]).format(t=topic, p=period, h=head)


# Subjects long enough to wrap over three or four lines.
LONG_SUBJECTS: dict[str, str] = {
    "qd": "Về việc ban hành Quy chế phối hợp giữa các cơ quan, đơn vị trong {t} và {o} {p}",
    "cv": "V/v đôn đốc thực hiện {t} và {o} {p}",
    "ct": "Về đẩy mạnh {t} và {o} {p}",
    "ctr": "Hành động thực hiện {t} và {o} {p}",
    "kh": "Thực hiện {t} gắn với {o} trên địa bàn {p}",
    "bc": "Kết quả thực hiện {t} và {o} {p}",
}


def _long_subject(rng: random.Random, doc_type: DocType, year: int) -> str | None:
    template = LONG_SUBJECTS.get(doc_type.key)
    if template is None:
        return None
    topic, other = rng.sample(TOPICS, 2)
    period = rng.choice(PERIODS).format(y=year, y2=year + 2)
    return template.format(t=topic, o=other, p=period)


# --------------------------------------------------------------------------- people

FAMILY_NAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trương",
)
MIDDLE_NAMES = (
    "Văn",
    "Thị",
    "Hữu",
    "Đức",
    "Minh",
    "Thanh",
    "Quốc",
    "Ngọc",
    "Xuân",
    "Thu",
    "Hồng",
    "Anh",
    "Công",
    "Bảo",
)
GIVEN_NAMES = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hùng",
    "Khang",
    "Lâm",
    "Long",
    "Mai",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Tâm",
    "Thắng",
    "Thảo",
    "Trung",
    "Tuấn",
    "Việt",
    "Yến",
    "Hiền",
    "Lan",
    "Phương",
    "Đông",
    "Kiên",
)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"


def _signer(rng: random.Random, organ: Organ, doc_type: DocType) -> tuple[str, str]:
    """(competence line, position line); competence is "" when the head signs directly."""
    options: list[tuple[str, str]] = [("", organ.head), (f"KT. {organ.head}", organ.deputy)]
    if organ.collective:
        options.append((f"TM. {organ.collective}", organ.head))
    if organ.has_office and doc_type.key not in ("qd", "ttr", "nq", "ct"):
        options += [
            (f"TL. {organ.head}", "CHÁNH VĂN PHÒNG"),
            (f"TUQ. {organ.head}", "CHÁNH VĂN PHÒNG"),
        ]
    weights = [3, 4] + [2] * (len(options) - 2)
    return rng.choices(options, weights=weights)[0]


# --------------------------------------------------------------------------- seed text


def seeds_dir() -> Path:
    return Path(os.environ.get("SOHOA_CORPUS_SEEDS", DEFAULT_SEEDS_DIR))


@lru_cache(maxsize=4)
def _load_paragraphs(directory: Path) -> tuple[str, ...]:
    paragraphs: list[str] = []
    for path in sorted(directory.glob("*.txt")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            text = nfc(raw)
            if _looks_like_prose(text):
                paragraphs.append(text)
    if not paragraphs:
        raise FileNotFoundError(f"no usable seed paragraphs in {directory}")
    return tuple(paragraphs)


def _looks_like_prose(text: str) -> bool:
    """Drop web-page debris: captions, bylines, widgets, template placeholders."""
    return (
        len(text) >= 120
        and text.count(" ") >= 15
        and not any(c in text for c in "{}|")
        and "http" not in text
        and "Hotline" not in text
    )


def seed_paragraphs() -> tuple[str, ...]:
    return _load_paragraphs(seeds_dir())


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class DocSpec:
    """Everything needed to lay out one document; `metadata()` is the ground truth."""

    organ: Organ
    doc_type: DocType
    code_number: str
    code_notation: str
    issued: date
    subject: str
    signer_competence: str
    signer_position: str
    signer_name: str
    recipients: tuple[str, ...]  # as drawn after "- ", e.g. "Bộ Nội vụ (b/c);"
    addressees: tuple[str, ...]  # Kính gửi (công văn, tờ trình)
    legal_bases: tuple[str, ...]  # Căn cứ … (quyết định)
    body: tuple[str, ...]  # candidate body paragraphs, in order; layout takes a prefix
    closing: tuple[str, ...]  # paragraphs after the body, the last one ends with "./."
    header_pt: int = 13
    body_pt: int = 14
    pad_date: bool = True  # ND30 pads day < 10 and month < 3 with a zero; many offices do not
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_cong_van(self) -> bool:
        return self.doc_type.key == "cv"

    @property
    def code_line(self) -> str:
        return f"Số: {self.code_number}/{self.code_notation}"

    @property
    def date_line(self) -> str:
        day, month = str(self.issued.day), str(self.issued.month)
        if self.pad_date:
            day = f"{self.issued.day:02d}" if self.issued.day < 10 else day
            month = f"{self.issued.month:02d}" if self.issued.month < 3 else month
        return f"{self.organ.place}, ngày {day} tháng {month} năm {self.issued.year}"

    def metadata(self, page_amount: int) -> dict[str, Any]:
        return {
            "organ_parent": self.organ.parent,
            "organ_name": self.organ.name,
            "organ_level": self.organ.level,
            "organ_id": self.organ.organ_id,
            "code_number": self.code_number,
            "code_notation": self.code_notation,
            "issued_place": self.organ.place,
            "issued_date": self.issued.isoformat(),
            "type_name": self.doc_type.name,
            "subject": self.subject,
            "signer_competence": self.signer_competence,
            "signer_position": self.signer_position,
            "signer_name": self.signer_name,
            "recipients": [r.rstrip(";.") for r in self.recipients],
            "page_amount": page_amount,
            "language": "vi",
        }


def _code_number(rng: random.Random) -> str:
    n = rng.choice([rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 2500)])
    return f"{n:02d}"


def _notation(rng: random.Random, doc_type: DocType, organ: Organ) -> str:
    if doc_type.abbr:
        return f"{doc_type.abbr}-{organ.abbr}"
    return f"{organ.abbr}-{rng.choice(organ.units)}"


def _recipients(rng: random.Random, doc_type: DocType, organ: Organ) -> tuple[str, ...]:
    first = {"qd": ["Như Điều 3;"], "cv": ["Như trên;"], "ttr": ["Như trên;"], "gm": ["Như trên;"]}
    first = first.get(doc_type.key, [])
    pool = RECIPIENT_POOLS[organ.level]
    picked = rng.sample(pool, rng.randint(2, min(5, len(pool))))
    return (*first, *picked, f"Lưu: VT, {rng.choice(organ.units)}.")


def _addressees(rng: random.Random, doc_type: DocType, organ: Organ) -> tuple[str, ...]:
    if doc_type.key == "ttr":
        return (organ.superior,)
    if doc_type.key in ("cv", "gm"):
        pool = ADDRESSEES[organ.level]
        return tuple(rng.sample(pool, rng.randint(1, 2)))
    return ()


LEGAL_BASES: tuple[str, ...] = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; Luật sửa đổi, bổ sung "
    "một số điều của Luật Tổ chức Chính phủ và Luật Tổ chức chính quyền địa phương ngày 22 tháng "
    "11 năm 2019;",
    "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
    "Căn cứ Nghị định số 61/2018/NĐ-CP ngày 23 tháng 4 năm 2018 của Chính phủ về thực hiện cơ chế "
    "một cửa, một cửa liên thông trong giải quyết thủ tục hành chính;",
    "Căn cứ Nghị quyết số 76/NQ-CP ngày 15 tháng 7 năm 2021 của Chính phủ ban hành Chương trình "
    "tổng thể cải cách hành chính nhà nước giai đoạn 2021-2030;",
    "Căn cứ Luật Lưu trữ ngày 11 tháng 11 năm 2011;",
)


def _legal_bases(rng: random.Random, doc_type: DocType, organ: Organ) -> tuple[str, ...]:
    if doc_type.key != "qd":
        return ()
    bases = rng.sample(LEGAL_BASES, 2)
    proposer = "Chánh Văn phòng" if organ.has_office else "công chức chuyên môn"
    return (*bases, f"Theo đề nghị của {proposer}.")


def _closing(doc_type: DocType, organ: Organ) -> tuple[str, ...]:
    short = organ.short
    match doc_type.key:
        case "qd":
            office = "Chánh Văn phòng" if organ.has_office else "Công chức Văn phòng"
            return (
                "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
                f"Điều 3. {office}, Thủ trưởng các cơ quan, đơn vị và cá nhân có liên quan "
                "chịu trách nhiệm thi hành Quyết định này./.",
            )
        case "bc":
            return (f"Trên đây là báo cáo của {short}./.",)
        case "kh":
            return (
                "Trong quá trình tổ chức thực hiện, nếu có khó khăn, vướng mắc, các cơ quan, "
                f"đơn vị phản ánh kịp thời về {short} để tổng hợp, xử lý./.",
            )
        case "tb":
            return (f"{short} thông báo để các cơ quan, đơn vị biết, thực hiện./.",)
        case "ttr":
            return (f"{short} kính trình {organ.superior} xem xét, quyết định./.",)
        case "nq":
            return (
                "Điều 2. Giao Ủy ban nhân dân tỉnh tổ chức thực hiện Nghị quyết này.",
                f"Điều 3. Nghị quyết này đã được {short} thông qua và có hiệu lực kể từ ngày "
                "ký ban hành./.",
            )
        case "ct":
            return ("Yêu cầu các cơ quan, đơn vị nghiêm túc thực hiện Chỉ thị này./.",)
        case "hd":
            return (f"Trên đây là hướng dẫn của {short}, đề nghị các đơn vị thực hiện./.",)
        case "gm":
            return ("Rất mong các đồng chí tham dự đầy đủ, đúng thời gian./.",)
        case "ctr":
            return ("Các cơ quan, đơn vị căn cứ Chương trình này để triển khai thực hiện./.",)
        case _:
            return ("Đề nghị các cơ quan, đơn vị quan tâm, phối hợp thực hiện./.",)


def random_spec(rng: random.Random, *, body_paragraphs: int = 30) -> DocSpec:
    """Draw one document. `body_paragraphs` candidates are taken, cyclically, from the seeds.

    The first draws are those of the earlier corpus (fourteen organs, six types), from `rng`
    in the same order; the added variety (organs, types, `Q.` signers, long subjects, dates
    without leading zeros) is drawn from a second generator seeded by `rng`'s state, so the
    pages earlier benchmarks measured keep their body text and most keep everything."""
    variety = random.Random(hashlib.sha256(repr(rng.getstate()).encode()).hexdigest())
    organ = rng.choice(CLASSIC_ORGANS)
    doc_type = rng.choices(CLASSIC_TYPES, weights=CLASSIC_TYPE_WEIGHTS)[0]
    issued = date(rng.randint(2019, 2024), rng.randint(1, 12), rng.randint(1, 28))
    competence, position = _signer(rng, organ, doc_type)
    paragraphs = seed_paragraphs()
    start = rng.randrange(len(paragraphs))
    body = tuple(paragraphs[(start + i) % len(paragraphs)] for i in range(body_paragraphs))
    spec = DocSpec(
        organ=organ,
        doc_type=doc_type,
        code_number=_code_number(rng),
        code_notation=_notation(rng, doc_type, organ),
        issued=issued,
        subject=_subject(rng, doc_type, organ, issued.year),
        signer_competence=competence,
        signer_position=position,
        signer_name=_person(rng),
        recipients=_recipients(rng, doc_type, organ),
        addressees=_addressees(rng, doc_type, organ),
        legal_bases=_legal_bases(rng, doc_type, organ),
        body=body,
        closing=_closing(doc_type, organ),
        header_pt=rng.choice((12, 13)),
        body_pt=rng.choice((13, 14)),
    )
    return _vary(spec, variety)


ADDED_ORGAN_SHARE = 0.3  # of documents moved to one of the added organs
ADDED_TYPE_SHARE = 0.3  # of documents switched to an added type (Chỉ thị, Hướng dẫn, …)
ACTING_SIGNER_SHARE = 0.08  # signed "Q. <head>" by an acting head
LONG_SUBJECT_SHARE = 0.15
PADDED_DATE_SHARE = 0.75  # the rest print "ngày 5 tháng 3", as many offices do


def _vary(spec: DocSpec, rng: random.Random) -> DocSpec:
    organ = rng.choice(ADDED_ORGANS) if rng.random() < ADDED_ORGAN_SHARE else spec.organ
    doc_type = spec.doc_type
    switch = rng.random() < ADDED_TYPE_SHARE
    if organ.types or switch:  # an organ with its own types (HĐND) always draws from them
        keys = organ.types or ("ct", "hd", "gm", "ctr")
        types = [t for t in DOC_TYPES if t.key in keys]
        doc_type = rng.choices(types, weights=[TYPE_WEIGHTS[t.key] for t in types])[0]
    changes: dict[str, Any] = {}
    if organ is not spec.organ or doc_type is not spec.doc_type:
        competence, position = _signer(rng, organ, doc_type)
        changes = {
            "organ": organ,
            "doc_type": doc_type,
            "code_notation": _notation(rng, doc_type, organ),
            "subject": _subject(rng, doc_type, organ, spec.issued.year),
            "signer_competence": competence,
            "signer_position": position,
            "recipients": _recipients(rng, doc_type, organ),
            "addressees": _addressees(rng, doc_type, organ),
            "legal_bases": _legal_bases(rng, doc_type, organ),
            "closing": _closing(doc_type, organ),
        }
    if doc_type.key != "nq" and rng.random() < ACTING_SIGNER_SHARE:
        changes |= {"signer_competence": f"Q. {organ.head}", "signer_position": ""}
    if rng.random() < LONG_SUBJECT_SHARE:
        long = _long_subject(rng, doc_type, spec.issued.year)
        changes |= {"subject": long} if long else {}
    changes["pad_date"] = rng.random() < PADDED_DATE_SHARE
    return replace(spec, **changes)
