"""The probable duplicates of the review queue (issue 20): the pairs the caller sees both
records of, and one pair side by side, the matching pages first, with merge and dismiss forms
(archivists and admins; the use cases check that the caller manages both records)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth import READERS, UPLOADERS, Me, allow, viewer_of
from app.web.render import page
from schemas.errors import SohoaError
from workers.duplicates import SeenPair, dismiss, merge, open_duplicates, seen_pair
from workers.services import Services


def register_duplicate_pages(api: FastAPI, services: Services) -> None:
    readers = [Depends(allow(*READERS))]
    archivists = [Depends(allow(*UPLOADERS))]

    @api.get("/review/pairs", response_class=HTMLResponse, dependencies=readers, tags=["web"])
    def pairs(request: Request, me: Me, a: str = "", b: str = "", done: str = "") -> Response:
        viewer = viewer_of(me)
        try:
            found = open_duplicates(services, viewer)
            current = seen_pair(services, viewer, a, b) if a and b else None
        except SohoaError as error:
            return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
        if current is None and found:
            current = found[0]
        context = {
            "pairs": [_entry(p) for p in found],
            "current": _side_by_side(current) if current else None,
            "done": done,
            "can_decide": me.role in UPLOADERS,
        }
        return page(request, "review_pairs.html", context, me=me)

    @api.post("/review/pairs", response_model=None, dependencies=archivists, tags=["web"])
    def decide(
        request: Request,
        me: Me,
        a: Annotated[str, Form()],
        b: Annotated[str, Form()],
        action: Annotated[str, Form()],
    ) -> Response:
        """`action=merge` keeps `a` (b becomes its rescan); `action=dismiss`."""
        viewer, editor = viewer_of(me), me.login or me.organ_id
        try:
            if action == "merge":
                merge(services, viewer, a, b, editor)
            else:
                dismiss(services, viewer, a, b, editor)
        except SohoaError as error:
            return page(request, "error.html", {"error": error}, me=me, status=error.http_status)
        return RedirectResponse(f"/review/pairs?{urlencode({'done': action})}", status_code=303)


def _url(seen: SeenPair) -> str:
    return "/review/pairs?" + urlencode({"a": seen.pair.new, "b": seen.pair.existing})


def _entry(seen: SeenPair) -> dict[str, Any]:
    return {
        "url": _url(seen),
        "new": seen.new,
        "existing": seen.existing,
        "pair": seen.pair,
    }


def _side_by_side(seen: SeenPair) -> dict[str, Any]:
    """Each matching page of the two, side by side; the first pages when only the DocumentId
    links them."""
    matches = [(m.page_no, m.other_page_no, m) for m in seen.pair.pages] or [(1, 1, None)]
    return {
        "pair": seen.pair,
        "new": seen.new,
        "existing": seen.existing,
        "rows": [
            {
                "new_image": f"/documents/{seen.new.id}/pages/{n}/image?size=page",
                "existing_image": f"/documents/{seen.existing.id}/pages/{o}/image?size=page",
                "new_page": n,
                "existing_page": o,
                "match": m,
            }
            for n, o, m in matches
        ],
    }
