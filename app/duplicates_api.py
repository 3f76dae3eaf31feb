"""Probable duplicates in the review queue (issue 20): the pairs the caller sees both records
of, and a person's merge or dismissal. Each route parses, calls `workers.duplicates` with the
caller's viewer, and renders; a pair with a record the caller cannot see answers 404."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel

from app.auth import READERS, UPLOADERS, Me, allow, viewer_of
from storage.duplicates import Pair
from workers.duplicates import SeenPair, dismiss, merge, open_duplicates, seen_pair
from workers.services import Services


class MergeBody(BaseModel):
    keep: str  # the record kept (id or prefix)
    other: str  # merged into it as its rescan


class DismissBody(BaseModel):
    documents: tuple[str, str]


def evidence(pair: Pair) -> str:
    """`same DocumentId …; page 1 ~ page 1 (text 0.92), …`"""
    parts = [f"same DocumentId {pair.same_document_id}"] if pair.same_document_id else []
    parts += [f"page {m.page_no} ~ page {m.other_page_no} ({m.shown})" for m in pair.pages]
    return "; ".join(parts) or "no page matches"


def pair_json(seen: SeenPair) -> dict[str, Any]:
    pair = seen.pair
    return {
        **pair.model_dump(mode="json"),
        "documents": {
            doc.id: {"source_name": doc.source_name, "page_count": doc.page_count}
            for doc in (seen.new, seen.existing)
        },
    }


def register_duplicate_routes(api: FastAPI, services: Services) -> None:
    readers = [Depends(allow(*READERS))]
    archivists = [Depends(allow(*UPLOADERS))]

    @api.get("/review/duplicates", dependencies=readers)
    def duplicates(me: Me) -> dict[str, Any]:
        """Probable duplicates waiting for a person, with the evidence (matching pages and how
        closely, or the same DocumentId); only pairs whose two records you see."""
        found = open_duplicates(services, viewer_of(me))
        return {"total": len(found), "pairs": [pair_json(p) for p in found]}

    @api.get("/review/duplicates/{a}/{b}", dependencies=readers)
    def duplicate(a: str, b: str, me: Me) -> dict[str, Any]:
        return pair_json(seen_pair(services, viewer_of(me), a, b))

    @api.post("/review/duplicates/merge", dependencies=archivists)
    def merge_pair(body: MergeBody, me: Me) -> dict[str, Any]:
        """Keep one record; the other stays stored, linked as its rescan, out of the search."""
        viewer = viewer_of(me)
        pair = merge(services, viewer, body.keep, body.other, me.login or me.organ_id)
        return pair_json(seen_pair(services, viewer, pair.new, pair.existing))

    @api.post("/review/duplicates/dismiss", dependencies=archivists)
    def dismiss_pair(body: DismissBody, me: Me) -> dict[str, Any]:
        """Not a duplicate: remembered, never proposed again."""
        viewer = viewer_of(me)
        pair = dismiss(services, viewer, *body.documents, me.login or me.organ_id)
        return pair_json(seen_pair(services, viewer, pair.new, pair.existing))
