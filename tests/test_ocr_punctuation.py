"""OCR fidelity of a page through the real page pipeline (Tesseract included): punctuation is
text in the record and in the searchable PDF, and a page that lost its diacritics is caught."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from app.config import Settings
from pipeline.load import ImagePage
from pipeline.metadata import extract_metadata
from pipeline.ocr import accurate_tessdata, drop_noise, reading_order_text
from pipeline.page import PageOptions, ScannedPageOutput, process_scanned_page
from schemas.models import Word

DIACRITICS_LOW_FLAG = "diacritics_low"  # as `sohoa show --json` lists it in quality_flags
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
DPI = 300
LINES = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "",
    "Số: 15/QĐ-UBND về việc công bố (trích) kết quả",
    "Tỷ lệ hồ sơ được “số hóa” đạt 45,5% trong năm.",
    "Trong nhiệm kỳ qua, kinh tế của tỉnh đã có bước phát triển",
    "mới, đời sống của nhân dân không ngừng được cải thiện,",
    "vị thế của tỉnh được nâng cao qua công tác cải cách hành chính.",
    "",
    "Nơi nhận:",
    "- Như trên;",
    "- Lưu: VT.",
]
# Every mark the record must keep, as whitespace-separated tokens of the page text.
PUNCTUATION_TOKENS = ["-", "15/QĐ-UBND", "(trích)", "45,5%", "“số", "hóa”", "trên;"]


def _page_image() -> Image.Image:
    font = ImageFont.truetype(FONT, 46)  # 11 pt at 300 dpi
    image = Image.new("L", (2480, 80 * len(LINES) + 300), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(LINES):
        draw.text((250, 150 + 80 * row), line, font=font, fill=0)
    return image


def _read(options: PageOptions) -> ScannedPageOutput:
    page = ImagePage(page_no=1, image=_page_image(), dpi=DPI)
    return process_scanned_page(page, options)


def _pdf_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        textpage = doc[0].get_textpage()
        return textpage.get_text_range()
    finally:
        doc.close()


@pytest.fixture(scope="module")
def vie_page() -> ScannedPageOutput:
    return _read(PageOptions(key_zones=False))


def test_punctuation_is_in_the_page_text(vie_page: ScannedPageOutput) -> None:
    text = vie_page.result.text
    tokens = text.split()
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert tokens.count("-") >= 4, text  # two in the motto, two bullets of Nơi nhận
    assert "- Như trên;" in text
    for token in PUNCTUATION_TOKENS:
        assert token in tokens, (token, text)


def test_punctuation_is_in_the_pdf_text_layer(vie_page: ScannedPageOutput) -> None:
    assert vie_page.pdf is not None
    tokens = _pdf_text(vie_page.pdf).split()
    assert tokens.count("-") >= 4, tokens
    for token in PUNCTUATION_TOKENS:
        assert token in tokens, (token, tokens)


def test_a_vietnamese_page_read_with_vie_is_not_flagged(vie_page: ScannedPageOutput) -> None:
    assert DIACRITICS_LOW_FLAG not in vie_page.result.quality_flags
    reasons = extract_metadata([vie_page.result]).review_reasons
    assert not any("diacritics" in r for r in reasons)


def test_a_page_read_with_english_data_is_flagged_for_review() -> None:
    """No standard model to read it again with: the page keeps its first read, flagged, and the
    record says why a person must look."""
    out = _read(PageOptions(key_zones=False, lang="eng", tessdata=None))
    assert DIACRITICS_LOW_FLAG in out.result.quality_flags
    reasons = extract_metadata([out.result]).review_reasons
    assert any(r.startswith("page 1: OCR text has few Vietnamese diacritics") for r in reasons)


def test_a_page_read_with_english_data_is_read_again_with_the_standard_model() -> None:
    tessdata = accurate_tessdata(Settings().tessdata_path)
    assert tessdata, "run scripts/tessdata.sh (make setup)"
    out = _read(PageOptions(key_zones=False, lang="eng", tessdata=tessdata))
    assert DIACRITICS_LOW_FLAG not in out.result.quality_flags
    assert "Độc lập - Tự do - Hạnh phúc" in out.result.text


def _word(text: str, height: int, left: int, confidence: float = 90.0) -> Word:
    return Word(text=text, left=left, top=100, width=12, height=height, confidence=confidence)


def test_a_speck_read_as_a_lone_colon_or_dot_is_not_text() -> None:
    """Dust on a scanned line is read as `:` `.` `_` `'` standing alone, below letter height and
    often at high confidence; the record must not hold them. A dash that small is text."""
    line = [_word("Nơi", 40, 0), _word("nhận", 40, 100)]
    specks = [_word(mark, 8, 300 + 40 * k) for k, mark in enumerate([":", ".", "_", "'", "`"])]
    dash = _word("-", 4, 600)
    kept = drop_noise([*line, *specks, dash], DPI)
    assert reading_order_text(kept) == "Nơi nhận -"


def test_a_lone_circumflex_read_apart_from_its_vowel_is_not_text() -> None:
    """Tesseract sometimes gives a circumflex its own word (`ˆ`, which Unicode files as a
    letter); it is a mark torn from a vowel or a speck, on clean pages too, never a word."""
    line = [_word("Nơi", 40, 0), _word("nhận", 40, 100)]
    lone = [_word("ˆ", 63, 300, confidence=58), _word("ˆ", 30, 400, confidence=9)]
    assert reading_order_text(drop_noise([*line, *lone], DPI)) == "Nơi nhận"
    assert reading_order_text(drop_noise([_word("Đôi", 40, 0), _word("ô", 30, 100)], DPI)) == (
        "Đôi ô"
    )
