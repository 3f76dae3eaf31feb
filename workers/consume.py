"""The scanner folder (`sohoa watch`, SOHOA_CONSUME_DIR): files dropped into a folder tree are
ingested once each, through the ingest use case (workers.jobs.ingest_batch: owner organ, dedup
by content hash, dossier filing), and moved to done/ or failed/ (workers/consume_folder.py).

A file is taken only when complete: its size, modification and change times have not moved for
`settle_s` seconds by this process's own clock (a network share's clock may be off), or it has
just been renamed from a temporary name (`scan.pdf.tmp` → `scan.pdf`: the scanner says it is
done). Then it is claimed by one rename into processing/ and only then read.

Crash safety: whatever is in processing/ when the watcher starts was claimed by one that
stopped (the folder lock says no other is running); it is ingested again first. Ingesting is
idempotent by content hash (the original stored once, a finished record reused, an unfinished
one resumed), the batch row is not duplicated, and the file ends in done/ or failed/ once.

Memory is bounded whatever the tree holds: walks stream (`os.scandir`), and at most
`pending_max` files are followed while they settle; a walk that fills that stops and starts
again once some are consumed."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from schemas.batches import BatchFile
from schemas.errors import SohoaError
from workers.access import require_organ
from workers.consume_folder import ConsumeFolder, Signature, WatchState, free_name
from workers.consume_report import ConsumeAudit, record_in_batch
from workers.consume_rules import Rules, RulesBook
from workers.inputs import safe_text
from workers.jobs import SUCCEEDED, FileResult, ingest_batch
from workers.runtime import WorkerPool
from workers.services import Services

__all__ = ["ConsumeFolder", "ConsumeOptions", "Consumed", "Consumer", "free_name"]

log = logging.getLogger("sohoa.consume")

# After a failure of the whole store, index or a lock (one a killed watcher held is taken over
# once stale: workers/locks.py), the claimed files are tried again this much later.
BACKOFF_S = 20.0
STUCK_SHOWN = 10  # files that cannot be claimed, named in `sohoa status`


@dataclass
class ConsumeOptions:
    owner: str | None = None  # --owner; None: the installation's organ (SOHOA_ORGAN)
    dossier_from_subfolder: bool = False
    settle_s: float = 5.0
    group: int = 4  # files of the same rules ingested together (their pages share the workers)
    pending_max: int = 500  # files followed at once while they settle


@dataclass
class Consumed:
    """One file's end, as the surfaces report it."""

    file: str  # its path relative to the folder, as safe text
    result: str  # ok | reused | partial | not indexed | failed
    place: Path  # where it is now (in done/ or failed/)
    doc_id: str | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.result in SUCCEEDED


class Settling:
    """Files seen and not yet taken, each with its signature and since when it has held."""

    def __init__(self, settle_s: float, limit: int) -> None:
        self.settle_s = settle_s
        self.limit = limit
        self._seen: dict[Path, tuple[Signature, float, bool]] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, path: Path) -> bool:
        return path in self._seen

    def offer(self, path: Path, sig: Signature | None = None, *, renamed: bool = False) -> bool:
        """Follow `path` (False when full: a later walk finds it again)."""
        if path in self._seen:
            if renamed:  # moved onto this name again: complete now
                self._seen[path] = (self._seen[path][0], self._seen[path][1], True)
            return True
        if len(self._seen) >= self.limit:
            return False
        if sig is None:
            try:
                sig = Signature.of(path.stat(follow_symlinks=False))
            except OSError:
                return True  # gone already: nothing to follow
        self._seen[path] = (sig, time.monotonic(), renamed)
        return True

    def ready(self) -> list[Path]:
        """The files complete now; they are no longer followed (the caller claims them)."""
        now, done = time.monotonic(), []
        for path, (sig, since, renamed) in list(self._seen.items()):
            try:
                current = Signature.of(path.stat(follow_symlinks=False))
            except OSError:
                del self._seen[path]  # moved away or deleted by someone else
                continue
            if current != sig:
                self._seen[path] = (current, now, False)  # still being written: start again
            elif renamed or now - since >= self.settle_s:
                done.append(path)
                del self._seen[path]
        return done


