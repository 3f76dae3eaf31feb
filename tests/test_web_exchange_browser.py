"""The issue's exchange scenario in a real browser (Debian's chromium driven by Playwright): a
clerk of organ A sends a record to organ B; B's clerk sees it in the inbox and sets status 06;
A's clerk sees 06 on the sent page; an officer of organ C can neither find nor open the record.
One `sohoa serve` for the module over a data folder holding A's record (born-digital: no OCR)
and every organ's keys; the organs deliver to each other through the embedded transport."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from accounts.service import Accounts
from app.compose import build_store
from app.config import Settings
from tests.conftest import TEST_PASSWORD
from tests.test_web_exchange import (
    HOSTILE_SUBJECT,
    A,
    B,
    C,
    add_clerks,
    hostile_record_pdf,
    own_record,
)
from tests.web_site import chromium, serving

pytestmark = pytest.mark.slow


@contextmanager
def running_site(data_dir: Path) -> Iterator[dict]:
    """`sohoa serve` on a free port with clerks of A, B and C, an officer of C and A's record."""
    settings = Settings(data_dir=data_dir, workers=1)
    add_clerks(settings)
    accounts = Accounts(build_store(settings))
    accounts.add_user("officer-a", "officer", A, TEST_PASSWORD)
    accounts.add_user("officer-c", "officer", C, TEST_PASSWORD)
    record = own_record(settings, hostile_record_pdf(data_dir / "record.pdf"))
    with serving(data_dir) as url:
        yield {"url": url, "record": record}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data_dir = tmp_path_factory.mktemp("web-exchange-browser")
    with running_site(data_dir) as running, chromium() as browser:
        yield {**running, "browser": browser}


def log_in(site: dict, login: str, landing: str):  # noqa: ANN201
    """A new browser context logged in by keyboard from `/`; every dialog is recorded."""
    context = site["browser"].new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(f"{site['url']}/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site['url']}{landing}")
    return page


def test_a_clerk_sends_the_receiver_sets_06_the_sender_sees_it_a_third_organ_cannot(
    site: dict,
) -> None:
    url, record = site["url"], site["record"]
    sender = log_in(site, "clerk-a", "/exchange")  # a clerk lands on the exchange
    sender.goto(f"{url}/exchange/send?doc={record}")
    sender.fill("input[name=find]", "quang ngai")
    sender.keyboard.press("Enter")
    sender.wait_for_url("**find=quang+ngai**")
    sender.locator(f"input[name=to][value='{B}']").check()
    assert sender.locator(f"input[name=to][value='{A}']").count() == 0  # not to itself
    sender.get_by_role("button", name="Gửi", exact=True).click()
    sender.wait_for_url(f"{url}/exchange/messages/**")
    message_id = sender.url.rsplit("/", 1)[-1]

    receiver = log_in(site, "clerk-b", "/exchange")
    row = receiver.locator("table.messages tr", has_text=message_id[:12])
    for _ in range(100):  # delivered by the server's workers, in a moment
        if row.count():
            break
        receiver.wait_for_timeout(200)
        receiver.reload()
    assert row.locator("td").nth(1).inner_text().startswith(HOSTILE_SUBJECT)  # text, not markup
    row.locator("a").first.click()
    receiver.wait_for_url(f"**/exchange/messages/{message_id}")
    receiver.select_option("select[name=code]", "06")
    receiver.fill("input[name=note]", "đã xử lý xong")
    receiver.get_by_role("button", name="Cập nhật trạng thái").click()
    receiver.wait_for_load_state()
    assert "06 · Đã hoàn thành" in receiver.locator("table.statuses").first.inner_text()

    sender.goto(f"{url}/exchange/sent")
    sent_row = sender.locator("table.messages tr", has_text=message_id[:12])
    assert "06 · Đã hoàn thành" in sent_row.inner_text()
    assert sender.dialogs == [] and receiver.dialogs == []

    # An officer of C, which neither owns nor received the record, neither finds nor opens it
    # (the same words find it for an officer of A).
    query = "/?q=so+hoa+ho+so+luu+tru"
    own = log_in(site, "officer-a", "/")
    own.goto(f"{url}{query}")
    assert own.locator(f"a[href*='{record}']").count() >= 1
    stranger = log_in(site, "officer-c", "/")
    stranger.goto(f"{url}{query}")
    assert stranger.locator(f"a[href*='{record}']").count() == 0
    assert stranger.goto(f"{url}/documents/{record}/view").status == 404
