"""Screenshots of every main web page into docs/screenshots/, for the README: one command.

    .venv/bin/python scripts/screenshots.py

Starts `sohoa serve` on a temporary data folder with two sample documents (the site of
tests/test_web_browser.py, plus an admin) and photographs each page of SHOTS with Debian's
chromium through Playwright. A new page is one more `Shot` in SHOTS.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package is not installed

from accounts.service import Accounts  # noqa: E402
from app.compose import build_store  # noqa: E402
from app.config import Settings  # noqa: E402
from tests.conftest import TEST_ORGAN, TEST_PASSWORD  # noqa: E402
from tests.test_web_browser import running_site  # noqa: E402
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


SHOTS = [
    Shot("login.png", "/login", login=None),
    Shot("search.png", "/?q=quyet+dinh", full_page=True),
    Shot("document.png", "/documents/{scan}/view?q=quyet+dinh&page=1", ready=IMAGE_LOADED),
    Shot("search-phone.png", "/?q=quyet+dinh", viewport=PHONE),
    Shot("upload.png", "/upload", login="archivist"),
    Shot("review.png", "/review/queue", login="archivist", full_page=True),
    Shot("admin-users.png", "/admin/users", login="admin"),
    Shot("admin-status.png", "/admin/status", login="admin"),
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
        pages = {}  # one signed-in browser context per (login, viewport)
        for shot in SHOTS:
            key = (shot.login, tuple(shot.viewport.items()))
            if key not in pages:
                pages[key] = _page(browser, site["url"], shot)
            page = pages[key]
            page.goto(site["url"] + shot.path.format(**site))
            if shot.ready:
                page.wait_for_function(shot.ready)
            page.screenshot(path=OUT / shot.file, full_page=shot.full_page)
    print(f"{len(SHOTS)} screenshots written to {OUT}:")
    for shot in SHOTS:
        print(f"  {(OUT / shot.file).relative_to(ROOT)}")


def _page(browser, url: str, shot: Shot):  # noqa: ANN001, ANN202 - Playwright's Browser, Page
    if shot.login is None:
        return browser.new_context(viewport=shot.viewport, locale="vi-VN").new_page()
    return log_in(browser, url, shot.login, shot.viewport)


if __name__ == "__main__":
    main()
