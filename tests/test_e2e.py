"""The CLI end to end on a generated mixed batch, as an archivist would run it."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from statistics import mean

import pdfplumber
import pytest

from corpus import generate_batch
from corpus.metrics import word_error
from schemas.text import fold
from tests.conftest import run_cli, search_hits

# slow (pyproject): every test reads the one OCRed mixed batch of `ingested` (~3 min)
pytestmark = pytest.mark.slow

BAD_CODES = {
    "zero_byte.pdf": "empty_file",
    "truncated.pdf": "corrupt",
    "encrypted.pdf": "encrypted",
    "not_a_pdf.pdf": "unsupported_type",
    "bomb.png": "too_large",
    "garbage.tif": "unsupported_type",
}


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("batch")
    return folder, generate_batch(folder, pages=10, seed=7)


@pytest.fixture(scope="module")
def ingested(batch, bad_inputs, tmp_path_factory: pytest.TempPathFactory):
    folder, manifest = batch
    data = tmp_path_factory.mktemp("data")
    links = tmp_path_factory.mktemp("links")
    dangling = links / "dangling.pdf"
    dangling.symlink_to(links / "gone.pdf")
    bad_dir = next(iter(bad_inputs.values())).parent
    result = run_cli(
        data,
        "ingest",
        str(folder),
        str(bad_dir),
        str(links / "missing.tif"),
        str(dangling),
        "--json",
    )
    results = {Path(r["path"]).name: r for r in json_lines(result.stdout)}
    return data, manifest, result, results


def test_every_good_file_is_ok_and_every_page_has_text(ingested) -> None:
    _, manifest, _, results = ingested
    for entry in manifest.files:
        record = results[entry.file]
        assert record["status"] == "ok", record["error"]
        assert record["page_count"] == len(entry.pages)
        for page, truth in zip(record["pages"], entry.pages, strict=True):
            assert page["text"].strip(), f"{entry.file} page {page['page_no']} has no text"
            assert page["text"] == unicodedata.normalize("NFC", page["text"])
            assert page["rotation_deg"] == truth.rotation_deg
            assert page["source"] == ("text_layer" if entry.born_digital else "ocr")


def test_scanned_pages_are_read_accurately(ingested) -> None:
    """Every level of the mixed batch; the DESIGN bounds are checked on larger samples in
    test_accuracy.py and measured in bench/ocr.py."""
    _, manifest, _, results = ingested
    errors = {
        (entry.file, truth.page_no): word_error(truth.text, page["text"])
        for entry in manifest.files
        if not entry.born_digital
        for page, truth in zip(results[entry.file]["pages"], entry.pages, strict=True)
    }
    assert errors
    assert mean(errors.values()) <= 0.015, errors
    assert max(errors.values()) <= 0.05, errors


def test_born_digital_text_is_taken_exactly(ingested) -> None:
    _, manifest, _, results = ingested
    digital = [e for e in manifest.files if e.born_digital]
    assert digital
    for entry in digital:
        for page, truth in zip(results[entry.file]["pages"], entry.pages, strict=True):
            assert word_error(truth.text, page["text"]) == 0


def test_each_bad_input_fails_alone_with_its_reason(ingested) -> None:
    _, manifest, result, results = ingested
    assert result.returncode == 1
    for name, code in BAD_CODES.items():
        assert results[name]["status"] == "failed"
        assert results[name]["error"]["code"] == code, results[name]["error"]
    assert results["missing.tif"]["error"]["code"] == "not_found"
    assert results["dangling.pdf"]["error"]["code"] == "not_found"
    assert len(results) == len(manifest.files) + len(BAD_CODES) + 2


def test_accepted_bad_files_keep_their_original_and_record(ingested) -> None:
    data, _, _, results = ingested
    record = results["not_a_pdf.pdf"]
    assert (data / "store" / "originals" / record["document_id"]).is_file()
    shown = json.loads(run_cli(data, "show", record["document_id"][:16], "--json").stdout)
    assert shown["status"] == "failed"
    assert [h["status"] for h in shown["history"]] == ["received", "failed"]


def _subject_doc(manifest, results):
    entry = next(e for e in manifest.files if e.level == "clean" and not e.born_digital)
    return entry, results[entry.file]["document_id"]


def test_search_folds_diacritics_and_case(ingested) -> None:
    data, manifest, _, results = ingested
    entry, doc_id = _subject_doc(manifest, results)
    subject_words = entry.metadata["subject"].split()[:6]
    exact = " ".join(subject_words)
    for query in (fold(exact), exact.upper(), unicodedata.normalize("NFD", exact)):
        hits = search_hits(run_cli(data, "search", query, "--json", "--limit", "50"))
        assert doc_id in [h["document_id"] for h in hits], query
        hit = next(h for h in hits if h["document_id"] == doc_id)
        page = hit["pages"][0]
        assert page["page_no"] >= 1
        marked = [fold(page["snippet"][a:b]) for a, b in page["highlights"]]
        assert set(marked) & set(fold(exact).split())


def test_search_output_for_people_shows_pages_and_snippets(ingested) -> None:
    data, manifest, _, results = ingested
    entry, _ = _subject_doc(manifest, results)
    result = run_cli(data, "search", fold(entry.metadata["type_name"] or entry.metadata["subject"]))
    assert result.returncode == 0
    assert "document(s) match" in result.stdout
    assert "p.1:" in result.stdout


def test_export_gives_a_pdf_whose_text_reads_back(ingested, tmp_path: Path) -> None:
    data, manifest, _, results = ingested
    entry, doc_id = _subject_doc(manifest, results)
    out = tmp_path / "export.pdf"
    result = run_cli(data, "export", doc_id[:10], "-o", str(out))
    assert result.returncode == 0, result.stderr
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == len(entry.pages)
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    assert word_error(entry.text, text) < 0.02


def test_reindex_rebuilds_search_from_records_alone(ingested) -> None:
    data, manifest, _, results = ingested
    entry, doc_id = _subject_doc(manifest, results)
    query = fold(" ".join(entry.metadata["subject"].split()[:6]))
    before = [h["document_id"] for h in search_hits(run_cli(data, "search", query, "--json"))]
    for path in data.glob("index.sqlite3*"):
        path.unlink()
    assert search_hits(run_cli(data, "search", query, "--json")) == []
    result = run_cli(data, "reindex")
    assert result.returncode == 0 and "reindexed" in result.stderr
    after = [h["document_id"] for h in search_hits(run_cli(data, "search", query, "--json"))]
    assert after == before and doc_id in after


def test_reingest_of_known_bytes_reuses_records_with_zero_ocr(ingested, batch) -> None:
    data, manifest, _, _ = ingested
    folder, _ = batch
    derived_before = sorted((data / "store" / "derived").rglob("*"))
    stamps = {p: p.stat().st_mtime_ns for p in derived_before if p.is_file()}
    result = run_cli(data, "ingest", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    rows = json_lines(result.stdout)
    assert {r["status"] for r in rows} == {"reused"}
    assert len(rows) == len(manifest.files)
    assert sorted((data / "store" / "derived").rglob("*")) == derived_before
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())


def test_show_prints_the_record(ingested) -> None:
    data, manifest, _, results = ingested
    entry, doc_id = _subject_doc(manifest, results)
    shown = json.loads(run_cli(data, "show", doc_id, "--json").stdout)
    assert shown["document_id"] == doc_id
    assert shown["status"] == "done"
    assert [h["status"] for h in shown["history"]] == ["received", "processing", "done"]
    human = run_cli(data, "show", doc_id[:12]).stdout
    assert entry.file in human and "done" in human
    assert run_cli(data, "show", "ffffffffff").returncode == 3
