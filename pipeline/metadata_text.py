"""Text helpers every metadata rule module shares: whitespace folding, fuzzy likeness, and the
letters OCR reads for digits."""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from schemas.text import fold, nfc


def squash(text: str) -> str:
    """NFC, whitespace runs as one space, stripped."""
    return re.sub(r"\s+", " ", nfc(text)).strip()


def similarity(text: str, target: str) -> float:
    """0..1: how closely `text` reads as `target`, ignoring case, diacritics and spacing."""
    a = re.sub(r"[^a-z0-9]", "", fold(text))
    b = re.sub(r"[^a-z0-9]", "", fold(target))
    return fuzz.ratio(a, b) / 100 if a and b else 0.0


# Letters and marks OCR reads for digits in a number field (a serif 1 read as `l`, `I`, `|`, `]`).
DIGIT_SLIPS = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Ø": "0", "l": "1", "I": "1", "|": "1", "i": "1", "]": "1"}
)
