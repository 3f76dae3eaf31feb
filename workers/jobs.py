"""Use cases, start to end: what the CLI and the API ask for. They return what happened; the
surface that asked only renders it (a table, JSON lines, an HTTP body) and picks an exit code."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from schemas.models import Document, DocumentStatus, Dossier, ErrorInfo
from workers.access import require_organ
from workers.batch import ProgressFn, enqueue, outcome, wait_for
from workers.dossiers import file_documents
from workers.inputs import Found
from workers.runtime import WorkerPool
from workers.services import Services
from workers.submit import Submission, accept, accept_all, expand_inputs

# Called once the batch has work, with the number of files: a progress callback for the wait
# (a progress bar opened and closed around it, say).
Watch = Callable[[int], AbstractContextManager[ProgressFn]]

FILED = ("ok", "reused", "partial")  # results whose document goes into the dossier
SUCCEEDED = ("ok", "reused")


class FileResult(NamedTuple):
    """One file's row: what was submitted and the final word on it (batch.outcome)."""

    sub: Submission
    result: str
    doc: Document | None
    error: ErrorInfo | None


@dataclass
class IngestReport:
    rows: list[FileResult]  # one per path found, even the bad ones; empty: nothing to ingest
    seconds: float
    dossier: Dossier | None = None  # the dossier the documents were filed into, if one was named

    @property
    def succeeded(self) -> bool:
        return all(row.result in SUCCEEDED for row in self.rows)


def ingest_batch(
    services: Services,
    inputs: list[str],
    *,
    broker: str = "",
    threads: int | None = None,
    dossier: str | None = None,
    title: str | None = None,
    watch: Watch | None = None,
    owner: str | None = None,
    pool: WorkerPool | None = None,
) -> IngestReport:
    """Store every file named, OCR and index what needs it, file the finished documents into
    `dossier` (made on first use, titled `title`); new records are owned by the organ `owner`
    (default: the installation's, `services.organ`). With a server `broker` the work is done by
    `sohoa worker` processes and this one only submits and waits; without, by `threads` here.
    A running `pool` (the scanner folder's watcher keeps one) is used instead of a new one."""
    services.index.count()  # an unusable index stops the batch here, before any work
    if owner is not None:  # an organ the registry does not hold stops it too
        owner = require_organ(services, owner)
    started = time.perf_counter()
    # Originals stored before anything else; every path named gives rows, even the bad ones.
    subs = accept_all(services, expand_inputs(inputs), owner=owner)
    if not subs:
        return IngestReport([], time.perf_counter() - started)
    if pool is not None:
        enqueue(pool, subs)
        wait_for(services, pool, subs, None)
    elif any(sub.needs_work for sub in subs):
        _process(services, subs, broker, threads, watch)
    seconds = time.perf_counter() - started
    rows = [FileResult(sub, *outcome(services, sub)) for sub in subs]
    filed = None
    if dossier:
        # once each: one file may be named by several paths
        finished = dict.fromkeys(row.sub.doc_id for row in rows if row.result in FILED)
        filed = file_documents(services, dossier, title, list(finished))
    return IngestReport(rows, seconds, filed)


def _process(
    services: Services,
    subs: list[Submission],
    broker: str,
    threads: int | None,
    watch: Watch | None,
) -> None:
    with WorkerPool(services, broker, threads, consume=not broker) as pool:
        enqueue(pool, subs)
        if watch is None:
            wait_for(services, pool, subs, None)
            return
        with watch(len(subs)) as on_progress:
            wait_for(services, pool, subs, on_progress)


def submit(
    services: Services,
    pool: WorkerPool,
    source: Path | Found,
    name: str | None = None,
    owner: str | None = None,
) -> Submission:
    """Store one file and queue its work when it has any (an upload: `name` is the name it came
    with, `owner` the uploader's organ); the caller polls its record for progress."""
    sub = accept(services, source, name=name, owner=owner)
    enqueue(pool, [sub])
    return sub


def resume_unfinished(services: Services, pool: WorkerPool) -> int:
    """Documents a stopped run left received or processing go to the workers again (every
    step is idempotent); how many."""
    unfinished = [
        doc.id
        for doc in services.records.all()
        if doc.status in (DocumentStatus.received, DocumentStatus.processing)
    ]
    for doc_id in unfinished:
        pool.actors.ingest.send(doc_id)
    return len(unfinished)
