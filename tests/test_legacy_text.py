"""Legacy Vietnamese encodings (TCVN3 with its `.VnTimeH` capitals, VNI, VISCII) in born-digital
PDFs come out as Unicode: in the text read, the metadata, the search, and the stored PDF's text
layer. Unicode and English pages are read exactly as before; a mixed page is converted only in
its legacy fonts. The PDFs are made in the test (tests/legacy_pdfs.py)."""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF

from corpus import write_pdf_digital
from corpus.nd30 import SyntheticDocument, make_document
from organs.registry import OrganRegistry
from pipeline import legacy_text
from pipeline.legacy_text import TCVN3, VISCII, VNI
from pipeline.load import iter_text_pages, text_page
from pipeline.metadata import extract_metadata
from pipeline.page import text_page_result
from schemas.text import fold
from tests.conftest import run_cli, search_hits
from tests.legacy_pdfs import segments, write_legacy_pdf

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
HEADER = "Cộng hòa xã hội chủ nghĩa Việt Nam Độc lập - Tự do - Hạnh phúc Thông tư nước"
ENGLISH = "Minutes of the meeting held by the Ministry of Home Affairs on 12 May 2001."


def _document(seed: int) -> SyntheticDocument:
    """A generated one-page ND30 document that all three encodings can show."""
    for k in range(seed * 100, seed * 100 + 100):
        doc = make_document(random.Random(f"test-legacy:{k}"), 1)
        try:
            for encoding in (TCVN3, VNI, VISCII):
                for line in doc.pages[0].lines:
                    for run in line.runs:
                        segments(run.text, encoding)
        except ValueError:
            continue
        return doc
    raise AssertionError("no document the legacy encodings can show")


def _pdfium_text(source: Path | bytes) -> str:
    doc = pdfium.PdfDocument(source)
    try:
        pages = []
        for page in doc:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return unicodedata.normalize("NFC", "\n".join(pages)).replace("\r\n", "\n")
    finally:
        doc.close()


def _seed_sentences(encoding: str, limit: int = 40) -> str:
    """Sentences of the real Vietnamese seeds that `encoding` can show."""
    out = []
    for path in sorted(SEEDS.glob("*.txt"))[:3]:
        for sentence in unicodedata.normalize("NFC", path.read_text()).split(". "):
            try:
                legacy_text.encode(sentence, encoding)
            except ValueError:
                continue
            out.append(sentence.strip())
    return " ".join(out[:limit])


@pytest.mark.parametrize("encoding", [TCVN3, VNI, VISCII])
def test_tables_read_real_vietnamese_back_exactly(encoding: str) -> None:
    text = _seed_sentences(encoding)
    assert len(text) > 2000
    data = legacy_text.encode(text, encoding)
    assert legacy_text.decode(data, encoding) == text
    assert legacy_text.guess_encoding(data) == encoding  # by the bytes alone, no font name


def test_known_legacy_strings() -> None:
    tcvn3 = "Céng hßa x· héi chñ nghÜa ViÖt Nam".encode("cp1252")
    assert legacy_text.decode(tcvn3, TCVN3) == "Cộng hòa xã hội chủ nghĩa Việt Nam"
    assert legacy_text.decode(b"Th\xabng t\xad n\xad\xedc", TCVN3) == "Thông tư nước"  # 0xAD
    assert legacy_text.decode("céng hßa".encode("cp1252"), TCVN3, capitals=True) == "CỘNG HÒA"
    vni = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam".encode("cp1252")
    assert legacy_text.decode(vni, VNI) == "Cộng hòa xã hội chủ nghĩa Việt Nam"
    assert legacy_text.decode(b"\x02\x05\x06\x14\x19\x1e", VISCII) == "ẲẴẪỶỸỴ"


def test_unicode_and_english_are_never_taken_for_legacy() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text()
        assert legacy_text.guess_encoding(text.encode("utf-8")) is None
        latin = text.encode("cp1252", "ignore")  # the letters Latin-1 shares with Vietnamese
        assert legacy_text.guess_encoding(latin) is None
    english = "Café résumé naïve façade Zürich Malmö Ørsted Straße São Paulo " * 5
    assert legacy_text.guess_encoding(english.encode("cp1252")) is None


