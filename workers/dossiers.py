"""Grouping documents into dossiers (hồ sơ), with totals and dates computed from them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from schemas.models import Document, DocumentStatus, Dossier
from storage.dossiers import DossierStore, check_file_code
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
    dossier = dossiers.get(check_file_code(file_code)) or Dossier(
        file_code=file_code, title=title or file_code
    )
    if title:
        dossier.title = title
    changed = []
    for doc in members(services, doc_ids):
        if doc.id not in dossier.documents:
            dossier.documents.append(doc.id)
        if doc.dossier != file_code:
            doc.dossier = file_code
            services.records.put(doc)
            changed.append(doc)
    if changed:
        services.index.index(changed)
    dossier = summarise(dossier, members(services, dossier.documents))
    dossiers.put(dossier)
    return dossier


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
