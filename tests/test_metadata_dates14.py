"""The issued date on unseen documents, round 14 (issue 18): the place-and-date line read a
second time and the vote per part (day, month, year) with the page read, and the checks that
raise or lower trust in a date (the code's year, a date after today, day and month ranges).

Pages are built from word boxes as in `test_metadata_unseen` (an A4 page at 300 dpi); the date
line's second read is given as the pipeline stores it (`PageResult.zones["date"]`). Each test
names the pages2 tuning failure it stands for.
"""

from __future__ import annotations

from datetime import date

from organs.registry import OrganRegistry
from pipeline.date_zone import DATE_ZONE, date_line_box, vote_date
from pipeline.extracted import Extracted
from pipeline.header import find_header, read_date
from pipeline.layout import page_lines
from pipeline.metadata import extract_metadata
from pipeline.metadata_dates import date_parts, notation_year, plausible_date
from schemas.fields import KEY_THRESHOLDS
from schemas.models import AdminMetadata, PageResult
from tests.test_metadata_unseen import _body, _centred, _footer, _header, _left, _page

DATE_TOP = 540  # where `_header` puts the date line


def _document(
    date_line: str = "Bản Qua, ngày 21 tháng 10 năm 2017",
    number: str = "Số: 685/KH-UBND",
    with_date: bool = True,
) -> PageResult:
    header = _header(
        [_left("UBND HUYỆN BÁT XÁT", 180, 3), _left("ỦY BAN NHÂN DÂN XÃ BẢN QUA", 262, 4)],
        date_line,
        number,
    )
    if not with_date:  # a seal's edge made the page layout drop the date line
        header = header[:-1]
    return _page(
        *header,
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 80),
        *_footer("Trần Quang Thắng", top=2300),
    )


def _read_at(page: PageResult, text: str, conf: float, top: int = DATE_TOP) -> None:
    hits = [w for w in page.words if w.text == text and w.top == top]
    assert hits, text
    for word in hits:
        word.confidence = conf


def _zone_read(page: PageResult, text: str, **confs: float) -> None:
    """The date line's second read, as `pipeline.page.date_zone_words` stores it."""
    words = [
        w.model_copy(update={"confidence": confs.get(w.text, 96.0), "block": 1001})
        for w in _centred(text, DATE_TOP, 1, cx=1750)
    ]
    page.zones = {**page.zones, DATE_ZONE: words}


def _extract(page: PageResult) -> AdminMetadata:
    return extract_metadata([page], find_organ=OrganRegistry.national().match_header)


def _date_reasons(meta: AdminMetadata) -> list[str]:
    return [r for r in meta.review_reasons if r.startswith("issued_date")]


# =========================================================================== the second read


def test_the_date_line_is_read_again_only_when_a_digit_is_unsure() -> None:
    page = _document()
    assert date_line_box(page) is None  # every digit read at 95
    _read_at(page, "10", 53.0)
    found = date_line_box(page)
    assert found is not None
    (left, top, right, bottom), one_line = found
    assert one_line and top <= DATE_TOP < DATE_TOP + 50 <= bottom < DATE_TOP + 80
    assert left < 1750 < right


def test_a_page_without_a_date_line_is_read_under_the_motto() -> None:
    """Pages2 tuning #30, #47: a seal's edge over the date line, the page read lost it."""
    found = date_line_box(_document(with_date=False))
    assert found is not None
    (left, top, right, bottom), one_line = found
    assert not one_line and top <= DATE_TOP and bottom >= DATE_TOP + 50 and right > 2000


def test_a_digit_two_reads_agree_on_is_sure() -> None:
    """Pages2 tuning #59: `08` read at 73 by the page, at 92 by the line's own read."""
    page = _document()
    _read_at(page, "10", 53.0)
    assert _date_reasons(_extract(page))  # one unsure read: a person looks
    _zone_read(page, "Bản Qua, ngày 21 tháng 10 năm 2017", **{"10": 92.0})
    meta = _extract(page)
    assert meta.issued_date.value == date(2017, 10, 21)
    assert _date_reasons(meta) == []


def test_reads_that_dispute_a_digit_leave_the_date_flagged_with_the_surer_value() -> None:
    """Pages2 tuning #24: the page read `2016` at 73, the line's read `2018` at 88."""
    page = _document("Nam Hà, ngày 16 tháng 04 năm 2016")
    _read_at(page, "2016", 73.0)
    _zone_read(page, "Nam Hà, ngày 16 tháng 04 năm 2018", **{"2018": 88.0})
    meta = _extract(page)
    assert meta.issued_date.value == date(2018, 4, 16)
    assert _date_reasons(meta)[0].startswith("issued_date low confidence")


