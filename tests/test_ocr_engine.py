"""The page read runs in process (libtesseract's C API): no `tesseract` process per page, the
same words and the same text layer as the CLI gives; a page of large type read shrunk, its
words still in the scan's pixels."""

from __future__ import annotations

import pytesseract
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.load import ImagePage
from pipeline.ocr import _tesseract, ocr_page, page_engine, parse_tsv
from pipeline.page import PageOptions, process_scanned_page
from pipeline.preprocess import READ_LETTER_MIN_PX, letter_heights, reading_factor, to_grey
from tests.test_ocr_punctuation import (
    DPI,
    FONT,
    LINES,
    PUNCTUATION_TOKENS,
    _page_image,
    _pdf_text,
)


@pytest.fixture
def no_tesseract_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where no `tesseract` program can be started (only the library is there)."""
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")


def test_page_is_read_without_a_tesseract_process(no_tesseract_cli: None) -> None:
    page = ImagePage(page_no=1, image=_page_image(), dpi=DPI)
    options = PageOptions(key_zones=False)  # the zones have their own in-process reader

    out = process_scanned_page(page, options)

    assert page_engine() == "libtesseract in process"
    assert out.result.status.value == "done"
    tokens = out.result.text.split()
    for token in [*PUNCTUATION_TOKENS, "Hạnh", "phúc", "nhiệm", "chính."]:
        assert token in tokens
    searchable = _pdf_text(out.pdf).split()
    for token in ["Hạnh", "phúc", "15/QĐ-UBND", "trên;"]:
        assert token in searchable


def test_in_process_read_equals_the_cli_read() -> None:
    """Same engine, same model, same variables: every word, box and confidence as the CLI's,
    and a text-only PDF page of the same size and text."""
    grey = to_grey(_page_image())

    tsv, pdf = _tesseract(grey, DPI, 3, 120, with_pdf=True)
    out = ocr_page(grey, DPI)

    cli_words = parse_tsv(tsv)
    assert [w.text for w in out.words] == [w.text for w in cli_words]
    assert [(w.left, w.top, w.width, w.height) for w in out.words] == [
        (w.left, w.top, w.width, w.height) for w in cli_words
    ]
    assert [w.confidence for w in out.words] == [w.confidence for w in cli_words]
    assert _pdf_text(out.text_pdf).split() == _pdf_text(pdf).split()


def _type_page(size_px: int) -> Image.Image:
    font = ImageFont.truetype(FONT, size_px)
    image = Image.new("L", (2480, 1400), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(LINES[3:8]):
        draw.text((250, 150 + round(size_px * 1.8) * row), line, font=font, fill=0)
    return image


def test_large_type_is_read_shrunk_small_type_as_scanned() -> None:
    """13–14 pt body type at 300 dpi (letters ~30 px): read at 150 dpi; 8 pt type: as scanned;
    the same type scanned at 600 dpi: shrunk by 4."""
    body = letter_heights(to_grey(_type_page(56)), 300)  # 13.5 pt at 300 dpi
    small = letter_heights(to_grey(_type_page(33)), 300)  # 8 pt

    assert reading_factor(300, body) == 2
    assert reading_factor(300, small) == 1
    assert reading_factor(600, body) == 4  # the same type (heights in inches) at 600 dpi
    assert reading_factor(300, body, None) == 1


def test_words_of_a_shrunk_read_are_in_the_page_pixels() -> None:
    """The record's word boxes and the searchable PDF are those of the scan, however the page
    was read: each word where the full-resolution read puts it, within a few pixels."""
    page = ImagePage(page_no=1, image=_type_page(56), dpi=DPI)
    shrunk = process_scanned_page(
        page, PageOptions(key_zones=False, read_letter_min_px=READ_LETTER_MIN_PX)
    )
    full = process_scanned_page(page, PageOptions(key_zones=False, read_letter_min_px=None))

    texts = [w.text for w in full.result.words]
    at_full = {w.text: w for w in full.result.words if texts.count(w.text) == 1}
    common = [w for w in shrunk.result.words if w.text in at_full and len(w.text) > 3]
    assert len(common) > 20
    for word in common:
        other = at_full[word.text]
        assert abs(word.left - other.left) <= 4 and abs(word.top - other.top) <= 4
        assert abs(word.width - other.width) <= 6 and abs(word.height - other.height) <= 6
    assert (shrunk.result.width_px, shrunk.result.height_px) == (2480, 1400)
    assert "nhiệm" in _pdf_text(shrunk.pdf).split()
