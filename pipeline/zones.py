"""Key-field zones read twice: where the subject and the signer lie on a page (the pipeline reads
those boxes again, upscaled: `PageResult.zones`), and the vote between the page read and the
zone read. Roman numerals whose I strokes were counted on the image replace their reads."""

from __future__ import annotations

import difflib
import statistics
import unicodedata
from collections.abc import Sequence

import numpy as np

from pipeline import metadata_rules as rules
from pipeline.extracted import Extracted
from pipeline.flags import NOISY_PAGE_FLAG
from pipeline.footer import (
    RESPELLED_NOTE,
    Footer,
    find_footer,
    read_signer,
)
from pipeline.header import Header, find_header, set_subject, subject_lines
from pipeline.layout import PageLines, Segment, page_lines
from pipeline.lexicon import WordPairs
from pipeline.signer_reads import agreed_confidence
from pipeline.strokes import covers, stroke_shaped
from schemas.fields import KEY_THRESHOLDS
from schemas.models import PageResult, Word
from schemas.text import fold

ZONE_MARGIN = 0.8  # line heights of margin round a zone box
SIGNER_ZONE_DEPTH = 14  # line heights under the signer's title where a dropped name line sits
# A zone whose every word the page read is at least this sure of is not read again: on the
# corpus (24 pages, 35 zones, bench/ocr.py seed 0) the second read of such a zone never changed a
# subject or signer, only lowered its confidence twice (docs/benchmarks.md "OCR cost per page").
ZONE_SURE_CONFIDENCE = 90.0
# The signer zone is read a second time with its lighter ink whitened (seal, pen): this share of
# the way from the print's ink to the paper (tuning part of pages2: 0.35 reads `PHÓ CHỦ TỊCH`
# under a seal that the zone as scanned reads `›PHÖ Ủ TỊCH`).
DARK_INK_SHARE = 0.35
SIGNER_INK_ZONE = "signer_ink"


def key_zone_boxes(page: PageResult) -> dict[str, tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) of the zones that carry the subject and the signer, found
    from a page's OCR words: the pipeline reads them a second time, upscaled (`PageResult.zones`).
    A page without an ND30 header has no subject zone; one without a signer block no signer."""
    lines = page_lines(page)
    boxes: dict[str, tuple[int, int, int, int]] = {}
    header = find_header(lines)
    if header is not None:
        subject = _subject_zone(lines, header)
        if subject:
            boxes["subject"] = _box(lines, subject, depth=0.0)
    footer = find_footer(lines)
    if footer is not None and footer.signer:
        boxes["signer"] = _box(lines, footer.signer, depth=SIGNER_ZONE_DEPTH)
    elif footer is not None and footer.label is not None:
        boxes["signer"] = _beside_recipients(lines, footer.label, footer.recipients)
    return boxes


def _beside_recipients(
    lines: PageLines, label: Segment, recipients: Sequence[Segment]
) -> tuple[int, int, int, int]:
    """Where ND30 puts the signer block when the page read found none of it: right of the Nơi
    nhận list, from a little above its label down to the name's depth. A seal and a signature
    pressed over the block make Tesseract's page layout take it for a picture and drop it."""
    height = label.height
    left_column = max(s.right for s in (label, *recipients))
    return (
        min(lines.width - 1, round(left_column + 2 * ZONE_MARGIN * height)),
        max(0, round(label.top - 2.5 * height)),
        lines.width,
        min(lines.height, round(label.top + SIGNER_ZONE_DEPTH * height)),
    )