def test_a_date_only_the_second_read_found_is_given() -> None:
    """Pages2 tuning #47: the date line lost by the page read, read under the motto."""
    page = _document(with_date=False)
    assert _extract(page).issued_date.value is None
    _zone_read(page, "Nam Hà, ngày 04 tháng 11 năm 2022")
    meta = _extract(page)
    assert meta.issued_date.value == date(2022, 11, 4)
    assert meta.issued_place.value == "Nam Hà"


def test_a_digit_read_as_a_marked_letter_is_no_digit() -> None:
    """Pages2 tuning #24 (heavy): `16` read `ló` at 89; folded it spelled 10, surely."""
    page = _document("Nam Hà, ngày ló tháng 04 năm 2018")
    _read_at(page, "ló", 89.0)
    meta = _extract(page)
    assert _date_reasons(meta)  # nothing read the day as digits
    _zone_read(page, "Nam Hà, ngày 16 tháng 04 năm 2018")
    meta = _extract(page)
    assert meta.issued_date.value == date(2018, 4, 16) and _date_reasons(meta) == []


def test_a_year_read_with_an_s_is_a_guess_the_second_read_settles() -> None:
    """Pages2 tuning #45: `năm 201S` (the 5's corner lost); the date was missing."""
    page = _document("Lào Cai, ngày 19 tháng 07 năm 201S")
    meta = _extract(page)
    assert meta.issued_date.value == date(2015, 7, 19)
    assert _date_reasons(meta)[0].startswith("issued_date low confidence")
    _zone_read(page, "Lào Cai, ngày 19 tháng 07 năm 2015")
    assert _date_reasons(_extract(page)) == []


# =========================================================================== consistency


def test_parts_are_read_with_how_surely_each_was_read() -> None:
    words = [("Phước", 96), ("Sơn,", 97), ("ngày", 97), ("2]", 77), ("tháng", 96), ("10", 53)]
    parts = date_parts([*words, ("năm", 96), ("2017", 96)])
    assert parts is not None and parts.values == {"d": 21, "m": 10, "y": 2017}
    assert parts.sure == {"d": 85.0, "m": 53, "y": 96} and parts.place == "Phước Sơn"


def test_day_and_month_out_of_range_are_no_date() -> None:
    assert plausible_date(30, 2, 2024) is None
    assert plausible_date(12, 13, 2024) is None
    assert plausible_date(0, 5, 2024) is None
    assert plausible_date(29, 2, 2024) == date(2024, 2, 29)
    line = [("ngày", 96), ("18", 96), ("tháng", 96), ("18", 96), ("năm", 96), ("2024", 96)]
    assert date_parts(line) is None


def test_the_year_of_the_code_notation() -> None:
    assert notation_year("12/2019/NĐ-CP") == 2019
    assert notation_year("685/KH-UBND") is None


def _voted(date_line: str, notation: str, **confs: float) -> Extracted:
    """The date as `vote_date` leaves it, the code's notation read surely as `notation` (the
    header's code parser reads `685/KH-UBND`; a notation with its year, `12/2019/NĐ-CP`, comes
    from a text layer or a person)."""
    page = _document(date_line)
    for text, conf in confs.items():
        _read_at(page, text, conf)
    header = find_header(page_lines(page))
    out = Extracted({})
    out.set("code_notation", notation, 0.97)
    read_date(header, out)
    vote_date(page, header, out, today=date(2026, 12, 7))
    return out


def test_a_year_the_code_contradicts_is_flagged() -> None:
    out = _voted("Bản Qua, ngày 21 tháng 10 năm 2018", "12/2019/NĐ-CP")
    assert out.get("issued_date") == date(2018, 10, 21)
    assert out.conf("issued_date") < KEY_THRESHOLDS["issued_date"]
    assert "code" in out.notes["issued_date"]
    same = _voted("Bản Qua, ngày 21 tháng 10 năm 2019", "12/2019/NĐ-CP")
    assert same.conf("issued_date") >= KEY_THRESHOLDS["issued_date"]


def test_an_unsure_year_the_code_confirms_is_sure() -> None:
    out = _voted("Bản Qua, ngày 21 tháng 10 năm 2019", "12/2019/NĐ-CP", **{"2019": 70.0})
    assert out.get("issued_date") == date(2019, 10, 21)
    assert out.conf("issued_date") >= KEY_THRESHOLDS["issued_date"]
    alone = _voted("Bản Qua, ngày 21 tháng 10 năm 2019", "685/KH-UBND", **{"2019": 70.0})
    assert alone.conf("issued_date") < KEY_THRESHOLDS["issued_date"]


def test_a_date_after_today_is_flagged() -> None:
    page = _document("Bản Qua, ngày 21 tháng 10 năm 2099")
    registry = OrganRegistry.national()
    meta = extract_metadata([page], find_organ=registry.match_header, today=date(2026, 12, 7))
    assert meta.issued_date.value == date(2099, 10, 21)
    assert any("after the day" in r for r in _date_reasons(meta))
