"""The probable duplicates in a real browser (Debian's chromium through Playwright, issue 20):
the review queue says a pair waits and leads to it, the archivist keeps one from the pair view,
and the search then shows that one only. Two born-digital PDFs of one paper (no OCR)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from accounts.service import Accounts
from app.compose import build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from tests.test_web import add_users
from tests.test_web_browser import _upload, _wait_done
from tests.web_site import chromium, log_in, serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data = tmp_path_factory.mktemp("web-duplicates")
    settings = Settings(data_dir=data, workers=1)
    add_users(settings)
    paper = make_documents(1, seed=7, pages=1)[0].pages
    files = {
        name: write_pdf_digital(data / name, paper, title=name)  # other bytes, one paper
        for name in ("ban-goc.pdf", "ban-quet-lai.pdf")
    }
    with serving(data) as url, chromium() as browser:
        token = Accounts(build_store(settings)).issue_token("archivist")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
            ids = {name: _upload(api, path, name) for name, path in files.items()}
            for doc_id in ids.values():
                _wait_done(api, doc_id)
            code = api.get(f"/documents/{ids['ban-goc.pdf']}").json()["metadata"]["code_number"]
            yield {"url": url, "browser": browser, "ids": ids, "api": api, "code": code["value"]}


def _found(api: httpx.Client, query: str) -> set[str]:
    answer = api.get("/search", params={"q": query})
    assert answer.status_code == 200, answer.text
    return {hit["document_id"] for hit in answer.json()["hits"]}


def _wait_loaded(image) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 30
    while not image.evaluate("img => img.complete && img.naturalWidth > 0"):
        assert time.monotonic() < deadline, "page image did not load"
        time.sleep(0.2)


def test_an_archivist_merges_a_pair_from_the_page_and_search_shows_one(site: dict) -> None:
    url, ids, query = site["url"], site["ids"], str(site["code"])
    assert _found(site["api"], query) == set(ids.values())  # both found before the merge
    page = log_in(site["browser"], url, "archivist")
    page.get_by_role("link", name="Kiểm tra").click()
    page.wait_for_url("**/review/queue")
    waiting = page.get_by_role("link", name="1 cặp văn bản có thể trùng lặp đang chờ xem xét")
    waiting.click()
    page.wait_for_url("**/review/pairs")
    assert "ban-quet-lai.pdf ↔ ban-goc.pdf" in page.locator("#pair-title").inner_text()
    for image in page.locator("table.pair img").all():  # both sides' page images load
        image.scroll_into_view_if_needed()
        _wait_loaded(image)
    page.get_by_role("button", name="Giữ “ban-goc.pdf”, bản kia là bản quét lại").click()
    page.wait_for_url("**/review/pairs?done=merge")
    assert page.locator(".saved").inner_text().startswith("Đã gộp")
    assert "Không có cặp văn bản nào có thể trùng lặp." in page.content()
    page.goto(f"{url}/?q={query}")
    hits = page.locator("li.hit h2 a")
    assert hits.count() == 1
    assert hits.first.get_attribute("href").startswith(f"/documents/{ids['ban-goc.pdf']}/view")
    assert _found(site["api"], query) == {ids["ban-goc.pdf"]}
    page.get_by_role("link", name="Kiểm tra").click()
    page.wait_for_url("**/review/queue")
    assert page.get_by_role("link", name="Văn bản có thể trùng lặp").count() == 1  # none wait
    assert page.dialogs == []
