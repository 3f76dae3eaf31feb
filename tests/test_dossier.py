"""Box scans: one PDF holding several documents is cut into documents, filed into a dossier,
and each carries its own metadata, PDF and search facets."""

from __future__ import annotations

import json
from datetime import date

import pdfplumber
import pytest

from corpus import make_documents
from corpus.batch import write_multi_document_pdf
from organs.registry import OrganRegistry
from tests.conftest import run_cli, search_hits

DOSSIER = "2023.HS-07"
TITLE = "Hồ sơ công tác cải cách hành chính năm 2023"


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory):
    """Three one-page documents scanned back to back, ingested into a dossier."""
    folder = tmp_path_factory.mktemp("box")
    docs = make_documents(3, seed=11, pages=1)
    scan = write_multi_document_pdf(folder / "hop-07.pdf", docs, level="clean", seed=11)
    data = tmp_path_factory.mktemp("data")
    result = run_cli(data, "ingest", str(scan), "--dossier", DOSSIER, "--title", TITLE, "--json")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    return data, docs, lines[0], lines[-1]["dossier"]


@pytest.mark.slow  # `box`: OCR of a multi-document scan, ~20 s
def test_the_scan_is_cut_into_its_documents(box) -> None:
    data, docs, scan, _ = box
    assert scan["status"] == "ok"
    assert len(scan["parts"]) == len(docs)
    for n, (part_id, truth) in enumerate(zip(scan["parts"], docs, strict=True), start=1):
        shown = json.loads(run_cli(data, "show", part_id[:16], "--json").stdout)
        assert shown["source_id"] == scan["document_id"]
        assert shown["page_range"] == [n, n]
        meta = {k: v["value"] for k, v in shown["metadata"].items() if isinstance(v, dict)}
        expected = truth.metadata
        assert meta["code_number"] == expected["code_number"]
        assert meta["code_notation"] == expected["code_notation"]
        assert meta["issued_date"] == expected["issued_date"]
        assert meta["type_name"] == expected["type_name"]


@pytest.mark.slow  # `box`: OCR of a multi-document scan, ~20 s
def test_each_part_has_its_own_searchable_pdf(box, tmp_path) -> None:
    data, docs, scan, _ = box
    part = scan["parts"][1]
    out = tmp_path / "part.pdf"
    result = run_cli(data, "export", part[:16], "-o", str(out))
    assert result.returncode == 0, result.stderr
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 1
        text = pdf.pages[0].extract_text()
    assert docs[1].metadata["code_number"] in text


@pytest.mark.slow  # `box`: OCR of a multi-document scan, ~20 s
def test_dossier_totals_and_dates_come_from_its_documents(box) -> None:
    data, docs, _, dossier = box
    assert dossier["file_code"] == DOSSIER and dossier["title"] == TITLE
    assert dossier["doc_total"] == 3 and dossier["page_total"] == 3
    dates = sorted(date.fromisoformat(d.metadata["issued_date"]) for d in docs)
    assert dossier["start_date"] == dates[0].isoformat()
    assert dossier["end_date"] == dates[-1].isoformat()
    shown = json.loads(run_cli(data, "dossier", "show", DOSSIER, "--json").stdout)
    assert [d["document_id"] for d in shown["documents"]] == dossier["documents"]


@pytest.mark.slow  # `box`: OCR of a multi-document scan, ~20 s
def test_search_filters_on_metadata_and_level(box) -> None:
    data, docs, scan, _ = box
    registry = OrganRegistry.default()
    truth = docs[0].metadata
    organ = registry.require(truth["organ_id"]) if truth.get("organ_id") else None
    filters = ["-f", f"type={truth['type_name']}", "-f", f"dossier={DOSSIER}"]
    if organ is not None:
        filters += ["-f", f"level={organ.level.value}"]
    hits = search_hits(run_cli(data, "search", "", *filters, "--json"))
    assert scan["parts"][0] in [h["document_id"] for h in hits]
    assert scan["document_id"] not in [h["document_id"] for h in hits]  # searched by its parts
    year = truth["issued_date"][:4]
    wrong_year = search_hits(run_cli(data, "search", "", "-f", f"year={int(year) - 30}", "--json"))
    assert wrong_year == []


@pytest.mark.slow  # `box`: OCR of a multi-document scan, ~20 s
def test_reingest_into_the_dossier_adds_nothing_twice(box) -> None:
    data, _, scan, dossier = box
    result = run_cli(data, "ingest", scan["path"], "--dossier", DOSSIER, "--json")
    lines = json_lines(result.stdout)
    assert lines[0]["status"] == "reused"
    assert lines[-1]["dossier"]["documents"] == dossier["documents"]


@pytest.mark.slow  # `box`: OCR of a multi-document scan, ~20 s
def test_review_lists_only_documents_flagged_with_reasons(box) -> None:
    data, _, scan, _ = box
    flagged = json_lines(run_cli(data, "review", "--json").stdout)
    for doc in flagged:
        assert doc["needs_review"] and doc["review_reasons"]
    for part in scan["parts"]:
        shown = json.loads(run_cli(data, "show", part[:16], "--json").stdout)
        listed = part in [d["document_id"] for d in flagged]
        assert listed == shown["metadata"]["needs_review"]


def test_bad_dossier_code_is_refused_before_anything_is_stored(tmp_path) -> None:
    result = run_cli(tmp_path, "ingest", str(tmp_path), "--dossier", "../etc")
    assert result.returncode != 0
    assert "dossier code" in result.stderr
    assert not (tmp_path / "objects").exists() or not any((tmp_path / "objects").rglob("*"))


@pytest.mark.slow  # `box`: OCR of a multi-document scan, ~20 s
def test_reindex_with_metadata_reads_the_fields_again_without_ocr(box) -> None:
    data, _, scan, _ = box
    pages = sorted((data / "store" / "derived" / scan["document_id"] / "pages").glob("*.json"))
    stamps = [p.stat().st_mtime_ns for p in pages]
    result = run_cli(data, "reindex", "--metadata")
    assert result.returncode == 0, result.stderr
    assert "read the metadata of" in result.stderr
    assert [p.stat().st_mtime_ns for p in pages] == stamps  # no page OCRed again
    shown = json.loads(run_cli(data, "show", scan["document_id"][:16], "--json").stdout)
    assert shown["parts"] == scan["parts"]
