"""Upload batches as small JSON objects (`batches/<id>.json`); ids sort by creation time."""

from __future__ import annotations

import re
from collections.abc import Iterator

from schemas.batches import Batch
from schemas.errors import NotFound
from storage.base import ObjectStore
from storage.keys import batch_key

BATCH_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}$")  # 20250101T120000-1a2b3c4d


class BatchStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def require(self, batch_id: str) -> Batch:
        """The batch, or NotFound (an id not of our making too: it never becomes a key)."""
        missing = NotFound(f"no batch {batch_id!r}")
        if not BATCH_ID.match(batch_id):
            raise missing
        try:
            return Batch.model_validate_json(self.store.get_bytes(batch_key(batch_id)))
        except NotFound:
            raise missing from None

    def put(self, batch: Batch) -> None:
        self.store.put_bytes(batch_key(batch.id), batch.model_dump_json().encode())

    def newest_first(self) -> Iterator[Batch]:
        ids = [k.rsplit("/", 1)[-1].removesuffix(".json") for k in self.store.list("batches/")]
        for batch_id in sorted((i for i in ids if BATCH_ID.match(i)), reverse=True):
            try:
                yield self.require(batch_id)
            except NotFound:  # removed since the listing
                continue
