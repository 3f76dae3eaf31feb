"""The scanner folder on disk: where files wait, are claimed, and end (docs: README "Scanner
folder"). Only file system work here; what is done with a file is workers/consume.py.

    FOLDER/                 scanners drop files anywhere in this tree (hidden, temporary and
                            the three folders below excepted)
    FOLDER/processing/REL   claimed: moved here (one atomic rename) before it is ingested; what
                            a stopped watcher left here is ingested again on start
    FOLDER/done/REL         ingested (or its exact bytes were already)
    FOLDER/failed/REL       not ingested, `REL.reason.txt` beside it says why

A file is never deleted and never overwritten: a name already taken in done/, failed/ or
processing/ gets a suffix (`scan (2).pdf`). Every walk is an `os.scandir` stream: a tree of
any size is never held as a list.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

PROCESSING, DONE, FAILED = "processing", "done", "failed"
RESERVED = frozenset({PROCESSING, DONE, FAILED})
REASON_SUFFIX = ".reason.txt"
STATE_FILE = ".sohoa-watch.json"  # the watcher's heartbeat, totals and last error
LOCK_FILE = ".watch.lock"  # in processing/: held by the one watcher consuming the folder
# Names a scanner or a copy writes before the final one (a rename then says it is complete),
# and the desktop's own files: never taken.
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp")
JUNK = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})


def is_temporary(name: str) -> bool:
    """Hidden (`.x`, `.~lock`), Office's `~$x`, a temporary suffix, or desktop junk."""
    lower = name.lower()
    return name.startswith((".", "~")) or lower.endswith(TEMP_SUFFIXES) or lower in JUNK


@dataclass(frozen=True)
class Signature:
    """What changes while a file is written: two equal signatures some seconds apart mean
    nobody wrote to it in between (size, content change time, metadata change time)."""

    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Signature:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass
class FolderCounts:
    waiting: int = 0
    processing: int = 0
    done: int = 0
    failed: int = 0


class ConsumeFolder:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    @property
    def processing(self) -> Path:
        return self.root / PROCESSING

    def prepare(self) -> None:
        for name in RESERVED:
            (self.root / name).mkdir(parents=True, exist_ok=True)

    def relative(self, path: Path) -> Path:
        """`path` (in the tree or any reserved folder) as its place relative to the tree."""
        rel = Path(path).relative_to(self.root)
        return Path(*rel.parts[1:]) if rel.parts and rel.parts[0] in RESERVED else rel

    def wanted(self, path: Path) -> bool:
        """A file of the tree a scanner put there: not temporary, not in a reserved folder."""
        try:
            rel = Path(path).relative_to(self.root)
        except ValueError:
            return False
        if not rel.parts or rel.parts[0] in RESERVED:
            return False
        return not any(is_temporary(part) for part in rel.parts)

    # ------------------------------------------------------------------ walking

    def waiting(self) -> Iterator[tuple[Path, os.stat_result]]:
        """Every regular file of the tree waiting to be taken, with its stat, streamed."""
        yield from _files(self.root, skip_top=RESERVED)

    def claimed(self) -> Iterator[Path]:
        """Files in processing/: claimed by a watcher that stopped before it finished them."""
        for path, _ in _files(self.processing):
            yield path

    def counts(self) -> FolderCounts:
        counts = FolderCounts()
        counts.waiting = sum(1 for _ in self.waiting())
        counts.processing = sum(1 for _ in _files(self.processing))
        counts.done = sum(1 for _ in _files(self.root / DONE))
        counts.failed = sum(
            1 for p, _ in _files(self.root / FAILED) if not p.name.endswith(REASON_SUFFIX)
        )
        return counts

    # ------------------------------------------------------------------ moving

    def claim(self, path: Path) -> Path | None:
        """Move a waiting file into processing/ (same relative path); None if it is gone."""
        target = free_name(self.processing / self.relative(path))
        try:
            return _move(path, target)
        except FileNotFoundError:
            return None

    def finish_done(self, claimed: Path) -> Path:
        target = free_name(self.root / DONE / self.relative(claimed))
        _move(claimed, target)
        self._prune(claimed.parent)
        return target

    def finish_failed(self, claimed: Path, reason: str) -> Path:
        """The reason is written first: a stop between the two leaves the file in processing/
        (taken again on start), and that name's reason is then rewritten, not duplicated."""
        target = free_name(self.root / FAILED / self.relative(claimed))
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(reason_path(target), reason.rstrip("\n") + "\n")
        _move(claimed, target)
        self._prune(claimed.parent)
        return target

    def _prune(self, folder: Path) -> None:
        """Empty folders left in processing/ go (never processing/ itself)."""
        while folder != self.processing and self.processing in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def reason_path(target: Path) -> Path:
    return target.with_name(target.name + REASON_SUFFIX)


def free_name(target: Path) -> Path:
    """`target`, or `stem (2).ext`, `stem (3).ext`… the first name no file holds. A reason
    without its file (a stop between writing the reason and moving the file) is rewritten."""
    n = 1
    candidate = target
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = target.with_name(f"{target.stem} ({n}){target.suffix}")
    return candidate


def _move(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # checked again just before: a rename would replace it
        raise FileExistsError(errno.EEXIST, "name taken", str(target))
    source.rename(target)
    return target


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _files(
    top: Path, skip_top: frozenset[str] = frozenset()
) -> Iterator[tuple[Path, os.stat_result]]:
    """Regular, non-temporary files under `top`, depth first, one open folder per level.
    Symlinks are not followed (a link to a folder cannot make the walk loop); folders that
    cannot be read are passed over (their files wait for a readable folder)."""
    stack: list[tuple[Path, bool]] = [(top, True)]
    while stack:
        folder, is_top = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        with entries:
            for entry in entries:
                if is_temporary(entry.name) or (is_top and entry.name in skip_top):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((Path(entry.path), False))
                    elif entry.is_file(follow_symlinks=False):
                        yield Path(entry.path), entry.stat(follow_symlinks=False)
                except OSError:
                    continue


# ------------------------------------------------------------------ one watcher, its state


@contextlib.contextmanager
def exclusive(folder: ConsumeFolder) -> Iterator[IO[str] | None]:
    """The folder's lock, held while consuming: a second watcher (another worker container)
    gets None and waits its turn. The OS releases it when the holder dies, even by SIGKILL,
    so what is in processing/ when it is taken was left by a watcher that stopped."""
    folder.prepare()
    with (folder.processing / LOCK_FILE).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield None
            return
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class WatchState:
    """`.sohoa-watch.json`: written by the watcher, read by `sohoa status`."""

    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    mode: str = ""  # inotify | polling
    running: bool = True  # False once it stopped of itself (a stop by SIGKILL cannot say so)
    started: float = field(default_factory=time.time)
    heartbeat: float = field(default_factory=time.time)
    consumed: int = 0  # since this watcher started
    failed: int = 0
    last_error: dict[str, Any] | None = None  # {"at", "file", "reason"}

    def save(self, folder: ConsumeFolder) -> None:
        self.heartbeat = time.time()
        with contextlib.suppress(OSError):  # a status file that cannot be written stops nothing
            _write_atomic(folder.root / STATE_FILE, json.dumps(self.__dict__, ensure_ascii=False))

    @classmethod
    def load(cls, folder: ConsumeFolder) -> WatchState | None:
        try:
            raw = json.loads((folder.root / STATE_FILE).read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None
