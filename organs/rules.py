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


# The units under an organ that every province, district or commune of a kind has, made by
# rule as the departments are (docs/registry.md). A unit's name is its head and the place
# (`Chi cục Kiểm lâm tỉnh Lào Cai`); `Văn phòng` and `Thanh tra` of a department carry the
# department's name (`Văn phòng Sở Y tế tỉnh Kon Tum`). A unit lives as long as its parent;
# a department that took another over (March 2025) holds that one's units from then on.
# Named units (a school, `Ban Quản lý rừng phòng hộ X`) cannot be listed: the extractor
# recognises them by their kind under a parent the registry knows (pipeline/reconcile.py).
DEPARTMENT_STAFF = ("Văn phòng", "Thanh tra")  # in every department (Decree 24/2014/NĐ-CP)
DEPARTMENT_UNITS: dict[str, tuple[str, ...]] = {
    # Circular 15/2015/TTLT-BNNPTNT-BNV, 14/2022/TT-BNNPTNT: the agriculture department's
    "Sở Nông nghiệp và Phát triển nông thôn {unit}": (
        "Chi cục Kiểm lâm",
        "Chi cục Thủy lợi",
        "Chi cục Trồng trọt và Bảo vệ thực vật",
        "Chi cục Chăn nuôi và Thú y",
        "Chi cục Thủy sản",
        "Chi cục Phát triển nông thôn",
        "Chi cục Quản lý chất lượng Nông lâm sản và Thủy sản",
        "Trung tâm Khuyến nông",
        "Trung tâm Nước sạch và Vệ sinh môi trường nông thôn",
    ),
    # Circular 05/2021/TT-BTNMT
    "Sở Tài nguyên và Môi trường {unit}": (
        "Chi cục Bảo vệ môi trường",
        "Chi cục Quản lý đất đai",
        "Văn phòng Đăng ký đất đai",
        "Trung tâm Quan trắc tài nguyên và môi trường",
        "Trung tâm Phát triển quỹ đất",
        "Trung tâm Công nghệ thông tin tài nguyên và môi trường",
    ),
    # Circular 37/2016/TT-BYT, 59/2015/TT-BYT
    "Sở Y tế {unit}": (
        "Chi cục Dân số - Kế hoạch hóa gia đình",
        "Chi cục An toàn vệ sinh thực phẩm",
        "Trung tâm Kiểm soát bệnh tật",
        "Trung tâm Giám định y khoa",
        "Trung tâm Pháp y",
        "Trung tâm Kiểm nghiệm",
    ),
    "Sở Lao động - Thương binh và Xã hội {unit}": (
        "Chi cục Phòng, chống tệ nạn xã hội",
        "Trung tâm Dịch vụ việc làm",
        "Trung tâm Bảo trợ xã hội",
    ),
    # Circular 15/2014/TT-BNV
    "Sở Nội vụ {unit}": (
        "Ban Thi đua - Khen thưởng",
        "Ban Tôn giáo",
        "Chi cục Văn thư - Lưu trữ",
        "Trung tâm Lưu trữ lịch sử",
    ),
    "Sở Tư pháp {unit}": (
        "Trung tâm Trợ giúp pháp lý nhà nước",
        "Trung tâm Dịch vụ đấu giá tài sản",
    ),
    "Sở Công Thương {unit}": ("Trung tâm Khuyến công và Xúc tiến thương mại",),
    "Sở Khoa học và Công nghệ {unit}": (
        "Chi cục Tiêu chuẩn Đo lường Chất lượng",
        "Trung tâm Ứng dụng tiến bộ khoa học và công nghệ",
    ),
    "Sở Thông tin và Truyền thông {unit}": ("Trung tâm Công nghệ thông tin và Truyền thông",),
    "Sở Văn hóa, Thể thao và Du lịch {unit}": (
        "Trung tâm Văn hóa",
        "Thư viện",
        "Bảo tàng",
        "Trung tâm Huấn luyện và Thi đấu thể dục thể thao",
    ),
    "Sở Kế hoạch và Đầu tư {unit}": ("Trung tâm Xúc tiến đầu tư",),
}
# Directly under a province's People's Committee (Decree 107/2020/NĐ-CP, 61/2018/NĐ-CP).
PROVINCE_UNITS = (
    "Ban Quản lý dự án đầu tư xây dựng",
    "Ban Quản lý các khu công nghiệp",
    "Trung tâm Phục vụ hành chính công",
    "Đài Phát thanh và Truyền hình",
    "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân",
)
# Under a district's People's Committee (Decree 120/2020/NĐ-CP's public service units).
DISTRICT_UNITS = (
    "Trung tâm Văn hóa, Thông tin và Thể thao",
    "Ban Quản lý dự án đầu tư xây dựng",
    "Trung tâm Phát triển quỹ đất",
)
RURAL_UNITS = ("Trung tâm Dịch vụ nông nghiệp",)
URBAN_UNITS = ("Đội Quản lý trật tự đô thị",)
# A district's health centre is a unit of the province's health department (Circular
# 37/2016/TT-BYT), named by its district (`SỞ Y TẾ TỈNH SÓC TRĂNG` / `TRUNG TÂM Y TẾ HUYỆN MỸ
# TÚ`), and ends with the district.
DISTRICT_HEALTH = "Trung tâm Y tế"
# The commune's offices from 1 July 2025 (Decree 150/2025/NĐ-CP): a ward's economic office
# also holds infrastructure and urban affairs.
COMMUNE_UNITS = (
    "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân",
    "Phòng Văn hóa - Xã hội",
    "Trung tâm Phục vụ hành chính công",
)
COMMUNE_ECONOMY = "Phòng Kinh tế"
WARD_ECONOMY = "Phòng Kinh tế, Hạ tầng và Đô thị"


def department_units(departments: tuple[Body, ...] = DEPARTMENTS) -> dict[str, list[Body]]:
    """Each department's units (`Body.name` the unit's head), the ones a department took over
    in March 2025 valid from then (`Sở Nông nghiệp và Môi trường` holds the forest ranger
    branch and the land registration office)."""
    out: dict[str, list[Body]] = {
        d.name: [Body(h) for h in (*DEPARTMENT_STAFF, *DEPARTMENT_UNITS.get(d.name, ()))]
        for d in departments
    }
    for d in departments:
        if not d.successor:
            continue
        held = {b.name for b in out[d.successor]}
        for unit in DEPARTMENT_UNITS.get(d.name, ()):
            if unit not in held:
                out[d.successor].append(Body(unit, MARCH_2025))
                held.add(unit)
    return out
