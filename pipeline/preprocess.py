"""Page clean-up with OpenCV: upright, deskewed, grey-preserving (DESIGN §4).

Only steps a measurement showed to help are on by default; see docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from pipeline.flags import NOISY_PAGE_FLAG

# OpenCV's own thread pool off: the workers already read as many pages at once as there are
# cores (each Tesseract on one core, OMP_THREAD_LIMIT), so its extra threads only wait for
# each other. On pages2 (2 cores) they burned ~0.08 CPU s a page beside the work itself, for
# the same pixels (round 15, docs/benchmarks.md).
cv2.setNumThreads(1)

ANALYSIS_WIDTH_PX = 800
MAX_SKEW_DEG = 5.0


@dataclass
class Prepared:
    grey: np.ndarray  # what OCR reads
    display: Image.Image  # same geometry, original colour mode: what the PDF shows
    rotation_deg: int = 0
    skew_deg: float = 0.0
    flags: list[str] = field(default_factory=list)


GREY_BAND_ROWS = 512  # converted a band at a time: no full-page RGB array next to the image


def _grey_band(image: Image.Image) -> np.ndarray:
    if image.mode in ("1", "P", "LA", "I;16", "I", "F", "CMYK", "RGBA", "PA"):
        image = image.convert("RGB") if image.mode in ("P", "PA", "RGBA", "CMYK") else image
        image = image.convert("L") if image.mode != "RGB" else image
    array = np.asarray(image)
    if array.ndim == 3:
        return cv2.cvtColor(array, cv2.COLOR_RGB2GRAY)
    return array.astype(np.uint8, copy=False)


def to_grey(image: Image.Image) -> np.ndarray:
    """The page in 8-bit grey. Band by band, so converting a colour page costs the grey page
    and one band, not a second full copy of the colour page (docs/limits.md)."""
    if image.mode == "L" or image.height <= GREY_BAND_ROWS:
        return _grey_band(image)
    width, height = image.size
    grey = np.empty((height, width), np.uint8)
    for top in range(0, height, GREY_BAND_ROWS):
        bottom = min(height, top + GREY_BAND_ROWS)
        grey[top:bottom] = _grey_band(image.crop((0, top, width, bottom)))
    return grey


def display_image(image: Image.Image) -> Image.Image:
    """The page as it will be shown: RGB if it has colour (seals are red), else greyscale."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("P", "PA", "RGBA", "CMYK", "YCbCr", "LAB", "HSV"):
        return image.convert("RGB")
    return image.convert("L")


def _scaled(grey: np.ndarray, scale: float) -> np.ndarray:
    """`grey` resized by `scale`, never to nothing: OpenCV refuses an empty size, which a
    tiny image (1×1 px) or a very high declared resolution would otherwise ask for."""
    height, width = grey.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _ink_mask(grey: np.ndarray) -> np.ndarray:
    """Small binary ink map for analysis only (never shown to OCR)."""
    scale = ANALYSIS_WIDTH_PX / max(grey.shape[1], 1)
    small = _scaled(grey, scale)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return ink


BLANK_ANALYSIS_DPI = 150
BLANK_MAX_MARKS = 25  # a page of text has hundreds of letter-sized marks, a back a handful
INK_DARKNESS = 0.72  # ink is darker than this share of the paper's brightness


EXACT_FLOAT32_COUNT = 2**24  # OpenCV's histogram counts in float32: exact up to this many pixels


def percentile_u8(values: np.ndarray, q: float) -> float:
    """`np.percentile(values, q)` of an 8-bit image, the same number, from its histogram: a
    sort of a page's pixels cost 17 ms of a page's 28 ms letter measure, its histogram 1 ms.
    Numpy's default (linear) rule: the value `q` % of the way along the sorted pixels,
    interpolated between its two neighbours exactly as numpy does."""
    n = values.size
    if n > EXACT_FLOAT32_COUNT:
        counts = np.bincount(values.ravel(), minlength=256)
    else:
        counts = cv2.calcHist([np.ascontiguousarray(values)], [0], None, [256], [0, 256])
    ends = np.cumsum(np.asarray(counts, np.int64).ravel())  # sorted positions < ends[v] are <= v
    virtual = (n - 1) * (q / 100)  # numpy's 'linear' rule: a fractional sorted position
    below = min(max(int(np.floor(virtual)), 0), n - 1)
    above = min(below + 1, n - 1)
    a = float(np.searchsorted(ends, below, side="right"))
    b = float(np.searchsorted(ends, above, side="right"))
    gamma = virtual - below
    return b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma


