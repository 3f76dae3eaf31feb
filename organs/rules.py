"""Organs made by rule, not listed by the administrative-unit source: the ministries and the
standard departments (Sở) of a province and offices (Phòng) of a district (docs/registry.md).

Dates are those of the 2025 restructuring: ministries merged by Resolution 176/2025/QH15 and
the provincial departments by Decree 45/2025/NĐ-CP, both from 1 March 2025. An empty date is
"before the records we hold" / "still in force", not a claim about when the organ was founded.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

MARCH_2025 = date(2025, 3, 1)  # ministries and departments merged (Resolution 176/2025/QH15)
LAST_DAY_BEFORE_MARCH = date(2025, 2, 28)
REFORM = date(2025, 7, 1)  # provinces merged, district level ended (Resolution 202/2025/QH15)
LAST_DAY_BEFORE_REFORM = date(2025, 6, 30)


class Body(NamedTuple):
    """A ministry, department or office: its name, when it began or ended (None: unknown or
    still in force) and the one that took it over (by name, within the same level)."""

    name: str
    valid_from: date | None = None
    valid_to: date | None = None
    successor: str = ""


_MERGED = LAST_DAY_BEFORE_MARCH  # short for the tables below

MINISTRIES: tuple[Body, ...] = (
    Body("Bộ Quốc phòng"),
    Body("Bộ Công an"),
    Body("Bộ Ngoại giao"),
    Body("Bộ Nội vụ"),
    Body("Bộ Tư pháp"),
    Body("Bộ Tài chính"),
    Body("Bộ Công Thương"),
    Body("Bộ Nông nghiệp và Môi trường", MARCH_2025),
    Body("Bộ Xây dựng"),
    Body("Bộ Văn hóa, Thể thao và Du lịch"),
    Body("Bộ Khoa học và Công nghệ"),
    Body("Bộ Giáo dục và Đào tạo"),
    Body("Bộ Y tế"),
    Body("Bộ Dân tộc và Tôn giáo", MARCH_2025),
    Body("Ngân hàng Nhà nước Việt Nam"),
    Body("Thanh tra Chính phủ"),
    Body("Văn phòng Chính phủ"),
    Body("Bộ Kế hoạch và Đầu tư", None, _MERGED, "Bộ Tài chính"),
    Body("Bộ Giao thông vận tải", None, _MERGED, "Bộ Xây dựng"),
    Body("Bộ Tài nguyên và Môi trường", None, _MERGED, "Bộ Nông nghiệp và Môi trường"),
    Body("Bộ Nông nghiệp và Phát triển nông thôn", None, _MERGED, "Bộ Nông nghiệp và Môi trường"),
    Body("Bộ Thông tin và Truyền thông", None, _MERGED, "Bộ Khoa học và Công nghệ"),
    Body("Bộ Lao động - Thương binh và Xã hội", None, _MERGED, "Bộ Nội vụ"),
    Body("Ủy ban Dân tộc", None, _MERGED, "Bộ Dân tộc và Tôn giáo"),
)

# The departments every province had (Decree 24/2014/NĐ-CP, 107/2020/NĐ-CP) and the March 2025
# mergers. "{unit}" is the province as its name is written: "tỉnh Kon Tum", "thành phố Huế".
DEPARTMENTS: tuple[Body, ...] = (
    Body("Văn phòng Ủy ban nhân dân {unit}"),
    Body("Sở Nội vụ {unit}"),
    Body("Sở Tư pháp {unit}"),
    Body("Sở Tài chính {unit}"),
    Body("Sở Công Thương {unit}"),
    Body("Sở Xây dựng {unit}"),
    Body("Sở Khoa học và Công nghệ {unit}"),
    Body("Sở Văn hóa, Thể thao và Du lịch {unit}"),
    Body("Sở Giáo dục và Đào tạo {unit}"),
    Body("Sở Y tế {unit}"),
    Body("Sở Ngoại vụ {unit}"),
    Body("Thanh tra {unit}"),
    Body("Sở Nông nghiệp và Môi trường {unit}", MARCH_2025),
    Body("Sở Dân tộc và Tôn giáo {unit}", MARCH_2025),
    Body("Sở Kế hoạch và Đầu tư {unit}", None, _MERGED, "Sở Tài chính {unit}"),
    Body("Sở Lao động - Thương binh và Xã hội {unit}", None, _MERGED, "Sở Nội vụ {unit}"),
    Body("Sở Giao thông vận tải {unit}", None, _MERGED, "Sở Xây dựng {unit}"),
    Body("Sở Thông tin và Truyền thông {unit}", None, _MERGED, "Sở Khoa học và Công nghệ {unit}"),
    Body(
        "Sở Tài nguyên và Môi trường {unit}", None, _MERGED, "Sở Nông nghiệp và Môi trường {unit}"
    ),
    Body(
        "Sở Nông nghiệp và Phát triển nông thôn {unit}",
        None,
        _MERGED,
        "Sở Nông nghiệp và Môi trường {unit}",
    ),
    Body("Ban Dân tộc {unit}", None, _MERGED, "Sở Dân tộc và Tôn giáo {unit}"),
)

# The offices of a district (Decree 37/2014/NĐ-CP, 108/2020/NĐ-CP), all ended with the
# district level on 30 June 2025. Rural districts and urban ones differ in two offices.
OFFICES: tuple[str, ...] = (
    "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân {unit}",
    "Phòng Nội vụ {unit}",
    "Phòng Tư pháp {unit}",
    "Phòng Tài chính - Kế hoạch {unit}",
    "Phòng Tài nguyên và Môi trường {unit}",
    "Phòng Lao động - Thương binh và Xã hội {unit}",
    "Phòng Văn hóa và Thông tin {unit}",
    "Phòng Giáo dục và Đào tạo {unit}",
    "Phòng Y tế {unit}",
    "Thanh tra {unit}",
)
RURAL_OFFICES = (
    "Phòng Nông nghiệp và Phát triển nông thôn {unit}",
    "Phòng Kinh tế và Hạ tầng {unit}",
)
URBAN_OFFICES = ("Phòng Kinh tế {unit}", "Phòng Quản lý đô thị {unit}")
