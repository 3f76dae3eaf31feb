"""The page read runs in process (libtesseract's C API): no `tesseract` process per page, the
same words and the same text layer as the CLI gives."""

from __future__ import annotations

import pytesseract
import pytest

from pipeline.load import ImagePage
from pipeline.ocr import _tesseract, ocr_page, page_engine, parse_tsv
from pipeline.page import PageOptions, process_scanned_page
from pipeline.preprocess import to_grey
from tests.test_ocr_punctuation import DPI, PUNCTUATION_TOKENS, _page_image, _pdf_text


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