@pytest.mark.parametrize("encoding", [TCVN3, VNI, VISCII])
def test_legacy_page_is_read_as_unicode(encoding: str, tmp_path: Path) -> None:
    doc = _document(1)
    path = write_legacy_pdf(tmp_path / f"{encoding}.pdf", doc.pages, encoding)
    assert "Cộng hòa" not in _pdfium_text(path)  # PDFium alone reads it as Latin gibberish
    (page,) = iter_text_pages(path, [1])
    assert page.text.split("\n") == doc.pages[0].text.split("\n")
    assert page.pdf is not None  # the page the searchable PDF carries: Unicode text layer
    assert _pdfium_text(page.pdf).split("\n") == doc.pages[0].text.split("\n")


def test_fonts_without_legacy_names_are_found_by_their_bytes(tmp_path: Path) -> None:
    doc = _document(2)
    # The text font lost its name (a subset renamed by the producer); the capitals font kept its
    # `.VnTimeH` (case cannot be told from bytes: a nameless capitals font reads lower-case).
    path = write_legacy_pdf(tmp_path / "unnamed.pdf", doc.pages, TCVN3, font_name="ABCDEF+TT1")
    (page,) = iter_text_pages(path, [1])
    lines = page.text.split("\n")
    assert [line for line in lines if line] == [line for line in doc.pages[0].text.split("\n")]


def test_mixed_page_is_converted_only_where_legacy(tmp_path: Path) -> None:
    doc = _document(3)
    english = [ENGLISH, "Annex: Café budget (résumé) — 2001"]
    path = write_legacy_pdf(tmp_path / "mixed.pdf", doc.pages, VNI, english_lines=english)
    (page,) = iter_text_pages(path, [1])
    assert page.text.split("\n") == [*doc.pages[0].text.split("\n"), *english]


def _english_pdf(path: Path) -> Path:
    pdf = FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 14, (ENGLISH + " Café résumé, naïve façade; Zürich, Malmö. ") * 12)
    pdf.output(str(path))
    return path


def test_unicode_and_english_pages_are_read_as_before(tmp_path: Path) -> None:
    unicode_pdf = write_pdf_digital(tmp_path / "unicode.pdf", _document(4).pages)
    for path in (unicode_pdf, _english_pdf(tmp_path / "english.pdf")):
        pages = list(iter_text_pages(path, [1]))
        raw = pdfium.PdfDocument(path)
        try:
            assert pages == [text_page(raw, 1)]  # exactly what PDFium reads, as before
        finally:
            raw.close()
        assert pages[0].pdf is None  # the original page goes into the searchable PDF
        assert len(pages[0].text) > 500


def _metadata(pages) -> dict:
    meta = extract_metadata(
        [text_page_result(p) for p in pages], find_organ=OrganRegistry.default().find
    )
    values = {name: field.value for name, field in meta.fields().items()}
    if isinstance(values["issued_date"], date):
        values["issued_date"] = values["issued_date"].isoformat()
    return values


@pytest.mark.parametrize("encoding", [TCVN3, VNI, VISCII])
def test_legacy_document_metadata_is_read_exactly(encoding: str, tmp_path: Path) -> None:
    doc = _document(5)
    path = write_legacy_pdf(tmp_path / "doc.pdf", doc.pages, encoding)
    got = _metadata(iter_text_pages(path, [1]))
    for key, value in doc.metadata.items():
        assert got[key] == value, key


def test_sohoa_ingest_makes_legacy_pdfs_searchable_in_unicode(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    docs = {}
    for seed, encoding in enumerate((TCVN3, VNI, VISCII), start=6):
        doc = _document(seed)
        write_legacy_pdf(folder / f"{encoding}.pdf", doc.pages, encoding)
        docs[f"{encoding}.pdf"] = doc
    data = tmp_path / "data"
    result = run_cli(data, "ingest", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    ingested = {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    ids = {ingested[name]["document_id"] for name in docs}
    hits = search_hits(run_cli(data, "search", "cong hoa xa hoi chu nghia", "--json"))
    assert ids <= {h["document_id"] for h in hits}
    for name, doc in docs.items():
        doc_id = ingested[name]["document_id"]
        subject = fold(doc.metadata["subject"])
        hits = search_hits(run_cli(data, "search", subject, "--json"))
        assert doc_id in [h["document_id"] for h in hits], name
        out = tmp_path / f"{name}.export.pdf"
        exported = run_cli(data, "export", doc_id[:12], "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        assert _pdfium_text(out).split("\n") == doc.pages[0].text.split("\n")
        shown = json.loads(run_cli(data, "show", doc_id, "--json").stdout)
        assert json.dumps(shown, ensure_ascii=False).count(doc.metadata["subject"]) >= 1
