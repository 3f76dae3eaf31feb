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

Round 15: a word of such a name that only one read has (a seal hid it from the others) counts
as sure as that one read of it, when it is spelled as a known name word: the other words'
agreement says the reads are of one name, and that word is neither confirmed nor doubted by
them. A capitalised token of a read's line that is no word of the name is another reading of
one (a rival) only when OCR read it at AGREED_LETTERS_FLOOR or more or it spells a name word;
specks a seal leaves (`Tnp` at 24, `TH` at 0) are not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline import metadata_rules as rules
from pipeline.layout import REPAIRED_WORD_CONFIDENCE, Segment
from pipeline.lexicon import newer_placement
from pipeline.metadata_names import (
    FAMILY_NAMES,
    is_name_syllable,
    name_tones,
    settled_spelling,
)
from schemas.text import fold

# Under this OCR score in every read, two reads agreeing on a word's letters confirm nothing.
AGREED_LETTERS_FLOOR = 60.0
MIN_SHARED_WORDS = 2  # a line of a read shares this many name words to be a read of the name
# A two-word name is never made surer: its first word may be the middle name of a family name
# a seal hid (`Văn Hạnh` for `Lê Văn Hạnh`, pages2 tuning heavy #2).
MIN_AGREED_WORDS = 3
_LETTERS = re.compile(r"[^\W\d_]+")


def agreed_confidence(name: str, reads: Sequence[Sequence[Segment]]) -> float | None:
    """The confidence of `name` when two of `reads` (each read: its lines) have its line and
    every word of it is accounted for (`_word_confidence`); None when some word is not, when
    fewer than two reads have the line, or when a read has a rival word in it."""
    words = name.split()
    if len(words) < MIN_AGREED_WORDS:
        return None
    lines = [_name_line(name, read) for read in reads]
    tokens = [line for line in lines if line]
    if len(tokens) < 2:
        return None  # one read alone: as sure as that read, nothing more
    if any(_rival_word(t, c, words) for line in tokens for t, c in line):
        return None  # `Lê Văn Hạnh` in one read, `Lê Văn Hoanh` in another: they disagree
    confs = [_word_confidence(word, i == 0, tokens) for i, word in enumerate(words)]
    if any(c is None for c in confs):
        return None
    sure = [c for c in confs if c is not None]
    return round((0.7 * min(sure) + 0.3 * sum(sure) / len(sure)) / 100, 3)


def _word_confidence(
    word: str, family: bool, lines: Sequence[Sequence[tuple[str, float]]]
) -> float | None:
    """How sure the reads' name lines make one word of the name: at its surest exact read; at
    REPAIRED_WORD_CONFIDENCE or more when two reads agree on its letters, those letters spell
    one name only and one read had them at AGREED_LETTERS_FLOOR or more. A word only one read
    has counts at that read when it is spelled as a known name word (a family name for the
    first word); None when the word is accounted for by no read."""
    letters = [[c for t, c in line if fold(t) == fold(word)] for line in lines]
    agreeing = [max(found) for found in letters if found]
    spelled = {newer_placement(t) for line in lines for t, _ in line if fold(t) == fold(word)}
    if len((spelled & set(name_tones(word, family=family))) | {newer_placement(word)}) > 1:
        return None  # `Tuấn` in one read, `Tuần` in another: the tone is for a person to settle
    exact = [c for line in lines for t, c in line if newer_placement(t) == newer_placement(word)]
    conf = max(exact, default=0.0)
    if len(agreeing) >= 2:
        settled = settled_spelling(word, family=family) == newer_placement(word)
        if settled and max(agreeing) >= AGREED_LETTERS_FLOOR:
            conf = max(conf, REPAIRED_WORD_CONFIDENCE)
    elif not _known_name_word(word, family=family):
        return None
    return conf or None


def _known_name_word(word: str, *, family: bool) -> bool:
    if family:
        return word in FAMILY_NAMES
    return is_name_syllable(word) or word in FAMILY_NAMES


def _rival_word(token: str, conf: float, words: Sequence[str]) -> bool:
    """A capitalised word of a name line that is none of the name's words' letters and that
    is a reading, not specks: read at AGREED_LETTERS_FLOOR or more, or spelled as a name word."""
    if not token[:1].isupper() or fold(token) in {fold(w) for w in words}:
        return False
    return conf >= AGREED_LETTERS_FLOOR or _known_name_word(token, family=False)


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
