"""A person corrects or confirms metadata through the API (issue 16, review queue): the field
gets confidence 1 and the editor in the history, the review queue and the search follow at
once, only the owning organ's archivists may edit, and concurrent edits are all kept."""

from __future__ import annotations

import getpass
import json
import threading
import time
import unicodedata
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_store
from app.config import Settings
from corpus import generate_batch
from storage.access import AccessBook
from tests.conftest import TEST_ORGAN, TEST_PASSWORD, api_headers, run_cli

OTHER_ORGAN = "000.00.00.H34"  # another organ of the shipped sample registry


def headers_of(settings: Settings, login: str, role: str, organ: str) -> dict[str, str]:
    accounts = Accounts(build_store(settings))
    accounts.add_user(login, role, organ, TEST_PASSWORD)
    return {"Authorization": f"Bearer {accounts.issue_token(login)}"}


def upload_and_wait(client: TestClient, path: Path, headers: dict[str, str]) -> str:
    with path.open("rb") as f:
        answer = client.post("/documents", files={"file": (path.name, f)}, headers=headers)
    assert answer.status_code == 202, answer.text
    doc_id = answer.json()["document_id"]
    deadline = time.monotonic() + 180
    while client.get(f"/documents/{doc_id}", headers=headers).json()["status"] != "done":
        assert time.monotonic() < deadline, "OCR did not finish"
        time.sleep(0.3)
    return doc_id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("review-data"), workers=2)
    folder = tmp_path_factory.mktemp("review-scan")
    manifest = generate_batch(folder, pages=1, seed=43, formats=("png",), levels=("clean",))
    with TestClient(create_app(settings)) as client:
        archivist = api_headers(settings, "archivist")
        doc_id = upload_and_wait(client, folder / manifest.files[0].file, archivist)
        yield {
            "client": client,
            "settings": settings,
            "doc_id": doc_id,
            "archivist": archivist,
            "officer": api_headers(settings, "officer"),
            "admin": api_headers(settings, "admin"),
        }


def patch(site: dict, body: dict, who: str = "archivist", doc_id: str | None = None):
    url = f"/documents/{doc_id or site['doc_id']}/metadata"
    return site["client"].patch(url, json=body, headers=site[who])


def in_queue(site: dict) -> dict[str, list[str]]:
    answer = site["client"].get("/review", headers=site["archivist"]).json()
    return {d["document_id"]: d["review_reasons"] for d in answer["documents"]}


def test_a_corrected_field_has_confidence_1_the_editor_in_history_and_is_found_at_once(
    site: dict,
) -> None:
    typed = unicodedata.normalize("NFD", "Về việc kiểm kê kho lưu trữ xyzzy")  # NFD, as typed
    answer = patch(site, {"field": "subject", "value": f"  {typed} "})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    subject = unicodedata.normalize("NFC", "Về việc kiểm kê kho lưu trữ xyzzy")
    assert body["metadata"]["subject"] == {"value": subject, "confidence": 1.0}
    last = body["history"][-1]
    assert last["editor"] == "test-archivist"
    assert last["note"].startswith("subject corrected: ") and subject in last["note"]
    found = site["client"].get("/search", params={"q": "xyzzy"}, headers=site["officer"]).json()
    assert [h["document_id"] for h in found["hits"]] == [site["doc_id"]]
    assert found["hits"][0]["metadata"]["subject"] == subject

    dated = patch(site, {"field": "issued_date", "value": "05/03/2021"}).json()
    assert dated["metadata"]["issued_date"] == {"value": "2021-03-05", "confidence": 1.0}
    listed = patch(site, {"field": "recipients", "value": ["Như trên", " Lưu: VT "]}).json()
    assert listed["metadata"]["recipients"]["value"] == ["Như trên", "Lưu: VT"]


