"""The web pages in a real browser: Debian's chromium, driven by Playwright for Python (never a
browser that Playwright downloads). One `sohoa serve` for the module, on a free port, with a
scanned page (OCR) and a born-digital page whose name and text carry markup."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from accounts.service import Accounts
from app.compose import build_store
from app.config import Settings
from corpus import generate_batch
from tests.test_web import HOSTILE_NAME, add_users, hostile_pdf
from tests.web_site import chromium, log_in, serving

pytestmark = pytest.mark.slow
SCAN_SEED = 7  # generate_batch(pages=1, seed=7) is a Quyết định: `quyet dinh` finds it


@contextmanager
def running_site(data_dir: Path) -> Iterator[dict]:
    """`sohoa serve` on a free port over `data_dir`, with the users of tests/test_web.py and
    two documents uploaded by the archivist: {"url", "scan", "hostile"} (document ids)."""
    settings = Settings(data_dir=data_dir, workers=1)
    add_users(settings)
    with serving(data_dir) as url:
        token = Accounts(build_store(settings)).issue_token("archivist")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
            batch = generate_batch(
                data_dir / "in", pages=1, seed=SCAN_SEED, formats=("png",), levels=("clean",)
            )
            scan = data_dir / "in" / batch.files[0].file
            ids = {
                "scan": _upload(api, scan, scan.name),
                "hostile": _upload(api, hostile_pdf(data_dir / "hostile.pdf"), HOSTILE_NAME),
            }
            for doc_id in ids.values():
                _wait_done(api, doc_id)
        yield {"url": url, **ids}


def _upload(api: httpx.Client, path: Path, name: str) -> str:
    answer = api.post("/documents", files={"file": (name, path.read_bytes())}, timeout=60)
    assert answer.status_code == 202, answer.text
    return answer.json()["document_id"]


def _wait_done(api: httpx.Client, doc_id: str) -> None:
    deadline = time.monotonic() + 300
    while (status := api.get(f"/documents/{doc_id}").json()["status"]) != "done":
        assert status not in ("failed", "partial"), status
        assert time.monotonic() < deadline, "the document did not finish"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_site(tmp_path_factory.mktemp("web-browser")) as running, chromium() as browser:
        yield {**running, "browser": browser}


def test_search_marks_the_hit_and_the_page_image_shows_the_hit_boxes(site: dict) -> None:
    page = log_in(site["browser"], site["url"], "officer")
    page.fill("input[name=q]", "quyet dinh")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=quyet+dinh")
    scan_hit = page.locator("li.hit", has=page.locator(f"a[href*='{site['scan']}']"))
    marks = scan_hit.locator("mark").all_inner_texts()
    assert any(m.casefold() == "quyết định" for m in marks), marks
    scan_hit.locator("h2 a").click()
    page.wait_for_url(f"**/documents/{site['scan']}/view**")
    image = page.locator("#page-image")
    image.wait_for()
    page.wait_for_function("document.getElementById('page-image').naturalWidth > 0")
    assert page.locator("rect.hit-box").count() >= 2
    box = page.locator("rect.hit-box").first.bounding_box()
    frame = image.bounding_box()
    assert box and frame and frame["x"] <= box["x"] < frame["x"] + frame["width"]
    assert page.locator(".page-text mark").count() >= 1
    assert page.dialogs == []


def test_a_stored_xss_attempt_renders_as_text(site: dict) -> None:
    page = log_in(site["browser"], site["url"], "officer")
    page.goto(f"{site['url']}/?q=so+hoa+tai+lieu")
    hit = page.locator("li.hit", has=page.locator(f"a[href*='{site['hostile']}']"))
    assert hit.locator("h2 a").inner_text() == HOSTILE_NAME
    assert "<script>alert(1)</script>" in hit.locator(".snippet").inner_text()
    hit.locator("h2 a").click()
    page.wait_for_url(f"**/documents/{site['hostile']}/view**")
    assert "<script>alert(1)</script>" in page.locator(".page-text pre").inner_text()
    assert page.locator("main img[src='x']").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_another_organs_officer_cannot_open_it(site: dict) -> None:
    page = log_in(site["browser"], site["url"], "outsider")
    answer = page.goto(f"{site['url']}/documents/{site['scan']}/view")
    assert answer.status == 404
    image = page.request.get(f"{site['url']}/documents/{site['scan']}/pages/1/image")
    assert image.status == 404


def test_another_organs_officer_cannot_find_it(site: dict) -> None:
    """Needs the backends' viewer filter (the search branch of round 5)."""
    page = log_in(site["browser"], site["url"], "outsider")
    page.goto(f"{site['url']}/?q=quyet+dinh")
    assert page.locator(f"a[href*='{site['scan']}']").count() == 0


def test_logout_and_phone_width(site: dict) -> None:
    page = log_in(site["browser"], site["url"], "officer", {"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the search page scrolls sideways at phone width ({width}px)"
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/login")
    page.goto(f"{site['url']}/")
    assert "/login?next=" in page.url
