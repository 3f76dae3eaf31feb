from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol


class ObjectStore(Protocol):
    """Keys are '/'-separated relative names such as `originals/<sha256>`.

    Writes are atomic: a reader sees the whole object or none. An object is never replaced
    with different bytes under a content-addressed key.
    """

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def create(self, key: str, data: bytes) -> bool:
        """Write `data` under `key` only if no object is there, atomically against concurrent
        writers (of any process or machine): True for the one writer that created it."""
        ...

    def put_file(self, key: str, path: Path) -> None:
        """Stream a local file into the store without reading it whole into memory."""
        ...

    def get_bytes(self, key: str) -> bytes: ...

    def open(self, key: str) -> BinaryIO: ...

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A filesystem path holding the object, for tools that need one (pdfium, tesseract)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str) -> Iterator[str]: ...


def put_all(store: ObjectStore, items: Iterable[tuple[str, bytes]]) -> None:
    """Several objects at once: made durable together where the store can (LocalStore's
    put_many: one journal commit instead of one per object), else one put_bytes each. Every
    object is still written atomically, as by put_bytes."""
    put_many = getattr(store, "put_many", None)
    if put_many is not None:
        put_many(items)
        return
    for key, data in items:
        store.put_bytes(key, data)
