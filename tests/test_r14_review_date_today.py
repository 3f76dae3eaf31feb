"""Round 14 review: "a date after today" is after today where the records are issued
(Vietnam, UTC+7, no daylight saving), not on the server's clock (UTC in the container): a
record dated today read at 06:30 in Hà Nội was flagged "after the day it was read". Round 15:
the worker reads the clock (`workers.describe.today_in_vietnam`) and passes the day to
`extract_metadata`, which reads no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

import pytest

import workers.describe as describe
from organs.registry import OrganRegistry
from pipeline.metadata import extract_metadata
from schemas.models import AdminMetadata, PageResult
from tests.test_metadata_dates14 import _date_reasons, _document

NOW_UTC = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # 06:30 on 8 December in Hà Nội


class _Date(date):
    @classmethod
    def today(cls) -> _Date:  # a server whose clock is UTC
        return cls(2026, 12, 7)


class _DateTime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _DateTime:  # type: ignore[override]
        moment = NOW_UTC.astimezone(tz) if tz is not None else NOW_UTC.replace(tzinfo=None)
        return cls.fromtimestamp(moment.timestamp(), moment.tzinfo)


@pytest.fixture
def morning_in_hanoi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(describe, "date", _Date, raising=False)
    monkeypatch.setattr(describe, "datetime", _DateTime, raising=False)


def _extract(page: PageResult) -> AdminMetadata:
    """As the worker calls it: today as the worker reads it."""
    today = describe.today_in_vietnam()
    return extract_metadata([page], find_organ=OrganRegistry.national().match_header, today=today)


@pytest.mark.usefixtures("morning_in_hanoi")
def test_a_record_dated_today_in_vietnam_is_not_after_the_day_it_was_read() -> None:
    meta = _extract(_document("Bản Qua, ngày 08 tháng 12 năm 2026"))
    assert meta.issued_date.value == date(2026, 12, 8)
    assert not any("after the day" in r for r in _date_reasons(meta))


@pytest.mark.usefixtures("morning_in_hanoi")
def test_a_record_dated_tomorrow_in_vietnam_is_still_flagged() -> None:
    meta = _extract(_document("Bản Qua, ngày 09 tháng 12 năm 2026"))
    assert any("after the day" in r for r in _date_reasons(meta))