def dark_ink_only(grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The page with the ink lighter than the print's in `box` whitened: a red seal and a
    pen's strokes scan to mid grey in greyscale, the print to near its darkest ink, so text under
    a seal reads as text again. The print's ink is the darkest percentile of the box, the paper
    its bright one; what lies past DARK_INK_SHARE of the way from ink to paper goes."""
    left, top, right, bottom = box
    out = grey.copy()
    zone = out[top:bottom, left:right]
    if zone.size == 0:
        return out
    ink, paper = np.percentile(zone, 1), np.percentile(zone, 90)
    zone[zone > ink + DARK_INK_SHARE * (paper - ink)] = 255
    return out


def doubtful_zones(
    page: PageResult, boxes: dict[str, tuple[int, int, int, int]]
) -> dict[str, tuple[int, int, int, int]]:
    """The key zones whose second read can change an answer, on any page, noisy or not: those
    where the page read is unsure of an answer word (Tesseract's confidence below
    ZONE_SURE_CONFIDENCE) — for the subject zone its lines' words, for the signer zone the words
    of the name's line (`_signer_name_sure`) — or found no name under the signer's title. A
    zone whose answer words the page read is sure of is not read again, whatever the page's
    noise (before, a noisy page read every zone for `hooks_from`; docs/benchmarks.md, round 13)."""
    doubtful = {name: box for name, box in boxes.items() if _unsure_in(page.words, box)}
    if "signer" in doubtful and _signer_name_sure(page):
        del doubtful["signer"]
    elif "signer" in boxes and "signer" not in doubtful and _no_signer_name(page):
        doubtful["signer"] = boxes["signer"]
    return doubtful


def _signer_name_sure(page: PageResult) -> bool:
    """The page read found the signer's name, as read (not respelled from the list of names),
    every word of its line at ZONE_SURE_CONFIDENCE or more. The zone's second read changes only
    the name then (`vote_signer`: competence and position come from it only when the page read
    has no name), so unsure words elsewhere in the zone — the Nơi nhận column beside it, the
    last body line above, a title line — cannot change an answer and do not make it doubtful."""
    footer = find_footer(page_lines(page))
    if footer is None or not footer.signer:
        return False
    read = Extracted({})
    read_signer(footer, read)
    if read.get("signer_name") is None or RESPELLED_NOTE in read.notes:
        return False
    name = next(s for s in reversed(footer.signer) if rules.person_name(s.text))
    return all(w.confidence >= ZONE_SURE_CONFIDENCE for w in name.words)


def _no_signer_name(page: PageResult) -> bool:
    """The page read found a signer block (its title lines, read surely) but no name under it:
    a seal and a signature over the name line made the page layout drop it, and only a read of
    the zone finds it (tuning part of pages2: 2 of 30 light pages)."""
    footer = find_footer(page_lines(page))
    return footer is not None and not any(rules.person_name(s.text) for s in footer.signer)


def ink_read_needed(page: PageResult, plain: list[Word]) -> bool:
    """Whether the signer zone's read with its lighter ink whitened (SIGNER_INK_ZONE) can change
    an answer, after its plain read `plain` (words in page coordinates). Where the page read has
    the signer's name, the zone reads can change only the name (`vote_signer`), and where the
    plain read found that same name surely — as read, not respelled from the list of names, no
    tone in doubt, every word of its line at ZONE_SURE_CONFIDENCE or more, the page read's own
    test (`_signer_name_sure`) — the two reads agree and the ink read does not run. Where the
    page read has no name, the zone's titles are taken too and a seal over them is what the ink
    read is for: it runs."""
    footer = find_footer(page_lines(page))
    if footer is None or not any(rules.person_name(s.text) for s in footer.signer):
        return True
    page_read, zone_read = Extracted({}), Extracted({})
    read_signer(footer, page_read)
    segs = _zone_lines(page.model_copy(update={"zones": {"signer": plain}}), "signer")
    read_signer(Footer(None, (), tuple(segs)), zone_read)
    name = zone_read.get("signer_name")
    if name is None or name != page_read.get("signer_name") or zone_read.notes:
        return True  # not found, another name than the page's, respelled, or a tone in doubt
    line = next(s for s in reversed(segs) if rules.person_name(s.text))
    return any(w.confidence < ZONE_SURE_CONFIDENCE for w in line.words)


def _unsure_in(words: Sequence[Word], box: tuple[int, int, int, int]) -> bool:
    """Some word in `box` read below ZONE_SURE_CONFIDENCE, or none read there at all."""
    left, top, right, bottom = box
    zone = Word(text="", left=left, top=top, width=right - left, height=bottom - top, confidence=0)
    inside = [w for w in words if covers(zone, w) and any(c.isalnum() for c in w.text)]
    return not inside or any(w.confidence < ZONE_SURE_CONFIDENCE for w in inside)


def _subject_zone(lines: PageLines, header: Header) -> list[Segment]:
    if header.vv_lines:
        return list(header.vv_lines)
    after = [s for s in lines.below(header.bottom) if lines.centred(s)][:3]
    for i, seg in enumerate(after):
        if rules.is_caps_title(seg.text) and rules.type_from_line(seg.text):
            return subject_lines(lines, seg)
        if i == 0 and not rules.is_caps_title(seg.text):
            break
    return []


def _box(lines: PageLines, segs: Sequence[Segment], depth: float) -> tuple[int, int, int, int]:
    height = statistics.median(s.height for s in segs)
    pad = ZONE_MARGIN * height
    bottom = max(max(s.bottom for s in segs) + pad, segs[0].top + depth * height)
    return (
        max(0, round(min(s.left for s in segs) - 2 * pad)),
        max(0, round(min(s.top for s in segs) - pad)),
        min(lines.width, round(max(s.right for s in segs) + 2 * pad)),
        min(lines.height, round(bottom)),
    )


def _zone_lines(
    page: PageResult, name: str, within: tuple[float, float] | None = None
) -> list[Segment]:
    """The lines of a zone's second read, without specks read as punctuation; with `within`
    (top, bottom), only words whose middle lies between (the margin catches bits of the lines
    round the zone)."""
    words = [w for w in page.zones.get(name) or [] if any(c.isalnum() for c in w.text)]
    if within is not None:
        words = [w for w in words if within[0] <= w.top + w.height / 2 <= within[1]]
    if not words:
        return []
    return list(page_lines(page.model_copy(update={"words": words})).segments)


def vote_subject(
    page: PageResult,
    lines: PageLines,
    header: Header,
    out: Extracted,
    speller: rules.ContextSpeller | None,
    pairs: WordPairs | None,
) -> None:
    """The subject as the second, upscaled read of its zone has it, against the page read."""
    read = _subject_zone(lines, header)
    if not read:
        return
    segs = _zone_lines(page, "subject", (read[0].top, read[-1].bottom))
    if not segs:
        return
    text = " ".join(s.text for s in segs)
    if header.vv_lines:
        text = rules.vv_subject(text) or ""
    if not text:
        return
    zone = Extracted({})
    set_subject(zone, text, segs, speller, pairs)
    read_value, zone_value = out.get("subject"), zone.get("subject")
    if NOISY_PAGE_FLAG in page.quality_flags and read_value and zone_value:
        merged = hooks_from(read_value, zone_value)
        if merged != read_value:
            ceiling = KEY_THRESHOLDS["subject"] - 0.01
            out.set("subject", merged, min(out.conf("subject"), ceiling))
        return
    _vote(out, zone, "subject")


_ACUTE, _HOOK = "\u0301", "\u0309"


def hooks_from(read: str, zone: str) -> str:
    """`read` with each word that the zone's read spells with a hỏi where `read` has a sắc
    (`tố` / `tổ`, `đấy` / `đẩy`) taken from the zone. On a noisy page the median filter blurs
    the hook into an acute for the page read; the zone is read from the unfiltered page
    (`pipeline.page.zone_image`), and no other difference between the two is trusted."""
    words, others = read.split(), zone.split()
    matcher = difflib.SequenceMatcher(
        None, [fold(w) for w in words], [fold(w) for w in others], autojunk=False
    )
    merged = list(words)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag != "equal":
            continue  # words the two reads disagree on beyond diacritics: the page read's
        for k in range(i2 - i1):
            if _acute_for_hook(words[i1 + k], others[j1 + k]):
                merged[i1 + k] = others[j1 + k]
    return " ".join(merged)


def _acute_for_hook(word: str, other: str) -> bool:
    a, b = unicodedata.normalize("NFD", word), unicodedata.normalize("NFD", other)
    if len(a) != len(b) or a == b:
        return False
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return all(pair == (_ACUTE, _HOOK) for pair in pairs)


def vote_signer(page: PageResult, out: Extracted, footer: Footer | None = None) -> None:
    """The signer as the zone's reads have it (the zone as scanned, and with its lighter ink
    whitened: `SIGNER_INK_ZONE`), the surer of the two against the page read (its block:
    `footer`). Competence and position the page read did not find at all are taken from that
    read. A name whose every word's letters two reads agree on is as sure as they make it
    (`signer_reads.agreed_confidence`), unless a read has another name."""
    reads, zone_lines = [], [list(footer.signer)] if footer is not None else []
    for name in ("signer", SIGNER_INK_ZONE):
        segs = _zone_lines(page, name)
        if segs:
            zone = Extracted({})
            read_signer(Footer(None, (), tuple(segs)), zone)
            reads.append(zone)
            zone_lines.append(segs)
    if not reads:
        return
    names = [(out.get("signer_name"), out.conf("signer_name"))]
    names += [(z.get("signer_name"), z.conf("signer_name")) for z in reads]
    zone = max(reads, key=lambda z: (z.get("signer_name") is not None, z.conf("signer_name")))
    page_found = out.get("signer_name") is not None
    _set_aside_nameless_page_read(out, zone)
    if zone.get("signer_name") is not None:
        for name in ("signer_competence", "signer_position"):
            # the titles of a block whose name only the zone found; those the page read
            # found are kept unless its name was specks and the zone read them surer
            surer = out.get("signer_name") is None and zone.conf(name) > out.conf(name)
            if zone.get(name) is not None and (not page_found or surer):
                out.set(name, zone.get(name), zone.conf(name), empty_ok=True)
    if zone.notes.get("signer_name") and out.get("signer_name") != zone.get("signer_name"):
        out.notes["signer_name"] = zone.notes["signer_name"]
    if _zone_confirms_respelling(out, zone):
        # The page read `Thăng`, the name list made it `Thắng`, and the zone's own read is
        # `Thắng` as read: two reads of other pixels agree without a rule's help.
        out.set("signer_name", out.get("signer_name"), zone.conf("signer_name"))
    else:
        _vote(out, zone, "signer_name")
    _trust_agreeing_reads(out, names, zone_lines)


# A read's name whose first word is no family name and this unsure stands against no other.
NAMELESS_READ_CONFIDENCE = 0.5


def _set_aside_nameless_page_read(out: Extracted, zone: Extracted) -> None:
    """The page read's `name` is specks read as words (`Tranfu Khoa` under a seal: no family
    name, read unsurely), or the zone's name without its family name (`Xuân Khải` where the
    zone read `Phạm Xuân Khải`: the page layout put `Phạm` on a line of its own), while the
    zone's read has a family name: the page read is no rival, and the zone's read keeps its
    own confidence as if the page read had found nothing."""
    page_name, zone_name = out.get("signer_name"), zone.get("signer_name")
    if page_name is None or zone_name is None or page_name == zone_name:
        return
    page, other = rules.person_name(page_name), rules.person_name(zone_name)
    if page is None or page.known_family or other is None or not other.known_family:
        return
    if out.conf("signer_name") < NAMELESS_READ_CONFIDENCE or _family_name_lost(page, other):
        del out.values["signer_name"]
        out.notes.pop("signer_name", None)


def _family_name_lost(page: rules.Name, zone: rules.Name) -> bool:
    """The page read's name is the zone's name's given names, letter for letter, its family
    name missing (round 15, pages2 tuning: `Xuân Khải` above a lone `Phạm`)."""
    given = page.text.split()
    full = zone.text.split()
    return len(full) == len(given) + 1 and [fold(w) for w in full[1:]] == [fold(w) for w in given]


def _trust_agreeing_reads(
    out: Extracted, names: list[tuple[str | None, float]], reads: list[list[Segment]]
) -> None:
    """The name as sure as the reads that agree on its letters make it, never less sure than
    it was, and only when no read has another name with a family name (a rival reading)."""
    final = out.get("signer_name")
    if final is None:
        return
    for name, conf in names:
        other = rules.person_name(name) if name and name != final else None
        if _rival_reading(other, conf, final):
            return
    agreed = agreed_confidence(final, reads)
    if agreed is not None and agreed > out.conf("signer_name"):
        out.set("signer_name", final, agreed)


def _rival_reading(other: rules.Name | None, conf: float, final: str) -> bool:
    """Another read's name that stands against `final`: with a family name, not specks read
    unsurely, and not `final` with a tone slip that makes no name."""
    return (
        other is not None
        and other.known_family
        and conf >= NAMELESS_READ_CONFIDENCE
        and not _tone_slip_of(other.text, final)
    )


def _tone_slip_of(name: str, final: str) -> bool:
    """`name` is `final` with, at the words where they differ, a tone mark that makes no
    name (`Phạm Quang Ảnh` for `Phạm Quang Ánh`: `Ảnh` is no name): a slip, not another
    reading. A tone that makes another name (`Anh`) is a dispute (`footer.disputed_tones`)."""
    words, others = final.split(), name.split()
    if len(words) != len(others):
        return False
    for i, (word, read) in enumerate(zip(words, others, strict=True)):
        if word == read:
            continue
        tones = rules.name_tones(word, family=i == 0)
        if fold(word) != fold(read) or rules.newer_placement(read) in tones:
            return False
    return True


def _zone_confirms_respelling(out: Extracted, zone: Extracted) -> bool:
    return (
        RESPELLED_NOTE in out.notes
        and RESPELLED_NOTE not in zone.notes
        and out.get("signer_name") == zone.get("signer_name")
        and zone.conf("signer_name") > out.conf("signer_name")
    )


def _vote(out: Extracted, zone: Extracted, name: str) -> None:
    """Two reads of one field: agreeing, the page read as it was; disagreeing, the reading with
    the higher confidence (the zone's on a tie), never above the review threshold; a field only
    the zone read keeps its own confidence."""
    page_value, zone_value = out.get(name), zone.get(name)
    if zone_value is None:
        return
    if page_value is None:
        out.set(name, zone_value, zone.conf(name))
    elif page_value == zone_value:
        return  # one engine twice: its slips agree too (`đấy`), so no surer than the page read
    else:
        value, conf = (
            (zone_value, zone.conf(name))
            if zone.conf(name) >= out.conf(name)
            else (page_value, out.conf(name))
        )
        out.set(name, value, min(conf, KEY_THRESHOLDS[name] - 0.01))


def with_counted_numerals(page: PageResult) -> PageResult:
    """The page with every numeral of I strokes its reads spelled (`II`, `IHI`) replaced by the
    strokes counted on the image (`zones["numerals"]`, `pipeline.strokes`)."""
    numerals = page.zones.get("numerals")
    if not numerals:
        return page

    def recounted(words: list[Word]) -> list[Word]:
        return [_recounted(w, numerals) for w in words]

    zones = {**page.zones, "subject": recounted(page.zones.get("subject") or [])}
    return page.model_copy(update={"words": recounted(page.words), "zones": zones})


def _recounted(word: Word, numerals: list[Word]) -> Word:
    if not stroke_shaped(word.text):
        return word
    for numeral in numerals:
        if covers(numeral, word):
            return word.model_copy(update={"text": numeral.text, "confidence": numeral.confidence})
    return word
