"""The one visibility check (schemas.access): every read of a record by a caller and the
sharing use cases go through here; indexing carries visibility (workers/visible_index.py).

An invisible record answers exactly as a missing one (NotFound, "no document with id …"), so a
caller learns nothing about records it may not see.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.access import Viewer, Visibility
from schemas.errors import NotFound
from schemas.models import Document, DocumentStatus
from workers.services import Services
from workers.visible_index import visibility_of


def resolve_visible(services: Services, viewer: Viewer, prefix: str) -> str:
    """The one record id starting with `prefix` among those `viewer` sees; NotFound otherwise
    (with the same words whether the others do not exist or are not visible)."""
    if viewer.unrestricted:
        return services.records.resolve(prefix)
    access = services.access
    seen = [
        doc.id
        for doc in services.records.readable(services.records.matching(prefix))
        if viewer.sees(visibility_of(access, doc))
    ]
    if len(seen) == 1:
        return seen[0]
    if not seen:
        raise NotFound(f"no document with id {prefix}")
    raise NotFound(f"id prefix {prefix} is ambiguous ({len(seen)} documents)")


def require_visible(services: Services, viewer: Viewer, prefix: str) -> Document:
    """The record `viewer` asked for, with its visibility attached; NotFound if it may not see
    it, as if it did not exist."""
    doc = services.records.require(resolve_visible(services, viewer, prefix))
    doc.visibility = visibility_of(services.access, doc)
    return doc


def visible_records(services: Services, viewer: Viewer, doc_ids: Iterable[str]) -> list[Document]:
    """The readable records of `doc_ids` that `viewer` sees, in order; others are left out."""
    access = services.access
    docs = []
    for doc in services.records.readable(doc_ids):
        doc.visibility = visibility_of(access, doc)
        if viewer.sees(doc.visibility):
            docs.append(doc)
    return docs


def own(services: Services, doc_id: str, organ_id: str) -> bool:
    """`organ_id` brought the bytes of record `doc_id`: it owns a new record, and is granted a
    known one owned by another organ. True when its visibility changed."""
    if not organ_id:
        return False
    access = services.access
    if access.claim_owner(doc_id, organ_id):
        return True
    if access.owner(doc_id) == organ_id:
        return False
    return access.grant(doc_id, organ_id, "upload")


def manages(viewer: Viewer, visibility: Visibility) -> bool:
    """Who may share a record or make it public: its owner organ, and unrestricted viewers."""
    return viewer.organs is None or visibility.owner in viewer.organs


def reindex(services: Services, doc: Document) -> None:
    """Index a record again after its visibility changed (what a search shows of it)."""
    if doc.status not in (DocumentStatus.done, DocumentStatus.partial):
        return
    targets = services.records.readable(doc.parts) if doc.parts else [doc]
    services.index.index(targets)
