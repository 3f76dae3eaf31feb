"""Who may see or change which message: organ API tokens, visibility and the public mark.

An organ sees a message it sent or received, or one its sender made public; every read and
every refusal is in the audit log. An organ's tokens are stored only as their SHA-256, with a
name; revoking one deletes it, so the next request with it is refused (every request reads it).
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import timedelta

from exchange import messages
from exchange.context import ExchangeContext, now
from exchange.models import AccessDenied, MessageState, OrganToken
from schemas.errors import NotFound, SohoaError
from schemas.text import nfc

LAST_USED_EVERY = timedelta(minutes=1)  # a token's last use is written at most this often
MIN_DIGEST_PREFIX = 6  # revoking by hash: at least this many hex characters


class Access:
    def __init__(self, ctx: ExchangeContext) -> None:
        self.ctx = ctx

    # ------------------------------------------------------------------ organ API tokens

    def issue_token(self, organ_id: str, name: str = "") -> str:
        """A new token for the organ, returned once: only its SHA-256 is stored."""
        self.ctx.organ(organ_id)
        taken = {t.name for t in self.tokens(organ_id)}
        name = nfc(name.strip()) or _next_name(taken)
        if name in taken:
            raise SohoaError(f"organ {organ_id} already has a token named {name!r}")
        token = secrets.token_urlsafe(32)
        self.ctx.book.put(
            messages.token(token), OrganToken(organ_id=organ_id, name=name, created=now())
        )
        self.ctx.audit.append(organ_id, "token", organ_id, note="API token issued", name=name)
        return token

    def tokens(self, organ_id: str) -> list[OrganToken]:
        """The organ's tokens (names, dates, hash), oldest first; never a token's value."""
        self.ctx.organ(organ_id)
        found = [t for t in self._all_tokens() if t.organ_id == organ_id]
        return sorted(found, key=lambda t: t.created.isoformat() if t.created else "")

    def revoke_token(self, organ_id: str, name_or_digest: str) -> OrganToken:
        """Delete the organ's token named so (or whose SHA-256 starts so, for tokens issued
        before names): refused from the next request on."""
        wanted = nfc(name_or_digest.strip())
        mine = self.tokens(organ_id)
        found = [t for t in mine if t.name and t.name == wanted]
        if not found and len(wanted) >= MIN_DIGEST_PREFIX:
            found = [t for t in mine if t.digest.startswith(wanted.lower())]
        if len(found) != 1:
            problem = "no token" if not found else f"{len(found)} tokens"
            raise NotFound(f"organ {organ_id} has {problem} named {wanted!r} (exchange tokens)")
        [token] = found
        self.ctx.store.delete(messages.token_by_digest(token.digest))
        self.ctx.audit.append(
            organ_id, "token-revoked", organ_id, name=token.name, sha256=token.digest[:12]
        )
        return token

    def organ_for_token(self, token: str) -> str | None:
        if not token:
            return None
        key = messages.token(token)
        found = self.ctx.book.get(key, OrganToken)
        if found is None:
            return None
        at = now()
        if found.last_used is None or at - found.last_used > LAST_USED_EVERY:
            # Only a note: a read-only data folder still serves requests with its tokens.
            with contextlib.suppress(SohoaError, OSError):
                self.ctx.book.put(key, found.model_copy(update={"last_used": at}))
        return found.organ_id

    def _all_tokens(self) -> list[OrganToken]:
        found = []
        for key in self.ctx.store.list(messages.tokens()):
            token = self.ctx.book.get(key, OrganToken)
            if token is not None:
                found.append(token.model_copy(update={"digest": messages.name_of(key)}))
        return found

    # ------------------------------------------------------------------ messages

    def is_public(self, message_id: str) -> bool:
        return self.ctx.book.exists(messages.public(message_id))

    def visible(self, state: MessageState, organ_id: str) -> bool:
        return (
            organ_id == state.sender
            or organ_id in state.recipients
            or self.is_public(state.message_id)
        )

    def resolve_visible(self, prefix: str, organ_id: str) -> str:
        """The one message starting with `prefix` among those `organ_id` may see; the others
        are as missing ("no message …"): a prefix or a refusal must not tell that a message of
        other organs exists, nor give back its id. A full id of one it may not see is
        audited as denied."""
        prefix = prefix.strip().lower()
        seen = []
        for message_id in self.ctx.book.matching(prefix):
            state = self.ctx.book.get(messages.state(message_id), MessageState)
            if state is not None and self.visible(state, organ_id):
                seen.append(message_id)
            elif state is not None and message_id == prefix:
                self.ctx.audit.append(organ_id, "denied", message_id, wanted="resolve")
        return messages.one_message(prefix, seen)

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
            raise AccessDenied(f"only the sender of message {message_id} can make it public")
        self.ctx.book.mark(messages.public(message_id))
        self.ctx.audit.append(as_organ, "public", message_id)


def _next_name(taken: set[str]) -> str:
    n = len(taken) + 1
    while f"token-{n}" in taken:
        n += 1
    return f"token-{n}"
