"""Upload batches of the web page (app/web/upload.py): started by one person, files added as
they are uploaded, read back with each file's progress and result. A batch belongs to its
uploader's organ: any other caller is told it does not exist, like a record it cannot see."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from schemas.access import Viewer
from schemas.batches import Batch, BatchFile
from schemas.errors import NotFound
from schemas.models import Dossier
from storage.batches import BatchStore
from storage.dossiers import check_file_code
from storage.keys import batch_lock_key
from workers.access import require_visible
from workers.batch import outcome
from workers.dossiers import add_to_dossier
from workers.jobs import FILED
from workers.locks import holding
from workers.retry import progress
from workers.runtime import WorkerPool
from workers.services import Services
from workers.submit import Submission

RECENT = 50  # batches listed on /batches


@dataclass
class BatchRow:
    """One file of a batch as the page shows it."""

    name: str
    document_id: str | None
    status: str  # the record's: received | processing | done | partial | failed ("" if none)
    page_count: int
    pages_done: int
    result: str  # pending | ok | reused | partial | failed | not indexed
    reason: str  # why partial or failed
    dossier: str | None = None  # the dossier its record is filed in

    @property
    def retryable(self) -> bool:
        return self.document_id is not None and self.result in ("partial", "failed")


def start_batch(
    services: Services, *, login: str, organ: str, dossier: str | None, title: str | None
) -> Batch:
    """A new empty batch of `organ`; a dossier code is checked now, not when filing."""
    now = datetime.now(UTC)
    batch = Batch(
        id=f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}",
        login=login,
        organ=organ,
        created=now,
        dossier=check_file_code(dossier) if dossier else None,
        title=title or None,
    )
    BatchStore(services.store).put(batch)
    return batch


def require_batch(services: Services, viewer: Viewer, batch_id: str) -> Batch:
    batch = BatchStore(services.store).require(batch_id)
    if not (viewer.unrestricted or batch.organ in (viewer.organs or ())):
        raise NotFound(f"no batch {batch_id!r}")
    return batch


def add_files(services: Services, viewer: Viewer, batch_id: str, files: list[BatchFile]) -> Batch:
    """Append files to the batch: their documents must be visible to `viewer` (NotFound)."""
    for file in files:
        if file.document_id is not None:
            file.document_id = require_visible(services, viewer, file.document_id).id
    with holding(services, batch_lock_key(batch_id)):
        batch = require_batch(services, viewer, batch_id)
        batch.files.extend(files)
        BatchStore(services.store).put(batch)
    return batch


def recent_batches(services: Services, viewer: Viewer) -> list[Batch]:
    """The newest RECENT batches `viewer` may see."""
    seen = []
    for batch in BatchStore(services.store).newest_first():
        if viewer.unrestricted or batch.organ in (viewer.organs or ()):
            seen.append(batch)
            if len(seen) == RECENT:
                break
    return seen


def batch_rows(
    services: Services, pool: WorkerPool, viewer: Viewer, batch: Batch
) -> list[BatchRow]:
    return [_row(services, pool, viewer, f) for f in batch.files]


def _row(services: Services, pool: WorkerPool, viewer: Viewer, file: BatchFile) -> BatchRow:
    if file.document_id is None:
        return BatchRow(file.name, None, "", 0, 0, "failed", file.error or "refused")
    try:
        now = progress(services, pool, viewer, file.document_id)
    except NotFound as gone:  # no longer visible, or removed
        return BatchRow(file.name, None, "", 0, 0, "failed", gone.message)
    row = BatchRow(
        file.name, file.document_id, now.status, now.page_count, now.pages_done, "pending", ""
    )
    if now.status in ("done", "partial", "failed"):
        # the CLI's final word on a file (workers.batch.outcome), from the upload's answer
        sub = Submission(Path(file.name), doc_id=file.document_id, outcome=file.outcome)
        row.result, doc, error = outcome(services, sub)
        row.reason = error.message if error else ""
        row.dossier = doc.dossier if doc else None
    return row


def file_finished(
    services: Services, pool: WorkerPool, viewer: Viewer, batch: Batch
) -> Dossier | None:
    """File the batch's finished documents (ok, reused, partial) into its dossier; None when
    it names none or nothing is finished yet."""
    rows = batch_rows(services, pool, viewer, batch)
    finished = [r.document_id for r in rows if r.document_id and r.result in FILED]
    if not batch.dossier or not finished:
        return None
    return add_to_dossier(services, viewer, batch.dossier, batch.title, finished)
