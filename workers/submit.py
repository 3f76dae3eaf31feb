"""Accepting files: the original is stored before anything else happens to it."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.detect import sniff_media_type
from schemas.errors import (
    DamagedRecord,
    EmptyInput,
    InputNotFound,
    NotRegularFile,
    PermissionDenied,
    ReadOnlyData,
    SohoaError,
    UnreadableInput,
)
from schemas.models import Document, DocumentStatus, ErrorInfo
from schemas.redact import redact_url
from storage.keys import original_key
from storage.records import RecordStatus
from workers.access import own, reindex
from workers.inputs import KINDS, Found, Ident, expand_inputs, safe_text
from workers.services import Services

__all__ = ["Submission", "accept", "accept_all", "expand_inputs"]

log = logging.getLogger("sohoa.workers")

CHUNK = 1024 * 1024


@dataclass
class Submission:
    path: Path
    shown: str = ""  # the path as safe text (workers.inputs.safe_text): what rows print
    doc_id: str | None = None
    # new (a partial or failed document ingested again too) | resumed | reused | failed
    # | same (a path to a file this run already took: it shares that row's document and result)
    outcome: str = "new"
    error: ErrorInfo | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "file name not valid UTF-8: …"
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.shown = self.shown or safe_text(str(self.path))[0]

    @property
    def needs_work(self) -> bool:
        """Stored, and its pipeline is still to run (new, or resumed after a stop): the one rule
        for whether a submission is queued, and waited on."""
        return self.doc_id is not None and self.outcome in ("new", "resumed")


def _hash_file(found: Found) -> tuple[str, int, bytes]:
    """SHA-256, size and first bytes. Opened without blocking: a FIFO put in the file's place
    after the walk is refused, never waited on."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        fd = os.open(found.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise _open_error(found.shown, e) from e
    with os.fdopen(fd, "rb") as f:
        kind = KINDS.get(stat.S_IFMT(os.fstat(fd).st_mode))
        if kind is not None:
            raise NotRegularFile(f"not a regular file: {found.shown} is {kind}")
        try:
            while chunk := f.read(CHUNK):
                if not head:
                    head = chunk[:2048]
                digest.update(chunk)
                size += len(chunk)
        except OSError as e:
            raise _open_error(found.shown, e) from e
    if size == 0:
        raise EmptyInput(f"{found.name}: empty file (0 bytes)")
    return digest.hexdigest(), size, head


def _open_error(shown: str, e: OSError) -> SohoaError:
    if e.errno in (errno.EACCES, errno.EPERM):
        return PermissionDenied(f"permission denied: cannot read file {shown}")
    if e.errno == errno.ENOENT:
        return InputNotFound(f"{shown}: no such file")
    if e.errno == errno.EISDIR:
        return UnreadableInput(f"{shown}: is a folder")
    reason, _ = safe_text(e.strerror or type(e).__name__)
    return UnreadableInput(f"{shown}: cannot be read ({reason})")


def accept(
    services: Services, source: Path | Found, name: str | None = None, owner: str | None = None
) -> Submission:
    """Hash, store the original, create or find the record. Never raises for a bad file.

    `source` is a path or what `expand_inputs` found; `name`, when given, is the name the
    file came with (an upload), kept as the record's source name in its safe form. `owner`
    (default: the installation's organ) owns a new record and may see a known one.
    """
    found = source if isinstance(source, Found) else Found.file(Path(source), name=name)
    if name is not None and not isinstance(source, Found):
        # an upload: its temporary path on the server means nothing to the uploader and is
        # not theirs to know; its history and messages name the file it came as
        found = replace(found, shown=found.name)
    sub = Submission(found.path, found.shown, notes=list(found.notes))
    if found.error is not None:
        sub.outcome, sub.error = "failed", found.error
        return sub
    try:
        _store(services, found, sub, services.organ if owner is None else owner)
    except ReadOnlyData:
        raise  # not this file's fault: nothing at all can be stored, the batch stops with why
    except SohoaError as e:
        sub.outcome, sub.error = "failed", ErrorInfo(code=e.code, message=e.message)
    except Exception as e:  # noqa: BLE001 - one file's storage failure must not end the batch
        sub.outcome, sub.error = "failed", _unexpected(found, sub, e)
    return sub


