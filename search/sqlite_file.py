"""The SQLite file under `SqliteIndex`: made, opened and checked, upgraded in place, let go
when something else changed it, set aside when damaged. Every public call of the index runs
`guarded`: SQLite's errors leave it as sohoa's own (damaged, read-only, busy)."""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from schemas.errors import (
    READ_ONLY_ERRNOS,
    IndexDamaged,
    IndexOutdated,
    IndexUnavailable,
    ReadOnlyData,
    SohoaError,
    StorageError,
)
from search.base import FACETS, issued_day

log = logging.getLogger("sohoa.search")

# Layout version in the file's user_version. (Not ElasticIndex's number: the two layouts
# changed at different times.)
SCHEMA_VERSION = 6
_SQLITE_HEADER = b"SQLite format 3\x00"
_T = TypeVar("_T")
FACET_COLUMNS = tuple(name for name in FACETS if name != "status")  # status has its own column
_FACET_COLUMNS = ", ".join(f"{name} TEXT" for name in FACET_COLUMNS)
# Visibility.keys() of each document (organ:<id>, public), clustered by key: a viewer's rows
# are one range each. Added in layout 5.
_VISIBILITY = (
    "CREATE TABLE IF NOT EXISTS visibility ("
    "key TEXT NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (key, rid)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS visibility_by_rid ON visibility (rid)",
)
# The issued date as days since 1970 (None: no date), for the date sorts: read by rid in
# (issued, id) order from this index alone. Added in layout 6, filled in place.
_DATES = (
    "ALTER TABLE documents ADD COLUMN issued INTEGER",
    "CREATE INDEX IF NOT EXISTS documents_by_issued ON documents (issued, id)",
)

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES ('generation', 0);
CREATE TABLE documents (
    rid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, seg INTEGER NOT NULL,
    source_name TEXT, status TEXT, page_count INTEGER, metadata TEXT,
    {_FACET_COLUMNS}, issued INTEGER,
    failed_pages TEXT  -- JSON list of page numbers, for a partial document
);
CREATE INDEX documents_by_name ON documents (source_name, id);
{_DATES[1]};
CREATE INDEX documents_by_seg ON documents (seg);
CREATE TABLE pages (key INTEGER PRIMARY KEY, text TEXT NOT NULL);  -- rid << 20 | page_no
CREATE TABLE segments (
    seg INTEGER PRIMARY KEY AUTOINCREMENT, level INTEGER NOT NULL, docs INTEGER NOT NULL,
    rids BLOB NOT NULL, lens BLOB NOT NULL, facets BLOB NOT NULL
);
CREATE TABLE postings (
    col INTEGER NOT NULL, term TEXT NOT NULL, seg INTEGER NOT NULL,
    rids BLOB NOT NULL, freqs BLOB NOT NULL,
    PRIMARY KEY (col, term, seg)
) WITHOUT ROWID;
CREATE INDEX postings_by_seg ON postings (seg);
CREATE TABLE deleted (rid INTEGER PRIMARY KEY, seg INTEGER NOT NULL);
CREATE INDEX deleted_by_seg ON deleted (seg);
CREATE TABLE facet_codes (
    facet TEXT NOT NULL, value TEXT NOT NULL, code INTEGER NOT NULL, PRIMARY KEY (facet, value)
) WITHOUT ROWID;
{";".join(_VISIBILITY)};
"""
_TABLES = ("meta", "documents", "pages", "segments", "postings", "deleted", "facet_codes")
_TABLES += ("visibility",)
_OLD_TABLES = ("doc_fts", "page_fts")
# Layouts that become this one by added columns and tables alone, with the statements that add
# them. Documents indexed before layout 5 have no visibility keys: admins alone find them
# until `sohoa reindex` (fail closed). Their issued dates are filled from their metadata.
_UPGRADES = {
    3: ("ALTER TABLE documents ADD COLUMN failed_pages TEXT", *_VISIBILITY, *_DATES),
    4: (*_VISIBILITY, *_DATES),
    5: _DATES,
}
_UPGRADABLE_TABLES = set(_TABLES) - {"visibility"}  # what layouts 3 and 4 hold


def rollback(db: sqlite3.Connection) -> None:
    """Roll back what is open; after some damage SQLite has already done so itself."""
    if db.in_transaction:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _fill_issued(db: sqlite3.Connection) -> None:
    """The issued date of every document indexed before layout 6, from its metadata."""
    rows = db.execute("SELECT rid, metadata FROM documents").fetchall()
    days = ((issued_day(json.loads(m or "{}").get("issued_date")), rid) for rid, m in rows)
    db.executemany("UPDATE documents SET issued = ? WHERE rid = ?", days)


def guarded(method: Callable[..., _T]) -> Callable[..., _T]:
    """SQLite's errors leave a public method as sohoa's own: damaged, read-only, busy. After
    damage the file is let go: the next call opens it again, finding the one `reindex` made
    meanwhile (in this process or another). A file changed under the open connection since it
    was opened (replaced, cut, written by something else than SQLite) is let go before the
    call, so what the call reads is checked again from the file itself. The whole call holds
    the connection's lock: no other thread lets it go halfway."""

    @functools.wraps(method)
    def call(self: SqliteFile, *args: Any, **kwargs: Any) -> _T:
        with self._lock:
            self._let_go_if_changed()
            try:
                return method(self, *args, **kwargs)
            except sqlite3.DatabaseError as e:
                error = self._translate(e)
                if isinstance(error, IndexDamaged):
                    self._disconnect()
                raise error from e
            except IndexDamaged:
                self._disconnect()
                raise
            finally:
                self._note_shm()

    return call


