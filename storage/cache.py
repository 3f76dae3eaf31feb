"""Originals kept as local files in front of a remote store (S3), one copy per machine.

Every OCR message needs its document's original as a file (pdfium, Tesseract); without a
cache each page downloaded the whole original again. Originals are content-addressed and never
change, so a local copy named by the digest stays true forever: it is filled once, verified
against its name, and evicted least-recently-used when the folder grows past its bound.

Safe between threads and processes sharing the folder: a copy is written aside and renamed into
place only once its SHA-256 matches its name (nobody sees a partial or damaged file), and each
use reads through its own hard link, so an eviction by another process never pulls a file from
under a reader.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from schemas.errors import StorageError
from storage.base import ObjectStore
from storage.digest import CHUNK
from storage.keys import is_content_addressed

log = logging.getLogger("sohoa.storage")

DEFAULT_MAX_BYTES = 4 * 1024**3  # ≥ 16 of the largest originals accepted (256 MiB)
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_TMP = ".tmp-"
_USE = ".use-"
_STALE_S = 24 * 3600.0  # a fill or a use left behind by a killed process
_LOCKS = 64  # downloads of one original in one process are serialised; striped: bounded


class CachedOriginals:
    """An ObjectStore that serves `local_path` of originals from a local folder; every other
    call goes to `inner` unchanged. For remote stores only: a LocalStore's `local_path` is
    already its own file, nothing to copy."""

    def __init__(
        self, inner: ObjectStore, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.inner = inner
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._locks = [threading.Lock() for _ in range(_LOCKS)]

    def __getattr__(self, name: str) -> Any:  # the inner store's extras (presigned_url)
        if name == "inner":  # not set yet (a copy being made): no endless lookup
            raise AttributeError(name)
        return getattr(self.inner, name)

    def put_bytes(self, key: str, data: bytes) -> None:
        self.inner.put_bytes(key, data)

    def create(self, key: str, data: bytes) -> bool:
        return self.inner.create(key, data)

    def put_file(self, key: str, path: Path) -> None:
        self.inner.put_file(key, path)

    def get_bytes(self, key: str) -> bytes:
        return self.inner.get_bytes(key)

    def open(self, key: str) -> BinaryIO:
        return self.inner.open(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def list(self, prefix: str) -> Iterator[str]:
        return self.inner.list(prefix)

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        digest = key.rsplit("/", 1)[-1]
        if not is_content_addressed(key) or not _DIGEST.match(digest):
            return self.inner.local_path(key)
        return self._cached(key, digest)

    @contextmanager
    def _cached(self, key: str, digest: str) -> Iterator[Path]:
        entry = self._entry(key, digest)
        # A private link: the bytes stay readable even if the entry is evicted meanwhile.
        use = Path(tempfile.mkdtemp(prefix=_USE, dir=self.folder))
        try:
            link = use / digest
            try:
                os.link(entry, link)
            except FileNotFoundError:  # evicted between fill and link: fill again, once
                os.link(self._entry(key, digest), link)
            yield link
        finally:
            shutil.rmtree(use, ignore_errors=True)

    def _entry(self, key: str, digest: str) -> Path:
        """The verified local copy of `key`, downloaded when missing (once per process)."""
        entry = self.folder / digest
        with self._locks[int(digest[:8], 16) % _LOCKS]:
            try:
                os.utime(entry)  # marks it recently used (atime is often not kept)
                return entry
            except FileNotFoundError:
                pass
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fill(key, digest, entry)
        self._evict(keep=entry)
        return entry

    def _fill(self, key: str, digest: str, entry: Path) -> None:
        fd, tmp = tempfile.mkstemp(prefix=_TMP, dir=self.folder)
        try:
            sha = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, self.inner.open(key) as body:
                while chunk := body.read(CHUNK):
                    sha.update(chunk)
                    out.write(chunk)
            if sha.hexdigest() != digest:
                raise StorageError(f"download of {key!r} arrived damaged (SHA-256 mismatch)")
            Path(tmp).replace(entry)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _evict(self, keep: Path) -> None:
        """Remove least recently used entries until the folder fits its bound."""
        entries, total = [], 0
        now = time.time()
        for path in self.folder.iterdir():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # another process removed it meanwhile
            if path.name.startswith((_TMP, _USE)):
                if now - stat.st_mtime > _STALE_S:
                    _remove(path)
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
            total += stat.st_size
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
