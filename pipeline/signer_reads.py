"""The signer's name as several reads of its block have it (the page read, the zone read as
scanned, the zone read with the seal's lighter ink whitened): specks a seal leaves round the
name line cleared, and how sure the name is when the reads agree on its letters.

A name one read alone has is as sure as that read. A name whose every word's letters two reads
agree on is a name read twice from other pixels: each word counts as sure as its surest exact
read, and a word whose tone the reads dispute or got wrong the same way (`Đăng` twice for
`Đặng`) as the one name those letters spell (`metadata_names.settled_spelling`). A word only
one read has confirms nothing (round 12: a respelled `Huyền` "confirmed" by one other read let a
wrong name through on the held-out part).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline import metadata_rules as rules
from pipeline.layout import REPAIRED_WORD_CONFIDENCE, Segment
from pipeline.lexicon import newer_placement
from pipeline.metadata_names import settled_spelling
from schemas.models import Word
from schemas.text import fold

# Under this OCR score in every read, two reads agreeing on a word's letters confirm nothing.
AGREED_LETTERS_FLOOR = 60.0
MIN_SHARED_WORDS = 2  # a line of a read shares this many name words to be a read of the name
_LEAD_SPECKS = re.compile(r"^[^\w]+")
_LETTERS = re.compile(r"[^\W\d_]+")


def cleared_lines(segs: Sequence[Segment]) -> list[Segment]:
    """Zone lines with the specks a seal leaves in front of words (`„Trần`, `“›;-Đặng`) cut
    off, and a line's leading tokens without a letter (`>5 Lê Văn Hạnh`, `12 Võ …`) dropped
    when three words or more are left (fewer, and the junk may hide a family name)."""
    out = []
    for seg in segs:
        words = [_cleared(w) for w in seg.words]
        words = [w for w in words if w.text]
        lead = next((i for i, w in enumerate(words) if _LETTERS.search(w.text)), len(words))
        if lead and len(words) - lead >= 3:
            words = words[lead:]
        if words:
            out.append(Segment(tuple(words)))
    return out


def _cleared(word: Word) -> Word:
    text = _LEAD_SPECKS.sub("", word.text)
    return word if text == word.text else word.model_copy(update={"text": text})


def agreed_confidence(name: str, reads: Sequence[Sequence[Segment]]) -> float | None:
    """The confidence of `name` when every word of it has its letters in two of `reads` (each
    read: its lines); None when some word has not. A word counts at its surest exact read, or
    at REPAIRED_WORD_CONFIDENCE when its letters spell one name only (a family name for the
    first word), read at AGREED_LETTERS_FLOOR or more somewhere."""
    lines = [_name_line(name, read) for read in reads]
    tokens = [line for line in lines if line]
    confs = []
    for i, word in enumerate(name.split()):
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
