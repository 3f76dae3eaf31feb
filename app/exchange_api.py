"""HTTP endpoints of the edXML exchange; registered on the app by app/api.py.

Every call names its organ by a per-organ API token (`sohoa exchange token ORGAN`, for
organ-to-organ transport) or by a user's token or session whose role is clerk or admin (it acts
for the user's organ), sent as `Authorization: Bearer <token>`: no credential or an unknown one
is 401 (app/auth.py's Authenticate, before a byte of the body is read), another role is 403. A
message id or prefix is resolved among the messages the organ may see (it sent or received
them, or they are public): any other answers 404 "no message …", as a missing one; recalling,
making public or resending one it did not send is 403, without naming the sender.

Build and send act for the caller's organ (an admin may name another with `from`; anyone else
naming another organ is 403) and take only records that organ sees (an admin: any record): a
record it may not see is 404 "no document with id …", as a missing one (docs/access.md).
"""

import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from accounts.models import Principal
from app.auth import EXCHANGERS, allow, principal, viewer_of
from app.transfer import content_disposition, file_chunks, read_body, spool_body
from exchange.ledger import STATUS_MAX_BYTES
from exchange.models import Kind
from exchange.service import Exchange
from exchange.statuses import STATUS_NAMES, Status
from schemas.accounts import Role
from schemas.errors import Forbidden, NotFound
from workers.exchange_jobs import queue_deliveries
from workers.exchange_setup import build_exchange
from workers.runtime import WorkerPool
from workers.services import Services


def body_limits(max_bytes: int):  # noqa: ANN201
    """Routes whose body may exceed app.api's default, for app.transfer.BodyLimit."""

    def limit(method: str, path: str) -> int | None:
        if method == "POST" and path == "/exchange/receive":
            return max_bytes
        return None

    return limit


class SendRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    documents: list[str] = []
    sender: str | None = Field(None, alias="from")  # an admin's choice; others: their organ
    to: list[str]
    kind: Kind = Kind.new
    responds_to: str | None = None
    reason: str = ""
    attach: str = "original"


ORGANS_PAGE = 100  # organs a GET /exchange/organs answers unless asked for more
ORGANS_MAX_PAGE = 1000


class StatusRequest(BaseModel):
    code: Status
    note: str = ""


