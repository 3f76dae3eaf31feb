"""OCR word error on generated ND30 pages, against the bounds of DESIGN §8."""

from concurrent.futures import ThreadPoolExecutor
from statistics import mean

import pytest

from corpus import iter_pages
from corpus.metrics import word_error
from pipeline.load import ImagePage
from pipeline.page import process_scanned_page

PAGES_PER_LEVEL = 8  # about 3,500 words: enough for a mean that a single slip cannot swing


def _word_errors(level: str) -> list[float]:
    def one(page):
        image, truth = page
        return word_error(truth.text, process_scanned_page(ImagePage(1, image, 300)).result.text)

    with ThreadPoolExecutor(max_workers=2) as pool:  # one Tesseract per core
        return list(pool.map(one, iter_pages(PAGES_PER_LEVEL, seed=7, level=level)))


@pytest.mark.parametrize("level", ["clean", "light"])
def test_word_error_on_clean_and_lightly_degraded_pages_is_at_most_half_a_percent(
    level: str,
) -> None:
    errors = _word_errors(level)
    assert mean(errors) <= 0.005, [f"{e:.2%}" for e in errors]
