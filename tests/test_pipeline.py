"""Pipeline stages on generated ND30 pages, with real Tesseract."""

import random
from pathlib import Path

import numpy as np
import pdfplumber
import pytest
from PIL import Image

from corpus import generate_batch, iter_pages, rotate_page
from corpus.box import BACK_STYLES, appendix_pages, blank_back, render_box_layout
from corpus.degrade import degrade
from corpus.metrics import word_error
from corpus.nd30 import make_document
from pipeline.detect import PDF, PNG
from pipeline.load import ImagePage, load_scanned_page, plan_pages
from pipeline.page import process_scanned_page
from pipeline.pdf import PagePart, assemble
from pipeline.preprocess import (
    BLANK_MAX_MARKS,
    NOISY_ABOVE,
    estimate_skew,
    is_blank,
    is_sideways,
    letter_marks,
    noise_level,
    to_grey,
)
from schemas.errors import CorruptInput, EncryptedInput, ImageTooLarge
from schemas.models import PageSource, PageStatus


@pytest.mark.parametrize("level", ["light", "heavy"])
def test_skew_is_measured_within_a_quarter_degree(level: str) -> None:
    for image, truth in iter_pages(3, seed=11, level=level):
        measured = estimate_skew(to_grey(image))
        # the page was turned counter-clockwise by skew_deg; correcting it turns it back
        assert abs(measured + truth.skew_deg) <= 0.25, (measured, truth.skew_deg)


def test_sideways_pages_are_recognised() -> None:
    image, _ = next(iter_pages(1, seed=12, level="light"))
    assert not is_sideways(to_grey(image))
    assert is_sideways(to_grey(rotate_page(image, 90)))
    assert is_sideways(to_grey(rotate_page(image, 270)))


def test_noise_measure_separates_clean_from_heavy_scans() -> None:
    clean, _ = next(iter_pages(1, seed=13, level="clean"))
    heavy, _ = next(iter_pages(1, seed=13, level="heavy"))
    assert noise_level(to_grey(clean)) < NOISY_ABOVE < noise_level(to_grey(heavy))


def test_blank_page_is_skipped_with_a_reason_not_failed() -> None:
    blank = Image.new("L", (2480, 3508), 250)
    output = process_scanned_page(ImagePage(1, blank, 300))
    assert output.result.status == PageStatus.skipped
    assert output.result.reason == "blank page"
    assert output.pdf  # the page still appears in the searchable PDF


@pytest.mark.parametrize("level", ["light", "heavy"])
@pytest.mark.parametrize("style", BACK_STYLES)
def test_backs_of_a_duplex_scan_are_skipped_before_any_ocr(style: str, level: str) -> None:
    """Bleed-through, punch holes, specks: a blank back costs no Tesseract run."""
    front, _ = next(iter_pages(1, seed=16, level="clean"))
    back = blank_back(front, style, random.Random(f"{style}-{level}"))
    degraded = degrade(back, level, seed=16).image
    result = process_scanned_page(ImagePage(2, degraded, 300)).result
    assert (result.status, result.reason) == (PageStatus.skipped, "blank page")


def test_a_sparse_page_of_text_is_not_taken_for_blank() -> None:
    doc = make_document(random.Random("sparse"), 1)
    (form,) = appendix_pages(doc.spec, random.Random(1), "form", 1, 2)
    image = degrade(render_box_layout(form), "heavy", seed=3).image
    assert letter_marks(to_grey(image), 300) > 4 * BLANK_MAX_MARKS  # a wide margin
    assert not is_blank(to_grey(image), 300)


@pytest.mark.slow  # ~11 s
def test_page_turned_a_quarter_is_put_upright_and_read() -> None:
    image, truth = next(iter_pages(1, seed=14, level="clean"))
    output = process_scanned_page(ImagePage(1, rotate_page(image, 90), 300))
    assert output.result.rotation_deg == 90
    assert word_error(truth.text, output.result.text) < 0.01
    assert output.result.source == PageSource.ocr
    assert all(0 <= w.confidence <= 100 for w in output.result.words)


