"""The signer's name as several reads of its block have it (the page read, the zone read as
scanned, the zone read with the seal's lighter ink whitened): how sure the name is when the
reads agree on its letters.

A name one read alone has is as sure as that read. A name whose every word's letters two reads
agree on is a name read twice from other pixels: each word counts as sure as its surest exact
read, and a word whose tone the reads dispute or got wrong the same way (`Đăng` twice for
`Đặng`) as the one name those letters spell (`metadata_names.settled_spelling`). A word only
one read has confirms nothing (round 12: a respelled `Huyền` "confirmed" by one other read let a
wrong name through on the held-out part). Specks in front of a zone's name line (`>5 Lê Văn
Hạnh`) are not cut off: measured in round 14, that found two more names on the tuning and fresh
parts and one wrong name on fresh that nothing but another field flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline import metadata_rules as rules
from pipeline.layout import REPAIRED_WORD_CONFIDENCE, Segment
from pipeline.lexicon import newer_placement
from pipeline.metadata_names import settled_spelling
from schemas.text import fold

# Under this OCR score in every read, two reads agreeing on a word's letters confirm nothing.
AGREED_LETTERS_FLOOR = 60.0
MIN_SHARED_WORDS = 2  # a line of a read shares this many name words to be a read of the name
# A two-word name is never made surer: its first word may be the middle name of a family name
# a seal hid (`Văn Hạnh` for `Lê Văn Hạnh`, pages2 tuning heavy #2).
MIN_AGREED_WORDS = 3
_LETTERS = re.compile(r"[^\W\d_]+")


def agreed_confidence(name: str, reads: Sequence[Sequence[Segment]]) -> float | None:
    """The confidence of `name` when every word of it has its letters in two of `reads` (each
    read: its lines); None when some word has not. A word counts at its surest exact read, or
    at REPAIRED_WORD_CONFIDENCE when its letters spell one name only (a family name for the
    first word), read at AGREED_LETTERS_FLOOR or more somewhere."""
    words = name.split()
    if len(words) < MIN_AGREED_WORDS:
        return None
    lines = [_name_line(name, read) for read in reads]
    tokens = [line for line in lines if line]
    if any(_other_name_word(t, words) for line in tokens for t, _ in line):
        return None  # `Lê Văn Hạnh` in one read, `Văn/Hạnh` in another: they disagree
    confs = []
    for i, word in enumerate(words):
        letters = [[c for t, c in line if fold(t) == fold(word)] for line in tokens]
        agreeing = [max(found) for found in letters if found]
        if len(agreeing) < 2:
            return None
        exact = [
            c for line in tokens for t, c in line if newer_placement(t) == newer_placement(word)
        ]
        conf = max(exact, default=0.0)
        settled = settled_spelling(word, family=i == 0) == newer_placement(word)
        if settled and max(agreeing) >= AGREED_LETTERS_FLOOR:
            conf = max(conf, REPAIRED_WORD_CONFIDENCE)
        if not conf:
            return None
        confs.append(conf)
    return round((0.7 * min(confs) + 0.3 * sum(confs) / len(confs)) / 100, 3)


def _other_name_word(token: str, words: Sequence[str]) -> bool:
    """A capitalised word of a name line that is none of the name's words' letters."""
    return token[:1].isupper() and fold(token) not in {fold(w) for w in words}


def _name_line(name: str, read: Sequence[Segment]) -> list[tuple[str, float]]:
    """The tokens (letters runs, each with its word's confidence) of the line of `read` that
    shares the most words' letters with `name`; empty when none shares MIN_SHARED_WORDS."""
    wanted = {fold(w) for w in name.split()}
    best: list[tuple[str, float]] = []
    best_shared = 0
    for seg in read:
        line = [(t, w.confidence) for w in seg.words for t in _LETTERS.findall(rules.nfc(w.text))]
        shared = len(wanted & {fold(t) for t, _ in line})
        if shared > best_shared:
            best, best_shared = line, shared
    return best if best_shared >= MIN_SHARED_WORDS else []
