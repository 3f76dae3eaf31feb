"""The admin pages (issue 16): users and API tokens through the forms, the audit log and its
verify, the system status; all of it for admins only, with CSRF on every form and hostile
strings shown as text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_services, build_store
from app.config import Settings
from exchange.audit import AuditLog
from tests.conftest import TEST_ORGAN, TEST_PASSWORD
from tests.test_web import HTML, hostile_pdf
from workers.jobs import ingest_batch

HOSTILE_ORGAN = "<script>alert('organ')</script>"
HOSTILE_TARGET = "<img src=x onerror=alert(1)>"
BROKEN_PDF = b"%PDF-1.4\n" + b"\x00not a pdf at all\n" * 40


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An admin, an officer, an archivist and a clerk of TEST_ORGAN, a user whose organ is
    markup, one good document and one that failed."""
    tmp = tmp_path_factory.mktemp("web-admin")
    settings = Settings(data_dir=tmp / "data", workers=1, organ=TEST_ORGAN)
    accounts = Accounts(build_store(settings))
    for login, role in (("root", "admin"), ("officer", "officer"), ("archivist", "archivist")):
        accounts.add_user(login, role, TEST_ORGAN, TEST_PASSWORD)
    accounts.add_user("clerk", "clerk", TEST_ORGAN, TEST_PASSWORD)
    accounts.add_user("odd", "officer", HOSTILE_ORGAN, TEST_PASSWORD)
    broken = tmp / "broken-scan.pdf"
    broken.write_bytes(BROKEN_PDF)
    good = hostile_pdf(tmp / "good.pdf")
    rows = ingest_batch(build_services(settings), [str(good), str(broken)], threads=1).rows
    assert [r.result for r in rows] == ["ok", "failed"], rows
    app = create_app(settings)
    with TestClient(app):  # the lifespan: the worker pool runs
        yield {"app": app, "settings": settings, "failed": rows[1].doc.id}


