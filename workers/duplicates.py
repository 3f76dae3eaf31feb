"""Rescans of the same paper caught as probable duplicates (issue 20).

At indexing (`workers.tasks.index_document`), every searchable document's page fingerprints
(`pipeline/fingerprint.py`: the image hash the page step computed, the MinHash of the page's
OCR text) are compared with those of the documents that share an LSH band with it or carry the
same DocumentId (`storage/duplicates.py`: found by key prefix, never by reading every record).
A match is stored as a *pair* with its evidence (which pages match, how closely by each kind;
or the DocumentId) and linked both ways, and waits in the review queue for a person.

A person merges (keeps one; the other stays stored and readable, marked `rescan_of` the kept
one, and leaves the search) or dismisses it ("not a duplicate": the pair is remembered, so it
is never proposed again). Both actions are audited and named in the records' histories.

Visibility: a pair is shown only to a viewer who sees both records (an admin sees all), and
only one who manages both may decide it. So an uploader never learns through a pair of a
record of another organ it cannot see.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from exchange.audit import AuditLog
from pipeline.fingerprint import (
    image_bands,
    image_similarity,
    text_bands,
    text_minhash,
    text_similarity,
)
from schemas.access import Viewer, Visibility
from schemas.errors import NotFound, NotReady, SohoaError
from schemas.models import Document, PageStatus, StatusChange, utcnow
from storage.duplicates import (
    DECISION_LOCK,
    DuplicateBook,
    Fingerprints,
    PageFingerprint,
    PageMatch,
    Pair,
)
from workers.access import resolve_visible, visible_records
from workers.locks import holding, update_record
from workers.review import editable
from workers.services import Services
from workers.visible_index import visibility_of

log = logging.getLogger("sohoa.duplicates")

# Thresholds chosen on the corpus part of bench/near_duplicates.py and reported on pages2
# (docs/benchmarks.md, "Near-duplicates"): held out, both kinds together caught 48/48 rescans
# and took 0/126 other pages; the image hash alone took 10/60 same-template pages.
BOTH_IMAGE_THRESHOLD = 0.80  # a page with both kinds: it must reach both
BOTH_TEXT_THRESHOLD = 0.56
IMAGE_THRESHOLD = 0.80  # a page with an image hash only (no text to read)
TEXT_THRESHOLD = 0.89  # a page with text only (born-digital)
MAX_PAGES = 8  # pages of a document fingerprinted and looked up (a rescan shares its first)
MAX_CANDIDATES = 20  # documents compared, those sharing the most bands first
MATCHED_SHARE = 0.5  # of the shorter document's fingerprinted pages that must match


class DecidedPair(SohoaError):
    """The pair was merged or dismissed already."""

    code = "pair_decided"
    exit_code = 1
    http_status = 409


class MergeHides(SohoaError):
    """Keeping that record would take the paper out of the search of organs (or the public)
    that see the other one but not it."""

    code = "merge_hides"
    exit_code = 1
    http_status = 409


# ------------------------------------------------------------------ at indexing


def fingerprints_of(doc: Document) -> Fingerprints:
    pages = [
        PageFingerprint(page_no=p.page_no, image=p.image_hash, text=text_minhash(p.text))
        for p in doc.pages[:MAX_PAGES]
        if p.status == PageStatus.done
    ]
    document_id = doc.metadata.document_id.value
    return Fingerprints(
        doc_id=doc.id,
        pages=[p for p in pages if p.image or p.text],
        document_id=str(document_id) if document_id else None,
    )


def _bands(prints: Fingerprints) -> dict[str, list[str]]:
    """The LSH keys a document is stored and looked up under: a page's text bands, and its
    image bands only when it has no text to read. On the bench (bench/duplicates_store.py)
    the text bands alone found every rescan; the image bands doubled the S3 requests and
    brought five times the needless candidates (same-template pages share their look)."""
    return {
        "image": [b for p in prints.pages if p.image and not p.text for b in image_bands(p.image)],
        "text": [b for p in prints.pages if p.text for b in text_bands(p.text)],
    }


def matching_pages(new: Fingerprints, old: Fingerprints) -> list[PageMatch]:
    """For each fingerprinted page of `new`, the most alike page of `old` among those that
    match it (`page_match`)."""
    found = []
    for page in new.pages:
        matches = [m for other in old.pages if (m := page_match(page, other)) is not None]
        if matches:
            found.append(max(matches, key=lambda m: (m.image or 0) + (m.text or 0)))
    return found


def page_match(a: PageFingerprint, b: PageFingerprint) -> PageMatch | None:
    """Two pages match when they look alike AND read alike, each at its threshold: the look
    alone cannot tell apart two documents of one template (same letterhead, stamp and shape
    of the body), the words alone two documents that quote the same text. A page with only
    one kind (a born-digital page has no image hash; a drawing no text) is judged by that
    kind, at its own stricter threshold."""
    image = image_similarity(a.image, b.image) if a.image and b.image else None
    text = text_similarity(a.text, b.text) if a.text and b.text else None
    if image is not None and text is not None:
        alike = image >= BOTH_IMAGE_THRESHOLD and text >= BOTH_TEXT_THRESHOLD
    elif text is not None:
        alike = text >= TEXT_THRESHOLD
    elif image is not None:
        alike = image >= IMAGE_THRESHOLD
    else:
        alike = False
    if not alike:
        return None
    return PageMatch(
        page_no=a.page_no,
        other_page_no=b.page_no,
        image=None if image is None else round(image, 3),
        text=None if text is None else round(text, 3),
    )


def _is_duplicate(new: Fingerprints, old: Fingerprints, matches: list[PageMatch]) -> bool:
    shorter = min(len(new.pages), len(old.pages))
    return shorter > 0 and len(matches) >= max(1, math.ceil(MATCHED_SHARE * shorter))


def flag_duplicates(services: Services, docs: list[Document]) -> list[Pair]:
    """Fingerprint the documents being indexed and propose a pair for each stored document
    that is probably the same paper; returns the new pairs. Idempotent: a pair found before
    (open, merged or dismissed) is not proposed again."""
    book = DuplicateBook(services.store)
    proposed = []
    # The parts of one scan written together: one fsync and one commit for all of them
    with book.batch():
        for doc in docs:
            if doc.rescan_of:
                continue
            prints = fingerprints_of(doc)
            bands = _bands(prints)
            for pair in _pairs_for(services, book, prints, bands):
                if book.propose(pair):
                    proposed.append(pair)
                    log.info("probable duplicate: %s of %s", doc.id[:12], pair.existing[:12])
            book.put_fingerprints(prints, bands)
    return proposed


def _pairs_for(
    services: Services, book: DuplicateBook, prints: Fingerprints, bands: dict[str, list[str]]
) -> list[Pair]:
    same_id = set(book.with_document_id(prints.document_id)) if prints.document_id else set()
    shared: Counter[str] = Counter()
    for kind, keys in bands.items():
        shared.update(book.sharing_bands(kind, keys))
    candidates = [d for d, _ in shared.most_common(MAX_CANDIDATES + 1)]
    pairs = []
    for other_id in dict.fromkeys([*sorted(same_id), *candidates]):
        if other_id == prints.doc_id or book.pair(prints.doc_id, other_id) is not None:
            continue
        old = book.fingerprints(other_id)
        if old is None or _merged_away(services, other_id):
            continue
        matches = matching_pages(prints, old)
        if other_id in same_id or _is_duplicate(prints, old, matches):
            pairs.append(
                Pair(
                    new=prints.doc_id,
                    existing=other_id,
                    pages=matches,
                    same_document_id=prints.document_id if other_id in same_id else None,
                )
            )
    return pairs


def _merged_away(services: Services, doc_id: str) -> bool:
    """Merged into another record as its rescan (that one is compared instead), or gone. Said
    by the record's small status marker; the record itself is read only under an old marker."""
    known = services.records.status(doc_id)
    if known is None:
        return True
    if known.merged is not None:
        return known.merged
    doc = services.records.get(doc_id)
    return doc is None or doc.rescan_of is not None


