"""Round 14, issue 18: the organ right on unseen pages, and never wrong without a flag.

Each test is one failure class found on pages2's tuning part (seed 1), rebuilt from word boxes
as an A4 page at 300 dpi lays them out (helpers of tests/test_metadata_unseen.py), and read
with the national registry as the product passes it (`match_header`)."""

from __future__ import annotations

from organs.registry import OrganRegistry
from pipeline.metadata import extract_metadata
from schemas.models import PageResult
from tests.test_metadata_unseen import (
    MOTTO,
    QUOC_HIEU,
    _body,
    _centred,
    _footer,
    _header,
    _left,
    _line,
    _page,
    _right,
)


def _national(page: PageResult):  # noqa: ANN202 - AdminMetadata
    return extract_metadata([page], find_organ=OrganRegistry.national().match_header)


def _organ_reasons(meta) -> list[str]:  # noqa: ANN001
    return [r for r in meta.review_reasons if r.startswith("organ")]


def test_an_organ_block_is_read_when_ocr_lost_both_the_number_and_the_date_line() -> None:
    """pages2 tuning #30: no `Số:` line and no date line were read; the organ block beside the
    national title is still the organ (it was: no header at all, organ missing)."""
    page = _page(
        _right(QUOC_HIEU, 255, 1),
        _left("UBND HUYỆN BÁT XÁT", 257, 2),
        _right(MOTTO, 330, 3),
        _left("ỦY BAN NHÂN DÂN THỊ TRẤN", 335, 4),
        _left("BÁT XÁT", 400, 5),
        _centred("BIÊN BẢN", 700, 6),
        _centred("Bàn giao hồ sơ, tài liệu tiêm chủng", 790, 7),
        *_body(1000, 70),
        *_footer("Trần Thanh Huyền", top=2300),
    )
    meta = _national(page)
    assert meta.organ_name.value == "ỦY BAN NHÂN DÂN THỊ TRẤN BÁT XÁT"
    assert meta.organ_parent.value == "UBND HUYỆN BÁT XÁT"
    assert meta.organ_id.value  # the registry's commune organ
    assert not _organ_reasons(meta)
    assert meta.needs_review  # the number and date are still missing: a person looks


def test_a_page_without_a_number_date_or_organ_block_has_no_organ() -> None:
    """The rule above needs capitals level with the national title: body text is no organ."""
    page = _page(
        _right(QUOC_HIEU, 255, 1),
        _right(MOTTO, 330, 3),
        _centred("BIÊN BẢN", 700, 6),
        *_body(1000, 70),
    )
    assert _national(page).organ_name.value is None


def test_an_organ_line_hanging_below_the_number_lines_top_stays_in_the_organ() -> None:
    """pages2 tuning heavy #17 (one-column header, skewed scan): the organ's last line's lowest
    box reaches below the top of the `Số:` line; it was dropped and the parent line read as
    the organ (flagged: 63 Sở fit)."""
    rows = [
        _centred(QUOC_HIEU, 256, 1),
        _centred(MOTTO, 324, 2),
        _line("SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN", 316, 412, 3),
        _line("CHI CỤC KIỂM LÂM TỈNH LÀO CAI", 316, 484, 4),
        _line("Số: 763/TB-CCKL", 316, 545, 5),
        _right("Lào Cai, ngày 06 tháng 05 năm 2024", 613, 6),
        _centred("THÔNG BÁO", 764, 7),
        _centred("Kết luận của Phó Chi cục trưởng", 835, 8),
        *_body(1000, 70),
        *_footer("Hồ Văn Dũng", top=2300),
    ]
    rows[3][-1].height = 73  # `CAI` and a speck under it: the box ends at 557 > 545 + 10
    meta = _national(_page(*rows))
    assert meta.organ_name.value == "CHI CỤC KIỂM LÂM TỈNH LÀO CAI"
    assert meta.organ_parent.value == "SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN"
    assert meta.organ_id.value
    assert not _organ_reasons(meta)


