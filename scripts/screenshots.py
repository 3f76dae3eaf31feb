"""Screenshots of every main web page into docs/screenshots/, for the README: one command.

    .venv/bin/python scripts/screenshots.py

Starts `sohoa serve` on a temporary data folder with two sample documents (the site of
tests/test_web_browser.py, plus an admin), adds one paper uploaded twice (a probable-duplicate
pair for /review/pairs), a scanner-folder batch and a fixity check (for the admin status page),
and photographs each page of SHOTS with Debian's chromium through Playwright. A new page is one
more `Shot` in SHOTS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package is not installed

from accounts.service import Accounts  # noqa: E402
from app.compose import build_store  # noqa: E402
from app.config import Settings  # noqa: E402
from corpus import make_documents, write_pdf_digital  # noqa: E402
from tests.conftest import TEST_ORGAN, TEST_PASSWORD  # noqa: E402
from tests.test_web_browser import _upload, _wait_done, running_site  # noqa: E402
from tests.web_site import chromium, log_in  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
IMAGE_LOADED = "document.getElementById('page-image').naturalWidth > 0"


@dataclass(frozen=True)
class Shot:
    file: str  # in docs/screenshots/
    path: str  # with the site's document ids: {scan}, {hostile}
    login: str | None = "officer"  # None: not signed in; "admin" is added for these shots
    viewport: dict = field(default_factory=lambda: DESKTOP)
    full_page: bool = False
    ready: str | None = None  # a JavaScript condition to wait for before the picture
    typed: tuple[str, str] | None = None  # (selector, text) typed before the picture
    appears: str | None = None  # a CSS selector waited for (the page's CSP forbids eval)


SHOTS = [
    Shot("login.png", "/login", login=None),
    Shot("search.png", "/?q=quyet+dinh", full_page=True),
    Shot("document.png", "/documents/{scan}/view?q=quyet+dinh&page=1", ready=IMAGE_LOADED),
    Shot("search-phone.png", "/?q=quyet+dinh", viewport=PHONE),
    Shot("upload.png", "/upload", login="archivist"),
    Shot("review.png", "/review/queue", login="archivist", full_page=True),
    Shot("review-pairs.png", "/review/pairs", login="archivist", full_page=True),
    Shot(
        "organ-field.png",
        "/documents/{scan}/view#sharing",
        login="archivist",
        typed=("#share-organ", "Bộ Tài chính"),
        appears="#share-organ-list option",
    ),
    Shot("batches.png", "/batches", login="archivist", full_page=True),
    Shot("admin-users.png", "/admin/users", login="admin"),
    Shot("admin-status.png", "/admin/status", login="admin", full_page=True),
    Shot("admin-audit.png", "/admin/audit", login="admin"),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="sohoa-shots-") as tmp,
        running_site(Path(tmp)) as site,
        chromium() as browser,
    ):
        accounts = Accounts(build_store(Settings(data_dir=Path(tmp))))
        accounts.add_user("admin", "admin", TEST_ORGAN, TEST_PASSWORD)
        _a_pair_and_a_fixity_check(Path(tmp), site["url"], accounts.issue_token("archivist"))
        pages = {}  # one signed-in browser context per (login, viewport)
        for shot in SHOTS:
            key = (shot.login, tuple(shot.viewport.items()))
            if key not in pages:
                pages[key] = _page(browser, site["url"], shot)
            page = pages[key]
            page.goto(site["url"] + shot.path.format(**site))
            if shot.typed:
                page.locator(shot.typed[0]).press_sequentially(shot.typed[1], delay=40)
            if shot.appears:
                page.locator(shot.appears).first.wait_for(state="attached")
            if shot.ready:
                page.wait_for_function(shot.ready)
            page.screenshot(path=OUT / shot.file, full_page=shot.full_page)
    print(f"{len(SHOTS)} screenshots written to {OUT}:")
    for shot in SHOTS:
        print(f"  {(OUT / shot.file).relative_to(ROOT)}")


def _a_pair_and_a_fixity_check(data: Path, url: str, token: str) -> None:
    """One paper uploaded twice (other bytes: a pair waits on /review/pairs), a scanner folder
    taken once (a batch on /batches), then `sohoa fixity`, whose last result the admin status
    page shows."""
    import httpx

    paper = make_documents(1, seed=5, pages=1)[0].pages
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
        for name in ("ban-goc.pdf", "ban-quet-lai.pdf"):
            path = write_pdf_digital(data / name, paper, title=name)
            _wait_done(api, _upload(api, path, name))
    env = {**os.environ, "SOHOA_DATA_DIR": str(data)}
    scans = data / "scans" / "2023.HS-12"  # a scanner folder's batch for /batches
    scans.mkdir(parents=True)
    for n, doc in enumerate(make_documents(2, seed=12, pages=1)):
        write_pdf_digital(scans / f"{n + 1:03}.pdf", doc.pages)
    watch = ["watch", str(scans.parent), "--once", "--polling", "--settle", "0.2"]
    watch += ["--dossier-from-subfolder", "--owner", TEST_ORGAN]
    for args in (watch, ["fixity"]):
        subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT, check=True)


def _page(browser, url: str, shot: Shot):  # noqa: ANN001, ANN202 - Playwright's Browser, Page
    if shot.login is None:
        return browser.new_context(viewport=shot.viewport, locale="vi-VN").new_page()
    return log_in(browser, url, shot.login, shot.viewport)


if __name__ == "__main__":
    main()
