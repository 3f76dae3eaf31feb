"""The web pages (issue 16, first slice) through the app's own routes: login form and redirects,
CSRF on forms, escaping of hostile text, the security headers, hits marked in snippets and on
page images, and 404 for a record of another organ."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF

from accounts.models import Principal
from accounts.service import Accounts
from app.api import create_app
from app.auth import Authenticate
from app.compose import build_store
from app.config import Settings
from tests.conftest import TEST_ORGAN, TEST_PASSWORD

OTHER_ORGAN = "000.00.00.G20"  # another organ of the shipped sample registry
HOSTILE_NAME = "<img src=x onerror=alert(1)>.pdf"  # no "/": the whole name is kept
HOSTILE_LINES = [
    "BỘ NỘI VỤ",
    "Số: 12/QĐ-BNV",
    "QUYẾT ĐỊNH",
    "Về việc số hóa tài liệu <script>alert(1)</script>",
    "Quyết định này có hiệu lực từ ngày ký.",
]
HTML = {"Accept": "text/html"}
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core (scripts/setup.sh)


def hostile_pdf(path: Path) -> Path:
    """A born-digital page (text layer: no OCR, seconds to ingest) whose text holds markup."""
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_font("DejaVu", size=14)
    pdf.add_page()
    for line in HOSTILE_LINES:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def add_users(settings: Settings) -> None:
    """archivist and officer of TEST_ORGAN, an officer of OTHER_ORGAN."""
    accounts = Accounts(build_store(settings))
    accounts.add_user("archivist", "archivist", TEST_ORGAN, TEST_PASSWORD)
    accounts.add_user("officer", "officer", TEST_ORGAN, TEST_PASSWORD)
    accounts.add_user("outsider", "officer", OTHER_ORGAN, TEST_PASSWORD)


def upload(client: TestClient, settings: Settings, path: Path, name: str) -> str:
    """Upload as the archivist (a bearer token) and wait until the document is done."""
    token = Accounts(build_store(settings)).issue_token("archivist")
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.post("/documents", headers=auth, files={"file": (name, path.read_bytes())})
    assert answer.status_code == 202, answer.text
    doc_id = answer.json()["document_id"]
    deadline = time.monotonic() + 300
    while client.get(f"/documents/{doc_id}", headers=auth).json()["status"] != "done":
        assert time.monotonic() < deadline, "the document did not finish"
        time.sleep(0.3)
    return doc_id


def log_in(client: TestClient, login: str) -> str:
    """Log in with the page's form as a browser does; the session's CSRF token."""
    answer = client.post(
        "/login",
        data={"login": login, "password": TEST_PASSWORD, "next": "/"},
        headers=HTML,
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/"), answer.text
    page = client.get("/", headers=HTML)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("web-data"), workers=1)
    add_users(settings)
    app = create_app(settings)
    with TestClient(app) as client:
        pdf = hostile_pdf(tmp_path_factory.mktemp("web-in") / "hostile.pdf")
        doc_id = upload(client, settings, pdf, HOSTILE_NAME)
        yield {"app": app, "doc_id": doc_id}


def browser(site: dict, login: str | None = None) -> TestClient:
    client = TestClient(site["app"], headers=HTML)
    if login:
        log_in(client, login)
    return client


def test_pages_redirect_to_login_and_scripts_still_get_401(site: dict) -> None:
    client = browser(site)
    answer = client.get("/", params={"q": "số hóa", "year": "2023"}, follow_redirects=False)
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert target.path == "/login"
    back = urlsplit(parse_qs(target.query)["next"][0])
    assert back.path == "/" and parse_qs(back.query) == {"q": ["số hóa"], "year": ["2023"]}
    script = TestClient(site["app"]).get("/search")  # Accept: */* — the JSON API
    assert (script.status_code, script.json()["error"]) == (401, "unauthorized")
    form = client.get("/login?next=/documents/abc/view")
    assert form.status_code == 200
    assert 'name="login"' in form.text and 'name="password"' in form.text
    assert 'name="next" value="/documents/abc/view"' in form.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil", "x"])
def test_login_never_redirects_to_another_site(site: dict, target: str) -> None:
    client = browser(site)
    answer = client.post(
        "/login",
        data={"login": "officer", "password": TEST_PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/")


def test_a_failed_login_shows_the_form_again_with_401(site: dict) -> None:
    answer = browser(site).post("/login", data={"login": "officer", "password": "wrong-one"})
    assert answer.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in answer.text
    assert 'name="password"' in answer.text
    english = browser(site).post(
        "/login?lang=en", data={"login": "officer", "password": "wrong-one"}
    )
    assert "Wrong login or password." in english.text
    json_client = TestClient(site["app"]).post("/login", json={"login": "officer", "password": "x"})
    assert json_client.status_code == 401 and json_client.json()["error"] == "unauthorized"


def test_a_forged_form_post_without_the_token_is_refused(site: dict) -> None:
    client = browser(site, "officer")
    page = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    forged = client.post("/logout", data={}, follow_redirects=False)
    assert forged.status_code == 403 and forged.json()["error"] == "csrf"
    wrong = client.post("/logout", data={"csrf_token": "guess"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert client.get("/", follow_redirects=False).status_code == 303  # the session is gone


def test_every_page_carries_a_strict_csp_and_no_inline_script(site: dict) -> None:
    client = browser(site, "officer")
    doc_id = site["doc_id"]
    for url in ("/login", "/?q=quyet+dinh", f"/documents/{doc_id}/view?q=quyet+dinh"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert re.search(r"<script(?![^>]*\bsrc=)", answer.text) is None, url  # external only
        assert " style=" not in answer.text, url


def test_search_marks_folded_matches_and_escapes_hostile_text(site: dict) -> None:
    page = browser(site, "officer").get("/", params={"q": "quyet dinh"}).text
    assert "<mark>Quyết định</mark>" in page or "<mark>QUYẾT ĐỊNH</mark>" in page
    assert f"/documents/{site['doc_id']}/view?q=quyet+dinh" in page
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page  # the file name, as text
    assert "<img src=x" not in page and "<script>alert" not in page
    assert 'href="/?q=quyet+dinh&amp;type=Quy%E1%BA%BFt+%C4%91%E1%BB%8Bnh"' in page  # a facet


def test_the_document_page_shows_hits_on_the_image_and_escaped_text(site: dict) -> None:
    client = browser(site, "officer")
    doc_id = site["doc_id"]
    page = client.get(f"/documents/{doc_id}/view", params={"q": "quyet dinh"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert len(re.findall(r'<rect class="hit-box"', page)) == 4  # QUYẾT ĐỊNH, Quyết định
    assert f'/documents/{doc_id}/pdf"' in page
    image = client.get(f"/documents/{doc_id}/pages/1/image?size=thumb")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["x-content-type-options"] == "nosniff"
    again = client.get(f"/documents/{doc_id}/pages/1/image?size=thumb")
    assert again.content == image.content
    assert client.get(f"/documents/{doc_id}/pages/2/image").status_code == 404


def test_another_organs_officer_cannot_open_the_document_or_its_images(site: dict) -> None:
    client = browser(site, "outsider")
    doc_id = site["doc_id"]
    page = client.get(f"/documents/{doc_id}/view")
    assert page.status_code == 404 and "QUYẾT" not in page.text
    assert client.get(f"/documents/{doc_id}/pages/1/image").status_code == 404
    missing_id = "f" * 64
    missing = client.get(f"/documents/{missing_id}/view")
    assert missing.status_code == 404
    assert missing.text.replace(missing_id, "ID") == page.text.replace(doc_id, "ID")


def test_another_organs_officer_cannot_find_it(site: dict) -> None:
    """Needs the backends' viewer filter (the search branch of round 5)."""
    page = browser(site, "outsider").get("/", params={"q": "quyet dinh"}).text
    assert site["doc_id"] not in page
    assert "<mark>" not in page


