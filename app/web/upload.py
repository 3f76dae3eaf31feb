"""The upload page and its batches (archivists, admins).

With JS (static/upload.js) the page sends the files one by one to `POST /documents`, records
each in a batch (`POST /batches`, `POST /batches/{id}/documents`), polls each document's
`GET /documents/{id}/progress` every second, files the finished ones into the dossier named and
offers the retry of failed pages. Without JS the same form posts every file at once to
`POST /upload` (its CSRF token in the action URL: app/auth.py), which takes each as
`POST /documents` does (app/uploads.py) and sends the browser to the batch page, which
refreshes itself (`<meta http-equiv=refresh>`) until every file has finished.

A batch is seen by its organ's users and admins only; anyone else gets 404 as for a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from accounts.models import Principal
from app.auth import UPLOADERS, Me, allow, viewer_of
from app.compose import Context
from app.uploads import take_upload, upload_name
from app.web.i18n import STRINGS, language
from app.web.render import page
from schemas.batches import BatchFile
from schemas.errors import NotFound, SohoaError
from schemas.text import nfc
from workers.batches import (
    add_files,
    batch_rows,
    file_finished,
    recent_batches,
    require_batch,
    start_batch,
)
from workers.jobs import FILED
from workers.retry import retry_failed_pages
from workers.runtime import WorkerPool

REFRESH_SECONDS = 2  # the batch page without JS, while a file is still worked on


class BatchStart(BaseModel):
    dossier: str | None = Field(default=None, max_length=80)
    title: str | None = Field(default=None, max_length=500)


class BatchEntry(BaseModel):
    """One uploaded file as `POST /documents` answered it, or its refusal (`error`)."""

    name: str = Field(max_length=1000)
    document_id: str | None = Field(default=None, max_length=64)
    outcome: str = Field(default="", max_length=20)
    error: str | None = Field(default=None, max_length=2000)


def register_upload_pages(api: FastAPI, context: Context, pool: WorkerPool) -> None:
    services = context.services
    uploaders = [Depends(allow(*UPLOADERS))]

    @api.get("/upload", response_class=HTMLResponse, dependencies=uploaders, tags=["web"])
    def upload_page(request: Request, me: Me) -> HTMLResponse:
        return _upload_form(request, me)

    @api.post("/upload", response_model=None, dependencies=uploaders, tags=["web"])
    def upload_files(
        request: Request,
        me: Me,
        files: Annotated[list[UploadFile] | None, File()] = None,
        dossier: Annotated[str, Form(max_length=80)] = "",
        title: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        """The form without JS: every file taken as POST /documents takes it, one batch."""
        chosen = [f for f in files or [] if f.filename]  # an empty file input sends one ""
        if not chosen:
            error = STRINGS[language(request)]["choose_files"]
            return _upload_form(request, me, error=error, status=422)
        try:
            batch = start_batch(
                services,
                login=me.login or me.organ_id,
                organ=me.organ_id,
                dossier=nfc(dossier).strip() or None,
                title=nfc(title).strip() or None,
            )
        except SohoaError as error:  # a dossier code that cannot be one
            return _upload_form(request, me, error=error.message, status=error.http_status)
        taken = [_take(file, me) for file in chosen]
        add_files(services, viewer_of(me), batch.id, taken)
        return RedirectResponse(f"/batches/{batch.id}", status_code=303)

    def _take(file: UploadFile, me: Principal) -> BatchFile:
        name = nfc(upload_name(file))
        try:
            sub = take_upload(services, pool, file, me.organ_id)
        except SohoaError as refused:  # not a PDF or image, too large: this file's row
            return BatchFile(name=name, error=refused.message)
        return BatchFile(name=name, document_id=sub.doc_id, outcome=sub.outcome)

    @api.post("/batches", status_code=201, dependencies=uploaders, tags=["web"])
    def new_batch(body: BatchStart, me: Me) -> dict[str, Any]:
        """A batch for the files the page is about to send (JSON, with X-CSRF-Token)."""
        batch = start_batch(
            services,
            login=me.login or me.organ_id,
            organ=me.organ_id,
            dossier=nfc(body.dossier or "").strip() or None,
            title=nfc(body.title or "").strip() or None,
        )
        return {"batch_id": batch.id, "url": f"/batches/{batch.id}"}

    @api.post("/batches/{batch_id}/documents", dependencies=uploaders, tags=["web"])
    def batch_add(batch_id: str, body: BatchEntry, me: Me) -> dict[str, Any]:
        """Record one file the page uploaded (or that was refused) in the batch."""
        entry = BatchFile(**{**body.model_dump(), "name": nfc(body.name)})
        batch = add_files(services, viewer_of(me), batch_id, [entry])
        return {"batch_id": batch.id, "files": len(batch.files)}

    @api.get("/batches", response_class=HTMLResponse, dependencies=uploaders, tags=["web"])
    def batch_list(request: Request, me: Me) -> HTMLResponse:
        return page(
            request, "batches.html", {"batches": recent_batches(services, viewer_of(me))}, me=me
        )

    @api.get(
        "/batches/{batch_id}", response_class=HTMLResponse, dependencies=uploaders, tags=["web"]
    )
    def batch_page(request: Request, batch_id: str, me: Me) -> HTMLResponse:
        viewer = viewer_of(me)
        try:
            batch = require_batch(services, viewer, batch_id)
        except SohoaError as error:  # another organ's batch: as a missing one
            return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
        rows = batch_rows(services, pool, viewer, batch)
        running = any(r.result == "pending" for r in rows)
        unfiled = batch.dossier is not None and any(
            r.result in FILED and r.dossier != batch.dossier for r in rows
        )
        view = {
            "batch": batch,
            "rows": rows,
            "refresh": REFRESH_SECONDS if running else None,
            "unfiled": unfiled,
            "csrf": me.csrf_token or "",
        }
        return page(request, "batch.html", view, me=me)

    @api.post("/batches/{batch_id}/file", response_model=None, dependencies=uploaders, tags=["web"])
    def batch_file(request: Request, batch_id: str, me: Me) -> Response:
        """The batch page's form: file its finished documents into its dossier."""
        viewer = viewer_of(me)
        try:
            file_finished(services, pool, viewer, require_batch(services, viewer, batch_id))
        except SohoaError as error:
            return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
        return RedirectResponse(f"/batches/{batch_id}", status_code=303)

    @api.post(
        "/batches/{batch_id}/retry", response_model=None, dependencies=uploaders, tags=["web"]
    )
    def batch_retry(
        request: Request, batch_id: str, me: Me, document_id: Annotated[str, Form(max_length=64)]
    ) -> Response:
        """The batch page's form: read the failed pages of one of its documents again."""
        viewer = viewer_of(me)
        try:
            batch = require_batch(services, viewer, batch_id)
            if document_id not in {f.document_id for f in batch.files}:
                raise NotFound(f"no document {document_id!r} in this batch")
            retry_failed_pages(services, pool, viewer, document_id, me.login or me.organ_id)
        except SohoaError as error:
            return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
        return RedirectResponse(f"/batches/{batch.id}", status_code=303)


def _upload_form(
    request: Request, me: Principal, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    csrf = me.csrf_token or ""  # a bearer token needs none
    view = {
        "action": "/upload?" + urlencode({"csrf_token": csrf}),
        "csrf": csrf,
        "error": error,
    }
    return page(request, "upload.html", view, me=me, status=status)
