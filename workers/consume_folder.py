"""The scanner folder on disk: where files wait, are claimed, and end (docs: README "Scanner
folder"). Only file system work here; what is done with a file is workers/consume.py.

    FOLDER/                 scanners drop files anywhere in this tree (hidden, temporary and
                            the three folders below excepted)
    FOLDER/processing/REL   claimed: moved here (one atomic rename) before it is ingested; what
                            a stopped watcher left here is ingested again on start
    FOLDER/done/REL         ingested (or its exact bytes were already)
    FOLDER/failed/REL       not ingested, `REL.reason.txt` beside it says why

A file is never deleted and never overwritten: a name already taken in done/, failed/ or
processing/ gets a suffix (`scan (2).pdf`), shortened to fit the file system's 255 bytes. Every
walk is an `os.scandir` stream: a tree of any size is never held as a list.

Whoever may write in the folder is trusted as far as the folder goes (a `.sohoa.toml` there sets
the owner organ), no further: nothing but a regular file with one name is read (a symlink to
/etc/passwd, a hard link to a key, a FIFO go to failed/ unread), and a file is never moved
outside the folder (the three folders and their subfolders must be real folders, not links).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from schemas.errors import OutputNotWritable

PROCESSING, DONE, FAILED = "processing", "done", "failed"
RESERVED = frozenset({PROCESSING, DONE, FAILED})
REASON_SUFFIX = ".reason.txt"
STATE_FILE = ".sohoa-watch.json"  # the watcher's heartbeat, totals and last error
STATE_MAX_BYTES = 1 << 20  # far more than it ever holds
LOCK_FILE = ".watch.lock"  # in processing/: held by the one watcher consuming the folder
OWN_TEMP_PREFIX, OWN_TEMP_SUFFIX = ".sohoa-", ".tmp"  # this module's mkstemp names
# Names a scanner or a copy writes before the final one (a rename then says it is complete),
# and the desktop's own files: never taken.
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp")
JUNK = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})
NAME_MAX = 255  # bytes in one name on Linux file systems (ext4, xfs, btrfs, SMB/NFS mounts)
SPECIAL = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


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
        """The three folders, as real folders: a file or a link under their names (dropped by
        anyone who may write in the folder) would stall every file or move them elsewhere."""
        for name in sorted(RESERVED):
            _real_folder(self.root, self.root / name)

    def writable_by_anyone(self) -> bool:
        """Anyone on this machine may drop files, and a `.sohoa.toml` naming the owner organ."""
        try:
            return bool(self.root.stat().st_mode & stat.S_IWOTH)
        except OSError:
            return False

    def refusal(self, claimed: Path) -> str | None:
        """Why a claimed file must not be read (it goes to failed/ unread), or None. The claim
        moved the link or special file itself, so what is checked here is what would be read."""
        try:
            st = claimed.lstat()
        except OSError as e:
            return f"cannot be examined ({e.strerror})"
        kind = SPECIAL.get(stat.S_IFMT(st.st_mode))
        if kind == SPECIAL[stat.S_IFLNK]:
            return f"{kind}: not followed (put the file itself in the folder, not a link to it)"
        if kind is not None:
            return f"{kind}, not a file: not read"
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file: not read"
        if st.st_nlink > 1:  # the same file under another name, perhaps outside the folder
            return (
                f"has {st.st_nlink} hard links: not read "
                "(put a copy of the file in the folder, not a link to it)"
            )
        return None

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

    def remove_own_temporaries(self) -> int:
        """Delete the half-written files a killed watcher left (`_write_atomic` and
        `_move_across` write under `.sohoa-*.tmp` first): called by the lock's holder at start,
        so none of them is being written. Never taken as scans (temporary names), they would
        otherwise stay in the folder for good. How many were removed."""
        removed = 0
        for folder, _, names in os.walk(self.root):  # links to folders are not followed
            for name in names:
                if name.startswith(OWN_TEMP_PREFIX) and name.endswith(OWN_TEMP_SUFFIX):
                    with contextlib.suppress(OSError):
                        (Path(folder) / name).unlink()  # a link: the link itself
                        removed += 1
        return removed

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
        """Move a waiting file into processing/ (same relative path); None if it is gone.
        Other errors (a folder the watcher may not write in) are the caller's to report."""
        try:
            target = free_name(self._inside(PROCESSING, self.relative(path)))
            return _move(path, target)
        except FileNotFoundError:
            return None
        except OSError:
            self._prune((self.processing / self.relative(path)).parent)  # the folders made
            raise

    def finish_done(self, claimed: Path) -> Path:
        target = free_name(self._inside(DONE, self.relative(claimed)))
        _move(claimed, target)
        self._prune(claimed.parent)
        return target

    def finish_failed(self, claimed: Path, reason: str) -> Path:
        """The reason is written first: a stop between the two leaves the file in processing/
        (taken again on start), and that name's reason is then rewritten, not duplicated."""
        target = free_name(self._inside(FAILED, self.relative(claimed)), reserve=REASON_SUFFIX)
        _write_atomic(reason_path(target), reason.rstrip("\n") + "\n")
        _move(claimed, target)
        self._prune(claimed.parent)
        return target

    def _inside(self, reserved: str, rel: Path) -> Path:
        """`FOLDER/reserved/rel`, its folders made, each checked to be a real folder."""
        target = self.root / reserved / rel
        folder = self.root
        for part in (reserved, *rel.parts[:-1]):
            folder = folder / part
            _real_folder(self.root, folder)
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


