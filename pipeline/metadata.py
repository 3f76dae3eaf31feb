"""Administrative metadata of ND30 documents, read from word boxes and page zones.

Words are grouped into lines cut at column gaps (`pipeline.layout`), and each field is read
from the zone ND30 puts it in: header columns and the title on the first page
(`pipeline.header`), the Nơi nhận list and the signer block at the foot of the last page
(`pipeline.footer`); the subject and signer zones read a second time vote (`pipeline.zones`);
the organ is reconciled with the registry (`pipeline.reconcile`). The text rules live in
`metadata_rules`; where documents begin in a box scan, in `pipeline.starts`.

Every field carries a confidence (0..1) from the OCR confidence of its words and how cleanly
its line parsed. Empty beats wrong: a value that cannot be read stays None; a key field that is
missing or below its threshold sets `needs_review` with a reason (thresholds: the field table,
`schemas.fields`). Pure code: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta, timezone

from pipeline import metadata_rules as rules
from pipeline.date_zone import vote_date
from pipeline.extracted import Extracted
from pipeline.flags import NOISY_PAGE_FLAG, page_review_reasons
from pipeline.footer import (
    OTHER_WORDS_UNSURE,
    TONE_ONLY,
    Footer,
    disputed_tones,
    find_footer,
    read_recipients,
    read_signer,
)
from pipeline.header import confirm_code, find_header, read_code, read_date, read_organ, read_title
from pipeline.layout import LinesOf, page_lines
from pipeline.lexicon import WordPairs
from pipeline.reconcile import FindOrgan, confirm_place, read_document_id, read_registry
from pipeline.zones import SIGNER_INK_ZONE, vote_signer, vote_subject, with_counted_numerals
from schemas.fields import KEEP_THRESHOLD, KEEP_THRESHOLDS, KEY_THRESHOLDS
from schemas.models import AdminMetadata, Field, PageResult, PageSource, PageStatus

# Long free-text fields read from a page the pipeline measured as noisy (`denoised`): on such
# scans OCR swaps tone marks with high confidence (measured: bench/metadata.py, heavy level),
# so they always go to a person.
NOISY_FREE_TEXT_CAP = 0.7
SIGNER_ZONES = ("signer", SIGNER_INK_ZONE)  # the signer block's second reads (pipeline.zones)


# The day a record is read, for "issued after it" (`vote_date`), is the day where records are
# issued: the server's clock is UTC in the container, 7 hours behind, and a record dated today
# read before 07:00 in Hà Nội was "after the day it was read".
VIETNAM = timezone(timedelta(hours=7), "ICT")


def extract_metadata(
    pages: list[PageResult],
    *,
    find_organ: FindOrgan | None = None,
    pairs: WordPairs | None = None,
    lines_of: LinesOf = page_lines,
    full: Callable[[PageResult], PageResult] | None = None,
    today: date | None = None,
) -> AdminMetadata:
    """Metadata of ONE document from its pages in order (header on the first, signer on the
    last). `find_organ(name, parent, on)` maps the header's organ to the registry; `pairs`
    (lexicon.word_pairs) set right the tone slips of OCR text in the subject and recipients.
    `full(page)` gives a page summary's words (a record holds summaries: workers/pages.py);
    only the pages whose layout is read (the first, the last ones with a footer) need them.
    `today`: the day the record is read, in `VIETNAM` (the caller's clock: workers/): a date
    after it is flagged; None checks no such thing."""
    out = Extracted({})
    full = full or (lambda page: page)
    readable = [p for p in pages if p.status != PageStatus.skipped and p.has_words]
    if readable:
        speller = None  # a text layer is exact: nothing to respell
        if readable[0].source != PageSource.text_layer:
            speller = rules.ContextSpeller("\n".join(p.text for p in readable))
        readable[0] = with_counted_numerals(full(readable[0]))
        first = lines_of(readable[0])
        header = find_header(first)
        if header is not None:
            read_organ(header, out)
            read_code(header, out)
            read_date(header, out)
            read_title(first, header, out, speller, pairs)
            confirm_code(out)
            vote_subject(readable[0], first, header, out, speller, pairs)
            if NOISY_PAGE_FLAG in readable[0].quality_flags:
                out.cap("subject", NOISY_FREE_TEXT_CAP)
        vote_date(readable[0], header, out, today=today)
        for page in map(full, reversed(readable)):
            footer = find_footer(lines_of(page))
            if footer is not None:
                ocr = page.source != PageSource.text_layer
                read_recipients(footer, out, pairs if ocr else None)
                read_signer(footer, out)
                vote_signer(page, out, footer)
                _doubt_disputed_tones(page, footer, out)
                break
        organ = read_registry(find_organ, out)
        confirm_place(out, organ)
        read_document_id(out)
    # Blank backs of a duplex scan are skipped pages, not pages of the document.
    out.set("page_amount", sum(p.status != PageStatus.skipped for p in pages) or len(pages), 1.0)
    text = " ".join(p.text for p in readable)
    share = rules.looks_vietnamese(text)
    if share >= 0.2:
        out.set("language", "vi", min(1.0, 0.5 + share))
    return _finish(out, pages)


def _doubt_disputed_tones(page: PageResult, footer: Footer, out: Extracted) -> None:
    """A signer name whose tone the block's reads dispute (`Anh` / `Ánh`) goes to a person,
    with the syllable named in the reason, however surely each read scored it."""
    name = out.get("signer_name")
    if not name:
        return
    words = [w for s in footer.signer for w in s.words]
    words += [w for zone in SIGNER_ZONES for w in page.zones.get(zone) or []]
    note = disputed_tones(name, [rules.squash(w.text).strip(" .,;~-_'`\"") for w in words])
    if note:
        ceiling = KEY_THRESHOLDS["signer_name"] - 0.01
        out.set("signer_name", name, min(out.conf("signer_name"), ceiling))
        out.notes["signer_name"] = note


def _finish(out: Extracted, pages: list[PageResult]) -> AdminMetadata:
    values: dict[str, Field] = {}
    for name, field in out.values.items():
        threshold = KEY_THRESHOLDS.get(name)
        if threshold is None and field.confidence < KEEP_THRESHOLDS.get(name, KEEP_THRESHOLD):
            continue  # empty beats wrong for fields nobody is asked to review
        values[name] = field
    reasons = review_reasons(values, pages, out.notes)
    return AdminMetadata(**values, needs_review=bool(reasons), review_reasons=reasons)


def review_reasons(
    values: dict[str, Field], pages: list[PageResult], notes: dict[str, str] | None = None
) -> list[str]:
    """Why a person must look: each key field missing or below its threshold (a value a
    person set or confirmed has confidence 1.0 and passes), with what is known of why (the
    organs that fit: `notes`), and pages read badly (flags)."""
    reasons: list[str] = []
    for name, threshold in KEY_THRESHOLDS.items():
        field = values.get(name)
        if field is None or field.value in (None, "", []):
            reasons.append(f"{name} missing")
        elif field.confidence < threshold:
            note = (notes or {}).get(name)
            if note and note.startswith(TONE_ONLY) and not note.endswith(OTHER_WORDS_UNSURE):
                # a signer's name whose one doubt is a tone mark no list can settle: the
                # reason says which syllable to look at (the document is still flagged)
                reasons.append(f"{name} {note}")
                continue
            reasons.append(
                f"{name} low confidence {field.confidence:.2f}{f': {note}' if note else ''}"
            )
    return reasons + page_review_reasons(pages)
