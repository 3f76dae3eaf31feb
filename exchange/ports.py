"""What the exchange needs from the rest of sohoa, handed in by whoever builds it (DESIGN §1).

The exchange never imports the packages that run it or face users: whoever builds an Exchange
hands in the stored records, who may see them, and the ingest use case.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from schemas.models import Document, DocumentStatus, ErrorInfo


class RecordState(Protocol):
    @property
    def status(self) -> DocumentStatus: ...


class Records(Protocol):
    """The stored records (storage.records.RecordStore)."""

    def resolve(self, prefix: str) -> str:
        """The one record id that starts with `prefix`; NotFound otherwise."""
        ...

    def require(self, doc_id: str) -> Document: ...

    def status(self, doc_id: str) -> RecordState | None:
        """None when no record has this id (the SHA-256 of its original)."""
        ...


class RecordAccess(Protocol):
    """Who may see a record (workers/access.py, one model for every path: docs/access.md)."""

    def require_visible(self, prefix: str, organ_id: str | None) -> Document:
        """The record `prefix` names, if organ `organ_id` sees it (None: any record, for the
        operator or an admin); NotFound "no document with id …" otherwise, as if missing."""
        ...

    def deliver(self, doc_id: str, organ_id: str, message_id: str) -> bool:
        """`organ_id` received record `doc_id` in message `message_id`: it sees the record
        from now on, in search too. False when it already could through a grant."""
        ...


class Ingested(Protocol):
    """What ingesting one received attachment became (the ingest use case's Submission)."""

    doc_id: str | None
    outcome: str  # new | resumed | reused | failed
    error: ErrorInfo | None


# Store a received attachment as an original owned by the receiving organ (the second
# argument) and schedule its processing (the file is the attachment, named as the sender
# named it).
Ingest = Callable[[Path, str], Ingested]