def free_name(target: Path, reserve: str = "") -> Path:
    """`target`, or `stem (2).ext`, `stem (3).ext`… the first name no file holds, its stem
    shortened so that the name (and `reserve` after it: the reason's suffix) fits NAME_MAX
    bytes. A reason without its file (a stop between writing the reason and moving the file)
    is rewritten."""
    n = 1
    candidate = _fitted(target, "", reserve)
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = _fitted(target, f" ({n})", reserve)
    return candidate


def _fitted(target: Path, mark: str, reserve: str) -> Path:
    stem, suffix = target.stem, target.suffix
    if len(os.fsencode(suffix)) > 32:  # a dot deep in a long name is no file type
        stem, suffix = target.name, ""
    room = NAME_MAX - len(os.fsencode(f"{mark}{suffix}{reserve}"))
    return target.with_name(f"{_cut(stem, room)}{mark}{suffix}")


def _cut(text: str, room: int) -> str:
    """`text` in at most `room` bytes, never cutting a UTF-8 character in two."""
    raw = os.fsencode(text)
    if len(raw) <= room:
        return text
    raw = raw[:room]
    for drop in range(4):  # a cut character is at most 3 trailing bytes
        try:
            return raw[: len(raw) - drop].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return os.fsdecode(raw)  # not UTF-8 (its bytes kept as they were)


def _real_folder(root: Path, folder: Path) -> None:
    """Make `folder` if missing; refuse a link or a file under its name: a move into it would
    leave the watched folder (a link to ~/.ssh) or stall on every file."""
    with contextlib.suppress(FileExistsError):  # a file under that name: said below
        folder.mkdir(exist_ok=True)
    st = folder.lstat()
    if not stat.S_ISDIR(st.st_mode):
        kind = SPECIAL.get(stat.S_IFMT(st.st_mode), "a file")
        shown = folder.relative_to(root).as_posix()
        raise OutputNotWritable(
            f"{root}: {shown} is {kind}, not a folder: nothing is moved into it "
            f"(move it away so that the watcher can make the folder {shown}/)"
        )


