"""The upload page in a real browser (Debian's chromium driven by Playwright): an archivist
chooses two born-digital PDFs and a dossier code, upload.js sends them one by one and follows
each to its result, files them into the dossier, and the batch is there to come back to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from accounts.service import Accounts
from app.compose import build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from tests.test_web import HOSTILE_NAME, add_users, hostile_pdf
from tests.web_site import chromium, log_in, serving

pytestmark = pytest.mark.slow
DOSSIER = "HS-WEB-UPLOAD"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`sohoa serve` over an empty store with the users of tests/test_web.py, and a browser."""
    data_dir = tmp_path_factory.mktemp("web-upload-browser")
    settings = Settings(data_dir=data_dir, workers=1)
    add_users(settings)
    with serving(data_dir) as url:
        token = Accounts(build_store(settings)).issue_token("archivist")
        with chromium() as browser:
            yield {"url": url, "browser": browser, "dir": data_dir, "token": token}


def two_pdfs(folder: Path) -> list[Path]:
    folder.mkdir()
    (doc,) = make_documents(1, seed=16, pages=1)
    hostile = hostile_pdf(folder / "hostile.pdf").rename(folder / HOSTILE_NAME)
    return [hostile, write_pdf_digital(folder / "quyet-dinh.pdf", doc.pages)]


def test_an_archivist_uploads_two_files_and_watches_them_to_the_end(site: dict) -> None:
    url = site["url"]
    page = log_in(site["browser"], url, "archivist")
    page.get_by_role("link", name="Tải lên", exact=True).click()
    page.wait_for_url(f"{url}/upload")
    page.set_input_files("#upload-files", two_pdfs(site["dir"] / "in"))
    page.fill("#upload-dossier", DOSSIER)
    page.get_by_role("button", name="Tải lên").click()
    rows = page.locator("#upload-rows tbody tr")
    rows.nth(1).wait_for()  # both rows shown while the files go, one by one
    for n in range(2):
        # progress, then the result: ok ("xong") once every page is done
        page.wait_for_selector(f"#upload-rows tbody tr:nth-child({n + 1})[data-result=ok]")
        assert rows.nth(n).locator(".result").inner_text() == "xong"
        assert rows.nth(n).locator(".progress").inner_text().startswith("1/1")
        assert rows.nth(n).locator("progress").get_attribute("value") == "1"
    assert page.url == f"{url}/upload"  # sent by upload.js, not by the form without JS
    assert rows.nth(0).locator(".name a").inner_text() == HOSTILE_NAME  # as text
    assert page.dialogs == []
    # Filed into the dossier named, once each was done.
    page.wait_for_selector("#upload-rows tbody tr:nth-child(2) .reason .note")
    auth = {"Authorization": f"Bearer {site['token']}"}
    dossier = httpx.get(f"{url}/dossiers/{DOSSIER}", headers=auth).json()
    assert dossier["doc_total"] == 2, dossier
    # The batch, to come back to later: both files, ok.
    page.locator("#upload-batch a").click()
    page.wait_for_url(f"{url}/batches/*")
    assert page.locator("#batch-rows tr.result-ok").count() == 2
