"""The web pages in a real browser: Debian's chromium, driven by Playwright for Python (never a
browser that Playwright downloads). One `sohoa serve` for the module, on a free port, with a
scanned page (OCR) and a born-digital page whose name and text carry markup."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
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
from tests.conftest import ROOT, TEST_PASSWORD
from tests.test_web import HOSTILE_NAME, add_users, hostile_pdf

pytestmark = pytest.mark.slow
SCAN_SEED = 7  # generate_batch(pages=1, seed=7) is a Quyết định: `quyet dinh` finds it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_site(data_dir: Path) -> Iterator[dict]:
    """`sohoa serve` on a free port over `data_dir`, with the users of tests/test_web.py and
    two documents uploaded by the archivist: {"url", "scan", "hostile"} (document ids)."""
    settings = Settings(data_dir=data_dir, workers=1)
    add_users(settings)
    port = free_port()
    env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir), "SOHOA_WORKERS": "1"}
    log = (data_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
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
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "sohoa serve exited"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("sohoa serve did not answer /health within 60 s")


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


@contextmanager
def chromium() -> Iterator:
    """Debian's chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("no chromium: scripts/setup.sh installs Debian's package", False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def log_in(browser, url: str, login: str, viewport: dict | None = None):  # noqa: ANN001, ANN201
    """A new browser context (its own cookies) logged in through the login page, with every
    dialog (alert) recorded in `page.dialogs`."""
    size = viewport or {"width": 1280, "height": 800}
    context = browser.new_context(viewport=size, locale="vi-VN")  # the default language
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}/")
    assert "/login?next=" in page.url
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.keyboard.press("Enter")  # the keyboard alone
    page.wait_for_url(f"{url}/")
    return page


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