def test_the_document_leaves_the_review_queue_when_no_reason_remains(site: dict) -> None:
    cleared = patch(site, {"field": "signer_name", "value": None}).json()
    assert cleared["metadata"]["needs_review"] is True
    assert "signer_name missing" in in_queue(site)[site["doc_id"]]
    for reason in list(cleared["metadata"]["review_reasons"]):
        name = reason.split()[0]
        if reason.endswith("missing"):
            answer = patch(site, {"field": name, "value": "Nguyễn Văn Bình"})
        else:
            answer = patch(site, {"field": name, "confirm": True})
            assert answer.json()["history"][-1]["note"].startswith(f"{name} confirmed")
        assert answer.status_code == 200, answer.text
    record = site["client"].get(f"/documents/{site['doc_id']}", headers=site["officer"]).json()
    assert (record["metadata"]["needs_review"], record["metadata"]["review_reasons"]) == (False, [])
    assert site["doc_id"] not in in_queue(site)
    found = (
        site["client"]
        .get("/search", params={"q": "nguyen van binh"}, headers=site["officer"])
        .json()
    )
    assert [h["document_id"] for h in found["hits"]] == [site["doc_id"]]


def test_unknown_fields_and_values_a_field_cannot_hold_are_refused_422(site: dict) -> None:
    for body in (
        {"field": "colour", "value": "red"},
        {"field": "needs_review", "value": False},  # not a metadata field of the table
        {"field": "issued_date", "value": "March 5th"},
        {"field": "recipients", "value": "Như trên"},  # a list field takes a list
        {"field": "subject"},  # neither a value nor confirm
    ):
        answer = patch(site, body)
        assert answer.status_code == 422, (body, answer.text)
    unknown = patch(site, {"field": "colour", "value": "red"}).json()
    assert unknown["error"] == "bad_field" and "colour" in unknown["message"]


def test_only_the_owning_organs_archivists_and_admins_may_edit(site: dict) -> None:
    settings, doc_id = site["settings"], site["doc_id"]
    officer = patch(site, {"field": "subject", "value": "x"}, who="officer")
    assert officer.status_code == 403
    site["elsewhere"] = headers_of(settings, "arch-h34", "archivist", OTHER_ORGAN)
    invisible = patch(site, {"field": "subject", "value": "x"}, who="elsewhere")
    assert (invisible.status_code, invisible.json()["error"]) == (404, "unknown_id")
    AccessBook(build_store(settings), TEST_ORGAN).grant(doc_id, OTHER_ORGAN, "share")
    shared = patch(site, {"field": "subject", "value": "x"}, who="elsewhere")
    assert (shared.status_code, shared.json()["error"]) == (403, "forbidden")
    admin = patch(site, {"field": "signer_position", "value": "CHỦ TỊCH"}, who="admin")
    assert admin.json()["history"][-1]["editor"] == "test-admin"


def test_concurrent_edits_of_different_fields_are_all_kept(site: dict) -> None:
    fields = ["organ_parent", "issued_place", "signer_competence", "priority", "language"]
    start = threading.Barrier(len(fields))
    answers: dict[str, int] = {}

    def edit(name: str) -> None:
        start.wait()
        answers[name] = patch(site, {"field": name, "value": f"giá trị {name}"}).status_code

    threads = [threading.Thread(target=edit, args=(name,)) for name in fields]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == dict.fromkeys(fields, 200)
    record = site["client"].get(f"/documents/{site['doc_id']}", headers=site["officer"]).json()
    assert {n: record["metadata"][n]["value"] for n in fields} == {
        n: f"giá trị {n}" for n in fields
    }
    notes = [h["note"] for h in record["history"] if h.get("editor")]
    assert all(any(n.startswith(f"{name} corrected") for n in notes) for name in fields)


def test_the_cli_operator_corrects_and_confirms_with_its_os_user_named(site: dict) -> None:
    data, doc_id = site["settings"].data_dir, site["doc_id"]
    result = run_cli(
        data, "review", doc_id[:12], "--set", "code_notation=QĐ-UBND", "--confirm", "page_amount",
        "--set", "recipients=Như trên; Lưu: VT", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["metadata"]["code_notation"] == {"value": "QĐ-UBND", "confidence": 1.0}
    assert record["metadata"]["recipients"]["value"] == ["Như trên", "Lưu: VT"]
    notes = [(h["editor"], h["note"].split(":")[0]) for h in record["history"][-3:]]
    user = getpass.getuser()
    assert notes == [
        (user, "code_notation corrected"), (user, "recipients corrected"),
        (user, "page_amount confirmed"),
    ]  # fmt: skip
    wrong = run_cli(data, "review", doc_id, "--set", "colour=red")
    assert wrong.returncode == 2 and "no metadata field 'colour'" in wrong.stderr
    listed = run_cli(data, "review", "--json")
    assert listed.returncode == 0, listed.stderr
