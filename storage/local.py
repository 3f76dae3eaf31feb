from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from schemas.errors import READ_ONLY_ERRNOS, NotFound, ReadOnlyData, StorageError
from storage.digest import sha256_file
from storage.keys import is_content_addressed


def write_once(target: Path, data: bytes) -> bool:
    """Write `target` whole (mode 0600) unless it exists; True if this call made it.

    The data is written aside, then hard-linked into place: a link, unlike a rename, fails when
    the name exists, so exactly one of racing writers wins and nobody sees a half-written file.
    The new name (and any folder made for it) is on disk when this returns True.
    """
    new_folders = make_folders(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, target)
    except FileExistsError:
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)
    _sync_files(None, folders_to_sync([target], new_folders))
    return True


def make_folders(folder: Path) -> list[Path]:
    """`folder.mkdir(parents=True, exist_ok=True)`, returning the folders it made (their
    entries are to be synced with the files written in them)."""
    made: list[Path] = []
    missing = folder
    while not missing.is_dir():
        made.append(missing)
        if missing.parent == missing:
            break
        missing = missing.parent
    folder.mkdir(parents=True, exist_ok=True)
    return made


def folders_to_sync(targets: Iterable[Path], new_folders: Iterable[Path]) -> list[Path]:
    """The folders whose entries make `targets` (renamed or linked into place) and the
    `new_folders` made for them last across a crash: an fsync of the file writes its bytes,
    not its name (without this a crash soon after could lose an accepted file)."""
    folders = [target.parent for target in targets] + [made.parent for made in new_folders]
    return list(dict.fromkeys(folders))


# A batch this large is made durable by one syncfs(2) of its file system instead of an fsync
# per file: an fsync writes one file's data and commits the journal, ~6 ms each on this
# machine's disk under load; one syncfs wrote 64 page results in 16-28 ms instead of ~450
# (issue 17, docs/benchmarks.md "Born-digital, round 14").
SYNCFS_MIN_FILES = 2  # 2 files: 5 ms against 13 for two fsyncs (median of 5, same disk)
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _sync_files(watch: int | None, paths: list[Path]) -> None:
    """Every byte of `paths` (files written and closed, or folders: their entries) on disk
    when this returns. One syncfs(2) where `watch` (`_fs_watch`) is given and every path is on
    its file system (it also writes other programs' pending data of that file system: its cost
    follows how much they wrote); else, or if it reports an error, an fsync per path (which
    raises it)."""
    if watch is not None and len(paths) >= SYNCFS_MIN_FILES and _syncfs(watch, paths):
        return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError as e:
            # some file systems (CIFS, 9p, vboxsf) cannot fsync a folder: nothing more to do
            # there (PostgreSQL's fsync_fname ignores the same two)
            if e.errno not in (errno.EINVAL, errno.EBADF) or not path.is_dir():
                raise
        finally:
            os.close(fd)


@functools.cache  # the kernel does not change while a process runs
def _syncfs_reports_errors() -> bool:
    """syncfs(2) returns the file system's write-back errors from Linux 5.8 on; before, it
    returned 0 whatever they were (RHEL 8 runs 4.18), and a lost write would be published."""
    match = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return match is not None and (int(match[1]), int(match[2])) >= (5, 8)


@contextmanager
def _fs_watch(root: Path) -> Iterator[int | None]:
    """A descriptor of root's file system for `_sync_files`, opened before a batch is
    written: syncfs reports the errors recorded since its descriptor was opened (opened
    after, an error another worker's syncfs saw first would go unreported). None where
    syncfs cannot say whether the batch was written."""
    if getattr(_LIBC, "syncfs", None) is None or not _syncfs_reports_errors():
        yield None
        return
    try:
        fd = os.open(root, os.O_RDONLY)
    except OSError:
        yield None  # (the fsyncs will say why, if anything is written at all)
        return
    try:
        yield fd
    finally:
        os.close(fd)


def _syncfs(fd: int, paths: list[Path]) -> bool:
    device = os.fstat(fd).st_dev
    if any(path.stat().st_dev != device for path in paths):
        return False  # a mount inside the data folder: syncfs would not cover it
    return _LIBC.syncfs(fd) == 0  # type: ignore[union-attr]  # else the fsyncs say which


