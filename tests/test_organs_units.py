"""The units under the registry's organs (issue 18, round 13): the standard units of every
provincial department, district and (since 1 July 2025) commune made by rule and dated as
their parent, and the organs no source enumerates (schools, named boards) recognised by their
kind under a parent the registry resolves, given a local code, and trusted only when read
surely (organs/rules.py, organs/national.py, pipeline/local_organ.py, pipeline/reconcile.py).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from organs.registry import OrganRegistry
from pipeline.extracted import Extracted
from pipeline.local_organ import organ_kind
from pipeline.reconcile import read_registry
from tests.conftest import cli_with_env


@pytest.fixture(scope="module")
def national() -> OrganRegistry:
    return OrganRegistry.national()


def test_a_department_unit_resolves_under_its_department_on_the_documents_date(
    national,
) -> None:
    header = "SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN\nCHI CỤC KIỂM LÂM TỈNH LÀO CAI"
    before = national.match(header, on=date(2023, 5, 1)).organ
    assert before is not None and before.name == "Chi cục Kiểm lâm tỉnh Lào Cai"
    assert before.generated and before.code_kind == "local"
    parent = national.require(before.parent)
    assert parent.name == "Sở Nông nghiệp và Phát triển nông thôn tỉnh Lào Cai"
    assert before.valid_to == date(2025, 2, 28)  # as its department: merged in March 2025
    # Since March 2025 the same branch is the merged department's, and took over the first.
    after = national.match("CHI CỤC KIỂM LÂM TỈNH LÀO CAI", on=date(2025, 8, 1)).organ
    assert after is not None and after.organ_id != before.organ_id
    assert national.require(after.parent).name == "Sở Nông nghiệp và Môi trường tỉnh Lào Cai"
    assert before.successors == [after.organ_id]


def test_a_district_unit_dated_2026_does_not_resolve(national) -> None:
    # The health centre is the province's health department's, named by its district.
    header = "SỞ Y TẾ TỈNH LÀO CAI\nTRUNG TÂM Y TẾ HUYỆN BÁT XÁT"
    found = national.match(header, on=date(2019, 3, 4))
    assert found.organ is not None and found.organ.name == "Trung tâm Y tế huyện Bát Xát"
    assert found.organ.valid_to == date(2025, 6, 30)  # the district level's end
    assert found.organ.level.value == "district"
    assert national.require(found.organ.parent).name == "Sở Y tế tỉnh Lào Cai"
    assert national.match(
        "UBND HUYỆN BÁT XÁT\nBAN QUẢN LÝ DỰ ÁN ĐẦU TƯ XÂY DỰNG", on=date(2019, 3, 4)
    ).organ
    late = national.match(header, on=date(2026, 3, 4))  # the department lives on: not it
    assert late.organ is None
    assert "existed on 2026-03-04" in late.reason


def test_a_communes_office_exists_from_the_reform_on(national) -> None:
    lao_cai = national.match("UBND XÃ BẢN LẦU", on=date(2026, 1, 5)).organ
    assert lao_cai is not None
    header = "UBND XÃ BẢN LẦU\nVĂN PHÒNG HĐND VÀ UBND"
    office = national.match(header, on=date(2026, 1, 5)).organ
    assert office is not None and office.parent == lao_cai.organ_id
    assert office.name == "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân xã Bản Lầu"
    assert national.match(header, on=date(2024, 1, 5)).organ is None  # no such office then


def _read(name: str, parent: str, on: date, name_conf: float) -> Extracted:
    out = Extracted({})
    out.set("organ_name", name, name_conf)
    out.set("organ_parent", parent, 0.95)
    out.set("issued_date", on, 0.95)
    read_registry(OrganRegistry.national().match_header, out)
    return out


def test_a_school_under_a_known_commune_is_a_local_organ_only_when_read_surely() -> None:
    commune = OrganRegistry.national().match("UBND XÃ BẢN LẦU", on=date(2026, 1, 5)).organ
    assert commune is not None
    sure = _read("TRƯỜNG TIỂU HỌC BẢN LẦU SỐ 2", "UBND XÃ BẢN LẦU", date(2026, 1, 5), 0.93)
    assert sure.conf("organ_name") >= 0.75  # over the key threshold: not flagged
    code = sure.get("organ_id")
    assert code.startswith(f"LOCAL-{commune.organ_id}-")  # marked local, its parent's id in it
    assert sure.get("organ_level") == "commune"
    # The same school read a second time, in another case and spacing, gets the same code.
    again = _read("Trường Tiểu học Bản  Lầu số 2", "UBND XÃ BẢN LẦU", date(2026, 2, 1), 0.93)
    assert again.get("organ_id") == code
    unsure = _read("TRƯỜNG TIỂU HỌC BẢN LẦU SỐ 2", "UBND XÃ BẢN LẦU", date(2026, 1, 5), 0.84)
    assert unsure.conf("organ_name") < 0.75 and unsure.get("organ_id") is None
    assert "the name not read surely" in unsure.notes["organ_name"]


def test_an_unlisted_organ_needs_a_kind_and_a_parent_valid_on_the_date() -> None:
    no_kind = _read("HỢP TÁC XÃ NÔNG NGHIỆP BẢN LẦU", "UBND XÃ BẢN LẦU", date(2026, 1, 5), 0.95)
    assert no_kind.conf("organ_name") < 0.75 and no_kind.get("organ_id") is None
    assert "no organ kind in the name" in no_kind.notes["organ_name"]
    # A district's board after the district level ended: the parent resolves to no organ.
    gone = _read("BAN QUẢN LÝ RỪNG PHÒNG HỘ BÁT XÁT", "UBND HUYỆN BÁT XÁT", date(2026, 1, 5), 0.95)
    assert gone.conf("organ_name") < 0.75 and gone.get("organ_id") is None
    assert "the parent line names no one registry organ" in gone.notes["organ_name"]
    kept = _read("BAN QUẢN LÝ RỪNG PHÒNG HỘ BÁT XÁT", "UBND HUYỆN BÁT XÁT", date(2024, 1, 5), 0.95)
    assert kept.get("organ_id").startswith("LOCAL-")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("TRƯỜNG THCS NGUYỄN DU", "truong thcs"),
        ("Trường Trung học cơ sở xã Đắk Mar", "truong trung hoc co so"),
        ("BAN QUẢN LÝ DỰ ÁN ĐẦU TƯ XÂY DỰNG KHU VỰC 2", "ban quan ly"),
        ("ĐỘI QUẢN LÝ THỊ TRƯỜNG SỐ 3", "doi"),
        ("TRUNG TÂM XÃ AN PHÚ", None),  # a kind followed by a place only
        ("TRƯỜNG", None),
        ("CÔNG TY TNHH AN PHÚ", None),
    ],
)
def test_the_kinds_an_unlisted_organ_is_recognised_by(name: str, kind: str | None) -> None:
    assert organ_kind(name) == kind


def test_organs_show_gives_a_generated_units_history(tmp_path: Path) -> None:
    unit = (
        OrganRegistry.national()
        .match("SỞ Y TẾ\nCHI CỤC AN TOÀN VỆ SINH THỰC PHẨM TỈNH YÊN BÁI", on=date(2024, 6, 3))
        .organ
    )
    assert unit is not None
    env = {**os.environ, "SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_ORGANS": "national"}
    shown = cli_with_env(env, "organs", "show", unit.organ_id)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert f"{unit.organ_id} Chi cục An toàn vệ sinh thực phẩm tỉnh Yên Bái" in out
    assert "local, not official, generated by rule" in out
    assert "Sở Y tế tỉnh Yên Bái" in out  # its parent
    assert "2025-06-30 (abolished)" in out  # Yên Bái merged into Lào Cai on 1 July 2025
    assert "Chi cục An toàn vệ sinh thực phẩm tỉnh Lào Cai" in out  # who took it over


def test_header_lines_none_opening_an_organ_are_one_name_when_the_registry_says_so() -> None:
    """Three capital lines with no organ opening after the first: the header reader takes the
    first for the parent; the registry knows the whole as one department."""
    out = _read("BINH VÀ XÃ HỘI TÍNH BÌNH ĐỊNH", "SỞ LAO ĐỘNG - THƯƠNG", date(2017, 11, 13), 0.95)
    assert out.get("organ_name") == "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI TỈNH BÌNH ĐỊNH"
    assert out.get("organ_parent") == ""
    organ = OrganRegistry.national().get(out.get("organ_id"))
    assert organ is not None and organ.name == "Sở Lao động - Thương binh và Xã hội tỉnh Bình Định"


def test_a_header_line_is_the_parent_even_when_a_speck_hangs_below_it() -> None:
    """A mixed-case parent line whose lowest box reaches the organ's line (a speck under it,
    pages2 tuning) is still the parent: its own height, not its lowest box, places it."""
    from pipeline.header import find_header
    from pipeline.layout import page_lines
    from tests.test_metadata_unseen import _header, _left, _page

    parent = _left("Ủy ban nhân dân thành phố Hà Tĩnh", 340, 3)
    parent[-1].height += 38  # the last word's box runs down past the organ line's top
    page = _page(
        *_header(
            [parent, _left("ỦY BAN NHÂN DÂN PHƯỜNG NAM HÀ", 402, 4)],
            "Nam Hà, ngày 26 tháng 08 năm 2023",
            "Số: 2854/TB-UBND",
        )
    )
    header = find_header(page_lines(page))
    assert header is not None
    assert [s.text for s in header.parent_lines] == ["Ủy ban nhân dân thành phố Hà Tĩnh"]
