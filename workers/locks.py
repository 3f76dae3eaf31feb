"""Read-modify-write of one record by people, without losing a concurrent change.

A record is one JSON object: two corrections of different fields, or a correction and a
dossier change, each reading the record, changing it and writing it back at once would keep
only the last write. Each such change holds a short lock object made with `store.create`
(atomic against every process and machine on the same store) while it reads, changes and
writes. A lock left by a process that died is taken over once it is `STALE_S` old: a change
holds it for milliseconds.

The pipeline's own writes do not take it: a person changes only finished records
(done/partial), which the pipeline no longer writes until the file is ingested again.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from schemas.errors import NotFound, SohoaError
from schemas.models import Document
from storage.keys import record_lock_key
from workers.services import Services

STALE_S = 30.0
WAIT_S = 10.0
PAUSE_S = 0.02


class RecordBusy(SohoaError):
    """Another change of the same record or dossier held it longer than a change takes."""

    code = "record_busy"
    http_status = 503
    retry_after = 1


@contextmanager
def holding(services: Services, key: str) -> Iterator[None]:
    """Hold the lock object `key` (waiting up to WAIT_S for another holder to finish)."""
    store = services.store
    mine = json.dumps({"id": uuid.uuid4().hex, "at": time.time()}).encode()
    deadline = time.monotonic() + WAIT_S
    while not store.create(key, mine):
        _remove_if_stale(services, key)
        if time.monotonic() > deadline:
            raise RecordBusy("someone else is changing this right now; try again")
        time.sleep(PAUSE_S)
    try:
        yield
    finally:
        _release(services, key, mine)


def update_record(services: Services, doc_id: str, change: Callable[[Document], bool]) -> Document:
    """Read the record, let `change` modify it (True: it did), write it back if it did, all
    under the record's lock. Returns the record as written (or as read, unchanged)."""
    with holding(services, record_lock_key(doc_id)):
        doc = services.records.require(doc_id)
        if change(doc):
            services.records.put(doc)
        return doc


def _remove_if_stale(services: Services, key: str) -> None:
    try:
        held = json.loads(services.store.get_bytes(key))
    except NotFound:
        return  # released meanwhile: the next create takes it
    except ValueError:
        held = {"at": 0}  # a cut lock object: whoever wrote it is gone
    if time.time() - float(held.get("at", 0)) > STALE_S:
        services.store.delete(key)


def _release(services: Services, key: str, mine: bytes) -> None:
    """Remove the lock if it is still ours (a stale one may have been taken over)."""
    try:
        if services.store.get_bytes(key) == mine:
            services.store.delete(key)
    except NotFound:
        pass
