"""The exchange pages for clerks (and admins): inbox and sent lists, a message with its
envelope, attachments, statuses and actions, and sending a record to organs of the registry.

A clerk acts as its own organ only; an admin picks any organ (`organ` in the query or the
form). Which messages an organ sees is the exchange's rule (exchange/access.py): one it may not
see answers 404 here exactly like a missing one, as the record pages do. Sending takes only
records the sending organ sees (the Outbox's RecordAccess check; unrestricted for admins).

Three pages share their path with a JSON route of app/exchange_api.py (`GET /exchange/sent`,
`GET /exchange/messages/{id}`) and three forms post to one (`POST /exchange/send`, `…/status`,
`…/recall`): those are `BrowserRoute`s, which match only a browser — a GET asking for HTML or
a urlencoded form POST — so scripts still reach the JSON route registered after them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

from accounts.models import Principal
from app.auth import EXCHANGERS, READERS, Me, allow, viewer_of, wants_page
from app.compose import Context
from app.web.i18n import STRINGS, language
from app.web.organs import organ_id_of
from app.web.render import page
from exchange.models import AccessDenied, Delivery, Kind, MessageState
from exchange.service import Exchange
from exchange.statuses import RECIPIENT_SETS, Status, rank
from schemas.access import Viewer
from schemas.accounts import Role
from schemas.errors import NotFound, SohoaError
from schemas.models import Organ
from schemas.text import nfc
from workers.access import require_visible
from workers.exchange_jobs import queue_deliveries
from workers.exchange_setup import build_exchange
from workers.runtime import WorkerPool
from workers.services import Services

SHORT_ID = 12  # characters of a message id shown in lists (a unique prefix opens it)
FORM_TYPE = "application/x-www-form-urlencoded"
FOUND_TO_SEND = 50  # organs a search of the send form offers (the registry holds 38,000)


class BrowserRoute(APIRoute):
    """A page or form on the path of a JSON route: matches only a browser's GET for HTML or a
    urlencoded form POST, so every other request goes on to the JSON route."""

    def matches(self, scope: dict) -> tuple[Match, dict]:
        if scope.get("type") == "http":
            headers = {k.lower(): v for k, v in scope.get("headers", [])}
            kind = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip()
            form = scope["method"] == "POST" and kind.lower() == FORM_TYPE
            if not (wants_page(scope, headers) or form):
                return Match.NONE, {}
        return super().matches(scope)


def register_exchange_pages(api: FastAPI, context: Context, pool: WorkerPool) -> None:
    services = context.services
    exchange = build_exchange(services, enqueue=lambda doc_id: pool.actors.ingest.send(doc_id))
    pages = Pages(services, exchange)
    clerks = [Depends(allow(*EXCHANGERS))]

    def add(path: str, endpoint: Callable, method: str, *, browser_only: bool = False) -> None:
        api.router.add_api_route(
            path,
            endpoint,
            methods=[method],
            dependencies=clerks,
            response_class=HTMLResponse,
            tags=["web"],
            route_class_override=BrowserRoute if browser_only else None,
        )

    def deliver(message_id: str) -> None:
        queue_deliveries(pool, message_id, exchange.state(message_id).recipients)

    def inbox_page(request: Request, me: Me, organ: str = "") -> Response:
        return pages.listing(request, me, organ, sent=False)

    def sent_page(request: Request, me: Me, organ: str = "") -> Response:
        return pages.listing(request, me, organ, sent=True)

    def message_page(request: Request, message_id: str, me: Me, organ: str = "") -> Response:
        return pages.message(request, me, message_id, organ)

    def send_form(
        request: Request, me: Me, doc: str = "", find: str = "", reply: str = "", organ: str = ""
    ) -> Response:
        return pages.send_form(request, me, doc=doc, find=find, reply=reply, organ=organ)

    def send_form_post(
        request: Request,
        me: Me,
        doc: Annotated[str, Form()] = "",
        to: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
        reply: Annotated[str, Form()] = "",
        organ: Annotated[str, Form()] = "",
    ) -> Response:
        strings = STRINGS[language(request)]

        def act(sender: str) -> str:
            message_id = pages.send(me, sender, doc, to, reply, strings)
            deliver(message_id)
            return message_id

        return pages.sent_or_form_again(request, me, organ, act, doc=doc, reply=reply, to=to)

    def status_form_post(
        request: Request,
        message_id: str,
        me: Me,
        code: Annotated[str, Form()],
        note: Annotated[str, Form()] = "",
        organ: Annotated[str, Form()] = "",
    ) -> Response:
        def act(full: str, as_organ: str) -> str:
            exchange.set_status(full, as_organ, Status(code), nfc(note).strip())
            return full

        return pages.act(request, me, message_id, organ, "status", act)

    def recall_form_post(
        request: Request,
        message_id: str,
        me: Me,
        reason: Annotated[str, Form()] = "",
        organ: Annotated[str, Form()] = "",
    ) -> Response:
        def act(full: str, as_organ: str) -> str:
            recall_id = exchange.recall(full, as_organ, nfc(reason).strip())
            deliver(recall_id)
            return full

        return pages.act(request, me, message_id, organ, "recall", act)

    def retry(
        request: Request, message_id: str, me: Me, organ: Annotated[str, Form()] = ""
    ) -> Response:
        def act(full: str, as_organ: str) -> str:
            again = exchange.retry(full, as_organ)
            queue_deliveries(pool, full, again)
            return full

        return pages.act(request, me, message_id, organ, "retry", act)

    def forward(
        request: Request,
        message_id: str,
        me: Me,
        to: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
        organ: Annotated[str, Form()] = "",
    ) -> Response:
        strings = STRINGS[language(request)]

        def act(full: str, as_organ: str) -> str:
            forwarded = pages.send(me, as_organ, "", to, full, strings)
            deliver(forwarded)
            return forwarded

        return pages.act(request, me, message_id, organ, "forward", act)

    add("/exchange", inbox_page, "GET")
    add("/exchange/sent", sent_page, "GET", browser_only=True)
    add("/exchange/send", send_form, "GET")
    add("/exchange/send", send_form_post, "POST", browser_only=True)
    add("/exchange/messages/{message_id}", message_page, "GET", browser_only=True)
    add("/exchange/messages/{message_id}/status", status_form_post, "POST", browser_only=True)
    add("/exchange/messages/{message_id}/recall", recall_form_post, "POST", browser_only=True)
    add("/exchange/messages/{message_id}/retry", retry, "POST")
    add("/exchange/messages/{message_id}/forward", forward, "POST")


class Pages:
    """What each exchange page shows, from the Exchange facade and the registry."""

    def __init__(self, services: Services, exchange: Exchange) -> None:
        self.services = services
        self.exchange = exchange

    # ------------------------------------------------------------------ who acts

    def acting_organ(self, me: Principal, asked: str) -> str:
        """The caller's organ; an admin may name any organ of the registry."""
        asked = organ_id_of(self.exchange.registry, asked) if asked.strip() else ""
        if me.role != Role.admin or not asked or asked == me.organ_id:
            return me.organ_id
        return self.exchange.organ(asked).organ_id  # unknown: the registry's error

    def visible(self, prefix: str, organ: str, action: str = "read") -> MessageState:
        """The message, if `organ` may see it: one it may not see is missing (404)."""
        try:
            return self.exchange.require_visible(self.exchange.resolve(prefix), organ, action)
        except AccessDenied:
            raise NotFound(f"no message {prefix}") from None

    def name(self, organ_id: str) -> str:
        found = self.exchange.registry.get(organ_id)
        return found.name if found else organ_id

    # ------------------------------------------------------------------ inbox and sent

    def listing(self, request: Request, me: Principal, asked: str, *, sent: bool) -> Response:
        try:
            organ = self.acting_organ(me, asked)
            states = self.exchange.sent(organ) if sent else self.exchange.inbox(organ)
        except SohoaError as error:
            return error_page(request, me, error)
        states.sort(key=lambda s: s.created_at, reverse=True)
        view = {
            "box": "sent" if sent else "inbox",
            "organ": organ,
            "organ_name": self.name(organ),
            "organ_param": _organ_param(me, organ),
            "pick_organ": me.role == Role.admin,
            "rows": [self._row(s, organ, sent, me) for s in states],
        }
        return page(request, "exchange_list.html", view, me=me)

    def _row(self, state: MessageState, organ: str, sent: bool, me: Principal) -> dict[str, Any]:
        ids = state.recipients if sent else [organ]
        latest = [
            {"organ": self.name(r), "code": code.value if code else ""}
            for r in ids
            for code in [self.exchange.latest_status(state.message_id, r)]
        ]
        return {
            "id": state.message_id,
            "short": state.message_id[:SHORT_ID],
            "url": _message_url(state.message_id, me, organ),
            "subject": state.subject,
            "code": state.code,
            "kind": state.kind.value,
            "sender": self.name(state.sender),
            "recipients": [self.name(r) for r in state.recipients],
            "date": state.created_at,
            "latest": latest,
        }

    # ------------------------------------------------------------------ one message

    def message(
        self,
        request: Request,
        me: Principal,
        prefix: str,
        asked: str,
        *,
        error: str = "",
        status: int = 200,
    ) -> Response:
        try:
            organ = self.acting_organ(me, asked) if asked or me.role != Role.admin else ""
            if not organ:  # an admin without a choice: its own organ if a party, else the sender
                state = self.exchange.state(self.exchange.resolve(prefix))
                mine = me.organ_id in (state.sender, *state.recipients)
                organ = me.organ_id if mine else state.sender
            state = self.visible(prefix, organ)
            view = self._message_view(state, organ, me)
        except SohoaError as failure:
            return error_page(request, me, failure)
        view["error"] = error
        return page(request, "exchange_message.html", view, me=me, status=status)

    def _message_view(self, state: MessageState, organ: str, me: Principal) -> dict[str, Any]:
        ex, mid = self.exchange, state.message_id
        header = ex.header(mid)
        receipt = ex.receipt(mid, organ) if organ in state.recipients else None
        outbox = ex.outbox(mid) if organ == state.sender else []
        latest = ex.latest_status(mid, organ) if receipt else None
        reached = rank(latest.value) if latest else None
        settable = [c.value for c in RECIPIENT_SETS if reached is None or (rank(c) or 0) >= reached]
        viewer = viewer_of(me)
        attachments = [
            {
                "name": a.name,
                "size": a.size_bytes,
                "outcome": a.outcome,
                "record": self._record_link(a.record_id, viewer, me),
            }
            for a in (receipt.attachments if receipt else [])
        ] or [
            {"name": a.name, "size": None, "outcome": "", "record": None}
            for a in header.attachments
        ]
        return {
            "box": "",
            "pick_organ": False,
            "state": state,
            "short": mid[:SHORT_ID],
            "organ": organ,
            "organ_name": self.name(organ),
            "organ_param": _organ_param(me, organ),
            "header": header,
            "sender": self.name(state.sender),
            "recipients": [(r, self.name(r)) for r in state.recipients],
            "attachments": attachments,
            "records_sent": [
                self._record_link(r, viewer, me) for r in state.record_ids if organ == state.sender
            ],
            "statuses": [
                {
                    "code": s.code.value,
                    "organ": self.name(s.organ_id),
                    "at": s.at,
                    "note": s.description,
                }
                for s in ex.statuses(mid)
            ],
            "outbox": outbox,
            "responds_to": state.responds_to,
            "responds_url": _message_url(state.responds_to, me, organ) if state.responds_to else "",
            "can_set": bool(receipt) and bool(settable),
            "settable": settable,
            "can_recall": organ == state.sender and state.kind == Kind.new,
            "can_retry": any(e.state == Delivery.failed for e in outbox),
            "can_reply": organ in state.recipients and state.kind == Kind.new,
            "reply_url": "/exchange/send?" + urlencode({"reply": mid, **_organ_param(me, organ)}),
            "public": ex.is_public(mid),
        }

    def _record_link(self, record_id: str | None, viewer: Viewer, me: Principal) -> dict | None:
        """A record an attachment is: its document page linked only when the caller may open
        it (a reader's role, and the record visible to the caller)."""
        if not record_id:
            return None
        url = ""
        if me.role in READERS:
            try:
                require_visible(self.services, viewer, record_id)
                url = f"/documents/{record_id}/view"
            except NotFound:
                url = ""
        return {"id": record_id, "short": record_id[:SHORT_ID], "url": url}

    def act(
        self,
        request: Request,
        me: Principal,
        prefix: str,
        asked: str,
        action: str,
        do: Callable[[str, str], str],
    ) -> Response:
        """An action on a message the acting organ sees; then its page (or the one the action
        made), or the message page again with the reason it was refused."""
        try:
            organ = self.acting_organ(me, asked)
            state = self.visible(prefix, organ, action)
            shown = do(state.message_id, organ)
        except NotFound as missing:
            return error_page(request, me, missing)
        except SohoaError as refused:
            return self.message(
                request, me, prefix, asked, error=refused.message, status=refused.http_status
            )
        return RedirectResponse(_message_url(shown, me, organ), status_code=303)

    # ------------------------------------------------------------------ sending

    def organ_choices(self, find: str, sender: str, chosen: set[str]) -> list[dict[str, Any]]:
        """The organs already chosen, then at most FOUND_TO_SEND the registry finds by the
        words of `find` (none before a search: the registry holds 38,000), with their level
        and whether they exist today (an abolished organ is shown, never offered)."""
        registry = self.exchange.registry
        found = [o for o in map(registry.get, sorted(chosen)) if o is not None]
        if find.strip():
            found += registry.search(find, FOUND_TO_SEND)
        today, unique = date.today(), {o.organ_id: o for o in found if o.organ_id != sender}
        return [_organ_choice(o, today) for o in unique.values()]

    def send_form(
        self,
        request: Request,
        me: Principal,
        *,
        doc: str,
        find: str,
        reply: str,
        organ: str,
        to: list[str] | None = None,
        error: str = "",
        status: int = 200,
    ) -> Response:
        try:
            sender = self.acting_organ(me, organ)
            earlier = self.visible(reply, sender) if reply.strip() else None
        except SohoaError as failure:
            return error_page(request, me, failure)
        record = None
        if doc.strip():
            try:
                record = require_visible(self.services, self._viewer(me, sender), doc.strip())
            except NotFound as missing:
                error, status = error or missing.message, 404
        chosen = set(to or ([earlier.sender] if earlier else []))
        view = {
            "box": "send",
            "doc": doc.strip(),
            "record": record,
            "find": find,
            "reply": earlier.message_id if earlier else "",
            "reply_subject": earlier.subject if earlier else "",
            "organ": sender,
            "organ_name": self.name(sender),
            "organ_param": _organ_param(me, sender),
            "pick_organ": me.role == Role.admin,
            "choices": self.organ_choices(find, sender, chosen),
            "chosen": chosen,
            "error": error,
        }
        return page(request, "exchange_send.html", view, me=me, status=status)

    def _viewer(self, me: Principal, sender: str) -> Viewer:
        """Whose records a send may take: an admin's every one, else the sending organ's."""
        return viewer_of(me) if me.role == Role.admin else Viewer.of_organ(sender)

    def send(
        self,
        me: Principal,
        sender: str,
        doc: str,
        to: list[str],
        reply: str,
        strings: dict[str, str],
    ) -> str:
        """Send `doc` (or forward `reply` alone) from `sender` to organs active today;
        what the form lacks is said in the page's language (`strings`)."""
        registry = self.exchange.registry  # a field may send a label or a name: read as an id
        recipients = list(dict.fromkeys(organ_id_of(registry, t) for t in to if t.strip()))
        if not recipients:
            raise SohoaError(strings["no_recipient"])
        today = date.today()
        for organ_id in recipients:
            if not self.exchange.organ(organ_id).active_on(today):
                raise SohoaError(strings["invalid_recipient"].format(organ=organ_id))
        earlier = self.visible(reply, sender).message_id if reply.strip() else None
        if not doc.strip() and earlier is None:
            raise SohoaError(strings["no_document"])
        return self.exchange.send(
            [doc.strip()] if doc.strip() else [],
            sender,
            recipients,
            responds_to=earlier,
            unrestricted=viewer_of(me).unrestricted,
        )

    def sent_or_form_again(
        self,
        request: Request,
        me: Principal,
        asked: str,
        do: Callable[[str], str],
        **fields: Any,
    ) -> Response:
        try:
            sender = self.acting_organ(me, asked)
            message_id = do(sender)
        except SohoaError as refused:
            return self.send_form(
                request,
                me,
                find="",
                organ=asked,
                error=refused.message,
                status=refused.http_status,
                **fields,
            )
        return RedirectResponse(_message_url(message_id, me, sender), status_code=303)


# ------------------------------------------------------------------ helpers


def error_page(request: Request, me: Principal, error: SohoaError) -> Response:
    return page(request, "error.html", {"error": error}, me=me, status=error.http_status)


def _organ_param(me: Principal, organ: str) -> dict[str, str]:
    """What links and forms carry so an admin keeps acting as the organ it picked."""
    return {"organ": organ} if me.role == Role.admin and organ != me.organ_id else {}


def _message_url(message_id: str, me: Principal, organ: str) -> str:
    params = _organ_param(me, organ)
    return f"/exchange/messages/{message_id}" + (f"?{urlencode(params)}" if params else "")


def _organ_choice(organ: Organ, today: date) -> dict[str, Any]:
    """An organ as the pages offer it: `validity` is the string key saying whether it exists
    today, since when it no longer does, or from when it will."""
    validity, day = "valid", None
    if not organ.active_on(today):
        later = organ.valid_from is not None and organ.valid_from > today
        validity, day = ("not_yet", organ.valid_from) if later else ("abolished", organ.valid_to)
    return {
        "id": organ.organ_id,
        "name": organ.name,
        "level": organ.level.value,
        "active": validity == "valid",
        "validity": validity,
        "day": day.isoformat() if day else "",
    }
