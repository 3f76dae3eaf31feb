"""Codes that carry their year, the place read with a doubted date, and the day a record is
read given by the caller (round 15, issue 18).

Pages are built from word boxes as in `test_metadata_unseen` (an A4 page at 300 dpi); the date
line's second read is given as the pipeline stores it (`PageResult.zones["date"]`).
"""

from __future__ import annotations

from datetime import date

import pytest

from organs.registry import OrganRegistry
from pipeline.metadata import extract_metadata
from pipeline.metadata_rules import parse_code_line
from schemas.fields import KEY_THRESHOLDS
from schemas.models import AdminMetadata, PageResult
from tests.test_metadata_dates14 import _document, _read_at, _zone_read
from tests.test_metadata_unseen import _body, _centred, _footer, _header, _left, _page

SURE = 0.8  # the views show a field at this confidence or more as sure (app/views.py)


@pytest.mark.parametrize(
    ("line", "number", "notation", "clean"),
    [
        ("Số: 12/2019/NĐ-CP", "12", "2019/NĐ-CP", True),
        ("Số: 05/2020/TT-BTC", "05", "2020/TT-BTC", True),
        ("Số: 123/QĐ-UBND", "123", "QĐ-UBND", True),
        ("Số: 12/2019/ND-CP", "12", "2019/NĐ-CP", False),  # the stroke of Đ lost
        ("Số: 12/2019/NÐ-CP", "12", "2019/NĐ-CP", False),  # Ð (eth) for Đ
        ("Số: 12/2019INĐ-CP", "12", "2019/NĐ-CP", False),  # the second slash read as I
        ("Số: 12|2019|NĐ-CP", "12", "2019/NĐ-CP", False),  # both read as strokes
        ("Số: 05/2O20/QĐ-UBND", "05", "2020/QĐ-UBND", False),  # a 0 read as O
        ("Số: 18 / 2021 / QĐ-UBND", "18", "2021/QĐ-UBND", True),
    ],
)
def test_a_code_with_its_year_is_parsed(line: str, number: str, notation: str, clean: bool) -> None:
    code = parse_code_line(line)
    assert code is not None
    assert (code.number, code.notation, code.clean) == (number, notation, clean)


def test_a_code_with_its_year_prints_as_it_stands() -> None:
    """The record shows the code as number/notation (app/views.py, exchange/outbox.py)."""
    code = parse_code_line("Số: 12/2019INÐ-CP")
    assert code is not None and f"{code.number}/{code.notation}" == "12/2019/NĐ-CP"