# ------------------------------------------------------------------ the review


@dataclass
class SeenPair:
    pair: Pair
    new: Document
    existing: Document


def open_duplicates(services: Services, viewer: Viewer) -> list[SeenPair]:
    """The pairs waiting for a person whose two records `viewer` both sees; a pair with a
    record merged meanwhile as the rescan of a third is left out (that one is compared)."""
    seen = []
    for pair in DuplicateBook(services.store).open_pairs():
        docs = visible_records(services, viewer, [pair.new, pair.existing])
        if len(docs) == 2 and not any(d.rescan_of for d in docs):
            seen.append(SeenPair(pair, docs[0], docs[1]))
    return seen


def seen_pair(services: Services, viewer: Viewer, a: str, b: str) -> SeenPair:
    """One pair (either order; id prefixes) whose records `viewer` both sees; NotFound as for a
    missing pair otherwise."""
    book = DuplicateBook(services.store)
    ids = [_resolve(services, viewer, x) for x in (a, b)]
    pair = book.pair(*ids)
    if pair is None:
        raise NotFound(f"no probable duplicate pair {a} {b}")
    docs = visible_records(services, viewer, [pair.new, pair.existing])
    if len(docs) != 2:  # a record gone or damaged since the pair was found
        raise NotFound(f"no probable duplicate pair {a} {b}")
    return SeenPair(pair, docs[0], docs[1])