class SqliteFile:
    """The file is opened on first use, so commands that never search (show, export) work
    whatever state it is in. Opened read-only where this user may not write (and then with
    `immutable=1` when even the -shm beside it cannot be made); checked on opening (header,
    layout version, tables) and, by `rebuild()`, with `PRAGMA quick_check`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # One re-entrant lock for the connection: opening, using and letting it go.
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._opened_as: tuple[int, ...] | None = None  # _file_state() when it was opened
        self._shm_seen: tuple[int, int] | None = None  # (inode, largest size) of the -shm
        self._closed = False
        self.read_only = False

    # -- opening and checking ----------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            with self._lock:
                if self._closed:
                    raise IndexUnavailable(f"the search index {self.path} was closed")
                if self._conn is None:
                    self._conn = self._open()
                conn = self._conn
        return conn

    def _file_state(self) -> tuple[int, ...] | None:
        """What changes when the file is replaced, cut or written: one stat, no read."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _let_go_if_changed(self) -> None:
        """SQLite trusts its page cache while the -wal says nothing changed, so a file damaged
        or replaced by something else would be served stale. Any change (a checkpoint of
        another process's writes too) makes the next call open and check the file again."""
        if self._conn is None:
            return
        self._mend_shm()
        if self._file_state() != self._opened_as:
            self._disconnect()

    def _shm_state(self) -> tuple[int, int] | None:
        try:
            st = self._sidecar("-shm").stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size)

    def _note_shm(self) -> None:
        """SQLite maps the -shm into memory (always, in WAL mode) and only ever grows it while
        a connection has it open; its largest size seen is what may be mapped here."""
        now = self._shm_state() if self._conn is not None else None
        seen = self._shm_seen
        if now is None or seen is None or now[0] != seen[0] or now[1] > seen[1]:
            self._shm_seen = now

    def _mend_shm(self) -> None:
        """A -shm cut by something else under the mapping kills this process with SIGBUS at
        the next touch, even closing the connection: it is grown back to its mapped size
        first (zeros: SQLite then rebuilds the wal-index from the -wal), and let go."""
        now, seen = self._shm_state(), self._shm_seen
        if now is None or seen is None or now[0] != seen[0] or now[1] >= seen[1]:
            return
        log.warning("%s was cut by another program; growing it back", self._sidecar("-shm"))
        try:
            os.truncate(self._sidecar("-shm"), seen[1])
        except OSError as e:
            log.error("cannot grow %s back: %s", self._sidecar("-shm"), e.strerror or e)
            return
        self._opened_as = None  # opened again and checked at once

    def _open(self) -> sqlite3.Connection:
        if not self.path.exists() and not self.path.is_symlink():
            self._create()
        # Taken before the checks: a change during them is seen by the next call.
        opened_as = self._file_state()
        self._check_file()
        self.read_only = not self._writable()
        db = None
        try:
            db = self._connect_read_only() if self.read_only else self._connect("mode=rw")
            if not self.read_only:
                db.execute("PRAGMA journal_mode=WAL")  # files made here are already WAL
            db.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache
            # No memory map, whatever SQLite's build default: a mapped page of a file cut by
            # another process kills this one with SIGBUS (a server too). Measured at 10,000
            # documents, 1,200 queries each way in one run: p50 3.5 ms without, 3.3 ms with.
            db.execute("PRAGMA mmap_size=0")
            self._check_layout(db)
        except BaseException as e:
            if db is not None:
                db.close()
            if isinstance(e, sqlite3.DatabaseError):
                raise self._translate(e) from e
            raise
        self._opened()
        self._opened_as = opened_as
        return db

    def _connect(self, options: str) -> sqlite3.Connection:
        uri = f"file:{quote(str(self.path.absolute()))}?{options}"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA busy_timeout=10000")  # reads no page: cannot fail on damage
        return db

    def _connect_read_only(self) -> sqlite3.Connection:
        """Read-only; WAL readers need the -shm file beside the index, so where it cannot be
        made either, the file is read as immutable (without a -wal a crash may have left)."""
        db = self._connect("mode=ro")
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError as e:
            if not (e.sqlite_errorname or "").startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
                raise
            db.close()
        wal = self._sidecar("-wal")
        if wal.is_file() and wal.stat().st_size:
            log.warning(
                "reading %s without its write-ahead log %s (the folder is read-only): the "
                "latest changes may be missing",
                self.path,
                wal.name,
            )
        return self._connect("mode=ro&immutable=1")

    def _sidecar(self, suffix: str) -> Path:
        return self.path.with_name(self.path.name + suffix)

    def _writable(self) -> bool:
        """Whether this user may write the index and make its -wal/-shm files beside it."""
        files = [self.path] + [p for p in map(self._sidecar, ("-wal", "-shm")) if p.exists()]
        return os.access(self.path.parent, os.W_OK | os.X_OK) and all(
            os.access(p, os.W_OK) for p in files
        )

    def _check_file(self) -> None:
        """Damage a look at the file shows, before SQLite reads it (cheap: 16 bytes)."""
        if self.path.is_dir():
            raise IndexDamaged(self.path, "a folder is in its place")
        for sidecar in map(self._sidecar, ("-wal", "-shm")):
            if sidecar.exists() and not sidecar.is_file():
                raise IndexDamaged(self.path, f"{sidecar.name} beside it is not a file")
        if not self.path.is_file():
            raise IndexDamaged(self.path, "not a regular file")
        try:
            with self.path.open("rb") as f:
                head = f.read(len(_SQLITE_HEADER))
        except OSError as e:
            raise IndexUnavailable(
                f"cannot read the search index {self.path}: {e.strerror or e}"
            ) from e
        if not head:
            raise IndexDamaged(self.path, "the file is empty")
        if head != _SQLITE_HEADER:
            raise IndexDamaged(self.path, "not a SQLite database: its first bytes are not SQLite's")

    def _check_layout(self, db: sqlite3.Connection) -> None:
        """The file is this version's index: layout version, tables, generation row. Reading
        them makes SQLite check the header against the file (a cut file is found here)."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables and not version and not self.read_only:
            self._create_tables(db)  # an empty SQLite file, e.g. made by an interrupted old run
            return
        if version == SCHEMA_VERSION and tables >= set(_TABLES):
            if db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone() is None:
                raise IndexDamaged(self.path, "its generation row is missing")
            return
        if version in _UPGRADES and tables >= _UPGRADABLE_TABLES and not self.read_only:
            self._upgrade(db)
            if "visibility" not in tables:  # older than layout 5
                log.warning(
                    "search index %s upgraded: documents indexed before are found by admins "
                    "alone until `sohoa reindex` indexes who may see them",
                    self.path,
                )
            return
        if 0 < version < SCHEMA_VERSION and tables & {"documents", *_OLD_TABLES}:
            raise IndexOutdated(self.path, f"version {version}; this sohoa reads {SCHEMA_VERSION}")
        names = ", ".join(sorted(tables)[:6]) or "none"
        raise IndexDamaged(
            self.path, f"not a sohoa search index: layout version {version}, tables {names}"
        )

    @staticmethod
    def _upgrade(db: sqlite3.Connection) -> None:
        """A layout one step old gains its new columns in place: what is indexed stays, and
        `sohoa reindex` fills them for documents indexed before."""
        db.execute("BEGIN IMMEDIATE")
        try:
            # checked again under the write lock: another process may have just upgraded it
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for statement in _UPGRADES.get(version, ()):
                db.execute(statement)
            if version in _UPGRADES:
                _fill_issued(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _create(self) -> None:
        """A new, empty index, made aside and linked into place: no process ever sees a
        half-made file, and of processes racing to make it, the first one's is used."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.new-")
        except OSError as e:
            if e.errno not in READ_ONLY_ERRNOS:
                raise
            raise ReadOnlyData(self.path.parent, f"create the search index {self.path.name}") from e
        os.close(fd)
        try:
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                self._create_tables(db)
            finally:
                db.close()
            with suppress(FileExistsError):  # made by another process meanwhile: theirs is used
                os.link(tmp, self.path)
        finally:
            for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
                Path(leftover).unlink(missing_ok=True)

    @staticmethod
    def _create_tables(db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                db.execute("ROLLBACK")  # made by another process meanwhile
                return
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _translate(self, e: sqlite3.DatabaseError) -> SohoaError:
        name = getattr(e, "sqlite_errorname", "") or ""
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return IndexDamaged(self.path, str(e))
        if name == "SQLITE_IOERR_SHORT_READ":  # cut under an open connection
            return IndexDamaged(self.path, "the file is shorter than its pages")
        if name.startswith("SQLITE_READONLY"):
            return ReadOnlyData(self.path.parent, f"change the search index {self.path.name}")
        if name.startswith("SQLITE_FULL"):
            return StorageError(f"the disk holding the search index {self.path} is full")
        error = IndexUnavailable(f"cannot use the search index {self.path}: {e}")
        error.retryable = name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
        return error

    def _problem(self) -> IndexDamaged | None:
        """What keeps the index from being rebuilt in place: anything opening finds, or
        damage `PRAGMA quick_check` finds in any page (it reads them all: for rebuild only)."""
        try:
            rows = self._db.execute("PRAGMA quick_check(5)").fetchall()
        except IndexDamaged as e:
            return e
        except sqlite3.DatabaseError as e:
            error = self._translate(e)
            if isinstance(error, IndexDamaged):
                return error
            raise error from e
        if rows != [("ok",)]:
            return IndexDamaged(self.path, "; ".join(str(r[0]) for r in rows))
        return None

    def _set_aside(self, problem: IndexDamaged) -> Path:
        """Move the damaged file (and its -wal/-shm) aside, kept for a look, not deleted."""
        self._disconnect()
        suffix = "outdated" if isinstance(problem, IndexOutdated) else "damaged"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.{suffix}-{stamp}")
        for extra in ("", "-wal", "-shm"):
            source = self._sidecar(extra)
            if source.exists() or source.is_symlink():
                source.rename(aside.with_name(aside.name + extra))
        log.warning(
            "search index %s: %s; kept as %s, rebuilding from the records",
            self.path,
            problem.reason,
            aside.name,
        )
        return aside

    def _require_writable(self, action: str) -> None:
        folder_ok = os.access(self.path.parent, os.W_OK | os.X_OK) or not self.path.parent.exists()
        if not folder_ok or (self._conn is not None and self.read_only):
            raise ReadOnlyData(self.path.parent, action)

    def _opened(self) -> None:
        """A file was opened (again): what was read from the one before is forgotten."""

    def _disconnect(self, final: bool = False) -> None:
        with self._lock:
            self._closed = self._closed or final
            if self._conn is not None:
                self._conn.close()
                self._conn = None
