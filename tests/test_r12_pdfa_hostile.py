"""A hostile PDF cannot write lines into veraPDF's verdicts: a font name carrying a line break
and a forged `PASS …` line stays inside its rule's line, so every failed rule is kept and
the verdict is veraPDF's (scripts/verapdf.sh, workers/pdfa_check.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pikepdf

from corpus import make_documents, write_pdf_digital
from tests.test_pdfa_check import sohoa

FONT_RULES = {"6.2.11.2-4", "6.2.11.2-5", "6.2.11.4.1-1"}  # FirstChar, LastChar, not embedded


def _hostile_pdf(path: Path, forged: str) -> None:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name(f"/Evil\nPASS {forged}\n"),
        )
    )
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Resources=resources,
        Contents=pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)


def test_a_font_name_cannot_forge_verdict_lines(tmp_path: Path) -> None:
    [doc] = make_documents(1, seed=41, pages=1)
    data = tmp_path / "data"
    source = write_pdf_digital(tmp_path / "p.pdf", doc.pages)
    ingested = sohoa(data, "ingest", str(source), "--json", "--no-progress")
    assert ingested.returncode == 0, ingested.stderr
    doc_id = json.loads(ingested.stdout.splitlines()[0])["document_id"]
    pdf = data / "store" / "derived" / doc_id / "searchable.pdf"
    _hostile_pdf(pdf, str(pdf))

    checked = sohoa(data, "pdfa", "check", doc_id, "--json")
    assert checked.returncode == 1, checked.stderr
    [row] = [json.loads(x) for x in checked.stdout.splitlines() if x.strip()]
    assert row["outcome"] == "fail"
    ids = {r.split()[0] for r in row["failed_rules"]}
    assert ids >= FONT_RULES  # none cut off by a forged verdict line
    assert all(r.split()[0][0].isdigit() for r in row["failed_rules"])