def test_english_on_request_and_remembered(site: dict) -> None:
    client = browser(site, "officer")
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Sign out" in english.text
    assert '<html lang="en">' in client.get("/").text  # the cookie
    assert '<html lang="vi">' in client.get("/?lang=vi").text


def test_facet_filters_narrow_the_results_and_pages_follow(site: dict) -> None:
    client = browser(site, "officer")
    doc_id = site["doc_id"]
    kept = client.get("/", params={"q": "quyet dinh", "type": "Quyết định"}).text
    assert f"/documents/{doc_id}/view" in kept and "Bỏ lọc" in kept
    assert 'aria-current="true"' in kept  # the active filter, marked
    gone = client.get("/", params={"q": "quyet dinh", "year": "1999"}).text
    assert f"/documents/{doc_id}/view" not in gone and "Không tìm thấy văn bản nào." in gone
    past_the_end = client.get("/", params={"q": "quyet dinh", "page": "2"}).text
    assert f"/documents/{doc_id}/view" not in past_the_end
    assert client.get("/", params={"page": "0"}).status_code == 422


def test_the_form_token_is_checked_and_the_same_body_reaches_the_route() -> None:
    """Authenticate reads a small form for its csrf_token, then replays it to the route."""
    session = Principal(login="u", role="officer", organ_id=TEST_ORGAN, via="session")
    session = session.model_copy(update={"csrf_token": "the-token"})
    received: list[bytes] = []

    async def route(scope: dict, receive, send) -> None:  # noqa: ANN001
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        received.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = Authenticate(route, resolve=lambda headers, path: session)
    client = TestClient(app)
    form = {"csrf_token": "the-token", "field": "Quyết định"}
    assert client.post("/x", data=form).status_code == 200
    assert received == [b"csrf_token=the-token&field=Quy%E1%BA%BFt+%C4%91%E1%BB%8Bnh"]
    assert client.post("/x", data={**form, "csrf_token": "forged"}).status_code == 403
    big = {**form, "padding": "x" * 70_000}  # above the 64 KiB read for a token: header only
    assert client.post("/x", data=big).status_code == 403
    assert client.post("/x", data=big, headers={"X-CSRF-Token": "the-token"}).status_code == 200
    assert len(received) == 2
