"""Vietnamese word pairs, to put right a tone mark OCR slipped in a short field.

Tesseract trades one tone mark for another on a noisy scan (`tuyến dụng`, `tố chức`, `chuyến
đổi`: hỏi read as sắc) with high confidence, and both spellings are real syllables, so a
syllable list cannot tell them apart; the words beside them can. The pairs are Tesseract's own
Vietnamese bigram dictionary (263k pairs of the standard `vie` data, extracted by
`scripts/tessdata.sh`). A word is respelled only when the pairs know no pair with its neighbours
as read and exactly one other tone of it does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PAIRS_FILE = "vie.bigrams.txt"
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền sắc ngã hỏi nặng
_WORD = re.compile(r"([^\W\d_]+)")


def toneless(word: str) -> str:
    """Lower-case `word` without its tone mark (vowel marks kept: `tổ` → `tô`, `đẩy` → `đây`)."""
    parts = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))


# The older placement of the tone mark in a syllable that ends in `oa`, `oe` or `uy` (`hoà`,
# `khoẻ`, `uỷ`, `Thuỷ`) that many organs still print: as correct as the newer (`hòa`, `khỏe`,
# `ủy`), so a word printed either way is compared in the newer and kept as printed. Not after
# `q` (`quý`: the u belongs to the consonant) nor before a final consonant (`hoàn`).
_OLD_PLACEMENT = re.compile(r"(?<![qQ])([oOuU])([àáảãạèéẻẽẹỳýỷỹỵÀÁẢÃẠÈÉẺẼẸỲÝỶỸỴ])(?![^\W\d_])")


def newer_placement(text: str) -> str:
    """`text` with every syllable in the older tone placement written in the newer one."""

    def move(m: re.Match[str]) -> str:
        vowel, marked = m[1], unicodedata.normalize("NFD", m[2])
        return unicodedata.normalize("NFC", vowel + marked[1:]) + marked[0]

    return _OLD_PLACEMENT.sub(move, unicodedata.normalize("NFC", text))


@dataclass(frozen=True)
class WordPairs:
    pairs: frozenset[str]  # "a b", lower-case NFC
    tones: dict[str, frozenset[str]]  # toneless form -> the words the pairs spell with it

    @classmethod
    def from_lines(cls, lines: list[str]) -> WordPairs:
        pairs = {unicodedata.normalize("NFC", line.strip().lower()) for line in lines}
        pairs = {p for p in pairs if p.count(" ") == 1}
        # Each distinct word's toneless form once (~40k words in 263k pairs): this load is the
        # first metadata read of every worker process (docs/benchmarks.md, round 14).
        words = {word for pair in pairs for word in pair.split(" ")}
        tones: dict[str, set[str]] = {}
        for word in words:
            tones.setdefault(toneless(word), set()).add(word)
        return cls(frozenset(pairs), {k: frozenset(v) for k, v in tones.items()})

    def support(self, prev: str | None, word: str, nxt: str | None) -> int:
        """How many of `word`'s two neighbours (None: no neighbour) the pairs know it beside."""
        return (prev is not None and f"{prev} {word}" in self.pairs) + (
            nxt is not None and f"{word} {nxt}" in self.pairs
        )

    def respell(self, text: str) -> tuple[str, int]:
        """`text` with the tone marks its word pairs put right; how many words were changed.
        Neighbours count only across plain spaces (not a comma or a number); a capitalised
        word inside the text is a name and is left as read."""
        parts = _WORD.split(unicodedata.normalize("NFC", text))
        changed = 0
        for k in range(1, len(parts), 2):
            word = parts[k]
            if k > 1 and word[0].isupper():
                continue
            prev = parts[k - 2].lower() if k > 1 and parts[k - 1] == " " else None
            nxt = parts[k + 2].lower() if k + 2 < len(parts) and parts[k + 1] == " " else None
            better = self._better_tone(*map(_newer, (prev, word.lower(), nxt)))
            if better and better != newer_placement(word.lower()):
                parts[k] = better[0].upper() + better[1:] if word[0].isupper() else better
                changed += 1
        return "".join(parts), changed

    def _better_tone(self, prev: str | None, word: str, nxt: str | None) -> str | None:
        """The one other tone of `word` its neighbours vouch for, against a reading they do
        not know beside either: on both sides; or on its one side, for a sắc read where the
        pairs want a hỏi (the slip a blurred hook makes)."""
        if prev is None and nxt is None:
            return None
        read = self.support(prev, word, nxt)
        scored = {
            other: self.support(prev, other, nxt)
            for other in self.tones.get(toneless(word), frozenset()) - {word}
        }
        both = [w for w, score in scored.items() if score == 2]
        if read == 0 and len(both) == 1:
            return both[0]
        one = [w for w, score in scored.items() if score == 1 and _hook_for_acute(word, w)]
        return one[0] if read == 0 and not both and len(one) == 1 else None


def _newer(word: str | None) -> str | None:
    return newer_placement(word) if word else word


def _tone(word: str) -> str:
    return next((c for c in unicodedata.normalize("NFD", word) if c in _TONE_MARKS), "")


def _hook_for_acute(read: str, other: str) -> bool:
    return _tone(read) == "\u0301" and _tone(other) == "\u0309"


@lru_cache(maxsize=4)
def _load(path: Path) -> WordPairs:
    return WordPairs.from_lines(path.read_text(encoding="utf-8").splitlines())


def word_pairs(tessdata: Path | None) -> WordPairs | None:
    """The word pairs installed beside the accurate model in `tessdata`, read once per process;
    None where `scripts/tessdata.sh` has not run (fields are then left as read)."""
    path = tessdata / PAIRS_FILE if tessdata else None
    return _load(path) if path and path.is_file() else None