class Consumer:
    """The use case; the loop that calls it (events, polling) is workers/consume_watch.py."""

    def __init__(
        self,
        services: Services,
        folder: ConsumeFolder,
        pool: WorkerPool,
        options: ConsumeOptions | None = None,
        on_result: Callable[[Consumed], None] | None = None,
    ) -> None:
        self.services = services
        self.folder = folder
        self.pool = pool
        self.options = options or ConsumeOptions()
        self.on_result = on_result
        self.rules = RulesBook(
            folder.root,
            owner=self.options.owner,
            dossier_from_subfolder=self.options.dossier_from_subfolder,
        )
        self.settling = Settling(self.options.settle_s, self.options.pending_max)
        self.state = WatchState()
        self.audit = ConsumeAudit(services)
        self.stalled_until = 0.0  # after a failure of the whole store or index
        self.recover_due = False  # … whose claimed files are then taken again
        self.stalls = 0  # such failures in a row
        # Files that could not be claimed (a folder the watcher may not write in), each with
        # its signature then and why: not tried again, nor reported again, until it changes.
        self.stuck: dict[Path, tuple[Signature, str]] = {}

    # ------------------------------------------------------------------ finding files

    def scan(self) -> bool:
        """Follow the waiting files of the tree; False when the walk stopped full."""
        still_stuck = {}
        for path, st in self.folder.waiting():
            sig = Signature.of(st)
            if path in self.stuck and self.stuck[path][0] == sig:
                still_stuck[path] = self.stuck[path]
                continue
            if path not in self.settling and not self.settling.offer(path, sig):
                return False
        self.stuck = still_stuck  # a whole walk: the ones moved or fixed meanwhile are gone
        self.state.stuck = sorted(why for _, why in self.stuck.values())[:STUCK_SHOWN]
        return True

    def offer(self, path: Path, *, renamed: bool = False) -> bool:
        """A file an event named; False when it could not be followed (walk again later)."""
        if not self.folder.wanted(path):
            return True
        return self.settling.offer(path, renamed=renamed)

    # ------------------------------------------------------------------ taking them

    def recover(self) -> int:
        """Ingest again what processing/ holds (a stopped watcher's claims); how many."""
        total = 0
        claimed = self.folder.claimed()
        while chunk := list(islice(claimed, self.options.pending_max)):
            total += self._ingest_all(chunk)
        return total

    def step(self) -> int:
        """Claim and ingest the files complete now, higher priority first; how many."""
        if time.monotonic() < self.stalled_until:
            return 0
        if self.recover_due:
            self.recover_due = False
            return self.recover()
        ready = [(self.rules.rules_for(self.folder.relative(p)), p) for p in self.settling.ready()]
        ready.sort(key=lambda item: (-item[0].priority, str(item[1])))
        claimed = []
        for _, path in ready:
            target = self._claim(path)
            if target is not None:
                claimed.append(target)
        return self._ingest_all(claimed)

    def _claim(self, path: Path) -> Path | None:
        """Into processing/; a file that cannot be moved (its folder not writable by the
        watcher, a name the system refuses) stays where it is, said once, and the others go on:
        one such file must not stop the watcher."""
        try:
            return self.folder.claim(path)
        except (OSError, SohoaError) as e:
            reason = e.message if isinstance(e, SohoaError) else _os_reason(e)
            shown = _shown(self.folder.relative(path))
            why = f"{shown}: cannot be moved into processing/ ({reason}); left in place"
            log.warning("consume folder: %s", why)
            self.state.last_error = {"at": time.time(), "file": shown, "reason": why}
            if len(self.stuck) >= self.options.pending_max:
                self.stuck.clear()  # bounded: at worst one is said again
            with contextlib.suppress(OSError):  # gone meanwhile: nothing to remember
                self.stuck[path] = (Signature.of(path.stat(follow_symlinks=False)), why)
            self.state.stuck = sorted(why for _, why in self.stuck.values())[:STUCK_SHOWN]
            return None

    def _ingest_all(self, claimed: list[Path]) -> int:
        """Files of equal rules ingested `group` at a time, in the order given."""
        done = 0
        # A walk of processing/ while files leave it may name one already gone: skipped.
        present = (p for p in claimed if os.path.lexists(p))
        for rules, paths in _grouped(present, self.rules, self.folder, self.options.group):
            try:
                done += self._ingest(rules, paths)
                self.stalls = 0
            except SohoaError as e:  # the store or the index as a whole: not these files'
                self._stalled(e.message)
                break
            except Exception as e:  # noqa: BLE001 - the watcher outlives a broker or disk hiccup
                log.debug("consume folder", exc_info=True)
                self._stalled(f"{type(e).__name__}: {e}")
                break
        self.state.save(self.folder)
        return done

    def _stalled(self, reason: str) -> None:
        """Files stay in processing/ (nothing lost) and are taken again after BACKOFF_S."""
        log.warning("consume folder: %s; claimed files tried again in %ds", reason, BACKOFF_S)
        self.state.last_error = {"at": time.time(), "file": "", "reason": reason}
        self.stalled_until = time.monotonic() + BACKOFF_S
        self.recover_due = True
        self.stalls += 1

    def _ingest(self, rules: Rules, paths: list[Path]) -> int:
        readable = []
        for path in paths:
            why = self.folder.refusal(path)
            if why is None:
                readable.append(path)
            else:  # a link, a FIFO, a hard link…: to failed/ unread (never opened)
                self._failed(path, rules, None, why)
        if readable:
            self._ingest_files(rules, readable)
        return len(paths)

    def _ingest_files(self, rules: Rules, paths: list[Path]) -> int:
        owner = rules.owner
        if rules.error is None and owner is not None:
            try:
                owner = require_organ(self.services, owner)
            except SohoaError as e:
                rules = Rules(error=f"owner {owner!r}: {e.message}")
        if rules.error is not None:
            for path in paths:
                self._failed(path, rules, None, rules.error)
            return len(paths)
        report = ingest_batch(
            self.services,
            [str(p) for p in paths],
            dossier=rules.dossier,
            title=rules.title,
            owner=owner,
            pool=self.pool,
        )
        by_path = {row.sub.path: row for row in report.rows}
        for path in paths:
            self._finish(path, rules, owner, by_path.get(path))
        return len(paths)

    def _finish(self, path: Path, rules: Rules, owner: str | None, row: FileResult | None) -> None:
        if row is None:  # the use case gave no row: nothing was stored
            self._failed(path, rules, None, "not taken by the ingest (no result)")
            return
        doc_id = row.sub.doc_id
        if row.result not in SUCCEEDED or doc_id is None:
            reason = "; ".join([*row.sub.notes, row.error.message if row.error else row.result])
            if row.result == "partial":
                reason += " (the record is kept; put the file in the folder again to retry them)"
            self._failed(path, rules, row, reason)
            return
        organ = owner or self.services.organ
        rel = self.folder.relative(path)
        shown = _shown(rel)
        entry = BatchFile(name=shown, document_id=doc_id, outcome=row.sub.outcome)
        batch = record_in_batch(
            self.services, self.folder.root, rel, organ, entry, rules.dossier, rules.title
        )
        self.audit.consumed(organ, doc_id, shown, row.result, batch)
        place = self.folder.finish_done(path)
        self.state.consumed += 1
        self._tell(Consumed(shown, row.result, place, doc_id))

    def _failed(self, path: Path, rules: Rules, row: FileResult | None, reason: str) -> None:
        rel = self.folder.relative(path)
        shown = _shown(rel)
        organ = rules.owner or self.options.owner or self.services.organ
        doc_id = row.sub.doc_id if row is not None else None
        result = row.result if row is not None else "failed"
        if doc_id is not None:  # its record exists (a partial one is even searchable)
            entry = BatchFile(name=shown, document_id=doc_id, outcome=row.sub.outcome)
        else:
            entry = BatchFile(name=shown, error=reason)
        record_in_batch(self.services, self.folder.root, rel, organ, entry, rules.dossier)
        self.audit.failed(organ, doc_id or shown, shown, reason)
        place = self.folder.finish_failed(path, f"{shown}: {result}\n{reason}")
        self.state.failed += 1
        self.state.last_error = {"at": time.time(), "file": shown, "reason": reason}
        self._tell(Consumed(shown, result, place, doc_id, reason))

    def _tell(self, consumed: Consumed) -> None:
        log.info("consume folder: %s %s", consumed.file, consumed.result)
        if self.on_result is not None:
            self.on_result(consumed)


def _os_reason(e: OSError) -> str:
    return e.strerror or errno.errorcode.get(e.errno or 0, type(e).__name__)


def _shown(rel: Path) -> str:
    return safe_text(rel.as_posix())[0]


def _grouped(
    paths: Iterable[Path], book: RulesBook, folder: ConsumeFolder, size: int
) -> Iterator[tuple[Rules, list[Path]]]:
    """Consecutive files of equal rules, at most `size` together."""
    current: tuple[Rules, list[Path]] | None = None
    for path in paths:
        rules = book.rules_for(folder.relative(path))
        if current is not None and (current[0].group != rules.group or len(current[1]) >= size):
            yield current
            current = None
        if current is None:
            current = (rules, [])
        current[1].append(path)
    if current is not None:
        yield current
