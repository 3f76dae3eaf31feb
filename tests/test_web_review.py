"""The review queue, sharing, original download and dossier pages (issue 16, second slice)
through the app's own routes, as a browser uses them (forms with the session's CSRF token):
a correction made in the queue is what the search finds at once; officers read but may not
post; another organ's record is 404; a share lets the other organ find and open the record;
dossier pages count only what the caller sees; hostile values render as text."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_store
from app.config import Settings
from tests.conftest import TEST_ORGAN, TEST_PASSWORD
from tests.test_web import FONT, HOSTILE_NAME, HTML, OTHER_ORGAN, log_in

NEW_SUBJECT = "Về việc lưu trữ hồ sơ địa chính xã Tân Lập"
HOSTILE_VALUE = "<img src=x onerror=alert(1)>"


def pdf_with(path: Path, subject: str) -> Path:
    """A born-digital Quyết định (no OCR) without date or signer: it needs review."""
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_font("DejaVu", size=14)
    pdf.add_page()
    for line in ("BỘ NỘI VỤ", "Số: 12/QĐ-BNV", "QUYẾT ĐỊNH", subject, "Điều 1. Thi hành."):
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def upload(client: TestClient, token: str, path: Path, name: str) -> str:
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.post("/documents", headers=auth, files={"file": (name, path.read_bytes())})
    assert answer.status_code == 202, answer.text
    doc_id = answer.json()["document_id"]
    deadline = time.monotonic() + 120
    while client.get(f"/documents/{doc_id}", headers=auth).json()["status"] != "done":
        assert time.monotonic() < deadline, "the document did not finish"
        time.sleep(0.2)
    return doc_id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """Documents `mine` (hostile file name) and `shared` of TEST_ORGAN, `theirs` of OTHER_ORGAN;
    an archivist and an officer of each organ, and an admin."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("review-data"), workers=1)
    accounts = Accounts(build_store(settings))
    accounts.add_user("archivist", "archivist", TEST_ORGAN, TEST_PASSWORD)
    accounts.add_user("officer", "officer", TEST_ORGAN, TEST_PASSWORD)
    accounts.add_user("outsider", "officer", OTHER_ORGAN, TEST_PASSWORD)
    accounts.add_user("their-archivist", "archivist", OTHER_ORGAN, TEST_PASSWORD)
    accounts.add_user("admin", "admin", TEST_ORGAN, TEST_PASSWORD)
    app = create_app(settings)
    folder = tmp_path_factory.mktemp("review-in")
    with TestClient(app) as client:
        ours, theirs = accounts.issue_token("archivist"), accounts.issue_token("their-archivist")
        mine = pdf_with(folder / "mine.pdf", "Về việc số hóa tài liệu phòng lưu trữ")
        ids = {
            "mine": upload(client, ours, mine, HOSTILE_NAME),
            "shared": upload(
                client, ours, pdf_with(folder / "s.pdf", "Về việc chia sẻ văn bản"), "s.pdf"
            ),
            "theirs": upload(
                client, theirs, pdf_with(folder / "t.pdf", "Về việc khoa học"), "t.pdf"
            ),
        }
        yield {"app": app, "mine_bytes": mine.read_bytes(), **ids}


def browser(site: dict, login: str) -> tuple[TestClient, str]:
    """A browser's client logged in as `login`, and its CSRF token."""
    client = TestClient(site["app"], headers=HTML)
    return client, log_in(client, login)


def found(client: TestClient, query: str, doc_id: str) -> bool:
    return f"/documents/{doc_id}/view" in client.get("/", params={"q": query}).text


