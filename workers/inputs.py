"""What the user named → files to accept, or one error per path that cannot be taken.

The expansion never raises, never loops and never drops silently something the user named:
- A file is taken whatever its suffix (the content decides later). A folder is walked
  recursively for PDF, TIFF, JPEG and PNG files; names starting with "." are skipped.
- Symlinks to files are followed. A symlink to a folder is followed only the first time its
  real folder (st_dev, st_ino) is reached, so a loop of any depth ends and nothing is read twice.
- One real file is taken once per run. A file met again inside a folder or through a pattern
  is passed over; a path named as such always gets its row: a file already taken comes out
  again with `same_as` (the first path), to be reported, never processed twice.
- Glob patterns (`*`, `?`, `[…]`, `**` for any depth, as in Python's glob: hidden names only
  matched by patterns starting with ".") are matched by the same kind of walk, never by a list
  of the whole tree.
- A path that cannot be taken (missing, broken or looping symlink, permission denied, FIFO,
  socket or device, pattern or folder without a supported file) comes out as its own `Found`
  with an error, and the walk goes on.

File names are bytes on Linux. The one place they become text is `safe_text`: clean names are
only NFC-normalised; a name that is not valid UTF-8 (legacy TCVN3, VNI, CP1258 archives) or
holds control characters or invisible ones (bidi overrides such as U+202E, which can show
`hoadon<U+202E>fdp.exe` as `hoadonexe.pdf`, zero-width spaces, line separators) keeps its bytes as
`\\xNN` escapes, losslessly (see `safe_text`).
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from glob import has_magic
from pathlib import Path

from pipeline.detect import SUFFIXES
from schemas.errors import (
    InputNotFound,
    NoSupportedFiles,
    NotRegularFile,
    PermissionDenied,
    SohoaError,
    UnreadableInput,
)
from schemas.models import ErrorInfo

KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}
# Characters a name never needs and a viewer does not show as themselves: format characters
# (Cf: bidi overrides and isolates U+202A-202E, U+2066-2069, zero-width U+200B-200D, U+FEFF,
# soft hyphen) and line/paragraph separators (Zl, Zp), which break a row in two.
HIDDEN = frozenset({"Cf", "Zl", "Zp"})
Ident = tuple[int, int]  # (st_dev, st_ino): one real file or folder, whatever path reaches it


def safe_text(raw: str) -> tuple[str, str | None]:
    """A file name or path as NFC text any JSON, terminal, header or PDF can hold, and what
    was wrong with it (None when it was clean UTF-8 text).

    `raw` is what Python made of the bytes (undecodable ones as lone surrogates). Unless it is
    clean, every byte that is not valid UTF-8 or encodes a control or invisible character
    (`HIDDEN`) is written `\\xNN` and each backslash `\\\\`: reading those two escapes back
    gives the exact bytes (the record's history says when a name was escaped).
    """
    data = _raw_bytes(raw)
    text = data.decode("utf-8", "surrogateescape")
    bad_bytes = any(0xDC80 <= ord(ch) <= 0xDCFF for ch in text)
    controls = any(unicodedata.category(ch) == "Cc" for ch in text)
    hidden = any(unicodedata.category(ch) in HIDDEN for ch in text)
    if not (bad_bytes or controls or hidden):
        return unicodedata.normalize("NFC", text), None
    shown = "".join(_escaped(ch) for ch in text)
    if bad_bytes:
        problem = "not valid UTF-8"
    elif controls:
        problem = "has control characters"
    else:
        problem = "has invisible characters (bidi controls, zero-width or line separators)"
    return unicodedata.normalize("NFC", shown), problem


def _raw_bytes(raw: str) -> bytes:
    try:
        return os.fsencode(raw)
    except UnicodeEncodeError:  # a surrogate not made by surrogateescape: keep it as bytes too
        return raw.encode("utf-8", "surrogatepass")


def _escaped(ch: str) -> str:
    if 0xDC80 <= ord(ch) <= 0xDCFF:
        return f"\\x{ord(ch) - 0xDC00:02x}"
    if unicodedata.category(ch) == "Cc" or unicodedata.category(ch) in HIDDEN:
        return "".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
    return "\\\\" if ch == "\\" else ch


@dataclass(frozen=True)
class Found:
    """One file to accept, or one path the user named (or a walk met) that cannot be taken."""

    path: Path  # what to open: Python's own form of the name's bytes
    shown: str  # the path as safe text: the only form that goes into rows, messages, records
    name: str  # the file name as safe text: the record's source_name
    notes: tuple[str, ...] = ()
    error: ErrorInfo | None = None
    ident: Ident | None = field(default=None, compare=False)
    same_as: str | None = None  # a named path to a file already taken: the first path, shown

    @classmethod
    def file(cls, path: Path, ident: Ident | None = None, name: str | None = None) -> Found:
        """`name`: the name the file came with when it is not `path`'s own (an upload)."""
        shown, path_problem = safe_text(str(path))
        name, name_problem = safe_text(path.name if name is None else name)
        notes: tuple[str, ...] = ()
        if name_problem:
            notes = (f"file name {name_problem}: kept with \\xNN escapes",)
        elif path_problem:
            notes = (f"folder path {path_problem}: shown with \\xNN escapes",)
        return cls(path, shown, name, notes, None, ident)

    @classmethod
    def failed(cls, path: Path, error: SohoaError) -> Found:
        plain = cls.file(path)
        info = ErrorInfo(code=error.code, message=error.message, retryable=error.retryable)
        return cls(path, plain.shown, plain.name, plain.notes, info)


def expand_inputs(inputs: Iterable[str]) -> Iterator[Found]:
    """Files, folders (recursively, supported suffixes only) and glob patterns, in order.

    Streams: one folder's entries are held at a time, plus the set of what was already taken.
    """
    walk = _Walk()
    for raw in inputs:
        before = walk.taken
        if not raw:  # Path("") would be the current folder: never what an empty argument meant
            empty = InputNotFound("no such file or folder: '' (an empty path)")
            yield Found(Path(), "''", "", error=ErrorInfo(code=empty.code, message=empty.message))
        elif has_magic(raw) and not os.path.lexists(raw):  # "scan[1].pdf" may be a real name
            yield from walk.pattern(raw)
            if walk.taken == before:
                shown, _ = safe_text(raw)
                nothing = InputNotFound(f"no match: no file to ingest matches {shown}")
                yield Found.failed(Path(raw), nothing)
        else:
            yield from walk.named(Path(raw))


class _Walk:
    """One expansion: what was taken so far (files and folders, by identity)."""

    def __init__(self) -> None:
        self.files: dict[Ident, str] = {}  # each file taken: the path it was first taken by
        self.folders: set[Ident] = set()
        self.taken = 0  # rows produced or skipped as duplicates: "did this input give anything"

    def named(self, path: Path, *, matched: bool = False) -> Iterator[Found]:
        """A path the user named (or a pattern matched): a file, a folder, or an error.

        A named folder without any supported file is an error row; a matched one is not
        (`scans/*` may well match an empty folder): the pattern as a whole answers for it.
        """
        try:
            st = path.stat()
        except OSError as e:
            self.taken += 1
            yield Found.failed(path, path_error(path, e))
            return
        if stat.S_ISDIR(st.st_mode):
            before = self.taken
            yield from self.folder(path, st)
            if self.taken == before and not matched:
                shown, _ = safe_text(str(path))
                yield Found.failed(
                    path, NoSupportedFiles(f"no PDF, TIFF, JPEG or PNG file in folder {shown}")
                )
        else:
            yield from self._file(path, st, named=not matched)

    def folder(self, top: Path, top_st: os.stat_result) -> Iterator[Found]:
        """Depth first, files of a folder before its subfolders, each real folder once."""
        if not self._first_visit(top_st):
            self.taken += 1
            return
        stack = [top]
        while stack:
            here = stack.pop()
            subfolders: list[Path] = []
            listing = _listing(here, hidden=False)
            if isinstance(listing, SohoaError):
                self.taken += 1
                yield Found.failed(here, listing)
                continue
            for entry in listing:
                path = Path(entry.path)
                st, error = _reach(entry)
                if error is not None:
                    if _wanted(entry.name) or _is_dir_entry(entry):  # else: not ours anyway
                        self.taken += 1
                        yield Found.failed(path, error)
                elif st is not None and stat.S_ISDIR(st.st_mode):
                    if self._first_visit(st):
                        subfolders.append(path)
                elif _wanted(entry.name):
                    yield from self._file(path, st)
            stack.extend(reversed(subfolders))

    def pattern(self, raw: str) -> Iterator[Found]:
        """Every match of a glob pattern, each then taken as if named (folders walked)."""
        for match in _glob(raw):
            if isinstance(match, Found):
                self.taken += 1
                yield match
            else:
                yield from self.named(match, matched=True)

    def _file(
        self, path: Path, st: os.stat_result | None, *, named: bool = False
    ) -> Iterator[Found]:
        self.taken += 1
        if st is None:
            try:
                st = path.stat()
            except OSError as e:
                yield Found.failed(path, path_error(path, e))
                return
        kind = KINDS.get(stat.S_IFMT(st.st_mode))
        if kind is not None:
            shown, _ = safe_text(str(path))
            yield Found.failed(path, NotRegularFile(f"not a regular file: {shown} is {kind}"))
            return
        ident = (st.st_dev, st.st_ino)
        first = self.files.get(ident)
        if first is None:
            found = Found.file(path, ident)
            self.files[ident] = found.shown
            yield found
        elif named:  # the user named this path: it answers, pointing at the first one
            yield replace(Found.file(path, ident), same_as=first)

    def _first_visit(self, st: os.stat_result) -> bool:
        ident = (st.st_dev, st.st_ino)
        if ident in self.folders:
            return False
        self.folders.add(ident)
        return True


def _wanted(name: str) -> bool:
    return not name.startswith(".") and Path(name).suffix.lower() in SUFFIXES


def _listing(folder: Path, *, hidden: bool) -> list[os.DirEntry] | SohoaError:
    """A folder's entries sorted by name, or why it cannot be listed."""
    try:
        with os.scandir(folder) as listing:
            return sorted(
                (e for e in listing if hidden or not e.name.startswith(".")), key=lambda e: e.name
            )
    except OSError as e:
        return path_error(folder, e, listing=True)


def _reach(entry: os.DirEntry) -> tuple[os.stat_result | None, SohoaError | None]:
    """An entry's stat through symlinks, or why it cannot be reached.

    None for a plain file: the listing already says it is one, so a big tree of other files
    costs no system call each.
    """
    try:
        return (None if entry.is_file(follow_symlinks=False) else entry.stat()), None
    except OSError as e:
        return None, path_error(Path(entry.path), e)


def _is_dir_entry(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def path_error(path: Path, e: OSError, *, listing: bool = False) -> SohoaError:
    """The specific reason a path cannot be taken, in words a user can act on."""
    shown, _ = safe_text(str(path))
    code = e.errno
    if code in (errno.EACCES, errno.EPERM):
        if listing:
            return PermissionDenied(f"permission denied: cannot list folder {shown}")
        return PermissionDenied(
            f"permission denied: cannot reach {shown} (a folder on its path cannot be entered)"
        )
    target = _link_target(path) if code == errno.ENOENT else None
    if target is not None:
        return InputNotFound(f"broken symlink: {shown} points to {target}, which does not exist")
    if code == errno.ENOENT:
        return InputNotFound(f"no such file or folder: {shown}")
    if code == errno.ELOOP:
        return UnreadableInput(f"symlink loop: {shown} never reaches a file")
    if code == errno.ENOTDIR:
        return InputNotFound(f"no such file or folder: {shown} (a part of it is not a folder)")
    if code == errno.ENAMETOOLONG:
        return UnreadableInput(f"path too long: {shown}")
    what = "list folder" if listing else "read"
    reason, _ = safe_text(e.strerror or type(e).__name__)
    return UnreadableInput(f"cannot {what} {shown}: {reason}")


def _link_target(path: Path) -> str | None:
    try:
        return safe_text(str(path.readlink()))[0] if path.is_symlink() else None
    except OSError:
        return None


def _glob(raw: str) -> Iterator[Path | Found]:
    """Matches of a glob pattern in sorted, depth-first order; unlistable folders as errors.

    Each real folder is entered once per pattern (by identity), so `**` ends on any symlink
    loop. The pattern's parts are matched like a small automaton: a state is the index of the
    next part to match, and `**` may match zero or more folder names.
    """
    parts = Path(raw).parts
    fixed = next((i for i, p in enumerate(parts) if has_magic(p)), len(parts))
    base, rest = Path(*parts[:fixed]) if fixed else Path(), parts[fixed:]
    dirs_only = raw.endswith(os.sep)
    end = len(rest)
    try:
        base_st = base.stat()
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM, errno.ELOOP):
            yield Found.failed(base, path_error(base, e))
        return  # a missing base: the pattern matches nothing (reported by the caller)
    if not stat.S_ISDIR(base_st.st_mode):
        return
    start = _closure({0}, rest)
    if end in start:  # "folder/**" matches the folder itself, as Python's glob does
        yield base
    visited = {(base_st.st_dev, base_st.st_ino)}
    stack = [(base, start)]
    while stack:
        here, states = stack.pop()
        below: list[tuple[Path, set[int]]] = []
        listing = _listing(here, hidden=True)  # a pattern may ask for hidden names
        if isinstance(listing, SohoaError):
            yield Found.failed(here, listing)
            continue
        for entry in listing:
            st, _ = _reach(entry)  # unreachable: matched by name, and taking it says why
            is_dir = st is not None and stat.S_ISDIR(st.st_mode)
            nxt = _closure(_step(states, rest, entry.name, is_dir), rest)
            if end in nxt and (is_dir or not dirs_only):
                yield Path(entry.path)
            if st is not None and is_dir and any(s < end for s in nxt):
                ident = (st.st_dev, st.st_ino)
                if ident not in visited:
                    visited.add(ident)
                    below.append((Path(entry.path), nxt))
        stack.extend(reversed(below))


def _closure(states: set[int], parts: tuple[str, ...]) -> set[int]:
    """`**` may match no folder at all: a state before it also stands after it."""
    out = set(states)
    for s in sorted(states):
        while s < len(parts) and parts[s] == "**":
            s += 1
            out.add(s)
    return out


def _step(states: set[int], parts: tuple[str, ...], name: str, is_dir: bool) -> set[int]:
    nxt: set[int] = set()
    for s in states:
        if s >= len(parts):
            continue
        part = parts[s]
        if part == "**":  # any visible name; only a folder is then entered
            if not name.startswith("."):
                nxt.add(s)
        elif (not name.startswith(".") or part.startswith(".")) and fnmatchcase(name, part):
            nxt.add(s + 1)
    return nxt
