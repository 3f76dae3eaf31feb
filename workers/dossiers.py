"""Grouping documents into dossiers (hồ sơ), with totals and dates computed from them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from schemas.access import Viewer
from schemas.errors import Forbidden, NotFound
from schemas.models import Document, DocumentStatus, Dossier
from storage.dossiers import DossierStore, check_file_code
from storage.keys import dossier_lock_key
from workers.access import manages, require_visible, visible_records
from workers.locks import holding, update_record
from workers.services import Services


def members(services: Services, doc_ids: Iterable[str]) -> list[Document]:
    """The documents a list of ingested files stands for: a multi-document scan by its parts."""
    found: list[Document] = []
    seen: set[str] = set()
    records = services.records
    for doc in records.readable(doc_ids):  # a damaged record is reported and left out
        if doc.status not in (DocumentStatus.done, DocumentStatus.partial):
            continue
        for member in records.readable(doc.parts) if doc.parts else [doc]:
            if member.id not in seen:
                seen.add(member.id)
                found.append(member)
    return found


def file_documents(
    services: Services, file_code: str, title: str | None, doc_ids: Iterable[str]
) -> Dossier:
    """Add finished documents to the dossier `file_code` (created on first use), in order."""
    dossiers = DossierStore(services.store)
    with holding(services, dossier_lock_key(check_file_code(file_code))):
        dossier = dossiers.get(file_code) or Dossier(file_code=file_code, title=title or file_code)
        if title:
            dossier.title = title
        changed = []
        for doc in members(services, doc_ids):
            if doc.id not in dossier.documents:
                dossier.documents.append(doc.id)
            if doc.dossier != file_code:
                changed.append(_set_dossier(services, doc.id, file_code))
        if changed:
            services.index.index(changed)
        dossier = summarise(dossier, members(services, dossier.documents))
        dossiers.put(dossier)
    return dossier


def unfile_document(services: Services, file_code: str, doc_id: str) -> Dossier:
    """Take document `doc_id` out of the dossier: the record no longer names it, the index
    shows that, and the totals and dates are those of the documents left."""
    dossiers = DossierStore(services.store)
    with holding(services, dossier_lock_key(check_file_code(file_code))):
        dossier = dossiers.require(file_code)
        if doc_id not in dossier.documents:
            raise NotFound(f"document {doc_id[:12]} is not in dossier {file_code}")
        dossier.documents.remove(doc_id)
        doc = _set_dossier(services, doc_id, None, only_from=file_code)
        if doc.status in (DocumentStatus.done, DocumentStatus.partial) and not doc.parts:
            services.index.index([doc])
        dossier = summarise(dossier, members(services, dossier.documents))
        dossiers.put(dossier)
    return dossier


def add_to_dossier(
    services: Services, viewer: Viewer, file_code: str, title: str | None, prefixes: list[str]
) -> Dossier:
    """`file_documents` for a caller: each document visible to it (else NotFound) and managed
    by it (else Forbidden), checked before any is filed."""
    doc_ids = [_managed(services, viewer, prefix).id for prefix in prefixes]
    return file_documents(services, file_code, title, doc_ids)


def remove_from_dossier(services: Services, viewer: Viewer, file_code: str, prefix: str) -> Dossier:
    return unfile_document(services, file_code, _managed(services, viewer, prefix).id)


def dossiers_seen(services: Services, viewer: Viewer) -> list[Dossier]:
    """Every dossier, its totals and dates from the members `viewer` sees (others are not
    counted: a count would tell of records it may not see)."""
    return [dossier_seen(services, viewer, d)[0] for d in DossierStore(services.store).all()]


def dossier_seen(
    services: Services, viewer: Viewer, dossier: Dossier
) -> tuple[Dossier, list[Document]]:
    """The dossier as `viewer` sees it: only its visible members listed and counted."""
    ids = [m.id for m in members(services, dossier.documents)]
    docs = visible_records(services, viewer, ids)
    seen = summarise(dossier, docs)
    return seen.model_copy(update={"documents": [d.id for d in docs]}), docs


def _managed(services: Services, viewer: Viewer, prefix: str) -> Document:
    doc = require_visible(services, viewer, prefix)
    if not manages(viewer, doc.visibility):
        raise Forbidden(f"only the organ that owns document {doc.id[:12]} may file it")
    return doc


def _set_dossier(
    services: Services, doc_id: str, file_code: str | None, only_from: str | None = None
) -> Document:
    """The record's dossier set under its lock (a correction at the same time is kept)."""

    def change(doc: Document) -> bool:
        if only_from is not None and doc.dossier != only_from:
            return False  # filed elsewhere meanwhile: that filing stands
        doc.dossier = file_code
        return True

    return update_record(services, doc_id, change)


def summarise(dossier: Dossier, docs: list[Document]) -> Dossier:
    """Totals, dates and organ of the dossier from its documents `docs` as they are now."""
    dates = sorted(_issued(d) for d in docs if _issued(d) is not None)
    organs = Counter(d.metadata.organ_id.value or d.metadata.organ_name.value for d in docs)
    organs.pop(None, None)
    return dossier.model_copy(
        update={
            "doc_total": len(docs),
            "page_total": sum(d.page_count for d in docs),
            "start_date": dates[0] if dates else None,
            "end_date": dates[-1] if dates else None,
            "organ": organs.most_common(1)[0][0] if len(organs) == 1 else dossier.organ,
        }
    )


def _issued(doc: Document) -> date | None:
    value = doc.metadata.issued_date.value
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
