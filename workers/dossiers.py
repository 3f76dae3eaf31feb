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
    services: Services,
    file_code: str,
    title: str | None,
    doc_ids: Iterable[str],
    viewer: Viewer | None = None,
) -> Dossier:
    """Add finished documents to the dossier `file_code` (created on first use), in order.
    For a `viewer` (None: the operator) the dossier must be one it may change (`_changeable`),
    checked under the dossier's lock."""
    dossiers = DossierStore(services.store)
    with holding(services, dossier_lock_key(check_file_code(file_code))):
        dossier = dossiers.get(file_code)
        if dossier is not None and viewer is not None:
            dossier = _changeable(services, viewer, dossier)
        dossier = dossier or Dossier(file_code=file_code, title=title or file_code)
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
    by it (else Forbidden), checked before any is filed; the dossier one it may change."""
    doc_ids = [_managed(services, viewer, prefix).id for prefix in prefixes]
    return file_documents(services, file_code, title, doc_ids, viewer)


def remove_from_dossier(services: Services, viewer: Viewer, file_code: str, prefix: str) -> Dossier:
    doc_id = _managed(services, viewer, prefix).id
    require_dossier_seen(services, viewer, file_code)  # else "no dossier", as a missing one
    return unfile_document(services, file_code, doc_id)


def dossiers_seen(services: Services, viewer: Viewer) -> list[Dossier]:
    """Every dossier of which `viewer` sees a member (an unrestricted viewer: every one), its
    totals and dates from the members it sees (others are not counted: a count, a code or a
    title would tell of records it may not see)."""
    found = []
    for dossier in DossierStore(services.store).all():
        seen, docs = dossier_seen(services, viewer, dossier)
        if docs or viewer.unrestricted:
            found.append(seen)
    return found


def require_dossier_seen(
    services: Services, viewer: Viewer, file_code: str
) -> tuple[Dossier, list[Document]]:
    """`dossier_seen` of the dossier `file_code`; NotFound when it does not exist or `viewer`
    sees none of its members (the same answer: as if it did not exist)."""
    seen, docs = dossier_seen(services, viewer, DossierStore(services.store).require(file_code))
    if not docs and not viewer.unrestricted:
        raise NotFound(f"no dossier {file_code!r}")
    return seen, docs


def dossier_seen(
    services: Services, viewer: Viewer, dossier: Dossier
) -> tuple[Dossier, list[Document]]:
    """The dossier as `viewer` sees it: only its visible members listed and counted."""
    ids = [m.id for m in members(services, dossier.documents)]
    docs = visible_records(services, viewer, ids)
    seen = summarise(dossier, docs, stored_organ=viewer.unrestricted)
    return seen.model_copy(update={"documents": [d.id for d in docs]}), docs


def _changeable(services: Services, viewer: Viewer, dossier: Dossier) -> Dossier | None:
    """Who may file into an existing dossier and retitle it (docs/access.md, "Dossiers"): an
    unrestricted viewer; an organ that manages at least one of its members, so each owner
    organ of a dossier of several organs may. One that sees members but manages none is
    refused (Forbidden); one that sees none gets NotFound, as for a missing dossier. A dossier
    with no member left is free: filed into as a new one (None), its old title forgotten."""
    if viewer.unrestricted:
        return dossier
    if not dossier.documents:
        return None
    ids = [m.id for m in members(services, dossier.documents)]
    docs = visible_records(services, viewer, ids)
    if not docs:
        raise NotFound(f"no dossier {dossier.file_code!r}")
    if not any(manages(viewer, d.visibility) for d in docs):
        raise Forbidden(
            f"only an organ that owns a document of dossier {dossier.file_code!r} may file "
            "into it or retitle it"
        )
    return dossier


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


def summarise(dossier: Dossier, docs: list[Document], stored_organ: bool = True) -> Dossier:
    """Totals, dates and organ of the dossier from its documents `docs` as they are now. When
    they name no one organ, the organ stored with the dossier is kept if `stored_organ` (not
    for a restricted viewer: it may name the organ of records that viewer does not see)."""
    dates = sorted(_issued(d) for d in docs if _issued(d) is not None)
    organs = Counter(d.metadata.organ_id.value or d.metadata.organ_name.value for d in docs)
    organs.pop(None, None)
    fallback = dossier.organ if stored_organ else None
    return dossier.model_copy(
        update={
            "doc_total": len(docs),
            "page_total": sum(d.page_count for d in docs),
            "start_date": dates[0] if dates else None,
            "end_date": dates[-1] if dates else None,
            "organ": organs.most_common(1)[0][0] if len(organs) == 1 else fallback,
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
