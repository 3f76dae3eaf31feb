"""Dossier (hồ sơ) pages: the list with counts, pages and first/last dates, and one dossier with
its documents; archivists file documents by id and take them out. Every count, total and date
is of the members the caller sees (`workers.dossiers.dossier_seen`), and a dossier of which it
sees nothing is not listed and answers 404, as a missing one.

The list is at `/dossier-list`, not `/dossiers/view`: the JSON route `GET /dossiers/{file_code}`
would take that path ("view" is a valid file code). Filing and removal go through the use cases
of app/records_api.py (`add_to_dossier`, `remove_from_dossier`): only documents the caller's
organ owns (403), seen (404).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.models import Principal
from app.auth import READERS, UPLOADERS, Me, allow, viewer_of
from app.compose import Context
from app.web.render import page
from schemas.access import Viewer
from schemas.errors import NotFound, SohoaError
from schemas.models import Document, Dossier
from storage.dossiers import DossierStore
from workers.access import manages
from workers.dossiers import add_to_dossier, dossier_seen, dossiers_seen, remove_from_dossier
from workers.services import Services

LIST_URL = "/dossier-list"
MAX_IDS = 1000  # as the JSON route takes


class NoDocuments(SohoaError):
    code = "no_documents"
    http_status = 422


def register_dossier_pages(api: FastAPI, context: Context) -> None:
    services = context.services
    readers = [Depends(allow(*READERS))]
    archivists = [Depends(allow(*UPLOADERS))]

    @api.get(LIST_URL, response_class=HTMLResponse, dependencies=readers, tags=["web"])
    def dossier_list(request: Request, me: Me) -> HTMLResponse:
        viewer = viewer_of(me)
        shown = [_row(d) for d in dossiers_seen(services, viewer) if _shown(viewer, d)]
        context = {"dossiers": sorted(shown, key=lambda d: d["code"]), "can_file": _files(me)}
        return page(request, "dossiers.html", context, me=me)

    @api.post(LIST_URL, response_model=None, dependencies=archivists, tags=["web"])
    def dossier_file(
        request: Request,
        me: Me,
        file_code: Annotated[str, Form()],
        documents: Annotated[str, Form()] = "",
        title: Annotated[str, Form()] = "",
    ) -> Response:
        """File documents (ids or id prefixes, separated by spaces, commas or lines) into the
        dossier `file_code`, made on first use."""
        code = file_code.strip()
        try:
            ids = _ids(documents)
            add_to_dossier(services, viewer_of(me), code, title.strip() or None, ids)
        except SohoaError as error:
            return _error(request, me, error)
        return RedirectResponse(_detail_url(code), status_code=303)

    @api.get(
        "/dossiers/{file_code}/view",
        response_class=HTMLResponse,
        dependencies=readers,
        tags=["web"],
    )
    def dossier_page(request: Request, file_code: str, me: Me) -> HTMLResponse:
        try:
            context = _detail(services, me, file_code)
        except SohoaError as error:
            return _error(request, me, error)
        return page(request, "dossier.html", context, me=me)

    @api.post(
        "/dossiers/{file_code}/documents/{doc_id}/remove",
        response_model=None,
        dependencies=archivists,
        tags=["web"],
    )
    def dossier_remove(request: Request, file_code: str, doc_id: str, me: Me) -> Response:
        viewer = viewer_of(me)
        try:
            left = remove_from_dossier(services, viewer, file_code, doc_id)
        except SohoaError as error:
            return _error(request, me, error)
        # Nothing of it left to see: its page would be a 404, so back to the list.
        seen, _ = dossier_seen(services, viewer, left)
        target = _detail_url(file_code) if _shown(viewer, seen) else LIST_URL
        return RedirectResponse(target, status_code=303)


def _ids(text: str) -> list[str]:
    ids = [part for part in re.split(r"[\s,;]+", text) if part]
    if not ids:
        raise NoDocuments("name at least one document id")
    if len(ids) > MAX_IDS:
        raise NoDocuments(f"at most {MAX_IDS} documents at once")
    return ids


def _error(request: Request, me: Principal, error: SohoaError) -> HTMLResponse:
    return page(request, "error.html", {"error": error}, me=me, status=error.http_status)


def _files(me: Principal) -> bool:
    return me.role in UPLOADERS


def _shown(viewer: Viewer, dossier: Dossier) -> bool:
    """A dossier of which the viewer sees no document is, to it, no dossier at all."""
    return viewer.unrestricted or dossier.doc_total > 0


def _detail_url(file_code: str) -> str:
    return f"/dossiers/{quote(file_code, safe='')}/view"


def _row(dossier: Dossier) -> dict[str, Any]:
    return {
        "code": dossier.file_code,
        "title": dossier.title,
        "doc_total": dossier.doc_total,
        "page_total": dossier.page_total,
        "start_date": dossier.start_date,
        "end_date": dossier.end_date,
        "url": _detail_url(dossier.file_code),
    }


def _detail(services: Services, me: Principal, file_code: str) -> dict[str, Any]:
    viewer = viewer_of(me)
    found = DossierStore(services.store).get(file_code)
    if found is None:
        raise NotFound(f"no dossier {file_code!r}")
    seen, docs = dossier_seen(services, viewer, found)
    if not _shown(viewer, seen):
        raise NotFound(f"no dossier {file_code!r}")  # the same words as for a missing one
    return {
        "dossier": _row(seen),
        "documents": [_member(me, viewer, file_code, d) for d in docs],
        "can_file": _files(me),
        "list_url": LIST_URL,
    }


def _member(me: Principal, viewer: Viewer, file_code: str, doc: Document) -> dict[str, Any]:
    meta = doc.metadata
    code = "/".join(str(v) for v in (meta.code_number.value, meta.code_notation.value) if v)
    removable = _files(me) and manages(viewer, doc.visibility)
    remove = f"{_detail_url(file_code).removesuffix('/view')}/documents/{doc.id}/remove"
    return {
        "id": doc.id,
        "title": str(meta.subject.value or doc.source_name),
        "code": code,
        "date": meta.issued_date.value or "",
        "type": meta.type_name.value or "",
        "pages": doc.page_count,
        "url": f"/documents/{doc.id}/view",
        "remove_url": remove if removable else None,
    }
