"""Append-only, hash-chained audit log in the object store (`exchange/audit/<seq>.json`).

Each entry holds the SHA-256 of the entry before it and its own hash over its canonical JSON,
so editing, removing or reordering any entry breaks the chain from that entry on;
`sohoa audit verify` names the first entry that does not hold.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydField

from schemas.errors import NotFound, SohoaError
from schemas.models import utcnow
from storage.base import ObjectStore

PREFIX = "exchange/audit/"
GENESIS = "0" * 64


class AuditError(SohoaError):
    code = "audit"


class AuditEntry(BaseModel):
    seq: int
    at: datetime = PydField(default_factory=utcnow)
    organ_id: str  # who acted ("-" for the system)
    action: str  # read | send | receive | reject | status | recall | keys | …
    target: str = ""  # message id, document id, organ id
    detail: dict[str, Any] = PydField(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""

    def compute_hash(self) -> str:
        body = self.model_dump(mode="json", exclude={"hash"})
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def entry_key(seq: int) -> str:
    return f"{PREFIX}{seq:012d}.json"


_PROCESS_LOCK = threading.Lock()  # every AuditLog of this process appends one at a time


class AuditLog:
    """Entries are created write-once (`ObjectStore.create`), so appends from any number of
    processes and machines form one chain. `lock_path`: a file the processes of one machine
    lock while appending, so they queue instead of retrying."""

    def __init__(self, store: ObjectStore, lock_path: Path | None = None) -> None:
        self.store = store
        self.lock_path = lock_path
        self._head: tuple[int, str] | None = None  # last (seq, hash) this process wrote

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with _PROCESS_LOCK:
            if self.lock_path is None:
                yield
                return
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            with self.lock_path.open("a") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)

    def _scan_head(self) -> tuple[int, str]:
        keys = [k for k in self.store.list(PREFIX) if k.endswith(".json")]
        if not keys:
            return 0, GENESIS
        last = AuditEntry.model_validate_json(self.store.get_bytes(max(keys)))
        return last.seq, last.hash

    def _current_head(self) -> tuple[int, str]:
        """The last entry: from what this process wrote, catching up on what others appended
        by probing the next numbers (one listing only when nothing is known)."""
        if self._head is None:
            return self._scan_head()
        seq = self._head[0]
        while self.store.exists(entry_key(seq + 1)):
            seq += 1
        try:
            stored = AuditEntry.model_validate_json(self.store.get_bytes(entry_key(seq)))
        except NotFound:
            return self._scan_head()
        return stored.seq, stored.hash

    def append(self, organ_id: str, action: str, target: str = "", **detail: Any) -> AuditEntry:
        with self._locked():
            for _ in range(20):
                seq, prev = self._current_head()
                entry = AuditEntry(
                    seq=seq + 1,
                    organ_id=organ_id,
                    action=action,
                    target=target,
                    detail=detail,
                    prev=prev,
                )
                entry.hash = entry.compute_hash()
                # Write-once: of processes (on any machine) taking the same number at the
                # same moment, one creates the entry and the others take the next number.
                if self.store.create(entry_key(entry.seq), entry.model_dump_json().encode()):
                    self._head = (entry.seq, entry.hash)
                    return entry
                self._head = None
            raise AuditError("audit log busy: could not append after 20 attempts")

    def entries(self) -> list[AuditEntry]:
        out = []
        for key in sorted(k for k in self.store.list(PREFIX) if k.endswith(".json")):
            try:
                out.append(AuditEntry.model_validate_json(self.store.get_bytes(key)))
            except NotFound:
                continue
            except ValueError as e:
                raise AuditError(f"audit entry {key} is not a valid entry: {e}") from e
        return out

    def verify(self) -> tuple[int, str | None]:
        """(entries checked, None) when the chain holds; else the first bad entry, explained."""
        prev, expected = GENESIS, 1
        keys = sorted(k for k in self.store.list(PREFIX) if k.endswith(".json"))
        for count, key in enumerate(keys, start=1):
            try:
                entry = AuditEntry.model_validate_json(self.store.get_bytes(key))
            except ValueError:
                return count - 1, f"entry {key.removeprefix(PREFIX)} is not valid JSON"
            where = f"entry {entry.seq} ({entry.action} {entry.target} by {entry.organ_id})"
            if key != entry_key(entry.seq) or entry.seq != expected:
                return count - 1, f"entry {expected} is missing or out of order (found {key})"
            if entry.compute_hash() != entry.hash:
                return count - 1, f"{where} was altered: its hash does not match its content"
            if entry.prev != prev:
                return count - 1, f"{where} does not follow entry {expected - 1}: chain broken"
            prev, expected = entry.hash, expected + 1
        return len(keys), None
