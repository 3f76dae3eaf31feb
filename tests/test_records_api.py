"""What the upload and dossier pages call (issue 16): an upload's progress, the retry of a
partial document's failed pages from its stored original, and dossier membership."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pikepdf
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from corpus import generate_batch, make_documents, write_pdf_digital, write_pdf_scanned
from corpus.batch import scan_pages
from tests.conftest import api_headers, cli_with_env
from tests.test_integrity_pages import _without_tesseract
from tests.test_review_edit import OTHER_ORGAN, headers_of, upload_and_wait


def poll_progress(client: TestClient, doc_id: str, headers: dict, until: tuple) -> list[dict]:
    seen = []
    deadline = time.monotonic() + 180
    while not seen or seen[-1]["status"] not in until:
        assert time.monotonic() < deadline, seen[-3:]
        answer = client.get(f"/documents/{doc_id}/progress", headers=headers)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        time.sleep(0.05)
    return seen


def test_progress_of_an_upload_goes_from_0_to_its_page_count(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    manifest = generate_batch(tmp_path, pages=1, seed=47, formats=("png",), levels=("clean",))
    archivist = api_headers(settings, "archivist")
    with TestClient(create_app(settings)) as client:
        with (tmp_path / manifest.files[0].file).open("rb") as f:
            sent = client.post("/documents", files={"file": ("scan.png", f)}, headers=archivist)
        doc_id = sent.json()["document_id"]
        seen = poll_progress(client, doc_id, api_headers(settings, "officer"), ("done",))
        elsewhere = headers_of(settings, "off-h34", "officer", OTHER_ORGAN)
        assert client.get(f"/documents/{doc_id}/progress", headers=elsewhere).status_code == 404
    assert seen[0]["pages_done"] == 0 and seen[0]["status"] in ("received", "processing")
    done = [s["pages_done"] for s in seen]
    assert done == sorted(done)  # never backwards
    assert seen[-1] == {
        "status": "done",
        "page_count": 1,
        "pages_done": 1,
        "pages_failed": 0,
        "failed_pages": [],
    }


def two_page_pdf(folder: Path) -> Path:
    """Page 1 born-digital (a text layer), page 2 scanned: without Tesseract only page 2 fails."""
    (doc,) = make_documents(1, seed=7, pages=2)
    digital = write_pdf_digital(folder / "digital.pdf", doc.pages[:1])
    images = [scan.image for scan in scan_pages([doc], "clean", 7)][1:]
    scanned = write_pdf_scanned(folder / "scanned.pdf", images, lossless=True)
    out = folder / "mixed.pdf"
    with pikepdf.new() as pdf, pikepdf.open(digital) as a, pikepdf.open(scanned) as b:
        pdf.pages.extend(a.pages)
        pdf.pages.extend(b.pages)
        pdf.save(out)
    return out


def test_retry_reads_the_failed_pages_of_a_partial_document_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = two_page_pdf(tmp_path)
    first = cli_with_env(_without_tesseract(data, tmp_path), "ingest", str(path), "--json")
    row = json.loads(first.stdout.splitlines()[0])
    assert row["status"] == "partial", first.stdout[-2000:]
    doc_id = row["document_id"]
    settings = Settings(data_dir=data, workers=1)
    archivist = api_headers(settings, "archivist")  # of the installation's organ: none here
    admin = api_headers(settings, "admin")
    with TestClient(create_app(settings)) as client:
        before = client.get(f"/documents/{doc_id}/progress", headers=admin).json()
        assert (before["status"], before["pages_failed"]) == ("partial", 1)
        assert before["failed_pages"][0]["page_no"] == 2
        assert "tesseract" in before["failed_pages"][0]["reason"]
        # The CLI ingested it for the installation (no SOHOA_ORGAN): an organ's archivist does
        # not manage it, and an officer may not retry anything.
        assert client.post(f"/documents/{doc_id}/retry", headers=archivist).status_code == 404
        officer = api_headers(settings, "officer")
        assert client.post(f"/documents/{doc_id}/retry", headers=officer).status_code == 403
        retried = client.post(f"/documents/{doc_id[:12]}/retry", headers=admin)
        assert retried.status_code == 202, retried.text
        assert retried.json() == {"document_id": doc_id, "status": "received"}
        seen = poll_progress(client, doc_id, admin, ("done", "partial", "failed"))
        assert seen[-1] == {
            "status": "done",
            "page_count": 2,
            "pages_done": 2,
            "pages_failed": 0,
            "failed_pages": [],
        }
        record = client.get(f"/documents/{doc_id}", headers=admin).json()
        assert any("retry asked by test-admin" in h["note"] for h in record["history"])
        again = client.post(f"/documents/{doc_id}/retry", headers=admin)
        assert (again.status_code, again.json()["error"]) == (409, "not_ready")
        pdf = client.get(f"/documents/{doc_id}/pdf", headers=admin)
        assert len(pikepdf.open(io.BytesIO(pdf.content)).pages) == 2


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("dossier-data"), workers=2)
    folder = tmp_path_factory.mktemp("dossier-scans")
    manifest = generate_batch(folder, pages=2, seed=53, formats=("png",), levels=("clean",))
    with TestClient(create_app(settings)) as client:
        archivist = api_headers(settings, "archivist")
        ids = [upload_and_wait(client, folder / e.file, archivist) for e in manifest.files[:2]]
        yield client, settings, archivist, ids


def test_dossier_add_and_remove_are_reflected_in_the_dossier_and_the_list(filed) -> None:
    client, settings, archivist, ids = filed
    url = "/dossiers/2024.HS-7/documents"
    added = client.post(url, json={"documents": ids, "title": "Hồ sơ thử"}, headers=archivist)
    assert added.status_code == 200, added.text
    assert [d["document_id"] for d in added.json()["documents"]] == ids
    shown = client.get("/dossiers/2024.HS-7", headers=archivist).json()
    assert (shown["title"], shown["doc_total"]) == ("Hồ sơ thử", 2)
    listed = client.get("/dossiers", headers=api_headers(settings, "officer")).json()
    assert [(d["file_code"], d["doc_total"]) for d in listed["dossiers"]] == [("2024.HS-7", 2)]

    removed = client.delete(f"{url}/{ids[0][:12]}", headers=archivist)
    assert removed.status_code == 200, removed.text
    assert [d["document_id"] for d in removed.json()["documents"]] == ids[1:]
    shown = client.get("/dossiers/2024.HS-7", headers=archivist).json()
    assert [d["document_id"] for d in shown["documents"]] == ids[1:]
    assert shown["doc_total"] == 1
    assert client.get(f"/documents/{ids[0]}", headers=archivist).json()["dossier"] is None
    found = client.get("/search", params={"filter": "dossier=2024.HS-7"}, headers=archivist)
    assert [h["document_id"] for h in found.json()["hits"]] == ids[1:]
    again = client.delete(f"{url}/{ids[0]}", headers=archivist)
    assert again.status_code == 404

    elsewhere = headers_of(settings, "arch-h34-d", "archivist", OTHER_ORGAN)
    theirs = client.get("/dossiers", headers=elsewhere).json()["dossiers"]
    assert theirs == []  # a dossier of which they see nothing is not listed (docs/access.md)
    refused = client.post(url, json={"documents": [ids[0]]}, headers=elsewhere)
    assert refused.status_code == 404  # not theirs to see, let alone to file
    officer = client.delete(f"{url}/{ids[1]}", headers=api_headers(settings, "officer"))
    assert officer.status_code == 403


def test_an_organ_that_sees_a_dossier_but_owns_none_of_it_may_not_file_into_it(
    filed, tmp_path: Path
) -> None:
    """After the test above, 2024.HS-7 holds ids[1]; its owner shares it with another organ,
    whose archivist then sees the dossier but may neither file into it nor retitle it."""
    client, settings, archivist, ids = filed
    url = "/dossiers/2024.HS-7/documents"
    body = {"organ": OTHER_ORGAN}
    shared = client.post(f"/documents/{ids[1]}/shares", json=body, headers=archivist)
    assert shared.status_code == 201, shared.text
    elsewhere = headers_of(settings, "arch-h34-e", "archivist", OTHER_ORGAN)
    pages = list(make_documents(1, seed=5, pages=1)[0].pages)
    theirs = upload_and_wait(client, write_pdf_digital(tmp_path / "theirs.pdf", pages), elsewhere)
    seen = client.get("/dossiers", headers=elsewhere).json()["dossiers"]
    assert [(d["file_code"], d["doc_total"]) for d in seen] == [("2024.HS-7", 1)]
    refused = client.post(url, json={"documents": [theirs], "title": "Đổi tên"}, headers=elsewhere)
    assert refused.status_code == 403, refused.text
    shown = client.get("/dossiers/2024.HS-7", headers=archivist).json()
    assert shown["title"] == "Hồ sơ thử" and shown["doc_total"] == 1