def _resolve(services: Services, viewer: Viewer, prefix: str) -> str:
    try:
        return resolve_visible(services, viewer, prefix)
    except NotFound as e:
        raise NotFound(f"no probable duplicate pair with document {prefix}") from e


def merge(services: Services, viewer: Viewer, keep: str, other: str, editor: str) -> Pair:
    """Keep `keep`; `other` becomes its rescan: stored and readable, out of the search.
    Decisions are taken one at a time, each checked again under the lock: two people merging
    A into B and B into A at once would otherwise take both out of the search."""
    with holding(services, DECISION_LOCK):
        found = _decidable(services, viewer, keep, other)
        keep_id = _resolve(services, viewer, keep)
        kept, rescan = (
            (found.new, found.existing) if found.new.id == keep_id else (found.existing, found.new)
        )
        _refuse_hiding(kept, rescan)
        # Records merged into the rescan earlier now point to the kept one: no chains, and so
        # no cycle (a rescan is never decided again: `_decidable`).
        earlier = _rescans_of(services, rescan.id)
        for doc in earlier:
            _refuse_hiding_earlier(kept, rescan, doc)

        def mark(doc: Document) -> bool:
            doc.rescan_of = kept.id
            # The notes name no other record: who sees this one may not see that one.
            _note(doc, "merged as a rescan of another record, searched instead", editor)
            return True

        def repoint(doc: Document) -> bool:
            doc.rescan_of = kept.id
            _note(doc, "the record it was merged into was merged into another: follows it", editor)
            return True

        update_record(services, rescan.id, mark)
        for doc in earlier:
            update_record(services, doc.id, repoint)
        update_record(services, kept.id, _noting("kept; a rescan of it merged into it", editor))
        services.index.delete(rescan.id)  # the search shows the kept one only
        return _decided(services, viewer, found.pair, "merged", editor, kept=kept.id)


def _refuse_hiding(kept: Document, rescan: Document) -> None:
    """Everyone who sees the rescan must see the kept record: the paper would otherwise leave
    their search with nothing in its place, and the rescan would name a record they cannot
    see."""
    hidden = hidden_from(kept.visibility, rescan.visibility)
    if hidden:
        raise MergeHides(
            f"keeping {kept.id[:12]} would hide the paper from {', '.join(hidden)}, who see "
            f"{rescan.id[:12]} but not it: keep the other one, or share it with them first"
        )


