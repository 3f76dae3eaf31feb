"""Who may see or change which message: API tokens, visibility and the public mark.

An organ sees a message it sent or received, or one its sender made public; every read and
every refusal is in the audit log.
"""

from __future__ import annotations

import json
import secrets

from exchange import messages
from exchange.context import ExchangeContext
from exchange.models import AccessDenied, MessageState
from schemas.errors import NotFound


class Access:
    def __init__(self, ctx: ExchangeContext) -> None:
        self.ctx = ctx

    def issue_token(self, organ_id: str) -> str:
        self.ctx.organ(organ_id)
        token = secrets.token_urlsafe(32)
        self.ctx.store.put_bytes(messages.token(token), json.dumps({"organ_id": organ_id}).encode())
        self.ctx.audit.append(organ_id, "token", organ_id, note="API token issued")
        return token

    def organ_for_token(self, token: str) -> str | None:
        if not token:
            return None
        try:
            return json.loads(self.ctx.store.get_bytes(messages.token(token)))["organ_id"]
        except NotFound:
            return None

    def is_public(self, message_id: str) -> bool:
        return self.ctx.book.exists(messages.public(message_id))

    def visible(self, state: MessageState, organ_id: str) -> bool:
        return (
            organ_id == state.sender
            or organ_id in state.recipients
            or self.is_public(state.message_id)
        )

    def require_visible(self, message_id: str, organ_id: str, action: str = "read") -> MessageState:
        state = self.ctx.book.state(message_id)
        if not self.visible(state, organ_id):
            self.ctx.audit.append(organ_id, "denied", message_id, wanted=action)
            raise AccessDenied(
                f"organ {organ_id} may not {action} message {message_id}: it neither sent nor "
                "received it, and it is not public"
            )
        self.ctx.audit.append(organ_id, action, message_id)
        return state

    def make_public(self, message_id: str, as_organ: str) -> None:
        state = self.ctx.book.state(message_id)
        if state.sender != as_organ:
            raise AccessDenied(f"only the sender {state.sender} can make {message_id} public")
        self.ctx.book.mark(messages.public(message_id))
        self.ctx.audit.append(as_organ, "public", message_id)
