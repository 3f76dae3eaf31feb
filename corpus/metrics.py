"""OCR accuracy measures used by tests and benchmarks (NFC, whitespace-insensitive)."""

from __future__ import annotations

import unicodedata
from collections import Counter

from rapidfuzz.distance import Levenshtein

_PUNCT = ".,;:!?()[]{}\"'“”‘’«»…-–—/"


def words(text: str) -> list[str]:
    tokens = (t.strip(_PUNCT) for t in unicodedata.normalize("NFC", text).split())
    return [t for t in tokens if t]


def word_error(truth: str, hypothesis: str) -> float:
    """Bag-of-words error: words missing or extra (the larger), over the true word count."""
    want, got = Counter(words(truth)), Counter(words(hypothesis))
    total = sum(want.values())
    if total == 0:
        return 0.0 if not got else 1.0
    missing = sum((want - got).values())
    extra = sum((got - want).values())
    return max(missing, extra) / total


def char_error(truth: str, hypothesis: str) -> float:
    """Edit distance over the true length, with whitespace runs made single spaces."""
    a = " ".join(unicodedata.normalize("NFC", truth).split())
    b = " ".join(unicodedata.normalize("NFC", hypothesis).split())
    return Levenshtein.distance(a, b) / max(len(a), 1)
