"""Organ names as OCR reads them, reduced to keys the registry indexes (docs/registry.md).

A key is the name folded (no case, no tones, Đ/Ð → d), the ND30 abbreviations spelled out and
the spaces dropped, so `SỞ THÔNG TIN VÀ TRUYÊN THÔNG`, `UBND TP. KON TUM` and `KONTUM` meet the
registry's spelling. A header often carries the parent's line above the organ's own
(`UBND HUYỆN VIỆT YÊN` / `UBND THỊ TRẤN NẾNH`); `split_header` takes them apart.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from schemas.models import Organ
from schemas.text import fold

# Abbreviations printed in ND30 headers, spelled out (folded) before names are compared.
ABBREVIATIONS = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "tp": "thanh pho",
    "tx": "thi xa",
}
# The same, with their tones: the tie-break between names that differ only in tones.
_SPELLED = {
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "tp": "thành phố",
    "tx": "thị xã",
    "uỷ": "ủy",
}
# Words that open an organ's name: a second one on a line starts the organ under the first.
HEADS = (
    "uy ban nhan dan",
    "hoi dong nhan dan",
    "so",
    "phong",
    "bo",
    "van phong",
    "thanh tra",
    "ban",
)
_PUNCT = re.compile(r"[^\w\s]")


def words(text: str) -> list[str]:
    """Folded words of a name, abbreviations spelled out, `&` read as `và`."""
    text = fold(text.replace("&", " va "))
    out: list[str] = []
    for word in _PUNCT.sub(" ", text).split():
        out.extend(ABBREVIATIONS.get(word, word).split())
    return out


_COMPACT = {k: v.replace(" ", "") for k, v in ABBREVIATIONS.items()}


def key(text: str) -> str:
    """The index key: folded words run together (OCR drops and adds spaces)."""
    folded = _PUNCT.sub(" ", fold(text.replace("&", " va ")))
    return "".join([_COMPACT.get(w, w) for w in folded.split()])


def spelled(text: str) -> str:
    """Lower-case with tones, abbreviations spelled out: which of several organs whose names
    differ only in tones (`xã An Phú`, `xã Ân Phú`) the text names exactly."""
    text = unicodedata.normalize("NFC", text.lower().replace("&", " và "))
    return "".join(_SPELLED.get(w, w).replace(" ", "") for w in _PUNCT.sub(" ", text).split())


def split_header(text: str) -> list[tuple[str, str | None]]:
    """The ways to read a header as (organ name, parent line), likeliest first.

    Several lines: the whole as one name (`ỦY BAN NHÂN DÂN` / `TỈNH KON TUM`), then the last
    line under the ones above. One line holding two organ openings (`UBND HUYỆN VIỆT YÊN UBND
    THỊ TRẤN NẾNH`): the part from the last opening, under the part before it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    readings: list[tuple[str, str | None]] = [(" ".join(lines), None)]
    if len(lines) > 1:
        readings.append((lines[-1], " ".join(lines[:-1])))
        readings.append((" ".join(lines[-2:]), " ".join(lines[:-2]) or None))
    flat = " ".join(lines)
    cut = _last_opening(flat)
    if cut:
        readings.append((flat[cut:], flat[:cut]))
    return list(dict.fromkeys(readings))


def _last_opening(text: str) -> int:
    """Where in `text` the last organ opening after the first word begins (0: none)."""
    found = 0
    pieces = list(re.finditer(r"\S+", text))
    folded = [" ".join(words(m.group())) for m in pieces]
    for i in range(1, len(pieces)):
        rest = " ".join(folded[i : i + 4])
        if any(rest == h or rest.startswith(h + " ") for h in HEADS):
            found = pieces[i].start()
    return found


@dataclass(frozen=True)
class Match:
    """What the registry makes of an organ line: the organ when exactly one fits (its name in
    the registry's spelling), else None and the candidates that fit, for a person to choose.
    `reason` says why there is no organ (empty when there is one)."""

    organ: Organ | None
    candidates: tuple[Organ, ...] = field(default=())
    confidence: float = 0.0
    reason: str = ""
    name_read: str = ""  # the organ's own line in the text matched (the parent's taken off)
    parent_read: str | None = None  # the parent's line in it, when the text held one