def test_an_organ_line_cut_at_the_column_boundary_is_one_line() -> None:
    """pages2 tuning heavy #46 (one-column header): `ỦY BAN NHÂN DÂN PHƯỜNG` | `NINH KIỀU`, cut
    where the two header columns usually meet; the name lost its place (flagged, no organ)."""
    words = _line("ỦY BAN NHÂN DÂN PHƯỜNG", 692, 565, 4)  # ends at 1132 px
    place = _line("NINH KIỀU", 1188, 565, 4)  # 56 px on, where the columns meet
    meta = _national(
        _page(
            _centred(QUOC_HIEU, 273, 1),
            _centred(MOTTO, 360, 2),
            _line("UBND THÀNH PHỐ CẦN THƠ", 399, 487, 3),
            words + place,
            _line("Số: 678/UBND-VP", 400, 653, 5),
            _right("Ninh Kiều, ngày 02 tháng 03 năm 2026", 809, 6),
            _centred("KẾ HOẠCH", 900, 7),
            _centred("Triển khai công tác văn thư, lưu trữ", 990, 8),
            *_body(1100, 70),
            *_footer("Hồ Văn Dũng", top=2300),
        )
    )
    assert meta.organ_name.value == "ỦY BAN NHÂN DÂN PHƯỜNG NINH KIỀU"
    assert meta.organ_id.value
    assert not _organ_reasons(meta)


def test_the_national_title_beside_an_organ_line_is_never_part_of_it() -> None:
    """The rejoining above takes capitals on the organ's row, but never the national title
    (a two-column header whose columns nearly touch)."""
    meta = _national(
        _page(
            _line("UBND HUYỆN BÁT XÁT", 740, 180, 1),  # ends at 1100 px
            _line(QUOC_HIEU, 1160, 180, 2),  # 60 px on: less than a column gap
            _line("ỦY BAN NHÂN DÂN THỊ TRẤN BÁT XÁT", 400, 262, 3),
            _right(MOTTO, 262, 2),
            _left("Số: 1025/KH-UBND", 530, 7),
            _right("Bát Xát, ngày 09 tháng 08 năm 2022", 540, 8),
            _centred("KẾ HOẠCH", 767, 9),
            _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
            *_body(1000, 80),
            *_footer("Hồ Văn Dũng", top=2300),
        )
    )
    assert meta.organ_parent.value == "UBND HUYỆN BÁT XÁT"
    assert meta.organ_name.value == "ỦY BAN NHÂN DÂN THỊ TRẤN BÁT XÁT"


def test_the_registry_spelling_keeps_the_printed_tone_placement_word_by_word() -> None:
    """pages2 tuning #38: `UỶ BAN NHÂN DÂN THÀNH` / `PHÔ CAN THƠ` — the registry puts the slips
    right (`PHỐ CẦN`) but `UỶ`, printed in the older placement, is the same word spelled as the
    page prints it; it was respelled `ỦY` and scored wrong without a flag."""
    page = _page(
        *_header(
            [_left("UỶ BAN NHÂN DÂN THÀNH", 180, 3), _left("PHÔ CAN THƠ", 262, 4)],
            "Cần Thơ, ngày 31 tháng 10 năm 2025",
            "Số: 2973/QĐ-UBND",
        ),
        _centred("QUYẾT ĐỊNH", 767, 9),
        _centred("Về việc thành lập Tổ công tác chuyển đổi số", 865, 10),
        *_body(1000, 80),
        *_footer("Hồ Văn Dũng", top=2300),
    )
    meta = _national(page)
    assert meta.organ_name.value == "UỶ BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ"
    assert meta.organ_id.value


def test_a_vowel_read_twice_with_two_tones_still_finds_the_registry_organ() -> None:
    """pages2 tuning #39: `BAN QUÁẢN LÝ DỰ ÁN ĐẦU TƯ` / `XÂY DỰNG` under `Ủy ban nhân dân thị
    xã Kỳ Anh` — one syllable carries one tone mark, so `QUÁẢN` is `QUẢN` read twice; the
    registry's district board fits (it was flagged as an organ of no kind, its name wrong)."""
    page = _page(
        *_header(
            [
                _left("Ủy ban nhân dân thị xã Kỳ Anh", 180, 3),
                _left("BAN QUÁẢN LÝ DỰ ÁN ĐẦU TƯ", 262, 4),
                _left("XÂY DỰNG", 340, 5),
            ],
            "Kỳ Anh, ngày 16 tháng 04 năm 2020",
            "Số: 1221/KH-BQLDA",
        ),
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 80),
        *_footer("Hồ Văn Dũng", top=2300),
    )
    meta = _national(page)
    assert meta.organ_name.value == "BAN QUẢN LÝ DỰ ÁN ĐẦU TƯ XÂY DỰNG"
    assert meta.organ_id.value and not meta.organ_id.value.startswith("LOCAL-")


def test_a_name_with_one_tone_per_syllable_is_left_as_read() -> None:
    from pipeline.reconcile import undoubled

    assert undoubled("ỦY BAN NHÂN DÂN XÃ KHOÁ") == "ỦY BAN NHÂN DÂN XÃ KHOÁ"
    assert undoubled("NGUYẾỄN DU") == "NGUYỄN DU"
