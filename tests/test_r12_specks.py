"""drop_specks (pipeline/preprocess.py) on a large page: memory a few bytes per pixel, not
the ~10 a whole-page labelling costs (a 10,000×14,000 page, the MAX_PIXELS limit, took 1.4 GB
more), and the same page whatever the size: specks and letters on any row are judged alike."""

from __future__ import annotations

import tracemalloc

import numpy as np

from pipeline.preprocess import drop_specks

PAPER, INK = 235, 20


def _page(h: int, w: int) -> tuple[np.ndarray, list[tuple[int, int]], list[tuple[int, int]]]:
    """Text lines (letters 24 px tall, every 40 rows) and isolated dust every 40 rows between
    them: every row offset is met by both, so no band of rows is judged differently."""
    grey = np.full((h, w), PAPER, np.uint8)
    letters, dust = [], []
    for top in range(7, h - 40, 40):
        for x in range(40, w - 40, 16):
            grey[top : top + 24, x : x + 3] = INK  # a stroke: ink, not dust
            letters.append((top + 12, x + 1))
        y = top + 33  # 9 rows below the strokes: more than 5 px from them
        for x in range(40 + (top % 13), w - 40, 97):
            grey[y : y + 2, x : x + 2] = INK  # 4 px of dust
            dust.append((y, x))
        grey[top + 25, 200] = INK  # a dot just under a stroke: a dot below, kept
        letters.append((top + 25, 200))
    return grey, letters, dust


def test_every_speck_goes_and_every_letter_stays_on_a_tall_page() -> None:
    grey, letters, dust = _page(6000, 700)
    cleaned = drop_specks(grey, 300)
    assert [p for p in dust if cleaned[p] != PAPER] == []
    assert [p for p in letters if cleaned[p] != INK] == []


def test_memory_stays_a_few_bytes_per_pixel() -> None:
    grey, _, _ = _page(8000, 3000)
    tracemalloc.start()
    try:
        drop_specks(grey, 300)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / grey.size < 4, f"{peak / grey.size:.1f} bytes per pixel"