def signed_in(site: dict, login: str) -> tuple[TestClient, str]:
    """A browser-like client signed in through the login form, and its CSRF token."""
    client = TestClient(site["app"], headers=HTML)
    answer = client.post(
        "/login", data={"login": login, "password": TEST_PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/admin/users" if login == "root" else "/logout", follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:  # a non-admin: the logout form of the search page has it
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    return client, token.group(1) if token else ""


def test_admin_adds_a_user_through_the_form_and_that_user_can_log_in(site: dict) -> None:
    admin, csrf = signed_in(site, "root")
    page = admin.get("/admin/users")
    assert page.status_code == 200
    assert "Bộ Nội vụ" in page.text and 'name="password_again"' in page.text
    form = {"csrf_token": csrf, "login": "newbie", "role": "officer", "organ": TEST_ORGAN}
    refusals = [
        ({"password": "secret-one-1", "password_again": "secret-two-2"}, "không khớp"),
        ({"password": "short", "password_again": "short"}, "ít nhất 8 ký tự"),
        ({"login": "a/b", "password": "long-enough-1", "password_again": "long-enough-1"}, "1–64"),
        (
            {"organ": "NO.SUCH", "password": "long-enough-1", "password_again": "long-enough-1"},
            "danh mục",
        ),
    ]
    for change, said in refusals:
        answer = admin.post("/admin/users", data={**form, **change})
        assert answer.status_code == 400 and said in answer.text, (change, answer.text[-800:])
        assert change["password"] not in answer.text  # never echoed back
    forged = admin.post("/admin/users", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403
    added = admin.post(
        "/admin/users",
        data={**form, "password": "newbie-password", "password_again": "newbie-password"},
        follow_redirects=False,
    )
    assert (added.status_code, added.headers["location"]) == (
        303,
        "/admin/users/newbie?done=user_added",
    )
    again = admin.post(
        "/admin/users",
        data={**form, "password": "newbie-pass-2", "password_again": "newbie-pass-2"},
    )
    assert again.status_code == 400 and "đã có người dùng" in again.text
    listed = admin.get("/admin/users").text
    assert re.search(r"newbie</a></td>\s*<td>cán bộ</td>\s*<td>Bộ Nội vụ", listed)
    newbie = TestClient(site["app"], headers=HTML)
    login = newbie.post(
        "/login",
        data={"login": "newbie", "password": "newbie-password"},
        follow_redirects=False,
    )
    assert (login.status_code, login.headers["location"]) == (303, "/")
    assert newbie.get("/").status_code == 200
    english = admin.post(
        "/admin/users?lang=en", data={**form, "password": "x" * 9, "password_again": "y" * 9}
    )
    assert "The two passwords differ." in english.text


def test_a_token_is_shown_once_works_and_revoking_it_ends_it_at_once(site: dict) -> None:
    admin, csrf = signed_in(site, "root")
    issued = admin.post("/admin/users/officer/tokens", data={"csrf_token": csrf, "name": "laptop"})
    assert issued.status_code == 200
    token = re.search(r'id="new-token"[^>]*value="([^"]+)"', issued.text).group(1)
    assert "chỉ hiện một lần" in issued.text and ">Sao chép</button>" in issued.text
    bearer = TestClient(site["app"], headers={"Authorization": f"Bearer {token}"})
    assert bearer.get("/search", params={"q": "quyết định"}).status_code == 200
    listing = admin.get("/admin/users/officer")
    assert "laptop" in listing.text and token not in listing.text
    assert re.search(
        r"<td>laptop</td>\s*<td>[\d-]+ [\d:]+</td>\s*<td>[\d-]+ [\d:]+</td>", listing.text
    )
    taken = admin.post("/admin/users/officer/tokens", data={"csrf_token": csrf, "name": "laptop"})
    assert taken.status_code == 400 and "đã có một mã tên như vậy" in taken.text
    revoked = admin.post(
        "/admin/users/officer/tokens/revoke",
        data={"csrf_token": csrf, "name": "laptop"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    answer = bearer.get("/search", params={"q": "quyết định"})
    assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized")
    assert "laptop" not in admin.get("/admin/users/officer").text


def test_disabling_a_user_ends_its_session(site: dict) -> None:
    Accounts(build_store(site["settings"])).add_user(
        "leaving", "officer", TEST_ORGAN, TEST_PASSWORD
    )
    leaving, _ = signed_in(site, "leaving")
    assert leaving.get("/", follow_redirects=False).status_code == 200
    admin, csrf = signed_in(site, "root")
    done = admin.post(
        "/admin/users/leaving/disable", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "Tài khoản đã bị khóa." in admin.get(done.headers["location"]).text
    after = leaving.get("/", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


def test_password_set_by_the_admin_is_the_one_that_works(site: dict) -> None:
    Accounts(build_store(site["settings"])).add_user("forgot", "clerk", TEST_ORGAN, TEST_PASSWORD)
    admin, csrf = signed_in(site, "root")
    form = {"csrf_token": csrf, "password": "brand-new-pass", "password_again": "brand-new-pass"}
    short = admin.post("/admin/users/forgot/password", data={**form, "password_again": "other"})
    assert short.status_code == 400 and "không khớp" in short.text
    assert admin.post("/admin/users/forgot/password", data=form).status_code == 200
    client = TestClient(site["app"])
    answer = client.post("/login", json={"login": "forgot", "password": "brand-new-pass"})
    assert answer.status_code == 200, answer.text


def test_non_admins_get_403_on_every_admin_page_and_no_admin_link(site: dict) -> None:
    paths = sorted(
        (method, route.path)
        for route in site["app"].routes
        if isinstance(route, APIRoute) and route.path.startswith("/admin")
        for method in route.methods
    )
    assert len(paths) >= 10, paths
    for login in ("officer", "archivist", "clerk"):
        client, csrf = signed_in(site, login)
        for method, path in paths:
            url = path.replace("{login}", "officer")
            answer = client.request(method, url, data={"csrf_token": csrf, "name": "x"})
            assert answer.status_code == 403, (login, method, path, answer.text)
        if login != "clerk":  # a clerk has no search page (yet)
            assert 'href="/admin/users"' not in client.get("/").text
    admin, _ = signed_in(site, "root")
    assert 'href="/admin/users"' in admin.get("/").text


def test_hostile_organ_and_audit_strings_render_as_text(site: dict) -> None:
    services = build_services(site["settings"])
    AuditLog.for_options(services.store, services.exchange).append(
        HOSTILE_ORGAN, "read", HOSTILE_TARGET, note="<b>bold</b>"
    )
    admin, _ = signed_in(site, "root")
    users = admin.get("/admin/users").text
    assert "&lt;script&gt;alert(&#39;organ&#39;)&lt;/script&gt;" in users
    assert "<script>alert" not in users
    user = admin.get("/admin/users/odd").text
    assert "&lt;script&gt;" in user and "<script>alert" not in user
    audit = admin.get("/admin/audit").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in audit and "<img src=x" not in audit
    assert "note=&lt;b&gt;bold&lt;/b&gt;" in audit


def test_status_page_shows_counts_queue_backends_and_the_failed_document(site: dict) -> None:
    admin, _ = signed_in(site, "root")
    page = admin.get("/admin/status")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert '<tr class="st-done"><th scope="row">xong</th><td>1</td>' in text
    assert '<tr class="st-failed"><th scope="row">lỗi</th><td>1</td>' in text
    assert f'href="/documents/{site["failed"]}/view">broken-scan.pdf</a>' in text
    assert "Đang chờ</dt><dd>0</dd>" in text  # the embedded pool knows its queue
    assert "Số văn bản trong chỉ mục</dt><dd>1</dd>" in text
    assert "trong tiến trình (mặc định)" in text


def test_status_page_redacts_server_urls(tmp_path: Path) -> None:
    """A broker URL with a password: shown without it (the pool is not started here)."""
    settings = Settings(
        data_dir=tmp_path, organ=TEST_ORGAN, broker="redis://:hunter2-secret@127.0.0.1:1/0"
    )
    Accounts(build_store(settings)).add_user("root", "admin", TEST_ORGAN, TEST_PASSWORD)
    client = TestClient(create_app(settings), headers=HTML)  # no lifespan: nothing connects
    client.post("/login", data={"login": "root", "password": TEST_PASSWORD})
    app = client.app
    app.state.worker_pool = None  # the status page then says "unknown" for the queue
    page = client.get("/admin/status")
    assert page.status_code == 200
    assert "hunter2-secret" not in page.text and "redis://:***@127.0.0.1:1/0" in page.text
    assert "Đang chờ</dt><dd>không rõ</dd>" in page.text


def test_audit_page_lists_newest_first_filters_and_verify_finds_the_altered_entry(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, organ=TEST_ORGAN)
    Accounts(build_store(settings)).add_user("root", "admin", TEST_ORGAN, TEST_PASSWORD)
    services = build_services(settings)
    log = AuditLog.for_options(services.store, services.exchange)
    for n in range(1, 56):
        log.append(TEST_ORGAN if n % 2 else "000.00.00.G20", "read", f"message-{n}")
    log.append(TEST_ORGAN, "send", "message-sent")
    client = TestClient(create_app(settings), headers=HTML)
    site = {"app": client.app}
    admin, csrf = signed_in(site, "root")
    first = admin.get("/admin/audit").text
    seqs = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", first)]
    assert seqs == list(range(56, 6, -1))  # newest first, 50 a page
    assert 'href="/admin/audit?page=2"' in first
    second = admin.get("/admin/audit", params={"page": 2}).text
    assert [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", second)] == list(range(6, 0, -1))
    sent = admin.get("/admin/audit", params={"action": "send"}).text
    assert re.findall(r"<tr><td>(\d+)</td>", sent) == ["56"]
    other = admin.get("/admin/audit", params={"organ": "000.00.00.G20"}).text
    assert len(re.findall(r"<tr><td>(\d+)</td>", other)) == 27
    ok = admin.post("/admin/audit/verify", data={"csrf_token": csrf})
    assert ok.status_code == 200
    assert "Nhật ký toàn vẹn: 56 mục" in ok.text and "verify-result ok" in ok.text
    key = "exchange/audit/000000000030.json"
    entry = json.loads(services.store.get_bytes(key))
    entry["target"] = "message-forged"
    services.store.put_bytes(key, json.dumps(entry).encode())
    bad = admin.post("/admin/audit/verify?lang=en", data={"csrf_token": csrf}).text
    assert "verify-result bad" in bad and "Audit log tampered with:" in bad
    assert "entry 30 (read message-forged by" in bad and "was altered" in bad
    assert "Entries verified before it: 29" in bad
    forged = admin.post("/admin/audit/verify", data={"csrf_token": "nope"})
    assert forged.status_code == 403


@pytest.mark.slow  # the servers
def test_status_page_shows_the_redis_queue(servers, tmp_path: Path) -> None:
    """With Redis the queue is the broker's: a message sent and not consumed is waiting (a
    Redis database of its own, so no other test's worker takes it)."""
    broker = servers["SOHOA_BROKER"].rsplit("/", 1)[0] + "/12"
    settings = Settings(data_dir=tmp_path, organ=TEST_ORGAN, broker=broker)
    Accounts(build_store(settings)).add_user("root", "admin", TEST_ORGAN, TEST_PASSWORD)
    app = create_app(settings)
    pool = app.state.worker_pool
    pool.broker.flush_all()
    with TestClient(app, headers=HTML) as client:  # this API only submits: no worker here
        client.post("/login", data={"login": "root", "password": TEST_PASSWORD})
        pool.actors.ingest.send("0" * 64)
        text = re.sub(r"\s+", " ", client.get("/admin/status").text)
        pool.broker.flush_all()
    assert "Đang chờ</dt><dd>1</dd>" in text and "Đang xử lý</dt><dd>0</dd>" in text
    assert "Luồng đang bận</dt><dd>không rõ</dd>" in text
    assert "Tiến trình worker khác đang chạy</dt><dd>0</dd>" in text
    assert "redis://127.0.0.1:6379/12" in text