def letter_marks(grey: np.ndarray, dpi: int) -> int:
    """Dark marks of a letter's size (0.04–0.4 in high) on the page. Bleed-through from the
    other side is too faint to count, specks and scanner noise too small, punch holes and rules
    too few: on the backs of a duplex scan this stays in the tens, on any page of text it is in
    the hundreds (bench: 272 on the sparsest appendix page, 11 on the worst back)."""
    return int(letter_heights(grey, dpi).size)


def letter_heights(grey: np.ndarray, dpi: int) -> np.ndarray:
    """Heights in inches of the page's letter-sized marks (`letter_marks`)."""
    scale = BLANK_ANALYSIS_DPI / max(dpi, 1)
    small = _scaled(grey, scale)
    paper = percentile_u8(small, 90)
    dark = (small < paper * INK_DARKNESS).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    height, width = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    lo, hi = 0.04 * BLANK_ANALYSIS_DPI, 0.4 * BLANK_ANALYSIS_DPI
    letters = (height >= lo) & (height <= hi) & (width >= 2) & (width <= 1.5 * hi)
    letters &= stats[1:, cv2.CC_STAT_AREA] >= 8
    return height[letters] / BLANK_ANALYSIS_DPI


def is_blank(grey: np.ndarray, dpi: int = 300, heights: np.ndarray | None = None) -> bool:
    """A page without text (a blank back, bleed-through, specks, punch holes): skipped with a
    reason before any OCR, not failed. `heights`: `letter_heights` of the page, if measured."""
    heights = letter_heights(grey, dpi) if heights is None else heights
    return heights.size < BLANK_MAX_MARKS


# A page is read by Tesseract shrunk by the largest whole factor that leaves its median letter
# mark at least this many pixels high: a 300-dpi scan of 13–14 pt type (median mark 0.1 in) at
# 150 dpi. On the tuning pages (corpus, 8 a level) that read as well as at 300 dpi (all tokens
# clean / light / heavy 0.39 / 0.31 / 2.51 % against 0.42 / 0.39 / 2.45 %) for a quarter less
# CPU: layout analysis costs by the pixel, the line recogniser scales every line to its own
# height anyway. A whole factor (area averaging of k×k pixels): shrunk to 0.6 (0.45 / 0.42 /
# 2.48 %) or to a letter height set per page (0.42 / 0.54 / 2.65 %), pages read worse.
# Smaller type is read at the scan's resolution.
READ_LETTER_MIN_PX = 13.0


