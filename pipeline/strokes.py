"""Roman numerals made of I strokes (`quý III`), counted on the image instead of read.

OCR reads `III` as `II`, `IHI` or `HII` (two strokes whose serifs touch look like an `H`), and
no reading of the letters can tell `II` from `III`. The strokes themselves are easy to count:
across the middle of the word (between the serifs) each `I` is one upright bar of ink.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import cv2
import numpy as np

from schemas.models import Word
from schemas.text import fold

# Words before a numeral in administrative text: quý III, khóa XV, phần II, chương IV, mục I,
# đợt II, kỳ họp thứ III, lần thứ II, tập II.
NUMERAL_CONTEXT = frozenset({"quy", "khoa", "phan", "chuong", "muc", "dot", "ky", "thu", "tap"})
# How OCR spells a run of I strokes; a word must hold at least one I or H to be one.
_STROKE_WORD = re.compile(r"([IHl|1]{1,5})([.,;:)]?)")
MAX_STROKES = 4  # I to IIII; V and X are read well and not counted here
COUNTED_CONFIDENCE = 100.0  # a counted numeral is as sure as a word of a text layer


def stroke_shaped(word: str) -> bool:
    """Spelled as OCR spells a run of I strokes (`II`, `IHI`, `III,`); digits alone are not."""
    match = _STROKE_WORD.fullmatch(word)
    return bool(match and re.search(r"[IH]", match[1]))


def is_stroke_numeral(word: str, prev: str | None) -> bool:
    """`word` may be a numeral of I strokes as OCR reads one: after a numeral's context word
    (`quý II`), or mixing I and H as no Vietnamese word does (`IHI`)."""
    if not stroke_shaped(word):
        return False
    if prev is not None and fold(prev).strip(".,;:") in NUMERAL_CONTEXT:
        return True
    return "I" in word and "H" in word


def covers(box: Word, word: Word) -> bool:
    """The middle of `word` lies in `box` (two reads of one place on the page)."""
    x, y = word.left + word.width / 2, word.top + word.height / 2
    return box.left <= x <= box.left + box.width and box.top <= y <= box.top + box.height


def count_strokes(grey: np.ndarray, word: Word) -> int | None:
    """Upright bars of ink across the middle of the word's box on a greyscale page; None when
    they are not a clean row of 1..MAX_STROKES bars of about one width."""
    pad = max(2, word.height // 4)
    top, bottom = max(word.top, 0), word.top + word.height
    crop = grey[top:bottom, max(word.left - pad, 0) : word.left + word.width + pad]
    if crop.shape[0] < 8 or crop.shape[1] < 4:
        return None
    crop = cv2.medianBlur(np.ascontiguousarray(crop), 3)
    _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    height = ink.shape[0]
    middle = ink[int(height * 0.35) : int(height * 0.65) + 1]  # between the serifs
    inked = np.concatenate([[False], middle.mean(axis=0) >= 0.5, [False]])
    edges = np.flatnonzero(np.diff(inked.astype(np.int8)))
    widths = edges[1::2] - edges[0::2]
    if not 1 <= len(widths) <= MAX_STROKES or widths.min() < 2:
        return None
    if widths.max() > 2 * widths.min():  # a V's arms or a letter's bowl, not I bars
        return None
    return len(widths)


def counted_numerals(grey: np.ndarray, words: Sequence[Word]) -> list[Word]:
    """The words of `words` (in reading order) that are numerals of I strokes, with the strokes
    counted on `grey`: `IHI` → `III`, `II` → `III` where the image has three bars."""
    found: list[Word] = []
    for k, word in enumerate(words):
        prev = words[k - 1].text if k else None
        if not is_stroke_numeral(word.text, prev):
            continue
        strokes = count_strokes(grey, word)
        if strokes is None:
            continue
        tail = _STROKE_WORD.fullmatch(word.text)[2]  # type: ignore[index]
        found.append(
            word.model_copy(update={"text": "I" * strokes + tail, "confidence": COUNTED_CONFIDENCE})
        )
    return found
