from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from schemas.errors import NotFound
from schemas.models import Document, DocumentStatus
from storage.base import ObjectStore
from storage.keys import record_key, status_key


class RecordStatus(BaseModel):
    status: DocumentStatus
    page_count: int = 0


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
        """The record, then its small status marker (read by polling and re-ingest)."""
        self.store.put_bytes(record_key(doc.id), doc.model_dump_json().encode())
        marker = RecordStatus(status=doc.status, page_count=doc.page_count)
        self.store.put_bytes(status_key(doc.id), marker.model_dump_json().encode())

    def status(self, doc_id: str) -> RecordStatus | None:
        """Status and page count without reading the whole record (which holds every word)."""
        try:
            return RecordStatus.model_validate_json(self.store.get_bytes(status_key(doc_id)))
        except NotFound:
            doc = self.get(doc_id)
            return (
                None if doc is None else RecordStatus(status=doc.status, page_count=doc.page_count)
            )

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
