"""The footer readers of a last page: the Nơi nhận list and the signer block (competence,
position, name)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline import metadata_rules as rules
from pipeline.extracted import Extracted
from pipeline.layout import REPAIRED_WORD_CONFIDENCE, PageLines, Segment, confidence_of
from pipeline.lexicon import WordPairs

RESPELLED_NAME_CAP = 0.8  # a name with a syllable respelled from the list of name syllables
RESPELLED_NOTE = "signer_name respelled"  # Extracted.notes key: the name as OCR read it
JUNK_RECIPIENT_CAP = 0.5  # a Nơi nhận list with an item of specks (no word of 3 letters)
NAME_TONE_SURE = 90.0  # Tesseract confidence under which a name syllable's tone is in doubt
TONE_ONLY = "tone uncertain"  # the note on a name whose unsure words differ only by tone
OTHER_WORDS_UNSURE = " and other words unsure"
FAMILY_READ_FLOOR = 60.0  # under this OCR score even a distinct family name's letters are doubted


@dataclass(frozen=True)
class Footer:
    label: Segment | None
    recipients: tuple[Segment, ...]
    signer: tuple[Segment, ...]


def find_footer(lines: PageLines) -> Footer | None:
    label = next(
        (s for s in lines.segments if lines.left(s) and rules.is_recipients_label(s.text)), None
    )
    if label is None:
        return _signer_without_label(lines)
    recipients: list[Segment] = []
    for seg in lines.below(label.top + 0.5 * label.height):
        if not lines.left(seg):
            continue
        if recipients and seg.top - recipients[-1].top > 3 * recipients[-1].height:
            break
        recipients.append(seg)
    signer = [
        s for s in lines.segments if not lines.left(s) and s.top >= label.top - 2.5 * label.height
    ]
    return Footer(label, tuple(recipients), tuple(signer))


def _signer_without_label(lines: PageLines) -> Footer | None:
    """No `Nơi nhận` was read: the signer block is the right-column competence or title line
    in the lower part of the page and what follows it."""
    titles = [
        s
        for s in lines.segments
        if not lines.left(s)
        and s.top > 0.25 * lines.height
        and (rules.split_competence(s.text) or rules.known_title(s.text))
    ]
    if not titles:
        return None
    competence = [s for s in titles if rules.split_competence(s.text)]
    start = competence[-1] if competence else titles[0]
    block = [s for s in lines.segments if not lines.left(s) and s.top >= start.top]
    return Footer(None, (), tuple(block))


def read_recipients(footer: Footer, out: Extracted, pairs: WordPairs | None = None) -> None:
    """The Nơi nhận list; with `pairs` (OCR text), tone slips set right item by item."""
    items = rules.split_recipients([s.text for s in footer.recipients])
    if pairs is not None:
        items = [pairs.respell(item)[0] for item in items]
    if items:
        # ND30 lists always end with the archive copy, and a lost line leaves a gap
        complete = items[-1].startswith("Lưu:") and not _line_missing(footer)
        conf = confidence_of(footer.recipients, rules.is_standard_recipient_word)
        if any(rules.is_junk_recipient(item) for item in items):
            conf = min(conf, JUNK_RECIPIENT_CAP)  # specks read as an item: `Ha`, `nu`
        out.set("recipients", items, conf * (1 if complete else 0.5))


def _line_missing(footer: Footer) -> bool:
    """A step between the Nơi nhận lines much longer than their usual pitch."""
    tops = [s.top for s in ((footer.label,) if footer.label else ()) + footer.recipients]
    steps = [b - a for a, b in zip(tops, tops[1:], strict=False)]
    return len(steps) >= 2 and max(steps) > 1.6 * statistics.median(steps)


def read_signer(footer: Footer, out: Extracted) -> None:
    segs = list(footer.signer)
    name_seg = next((s for s in reversed(segs) if rules.person_name(s.text)), None)
    if name_seg is None:
        return
    name = rules.person_name(name_seg.text)
    assert name is not None
    doubt = (1 if name.known_family else 0.6) * (1 if name.known_given else 0.8)
    conf = _name_confidence(name_seg, name.text.split()[0]) * doubt
    out.set("signer_name", name.text, min(conf, RESPELLED_NAME_CAP) if name.respelled else conf)
    out.notes.pop(RESPELLED_NOTE, None)
    if name.respelled:
        out.notes[RESPELLED_NOTE] = name_seg.text  # as read, before the name list respelled it
    unsure = uncertain_tones(name_seg)
    if unsure:
        out.notes["signer_name"] = unsure
    titles = [s for s in segs if s.top < name_seg.top and rules.is_caps_title(s.text)]
    if not titles:
        return
    first = rules.split_competence(titles[0].text)
    if first is None:
        out.set("signer_competence", "", confidence_of(titles[:1]), empty_ok=True)
        out.set("signer_position", *_title(titles))
        return
    prefix, title = first
    known = rules.known_title(title)
    competence_conf = confidence_of(titles[:1])
    if known:
        title, competence_conf = known, max(competence_conf, 0.9)
    out.set("signer_competence", f"{prefix} {title}", competence_conf)
    if titles[1:]:
        out.set("signer_position", *_title(titles[1:]))
    else:
        out.set("signer_position", "", competence_conf, empty_ok=True)


def _name_confidence(name_seg: Segment, family: str) -> float:
    """The name line's confidence, its first word counted as fairly sure (a repaired word)
    when it is a family name that its letters settle (`rules.is_distinct_family_name`) and
    OCR read those letters at FAMILY_READ_FLOOR or more: a seal or signature over the start
    of the line lowers Tesseract's score without making `Hoàng` anything else."""
    first = name_seg.words[0] if name_seg.words else None
    letters = rules.fold(rules.squash(first.text)).strip(" .,;~-_'`\"“”‘’›‹") if first else ""
    if (
        first is None
        or not rules.is_distinct_family_name(family)
        or first.confidence < FAMILY_READ_FLOOR
        or letters != rules.fold(family)
    ):
        return confidence_of([name_seg])
    sure = first.model_copy(update={"confidence": max(first.confidence, REPAIRED_WORD_CONFIDENCE)})
    return confidence_of([Segment((sure, *name_seg.words[1:]))])


