from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator

from pydantic import BaseModel, ValidationError

from schemas.errors import DamagedRecord, NotFound
from schemas.models import Document, DocumentStatus
from storage.base import ObjectStore, put_all
from storage.keys import record_key, status_key

log = logging.getLogger("sohoa.storage")

OnDamaged = Callable[[DamagedRecord], None]


def _log_damaged(error: DamagedRecord) -> None:
    log.warning("%s: skipped", error.message)


def _why(error: ValidationError) -> str:
    """The first thing wrong with a record, in a line."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    reason = f"{first['msg']} at {where}" if where else first["msg"]
    return reason if len(reason) <= 200 else reason[:199] + "…"


class RecordStatus(BaseModel):
    """The small marker written beside each record: what polling, re-ingest and the
    look-alike check need, without reading the record (which holds every page's words).
    `digest` and `merged` are None in markers written before they existed: then the record
    itself is read."""

    status: DocumentStatus
    page_count: int = 0
    # SHA-256 of the record's JSON bytes as written: an intact record is known by hashing
    # its bytes (~1 ms for 1.5 MB) instead of parsing and validating them (~100 ms).
    digest: str | None = None
    merged: bool | None = None  # merged into another record as its rescan (`rescan_of`)


def _marker(doc: Document, raw: bytes | None) -> RecordStatus:
    return RecordStatus(
        status=doc.status,
        page_count=doc.page_count,
        digest=None if raw is None else hashlib.sha256(raw).hexdigest(),
        merged=doc.rescan_of is not None,
    )


class RecordStore:
    """`Document` records as JSON objects in an ObjectStore."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def get(self, doc_id: str) -> Document | None:
        try:
            raw = self.store.get_bytes(record_key(doc_id))
        except NotFound:
            return None
        try:
            return Document.model_validate_json(raw)
        except ValidationError as e:  # cut, garbled or not a record at all
            raise DamagedRecord(doc_id, _why(e)) from e

    def require(self, doc_id: str) -> Document:
        doc = self.get(doc_id)
        if doc is None:
            raise NotFound(f"no document with id {doc_id}")
        return doc

    def put(self, doc: Document, first: Iterable[tuple[str, bytes]] = ()) -> None:
        """The record, then its small status marker (read by polling and re-ingest): made
        durable together (put_all: one sync on a local folder), put in place in that order,
        after the objects `first` (what the record names, e.g. a part's PDF)."""
        put_all(self.store, self.objects(doc, first))

    def objects(
        self, doc: Document, first: Iterable[tuple[str, bytes]] = ()
    ) -> list[tuple[str, bytes]]:
        """What `put` writes, in its order (for a caller that writes several records in one
        put_all)."""
        raw = doc.model_dump_json().encode()
        marker = _marker(doc, raw).model_dump_json().encode()
        return [*first, (record_key(doc.id), raw), (status_key(doc.id), marker)]

    def status(self, doc_id: str) -> RecordStatus | None:
        """Status and page count without reading the whole record (which holds every word)."""
        try:
            return RecordStatus.model_validate_json(self.store.get_bytes(status_key(doc_id)))
        except NotFound:
            pass
        except ValidationError:
            log.warning("status marker of record %s is damaged: reading the record", doc_id)
        doc = self.get(doc_id)
        return None if doc is None else _marker(doc, None)

    def intact(self, doc_id: str, known: RecordStatus) -> bool | None:
        """Whether the record's bytes are the ones its marker `known` was written with (a
        record cut by a crash or garbled is not); None when the marker is too old to say."""
        if known.digest is None:
            return None
        try:
            raw = self.store.get_bytes(record_key(doc_id))
        except NotFound:
            return False
        return hashlib.sha256(raw).hexdigest() == known.digest

    def ids(self) -> Iterator[str]:
        for key in self.store.list("records/"):
            name = key.rsplit("/", 1)[-1]
            if name.endswith(".json"):
                yield name.removesuffix(".json")

    def all(self, on_damaged: OnDamaged = _log_damaged) -> Iterator[Document]:
        """Every record; a damaged one is reported to `on_damaged` and skipped."""
        return self.readable(self.ids(), on_damaged)

    def readable(
        self, doc_ids: Iterable[str], on_damaged: OnDamaged = _log_damaged
    ) -> Iterator[Document]:
        """The records of `doc_ids` that exist; damaged ones go to `on_damaged`, skipped."""
        for doc_id in doc_ids:
            try:
                doc = self.get(doc_id)
            except DamagedRecord as e:
                on_damaged(e)
                continue
            if doc is not None:
                yield doc

    def matching(self, prefix: str) -> list[str]:
        """Ids that start with `prefix` (people type the first few characters)."""
        return [i for i in self.ids() if i.startswith(prefix.lower())]

    def resolve(self, prefix: str) -> str:
        """Full id from a unique prefix, as people type the first few characters."""
        matches = self.matching(prefix)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no document with id {prefix}")
        raise NotFound(f"id prefix {prefix} is ambiguous ({len(matches)} documents)")
