"""Following an upload's run and retrying its failed pages, for a caller (the upload page).

`progress` is what a page polls every second: while the document is worked on it reads only
the small status marker and the shared page tally (workers/fanin.py), or one listing of the
page markers where there is no tally; the whole record only once it is finished (for the
failed pages and their reasons). `retry_failed_pages` is exactly the same file ingested again,
taken from the stored original: the good pages are kept, the failed ones done again
(workers/submit.py, tasks.discard_failed_pages).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.access import Viewer
from schemas.errors import Forbidden, NotFound, NotReady
from schemas.models import Document, DocumentStatus
from storage.keys import original_key
from workers.access import manages, require_visible
from workers.inputs import Found
from workers.jobs import submit
from workers.runtime import WorkerPool
from workers.services import Services
from workers.tasks import pages_with_results

FULL_ID_CHARS = 64  # a SHA-256 in hex: no prefix to resolve, no listing of every record


@dataclass
class Progress:
    status: str
    page_count: int
    pages_done: int  # pages with a result, failed ones too
    pages_failed: int
    failed_pages: list[dict] = field(default_factory=list)  # {page_no, reason}; once finished


def progress(services: Services, pool: WorkerPool, viewer: Viewer, doc_id: str) -> Progress:
    """How far the document `doc_id` (visible to `viewer`, else NotFound) has come."""
    running = _running(services, pool, viewer, doc_id)
    if running is not None:
        return running
    doc = require_visible(services, viewer, doc_id)
    if not doc.status.finished:  # named by a prefix
        return _running(services, pool, viewer, doc.id) or _finished(doc)
    return _finished(doc)


def _running(services: Services, pool: WorkerPool, viewer: Viewer, doc_id: str) -> Progress | None:
    """From the marker and the tally, for a full id of a document not finished; else None."""
    if len(doc_id) != FULL_ID_CHARS:
        return None
    known = services.records.status(doc_id)
    if known is None or known.status.finished:
        return None
    # A document still worked on is never one cut from a scan: its own visibility is all.
    if not viewer.sees(services.access.visibility(doc_id)):
        raise NotFound(f"no document with id {doc_id}")
    # received: not started (a tally or page results left by an earlier run do not count)
    started = known.status == DocumentStatus.processing
    done = _pages_done(services, pool, doc_id) if started else 0
    return Progress(known.status.value, known.page_count, done, 0)


def _pages_done(services: Services, pool: WorkerPool, doc_id: str) -> int:
    tally = pool.actors.tally
    counts = tally.peek(doc_id) if tally is not None else None
    if counts is not None:
        return min(counts)  # a redelivered page may count twice: never past the total
    return len(pages_with_results(services, doc_id))  # one listing of the page markers


def _finished(doc: Document) -> Progress:
    failed = [{"page_no": p.page_no, "reason": p.reason} for p in doc.failed_pages]
    done = doc.page_count if doc.status.finished else 0
    return Progress(doc.status.value, doc.page_count, done, len(failed), failed)


def retry_failed_pages(
    services: Services, pool: WorkerPool, viewer: Viewer, doc_id: str, editor: str
) -> Document:
    """Queue the failed pages of a partial or failed document again; returns its record as
    it now is (received). NotReady (409) when it has no failed page."""
    doc = require_visible(services, viewer, doc_id)
    if not manages(viewer, doc.visibility):
        raise Forbidden("only the organ that owns this document may retry it")
    if doc.source_id is not None:  # a document cut from a scan: the scan is what is read
        doc = services.records.require(doc.source_id)
    if doc.status not in (DocumentStatus.partial, DocumentStatus.failed) or not doc.failed_pages:
        raise NotReady(f"document is {doc.status.value} and has no failed page to retry")
    with services.store.local_path(original_key(doc.id)) as path:
        source = Found(path, f"its stored original (retry asked by {editor})", doc.source_name)
        # its owner brings it again: no new grant (workers.access.own)
        sub = submit(services, pool, source, owner=services.access.owner(doc.id))
    if sub.error is not None:
        raise NotReady(f"the retry could not start: {sub.error.message}")
    return services.records.require(doc.id)