def disputed_tones(name: str, reads: Sequence[str]) -> str:
    """The `tone uncertain: …` note when another read of the signer block (the page's, the
    zone's, the zone's with the seal whitened) spells a word of `name` with the same letters
    and another tone that is a name too (`Anh` / `Ánh`, pages2 tuning #52: two reads at 97
    each); empty when the reads agree. No list of people can tell which is right."""
    words = name.split()
    disputed = []
    for i, word in enumerate(words):
        tones = rules.name_tones(word, family=i == 0)
        seen = {
            rules.newer_placement(r)
            for r in reads
            if rules.fold(r) == rules.fold(word) and rules.newer_placement(r) in tones
        }
        seen -= {rules.newer_placement(w) for j, w in enumerate(words) if j != i}  # `Văn Vân`
        if len(seen | {rules.newer_placement(word)}) > 1:
            disputed.append(f"{word} ({'/'.join(sorted(seen | {rules.newer_placement(word)}))})")
    return f"{TONE_ONLY}: {', '.join(disputed)}" if disputed else ""


def is_sole_family_name(word: str) -> bool:
    """`word` is spelled as the one family name its letters can be (`Trần`, `Lê`; not `La`,
    which `Lã` shares): as a name's first word, its tone is then no doubt."""
    return rules.name_tones(word, family=True) == [word]


def uncertain_tones(name_seg: Segment) -> str:
    """Which syllables of a signer's name OCR read unsure of and whose tone mark makes another
    name (`Thủy`/`Thúy`/`Thùy`): no list of people can tell, so the review reason names them.
    `tone uncertain: …` when those are the only words read unsure (the tone is the only
    doubt), `… and other words unsure` when some other word is too; empty when none is."""
    unsure, other = [], False
    for i, word in enumerate(name_seg.words):
        text = rules.squash(word.text).strip(" .,;~-_")
        if word.confidence >= NAME_TONE_SURE:
            continue
        tones = rules.name_tones(text, family=i == 0)
        if len(tones) > 1:
            unsure.append(f"{text} ({'/'.join(tones)})")
        elif not (i == 0 and is_sole_family_name(text)):
            other = True
    if not unsure:
        return ""
    return f"{TONE_ONLY}: {', '.join(unsure)}" + (OTHER_WORDS_UNSURE if other else "")


def _title(segs: Sequence[Segment]) -> tuple[str, float]:
    """A signer title line (or lines) as printed, with its confidence; known titles respelled."""
    text = rules.squash(" ".join(s.text for s in segs))
    known = rules.known_title(text)
    if known:
        return known, max(confidence_of(segs), 0.9)
    return text, confidence_of(segs)
