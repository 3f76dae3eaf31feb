"""A veraPDF result is about the bytes it validated: once the searchable PDF is made again
(pages retried, an archive imported over it), the archive export no longer claims that
validation for the new file (workers/pdfa_check.py, workers/archive_export.py)."""

from __future__ import annotations

import json
from pathlib import Path

from corpus import make_documents, write_pdf_digital
from tests.test_pdfa_check import _events, sohoa


def test_a_result_is_not_exported_for_a_pdf_it_did_not_validate(tmp_path: Path) -> None:
    [doc] = make_documents(1, seed=37, pages=1)
    source = write_pdf_digital(tmp_path / "p.pdf", doc.pages)
    data = tmp_path / "data"
    ingested = sohoa(data, "ingest", str(source), "--json", "--no-progress")
    assert ingested.returncode == 0, ingested.stderr
    doc_id = json.loads(ingested.stdout.splitlines()[0])["document_id"]
    checked = sohoa(data, "pdfa", "check", doc_id)
    assert checked.returncode == 0 and f"PASS {doc_id}" in checked.stdout, checked.stderr

    def verapdf_outcomes(out: Path) -> list[str]:
        exported = sohoa(data, "archive", "export", "--all", "-o", str(out), "--no-progress")
        assert exported.returncode == 0, exported.stderr
        folder = out / f"document-{doc_id[:16]}" / "data" / "metadata" / "preservation"
        events, _ = _events(folder / f"{doc_id}.premis.xml")
        return [e["outcome"] for e in events if "veraPDF" in e["detail"]]

    assert verapdf_outcomes(tmp_path / "before") == ["pass"]
    # The searchable PDF made anew (here: replaced by the plain original, not PDF/A).
    store = data / "store"
    pdf = store / "derived" / doc_id / "searchable.pdf"
    pdf.write_bytes((store / "originals" / doc_id).read_bytes())
    assert verapdf_outcomes(tmp_path / "after") == []  # no claim about bytes never checked
