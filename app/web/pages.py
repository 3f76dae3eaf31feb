"""The page routes: login form, search, document (with page images and hits on them).

Every read goes through the caller's viewer (`app.auth.viewer_of`): the search gets it, and a
document or page image is loaded with `require_visible` first, so a record the caller may not
see answers 404 exactly like a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.auth import READERS, Me, allow, safe_next, viewer_of
from app.compose import Context
from app.filters import parse_sort
from app.web.admin import register_admin_pages
from app.web.exchange import register_exchange_pages
from app.web.i18n import STRINGS, language
from app.web.images import PageImages, Size
from app.web.markup import hit_boxes, marked, marked_terms
from app.web.organs import register_organ_search
from app.web.render import SECURITY_HEADERS, STATIC_DIR, page
from app.web.review import register_review_pages
from app.web.sharing import sharing_view
from app.web.upload import register_upload_pages
from schemas.accounts import Role
from schemas.errors import NotReady, SohoaError
from schemas.models import Document, DocumentStatus, PageResult, is_local_organ
from schemas.text import nfc
from search.base import SORTS, SearchHit, SearchResults
from storage.keys import pdf_key
from workers.access import require_visible
from workers.pages import full_page
from workers.runtime import WorkerPool
from workers.services import Services

PAGE_SIZE = 10
# Filters offered on the search page, in this order ("status" is for operators: the CLI's).
WEB_FACETS = ("organ", "level", "type", "year", "signer", "dossier", "needs_review")
READY = (DocumentStatus.done, DocumentStatus.partial)


def register_web_routes(api: FastAPI, context: Context, pool: WorkerPool) -> None:
    services = context.services
    images = PageImages(services.store, context.settings.data_dir / "cache" / "page-images")
    readers = [Depends(allow(*READERS))]
    register_exchange_pages(api, context, pool)
    api.mount("/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    # POST /login (app/auth.py) shows the form again through this when a browser's login fails.
    api.state.login_page = _login_failed
    register_upload_pages(api, context, pool)  # app/web/upload.py
    register_admin_pages(api, context)  # users and tokens, audit log, system status
    register_organ_search(api, context)  # the organ fields' GET /organs?q= (app/web/organs.py)

    @api.get("/login", response_class=HTMLResponse, tags=["web"])
    def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
        return page(request, "login.html", {"next": safe_next(next), "error": None})

    # A clerk does not search: its landing page is the exchange inbox.
    @api.get(
        "/",
        response_class=HTMLResponse,
        dependencies=[Depends(allow(*READERS, Role.clerk))],
        tags=["web"],
    )
    def search_page(
        request: Request,
        me: Me,
        q: str = "",
        page_no: Annotated[int, Query(alias="page", ge=1, le=1000)] = 1,
        sort: str = "relevance",
    ) -> Response:
        if me.role == Role.clerk:
            return RedirectResponse("/exchange", status_code=303)
        query = nfc(q).strip()
        filters = {f: request.query_params[f] for f in WEB_FACETS if request.query_params.get(f)}
        results = services.index.search(
            query,
            viewer=viewer_of(me),
            filters=filters,
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
            sort=parse_sort(sort),  # refused: 422 (BadSort)
        )
        view = _search_view(query, filters, sort, page_no, results)
        return page(request, "search.html", view, me=me)

    @api.get(
        "/documents/{doc_id}/view", response_class=HTMLResponse, dependencies=readers, tags=["web"]
    )
    def document_page(
        request: Request,
        doc_id: str,
        me: Me,
        q: str = "",
        page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
    ) -> HTMLResponse:
        try:
            doc = require_visible(services, viewer_of(me), doc_id)
        except SohoaError as error:  # 404 for a missing or invisible record, as a page
            return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
        view = _document_view(services, doc, nfc(q).strip(), page_no)
        view |= sharing_view(services, me, doc)  # who sees it, exchanged with (app/web/sharing.py)
        return page(request, "document.html", view, me=me)

    @api.get(
        "/documents/{doc_id}/pages/{page_no}/image",
        response_class=FileResponse,
        dependencies=readers,
        tags=["web"],
    )
    def page_image(doc_id: str, page_no: int, me: Me, size: Size = Size.page) -> FileResponse:
        """Page `page_no` of the searchable PDF as PNG (thumb, page or zoom width)."""
        doc = require_visible(services, viewer_of(me), doc_id)  # before anything is read
        if doc.status not in READY:
            raise NotReady(f"document is {doc.status.value}; no page images yet")
        headers = {**SECURITY_HEADERS, "Cache-Control": "private, max-age=3600"}
        return FileResponse(images.png(doc, page_no, size), media_type="image/png", headers=headers)

    register_review_pages(api, context)  # review queue, sharing, dossiers (app/web/review.py)


def _login_failed(request: Request, error: SohoaError, fields: dict[str, str]) -> HTMLResponse:
    strings = STRINGS[language(request)]
    shown = {"unauthorized": strings["login_failed"], "login_locked": strings["login_locked"]}
    context = {
        "next": safe_next(fields.get("next", "")),
        "error": shown.get(error.code, error.message),
        "login_value": fields.get("login", ""),
    }
    shown_page = page(request, "login.html", context, status=error.http_status)
    if error.retry_after:  # 429: when to try again, as the JSON answer says it
        shown_page.headers["Retry-After"] = str(error.retry_after)
    return shown_page


# ------------------------------------------------------------------ search page


def _search_view(
    query: str, filters: dict[str, str], sort: str, page_no: int, results: SearchResults
) -> dict[str, Any]:
    def url(changes: dict[str, str | None]) -> str:
        """This search with `changes` (None: that parameter dropped); page 1 unless given."""
        params = {"q": query, **filters, "sort": sort, **changes}
        params["sort"] = None if params["sort"] == "relevance" else params["sort"]  # the default
        return "/?" + urlencode({k: v for k, v in params.items() if v})

    facets = []
    for name in WEB_FACETS:
        counts = results.facets.get(name) or {}
        values = [
            {
                "value": value,
                "count": n,
                "active": filters.get(name) == value,
                "url": url({name: None if filters.get(name) == value else value}),
            }
            for value, n in counts.items()
        ]
        if values:
            facets.append({"name": name, "values": values})
    pages = max(1, -(-results.total // PAGE_SIZE))
    return {
        "query": query,
        "filters": filters,
        "sort": sort,
        # another order starts again at page 1: page n of one order is no part of another's
        "sorts": [{"value": s, "active": s == sort, "url": url({"sort": s})} for s in SORTS],
        "filter_urls": {name: url({name: None}) for name in filters},
        "results": results,
        "hits": [_hit_view(hit, query) for hit in results.hits],
        "facets": facets,
        "page_no": page_no,
        "pages": pages,
        "first_rank": (page_no - 1) * PAGE_SIZE + 1,
        "prev_url": url({"page": str(page_no - 1)}) if page_no > 1 else None,
        "next_url": url({"page": str(page_no + 1)}) if page_no < pages else None,
        "clear_url": url(dict.fromkeys(filters)),
    }


def _hit_view(hit: SearchHit, query: str) -> dict[str, Any]:
    meta = hit.metadata
    code = "/".join(str(meta[k]) for k in ("code_number", "code_notation") if meta.get(k))
    first_page = hit.pages[0].page_no if hit.pages else 1
    return {
        "id": hit.doc_id,
        "title": str(meta.get("subject") or hit.source_name),
        "source_name": hit.source_name,
        "code": code,
        "organ": meta.get("organ_name") or "",
        "date": meta.get("issued_date") or "",
        "type": meta.get("type_name") or "",
        "status": hit.status,
        "page_count": hit.page_count,
        "url": f"/documents/{hit.doc_id}/view?" + urlencode({"q": query, "page": first_page}),
        "snippets": [(p.page_no, marked(p.snippet, p.spans)) for p in hit.pages],
    }


# ------------------------------------------------------------------ document page


def _document_view(services: Services, doc: Document, query: str, page_no: int) -> dict[str, Any]:
    page_no = min(page_no, max(doc.page_count, 1))
    current = next((p for p in doc.pages if p.page_no == page_no), None)
    has_images = doc.status in READY and services.store.exists(pdf_key(doc.id))
    meta = doc.metadata
    fields = [
        {
            "name": name,
            "value": _shown(f.value),
            "confidence": f.confidence,
            # a local organ's code (pipeline/local_organ.py) is said to be no official one
            "local": name in ("organ_id", "document_id") and is_local_organ(f.value),
        }
        for name, f in meta.fields().items()
        if f.value not in (None, "", [])
    ]
    base = f"/documents/{doc.id}"

    def page_url(n: int) -> str:
        return f"{base}/view?" + urlencode({"q": query, "page": n} if query else {"page": n})

    return {
        "doc": doc,
        "query": query,
        "title": str(meta.subject.value or doc.source_name),
        "fields": fields,
        "page_no": page_no,
        "page_links": [(n, page_url(n)) for n in range(1, doc.page_count + 1)],
        "image_base": f"{base}/pages",
        "has_images": has_images,
        "current": current,
        "boxes": _boxes(services, doc, current, query),
        "text": marked_terms(current.text, query) if current else "",
        "pdf_url": f"{base}/pdf" if doc.status in READY else None,
        "back_url": "/?" + urlencode({"q": query}) if query else "/",
    }


def _boxes(services: Services, doc: Document, page: PageResult | None, query: str) -> list:
    """The query's word boxes on the page shown: its words are read from its stored page
    result (the record holds a summary), only when there is a query to mark."""
    if page is None or not page.width_px or not query.strip():
        return []
    return hit_boxes(full_page(services, doc.id, page), query)


def _shown(value: Any) -> str:
    return "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
