"""The review queue (issue 16): the documents flagged for review that the caller sees, one at a
time beside its page image, every metadata field correctable or confirmable inline.

The queue is the index's `needs_review=true` documents read through the caller's viewer (and
checked again record by record with `visible_records`, as `GET /review` does). A field form
posts to `POST /documents/{id}/fields`, which calls `workers.review.correct_field` or
`confirm_field` with the login as editor: the use case re-indexes, so the search shows the new
value at once. Officers read the queue; only archivists and admins post (403 before the body is
read); a record of another organ answers 404 as a missing one.

`register_review_pages` also registers the sharing (app/web/sharing.py) and dossier
(app/web/dossier_pages.py) pages: the one call `register_web_routes` makes for this slice.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.models import Principal
from app.auth import READERS, UPLOADERS, Me, allow, viewer_of
from app.compose import Context
from app.web.dossier_pages import register_dossier_pages
from app.web.duplicates import register_duplicate_pages
from app.web.render import page
from app.web.sharing import register_sharing_pages
from schemas.access import Viewer
from schemas.errors import SohoaError
from schemas.fields import METADATA_FIELDS
from schemas.models import Document, DocumentStatus
from storage.keys import pdf_key
from workers.access import manages, require_visible, visible_records
from workers.duplicates import open_duplicates
from workers.review import confirm_field, correct_field
from workers.services import Services

QUEUE_LIMIT = 200  # documents listed in the queue at once (the index's first ones)
READY = (DocumentStatus.done, DocumentStatus.partial)


def register_review_pages(api: FastAPI, context: Context) -> None:
    services = context.services
    readers = [Depends(allow(*READERS))]
    archivists = [Depends(allow(*UPLOADERS))]

    @api.get("/review/queue", response_class=HTMLResponse, dependencies=readers, tags=["web"])
    def review_queue(
        request: Request,
        me: Me,
        doc: str = "",
        page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
        saved: str = "",
    ) -> HTMLResponse:
        """The queue, and one document of it (`doc`, else the first) with its field forms."""
        try:
            view = queue_view(services, me, doc, page_no)
        except SohoaError as error:  # 404 for a missing or invisible record, as a page
            return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
        return page(request, "review.html", {**view, "saved": saved, "error": None}, me=me)

    @api.post(
        "/documents/{doc_id}/fields",
        response_model=None,
        dependencies=archivists,
        tags=["web"],
    )
    def review_field(
        request: Request,
        doc_id: str,
        me: Me,
        field: Annotated[str, Form()],
        action: Annotated[str, Form()] = "correct",
        value: Annotated[str, Form()] = "",
    ) -> Response:
        """One field corrected (`action=correct`, `value`; empty clears it) or confirmed
        (`action=confirm`), then back to the document in the queue."""
        viewer, editor = viewer_of(me), me.login or me.organ_id
        try:
            if action == "confirm":
                done = confirm_field(services, viewer, doc_id, field, editor)
            else:
                done = correct_field(services, viewer, doc_id, field, _typed(field, value), editor)
        except SohoaError as error:
            return _refused(request, services, me, doc_id, field, error)
        target = "/review/queue?" + urlencode({"doc": done.id, "saved": field})
        return RedirectResponse(target, status_code=303)

    register_sharing_pages(api, context)
    register_dossier_pages(api, context)
    register_duplicate_pages(api, services)  # probable duplicates (issue 20)


def _typed(field: str, value: str) -> str | list[str]:
    """A list field comes from a textarea, one item a line."""
    kinds = {f.name: f.kind for f in METADATA_FIELDS}
    if kinds.get(field) == "list":
        return [line for line in value.splitlines() if line.strip()]
    return value


def _refused(
    request: Request,
    services: Services,
    me: Principal,
    doc_id: str,
    field: str,
    error: SohoaError,
) -> HTMLResponse:
    """The queue page again with the reason beside the field; an error page when the document
    itself cannot be shown (missing, or another organ's: 404)."""
    try:
        view = queue_view(services, me, doc_id, 1)
    except SohoaError:
        return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
    context = {**view, "saved": "", "error": {"field": field, "message": error.message}}
    return page(request, "review.html", context, me=me, status=error.http_status)


# ------------------------------------------------------------------ the page's data


def queue_view(services: Services, me: Principal, doc_id: str, page_no: int) -> dict[str, Any]:
    viewer = viewer_of(me)
    queue = _queue(services, viewer)
    ids = [d.id for d in queue]
    if doc_id:
        current: Document | None = require_visible(services, viewer, doc_id)
    else:
        current = queue[0] if queue else None
    at = ids.index(current.id) if current is not None and current.id in ids else None
    prev_id = ids[at - 1] if at is not None and at > 0 else None
    next_id = ids[at + 1] if at is not None and at + 1 < len(ids) else None
    if current is not None and at is None and ids:  # it just left the queue: on to the first
        next_id = ids[0] if ids[0] != current.id else None
    return {
        "queue": [_entry(d) for d in queue],
        "current": _current_view(services, me, current, page_no) if current else None,
        "position": at + 1 if at is not None else None,
        "prev_url": _doc_url(prev_id),
        "next_url": _doc_url(next_id),
        "queue_limit": QUEUE_LIMIT,
        "pairs_waiting": len(open_duplicates(services, viewer)),  # issue 20
    }


def _queue(services: Services, viewer: Viewer) -> list[Document]:
    """The flagged documents the viewer sees, in the index's order."""
    found = services.index.search(
        "", viewer=viewer, filters={"needs_review": "true"}, limit=QUEUE_LIMIT
    )
    return visible_records(services, viewer, (hit.doc_id for hit in found.hits))


def _doc_url(doc_id: str | None) -> str | None:
    return f"/review/queue?{urlencode({'doc': doc_id})}" if doc_id else None


def _entry(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "title": _title(doc),
        "reasons": doc.metadata.review_reasons,
        "url": _doc_url(doc.id),
    }


def _title(doc: Document) -> str:
    return str(doc.metadata.subject.value or doc.source_name)


def _current_view(services: Services, me: Principal, doc: Document, page_no: int) -> dict[str, Any]:
    page_no = min(page_no, max(doc.page_count, 1))
    has_images = doc.status in READY and services.store.exists(pdf_key(doc.id))
    editable = (
        me.role in UPLOADERS
        and manages(viewer_of(me), doc.visibility)
        and doc.status in READY
        and not doc.parts
    )
    values = doc.metadata.fields()
    fields = [
        {
            "name": spec.name,
            "kind": spec.kind,
            "key": spec.key,
            "value": _shown(values[spec.name].value),
            "confidence": values[spec.name].confidence,
            "unsure": spec.key and values[spec.name].confidence < spec.threshold,
            "empty": values[spec.name].value in (None, "", []),
        }
        for spec in METADATA_FIELDS
    ]
    base = f"/documents/{doc.id}"
    return {
        "doc": doc,
        "title": _title(doc),
        "fields": fields,
        "editable": editable,
        "page_no": page_no,
        "has_images": has_images,
        "image_url": f"{base}/pages/{page_no}/image?size=page",
        "page_links": [
            (n, f"/review/queue?{urlencode({'doc': doc.id, 'page': n})}")
            for n in range(1, doc.page_count + 1)
        ],
        "view_url": f"{base}/view",
        "action": f"{base}/fields",
    }


def _shown(value: Any) -> str:
    """The value as the form shows it: a list one item a line, nothing for an empty field."""
    if value in (None, "", []):
        return ""
    if isinstance(value, list):
        return "\n".join(map(str, value))
    return str(value)
