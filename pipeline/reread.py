"""A second read of the few words of a noisy page that may have lost a hook (issue 17).

The median filter that halves a noisy page's word error rounds the hook above (hỏi) into an
acute (sắc): `đẩy` → `đấy`, `đổi` → `đối`, `thể` → `thế`. Tesseract is less sure of such a word
than of a true acute: on the tuning pages (corpus heavy, 4 pages) 8 of the 12 words with an
acute read under 90 confidence were hooks misread, and 1 of the 335 acutes read right was under
it (docs/benchmarks.md "Heavy pages, round 13"). Only those words are read again, alone and
upscaled, from the page before the filter, and the second read is taken only where it is the
same word with a hook for the acute; no other difference between the reads is trusted.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np

from pipeline.ocr import OcrOutput, ocr_zone, reading_order_text
from pipeline.zones import _acute_for_hook
from schemas.models import Word

HOOK_DOUBT_BELOW = 90.0  # Tesseract's confidence under which an acute is read again
WORD_SCALE = 2.0  # the word is read upscaled, as the key zones are
WORD_PSM = 8  # a single word
_ACUTE = "\u0301"


def doubtful_acutes(words: list[Word], below: float = HOOK_DOUBT_BELOW) -> list[int]:
    """Indexes of the words that carry an acute and were read under `below` confidence."""
    return [
        i
        for i, w in enumerate(words)
        if w.confidence < below and _ACUTE in unicodedata.normalize("NFD", w.text)
    ]


def _read_alone(unfiltered: np.ndarray, dpi: int, word: Word, tessdata: Path | None) -> str:
    pad = max(4, round(0.3 * word.height))  # room for the marks above and the dots below
    box = (
        word.left - pad,
        word.top - pad,
        word.left + word.width + pad,
        word.top + word.height + pad,
    )
    found = ocr_zone(unfiltered, dpi, box, scale=WORD_SCALE, psm=WORD_PSM, tessdata=tessdata)
    return "".join(w.text for w in found)


def restore_hooks(
    first: OcrOutput, unfiltered: np.ndarray, dpi: int, tessdata: Path | None = None
) -> OcrOutput:
    """`first` (a noisy page read after its median filter) with each doubtful acute
    (`doubtful_acutes`) that `unfiltered` (the same page, same geometry, before the filter)
    reads as the same word with a hook taken from that read. `tessdata`: the standard model
    the key zones are read with (`ocr.accurate_tessdata`); without it the first read stands,
    as it does for the diacritic check (the in-process zone reader may have no data path)."""
    if tessdata is None:
        return first
    words = list(first.words)
    changed = False
    for i in doubtful_acutes(words):
        again = unicodedata.normalize("NFC", _read_alone(unfiltered, dpi, words[i], tessdata))
        if _acute_for_hook(words[i].text, again):
            words[i] = words[i].model_copy(update={"text": again})
            changed = True
    if not changed:
        return first
    return OcrOutput(words, reading_order_text(words), first.mean_confidence, first.text_pdf)
