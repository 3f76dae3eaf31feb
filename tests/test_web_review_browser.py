"""The review queue in a real browser (Debian's chromium through Playwright): an archivist
opens the queue, corrects a field inline with the keyboard, and the search finds the document
by the new value at once. One `sohoa serve` for the module (the site of
tests/test_web_browser.py: a scanned page and a born-digital one with a hostile name)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.test_web_browser import running_site
from tests.web_site import chromium, log_in

pytestmark = pytest.mark.slow
NEW_SUBJECT = "Về việc lưu trữ hồ sơ địa chính xã Tân Lập"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_site(tmp_path_factory.mktemp("web-review")) as running, chromium() as browser:
        yield {**running, "browser": browser}


def test_a_correction_in_the_review_queue_is_found_by_search(site: dict) -> None:
    url, doc_id = site["url"], site["hostile"]
    page = log_in(site["browser"], url, "archivist")
    page.get_by_role("link", name="Kiểm tra").click()
    page.wait_for_url("**/review/queue")
    page.locator(f".review-queue a[href='/review/queue?doc={doc_id}']").click()
    page.wait_for_url(f"**/review/queue?doc={doc_id}")
    page.wait_for_function("document.querySelector('.review-image img').naturalWidth > 0")
    subject = page.locator("#value-subject")
    subject.fill(NEW_SUBJECT)
    subject.press("Enter")  # the form's first button: correct
    page.wait_for_url(f"**/review/queue?doc={doc_id}&saved=subject")
    assert page.locator(".saved").inner_text() == "Đã lưu: Trích yếu"
    assert page.locator("#value-subject").input_value() == NEW_SUBJECT
    page.goto(f"{url}/")
    page.fill("input[name=q]", "luu tru ho so dia chinh tan lap")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=luu+tru+ho+so+dia+chinh+tan+lap")
    hit = page.locator("li.hit h2 a").first
    assert hit.get_attribute("href").startswith(f"/documents/{doc_id}/view")
    assert hit.inner_text() == NEW_SUBJECT
    assert page.dialogs == []  # the hostile file name in the queue ran nothing
