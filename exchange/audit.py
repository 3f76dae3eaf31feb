"""Append-only, hash-chained audit log in the object store (`exchange/audit/<seq>.json`),
anchored by signed checkpoints (`exchange/audit-checkpoints/<n>.json`).

Each entry holds the SHA-256 of the entry before it and its own hash over its canonical JSON,
so editing, removing or reordering any entry breaks the chain from that entry on. A chain alone
cannot show that its newest entries were removed, or that it was rewritten from some entry on
and re-hashed: it is still a chain. So a checkpoint {entry count, hash of that entry, time,
previous checkpoint's digest} is signed with the installation's audit key (kept out of the
store) and created write-once, every `every` entries or `interval` of time when entries are
appended, and at every `sohoa audit verify`. Verify checks the chain, every checkpoint's
signature and link, and that the chain still holds each checkpointed prefix; the newest
checkpoint this machine wrote or verified is also kept in its data folder, so deleting the
newest checkpoints from the store is seen too. Checkpoint 1 is written with entry 1, so entries
without any checkpoint (or a first checkpoint over more entries) mean checkpoints were deleted.
Verify writes a checkpoint only over a log that passed every check. What it still cannot see:
docs/exchange.md.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import BaseModel
from pydantic import Field as PydField

from exchange.messages import AUDIT_CHECKPOINTS as CHECKPOINTS
from exchange.messages import AUDIT_ENTRIES as PREFIX
from exchange.messages import AUDIT_KEY as KEY_OBJECT
from exchange.options import ExchangeOptions
from exchange.signing import installation_key
from schemas.errors import NotFound, SohoaError
from schemas.models import utcnow
from storage.base import ObjectStore

log = logging.getLogger("sohoa.audit")

ANCHOR_FILE = "audit-anchor.json"  # in the keys folder: the newest checkpoint this machine knows
GENESIS = "0" * 64


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


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
        return hashlib.sha256(_canonical(body)).hexdigest()


def entry_key(seq: int) -> str:
    return f"{PREFIX}{seq:012d}.json"


class Checkpoint(BaseModel):
    """A signed statement: the log had `count` entries, the last with hash `head`, at `at`."""

    n: int  # checkpoints are numbered 1, 2, … like entries, each created write-once
    count: int
    head: str
    at: datetime
    prev: str = GENESIS  # digest() of checkpoint n - 1
    key: str  # fingerprint() of the public key that signed it
    signature: str = ""  # base64 Ed25519 over everything above

    def signed_bytes(self) -> bytes:
        return _canonical(self.model_dump(mode="json", exclude={"signature"}))

    def digest(self) -> str:
        return hashlib.sha256(_canonical(self.model_dump(mode="json"))).hexdigest()

    def signed_by(self, public: ed25519.Ed25519PublicKey) -> bool:
        if self.key != fingerprint(public):
            return False
        try:
            public.verify(base64.b64decode(self.signature, validate=True), self.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True

    def describe(self) -> str:
        return f"checkpoint {self.n} ({self.count} entries, {self.at:%Y-%m-%d %H:%M:%S} UTC)"


def checkpoint_key(n: int) -> str:
    return f"{CHECKPOINTS}{n:012d}.json"


def fingerprint(public: ed25519.Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public: ed25519.Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load_public(pem: bytes) -> ed25519.Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as e:
        raise AuditError(f"{KEY_OBJECT} in the store is not a public key: it was altered") from e
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise AuditError(f"{KEY_OBJECT} in the store is not an Ed25519 key: it was replaced")
    return key


@dataclass
class AuditReport:
    """What `verify_and_checkpoint` found: `problem` is None when everything holds."""

    entries: int  # entries verified (before the problem, if any)
    problem: str | None = None
    head: str = GENESIS  # hash of the last entry verified
    checkpoints: int = 0  # checkpoints verified
    latest: Checkpoint | None = None  # the newest checkpoint verified
    written: Checkpoint | None = None  # the checkpoint this verify wrote
    note: str = ""  # why no checkpoint was written, when one was due

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_json(self) -> dict[str, Any]:
        def cp(c: Checkpoint | None) -> dict[str, Any] | None:
            return None if c is None else c.model_dump(mode="json", include={"n", "count", "at"})

        return {
            "ok": self.ok,
            "entries": self.entries,
            "problem": self.problem,
            "checkpoints": self.checkpoints,
            "latest_checkpoint": cp(self.latest),
            "checkpoint_written": cp(self.written),
            "note": self.note or None,
        }


_PROCESS_LOCK = threading.Lock()  # every AuditLog of this process appends one at a time
# What is written after the newest checkpoint can still be cut off unseen, so the window is
# kept small. A checkpoint costs about what one entry does (one Ed25519 signature, ~0.1 ms, and
# a few small requests): measured on the S3 server, 200 appends took 4.6-5.2 ms each without
# checkpoints, 4.6-6.2 with one every 20, 10.7-15 with one every entry. So every 20 entries
# (~5 % more audit writes), and after 5 minutes for quiet installations, where 20 entries
# may take hours.
CHECKPOINT_EVERY = 20  # entries; SOHOA_AUDIT_CHECKPOINT_EVERY
CHECKPOINT_MINUTES = 5.0  # SOHOA_AUDIT_CHECKPOINT_MINUTES


class AuditLog:
    """Entries are created write-once (`ObjectStore.create`), so appends from any number of
    processes and machines form one chain. `lock_path`: a file the processes of one machine
    lock while appending, so they queue instead of retrying. `keys_dir`: where the
    installation's audit key and this machine's newest checkpoint live; without it the log
    writes no checkpoints and trusts the public key recorded in the store."""

    def __init__(
        self,
        store: ObjectStore,
        lock_path: Path | None = None,
        *,
        keys_dir: Path | None = None,
        every: int = CHECKPOINT_EVERY,
        interval: timedelta = timedelta(minutes=CHECKPOINT_MINUTES),
    ) -> None:
        self.store = store
        self.lock_path = lock_path
        self.keys_dir = Path(keys_dir) if keys_dir is not None else None
        self.every = every
        self.interval = interval
        self._head: tuple[int, str] | None = None  # last (seq, hash) this process wrote
        self._key: ed25519.Ed25519PrivateKey | None = None  # checked against the store's

    @classmethod
    def for_options(cls, store: ObjectStore, options: ExchangeOptions) -> AuditLog:
        keys_dir = Path(options.keys_dir)
        return cls(
            store,
            keys_dir / ".audit.lock",
            keys_dir=keys_dir,
            every=options.audit_checkpoint_every,
            interval=timedelta(minutes=options.audit_checkpoint_minutes),
        )

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
                    self._checkpoint_if_due(entry)
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

    # ------------------------------------------------------------------ verifying

    def verify(self) -> tuple[int, str | None]:
        """(entries checked, None) when the chain and its checkpoints hold; else the first
        problem, explained. Writes nothing."""
        report = self.check()
        return report.entries, report.problem

    def verify_and_checkpoint(self) -> AuditReport:
        """`check`, then (only when everything holds: any doubt is a `problem`, and then nothing
        is written) anchor what was verified: a new checkpoint unless the newest already records
        this very head, and this machine's local copy. A data folder or store this user cannot
        write leaves the result as it is, with a `note` saying no checkpoint was written."""
        report = self.check()
        if not report.ok or self.keys_dir is None:
            return report
        try:
            with self._locked():
                if report.latest is not None:
                    self._remember(report.latest)
                if report.entries:
                    report.written = self._write_checkpoint(report.entries, report.head)
        except SohoaError as e:
            report.note = _join(report.note, f"could not write a checkpoint: {e.message}")
        except OSError as e:  # a read-only data folder or store: verifying needed no write
            why = f"cannot write {e.filename}: {e.strerror}" if e.filename else str(e)
            report.note = _join(report.note, f"could not write a checkpoint ({why})")
        return report

    def check(self, *, again: bool = True) -> AuditReport:
        """Read in this order so that appends running meanwhile cannot look like tampering:
        the local anchor, then the checkpoints, then the entries (each checkpoint only
        ever names entries created before it). Writes nothing."""
        try:
            anchor = self._read_anchor()
            public, note = self._trusted_key()
            checkpoints = self._verified_checkpoints(public, anchor)
        except AuditError as e:
            return AuditReport(0, e.message)
        report = AuditReport(0, checkpoints=len(checkpoints), note=note)
        report.latest = checkpoints[-1] if checkpoints else None
        if checkpoints and public is not None and not self.store.exists(KEY_OBJECT):
            report.problem = f"the audit public key {KEY_OBJECT} was deleted from the store"
            return report
        report.entries, report.head, report.problem = self._walk(checkpoints)
        if report.problem is None and checkpoints:
            widest = max(checkpoints, key=lambda c: c.count)
            if widest.count > report.entries:
                report.problem = _deleted(report.entries, widest)
        if report.problem is None and not checkpoints:
            report.problem = self._unanchored(report.entries)
            if report.problem is not None and again and self._checkpoint_keys():
                # The first entry and its checkpoint were being written as we read: once more.
                return self.check(again=False)
        return report

    def _unanchored(self, entries: int) -> str | None:
        """No checkpoint at all. The first entry of an installation is checkpointed as it is
        written (and the audit key recorded just before), so entries, or the recorded key,
        without any checkpoint mean the checkpoints were deleted: the chain alone could then
        have been rewritten and re-hashed from any entry, and nothing is anchored over it.
        A log kept without a keys folder (chain only, no checkpoints) is exempt."""
        keyed = self.store.exists(KEY_OBJECT)
        if self.keys_dir is None and not keyed:
            return None
        if entries:
            return (
                f"the log has {entries} entries but no checkpoint: an installation's first entry "
                "is checkpointed as it is written, so the checkpoints were deleted; the chain "
                "alone cannot show whether it was rewritten and re-hashed (not re-anchored)"
            )
        if keyed:
            return (
                f"the store records the audit key ({KEY_OBJECT}) but holds no entry and no "
                "checkpoint: the key is recorded with the first checkpoint, so the log and its "
                "checkpoints were deleted"
            )
        return None

    def _checkpoint_keys(self) -> list[str]:
        return sorted(k for k in self.store.list(CHECKPOINTS) if k.endswith(".json"))

    def _walk(self, checkpoints: list[Checkpoint]) -> tuple[int, str, str | None]:
        """The hash chain from entry 1, each checkpointed entry against its checkpoint."""
        expected: dict[int, list[Checkpoint]] = {}
        for cp in checkpoints:
            expected.setdefault(cp.count, []).append(cp)
        prev, seq, matched = GENESIS, 0, 0  # matched: the last entry a checkpoint confirmed
        for key in sorted(k for k in self.store.list(PREFIX) if k.endswith(".json")):
            try:
                entry = AuditEntry.model_validate_json(self.store.get_bytes(key))
            except ValueError:
                return seq, prev, f"entry {key.removeprefix(PREFIX)} is not valid JSON"
            where = f"entry {entry.seq} ({entry.action} {entry.target} by {entry.organ_id})"
            if key != entry_key(entry.seq) or entry.seq != seq + 1:
                return seq, prev, f"entry {seq + 1} is missing or out of order (found {key})"
            if entry.compute_hash() != entry.hash:
                return seq, prev, f"{where} was altered: its hash does not match its content"
            if entry.prev != prev:
                return seq, prev, f"{where} does not follow entry {seq}: chain broken"
            for cp in expected.get(entry.seq, ()):
                if cp.head != entry.hash:
                    problem = (
                        f"{where} is not the entry {cp.describe()} recorded: the log was "
                        f"rewritten (at an entry from {matched + 1} to {entry.seq}) and "
                        "re-hashed after it"
                    )
                    return seq, prev, problem
                matched = entry.seq
            prev, seq = entry.hash, entry.seq
        return seq, prev, None

    def _trusted_key(self) -> tuple[ed25519.Ed25519PublicKey | None, str]:
        """This machine's own audit key when it has it (nothing in the store can change that
        one); else the public key recorded in the store, with a note saying so when the key
        file is there but this user may not read it."""
        note = ""
        try:
            local = installation_key(self.keys_dir, create=False) if self.keys_dir else None
        except OSError as e:
            local = None
            note = (
                f"this user cannot read {e.filename or 'the audit key'}: checkpoints were checked "
                f"against the public key recorded in the store ({KEY_OBJECT}) instead"
            )
        try:
            stored = _load_public(self.store.get_bytes(KEY_OBJECT))
        except NotFound:
            stored = None
        if local is None:
            return stored, note
        public = local.public_key()
        if stored is not None and fingerprint(stored) != fingerprint(public):
            raise AuditError(
                f"the audit public key in the store ({KEY_OBJECT}) is not this installation's "
                f"audit key ({self.keys_dir / 'audit.key.pem'}): it was replaced"
            )
        return public, note

    def _verified_checkpoints(
        self, public: ed25519.Ed25519PublicKey | None, anchor: Checkpoint | None
    ) -> list[Checkpoint]:
        out: list[Checkpoint] = []
        for n, key in enumerate(self._checkpoint_keys(), start=1):
            cp = self._load_checkpoint(key)
            if key != checkpoint_key(cp.n) or cp.n != n:
                raise AuditError(
                    f"checkpoint {n} is missing or out of order (found "
                    f"{key.removeprefix(CHECKPOINTS)}): checkpoints were deleted or renamed"
                )
            if public is None:
                raise AuditError(
                    f"{cp.describe()} cannot be checked: the audit public key {KEY_OBJECT} "
                    "is missing from the store"
                )
            if not cp.signed_by(public):
                raise AuditError(
                    f"{cp.describe()} is not signed by this installation's audit key: "
                    "forged or altered"
                )
            if cp.prev != (out[-1].digest() if out else GENESIS):
                raise AuditError(
                    f"{cp.describe()} does not follow checkpoint {n - 1}: checkpoint chain broken"
                )
            if n == 1 and cp.count != 1:
                raise AuditError(
                    f"{cp.describe()} is the first checkpoint but records {cp.count} entries: "
                    "an installation's first entry is checkpointed as it is written, so the "
                    "checkpoints before were deleted and the log was anchored again over "
                    "what was left"
                )
            if out and cp.count < out[-1].count:
                raise AuditError(
                    f"{cp.describe()} records fewer entries than checkpoint {n - 1} "
                    f"({out[-1].count}): the log was truncated and anchored again"
                )
            out.append(cp)
        if anchor is not None:
            if anchor.n > len(out):
                raise AuditError(
                    f"{anchor.describe()} is missing from the store, but this machine recorded "
                    f"it in {self._anchor_path()}: checkpoints were deleted"
                )
            if out[anchor.n - 1].digest() != anchor.digest():
                raise AuditError(
                    f"{out[anchor.n - 1].describe()} is not the one this machine recorded in "
                    f"{self._anchor_path()}: it was replaced"
                )
        return out

    # ------------------------------------------------------------------ checkpoints

    def _checkpoint_if_due(self, entry: AuditEntry) -> None:
        """After an append (lock held): a checkpoint every `every` entries or `interval`,
        whichever comes first, counted from the newest checkpoint this machine knows. The
        entry is written whatever happens here; a failure is logged and `verify` reports it."""
        if self.keys_dir is None:
            return
        try:
            known = self._read_anchor()
            if (
                known is None
                or entry.seq - known.count >= self.every
                or utcnow() - known.at >= self.interval
            ):
                self._write_checkpoint(entry.seq, entry.hash)
        except (SohoaError, OSError) as e:
            log.warning("audit checkpoint not written: %s", getattr(e, "message", e))

    def _write_checkpoint(self, count: int, head: str) -> Checkpoint | None:
        """Sign and create checkpoint n + 1 for entries 1..count (lock held). None when the
        newest checkpoint already covers `count` entries."""
        latest = self._latest_checkpoint()
        for _ in range(20):
            if latest is not None and latest.count >= count:
                return None
            if latest is None and count != 1:
                # Checkpoint 1 is written with entry 1 (by whoever appended it). Entries and
                # no checkpoint: never anchor that silently; verify reports it.
                raise AuditError(
                    f"the log has {count} entries but no checkpoint: not anchoring it "
                    "(run `sohoa audit verify`)"
                )
            key = self._signing_key()
            cp = Checkpoint(
                n=latest.n + 1 if latest else 1,
                count=count,
                head=head,
                at=utcnow(),
                prev=latest.digest() if latest else GENESIS,
                key=fingerprint(key.public_key()),
            )
            cp.signature = base64.b64encode(key.sign(cp.signed_bytes())).decode()
            if self.store.create(checkpoint_key(cp.n), cp.model_dump_json().encode()):
                self._remember(cp)
                return cp
            latest = self._load_checkpoint(checkpoint_key(cp.n))  # another machine's: go on
        raise AuditError("audit checkpoints busy: could not write one after 20 attempts")

    def _signing_key(self) -> ed25519.Ed25519PrivateKey:
        """The installation's audit key, made on first use; its public half recorded in the
        store write-once. A machine without it never makes a second one for a store that
        already names a key: that key must be copied to it like the organ keys."""
        if self._key is not None:
            return self._key
        assert self.keys_dir is not None
        path = self.keys_dir / "audit.key.pem"
        key = installation_key(self.keys_dir, create=False)
        if key is None:
            if self.store.exists(KEY_OBJECT):
                raise AuditError(
                    f"this machine has no {path}, but the store already records the "
                    "installation's audit key: copy that file from the machine that made it"
                )
            key = installation_key(self.keys_dir, create=True)
        pem = public_pem(key.public_key())
        if not self.store.create(KEY_OBJECT, pem):
            stored = _load_public(self.store.get_bytes(KEY_OBJECT))
            if fingerprint(stored) != fingerprint(key.public_key()):
                raise AuditError(
                    f"the store records another audit key ({KEY_OBJECT}) than {path}: "
                    "run `sohoa audit verify`"
                )
        self._key = key
        return key

    def _latest_checkpoint(self) -> Checkpoint | None:
        """From this machine's newest known checkpoint, which must still be in the store as
        it was (else nothing is chained onto a gap: verify reports it), probing the next
        numbers; one listing only when this machine knows none."""
        anchor = self._read_anchor()
        if anchor is None:
            keys = self._checkpoint_keys()
            return self._load_checkpoint(keys[-1]) if keys else None
        try:
            stored = self._load_checkpoint(checkpoint_key(anchor.n))
        except NotFound as e:
            raise AuditError(
                f"{anchor.describe()} is missing from the store: run `sohoa audit verify`"
            ) from e
        if stored.digest() != anchor.digest():
            raise AuditError(f"{anchor.describe()} was replaced: run `sohoa audit verify`")
        n = anchor.n
        while self.store.exists(checkpoint_key(n + 1)):
            n += 1
        return stored if n == anchor.n else self._load_checkpoint(checkpoint_key(n))

    def _load_checkpoint(self, key: str) -> Checkpoint:
        data = self.store.get_bytes(key)
        try:
            return Checkpoint.model_validate_json(data)
        except ValueError as e:
            name = key.removeprefix(CHECKPOINTS)
            raise AuditError(f"checkpoint {name} is not a valid checkpoint: it was altered") from e

    # ------------------------------------------------------------------ this machine's anchor

    def _anchor_path(self) -> Path:
        assert self.keys_dir is not None
        return self.keys_dir / ANCHOR_FILE

    def _read_anchor(self) -> Checkpoint | None:
        if self.keys_dir is None:
            return None
        path = self._anchor_path()
        try:
            return Checkpoint.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise AuditError(f"{path} is not a readable checkpoint: {e}") from e

    def _remember(self, cp: Checkpoint) -> None:
        """Keep `cp` as this machine's newest known checkpoint (lock held; never moves back)."""
        known = self._read_anchor()
        if known is not None and known.n >= cp.n:
            return
        path = self._anchor_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{ANCHOR_FILE}")
        tmp.write_bytes(cp.model_dump_json().encode())
        tmp.replace(path)


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _deleted(entries: int, cp: Checkpoint) -> str:
    if entries == 0:
        return f"every entry was deleted: the log is empty, but {cp.describe()} recorded them"
    return (
        f"entries {entries + 1} to {cp.count} were deleted: the log ends at entry {entries}, "
        f"but {cp.describe()} recorded {cp.count}"
    )
