"""Accepting files: the original is stored before anything else happens to it."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

from pipeline.detect import SUFFIXES, sniff_media_type
from schemas.errors import EmptyInput, InputNotFound, SohoaError, UnreadableInput
from schemas.models import Document, DocumentStatus, ErrorInfo
from storage.keys import original_key
from workers.services import Services

CHUNK = 1024 * 1024


@dataclass
class Submission:
    path: Path
    doc_id: str | None = None
    # new (a partial or failed document ingested again too) | resumed | reused | failed
    outcome: str = "new"
    error: ErrorInfo | None = None
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)


def expand_inputs(inputs: Iterable[str]) -> Iterator[Path]:
    """Files, folders (recursively, supported suffixes only) and glob patterns, in order."""
    seen: set[Path] = set()
    for raw in inputs:
        matches = sorted(glob(raw, recursive=True)) if any(c in raw for c in "*?[") else [raw]  # noqa: PTH207
        for match in matches or [raw]:
            for path in _walk(Path(match)):
                key = path.resolve() if path.exists() else path
                if key not in seen:
                    seen.add(key)
                    yield path


def _walk(path: Path) -> Iterator[Path]:
    if not path.is_dir():
        yield path
        return
    for root, dirs, files in os.walk(path, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in SUFFIXES:
                yield Path(root) / name


def _hash_file(path: Path) -> tuple[str, int, bytes]:
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                if not head:
                    head = chunk[:2048]
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError as e:
        raise InputNotFound(f"{path}: no such file") from e
    except IsADirectoryError as e:
        raise UnreadableInput(f"{path}: is a folder") from e
    except OSError as e:
        raise UnreadableInput(f"{path}: cannot be read ({e.strerror or e})") from e
    if size == 0:
        raise EmptyInput(f"{path.name}: empty file (0 bytes)")
    return digest.hexdigest(), size, head


def accept(services: Services, path: Path) -> Submission:
    """Hash, store the original, create or find the record. Never raises for a bad file."""
    sub = Submission(path)
    try:
        doc_id, size, head = _hash_file(path)
    except SohoaError as e:
        sub.outcome, sub.error = "failed", ErrorInfo(code=e.code, message=e.message)
        return sub
    sub.doc_id = doc_id
    records = services.records
    known = records.status(doc_id)
    if known is not None and known.status == DocumentStatus.done:  # complete work only
        sub.outcome = "reused"
        return sub
    existing = records.get(doc_id) if known is not None else None
    if not services.store.exists(original_key(doc_id)):
        services.store.put_file(original_key(doc_id), path)
    if existing is not None and existing.status == DocumentStatus.processing:
        sub.outcome = "resumed"
        return sub
    doc = existing or Document(id=doc_id, source_name=path.name, media_type="", size_bytes=size)
    note = f"original stored from {path}"
    if existing is not None and existing.status in (DocumentStatus.partial, DocumentStatus.failed):
        # Pages already done are kept; failed ones are done again (tasks.discard_failed_pages).
        note = f"ingested again from {path}: its failed pages are retried"
    doc.record_status(DocumentStatus.received, note)
    try:
        doc.media_type = sniff_media_type(head, path.name)
    except SohoaError as e:
        doc.errors.append(ErrorInfo(code=e.code, message=e.message))
        doc.record_status(DocumentStatus.failed, e.message)
        sub.outcome, sub.error = "failed", doc.errors[-1]
    records.put(doc)
    return sub
