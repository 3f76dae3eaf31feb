"""Organs no registry can list, recognised by their kind: a school, a named management board,
a centre, a branch under a parent the registry knows (pipeline/reconcile.py decides when to
trust one). Such an organ gets a local code, made from its parent's id and its name, that no
official code can look like: `LOCAL-` and the parent's id open it (docs/registry.md).

The kinds (each: the words a name opens with, and at least one word of its own after them):
- schools, by the levels of the Education Law 2019 (Art. 6, 28–32): `Trường Mầm non`,
  `Mẫu giáo`, `Tiểu học`, `Trung học cơ sở`, `Trung học phổ thông`, `Phổ thông dân tộc nội
  trú/bán trú`, the multi-level ones, their ND30 abbreviations (`THCS`, `THPT`, `PTDTNT`,
  `TH&THCS`), vocational `Trung cấp`, `Cao đẳng`;
- the public service and branch units of Decree 120/2020/NĐ-CP and the departments'
  circulars: `Ban Quản lý`, `Trung tâm`, `Chi cục`, `Văn phòng`, `Đội`, `Hạt`, `Trạm`,
  `Bệnh viện`, `Thư viện`, `Bảo tàng`, `Nhà văn hóa`, `Đài`.
A kind word alone, or a unit kind followed only by a place (`TRUNG TÂM XÃ AN PHÚ`), names no
organ of its own: not recognised (a school may bear its commune's name).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from schemas.models import LOCAL_ORGAN_PREFIX
from schemas.text import fold

LOCAL_PREFIX = LOCAL_ORGAN_PREFIX
_SCHOOL_LEVELS = (
    "mam non",
    "mau giao",
    "tieu hoc",
    "trung hoc co so",
    "trung hoc pho thong",
    "pho thong dan toc noi tru",
    "pho thong dan toc ban tru",
    "pho thong",
    "lien cap",
    "thcs",
    "thpt",
    "th",
    "mn",
    "ptdtnt",
    "ptdtbt",
    "trung cap",
    "cao dang",
)
UNIT_KINDS = (
    "ban quan ly",
    "trung tam",
    "chi cuc",
    "van phong",
    "doi",
    "hat",
    "tram",
    "benh vien",
    "thu vien",
    "bao tang",
    "nha van hoa",
    "dai",
)
# Level words: a name whose own words are only a place (`TRUNG TÂM HUYỆN X`) is no organ.
_PLACE_WORDS = ("tỉnh", "huyện", "quận", "thị xã", "thành phố", "xã", "phường", "thị trấn")


def organ_kind(name: str) -> str | None:
    """The kind a name opens with (`truong trung hoc co so`, `chi cuc`), when words of its own
    follow it; None when the name has no kind of these or nothing but a place after it."""
    spelled = unicodedata.normalize("NFC", name.replace("&", " và ").lower())
    spelled_words = re.sub(r"[^\w]+", " ", spelled).split()
    words = [fold(w) for w in spelled_words]
    text = " ".join(words)
    schools = [f"truong {level}" for level in _SCHOOL_LEVELS]
    for kind in sorted((*schools, *UNIT_KINDS), key=len, reverse=True):  # longest first
        if text.startswith(kind + " "):
            rest = " ".join(spelled_words[len(kind.split()) :])
            # a school may bear its commune's name (`Trường Tiểu học xã Đắk Mar`)
            return kind if kind in schools or not _only_place(rest) else None
    return None


def _only_place(rest: str) -> bool:
    """`rest` (lower case, tones kept: folded, `quản lý` would read as `quận`) opens with a
    level word."""
    return any(rest.startswith(word + " ") for word in _PLACE_WORDS)


def local_code(parent_id: str, name: str) -> str:
    """`LOCAL-<parent id>-<6 base-36 digits of the folded name>`: the same organ read twice
    (any case, tones or spacing) gets the same code; it never passes for a QCVN 102 code."""
    folded = "".join(fold(name).split())
    digest = int.from_bytes(hashlib.sha256(folded.encode()).digest()[:5], "big")
    digits = ""
    for _ in range(6):
        digest, r = divmod(digest, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[r] + digits
    return f"{LOCAL_PREFIX}{parent_id}-{digits}"
