"""Fixity: the stored bytes still what they were (docs/preservation.md, "Fixity").

Each document's objects are streamed from the store itself (the S3 server, never the local
cache of originals) through SHA-256:

- its original against its content address (the document id is the SHA-256 of its bytes);
- its derived files (`derived/<id>/…`: the searchable PDF, page results and page PDFs)
  against the hashes recorded by the first check after the pipeline wrote them
  (`fixity/derived/<id>.json`, tied to the pipeline's last step: a re-run re-records them).
  What changed before that first check cannot be told from a legitimate output.

A mismatch or a missing object is reported per document, written to the audit log and kept
on the record (`Document.fixity_failed`); a later clean check clears it. The last run's
summary is `fixity/last.json`, shown by `sohoa status` and the admin status page.

The schedule: `sohoa worker` (and each Dramatiq worker process) ticks a `FixityTimer`;
every `every_hours` one of them wins the slot (a write-once object) and checks the next
share of the records, sized so that all are checked within `period_days`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydField

from schemas.errors import DamagedRecord, NotFound, SohoaError
from schemas.models import Document, utcnow
from storage.digest import CHUNK
from storage.keys import assembly_claim_key, original_key, pdf_key
from workers.locks import update_record
from workers.services import Services

log = logging.getLogger("sohoa.fixity")

LAST_KEY = "fixity/last.json"
CURSOR_KEY = "fixity/cursor.json"


def derived_key(doc_id: str) -> str:
    return f"fixity/derived/{doc_id}.json"


def slot_key(slot: int) -> str:
    return f"fixity/slots/{slot}"


class FixityProblem(BaseModel):
    doc_id: str
    key: str
    kind: str  # mismatch | missing | damaged
    detail: str = ""

    def line(self) -> str:
        return f"{self.key}: {self.kind}{' (' + self.detail + ')' if self.detail else ''}"


class FixityResult(BaseModel):
    scope: str  # all | sample N | since DATE | share k of n
    started_at: datetime = PydField(default_factory=utcnow)
    finished_at: datetime | None = None
    documents: int = 0
    objects: int = 0
    bytes: int = 0
    problems: list[FixityProblem] = PydField(default_factory=list)
    cpu_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def failed_documents(self) -> list[str]:
        return list(dict.fromkeys(p.doc_id for p in self.problems))


class DerivedHashes(BaseModel):
    """The derived files' hashes, as first seen after the pipeline's step `step`."""

    step: str
    hashes: dict[str, str]


@dataclass(frozen=True)
class FixitySchedule:
    every_hours: float = 24.0  # a share is checked this often (0: never by the workers)
    period_days: float = 30.0  # every record within this period

    def share(self, total: int) -> int:
        if total <= 0:
            return 0
        runs = max(1.0, self.period_days * 24 / self.every_hours)
        return max(1, math.ceil(total / runs))


# ------------------------------------------------------------------ one document


def _digest(services: Services, key: str) -> tuple[str, int] | None:
    """SHA-256 and size of a stored object, streamed; None when it is not there."""
    digest = hashlib.sha256()
    size = 0
    try:
        with services.store.open(key) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except NotFound:
        return None
    return digest.hexdigest(), size


def _pipeline_step(doc: Document) -> str:
    """When the pipeline last wrote the document's outputs (people's edits do not count)."""
    steps = [h.at for h in doc.history if h.editor is None]
    return max(steps).isoformat() if steps else doc.created_at.isoformat()


def _derived_keys(services: Services, doc: Document) -> list[str]:
    claim = assembly_claim_key(doc.id)
    found = [k for k in services.store.list(f"derived/{doc.id}/") if k != claim]
    if doc.pdfa is not None and pdf_key(doc.id) not in found:
        found.append(pdf_key(doc.id))  # a PDF was written: its absence is a finding
    return sorted(found)


def _recorded(services: Services, doc: Document) -> DerivedHashes | None:
    try:
        known = DerivedHashes.model_validate_json(services.store.get_bytes(derived_key(doc.id)))
    except (NotFound, ValueError):
        return None
    return known if known.step == _pipeline_step(doc) else None


class _Check:
    def __init__(self, services: Services, result: FixityResult) -> None:
        self.services = services
        self.result = result

    def problem(self, doc_id: str, key: str, kind: str, detail: str = "") -> FixityProblem:
        found = FixityProblem(doc_id=doc_id, key=key, kind=kind, detail=detail)
        self.result.problems.append(found)
        return found

    def hashed(self, key: str) -> tuple[str, int] | None:
        got = _digest(self.services, key)
        if got is not None:
            self.result.objects += 1
            self.result.bytes += got[1]
        return got

    def document(self, doc: Document) -> list[FixityProblem]:
        found: list[FixityProblem] = []
        if doc.source_id is None:  # a document cut from a scan has no original of its own
            key = original_key(doc.id)
            got = self.hashed(key)
            if got is None:
                found.append(self.problem(doc.id, key, "missing"))
            elif got[0] != doc.id:
                found.append(self.problem(doc.id, key, "mismatch", f"SHA-256 {got[0]}"))
        found += self.derived(doc)
        return found

    def derived(self, doc: Document) -> list[FixityProblem]:
        found = []
        recorded = _recorded(self.services, doc)
        now: dict[str, str] = {}
        keys = sorted(
            set(_derived_keys(self.services, doc)) | set(recorded.hashes if recorded else ())
        )
        for key in keys:
            got = self.hashed(key)
            if got is None:
                found.append(self.problem(doc.id, key, "missing"))
                continue
            now[key] = got[0]
            expected = recorded.hashes.get(key) if recorded else None
            if expected is not None and expected != got[0]:
                found.append(self.problem(doc.id, key, "mismatch", f"recorded {expected}"))
        if recorded is None and not found:  # first check after the pipeline: record them
            body = DerivedHashes(step=_pipeline_step(doc), hashes=now).model_dump_json()
            self.services.store.put_bytes(derived_key(doc.id), body.encode())
        return found


# ------------------------------------------------------------------ a run


def _mark(services: Services, doc_id: str, lines: list[str]) -> None:
    """Keep what was found on the record (or clear an old finding), under its lock."""

    def change(doc: Document) -> bool:
        if doc.fixity_failed == lines:
            return False
        doc.fixity_failed = lines
        return True

    update_record(services, doc_id, change)


def _check_one(
    services: Services,
    checker: _Check,
    audit: Any,  # exchange.audit.AuditLog, imported on use by `check`
    doc_id: str,
    since: datetime | None,
) -> list[FixityProblem] | None:
    """One document checked, audited and marked; None when it was not checked."""
    try:
        doc = services.records.get(doc_id)
    except DamagedRecord as e:
        problem = checker.problem(doc_id, f"records/{doc_id}.json", "damaged", e.message)
        audit.append("-", "fixity_failed", doc_id, problems=[problem.line()])
        return None
    if doc is None or (since is not None and doc.updated_at < since):
        return None
    checker.result.documents += 1
    found = checker.document(doc)
    lines = [p.line() for p in found]
    if found:
        audit.append("-", "fixity_failed", doc_id, problems=lines)
    if found or doc.fixity_failed:
        _mark(services, doc_id, lines)
    return found


def check(
    services: Services,
    doc_ids: Iterable[str],
    scope: str,
    *,
    since: datetime | None = None,
    on_document: Callable[[str, list[FixityProblem]], None] | None = None,
    on_progress: Callable[[int, FixityResult], None] | None = None,
) -> FixityResult:
    """Check the documents `doc_ids` (one record read at a time); audit and mark findings.
    `on_progress(ids seen, result so far)` after each id, checked or skipped (a bar)."""
    from exchange.audit import AuditLog  # imported on use, as the exchange does

    audit = AuditLog.for_options(services.store, services.exchange)
    result = FixityResult(scope=scope)
    cpu = time.process_time()
    checker = _Check(services, result)
    for seen, doc_id in enumerate(doc_ids, start=1):
        found = _check_one(services, checker, audit, doc_id, since)
        if found is not None and on_document is not None:
            on_document(doc_id, found)
        if on_progress is not None:
            on_progress(seen, result)
    result.finished_at = utcnow()
    result.cpu_s = time.process_time() - cpu
    audit.append(
        "-",
        "fixity",
        scope,
        documents=result.documents,
        objects=result.objects,
        problems=len(result.problems),
    )
    services.store.put_bytes(LAST_KEY, result.model_dump_json().encode())
    return result


def sample(services: Services, n: int) -> list[str]:
    ids = list(services.records.ids())
    return random.sample(ids, min(n, len(ids)))


def last_result(services: Services) -> FixityResult | None:
    try:
        return FixityResult.model_validate_json(services.store.get_bytes(LAST_KEY))
    except (NotFound, ValueError):
        return None


# ------------------------------------------------------------------ the schedule


def next_share(services: Services, schedule: FixitySchedule) -> tuple[list[str], str]:
    """The next share of the records after the cursor, wrapping round; and the scope."""
    ids = sorted(services.records.ids())
    size = schedule.share(len(ids))
    try:
        after = json.loads(services.store.get_bytes(CURSOR_KEY))["after"]
    except (NotFound, ValueError, KeyError):
        after = ""
    start = next((n for n, i in enumerate(ids) if i > after), 0)
    chosen = [ids[(start + k) % len(ids)] for k in range(min(size, len(ids)))]
    return chosen, f"share {len(chosen)} of {len(ids)}"


def run_due(
    services: Services, schedule: FixitySchedule, now: float | None = None
) -> FixityResult | None:
    """The scheduled share, if this slot's run has not been taken by another worker."""
    if schedule.every_hours <= 0:
        return None
    slot = int((now if now is not None else time.time()) // (schedule.every_hours * 3600))
    if not services.store.create(slot_key(slot), str(slot).encode()):
        return None
    chosen, scope = next_share(services, schedule)
    result = check(services, chosen, scope)
    if chosen:
        body = json.dumps({"after": chosen[-1]}).encode()
        services.store.put_bytes(CURSOR_KEY, body)
    return result


class FixityTimer:
    """`run_due` at most once per slot from this process: a worker's loop ticks it often."""

    def __init__(self, services: Services, schedule: FixitySchedule) -> None:
        self.services = services
        self.schedule = schedule
        self._slot: int | None = None

    def tick(self, now: float | None = None) -> FixityResult | None:
        if self.schedule.every_hours <= 0:
            return None
        moment = now if now is not None else time.time()
        slot = int(moment // (self.schedule.every_hours * 3600))
        if slot == self._slot:
            return None
        self._slot = slot
        try:
            return run_due(self.services, self.schedule, moment)
        except (SohoaError, OSError) as e:  # a store unreachable or read-only: next slot
            log.warning("scheduled fixity check not run: %s", getattr(e, "message", e))
            return None

    def in_background(self, interval_s: float = 60.0) -> threading.Thread:
        """A daemon thread ticking every `interval_s` (Dramatiq worker processes)."""

        def loop() -> None:
            while True:
                self.tick()
                time.sleep(interval_s)

        thread = threading.Thread(target=loop, name="sohoa-fixity", daemon=True)
        thread.start()
        return thread
