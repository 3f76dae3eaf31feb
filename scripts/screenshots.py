"""Screenshots of the main web pages into docs/screenshots/, for the README.

    .venv/bin/python scripts/screenshots.py

Starts `sohoa serve` on a temporary data folder with two sample documents (the site of
tests/test_web_browser.py) and photographs it with Debian's chromium through Playwright.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package is not installed

from tests.test_web_browser import chromium, log_in, running_site  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="sohoa-shots-") as tmp,
        running_site(Path(tmp)) as site,
        chromium() as browser,
    ):
        url = site["url"]
        context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
        login = context.new_page()
        login.goto(f"{url}/login")
        login.screenshot(path=OUT / "login.png")
        page = log_in(browser, url, "officer")
        page.goto(f"{url}/?q=quyet+dinh")
        page.screenshot(path=OUT / "search.png", full_page=True)
        page.goto(f"{url}/documents/{site['scan']}/view?q=quyet+dinh&page=1")
        page.wait_for_function("document.getElementById('page-image').naturalWidth > 0")
        page.screenshot(path=OUT / "document.png")
        upload = log_in(browser, url, "archivist")
        upload.goto(f"{url}/upload")
        upload.screenshot(path=OUT / "upload.png")
        review = log_in(browser, url, "archivist")
        review.goto(f"{url}/review/queue")
        review.screenshot(path=OUT / "review.png", full_page=True)
        phone = log_in(browser, url, "officer", PHONE)
        phone.goto(f"{url}/?q=quyet+dinh")
        phone.screenshot(path=OUT / "search-phone.png")
    for shot in sorted(OUT.glob("*.png")):
        print(shot.relative_to(ROOT))


if __name__ == "__main__":
    main()