def register_exchange_routes(api: FastAPI, services: Services, pool: WorkerPool) -> Exchange:
    exchange = build_exchange(services, enqueue=lambda doc_id: pool.actors.ingest.send(doc_id))
    exchanger = allow(*EXCHANGERS, organ_tokens=True)

    def organ(me: Annotated[Principal, Depends(exchanger)]) -> str:
        """The organ the caller acts for: an organ token's, or a clerk's or admin's own."""
        return me.organ_id

    Organ = Annotated[str, Depends(organ)]
    Caller = Annotated[Principal, Depends(exchanger)]

    def sender_for(me: Principal, named: str | None) -> str:
        """The organ a build or send is made for: the caller's own; only an admin may name
        another (a clerk or an organ token acts for its organ alone)."""
        if not named or named == me.organ_id:
            return me.organ_id
        if me.role != Role.admin:
            who = f"user {me.login}" if me.login else "an organ token"
            raise Forbidden(f"{who} acts only for organ {me.organ_id}, not for {named}")
        return named

    def deliver(message_id: str) -> None:
        queue_deliveries(pool, message_id, exchange.state(message_id).recipients)

    @api.get("/exchange/organs", dependencies=[Depends(principal)])
    def organs(
        level: str | None = None,
        limit: Annotated[int, Query(ge=1, le=ORGANS_MAX_PAGE)] = ORGANS_PAGE,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        """One page of the registry (the national one holds ~38,000 organs, ~14 MB as JSON),
        by level then OrganId, with the total so a caller can page on."""
        chosen = [o for o in exchange.registry.all() if level is None or o.level.value == level]
        return {
            "total": len(chosen),
            "limit": limit,
            "offset": offset,
            "organs": [o.model_dump(mode="json") for o in chosen[offset : offset + limit]],
        }

    @api.get("/exchange/organs/{key}", dependencies=[Depends(principal)])
    def organ_lookup(key: str) -> list[dict[str, Any]]:
        found = exchange.registry.lookup(key)
        if not found:
            raise NotFound(f"no organ matches {key!r}")
        return [o.model_dump(mode="json") for o in found]

    @api.post("/exchange/send", status_code=202)
    def send(request: SendRequest, me: Caller) -> dict[str, Any]:
        if request.kind == Kind.revoke:
            raise HTTPException(422, "use POST /exchange/messages/{id}/recall to recall")
        sender = sender_for(me, request.sender)
        earlier = exchange.resolve(request.responds_to, sender) if request.responds_to else None
        message_id = exchange.send(
            request.documents,
            sender,
            request.to,
            kind=request.kind,
            responds_to=earlier,
            reason=request.reason,
            attach=request.attach,
            unrestricted=viewer_of(me).unrestricted,
        )
        deliver(message_id)
        return {"message_id": message_id, "from": sender, "to": request.to}

    @api.post("/exchange/build")
    def build(request: SendRequest, me: Caller) -> StreamingResponse:
        """A signed envelope for stored records, as a file to carry by other means."""
        env = exchange.build(
            request.documents,
            sender_for(me, request.sender),
            request.to,
            attach=request.attach,
            unrestricted=viewer_of(me).unrestricted,
        )
        return StreamingResponse(
            file_chunks(exchange.open_envelope(env.message_id)),
            media_type="application/xml",
            headers={
                "X-Message-Id": env.message_id,
                "Content-Disposition": content_disposition(f"{env.message_id}.edxml"),
            },
        )

    @api.post("/exchange/receive")
    async def receive(request: Request, me: Organ) -> JSONResponse:
        """An edXML envelope for the token's organ (from a peer, or a file uploaded): the body
        goes to a temporary file as it arrives (BodyLimit refuses it above the limit)."""
        with tempfile.TemporaryDirectory(prefix="sohoa-upload-") as tmp:
            path = Path(tmp) / "envelope.edxml"
            await spool_body(request, path, exchange.options.max_bytes)
            receipt = await anyio.to_thread.run_sync(exchange.receive, path, me)
        body = receipt.model_dump(mode="json")
        body["status_name"] = STATUS_NAMES[receipt.status.value]
        body["reuse"] = receipt.reuse_counts
        return JSONResponse(body, status_code=422 if receipt.status == Status.rejected else 200)

    @api.post("/exchange/status-in")
    async def status_in(request: Request, me: Organ) -> dict:
        """A recipient's signed status about a message of the token's organ (the peer posts it
        with the token this installation issued for that organ, as for /exchange/receive)."""
        data = await read_body(request, STATUS_MAX_BYTES)
        entry = await anyio.to_thread.run_sync(exchange.receive_status, data, me)
        return entry.model_dump(mode="json")

    @api.get("/exchange/inbox")
    def inbox(me: Organ) -> list[dict[str, Any]]:
        return [s.model_dump(mode="json") for s in exchange.inbox(me)]

    @api.get("/exchange/sent")
    def sent(me: Organ) -> list[dict[str, Any]]:
        return [s.model_dump(mode="json") for s in exchange.sent(me)]

    @api.get("/exchange/messages/{message_id}")
    def message(message_id: str, me: Organ) -> dict[str, Any]:
        return exchange.show(exchange.resolve(message_id, me), me)

    @api.get("/exchange/messages/{message_id}/envelope")
    def envelope(message_id: str, me: Organ) -> StreamingResponse:
        full = exchange.resolve(message_id, me)
        exchange.require_visible(full, me, "download")
        return StreamingResponse(
            file_chunks(exchange.open_envelope(full)),
            media_type="application/xml",
            headers={"Content-Disposition": content_disposition(f"{full}.edxml")},
        )

    @api.post("/exchange/messages/{message_id}/status")
    def set_status(message_id: str, request: StatusRequest, me: Organ) -> dict[str, Any]:
        full = exchange.resolve(message_id, me)
        exchange.set_status(full, me, request.code, request.note)
        return exchange.show(full, me)

    @api.post("/exchange/messages/{message_id}/recall", status_code=202)
    def recall(
        message_id: str, me: Organ, reason: Annotated[str, Body(embed=True)] = ""
    ) -> dict[str, Any]:
        recall_id = exchange.recall(exchange.resolve(message_id, me), me, reason)
        deliver(recall_id)
        return {"message_id": recall_id, "recalls": message_id}

    @api.post("/exchange/messages/{message_id}/public")
    def make_public(message_id: str, me: Organ) -> dict[str, Any]:
        exchange.make_public(exchange.resolve(message_id, me), me)
        return {"message_id": message_id, "public": True}

    @api.get("/audit/verify")
    def audit_verify(_me: Organ) -> dict[str, Any]:
        """The check only, for an organ token, a clerk or an admin: a GET is safe, so it
        writes no checkpoint; `sohoa audit verify` and appends write them."""
        return exchange.audit.check().as_json()

    return exchange