class LocalStore:
    """Objects as files under one folder; every write goes to a temp file then `os.replace`.

    A folder this user may only read serves reads; a write there raises ReadOnlyData."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            if e.errno not in READ_ONLY_ERRNOS:
                raise  # else: nothing stored yet; reads find nothing, writes will say why

    @contextmanager
    def _writing(self, key: str) -> Iterator[None]:
        """The OS's refusals of a write, as sohoa's errors naming the folder and the key."""
        try:
            yield
        except OSError as e:
            # (only for this folder's files: a source file that cannot be read is no such case)
            if e.errno in READ_ONLY_ERRNOS and str(e.filename).startswith(str(self.root)):
                raise ReadOnlyData(self.root, f"write {key}") from e
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageError(f"no space left for {key} in {self.root}") from e
            raise

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") for p in parts) or key.startswith("/"):
            raise StorageError(f"invalid storage key: {key!r}")
        return self.root.joinpath(*parts)

    def _atomic_write(self, key: str, write: Callable[[BinaryIO], object]) -> None:
        with self._writing(key):
            self._write_aside(key, write)

    def _write_aside(self, key: str, write: Callable[[BinaryIO], object]) -> None:
        """Written aside and synced, renamed into place, then its folder synced: the object
        is whole or absent after a crash, and there once this returns."""
        target = self._path(key)
        new_folders = make_folders(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _sync_files(None, folders_to_sync([target], new_folders))

    def _already_holds(self, key: str, sha: Callable[[], str]) -> bool:
        """Content-addressed keys are written once; the same bytes again are a no-op."""
        target = self._path(key)
        if not is_content_addressed(key) or not target.is_file():
            return False
        if sha256_file(target) != sha():
            raise StorageError(f"refusing to overwrite {key!r} with different bytes")
        return True

    def put_bytes(self, key: str, data: bytes) -> None:
        if self._already_holds(key, lambda: hashlib.sha256(data).hexdigest()):
            return
        self._atomic_write(key, lambda out: out.write(data))

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Several objects, each atomic like put_bytes, made durable together: all written
        aside, then all synced (one syncfs for a batch: `_sync_files`), then all renamed into
        place, then their folders synced (the renames on disk when this returns); each object
        still appears only once its bytes are on disk, so a crash leaves each one either whole
        or absent, as with put_bytes."""
        aside: list[tuple[str, Path, Path]] = []  # key, temp file, target
        new_folders: list[Path] = []
        with _fs_watch(self.root) as watch:
            try:
                for key, data in items:
                    if self._already_holds(key, lambda data=data: hashlib.sha256(data).hexdigest()):
                        continue
                    with self._writing(key):
                        target = self._path(key)
                        new_folders += make_folders(target.parent)
                        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
                        aside.append((key, Path(tmp), target))
                        with os.fdopen(fd, "wb") as out:
                            out.write(data)
                if aside:
                    with self._writing(aside[0][0]):
                        _sync_files(watch, [tmp for _key, tmp, _target in aside])
                for key, tmp, target in aside:
                    with self._writing(key):
                        tmp.replace(target)
                if aside:  # the names too: else a crash after this returned (an upload
                    # answered, a scanner's file moved to done/) could lose every one of them
                    targets = [target for _key, _tmp, target in aside]
                    folders = folders_to_sync(targets, new_folders)
                    with self._writing(aside[0][0]):
                        _sync_files(watch, folders)
            except BaseException:
                for _key, tmp, _target in aside:
                    tmp.unlink(missing_ok=True)  # those already in place are whole objects
                raise

    def create(self, key: str, data: bytes) -> bool:
        """Write-once (see write_once): exactly one of racing writers wins."""
        target = self._path(key)
        with self._writing(key):
            return write_once(target, data)

    def put_file(self, key: str, path: Path) -> None:
        if self._already_holds(key, lambda: sha256_file(path)):
            return

        def copy(out: BinaryIO) -> None:
            with Path(path).open("rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)

        self._atomic_write(key, copy)

    def get_bytes(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        return self._existing(key).open("rb")

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        yield self._existing(key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        with self._writing(key):
            self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        if prefix.endswith("/") and not base.is_dir():
            return  # no such folder: nothing under it (not a walk of its parent's tree)
        folder = base if base.is_dir() else base.parent
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"no object {key!r} in {self.root}")
        return path
