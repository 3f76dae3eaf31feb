"""Who sees a document, on its page (the partial `document_sharing.html`): the owner organ, the
organs it is shared with, delivered to (linking the exchange message: the grant's `ref`) or
uploaded by too; for who manages it (archivists of the owner organ, admins) a form to share
with an organ of the registry, take a share back, or make it public. The use cases are
`workers.access.share/unshare/set_public`, which re-index, so the other organ's search finds
the record at once.

Also the download of the original file, `GET /documents/{id}/original`: readers who see the
record (404 otherwise, as a missing one), the exact bytes received, under the source name.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from accounts.models import Principal
from app.auth import READERS, UPLOADERS, Me, allow, viewer_of
from app.compose import Context
from app.transfer import content_disposition, file_chunks
from app.web.organs import organ_id_of
from app.web.render import page
from schemas.errors import SohoaError
from schemas.models import Document
from storage.keys import original_key
from workers.access import manages, require_visible, set_public, share, sharing, unshare
from workers.services import Services


def register_sharing_pages(api: FastAPI, context: Context) -> None:
    services = context.services
    readers = [Depends(allow(*READERS))]
    archivists = [Depends(allow(*UPLOADERS))]

    @api.post(
        "/documents/{doc_id}/sharing", response_model=None, dependencies=archivists, tags=["web"]
    )
    def change_sharing(
        request: Request,
        doc_id: str,
        me: Me,
        action: Annotated[str, Form()],
        organ: Annotated[str, Form()] = "",
    ) -> Response:
        """`action`: share (with `organ`), unshare (`organ`), public, private; then back to
        the document page."""
        viewer, by = viewer_of(me), me.login or ""
        try:
            if action == "share":
                chosen = organ_id_of(services.organs(), organ)  # an id, a label or a name
                done = share(services, viewer, doc_id, chosen, by=by)
            elif action == "unshare":
                done = unshare(services, viewer, doc_id, organ)
            else:
                done = set_public(services, viewer, doc_id, action == "public", by=by)
        except SohoaError as error:
            return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
        return RedirectResponse(f"/documents/{done.document_id}/view#sharing", status_code=303)

    @api.get("/documents/{doc_id}/original", response_model=None, dependencies=readers)
    def original(doc_id: str, me: Me) -> Response:
        """The original file as it was received (a part of a multi-document scan: that scan)."""
        doc = require_visible(services, viewer_of(me), doc_id)  # before any link is signed
        source = services.records.require(doc.source_id) if doc.source_id else doc
        key = original_key(source.id)
        disposition = content_disposition(source.source_name)  # no folders, no controls
        presign = getattr(services.store, "presigned_url", None)
        if presign is not None:
            return RedirectResponse(presign(key, disposition=disposition), status_code=307)
        return StreamingResponse(
            file_chunks(services.store.open(key)),
            media_type=source.media_type,
            headers={"Content-Disposition": disposition},
        )


def sharing_view(services: Services, me: Principal, doc: Document) -> dict[str, Any]:
    """What the document page's sharing part shows `me` about the visible record `doc`."""
    viewer = viewer_of(me)
    found = sharing(services, viewer, doc.id)
    registry = services.organs()

    def name(organ_id: str) -> str:
        organ = registry.get(organ_id)
        return f"{organ.name} ({organ_id})" if organ else organ_id

    grants = [
        {
            "organ": grant.organ,
            "name": name(grant.organ),
            "via": grant.via,
            "by": grant.by,
            "at": grant.at,
            "message_url": f"/exchange/messages/{quote(grant.ref, safe='')}" if grant.ref else None,
        }
        for grant in found.organs
    ]
    can_manage = me.role in UPLOADERS and manages(viewer, doc.visibility)
    return {
        "sharing": {
            "owner": name(found.owner) if found.owner else "",
            "public": found.public,
            "grants": grants,
            "exchanged": [g for g in grants if g["via"] == "delivery"],
            "can_manage": can_manage,
            "action": f"/documents/{doc.id}/sharing",
        },
        "original_url": f"/documents/{doc.id}/original",
    }