def accept_all(
    services: Services, found: Iterable[Found], owner: str | None = None
) -> list[Submission]:
    """`accept` each, in order. A path named again to a file already accepted in this run
    (`Found.same_as`) shares the first one's document and result without reading it again."""
    subs: list[Submission] = []
    first: dict[Ident, Submission] = {}
    for item in found:
        earlier = first.get(item.ident) if item.same_as is not None and item.ident else None
        if earlier is not None:
            subs.append(_same_file(item, earlier))
            continue
        sub = accept(services, item, owner=owner)
        if item.ident is not None:
            first.setdefault(item.ident, sub)
        subs.append(sub)
    return subs


def _same_file(found: Found, first: Submission) -> Submission:
    note = f"same file as {found.same_as}: taken once"
    return Submission(
        found.path,
        found.shown,
        doc_id=first.doc_id,
        outcome="same",
        error=first.error,
        notes=[*found.notes, note],
    )


def _unexpected(found: Found, sub: Submission, e: Exception) -> ErrorInfo:
    first_line = (str(e).strip().splitlines() or [""])[0][:200]
    detail, _ = safe_text(redact_url(f"{type(e).__name__}: {first_line}"))
    if sub.doc_id is None:
        return ErrorInfo(code="unreadable", message=f"{found.shown}: cannot be read ({detail})")
    return ErrorInfo(
        code="storage",
        message=f"{found.shown}: could not be stored ({detail}); "
        "run the same command again once the store works",
        retryable=True,
    )


def _known_done(services: Services, doc_id: str, known: RecordStatus, now_visible: bool) -> bool:
    """Complete work whose record is intact by its marker's digest, with no new reader to
    index it for: re-ingest of known bytes then reads the small marker and hashes the record
    instead of validating every page's words. Anything else reads the record."""
    if known.status != DocumentStatus.done or now_visible:
        return False
    return services.records.intact(doc_id, known) is True


def _store(services: Services, found: Found, sub: Submission, owner: str) -> None:
    doc_id, size, head = _hash_file(found)
    sub.doc_id = doc_id
    # Whoever holds the same bytes may see the record made of them (docs/access.md).
    now_visible = own(services, doc_id, owner)
    records = services.records
    try:
        known = records.status(doc_id)
        if known is not None and _known_done(services, doc_id, known, now_visible):
            sub.outcome = "reused"  # complete work, its record intact: not read (issue 17)
            return
        existing = records.get(doc_id) if known is not None else None
    except DamagedRecord as e:
        # The original's bytes are the source of truth: a record that cannot be read is made
        # anew from them (page results already stored are reused, not redone).
        log.warning("%s; making it again from the original", e.message)
        sub.notes.append(f"its record was damaged ({e.message}): made again from the original")
        known = existing = None
    if existing is not None and existing.status == DocumentStatus.done:  # complete work only
        sub.outcome = "reused"
        if now_visible:
            reindex(services, existing)  # its new reader finds it
        return
    # An original whose record could not be written (a crash, a full disk) is found here on
    # the next run of the same file and gets its record then: nothing is left orphaned.
    if not services.store.exists(original_key(doc_id)):
        services.store.put_file(original_key(doc_id), found.path)
    if existing is not None and existing.status == DocumentStatus.processing:
        sub.outcome = "resumed"
        return
    doc = existing or Document(id=doc_id, source_name=found.name, media_type="", size_bytes=size)
    note = f"original stored from {found.shown}"
    if existing is not None and existing.status in (DocumentStatus.partial, DocumentStatus.failed):
        # Pages already done are kept; failed ones are done again (tasks.discard_failed_pages).
        note = f"ingested again from {found.shown}: its failed pages are retried"
    doc.record_status(DocumentStatus.received, "; ".join([note, *found.notes]))
    try:
        doc.media_type = sniff_media_type(head, found.name)
    except SohoaError as e:
        doc.errors.append(ErrorInfo(code=e.code, message=e.message))
        doc.record_status(DocumentStatus.failed, e.message)
        sub.outcome, sub.error = "failed", doc.errors[-1]
    records.put(doc)