@pytest.mark.slow  # ~11 s
def test_searchable_pdf_text_reads_back(tmp_path: Path) -> None:
    image, truth = next(iter_pages(1, seed=15, level="clean"))
    output = process_scanned_page(ImagePage(1, image, 300))
    page_pdf = tmp_path / "p.pdf"
    page_pdf.write_bytes(output.pdf)
    out = tmp_path / "out.pdf"
    assert assemble([PagePart(page_pdf), PagePart(page_pdf)], out, "Quyết định").pages == 2
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 2
        assert round(float(pdf.pages[0].width)) == 595  # A4 at the page's real 300 dpi
        assert word_error(truth.text, pdf.pages[0].extract_text()) < 0.02
    import pikepdf

    with pikepdf.open(out) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "2"
        assert meta["dc:title"] == "Quyết định"
        assert "/OutputIntents" in pdf.Root


def test_born_digital_pages_are_found_and_not_rasterised(tmp_path: Path) -> None:
    manifest = generate_batch(
        tmp_path, pages=2, seed=16, formats=("pdf_digital",), levels=("clean",)
    )
    entry = manifest.files[0]
    plan = plan_pages(tmp_path / entry.file, PDF)
    assert len(plan) == len(entry.pages)
    assert all(p.has_text_layer for p in plan)


def test_scanned_pdf_is_rasterised_at_its_real_resolution(tmp_path: Path) -> None:
    manifest = generate_batch(
        tmp_path, pages=2, seed=17, formats=("pdf_scanned",), levels=("light",), rotate_one=False
    )
    path = tmp_path / manifest.files[0].file
    plan = plan_pages(path, PDF)
    assert [p.has_text_layer for p in plan] == [False] * len(plan)
    assert {p.dpi for p in plan} == {300}
    page = load_scanned_page(path, PDF, plan[0])
    assert page.image.size == (2480, 3508)  # the scan itself, not a resampled render
    assert page.dpi == 300


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("truncated.pdf", CorruptInput, "damaged or truncated"),
        ("encrypted.pdf", EncryptedInput, "password"),
        ("bomb.png", ImageTooLarge, "refused before decoding|too large"),
    ],
)
def test_bad_inputs_get_specific_errors(
    bad_inputs: dict[str, Path], name: str, error: type, message: str
) -> None:
    media_type = PNG if name.endswith(".png") else PDF
    with pytest.raises(error, match=message):
        plan_pages(bad_inputs[name], media_type)


def test_pages_stream_one_at_a_time_from_a_multipage_tiff(tmp_path: Path) -> None:
    images = [np.full((400, 300), 255, np.uint8) for _ in range(5)]
    frames = [Image.fromarray(a) for a in images]
    path = tmp_path / "five.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(200, 200))
    plan = plan_pages(path, "image/tiff")
    assert [(p.page_no, p.dpi) for p in plan] == [(n, 200) for n in range(1, 6)]
    page = load_scanned_page(path, "image/tiff", plan[3])
    assert page.page_no == 4 and page.image.size == (300, 400)


def test_long_documents_merge_in_chunks_with_pages_in_order(tmp_path: Path, monkeypatch) -> None:
    import pipeline.pdf as pdf_module

    monkeypatch.setattr(pdf_module, "CHUNK_PAGES", 3)
    sources = []
    for n in range(1, 8):
        source = tmp_path / f"{n}.pdf"
        image = Image.new("L", (300 + n * 10, 400), 255)
        source.write_bytes(pdf_module.page_pdf(image, 100, None))
        sources.append(PagePart(source))
    out = tmp_path / "long.pdf"
    assert assemble(sources, out, "Hồ sơ").pages == 7
    with pdfplumber.open(out) as pdf:
        widths = [round(float(p.width) / 72 * 100) for p in pdf.pages]
    assert widths == [300 + n * 10 for n in range(1, 8)]