def _rescans_of(services: Services, doc_id: str) -> list[Document]:
    """Every record merged into `doc_id`, also through a chain left before merges were
    followed: found through the merged pairs that kept it, checked on the records."""
    book, found, todo, seen = DuplicateBook(services.store), [], [doc_id], {doc_id}
    while todo:
        into = todo.pop()
        for other in book.linked(into):
            pair = book.pair(into, other)
            if other in seen or pair is None or pair.state != "merged" or pair.kept != into:
                continue
            doc = services.records.get(other)
            if doc is not None and doc.rescan_of == into:
                doc.visibility = visibility_of(services.access, doc)
                seen.add(other)
                found.append(doc)
                todo.append(other)
    return found


def _refuse_hiding_earlier(kept: Document, rescan: Document, earlier: Document) -> None:
    """A record merged into the rescan before follows it to the kept one: its readers too
    must see the kept one (neither the earlier record nor its readers are named: the caller
    may not see it, and who holds a record is itself not for everyone to know)."""
    hidden = hidden_from(kept.visibility, earlier.visibility)
    if hidden:
        raise MergeHides(
            f"keeping {kept.id[:12]} would hide a record merged earlier into {rescan.id[:12]} "
            "from organs that may see it but not the kept one (not named here: you may not "
            "see that record): keep the other one, or ask an administrator to share it first"
        )


def hidden_from(kept: Visibility | None, rescan: Visibility | None) -> list[str]:
    """Those who see `rescan` but not `kept`: organ ids, and `the public`."""
    if kept is None or rescan is None:
        return ["its readers"]  # not known: refuse
    if kept.public:
        return []
    audience = sorted({rescan.owner, *rescan.organs} - {""})
    hidden = [o for o in audience if not Viewer.of_organ(o).sees(kept)]
    return hidden + (["the public"] if rescan.public else [])


def dismiss(services: Services, viewer: Viewer, a: str, b: str, editor: str) -> Pair:
    """Not a duplicate: remembered, so the pair is never proposed again."""
    with holding(services, DECISION_LOCK):
        found = _decidable(services, viewer, a, b)
        for doc in (found.new, found.existing):
            update_record(services, doc.id, _noting("not a duplicate of a look-alike", editor))
        return _decided(services, viewer, found.pair, "dismissed", editor)


def shown_to(services: Services, viewer: Viewer, doc: Document) -> Document:
    """The record as `viewer` is shown it: the record it was merged into is named only to a
    viewer who sees that one too (shares change after a merge)."""
    if doc.rescan_of and not visible_records(services, viewer, [doc.rescan_of]):
        doc.rescan_of = None
    return doc


def _decidable(services: Services, viewer: Viewer, a: str, b: str) -> SeenPair:
    found = seen_pair(services, viewer, a, b)
    if found.pair.state != "open":
        raise DecidedPair(f"this pair was {found.pair.state} already")
    for doc in (found.new, found.existing):
        editable(services, viewer, doc.id)  # Forbidden unless the viewer manages both
        if doc.rescan_of:
            raise NotReady(f"{doc.id[:12]} was merged as a rescan of another record")
    return found


def _noting(note: str, editor: str) -> Callable[[Document], bool]:
    """A change for update_record: a note in the history, by `editor`."""

    def change(doc: Document) -> bool:
        _note(doc, note, editor)
        return True

    return change


def _note(doc: Document, note: str, editor: str) -> None:
    doc.updated_at = utcnow()
    doc.history.append(StatusChange(status=doc.status, at=doc.updated_at, note=note, editor=editor))


def _decided(
    services: Services, viewer: Viewer, pair: Pair, state: str, editor: str, kept: str | None = None
) -> Pair:
    pair = pair.model_copy(
        update={"state": state, "decided_by": editor, "decided_at": utcnow(), "kept": kept}
    )
    DuplicateBook(services.store).decide(pair)
    organ = next(iter(sorted(viewer.organs or [])), "-")
    audit = AuditLog.for_options(services.store, services.exchange)
    audit.append(
        organ,
        f"duplicate_{'merge' if state == 'merged' else 'dismiss'}",
        kept or pair.existing,
        by=editor,
        new=pair.new,
        existing=pair.existing,
        kept=kept,
    )
    return pair
