"""Run a batch: accept every file, enqueue its work, watch it to the end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from schemas.models import Document, DocumentStatus, ErrorInfo
from storage.keys import page_key
from workers.runtime import WorkerPool
from workers.services import Services
from workers.submit import Submission, accept
from workers.tasks import NOT_INDEXED

POLL_S = 0.25
STALL_S = 30.0


@dataclass
class Progress:
    files_total: int
    docs_finished: int
    pages_done: int
    pages_total: int


ProgressFn = Callable[[Progress], None]


def pages_finished(services: Services, doc_id: str) -> int:
    prefix = page_key(doc_id, 0).rsplit("/", 1)[0] + "/"
    return sum(1 for key in services.store.list(prefix) if key.endswith(".json"))


def enqueue(pool: WorkerPool, subs: list[Submission]) -> None:
    for sub in subs:
        if sub.needs_work:
            pool.actors.ingest.send(sub.doc_id)


def submit_all(services: Services, pool: WorkerPool, paths: Iterable) -> list[Submission]:
    subs = [accept(services, path) for path in paths]
    enqueue(pool, subs)
    return subs


def wait_for(
    services: Services, pool: WorkerPool, subs: list[Submission], on_progress: ProgressFn | None
) -> None:
    """Poll the records until every submitted document is finished (done, partial, failed)."""
    waiting = {s.doc_id: s for s in subs if s.needs_work}
    records = services.records
    last_change, last_seen = time.monotonic(), None
    pages: dict[str, tuple[int, int]] = {}
    settled: set[str] = set()
    while True:
        for doc_id, sub in waiting.items():
            if doc_id in settled:
                continue
            known = records.status(doc_id)  # a small marker, not the whole record
            total = known.page_count if known else 0
            if known is not None and known.status.finished:
                sub.seconds = time.perf_counter() - sub.started
                settled.add(doc_id)
                pages[doc_id] = (total, total)
            else:
                pages[doc_id] = (total, pages_finished(services, doc_id))
        finished = len(settled)
        state = (finished, sum(done for _, done in pages.values()))
        if on_progress:
            settled_early = len(subs) - len(waiting)  # reused or refused: nothing to wait for
            pages_total = sum(t for t, _ in pages.values())
            on_progress(Progress(len(subs), finished + settled_early, state[1], pages_total))
        if finished == len(waiting):
            return
        if state != last_seen:
            last_change, last_seen = time.monotonic(), state
        elif pool.embedded and pool.idle() and time.monotonic() - last_change > STALL_S:
            _fail_stalled(services, waiting)
            return
        time.sleep(POLL_S)


def _fail_stalled(services: Services, waiting: dict[str, Submission]) -> None:
    for doc_id in waiting:
        doc = services.records.get(doc_id)
        if doc and not doc.status.finished:
            doc.errors.append(ErrorInfo(code="stalled", message="processing stopped unfinished"))
            doc.record_status(DocumentStatus.failed, "processing stopped unfinished")
            services.records.put(doc)


def _not_indexed(doc: Document) -> bool:
    """Finished, but the index was damaged when it was (until `sohoa reindex`)."""
    last = doc.history[-1].note if doc.history else ""
    marked = bool(doc.errors) and doc.errors[-1].code == NOT_INDEXED
    return marked and last.startswith("not indexed")


def outcome(services: Services, sub: Submission) -> tuple[str, Document | None, ErrorInfo | None]:
    """Final word on one file: ok, reused (complete work found, or the same file named twice
    in this batch: its first row did the work), partial (indexed, but some pages failed: the
    same ingest again retries them), not indexed (finished, but the index was damaged:
    `sohoa reindex`) or failed, with the record and why."""
    try:
        doc = services.records.get(sub.doc_id) if sub.doc_id else None
    except Exception as e:  # noqa: BLE001 - a damaged record is this file's row, not a crash
        lost = ErrorInfo(code="storage", message=f"record cannot be read ({type(e).__name__})")
        return "failed", None, sub.error or lost
    if sub.error is not None:
        return "failed", doc, sub.error
    if doc is None:
        return "failed", None, ErrorInfo(code="lost", message="record missing")
    if doc.status == DocumentStatus.failed:
        return "failed", doc, doc.errors[-1] if doc.errors else None
    if sub.outcome != "reused" and _not_indexed(doc):
        return "not indexed", doc, doc.errors[-1]
    if doc.status == DocumentStatus.partial:
        note = doc.failed_pages_note()
        return "partial", doc, ErrorInfo(code="pages_failed", message=note, retryable=True)
    if doc.status != DocumentStatus.done:
        return "pending", doc, None
    return ("reused" if sub.outcome in ("reused", "same") else "ok"), doc, None
