"""What OCR cannot read in a subject and the pipeline puts right: numerals of I strokes counted
on the image (pipeline/strokes.py), and tone marks set right by Vietnamese word pairs
(pipeline/lexicon.py, Tesseract's own `vie` bigram dictionary installed by scripts/tessdata.sh)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.compose import page_options
from app.config import Settings
from corpus.batch import scan_pages
from corpus.content import seeds_dir
from corpus.fonts import Style, pil_font, pt_to_px
from corpus.nd30 import make_document
from pipeline.lexicon import WordPairs, word_pairs
from pipeline.load import ImagePage
from pipeline.metadata import extract_metadata
from pipeline.ocr import accurate_tessdata, ocr_page
from pipeline.page import process_scanned_page
from pipeline.strokes import COUNTED_CONFIDENCE, count_strokes, counted_numerals
from pipeline.zones import with_counted_numerals
from schemas.models import PageResult, Word

SUBJECT_PX = pt_to_px(14)


def _line(words: list[str], style: Style = Style.bold) -> tuple[np.ndarray, list[Word]]:
    """A 300-dpi grey strip with `words` set in the corpus's serif; each word's true box."""
    font = pil_font(style, SUBJECT_PX)
    image = Image.new("L", (1800, 3 * SUBJECT_PX), 255)
    draw = ImageDraw.Draw(image)
    x, boxes = 40, []
    for text in words:
        left, top, right, bottom = draw.textbbox((x, SUBJECT_PX), text, font=font)
        draw.text((x, SUBJECT_PX), text, font=font, fill=0)
        boxes.append(
            Word(
                text=text,
                left=left,
                top=top,
                width=right - left,
                height=bottom - top,
                confidence=90.0,
            )
        )
        x = right + SUBJECT_PX // 3
    return np.asarray(image), boxes


@pytest.mark.parametrize("numeral", ["I", "II", "III"])
@pytest.mark.parametrize("style", [Style.bold, Style.regular])
def test_strokes_of_a_numeral_are_counted_on_the_image(numeral: str, style: Style) -> None:
    grey, (_, word, _) = _line(["quý", numeral, "năm"], style)
    assert count_strokes(grey, word) == len(numeral)


@pytest.mark.parametrize("misread", ["II", "IHI", "HII", "IH", "III"])
def test_a_misread_numeral_after_its_context_word_gets_the_strokes_the_page_has(
    misread: str,
) -> None:
    grey, words = _line(["quý", "III", "năm", "2022"])
    read = [words[0], words[1].model_copy(update={"text": misread}), *words[2:]]
    (numeral,) = counted_numerals(grey, read)
    assert numeral.text == "III"
    assert numeral.confidence == COUNTED_CONFIDENCE


def test_letters_digits_and_other_numerals_are_not_counted() -> None:
    grey, words = _line(["ngày", "11", "khu", "H", "khóa", "IV", "Hà", "Nội"])
    assert counted_numerals(grey, words) == []


def test_real_tesseract_read_of_the_numerals_is_replaced_by_the_count() -> None:
    grey, _ = _line(["cán", "bộ", "quý", "III", "năm", "2024"])
    words = ocr_page(grey, 300, psm=7).words
    numerals = counted_numerals(grey, words)
    assert [w.text for w in numerals] == ["III"]


def _subject_page(subject_words: list[Word], numerals: list[Word]) -> PageResult:
    return PageResult(
        page_no=1,
        text=" ".join(w.text for w in subject_words),
        words=subject_words,
        width_px=1800,
        height_px=200,
        dpi=300,
        zones={"numerals": numerals},
    )


def test_counted_numerals_replace_what_both_reads_spelled() -> None:
    grey, words = _line(["quý", "III", "năm", "2022"])
    page = _subject_page(
        [words[0], words[1].model_copy(update={"text": "IHI"}), *words[2:]],
        counted_numerals(grey, words),
    )
    page.zones["subject"] = [words[1].model_copy(update={"text": "II"})]
    fixed = with_counted_numerals(page)
    assert [w.text for w in fixed.words] == ["quý", "III", "năm", "2022"]
    assert [w.text for w in fixed.zones["subject"]] == ["III"]
    assert page.words[1].text == "IHI"  # the page itself is not changed


def _pairs() -> WordPairs | None:
    """The word pairs as sohoa finds them (Settings: SOHOA_TESSDATA or its default folder)."""
    return word_pairs(page_options(Settings()).tessdata)


def test_the_accurate_model_and_the_word_pairs_are_installed() -> None:
    assert accurate_tessdata(Settings().tessdata_path), "run scripts/tessdata.sh (make setup)"
    assert _pairs() is not None


@pytest.mark.parametrize(
    ("read", "right"),
    [
        (
            "Triển khai tuyến dụng công chức, viên chức",
            "Triển khai tuyển dụng công chức, viên chức",
        ),
        ("Về việc kiện toàn tố chức bộ máy", "Về việc kiện toàn tổ chức bộ máy"),
        ("Về đấy mạnh chuyển đổi số", "Về đẩy mạnh chuyển đổi số"),
        ("Về chuyển đối số trong cơ quan", "Về chuyển đổi số trong cơ quan"),
    ],
)
def test_tone_slips_are_put_right_by_word_pairs(read: str, right: str) -> None:
    pairs = _pairs()
    assert pairs is not None
    assert pairs.respell(read) == (right, 1)


def test_word_pairs_leave_correct_text_alone() -> None:
    """Every line of the real administrative texts the corpus is built from stays as written."""
    pairs = _pairs()
    assert pairs is not None
    changed = [
        (line, pairs.respell(line)[0])
        for path in sorted(seeds_dir().glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if pairs.respell(line)[1]
    ]
    assert changed == []


def test_names_and_unknown_neighbours_are_left_as_read() -> None:
    pairs = WordPairs.from_lines(["tổ chức", "về đẩy", "đẩy mạnh"])
    assert pairs.respell("Về đấy mạnh")[0] == "Về đẩy mạnh"
    assert pairs.respell("ông Tố chức") == ("ông Tố chức", 0)  # a capitalised word is a name
    assert pairs.respell("tố, chức") == ("tố, chức", 0)  # no neighbour across a comma
    assert pairs.respell("chấm công") == ("chấm công", 0)


@pytest.mark.parametrize("level", ["light", "heavy"])
def test_scanned_subject_with_a_numeral_comes_out_exact(level: str) -> None:
    """A generated ND30 page whose subject ends in `quý III`, degraded and read by the real
    page pipeline (OCR, key-zone reads, stroke counts), gives the true subject."""
    doc = next(
        d
        for k in range(500)
        if "quý III" in (d := make_document(random.Random(f"numerals:{k}"), 1)).metadata["subject"]
    )
    (scanned,) = scan_pages([doc], level, 7)
    options = page_options(Settings())  # with the accurate model, as sohoa runs
    result = process_scanned_page(ImagePage(1, scanned.image, 300), options).result
    assert [w.text for w in result.zones.get("numerals", [])] == ["III"]
    meta = extract_metadata([result], pairs=_pairs())
    assert meta.subject.value == doc.metadata["subject"]