def reading_factor(
    dpi: int, heights: np.ndarray, min_letter_px: float | None = READ_LETTER_MIN_PX
) -> int:
    """The whole factor to shrink a page by before Tesseract reads it (`READ_LETTER_MIN_PX`),
    from its letter marks' heights in inches; 1 with too few marks to judge by."""
    if min_letter_px is None or heights.size < BLANK_MAX_MARKS:
        return 1
    letter_px = float(np.median(heights)) * dpi
    return max(1, int(letter_px // min_letter_px))


def _line_score(ink: np.ndarray) -> float:
    rows = ink.sum(axis=1, dtype=np.float64)
    return float(np.sum(np.diff(rows) ** 2))


def _smeared_profile_contrast(ink: np.ndarray) -> float:
    """Contrast of the row profile after smearing characters into line bars."""
    bars = cv2.dilate(ink, np.ones((1, 9), np.uint8))
    rows = bars.sum(axis=1, dtype=np.float64)
    return float(rows.std() / (rows.mean() + 1e-9))


def analysis_ink(grey: np.ndarray) -> np.ndarray:
    """The page's small ink map (`_ink_mask`), made once for the sideways test and the skew
    estimate of a page that is not turned: the same map both made before (round 14)."""
    return _ink_mask(grey)


def is_sideways(grey: np.ndarray, ink: np.ndarray | None = None) -> bool:
    """True if text lines run vertically (page turned 90° or 270°). `ink`: `analysis_ink` of
    `grey`, if made."""
    ink = _ink_mask(grey) if ink is None else ink
    return _smeared_profile_contrast(ink.T.copy()) > _smeared_profile_contrast(ink) * 1.15


def _rotate_small(ink: np.ndarray, angle_deg: float) -> np.ndarray:
    h, w = ink.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    return cv2.warpAffine(ink, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)


# The coarse skew search (half-degree steps) looks at every 4th row and column of the ink map:
# which half degree the lines run at shows as well at 200 px as at 800, for a sixteenth of
# each rotation's cost. The fine search (tenths) keeps the whole map, so the angle is the
# one the whole-map search found: the same on 144 pages (pages2 and corpus, each also turned
# by +2.3 and -3.7 degrees), round 15.
COARSE_SKEW_SUBSAMPLE = 4


def _best_angle(ink: np.ndarray, center: float, span: float, step: float) -> float:
    angles = np.arange(center - span, center + span + step / 2, step)
    scores = [_line_score(_rotate_small(ink, a)) for a in angles]
    return float(angles[int(np.argmax(scores))])


def estimate_skew(grey: np.ndarray, ink: np.ndarray | None = None) -> float:
    """Skew angle in degrees by projection-profile search, coarse then fine. `ink`:
    `analysis_ink` of `grey`, if made."""
    ink = _ink_mask(grey) if ink is None else ink
    coarse_map = np.ascontiguousarray(ink[::COARSE_SKEW_SUBSAMPLE, ::COARSE_SKEW_SUBSAMPLE])
    best = _best_angle(coarse_map, 0.0, MAX_SKEW_DEG, 0.5)
    best = _best_angle(ink, best, 0.5, 0.1)
    return round(best, 2)


def _background(grey: np.ndarray) -> int:
    return int(percentile_u8(grey[::8, ::8], 90))


def rotate(grey: np.ndarray, angle_deg: float, fill: int) -> np.ndarray:
    h, w = grey.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    return cv2.warpAffine(
        grey,
        matrix,
        (w, h),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )


def normalise_background(grey: np.ndarray) -> np.ndarray:
    """Divide by a blurred background estimate: evens out shading, keeps grey strokes."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (31, 31))
    background = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, kernel)
    return cv2.divide(grey, background, scale=255)


def denoise(grey: np.ndarray) -> np.ndarray:
    return cv2.medianBlur(grey, 3)


# The clean-up of a noisy page (issue 17, docs/benchmarks.md "Heavy pages, issue 17"). After
# the median filter, dark specks of dust away from any letter are painted paper: read as `.` `-`
# `_` they glued words together (`biên-chế`, `Hạnh.phúc`) or became words of their own. Sizes
# in inches, so a 600-dpi scan is cleaned as a 300-dpi one. Tuned on the corpus pages, checked
# on pages2: heavy all-token error 2.45 → 2.06 % and 3.13 → 2.62 %. (An unsharp mask after the
# median tuned better, 1.78 % with the specks removed, but alone it read pages2 worse, 3.13 →
# 3.64 %, and with them no better, 3.13 %: not kept.)
SPECK_MAX_AREA_IN2 = 20 / 300**2  # dust: under 20 px at 300 dpi (tuning: under 12 read worse)
SPECK_CLEARANCE_IN = 5 / 300  # and no letter within this: a tone mark or dot below sits closer


SPECK_STRIP_ROWS = 1024  # rows labelled at once: memory ~10 bytes per pixel of a strip only


def drop_specks(grey: np.ndarray, dpi: int) -> np.ndarray:
    """The page with isolated dark specks (dust, not tone marks or dots below) made paper.

    Judged a strip of rows at a time (labelling the whole of a 10,000×14,000 page took 1.4 GB)
    with a margin of rows either side wide enough that every decision is the whole page's: a
    speck (under `most` px) spans fewer rows than the margin, so it lies in the strip whole;
    ink cut by the strip's edge and reaching within `half` of its core spans more than `most`
    rows, so it is not taken for a speck."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    most = max(SPECK_MAX_AREA_IN2 * dpi * dpi, 1)
    half = max(1, round(SPECK_CLEARANCE_IN * dpi))
    margin = int(np.ceil(most)) + half + 1
    paper = _background(grey)
    cleaned = grey.copy()
    height = grey.shape[0]
    for top in range(0, height, SPECK_STRIP_ROWS):
        bottom = min(top + SPECK_STRIP_ROWS, height)
        low, high = max(0, top - margin), min(height, bottom + margin)
        dust = _isolated_specks(ink[low:high], most, half)[top - low : bottom - low]
        cleaned[top:bottom][dust] = paper
    return cleaned


def _isolated_specks(ink: np.ndarray, most: float, half: int) -> np.ndarray:
    """Where `ink` has components under `most` px with no larger ink within `half` px."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < most
    small[0] = False  # the background
    in_small = small[labels]
    del labels
    letters = (ink > 0) & ~in_small
    reach = 2 * half + 1
    near_letter = cv2.dilate(letters.astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0
    return in_small & ~near_letter


def clean_noisy(grey: np.ndarray, dpi: int) -> np.ndarray:
    """A noisy page's clean-up: median filter, then isolated specks removed."""
    return drop_specks(denoise(grey), dpi)


NOISY_ABOVE = 4.5  # measured on generated scans: clean 0.7–1.3, light 1.5–1.9, heavy 8.9–10.8


def noise_level(grey: np.ndarray) -> float:
    """Grey-level spread of the paper away from any ink (0 for a perfectly clean page).

    Measured on every other pixel: pixel noise keeps its spread, and it costs a quarter.
    """
    grey = np.ascontiguousarray(grey[::2, ::2])
    blurred = cv2.GaussianBlur(grey, (5, 5), 0)
    _, ink = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    paper = cv2.dilate(ink, np.ones((15, 15), np.uint8)) == 0
    if not paper.any():
        return 0.0
    local = cv2.GaussianBlur(grey, (31, 31), 0)
    # The spread over the paper's pixels by OpenCV's masked mean and deviation: the same
    # number as numpy's std of the picked pixels, without the three copies (8 of 30 ms).
    spread = cv2.subtract(grey, local, dtype=cv2.CV_16S)
    _, std = cv2.meanStdDev(spread, mask=paper.view(np.uint8))
    return float(std[0, 0])


def turn(
    image: Image.Image, grey: np.ndarray, quarter_turns_cw: int
) -> tuple[Image.Image, np.ndarray]:
    if quarter_turns_cw % 4 == 0:
        return image, grey
    codes = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}
    transposes = {
        1: Image.Transpose.ROTATE_270,
        2: Image.Transpose.ROTATE_180,
        3: Image.Transpose.ROTATE_90,
    }
    q = quarter_turns_cw % 4
    return image.transpose(transposes[q]), cv2.rotate(grey, codes[q])


def deskew(image: Image.Image, grey: np.ndarray, skew_deg: float) -> tuple[Image.Image, np.ndarray]:
    if abs(skew_deg) < 0.05:
        return image, grey
    grey = rotate(grey, skew_deg, _background(grey))
    if image.mode == "L":
        return Image.fromarray(grey), grey
    # Pillow rotates the colour page into one new image; through numpy it took three more
    # full-size copies (the array, its rotation, the image made of it).
    white = (255,) * len(image.getbands())
    return image.rotate(skew_deg, Image.Resampling.BICUBIC, fillcolor=white), grey


def prepare(
    image: Image.Image,
    *,
    quarter_turns_cw: int = 0,
    do_deskew: bool = True,
    do_normalise: bool = False,
    do_denoise: bool | None = None,
    grey: np.ndarray | None = None,
    dpi: int = 300,
    ink: np.ndarray | None = None,
) -> Prepared:
    """Make a page upright and straight; `quarter_turns_cw` comes from orientation detection.

    `do_denoise=None` cleans only pages measured as noisy (`clean_noisy`): a median filter
    halves word error on heavy noise but doubles it on clean pages (docs/benchmarks.md).
    `grey`: the image already made grey by the caller, so it is not made twice; `dpi`: the
    scan's resolution, which sizes the clean-up's sharpening and specks; `ink`: `analysis_ink`
    of the unturned `grey`, if made (used only when the page is not turned).
    """
    display = display_image(image)
    grey = to_grey(display) if grey is None else grey
    display, grey = turn(display, grey, quarter_turns_cw)
    ink = ink if quarter_turns_cw % 4 == 0 else None
    skew = estimate_skew(grey, ink) if do_deskew else 0.0
    display, grey = deskew(display, grey, skew)
    flags: list[str] = []
    if do_normalise:
        grey = normalise_background(grey)
    if do_denoise is None:
        do_denoise = noise_level(grey) > NOISY_ABOVE
    if do_denoise:
        grey = clean_noisy(grey, dpi)
        flags.append(NOISY_PAGE_FLAG)
    if abs(skew) >= MAX_SKEW_DEG - 0.1:
        flags.append("skew_at_search_limit")
    return Prepared(grey, display, (quarter_turns_cw * 90) % 360, skew, flags)
