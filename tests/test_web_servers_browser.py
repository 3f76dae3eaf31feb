"""The web pages on the production backends, in a real browser (Debian's chromium through
Playwright): `sohoa serve` over an S3 bucket of its own, its own search index and Redis
database, with a `sohoa worker` process beside it doing the work. An archivist uploads a
born-digital PDF through the upload page; an officer finds it with a folded query, opens it,
sees its page image (rendered from the PDF in S3 by our own route) and downloads the original
and the searchable PDF (presigned links to the S3 server, signed for the public endpoint);
another organ's officer neither finds nor opens it, nor gets a link signed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from accounts.service import Accounts
from app.compose import build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from schemas.text import fold
from tests.conftest import TEST_ORGAN, TEST_PASSWORD, worker_process
from tests.test_web import add_users
from tests.web_site import chromium, log_in, serving

pytestmark = pytest.mark.slow
REDIS_DB = 13  # a Redis database of its own: no other module's worker takes these messages
QUERY = "giay moi chuyen doi so"  # folded words of make_documents(1, seed=16)'s Giấy mời


@pytest.fixture(scope="module")
def env(servers, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    run_id = uuid.uuid4().hex[:10]
    broker = servers["SOHOA_BROKER"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    storage = servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + f"/web-{run_id}"
    s3 = urlsplit(storage)
    return {
        **os.environ,
        "SOHOA_DATA_DIR": str(tmp_path_factory.mktemp("web-servers")),
        "SOHOA_STORAGE": storage,
        "SOHOA_SEARCH": servers["SOHOA_SEARCH"],
        "SOHOA_SEARCH_INDEX": f"web-{run_id}",
        "SOHOA_BROKER": broker,
        "SOHOA_WORKERS": "1",
        # Links are signed for the name a browser uses, not the one the server connects to.
        "SOHOA_PUBLIC_STORAGE_URL": f"http://localhost:{s3.port}",
    }


@pytest.fixture(scope="module")
def site(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data = Path(env["SOHOA_DATA_DIR"])
    settings = Settings(data_dir=data, storage=env["SOHOA_STORAGE"])
    add_users(settings)
    Accounts(build_store(settings)).add_user("root", "admin", TEST_ORGAN, TEST_PASSWORD)
    with (
        worker_process(env, data / "worker.log"),
        serving(data, env) as url,
        chromium() as browser,
    ):
        yield {"url": url, "browser": browser, "dir": data}


@pytest.fixture(scope="module")
def uploaded(site: dict) -> dict:
    """The archivist uploads a born-digital Giấy mời through the upload page (upload.js), and
    the worker process takes it to the end: {"id", "file"}."""
    folder = site["dir"] / "in"
    folder.mkdir()
    (doc,) = make_documents(1, seed=16, pages=1)
    pdf = write_pdf_digital(folder / "giấy mời.pdf", doc.pages)
    page = log_in(site["browser"], site["url"], "archivist")
    page.goto(f"{site['url']}/upload")
    page.set_input_files("#upload-files", [pdf])
    page.get_by_role("button", name="Tải lên").click()
    page.wait_for_selector("#upload-rows tbody tr[data-result=ok]", timeout=120_000)
    row = page.locator("#upload-rows tbody tr").first
    assert row.locator(".result").inner_text() == "xong"
    assert row.locator(".progress").inner_text().startswith("1/1")
    href = row.locator(".name a").get_attribute("href")  # /documents/<id>/view
    page.context.close()
    return {"id": href.split("/")[2], "file": pdf}


def test_an_officer_finds_opens_and_downloads_it(env: dict, site: dict, uploaded: dict) -> None:
    url, doc_id, s3 = site["url"], uploaded["id"], env["SOHOA_PUBLIC_STORAGE_URL"]
    page = log_in(site["browser"], url, "officer")
    page.fill("input[name=q]", QUERY)
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=*")
    hit = page.locator("li.hit", has=page.locator(f"a[href*='{doc_id}']"))
    marks = {fold(m) for m in hit.locator("mark").all_inner_texts()}
    assert "giay moi" in marks or "giay" in marks, marks

    # The page image is ours (rendered from the PDF the S3 server holds), never a redirect to
    # another origin, which the page's CSP (img-src 'self') would block.
    with page.expect_response(lambda r: "/pages/1/image" in r.url) as shown:
        hit.locator("h2 a").click()
    image = shown.value
    assert image.status == 200 and image.url.startswith(url), image.url
    assert image.request.redirected_from is None
    assert image.headers["content-type"] == "image/png"
    page.wait_for_url(f"**/documents/{doc_id}/view**")
    page.wait_for_function("document.getElementById('page-image').naturalWidth > 0")

    # Downloads go to the S3 server by a presigned link; the bytes arrive under their name.
    with page.expect_download() as original:
        page.get_by_role("link", name="Tệp gốc").click()
    assert original.value.url.startswith(f"{s3}/"), original.value.url  # signed for it
    assert original.value.suggested_filename == "giấy mời.pdf"
    assert Path(original.value.path()).read_bytes() == uploaded["file"].read_bytes()
    with page.expect_download() as searchable:
        page.get_by_role("link", name="PDF có thể tìm kiếm").click()
    assert searchable.value.url.startswith(f"{s3}/"), searchable.value.url
    assert searchable.value.suggested_filename == "giấy mời.pdf"
    assert Path(searchable.value.path()).read_bytes().startswith(b"%PDF-")
    assert page.dialogs == []


def test_another_organs_officer_neither_finds_nor_opens_it(site: dict, uploaded: dict) -> None:
    url, doc_id = site["url"], uploaded["id"]
    page = log_in(site["browser"], url, "outsider")
    page.goto(f"{url}/?q={QUERY.replace(' ', '+')}")
    assert page.locator(".summary").inner_text().startswith("0 văn bản")
    assert page.goto(f"{url}/documents/{doc_id}/view").status == 404
    for route in ("pages/1/image", "original", "pdf"):  # 404 before any link is signed
        answer = page.request.get(f"{url}/documents/{doc_id}/{route}", max_redirects=0)
        assert answer.status == 404, route


def test_the_status_page_shows_the_redis_queue_and_the_worker(site: dict, uploaded: dict) -> None:
    page = log_in(site["browser"], site["url"], "root")
    page.goto(f"{site['url']}/admin/status")
    shown = " ".join(page.locator("main").inner_text().split())
    # Our Redis database, and the one `sohoa worker` process seen by its heartbeat.
    assert f"redis://127.0.0.1:6379/{REDIS_DB}" in shown and "worker khác đang chạy 1" in shown
