"""Specks of a noisy page read as punctuation glued to a word (issue 17, round 15).

On a noisy scan a speck of dust beside a word comes out as a mark that sticks to it: `_UBND`,
`.ký.`, two words run together through it (`Hạnh.phúc`, `biên-chế`), or a full stop in the
middle of a sentence (`nảy. sinh`). A mark alone is dropped as noise (`ocr.drop_noise`); glued
to a word it is not. Vietnamese spells none of these: no word starts with `_ . , : ;`, and
no two syllables that the word pairs know side by side are joined by `.` or `-` (codes such as
`QĐ-UBND` are no such pair), nor does a sentence go on in lower case after a full stop (a list
item `b)` does, and is not a word). Only a noisy page's words are looked at: a clean page has no
specks to glue (docs/benchmarks.md, heavy pages round 15).
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.lexicon import WordPairs
from schemas.models import Word

_LEADING_SPECK = re.compile(r"^[._,:;]+(?=[^\W\d_])")
_JOINED = re.compile(r"^([^\W\d_]+)[.\-_]([^\W\d_]+)([.,;:]?)$")
_STOPPED = re.compile(r"^([^\W\d_]+)\.$")
_LOWER_WORD = re.compile(r"^[^\W\d_]{2,}")
_VOWEL = re.compile("[aeiouy]", re.IGNORECASE)  # in the NFD form: every Vietnamese vowel


def unglue(words: list[Word], pairs: WordPairs) -> list[Word]:
    """`words` (reading order) with the specks glued to them taken off and the words run
    together through one split again; the same list when there are none."""
    out: list[Word] = []
    for k, word in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) and words[k + 1].block == word.block else None
        out.extend(_unglued(word, nxt, pairs))
    changed = len(out) != len(words) or any(a is not b for a, b in zip(out, words, strict=True))
    return out if changed else words


def _unglued(word: Word, nxt: Word | None, pairs: WordPairs) -> list[Word]:
    text = _LEADING_SPECK.sub("", word.text)
    joined = _JOINED.match(text)
    if joined and _known_pair(joined[1], joined[2], pairs) and not _printed_joint(joined):
        return _split(word, joined[1], joined[2] + joined[3])
    stopped = _STOPPED.match(text)
    if stopped and nxt is not None and _goes_on(stopped[1], nxt.text, pairs):
        text = stopped[1]
    return [word] if text == word.text else [word.model_copy(update={"text": text})]


def _printed_joint(joined: re.Match[str]) -> bool:
    """The mark between two words is printed: an abbreviation's (`TP.HCM`: a part without a
    vowel is no syllable), or a hyphen before a name's capital (`Bà Rịa-Vũng Tàu`, `Thừa
    Thiên-Huế`, `Sở Lao động-Thương binh và Xã hội`; not inside a line in capitals)."""
    first, second = joined[1], joined[2]
    if not all(_VOWEL.search(unicodedata.normalize("NFD", part)) for part in (first, second)):
        return True
    mark = joined[0][len(first)]
    return mark == "-" and second[0].isupper() and not first.isupper()


def _known_pair(first: str, second: str, pairs: WordPairs) -> bool:
    return f"{first.lower()} {second.lower()}" in pairs.pairs


def _goes_on(word: str, nxt: str, pairs: WordPairs) -> bool:
    """`nxt` continues the sentence `word` is in: a word in lower case, the pair known."""
    following = _LOWER_WORD.match(nxt)
    return bool(following and nxt[0].islower() and _known_pair(word, following[0], pairs))


def _split(word: Word, first: str, second: str) -> list[Word]:
    """Two words in `word`'s box, its width shared by their lengths (the speck's one
    character goes to neither)."""
    letters = len(first) + len(second) + 1
    width_first = round(word.width * len(first) / letters)
    gap = round(word.width / letters)
    return [
        word.model_copy(update={"text": first, "width": width_first}),
        word.model_copy(
            update={
                "text": second,
                "left": word.left + width_first + gap,
                "width": max(word.width - width_first - gap, 1),
            }
        ),
    ]
