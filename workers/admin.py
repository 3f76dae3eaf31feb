"""What the admin pages show that is not a single record: documents counted by status, the
latest failed ones, and the exchange audit log a page at a time, newest first.

Both stay bounded whatever the size of the store. Counts: `done` and `partial` come from the
index's status facet under an unrestricted viewer (one query, exact); `received`,
`processing` and `failed` are never indexed, so they come from the records' small status
markers: one listing of `records/`, then at most MARKER_SCAN markers read (a larger store
says so, and those three counts are then lower bounds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange.audit import AuditEntry
from exchange.messages import AUDIT_ENTRIES
from schemas.access import Viewer
from schemas.errors import DamagedRecord, IndexUnavailable, NotFound
from schemas.models import Document, DocumentStatus
from storage.base import ObjectStore
from workers.services import Services

MARKER_SCAN = 5000  # status markers read at most per status page
FAILED_SHOWN = 20  # latest failed documents listed
AUDIT_SCAN = 5000  # audit entries read at most to fill a filtered page
INDEXED = (DocumentStatus.done, DocumentStatus.partial)
UNINDEXED = (DocumentStatus.received, DocumentStatus.processing, DocumentStatus.failed)


@dataclass
class DocumentCounts:
    counts: dict[DocumentStatus, int | None]  # None: the index cannot be used to count
    records: int  # records in the store (one listing)
    scanned: int  # status markers read
    complete: bool  # every marker was read: the unindexed counts are exact, not lower bounds
    failed: list[Document] = field(default_factory=list)  # newest first, at most FAILED_SHOWN
    indexed: int | None = None  # documents in the search index (None: it cannot be used)


def document_counts(services: Services) -> DocumentCounts:
    counts: dict[DocumentStatus, int | None] = dict.fromkeys(INDEXED)
    indexed = None
    try:  # the records are still counted without it, as `sohoa status` does
        facet = services.index.search("", viewer=Viewer.everything(), limit=1).facets
        indexed = services.index.count()
    except IndexUnavailable:
        facet = {}
    by_status = facet.get("status") or {}
    if indexed is not None:
        counts = {s: int(by_status.get(s.value, 0)) for s in INDEXED}
    counts |= dict.fromkeys(UNINDEXED, 0)
    listed = list(services.store.list("records/"))  # the one listing: records and markers
    ids = [_id_of(key, ".status") for key in listed if key.endswith(".status")]
    failed: list[Document] = []
    records = services.records
    for doc_id in ids[:MARKER_SCAN]:
        marker = records.status(doc_id)
        if marker is None or marker.status in INDEXED:
            continue
        counts[marker.status] = (counts[marker.status] or 0) + 1
        if marker.status == DocumentStatus.failed:
            try:
                doc = records.get(doc_id)
            except DamagedRecord:
                continue
            if doc is not None:
                failed.append(doc)
    failed.sort(key=lambda d: d.updated_at, reverse=True)
    return DocumentCounts(
        counts=counts,
        records=sum(1 for key in listed if key.endswith(".json")),
        scanned=min(len(ids), MARKER_SCAN),
        complete=len(ids) <= MARKER_SCAN,
        failed=failed[:FAILED_SHOWN],
        indexed=indexed,
    )


def _id_of(key: str, suffix: str) -> str:
    return key.rsplit("/", 1)[-1].removesuffix(suffix)


def failure_reason(doc: Document) -> str:
    """Why a failed document failed: its last error, else the last status note."""
    if doc.errors:
        return doc.errors[-1].message
    notes = [h.note for h in doc.history if h.note]
    return notes[-1] if notes else ""


# ------------------------------------------------------------------ audit log


@dataclass
class AuditPage:
    entries: list[AuditEntry]  # newest first
    total: int  # entries in the log
    has_next: bool
    scanned_all: bool  # a filtered page read every entry it needed (else AUDIT_SCAN stopped it)


def audit_page(
    services: Services, *, organ: str = "", action: str = "", page: int = 1, size: int = 50
) -> AuditPage:
    """Page `page` of the audit entries, newest first, of `organ` and `action` when given.
    Unfiltered, only the page's entries are read; filtered, at most AUDIT_SCAN."""
    listed = services.store.list(AUDIT_ENTRIES)
    keys = sorted((k for k in listed if k.endswith(".json")), reverse=True)
    read_entry = _reader(services.store)
    skip = (page - 1) * size
    if not organ and not action:
        chosen = keys[skip : skip + size]
        return AuditPage(
            [e for e in map(read_entry, chosen) if e is not None],
            len(keys),
            skip + size < len(keys),
            True,
        )
    matches: list[AuditEntry] = []
    for n, key in enumerate(keys):
        if n >= AUDIT_SCAN:
            return AuditPage(matches[skip : skip + size], len(keys), False, False)
        entry = read_entry(key)
        if entry is None or (organ and entry.organ_id != organ):
            continue
        if action and entry.action != action:
            continue
        matches.append(entry)
        if len(matches) > skip + size:
            return AuditPage(matches[skip : skip + size], len(keys), True, True)
    return AuditPage(matches[skip : skip + size], len(keys), False, True)


def _reader(store: ObjectStore):  # noqa: ANN202 - key -> AuditEntry | None
    def read(key: str) -> AuditEntry | None:
        """An entry as stored; one that is gone or damaged is left out here (the verify
        button names it)."""
        try:
            return AuditEntry.model_validate_json(store.get_bytes(key))
        except (NotFound, ValueError):
            return None

    return read