def _decision(number: str, date_line: str) -> PageResult:
    """A commune's Quyết định (the type its code's `QĐ` names), dated as given."""
    return _page(
        *_header(
            [_left("UBND HUYỆN BÁT XÁT", 180, 3), _left("ỦY BAN NHÂN DÂN XÃ BẢN QUA", 262, 4)],
            date_line,
            number,
        ),
        _centred("QUYẾT ĐỊNH", 767, 9),
        _centred("Về việc ban hành quy chế công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 80),
        *_footer("Trần Quang Thắng", top=2300),
    )


def _extract(page: PageResult, today: date | None = date(2026, 12, 7)) -> AdminMetadata:
    registry = OrganRegistry.national()
    return extract_metadata([page], find_organ=registry.match_header, today=today)


def _date_reasons(meta: AdminMetadata) -> list[str]:
    return [r for r in meta.review_reasons if r.startswith("issued_date")]


def test_the_year_of_the_code_settles_an_unsure_year() -> None:
    """`năm 2019` read at 70: alone a person looks; the code `05/2019/QĐ-UBND` agrees."""
    line = "Bản Qua, ngày 21 tháng 10 năm 2019"
    plain = _decision("Số: 05/QĐ-UBND", line)
    _read_at(plain, "2019", 70.0)
    assert _date_reasons(_extract(plain))
    page = _decision("Số: 05/2019/QĐ-UBND", line)
    _read_at(page, "2019", 70.0)
    meta = _extract(page)
    assert (meta.code_number.value, meta.code_notation.value) == ("05", "2019/QĐ-UBND")
    assert meta.issued_date.value == date(2019, 10, 21)
    assert _date_reasons(meta) == []


def test_a_year_the_code_contradicts_is_flagged() -> None:
    """`năm 2018` read surely under `Số: 05/2019/QĐ-UBND`: one of the two is misread."""
    meta = _extract(_decision("Số: 05/2019/QĐ-UBND", "Bản Qua, ngày 21 tháng 10 năm 2018"))
    reasons = _date_reasons(meta)
    assert reasons and "2019" in reasons[0]


def test_a_place_read_with_a_doubted_date_is_not_shown_as_sure() -> None:
    """The date line lost by the page read, found in the band under the motto: the date is
    flagged, and the place read on that line is kept but not sure."""
    page = _document(with_date=False)
    _zone_read(page, "Nam Hà, ngày 04 tháng 11 năm 2022")
    meta = _extract(page)
    assert meta.issued_date.value == date(2022, 11, 4)
    assert _date_reasons(meta)
    assert meta.issued_place.value == "Nam Hà"
    assert meta.issued_place.confidence < SURE
    found = _extract(_document("Nam Hà, ngày 04 tháng 11 năm 2022"))  # the page read it
    assert found.issued_place.value == "Nam Hà" and found.issued_place.confidence >= SURE


def test_a_place_the_organ_names_stays_sure_under_the_motto() -> None:
    """The place read under the motto is the locality of the organ's own name (`XÃ BẢN QUA`):
    the registry confirms it, whatever line it was read on."""
    page = _document(with_date=False)
    _zone_read(page, "Bản Qua, ngày 04 tháng 11 năm 2022")
    meta = _extract(page)
    assert _date_reasons(meta)
    assert meta.issued_place.value == "Bản Qua" and meta.issued_place.confidence >= SURE


def test_the_caller_gives_the_day_a_date_is_judged_against() -> None:
    """A date after the day the record is read has a digit read wrong; which day that is, the
    caller says (the worker: today in Vietnam), not the extractor's own clock."""
    page = _document("Bản Qua, ngày 05 tháng 01 năm 2027")
    before = _extract(page, today=date(2026, 12, 7))
    assert any("after the day" in r for r in _date_reasons(before))
    after = _extract(page, today=date(2027, 2, 1))
    assert after.issued_date.value == date(2027, 1, 5)
    assert after.issued_date.confidence >= KEY_THRESHOLDS["issued_date"]
    assert _date_reasons(after) == []
    assert _date_reasons(_extract(page, today=None)) == []  # no day given, none checked


@pytest.mark.parametrize(("day", "month"), [("T8", "06"), ("IS", "06"), ("18", "0T")])
def test_a_date_line_with_a_part_read_as_letters_is_still_the_date_line(
    day: str, month: str
) -> None:
    """Pages2 tuning #81, #90, #98: the day or month read as letters (`T8`, `IS` — an S for
    an 8, no 5 —, `0T`); the line is the header's date line all the same (its place is read,
    the date is not taken from the band under the motto and flagged for it), and its second
    read gives the part the page read could not."""
    page = _document(f"Lào Cai, ngày {day} tháng {month} năm 2019")
    alone = _extract(page)
    assert alone.issued_date.value is None  # no digits seen: no date guessed
    _zone_read(page, "Lào Cai, ngày 18 tháng 06 năm 2019")
    meta = _extract(page)
    assert meta.issued_date.value == date(2019, 6, 18)
    assert meta.issued_place.value == "Lào Cai"
    assert _date_reasons(meta) == []


def test_two_reads_each_missing_a_part_give_the_date_together() -> None:
    """Pages2 tuning #81: the page read `ngày T8 tháng 06`, the line's own read `ngày 18 tháng
    0Ó`: each part is read by one of them."""
    page = _document("Lào Cai, ngày T8 tháng 06 năm 2019")
    _zone_read(page, "Lào Cai, ngày 18 tháng 0Ó năm 2019")
    assert _extract(page).issued_date.value == date(2019, 6, 18)
