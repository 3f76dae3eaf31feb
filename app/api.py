"""HTTP API: the same operations as the CLI, for other systems and the web UI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from fastapi_offline import FastAPIOffline

from accounts.service import Accounts
from app import uploads, views
from app.auth import (
    PRINCIPAL_KEY,
    READERS,
    UPLOADERS,
    Authenticate,
    Me,
    Resolver,
    allow,
    register_login_routes,
    viewer_of,
)
from app.compose import Context
from app.config import Settings
from app.filters import SORT_HELP, parse_filters, parse_sort
from app.filters import SYNTAX as FILTER_SYNTAX
from app.login_limits import ClientLimit
from app.pki_api import register_pki_routes
from app.records_api import register_record_routes
from app.transfer import BodyLimit, content_disposition, file_chunks
from app.uploads import UPLOAD_PATHS, take_upload
from app.web import register_web_routes
from schemas.accounts import Role
from schemas.errors import NotReady, SohoaError
from schemas.models import DocumentStatus
from search.base import MAX_OFFSET
from storage.keys import pdf_key
from workers.access import (
    Sharing,
    require_visible,
    set_public,
    share,
    sharing,
    unshare,
    visible_records,
)
from workers.dossiers import require_dossier_seen
from workers.duplicates import shown_to
from workers.runtime import WorkerPool

# Every other route's body: JSON of a few fields (a list of record ids, a status note).
DEFAULT_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    context = Context(settings or Settings())
    settings, services = context.settings, context.services
    # Embedded default: this process also runs the workers; with a server broker it only submits.
    pool = WorkerPool(services, settings.broker, settings.workers, consume=not settings.broker)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Iterator[None]:  # type: ignore[misc]
        pool.start()
        yield
        pool.stop()

    # /docs and /redoc with Swagger UI and ReDoc served from the installed package: offline too.
    api = FastAPIOffline(title="sohoa", version="1", lifespan=lifespan)
    api.state.worker_pool = pool  # its queue, shown on the admin status page (app/web/admin.py)
    from app.exchange_api import body_limits, register_exchange_routes

    exchange_limits = body_limits(services.exchange.max_bytes)

    def limits(method: str, path: str) -> int | None:
        if method == "POST" and path in UPLOAD_PATHS:
            return uploads.MAX_UPLOAD_BYTES + uploads.MULTIPART_SLACK_BYTES
        return exchange_limits(method, path)

    # Every route has a body limit: DEFAULT_BODY_BYTES unless `limits` names a larger one.
    # Authenticate is added after this, i.e. outside it: a request without a valid credential
    # is answered 401 before any of its body is read.
    api.add_middleware(BodyLimit, limits=limits, default=DEFAULT_BODY_BYTES)
    accounts = Accounts(services.store, session_hours=settings.session_hours)
    readers = [Depends(allow(*READERS))]
    managers = [Depends(allow(*UPLOADERS))]  # and of the record's owner organ (workers.access)

    @api.get("/health", response_model=None)
    def health(request: Request) -> dict[str, Any] | JSONResponse:
        """ok (200) or not ok (503) to anyone: a probe needs no more. To an admin's credential
        also what the index holds, or why it cannot answer (a count of records is no one
        else's business)."""
        caller = request.scope.get(PRINCIPAL_KEY)  # Authenticate resolves one here if sent
        admin = caller is not None and caller.role == Role.admin
        try:
            indexed = services.index.count()
        except Exception:
            if admin:
                raise  # its own answer: 503 with the reason, e.g. "run sohoa reindex"
            return JSONResponse({"status": "not ok"}, status_code=503)
        return {"status": "ok", "indexed": indexed} if admin else {"status": "ok"}

    @api.get("/search", dependencies=readers)
    def search(
        me: Me,
        q: str = "",
        limit: Annotated[int, Query(ge=1, le=200)] = 10,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        filter: Annotated[  # noqa: A002
            list[str] | None, Query(description=f"{FILTER_SYNTAX}; repeat for more")
        ] = None,
        sort: Annotated[str, Query(description=SORT_HELP)] = "relevance",
    ) -> dict[str, Any]:
        wanted = parse_filters(filter or [])  # the CLI's parser; refused: 422 (BadFilter)
        viewer = viewer_of(me)
        results = services.index.search(
            q, viewer=viewer, filters=wanted, limit=limit, offset=offset, sort=parse_sort(sort)
        )
        return views.results_json(results, scores=viewer.unrestricted)

    @api.get("/documents/{doc_id}", dependencies=readers)
    def document(doc_id: str, me: Me) -> dict[str, Any]:
        viewer = viewer_of(me)
        return views.document_json(
            shown_to(services, viewer, require_visible(services, viewer, doc_id))
        )

    @api.get("/review", dependencies=readers)
    def review(me: Me, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
        """Documents whose metadata needs a person's look, with the reasons."""
        viewer = viewer_of(me)
        wanted = {"needs_review": "true"}
        results = services.index.search("", viewer=viewer, filters=wanted, limit=limit)
        docs = visible_records(services, viewer, (h.doc_id for h in results.hits))
        return {"total": results.total, "documents": [views.review_json(d) for d in docs]}

    @api.get("/dossiers/{file_code}", dependencies=readers)
    def dossier(file_code: str, me: Me) -> dict[str, Any]:
        found, docs = require_dossier_seen(services, viewer_of(me), file_code)
        body = found.model_dump(mode="json")
        body["documents"] = [views.review_json(d) for d in docs]
        return body

    @api.get("/documents/{doc_id}/pdf", response_model=None, dependencies=readers)
    def searchable_pdf(doc_id: str, me: Me) -> RedirectResponse | StreamingResponse:
        doc = require_visible(services, viewer_of(me), doc_id)  # before any link is signed
        full_id = doc.id
        if doc.status not in (DocumentStatus.done, DocumentStatus.partial):
            raise NotReady(f"document is {doc.status.value}; no PDF yet")
        disposition = content_disposition(Path(doc.source_name).stem + ".pdf")
        presign = getattr(services.store, "presigned_url", None)
        if presign is not None:
            url = presign(pdf_key(full_id), disposition=disposition)
            return RedirectResponse(url, status_code=307)
        return StreamingResponse(
            file_chunks(services.store.open(pdf_key(full_id))),
            media_type="application/pdf",
            headers={"Content-Disposition": disposition},
        )

    @api.get("/documents/{doc_id}/shares", dependencies=readers)
    def shares(doc_id: str, me: Me) -> dict[str, Any]:
        """Who sees the document: its owner organ, the organs it is shared with or was
        delivered to, and whether it is public."""
        return sharing(services, viewer_of(me), doc_id).model_dump(mode="json")

    @api.post("/documents/{doc_id}/shares", status_code=201, dependencies=managers)
    def add_share(
        doc_id: str, me: Me, response: Response, organ: Annotated[str, Body(embed=True)]
    ) -> dict[str, Any]:
        """Let another organ see the document (archivists of its owner organ, admins): 201,
        or 200 when that organ already saw it."""
        done = share(services, viewer_of(me), doc_id, organ, by=me.login or "")
        return _answer(done, response)

    @api.delete("/documents/{doc_id}/shares/{organ}", dependencies=managers)
    def remove_share(doc_id: str, organ: str, me: Me) -> dict[str, Any]:
        return unshare(services, viewer_of(me), doc_id, organ).model_dump(mode="json")

    @api.put("/documents/{doc_id}/public", dependencies=managers)
    def make_public(
        doc_id: str, me: Me, public: Annotated[bool, Body(embed=True)]
    ) -> dict[str, Any]:
        """`{"public": true}`: everyone sees the document; false: no longer."""
        done = set_public(services, viewer_of(me), doc_id, public, by=me.login or "")
        return done.model_dump(mode="json")

    @api.post("/documents", status_code=202, dependencies=[Depends(allow(*UPLOADERS))])
    def upload(file: Annotated[UploadFile, File()], me: Me) -> dict[str, Any]:
        """Store the original at once, then queue it; poll GET /documents/{id}/progress."""
        sub = take_upload(services, pool, file, me.organ_id)
        return {
            "document_id": sub.doc_id,
            "outcome": sub.outcome,
            "error": sub.error.model_dump() if sub.error else None,
        }

    @api.exception_handler(SohoaError)
    def sohoa_error(_: Any, error: SohoaError):  # noqa: ANN202
        body = {"error": error.code, "message": error.message}
        after = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        return JSONResponse(body, status_code=error.http_status, headers=after)

    clients = ClientLimit(
        settings.login_client_failures,
        settings.login_client_window_s,
        settings.trusted_proxy_networks,
    )
    register_login_routes(api, accounts, clients)
    register_web_routes(api, context, pool)  # the pages for people (app/web/)
    exchange = register_exchange_routes(api, services, pool)
    register_pki_routes(api, exchange.ctx.pki)  # the CA's CRLs and OCSP responder: public
    register_record_routes(api, services, pool)
    api.add_middleware(Authenticate, resolve=Resolver(accounts, exchange.organ_for_token))
    return api


def _answer(done: Sharing, response: Response) -> dict[str, Any]:
    if not done.changed:
        response.status_code = 200
    return done.model_dump(mode="json")
