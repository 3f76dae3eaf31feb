"""A person's corrections outlive every new reading of the metadata (issue 16, review queue):
the failed pages retried, `sohoa reindex --metadata`, a scan cut into its documents again; a
confirmed value stays whatever the machine reads later; and a corrected organ name brings its
registry id and level with it, so the organ and level facets follow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from organs.registry import OrganRegistry
from schemas.models import AdminMetadata, Document, Field
from tests.conftest import api_headers, cli_with_env, run_cli, search_hits
from tests.test_integrity_pages import _without_tesseract
from tests.test_records_api import poll_progress, two_page_pdf
from workers.review import keep_edits

# Read by the machine from the sample's header: PHÒNG VĂN HÓA VÀ THÔNG TIN under UBND THÀNH
# PHỐ KON TUM, a district organ of the shipped registry. The correction: a province organ.
PROVINCE = "ỦY BAN NHÂN DÂN TỈNH KON TUM"
PROVINCE_ID = "000.00.00.H34"


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A partial document: page 1 read from its text layer, page 2 failed (no Tesseract)."""
    tmp = tmp_path_factory.mktemp("keep")
    data = tmp / "data"
    first = cli_with_env(_without_tesseract(data, tmp), "ingest", str(two_page_pdf(tmp)), "--json")
    row = json.loads(first.stdout.splitlines()[0])
    assert row["status"] == "partial", first.stdout[-2000:]
    return data, row["document_id"]


def shown(data: Path, doc_id: str) -> dict:
    result = run_cli(data, "show", doc_id, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_correction_of_a_partial_document_stays_when_its_failed_page_is_retried(
    partial: tuple[Path, str],
) -> None:
    data, doc_id = partial
    settings = Settings(data_dir=data, workers=1)
    admin = api_headers(settings, "admin")
    subject = "Về việc kiểm kê kho lưu trữ xyzzy"
    with TestClient(create_app(settings)) as client:

        def patch(body: dict) -> dict:
            answer = client.patch(f"/documents/{doc_id}/metadata", json=body, headers=admin)
            assert answer.status_code == 200, answer.text
            return answer.json()

        patch({"field": "subject", "value": subject})
        # missing while page 2 failed; the machine reads its own signer there once retried
        patch({"field": "signer_name", "value": "Nguyễn Văn Bình"})
        assert client.post(f"/documents/{doc_id}/retry", headers=admin).status_code == 202
        seen = poll_progress(client, doc_id, admin, ("done", "partial", "failed"))
        assert seen[-1]["status"] == "done"
        record = client.get(f"/documents/{doc_id}", headers=admin).json()
        assert record["metadata"]["subject"] == {"value": subject, "confidence": 1.0}
        assert record["metadata"]["signer_name"] == {"value": "Nguyễn Văn Bình", "confidence": 1.0}
        assert "signer_name missing" not in record["metadata"]["review_reasons"]
        found = client.get("/search", params={"q": "xyzzy"}, headers=admin).json()
        assert [h["document_id"] for h in found["hits"]] == [doc_id]


def test_a_correction_stays_when_the_metadata_is_read_again(partial: tuple[Path, str]) -> None:
    data, doc_id = partial
    subject = "Về việc chỉnh lý tài liệu plugh"
    edited = run_cli(data, "review", doc_id, "--set", f"subject={subject}")
    assert edited.returncode == 0, edited.stderr
    again = run_cli(data, "reindex", "--metadata")
    assert again.returncode == 0, again.stderr
    assert "read the metadata of 1 record(s) again" in again.stderr
    assert shown(data, doc_id)["metadata"]["subject"] == {"value": subject, "confidence": 1.0}
    hits = search_hits(run_cli(data, "search", "plugh", "--json"))
    assert [h["document_id"] for h in hits] == [doc_id]


def test_a_corrected_organ_name_brings_its_registry_id_and_level_to_the_facets(
    partial: tuple[Path, str],
) -> None:
    data, doc_id = partial
    before = search_hits(run_cli(data, "search", "", "-f", "level=district", "--json"))
    assert doc_id in [h["document_id"] for h in before]
    edited = run_cli(data, "review", doc_id, "--set", f"organ_name={PROVINCE}")
    assert edited.returncode == 0, edited.stderr
    metadata = shown(data, doc_id)["metadata"]
    assert metadata["organ_id"] == {"value": PROVINCE_ID, "confidence": 1.0}
    assert metadata["organ_level"]["value"] == "province"
    assert metadata["document_id"]["value"].startswith(f"{PROVINCE_ID},")
    result = run_cli(data, "search", "", "-f", "level=province", "--json")
    assert [h["document_id"] for h in search_hits(result)] == [doc_id]
    facets = json.loads(result.stdout)["facets"]
    assert facets["organ"] == {PROVINCE: 1} and facets["level"] == {"province": 1}
    district = search_hits(run_cli(data, "search", "", "-f", "level=district", "--json"))
    assert doc_id not in [h["document_id"] for h in district]
    # and it stays so when the metadata is read again
    assert run_cli(data, "reindex", "--metadata").returncode == 0
    assert shown(data, doc_id)["metadata"]["organ_level"]["value"] == "province"


def test_a_correction_of_a_document_cut_from_a_scan_stays_when_it_is_cut_again(
    tmp_path: Path,
) -> None:
    docs = make_documents(2, seed=11, pages=1)
    path = write_pdf_digital(tmp_path / "two.pdf", [doc.pages[0] for doc in docs])  # no OCR
    data = tmp_path / "data"
    ingested = run_cli(data, "ingest", str(path), "--json")
    scan_id = json.loads(ingested.stdout.splitlines()[0])["document_id"]
    second = shown(data, scan_id)["parts"][1]
    subject = "Về việc bàn giao hồ sơ xyzzy"
    assert run_cli(data, "review", second, "--set", f"subject={subject}").returncode == 0
    assert run_cli(data, "reindex", "--metadata").returncode == 0
    record = shown(data, second)
    assert record["metadata"]["subject"] == {"value": subject, "confidence": 1.0}
    corrected = [h for h in record["history"] if h["note"].startswith("subject corrected: ")]
    assert len(corrected) == 1 and corrected[0]["editor"]  # who did it is kept too
    hits = search_hits(run_cli(data, "search", "xyzzy", "--json"))
    assert [h["document_id"] for h in hits] == [second]


def test_a_confirmed_value_stays_when_the_machine_later_reads_it_differently() -> None:
    doc = Document(id="d" * 64, source_name="x.pdf", media_type="application/pdf", size_bytes=1)
    doc.edited = {"type_name": "Chỉ thị"}  # as confirm_field keeps it
    doc.metadata = AdminMetadata(type_name=Field(value="Chỉ thi", confidence=0.9))  # a new read
    keep_edits(doc, OrganRegistry.default().find)
    assert doc.metadata.type_name == Field(value="Chỉ thị", confidence=1.0)
    assert not any(r.startswith("type_name") for r in doc.metadata.review_reasons)
