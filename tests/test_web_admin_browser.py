"""The admin pages in a real browser (Debian's chromium through Playwright): an admin signs in,
adds an officer through the form, issues the officer an API token (shown once, it works),
and revokes it (it stops working at once). One `sohoa serve` for the module, with no
documents: nothing here needs OCR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from accounts.service import Accounts
from app.compose import build_store
from app.config import Settings
from tests.conftest import TEST_ORGAN, TEST_PASSWORD
from tests.web_site import chromium, log_in, serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data = tmp_path_factory.mktemp("web-admin-browser")
    Accounts(build_store(Settings(data_dir=data))).add_user(
        "root", "admin", TEST_ORGAN, TEST_PASSWORD
    )
    with serving(data) as url, chromium() as browser:
        yield {"url": url, "browser": browser, "data": Path(data)}


def test_admin_adds_an_officer_issues_a_token_and_revokes_it(site: dict) -> None:
    url = site["url"]
    page = log_in(site["browser"], url, "root")
    page.get_by_role("link", name="Quản trị").click()
    page.wait_for_url(f"{url}/admin/users")
    page.fill("#new-login", "can-bo-moi")
    page.select_option("#new-role", "officer")
    # The organ field finds organs as one types (organs.js fills its datalist from /organs).
    page.fill("#new-organ", "bộ nội v")
    page.locator(f"#new-organ-list option[value='{TEST_ORGAN}']").wait_for(state="attached")
    page.fill("#new-organ", TEST_ORGAN)
    page.fill("#new-password", "mat-khau-moi-1")
    page.fill("#new-password-again", "mat-khau-moi-1")
    page.get_by_role("button", name="Thêm", exact=True).click()
    page.wait_for_url(f"{url}/admin/users/can-bo-moi?done=user_added")
    assert page.locator("h1").inner_text() == "can-bo-moi"
    assert "Đã thêm người dùng." in page.locator(".notice").inner_text()

    page.fill("#token-name", "may-tinh")
    page.get_by_role("button", name="Cấp mã API").click()
    token = page.locator("#new-token").input_value()
    assert len(token) > 30
    page.get_by_role("button", name="Sao chép").wait_for(state="visible")  # admin.js ran
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{url}/search", headers=bearer).status_code == 200

    page.goto(f"{url}/admin/users/can-bo-moi")
    assert page.locator("#new-token").count() == 0  # shown once: never again
    assert token not in page.content()
    row = page.locator("table.tokens tr", has_text="may-tinh")
    assert "chưa dùng" not in row.inner_text()  # its use above is recorded
    row.get_by_role("button", name="Thu hồi").click()
    page.wait_for_url(f"{url}/admin/users/can-bo-moi?done=token_revoked")
    assert page.locator("table.tokens").count() == 0
    assert httpx.get(f"{url}/search", headers=bearer).status_code == 401
