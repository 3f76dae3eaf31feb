"""Run a batch: accept every file, enqueue its work, watch it to the end."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from schemas.models import Document, DocumentStatus, ErrorInfo
from storage.records import RecordStatus
from workers.runtime import WorkerPool
from workers.services import Services
from workers.submit import Submission, accept

log = logging.getLogger("sohoa.workers")

POLL_S = 0.25
# Polls of a remote store back off to this while nothing moves (a local one costs nothing).
POLL_MAX_S = 1.0
# A document whose pages are still being done is finished only by a failure: its record is
# read this often meanwhile, not on every poll.
STATUS_EVERY_S = 5.0
STALL_S = 30.0
# No progress for this long with a server broker: say so if no worker consumes its queue.
NO_WORKER_HINT_S = 5.0


@dataclass
class Progress:
    files_total: int
    docs_finished: int
    pages_done: int
    pages_total: int


ProgressFn = Callable[[Progress], None]


def enqueue(pool: WorkerPool, subs: list[Submission]) -> None:
    for sub in subs:
        if sub.needs_work:
            pool.actors.ingest.send(sub.doc_id)


def submit_all(services: Services, pool: WorkerPool, paths: Iterable) -> list[Submission]:
    subs = [accept(services, path) for path in paths]
    enqueue(pool, subs)
    return subs


@dataclass
class _Watched:
    """What the last poll knew of one document."""

    sub: Submission
    total: int = 0
    done: int = 0
    finished: bool = False
    status_read_at: float = field(default=-float("inf"))


def _poll(services: Services, pool: WorkerPool, doc_id: str, seen: _Watched) -> None:
    """Pages from the shared tally (no store call); the small status marker only when the
    document may have finished (all pages done, no tally yet) or now and then (a failure)."""
    from workers.tasks import pages_with_results  # here: workers.tasks is the page pipeline

    tally = pool.actors.tally
    counts = tally.peek(doc_id) if tally is not None else None
    if counts is not None:
        seen.done, seen.total = min(counts), counts[1]
    elif tally is None:
        seen.done = len(pages_with_results(services, doc_id))  # one listing: no shared tally
    now = time.monotonic()
    may_be_over = counts is None or seen.done >= seen.total
    if may_be_over or now - seen.status_read_at >= STATUS_EVERY_S:
        seen.status_read_at = now
        _read_status(services.records.status(doc_id), seen)


def _read_status(known: RecordStatus | None, seen: _Watched) -> None:
    if known is None:
        return
    seen.total = known.page_count
    if known.status.finished:
        seen.finished, seen.done = True, known.page_count
        seen.sub.seconds = time.perf_counter() - seen.sub.started


def wait_for(
    services: Services, pool: WorkerPool, subs: list[Submission], on_progress: ProgressFn | None
) -> None:
    """Watch until every submitted document is finished (done, partial, failed). With a server
    broker and no progress for a while, say once if no worker consumes the queue (and go on
    waiting: the work is queued, a worker started later does it)."""
    watched = {s.doc_id: _Watched(s) for s in subs if s.needs_work}
    last_change, last_seen = time.monotonic(), None
    pause, max_pause = POLL_S, (POLL_S if pool.embedded else POLL_MAX_S)
    hinted = False
    while True:
        for doc_id, seen in watched.items():
            if not seen.finished:
                _poll(services, pool, doc_id, seen)
        finished = sum(seen.finished for seen in watched.values())
        state = (finished, sum(seen.done for seen in watched.values()))
        if on_progress:
            settled_early = len(subs) - len(watched)  # reused or refused: nothing to wait for
            pages_total = sum(seen.total for seen in watched.values())
            on_progress(Progress(len(subs), finished + settled_early, state[1], pages_total))
        if finished == len(watched):
            return
        quiet_s = time.monotonic() - last_change
        if state != last_seen:
            last_change, last_seen, pause = time.monotonic(), state, POLL_S
        elif pool.embedded and pool.idle() and quiet_s > STALL_S:
            _fail_stalled(services, {doc_id: seen.sub for doc_id, seen in watched.items()})
            return
        elif not hinted and quiet_s > NO_WORKER_HINT_S and pool.worker_seen() is False:
            log.warning("%s", pool.no_worker_message())
            hinted = True
        time.sleep(pause)
        pause = min(pause * 1.5, max_pause)


def _fail_stalled(services: Services, waiting: dict[str, Submission]) -> None:
    for doc_id in waiting:
        doc = services.records.get(doc_id)
        if doc and not doc.status.finished:
            doc.errors.append(ErrorInfo(code="stalled", message="processing stopped unfinished"))
            doc.record_status(DocumentStatus.failed, "processing stopped unfinished")
            services.records.put(doc)


def _not_indexed(doc: Document) -> bool:
    """Finished, but the index was damaged when it was (until `sohoa reindex`)."""
    from workers.tasks import NOT_INDEXED  # here: workers.tasks is the page pipeline

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
