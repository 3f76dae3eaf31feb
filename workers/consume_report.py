"""Where a consumed file's outcome is told: the web application's batches page (one batch per
watched subfolder, owner organ and day: workers/batches.py shows it like an upload batch) and
the audit log (`consumed`, `consume-failed`). Both are written before the file is moved out of
processing/, so a stop in between does them again on start: a batch holds one row per file and
document (never two), the audit log says what was attempted (at least once)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from exchange.audit import AuditLog
from schemas.batches import Batch, BatchFile
from schemas.errors import NotFound
from storage.batches import BatchStore
from storage.keys import batch_lock_key
from workers.inputs import safe_text
from workers.locks import holding
from workers.services import Services

CONSUMED, CONSUME_FAILED = "consumed", "consume-failed"


def batch_name(root: Path, rel: Path) -> str:
    """`FOLDER/SUBFOLDER` of the file (`FOLDER/.` for a file at the top), as safe text: a
    name's bytes may not be UTF-8 (a Windows scanner's code page) or hold a newline."""
    return safe_text(f"{root.name}/{rel.parts[0] if len(rel.parts) > 1 else '.'}")[0]


def folder_batch_id(root: Path, name: str, organ: str, now: datetime) -> str:
    """The same id all day for one folder and organ (the id's time part sorts it first of
    its day on the batches page; `created` keeps the real time)."""
    seed = f"{root}|{name}|{organ}|{now:%Y-%m-%d}".encode("utf-8", "surrogateescape")
    return f"{now:%Y%m%d}T000000-{hashlib.sha256(seed).hexdigest()[:8]}"


def record_in_batch(
    services: Services,
    root: Path,
    rel: Path,
    organ: str,
    entry: BatchFile,
    dossier: str | None = None,
    title: str | None = None,
) -> str:
    """Add the file to its folder's batch of today (made on first use); the batch id."""
    now = datetime.now(UTC)
    name = batch_name(root, rel)
    batch_id = folder_batch_id(root, name, organ, now)
    batches = BatchStore(services.store)
    with holding(services, batch_lock_key(batch_id)):
        try:
            batch = batches.require(batch_id)
        except NotFound:
            batch = Batch(
                id=batch_id,
                login=f"scanner folder {name}",
                organ=organ,
                created=now,
                dossier=dossier,
                title=title if dossier else None,
            )
        if not any(
            f.name == entry.name and f.document_id == entry.document_id for f in batch.files
        ):
            batch.files.append(entry)
            batches.put(batch)
    return batch_id


class ConsumeAudit:
    def __init__(self, services: Services) -> None:
        self.log = AuditLog.for_options(services.store, services.exchange)

    def consumed(self, organ: str, doc_id: str, file: str, result: str, batch: str) -> None:
        self.log.append(organ or "-", CONSUMED, doc_id, file=file, result=result, batch=batch)

    def failed(self, organ: str, target: str, file: str, reason: str) -> None:
        self.log.append(organ or "-", CONSUME_FAILED, target, file=file, reason=reason[:500])
