"""Issue 17, round 13: on a noisy page the median filter rounds a hook (hỏi) into an acute
(sắc); the words with an acute that Tesseract is unsure of are read again from the page before
the filter, and only a hook for the acute is taken from that read (pipeline/reread.py)."""

from collections import Counter

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.config import Settings
from corpus import iter_pages
from pages2.fonts import FAMILIES, Style, font
from pipeline.flags import NOISY_PAGE_FLAG
from pipeline.load import ImagePage
from pipeline.ocr import OcrOutput, accurate_tessdata
from pipeline.page import PageOptions, process_scanned_page, read_page
from pipeline.preprocess import prepare
from pipeline.reread import HOOK_DOUBT_BELOW, doubtful_acutes, restore_hooks
from pipeline.zones import _acute_for_hook
from schemas.models import Word

PX = 58  # 14 pt at 300 dpi


def _printed(text: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A clean 300-dpi strip with `text` printed on it, and the ink's box (l, t, w, h)."""
    image = Image.new("L", (900, 200), 255)
    face = font(FAMILIES[0].files[Style.regular], PX)
    ImageDraw.Draw(image).text((60, 50), text, font=face, fill=0)
    grey = np.asarray(image).copy()
    rows, cols = np.nonzero(grey < 128)
    box = (int(cols.min()), int(rows.min()), int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1)
    return grey, box


def _first_read(text: str, box: tuple[int, int, int, int], confidence: float) -> OcrOutput:
    left, top, width, height = box
    word = Word(text=text, left=left, top=top, width=width, height=height, confidence=confidence)
    return OcrOutput([word], text, confidence, b"%PDF-stub")


@pytest.fixture(scope="module")
def tessdata():
    return accurate_tessdata(Settings().tessdata_path)


@pytest.mark.parametrize("hooked", ["đẩy", "đổi", "thể"])
def test_a_doubtful_acute_over_a_printed_hook_comes_out_with_the_hook(hooked, tessdata) -> None:
    grey, box = _printed(hooked)
    acute = hooked.replace("ẩ", "ấ").replace("ổ", "ố").replace("ể", "ế")
    out = restore_hooks(_first_read(acute, box, 60.0), grey, 300, tessdata)
    assert out.text == hooked
    assert out.words[0].text == hooked and out.words[0].left == box[0]  # same place
    assert out.text_pdf == b"%PDF-stub"


def test_a_sure_acute_is_not_read_again(tessdata) -> None:
    grey, box = _printed("đẩy")
    out = restore_hooks(_first_read("đấy", box, 96.0), grey, 300, tessdata)
    assert out.text == "đấy"  # Tesseract was sure: the first read stands


def test_a_printed_acute_stays_an_acute(tessdata) -> None:
    grey, box = _printed("đấy")
    out = restore_hooks(_first_read("đấy", box, 60.0), grey, 300, tessdata)
    assert out.text == "đấy"


def test_only_unsure_words_with_an_acute_are_doubtful() -> None:
    def word(text: str, confidence: float) -> Word:
        return Word(text=text, left=0, top=0, width=10, height=10, confidence=confidence)

    words = [word("đấy", 60), word("đấy", 97), word("đầy", 40), word("tổ", 30), word("tố", 89)]
    assert doubtful_acutes(words) == [0, 4]
    assert HOOK_DOUBT_BELOW == 90.0


def _hook_slips(truth: str, text: str) -> int:
    """How many words of `text` have an acute where the true word has a hook (bag of words)."""
    want, got = Counter(truth.split()), Counter(text.split())
    missing, extra = want - got, got - want
    pairs = [(e, m) for e in extra for m in missing if _acute_for_hook(e, m)]
    return sum(min(extra[e], missing[m]) for e, m in pairs)


def test_a_noisy_page_keeps_hooks_its_filtered_read_lost(tessdata) -> None:
    """Through the product path: a heavy page (noisy, so median-filtered) comes out with fewer
    acutes for hooks than the filtered page's own read (`tố` for the page's `tổ`), and every
    word the second read changed is a word of the page."""
    image, truth = next(iter_pages(1, seed=13, level="heavy"))
    options = PageOptions(key_zones=False, tessdata=tessdata)
    result = process_scanned_page(ImagePage(1, image, 300), options).result
    assert NOISY_PAGE_FLAG in result.quality_flags
    filtered = read_page(prepare(image, dpi=300).grey, 300).text
    assert _hook_slips(truth.text, result.text) < _hook_slips(truth.text, filtered)
    changed = [b for a, b in zip(filtered.split(), result.text.split(), strict=True) if a != b]
    assert changed and set(changed) <= set(truth.text.split())


def test_without_the_standard_model_the_first_read_stands() -> None:
    grey, box = _printed("đẩy")
    first = _first_read("đấy", box, 60.0)
    assert restore_hooks(first, grey, 300, None) is first
