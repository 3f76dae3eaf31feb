"""The upload page without JS (issue 16): a multipart form posts the files to /upload, each is
taken as POST /documents takes it, and the batch page lists them with their status and result;
the form's CSRF token rides in its action URL; batches are seen by their organ only."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from tests.conftest import TEST_PASSWORD
from tests.test_web import HOSTILE_NAME, HTML, OTHER_ORGAN, add_users, hostile_pdf, log_in

DOSSIER = "HS-UPLOAD-1"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """Users of tests/test_web.py, an archivist of another organ, and two born-digital PDFs
    (one named with markup) and a text file to upload."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("upload-data"), workers=1)
    add_users(settings)
    Accounts(build_store(settings)).add_user("archivist2", "archivist", OTHER_ORGAN, TEST_PASSWORD)
    files = tmp_path_factory.mktemp("upload-in")
    (doc,) = make_documents(1, seed=16, pages=1)
    app = create_app(settings)
    with TestClient(app) as client:
        yield {
            "app": app,
            "client": client,
            "hostile": hostile_pdf(files / "hostile.pdf").read_bytes(),
            "digital": write_pdf_digital(files / "digital.pdf", doc.pages).read_bytes(),
        }


def browser(site: dict, login: str) -> TestClient:
    client = TestClient(site["app"], headers=HTML)
    log_in(client, login)
    return client


def form_action(client: TestClient) -> str:
    """The upload form's action, as the page gives it (with the session's CSRF token)."""
    page = client.get("/upload")
    assert page.status_code == 200, page.text
    return re.search(r'<form id="upload-form"[^>]* action="([^"]+)"', page.text)[1].replace(
        "&amp;", "&"
    )


def post_files(client: TestClient, action: str, files: list[tuple[str, bytes]], **fields: str):
    parts = [("files", (name, body)) for name, body in files]
    return client.post(action, files=parts, data=fields, follow_redirects=False)


def batch_until_finished(client: TestClient, url: str) -> str:
    deadline = time.monotonic() + 300
    while 'http-equiv="refresh"' in (text := client.get(url).text):
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(0.3)
    return text


@pytest.fixture(scope="module")
def batch(site: dict) -> dict:
    """Three files posted by the archivist's form without JS: two PDFs and a text file."""
    client = browser(site, "archivist")
    files = [
        (HOSTILE_NAME, site["hostile"]),
        ("quyet-dinh.pdf", site["digital"]),
        ("notes.txt", b"not a scan"),
    ]
    answer = post_files(client, form_action(client), files, dossier=DOSSIER, title="Hồ sơ thử")
    assert answer.status_code == 303, answer.text
    url = answer.headers["location"]
    assert re.fullmatch(r"/batches/\d{8}T\d{6}-[0-9a-f]{8}", url)
    return {"url": url, "client": client, "text": batch_until_finished(client, url)}


def rows(text: str) -> list[str]:
    return re.findall(r"<tr class=\"result-[^\"]+\">.*?</tr>", text, re.S)


def test_the_form_without_js_uploads_every_file_and_the_batch_page_shows_each_result(
    batch: dict,
) -> None:
    found = rows(batch["text"])
    assert len(found) == 3
    hostile, digital, text = found
    assert 'class="result-ok"' in hostile and 'class="result-ok"' in digital
    assert "1/1 trang" in digital and '<progress max="1" value="1">' in digital
    assert 'class="result-failed"' in text and "notes.txt" in text
    assert re.search(r"not a PDF|PDF or an image|media", text, re.I), text  # the reason shown


def test_a_hostile_file_name_shows_as_text(batch: dict) -> None:
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in batch["text"]
    assert "<img src=x" not in batch["text"]


def test_the_batch_files_its_finished_documents_into_the_dossier(batch: dict) -> None:
    client = batch["client"]
    assert f"hồ sơ {DOSSIER}" in batch["text"]  # the button: not filed yet
    token = re.search(r'name="csrf_token" value="([^"]+)"', batch["text"])[1]
    answer = client.post(batch["url"] + "/file", data={"csrf_token": token}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, batch["url"])
    dossier = client.get(f"/dossiers/{DOSSIER}", headers={"Accept": "application/json"}).json()
    assert (dossier["doc_total"], dossier["title"]) == (2, "Hồ sơ thử")
    assert f"hồ sơ {DOSSIER}" not in client.get(batch["url"]).text  # nothing left to file


def test_the_batch_list_shows_the_organs_batches_only(site: dict, batch: dict) -> None:
    assert batch["url"] in browser(site, "archivist").get("/batches").text
    assert batch["url"] not in browser(site, "archivist2").get("/batches").text


def test_another_organs_archivist_gets_404_on_the_batch(site: dict, batch: dict) -> None:
    other = browser(site, "archivist2")
    answer = other.get(batch["url"])
    assert answer.status_code == 404
    assert HOSTILE_NAME not in answer.text and "quyet-dinh.pdf" not in answer.text
    assert other.get("/batches/20250101T000000-00000000").status_code == 404
    assert other.get("/batches/..%2Faccess").status_code == 404


def test_a_forged_upload_without_the_token_is_refused_before_anything_is_stored(
    site: dict,
) -> None:
    client = browser(site, "archivist")
    action = form_action(client)
    assert re.fullmatch(r"/upload\?csrf_token=[\w-]+", action)
    before = client.get("/batches").text.count('href="/batches/2')
    for forged in ("/upload", "/upload?csrf_token=forged", action.replace("csrf", "x")):
        answer = post_files(client, forged, [("forged.pdf", site["digital"])])
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"] == "csrf"
    assert client.get("/batches").text.count('href="/batches/2') == before
    answer = post_files(client, action, [("genuine.pdf", site["digital"])])
    assert answer.status_code == 303, answer.text
    assert client.get("/batches").text.count('href="/batches/2') == before + 1


def test_an_officer_may_not_upload(site: dict) -> None:
    officer = browser(site, "officer")
    assert officer.get("/upload").status_code == 403
    assert officer.get("/batches").status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', officer.get("/").text)[1]
    answer = post_files(officer, f"/upload?csrf_token={token}", [("x.pdf", site["digital"])])
    assert answer.status_code == 403
    assert 'href="/upload"' not in officer.get("/").text  # no nav link either


def test_an_empty_form_shows_the_page_again_with_the_reason(site: dict) -> None:
    client = browser(site, "archivist")
    # What a browser sends for a file input left empty: one part with filename="".
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n"
    )
    kind = {"Content-Type": "multipart/form-data; boundary=b"}
    answer = client.post(form_action(client), content=body, headers=kind)
    assert answer.status_code == 422
    assert "Chọn ít nhất một tệp." in answer.text
