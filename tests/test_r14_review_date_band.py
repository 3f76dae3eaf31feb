"""Round 14 review: a date only the band under the motto gave (the page read found no date
line) is a read of several lines, any of which may hold a date: a body line's reference
(`Căn cứ Luật ... ngày 19 tháng 6 năm 2015`) was taken as the issued date and its words as the
place, surely and unflagged. Such a date is given, for a person to confirm."""

from __future__ import annotations

from datetime import date

from schemas.fields import KEY_THRESHOLDS
from tests.test_metadata_dates14 import _date_reasons, _document, _extract, _zone_read

BODY_LINE = "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015"


def test_a_date_only_the_band_under_the_motto_gave_is_flagged() -> None:
    page = _document(with_date=False)
    _zone_read(page, BODY_LINE)
    meta = _extract(page)
    assert meta.issued_date.value == date(2015, 6, 19)  # given...
    assert meta.issued_date.confidence < KEY_THRESHOLDS["issued_date"]  # ...to be confirmed
    assert _date_reasons(meta)


def test_a_date_line_the_page_read_found_and_its_second_read_agree_on_stays_sure() -> None:
    page = _document("Nam Hà, ngày 04 tháng 11 năm 2022")
    _zone_read(page, "Nam Hà, ngày 04 tháng 11 năm 2022")
    meta = _extract(page)
    assert meta.issued_date.value == date(2022, 11, 4) and _date_reasons(meta) == []
