"""The page clean-up's cheaper measures give the decisions the costlier ones gave (round 15):
the skew angle, the paper's grey level, the noise measure. Generated pages, real OpenCV."""

import cv2
import numpy as np
import pytest

from corpus import iter_pages
from pipeline import preprocess
from pipeline.preprocess import (
    MAX_SKEW_DEG,
    _line_score,
    _rotate_small,
    analysis_ink,
    estimate_skew,
    noise_level,
    percentile_u8,
    to_grey,
)


def _whole_map_skew(ink: np.ndarray) -> float:
    """The skew search as it was before round 15: coarse and fine on the whole ink map."""

    def search(center: float, span: float, step: float) -> float:
        angles = np.arange(center - span, center + span + step / 2, step)
        scores = [_line_score(_rotate_small(ink, a)) for a in angles]
        return float(angles[int(np.argmax(scores))])

    return round(search(search(0.0, MAX_SKEW_DEG, 0.5), 0.5, 0.1), 2)


def _numpy_noise(grey: np.ndarray) -> float:
    """The noise measure as numpy computed it before round 15."""
    grey = np.ascontiguousarray(grey[::2, ::2])
    blurred = cv2.GaussianBlur(grey, (5, 5), 0)
    _, ink = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    paper = cv2.dilate(ink, np.ones((15, 15), np.uint8)) == 0
    local = cv2.GaussianBlur(grey, (31, 31), 0)
    return float(np.std(grey[paper].astype(np.int16) - local[paper].astype(np.int16)))


@pytest.mark.parametrize("level", ["light", "heavy"])
def test_the_coarse_search_on_a_smaller_map_finds_the_whole_maps_angle(level: str) -> None:
    for image, _ in iter_pages(2, seed=21, level=level):
        ink = analysis_ink(to_grey(image))
        for turned in (0.0, 1.3, -2.6, 4.2):
            page = ink if turned == 0.0 else _rotate_small(ink, turned)
            assert estimate_skew(np.empty((1, 1), np.uint8), page) == _whole_map_skew(page)


def test_the_histogram_percentile_is_numpys() -> None:
    rng = np.random.default_rng(15)
    for size in (1, 2, 3, 77, 1000, 4099):
        for values in (
            rng.integers(0, 256, size),
            np.sort(rng.integers(0, 256, size))[: max(1, size // 2)],
            np.full(size, 200),
        ):
            values = values.astype(np.uint8).reshape(1, -1)
            for q in (0, 1, 33.3, 50, 90, 99, 100):
                assert percentile_u8(values, q) == float(np.percentile(values, q)), (size, q)


def test_the_histogram_percentile_counts_a_huge_page_exactly(monkeypatch) -> None:
    """Past float32's exact counts OpenCV's histogram is not used (here: past 100 pixels)."""
    monkeypatch.setattr(preprocess, "EXACT_FLOAT32_COUNT", 100)
    values = np.random.default_rng(3).integers(0, 256, (40, 40)).astype(np.uint8)
    assert percentile_u8(values, 90) == float(np.percentile(values, 90))


@pytest.mark.parametrize("level", ["clean", "heavy"])
def test_the_noise_measure_is_the_one_numpy_gave(level: str) -> None:
    image, _ = next(iter_pages(1, seed=22, level=level))
    grey = to_grey(image)
    assert noise_level(grey) == pytest.approx(_numpy_noise(grey), abs=1e-9)