def _move(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # checked again just before: a rename would replace it
        raise FileExistsError(errno.EEXIST, "name taken", str(target))
    try:
        source.rename(target)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        _move_across(source, target)
    return target


def _move_across(source: Path, target: Path) -> None:
    """A move onto another file system (done/ mounted from an archive share, a subfolder that
    is a scanner's mount): copied under a hidden name, flushed, put in place, and only then is
    the source removed. A stop in between leaves both (taken again: reused, kept twice), never
    neither; a source that changed while it was copied is left for a later try."""
    before = source.lstat()
    fd, name = tempfile.mkstemp(prefix=OWN_TEMP_PREFIX, suffix=OWN_TEMP_SUFFIX, dir=target.parent)
    tmp = Path(name)
    try:
        if stat.S_ISLNK(before.st_mode):
            os.close(fd)
            tmp.unlink()
            tmp.symlink_to(source.readlink())  # fails, rather than follow, if the name is taken
        else:  # a FIFO or device is not read (the open would wait): the move waits instead
            with os.fdopen(fd, "wb") as out, _open_regular(source) as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            shutil.copystat(source, tmp, follow_symlinks=False)
        if Signature.of(source.lstat()) != Signature.of(before):
            raise OSError(errno.EAGAIN, "changed while it was copied", str(source))
        _place(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    source.unlink()


def _open_regular(path: Path) -> IO[bytes]:
    """`path` opened for reading if it is a regular file (never through a link, never
    waiting on a FIFO), else OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return handle


def read_regular(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file (OSError for a link, a FIFO, a device: a name
    anyone who may write in the folder can give one, and the read must not hang or grow)."""
    with _open_regular(path) as f:
        return f.read(limit)


def _place(tmp: Path, target: Path) -> None:
    """`tmp` under the name `target`, never replacing a file of that name: a hard link where
    the file system has them (an SMB or FAT mount may not), else a rename just after a check."""
    try:
        os.link(tmp, target, follow_symlinks=False)
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        if target.exists() or target.is_symlink():
            raise FileExistsError(errno.EEXIST, "name taken", str(target)) from e
        tmp.rename(target)


def _write_atomic(path: Path, text: str) -> None:
    """`path` replaced whole. The temporary name is fresh and made exclusively (mkstemp): one
    planted in advance as a link cannot make this write elsewhere."""
    fd, name = tempfile.mkstemp(prefix=OWN_TEMP_PREFIX, suffix=OWN_TEMP_SUFFIX, dir=path.parent)
    try:
        # a name that is not UTF-8 is escaped where it is shown; should one slip through,
        # the file is still written (a write that always fails would stall the watcher)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        Path(name).replace(path)  # a link under `path` is replaced, not followed
    except BaseException:
        with contextlib.suppress(OSError):
            Path(name).unlink()
        raise


def _files(
    top: Path, skip_top: frozenset[str] = frozenset()
) -> Iterator[tuple[Path, os.stat_result]]:
    """Non-temporary entries under `top` that are not folders (files, and the links and
    special files a claim sends to failed/ unread), depth first, one open folder per level.
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
                    else:
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
    lock = folder.processing / LOCK_FILE
    try:  # never through a link planted under its name (it would create or lock any file)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise OutputNotWritable(
            f"{lock}: cannot be opened as the watcher's lock ({e.strerror}); "
            "a link or a folder under that name must be moved away"
        ) from e
    with os.fdopen(fd, "a+") as handle:
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
    stuck: list[str] = field(default_factory=list)  # files it cannot claim, and why (a few)

    def save(self, folder: ConsumeFolder) -> None:
        self.heartbeat = time.time()
        with contextlib.suppress(OSError):  # a status file that cannot be written stops nothing
            _write_atomic(folder.root / STATE_FILE, json.dumps(self.__dict__, ensure_ascii=False))

    @classmethod
    def load(cls, folder: ConsumeFolder) -> WatchState | None:
        try:
            raw = json.loads(read_regular(folder.root / STATE_FILE, STATE_MAX_BYTES))
            return cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None
