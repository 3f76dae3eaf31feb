"""The clean-up of noisy pages (issue 17): specks of dust away from letters are removed, tone
marks and dots below are kept, and pages that are not noisy are left as they were."""

import re
from collections import Counter

import numpy as np
import pytest

from corpus import iter_pages
from pipeline.flags import NOISY_PAGE_FLAG
from pipeline.load import ImagePage
from pipeline.page import PageOptions, process_scanned_page
from pipeline.preprocess import drop_specks, prepare, to_grey

PAPER, INK = 230, 40


def test_a_speck_away_from_letters_is_removed_a_mark_beside_a_letter_is_kept() -> None:
    page = np.full((200, 200), PAPER, np.uint8)
    page[50:80, 50:70] = INK  # a letter 30 px high (300 dpi)
    page[83:86, 58:61] = INK  # a dot below it, 3 px under the letter
    page[44:47, 58:61] = INK  # a tone mark above it
    page[150:153, 150:153] = INK  # dust, far from any letter
    cleaned = drop_specks(page, 300)
    assert cleaned[151, 151] > 200  # the dust is paper now
    assert cleaned[84, 59] == INK and cleaned[45, 59] == INK  # the marks stay
    assert (cleaned[50:80, 50:70] == INK).all()  # the letter stays


def _glued(token: str, truth: Counter) -> bool:
    """`nội.dung`, `qua-5`: two words of the truth joined by a speck read as punctuation."""
    parts = re.split(r"[.\-_']", token)
    return len(parts) == 2 and all(part in truth for part in parts) and token not in truth


def test_a_heavy_page_reads_without_specks_as_punctuation() -> None:
    image, truth = list(iter_pages(2, seed=13, level="heavy"))[1]
    result = process_scanned_page(ImagePage(1, image, 300), PageOptions(key_zones=False)).result
    assert NOISY_PAGE_FLAG in result.quality_flags  # the page statistic fired
    want, got = Counter(truth.text.split()), Counter(result.text.split())
    extra = got - want
    stray = [t for t in extra if not any(c.isalnum() for c in t)]
    glued = [t for t in extra if _glued(t, want)]
    assert not stray and not glued, (stray, glued)


@pytest.mark.parametrize("level", ["clean", "light"])
def test_pages_that_are_not_noisy_are_not_cleaned(level: str) -> None:
    image, _ = next(iter_pages(1, seed=13, level=level))
    grey = to_grey(image)
    prepared = prepare(image, grey=grey.copy(), dpi=300)
    untouched = prepare(image, grey=grey, do_denoise=False, dpi=300)
    assert NOISY_PAGE_FLAG not in prepared.flags
    assert np.array_equal(prepared.grey, untouched.grey)
