"""OCR word error on generated ND30 pages, against the bounds of DESIGN §8."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from corpus import iter_pages
from corpus.metrics import words
from pipeline.load import ImagePage
from pipeline.page import process_scanned_page

# slow (pyproject): OCR of many pages per degradation level (> 40 s each)
pytestmark = pytest.mark.slow

PAGES_PER_LEVEL = 8  # about 3,500 words: enough for a mean that a single slip cannot swing


def _pooled_word_error(level: str) -> tuple[float, list[str]]:
    """Words missing or extra (the larger) over all true words of the pages.

    Pooled, so every word counts once: a per-page mean lets the short last page of a
    document (a few dozen words) weigh as much as a full one.
    """

    def one(page):
        image, truth = page
        text = process_scanned_page(ImagePage(1, image, 300)).result.text
        return Counter(words(truth.text)), Counter(words(text))

    with ThreadPoolExecutor(max_workers=2) as pool:  # one Tesseract per core
        pages = list(pool.map(one, iter_pages(PAGES_PER_LEVEL, seed=7, level=level)))
    want = sum((w for w, _ in pages), Counter())
    missing = sum((w - g for w, g in pages), Counter())
    extra = sum((g - w for w, g in pages), Counter())
    worst = [f"{t} ×{n}" for t, n in (missing + extra).most_common(8)]
    return max(missing.total(), extra.total()) / want.total(), worst


@pytest.mark.parametrize("level", ["clean", "light"])
def test_word_error_on_clean_and_lightly_degraded_pages_is_at_most_half_a_percent(
    level: str,
) -> None:
    error, worst = _pooled_word_error(level)
    assert error <= 0.005, f"{error:.2%}; most frequent slips: {worst}"
