"""Round 14 review: a batch made durable by one syncfs(2) must hear of a write error in it
as an fsync per file would; else put_many renames into place files whose bytes were lost."""

from __future__ import annotations

import errno
import functools
import os
import stat
import tempfile
from pathlib import Path

import pytest

from schemas.models import Document
from storage import local
from storage.keys import record_key, status_key
from storage.records import RecordStore
from tests.fsync_count import count_fsyncs, linux_only


@linux_only
@pytest.mark.parametrize("release", ["4.18.0-513.el8.x86_64", "5.4.0-150-generic", "5.7.19"])
def test_before_linux_5_8_a_batch_is_fsynced_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: str
) -> None:
    """syncfs(2) returned 0 whatever the write-back errors before Linux 5.8 (RHEL 8 runs
    4.18): there a lost write would be renamed into place as a stored object."""
    real = os.uname()
    fake = os.uname_result((real.sysname, real.nodename, release, real.version, real.machine))
    monkeypatch.setattr(os, "uname", lambda: fake)
    # read once per process: a fresh reading here, the process's own one back afterwards
    monkeypatch.setattr(
        local, "_syncfs_reports_errors", functools.cache(local._syncfs_reports_errors.__wrapped__)
    )
    store = local.LocalStore(tmp_path / "store")
    items = [(f"derived/x/{n}.json", b"{}") for n in range(4)]
    fsyncs = count_fsyncs(monkeypatch)
    store.put_many(items)
    assert len(fsyncs) == 4
    assert all(store.get_bytes(key) == b"{}" for key, _ in items)


@linux_only
def test_the_syncfs_of_a_batch_watches_errors_from_before_its_files_were_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """syncfs reports the file system's write errors recorded since its descriptor was
    opened and not yet seen by another opener: opened after the files were written, an
    error in their write-back that another worker's syncfs saw first goes unreported and the
    lost files are published. The descriptor must be opened before the first file."""
    events: list[tuple[str, object]] = []
    real_open, real_mkstemp = os.open, tempfile.mkstemp
    store = local.LocalStore(tmp_path / "store")

    def open_(path: object, *args: object, **kwargs: object) -> int:
        fd = real_open(path, *args, **kwargs)  # type: ignore[arg-type]
        if Path(str(path)) == store.root:
            events.append(("open root", fd))
        return fd

    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        events.append(("write", None))
        return real_mkstemp(*args, **kwargs)  # type: ignore[call-overload]

    class Libc:
        @staticmethod
        def syncfs(fd: int) -> int:
            events.append(("syncfs", fd))
            return 0

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(local, "_LIBC", Libc())
    store.put_many([(f"derived/x/{n}.json", b"{}") for n in range(3)])
    synced = [fd for name, fd in events if name == "syncfs"]
    # the files' bytes, then their names and the new folders' (one descriptor for both)
    assert len(synced) == 2 and synced[0] == synced[1]
    opened_at = events.index(("open root", synced[0]))
    assert opened_at < events.index(("write", None)), events


def _fsyncs_seen(monkeypatch: pytest.MonkeyPatch, targets: list[Path]) -> list[tuple[bool, bool]]:
    """Each fsync as (of a folder, every target already in place then); a syncfs counts as a
    folder's (it writes every name of the file system: round 15 syncs the names of a batch
    that made new folders with one)."""
    seen: list[tuple[bool, bool]] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        seen.append((is_dir, all(t.exists() for t in targets)))
        real(fd)

    class Libc:
        def __init__(self, libc: object) -> None:
            self.libc = libc

        def syncfs(self, fd: int) -> int:
            seen.append((True, all(t.exists() for t in targets)))
            return self.libc.syncfs(fd)  # type: ignore[attr-defined]

    monkeypatch.setattr(os, "fsync", fsync)
    if local._LIBC is not None:
        monkeypatch.setattr(local, "_LIBC", Libc(local._LIBC))
    return seen


@pytest.mark.parametrize("syncfs", [True, False])
def test_a_record_put_is_on_disk_when_put_returns_names_included(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syncfs: bool
) -> None:
    """A record and its marker are published by renames; a crash after `put` returned (the
    upload answered "accepted", the scanner's file moved to done/) must find them: the folder
    that holds their names is synced after the renames. Before, nothing synced it (the
    marker's own fsync used to commit the record's name on ext4)."""
    if not syncfs:
        monkeypatch.setattr(local, "_LIBC", None)
    store = local.LocalStore(tmp_path / "store")
    doc = Document(id="f" * 64, source_name="a.pdf", media_type="application/pdf", size_bytes=1)
    targets = [store.root / record_key(doc.id), store.root / status_key(doc.id)]
    seen = _fsyncs_seen(monkeypatch, targets)
    RecordStore(store).put(doc)
    assert all(t.exists() for t in targets)
    assert (True, True) in seen, seen  # a folder fsync once both names were in place


def test_a_file_system_that_cannot_fsync_a_folder_still_takes_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CIFS, 9p and others answer EINVAL to a folder's fsync: the objects are stored all the
    same (a file's fsync failing that way is still an error)."""
    monkeypatch.setattr(local, "_LIBC", None)
    real = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    store = local.LocalStore(tmp_path / "store")
    store.put_many([("derived/x/1.json", b"{}"), ("derived/x/2.json", b"[]")])
    assert store.get_bytes("derived/x/2.json") == b"[]"