def test_a_correction_in_the_queue_is_what_the_search_finds(site: dict) -> None:
    client, token = browser(site, "archivist")
    doc_id = site["mine"]
    queue = client.get("/review/queue")
    assert queue.status_code == 200
    assert f'href="/review/queue?doc={doc_id}"' in queue.text
    assert "Người ký: còn trống" in queue.text  # the reasons, in the page's language
    page = client.get("/review/queue", params={"doc": doc_id})
    assert f'action="/documents/{doc_id}/fields"' in page.text
    assert f'src="/documents/{doc_id}/pages/1/image?size=page"' in page.text
    assert 'accesskey="n"' in page.text or 'accesskey="p"' in page.text
    assert not found(client, "luu tru ho so dia chinh", doc_id)
    form = {"csrf_token": token, "field": "subject", "action": "correct", "value": NEW_SUBJECT}
    answer = client.post(f"/documents/{doc_id}/fields", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/review/queue?doc={doc_id}&saved=subject"
    shown = client.get(answer.headers["location"]).text
    assert "Đã lưu: Trích yếu" in shown and f'value="{NEW_SUBJECT}"' in shown
    assert found(client, "luu tru ho so dia chinh", doc_id)  # at once, folded
    history = client.get(f"/documents/{doc_id}/view").text
    assert "Trích yếu: đã sửa:" in history and "1.00" in history  # the page's language


def test_confirming_a_field_and_a_bad_value_shows_the_reason(site: dict) -> None:
    client, token = browser(site, "archivist")
    doc_id = site["mine"]
    confirm = {"csrf_token": token, "field": "type_name", "action": "confirm"}
    assert client.post(f"/documents/{doc_id}/fields", data=confirm).status_code == 200
    page = client.get(f"/documents/{doc_id}/view").text
    assert "Loại văn bản: đã xác nhận:" in page
    bad = {"csrf_token": token, "field": "issued_date", "action": "correct", "value": "hôm qua"}
    answer = client.post(f"/documents/{doc_id}/fields", data=bad)
    assert answer.status_code == 422 and "is no date" in answer.text
    forged = client.post(f"/documents/{doc_id}/fields", data={**bad, "csrf_token": "guess"})
    assert forged.status_code == 403


def test_officers_read_the_queue_but_may_not_correct(site: dict) -> None:
    client, token = browser(site, "officer")
    doc_id = site["mine"]
    page = client.get("/review/queue", params={"doc": doc_id})
    assert page.status_code == 200 and "readonly" in page.text
    assert 'name="action"' not in page.text
    form = {"csrf_token": token, "field": "subject", "action": "correct", "value": "x"}
    answer = client.post(f"/documents/{doc_id}/fields", data=form)
    assert answer.status_code == 403


def test_another_organs_record_is_404_in_the_queue_and_to_its_form(site: dict) -> None:
    client, token = browser(site, "their-archivist")
    doc_id = site["mine"]
    queue = client.get("/review/queue")
    assert queue.status_code == 200 and f"/review/queue?doc={site['theirs']}" in queue.text
    assert doc_id not in queue.text
    assert client.get("/review/queue", params={"doc": doc_id}).status_code == 404
    form = {"csrf_token": token, "field": "subject", "action": "correct", "value": "x"}
    answer = client.post(f"/documents/{doc_id}/fields", data=form)
    assert answer.status_code == 404 and "Về việc" not in answer.text


def test_a_share_lets_the_other_organ_find_and_open_the_record(site: dict) -> None:
    client, token = browser(site, "archivist")
    outsider, _ = browser(site, "outsider")
    doc_id = site["shared"]
    page = client.get(f"/documents/{doc_id}/view").text
    assert 'list="share-organ-list"' in page  # an organ field searching the registry
    offered = client.get("/organs", params={"q": "bộ khoa học"}, headers={"Accept": "*/*"})
    assert OTHER_ORGAN in {o["id"] for o in offered.json()["organs"]}
    assert outsider.get(f"/documents/{doc_id}/view").status_code == 404
    form = {"csrf_token": token, "action": "share", "organ": OTHER_ORGAN}
    answer = client.post(f"/documents/{doc_id}/sharing", data=form, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (
        303,
        f"/documents/{doc_id}/view#sharing",
    )
    assert found(outsider, "chia se van ban", doc_id)
    assert outsider.get(f"/documents/{doc_id}/view").status_code == 200
    shown = client.get(f"/documents/{doc_id}/view").text
    assert "Bộ Khoa học và Công nghệ (000.00.00.G20) · chia sẻ" in shown
    officer, officer_token = browser(site, "officer")
    refused = {"csrf_token": officer_token, "action": "unshare", "organ": OTHER_ORGAN}
    assert officer.post(f"/documents/{doc_id}/sharing", data=refused).status_code == 403
    back = {"csrf_token": token, "action": "unshare", "organ": OTHER_ORGAN}
    assert client.post(f"/documents/{doc_id}/sharing", data=back).status_code == 200
    assert outsider.get(f"/documents/{doc_id}/view").status_code == 404


def test_the_original_downloads_with_its_bytes_and_is_404_to_a_stranger(site: dict) -> None:
    client, _ = browser(site, "officer")
    doc_id = site["mine"]
    assert f'href="/documents/{doc_id}/original"' in client.get(f"/documents/{doc_id}/view").text
    answer = client.get(f"/documents/{doc_id}/original")
    assert answer.status_code == 200 and answer.content == site["mine_bytes"]
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert unquote(disposition.split("UTF-8''")[1]) == HOSTILE_NAME
    outsider, _ = browser(site, "outsider")
    assert outsider.get(f"/documents/{doc_id}/original").status_code == 404


def test_dossier_pages_list_and_count_only_visible_members(site: dict) -> None:
    ours, our_token = browser(site, "archivist")
    theirs, their_token = browser(site, "their-archivist")
    filing = {"csrf_token": our_token, "file_code": "HS-WEB", "title": "Hồ sơ thử"}
    answer = ours.post("/dossier-list", data={**filing, "documents": site["mine"]})
    assert answer.status_code == 200 and answer.url.path == "/dossiers/HS-WEB/view"
    stolen = {"csrf_token": their_token, "file_code": "HS-WEB", "documents": site["mine"]}
    assert theirs.post("/dossier-list", data=stolen).status_code == 404
    # Another organ may not file even its own record into a dossier it sees nothing of
    # (docs/access.md, "Dossiers"); an admin makes the dossier hold records of both organs.
    own = {**stolen, "documents": site["theirs"]}
    assert theirs.post("/dossier-list", data=own).status_code == 404
    admin, admin_token = browser(site, "admin")
    filed = admin.post("/dossier-list", data={**own, "csrf_token": admin_token})
    assert filed.status_code == 200
    officer, _ = browser(site, "officer")
    page = officer.get("/dossiers/HS-WEB/view").text
    assert f"/documents/{site['mine']}/view" in page
    assert f"/documents/{site['theirs']}/view" not in page
    assert "Khoa học" not in page
    row = re.search(
        r'<a href="/dossiers/HS-WEB/view">HS-WEB</a>.*?</tr>',
        officer.get("/dossier-list").text,
        re.S,
    )
    assert row and re.findall(r"<td>(\d+)</td>", row.group(0)) == ["1", "1"]
    admin_row = re.search(r"HS-WEB</a>.*?</tr>", admin.get("/dossier-list").text, re.S)
    assert re.findall(r"<td>(\d+)</td>", admin_row.group(0)) == ["2", "2"]
    remove = f"/dossiers/HS-WEB/documents/{site['mine']}/remove"
    assert remove not in page  # officers get no button
    out = ours.post(remove, data={"csrf_token": our_token}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/dossier-list")
    assert officer.get("/dossiers/HS-WEB/view").status_code == 404  # nothing of it to see
    assert "HS-WEB" not in officer.get("/dossier-list").text
    assert f"/documents/{site['theirs']}/view" in theirs.get("/dossiers/HS-WEB/view").text


def test_a_hostile_metadata_value_renders_as_text(site: dict) -> None:
    client, token = browser(site, "archivist")
    doc_id = site["mine"]
    form = {"csrf_token": token, "field": "issued_place", "action": "correct"}
    answer = client.post(f"/documents/{doc_id}/fields", data={**form, "value": HOSTILE_VALUE})
    assert answer.status_code == 200
    for url in (f"/review/queue?doc={doc_id}", f"/documents/{doc_id}/view", "/review/queue"):
        page = client.get(url)
        assert "<img src=x" not in page.text, url
        assert (
            " style=" not in page.text and re.search(r"<script(?![^>]*\bsrc=)", page.text) is None
        )
        assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get(f"/review/queue?doc={doc_id}").text
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in client.get("/review/queue").text
