from __future__ import annotations

from collections.abc import Iterator

from schemas.errors import NotFound
from schemas.models import Document
from storage.base import ObjectStore
from storage.keys import record_key


class RecordStore:
    """`Document` records as JSON objects in an ObjectStore."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def get(self, doc_id: str) -> Document | None:
        try:
            raw = self.store.get_bytes(record_key(doc_id))
        except NotFound:
            return None
        return Document.model_validate_json(raw)

    def require(self, doc_id: str) -> Document:
        doc = self.get(doc_id)
        if doc is None:
            raise NotFound(f"no document with id {doc_id}")
        return doc

    def put(self, doc: Document) -> None:
        self.store.put_bytes(record_key(doc.id), doc.model_dump_json(indent=1).encode())

    def ids(self) -> Iterator[str]:
        for key in self.store.list("records/"):
            name = key.rsplit("/", 1)[-1]
            if name.endswith(".json"):
                yield name.removesuffix(".json")

    def all(self) -> Iterator[Document]:
        for doc_id in self.ids():
            doc = self.get(doc_id)
            if doc is not None:
                yield doc

    def resolve(self, prefix: str) -> str:
        """Full id from a unique prefix, as people type the first few characters."""
        matches = [i for i in self.ids() if i.startswith(prefix.lower())]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no document with id {prefix}")
        raise NotFound(f"id prefix {prefix} is ambiguous ({len(matches)} documents)")
