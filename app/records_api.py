"""What the archivist's pages call: metadata corrections, an upload's progress and retry, and
dossier membership (issue 16). Each route only parses, calls a use case of `workers/` with
the caller's viewer, and renders; a record the caller cannot see answers 404 as a missing one,
one it sees but does not manage 403."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from app import views
from app.auth import READERS, UPLOADERS, Me, allow, viewer_of
from app.duplicates_api import register_duplicate_routes
from schemas.access import Viewer
from schemas.errors import SohoaError
from schemas.models import Dossier
from workers.dossiers import add_to_dossier, dossier_seen, dossiers_seen, remove_from_dossier
from workers.retry import progress, retry_failed_pages
from workers.review import confirm_field, correct_field
from workers.runtime import WorkerPool
from workers.services import Services


class MetadataEdit(BaseModel):
    """`{"field", "value"}` sets the field (null or "" clears it); `{"field", "confirm":
    true}` confirms the machine's value."""

    field: str
    value: Any = None
    confirm: bool = False


class DossierAdd(BaseModel):
    documents: list[str] = Field(min_length=1, max_length=1000)
    title: str | None = None


class EditRefused(SohoaError):
    code = "bad_edit"


def register_record_routes(api: FastAPI, services: Services, pool: WorkerPool) -> None:
    readers = [Depends(allow(*READERS))]
    archivists = [Depends(allow(*UPLOADERS))]
    register_duplicate_routes(api, services)  # probable duplicates (issue 20)

    @api.patch("/documents/{doc_id}/metadata", dependencies=archivists)
    def edit_metadata(doc_id: str, edit: MetadataEdit, me: Me) -> dict[str, Any]:
        """Correct or confirm one metadata field: it gets confidence 1, the history names you,
        the review reasons and the index follow at once."""
        viewer, editor = viewer_of(me), me.login or me.organ_id
        if edit.confirm == ("value" in edit.model_fields_set):
            raise EditRefused('send either "value" or "confirm": true with the field')
        if edit.confirm:
            doc = confirm_field(services, viewer, doc_id, edit.field, editor)
        else:
            doc = correct_field(services, viewer, doc_id, edit.field, edit.value, editor)
        return views.document_json(doc)

    @api.get("/documents/{doc_id}/progress", dependencies=readers)
    def document_progress(doc_id: str, me: Me) -> dict[str, Any]:
        """Status and pages done so far: cheap enough to poll every second."""
        return asdict(progress(services, pool, viewer_of(me), doc_id))

    @api.post("/documents/{doc_id}/retry", status_code=202, dependencies=archivists)
    def retry(doc_id: str, me: Me) -> dict[str, Any]:
        """Read the failed pages of a partial or failed document again from its original;
        poll its progress. 409 when no page failed."""
        doc = retry_failed_pages(services, pool, viewer_of(me), doc_id, me.login or me.organ_id)
        return {"document_id": doc.id, "status": doc.status.value}

    @api.get("/dossiers", dependencies=readers)
    def dossier_list(me: Me) -> dict[str, Any]:
        """Every dossier, counted from the documents you may see."""
        found = dossiers_seen(services, viewer_of(me))
        return {"dossiers": [d.model_dump(mode="json", exclude={"documents"}) for d in found]}

    @api.post("/dossiers/{file_code}/documents", dependencies=archivists)
    def dossier_add(file_code: str, body: DossierAdd, me: Me) -> dict[str, Any]:
        """File documents you manage into the dossier (made on first use, titled `title`)."""
        viewer = viewer_of(me)
        found = add_to_dossier(services, viewer, file_code, body.title, body.documents)
        return _dossier_json(services, viewer, found)

    @api.delete("/dossiers/{file_code}/documents/{doc_id}", dependencies=archivists)
    def dossier_remove(file_code: str, doc_id: str, me: Me) -> dict[str, Any]:
        viewer = viewer_of(me)
        found = remove_from_dossier(services, viewer, file_code, doc_id)
        return _dossier_json(services, viewer, found)


def _dossier_json(services: Services, viewer: Viewer, dossier: Dossier) -> dict[str, Any]:
    """As GET /dossiers/{code} answers: the members the caller sees, and only those counted."""
    seen, docs = dossier_seen(services, viewer, dossier)
    body = seen.model_dump(mode="json")
    body["documents"] = [views.review_json(d) for d in docs]
    return body
