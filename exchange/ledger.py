"""The status ledger: what each recipient reported about each message, and in which order.

Statuses are stored one object per status (append-only, messages.statuses). A status comes
from a recipient, signed; one organ's statuses only move forward (statuses.py ranks them) and
by their signed Timestamp. The receiver answers with `answer` (handed to the sender by the
transport); the sender takes it in with `receive_status`.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime, timedelta

from lxml import etree

from exchange import envelope_read, envelope_write, messages, statuses
from exchange.context import ExchangeContext, now, timestamp
from exchange.models import (
    AccessDenied,
    EnvelopeError,
    ResponseFor,
    SignatureError,
    StatusEntry,
    StatusMessage,
    StatusRefused,
    TransportError,
)
from exchange.signing import reference_uri, sign, verify
from exchange.statuses import Status, describe
from exchange.transport import Transport
from schemas.errors import SohoaError

log = logging.getLogger("sohoa.exchange")

STATUS_MAX_BYTES = 1024 * 1024  # a Status message is a header only
# A signed Status/Timestamp further ahead than this is refused (peers sign in local time).
STATUS_CLOCK_SKEW = timedelta(days=1)


def _signed_time(text: str) -> datetime | None:
    """Status/Timestamp as QCVN 102 writes it (yyyy/MM/dd HH:mm:ss); None if it is not one."""
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def out_of_order(entry: StatusEntry, earlier: list[StatusEntry]) -> str:
    """Why `entry` may not follow what its organ already reported (`earlier`, in the order
    they were stored), or '' if it may."""
    if not statuses.is_stored(entry.code):
        return (
            f"status {describe(entry.code)} is never stored as a status "
            "(a rejection is answered in the receipt)"
        )
    ranked = [s for s in earlier if statuses.rank(s.code) is not None]
    new_rank = statuses.rank(entry.code)
    if new_rank is not None and ranked:
        top = max(ranked, key=lambda s: statuses.rank(s.code) or 0)
        if new_rank < (statuses.rank(top.code) or 0):
            return (
                f"status {describe(entry.code)} after {describe(top.code)} from "
                f"{entry.organ_id}: statuses only move forward"
            )
    when = _signed_time(entry.timestamp)
    if when is None:
        return ""
    if when > now() + STATUS_CLOCK_SKEW:
        return f"status timestamp {entry.timestamp} is in the future"
    signed = [(t, s) for s in earlier if (t := _signed_time(s.timestamp)) is not None]
    if signed:
        latest_at = max(t for t, _ in signed)
        latest = [s for t, s in signed if t == latest_at][-1]  # the last stored of them
        if when < latest_at:
            return (
                f"status {describe(entry.code)} signed at {entry.timestamp} is older "
                f"than {describe(latest.code)} signed at {latest.timestamp}"
            )
    return ""


class Ledger:
    def __init__(self, ctx: ExchangeContext, transport: Transport) -> None:
        self.ctx = ctx
        self.transport = transport

    # ------------------------------------------------------------------ reading

    def statuses(self, message_id: str) -> list[StatusEntry]:
        book = self.ctx.book
        return [
            e
            for name in sorted(book.names(messages.statuses(message_id)))
            if (e := book.get(messages.status_entry(message_id, name), StatusEntry))
        ]

    def of_organ(self, message_id: str, organ_id: str) -> list[StatusEntry]:
        return [s for s in self.statuses(message_id) if s.organ_id == organ_id]

    def latest_status(self, message_id: str, organ_id: str) -> Status | None:
        mine = self.of_organ(message_id, organ_id)
        return mine[-1].code if mine else None

    # ------------------------------------------------------------------ writing

    def store(self, entry: StatusEntry) -> None:
        stamp = entry.at.strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:8]}"
        self.ctx.book.put(messages.status_entry(entry.message_id, name), entry)
        self.ctx.audit.append(
            entry.organ_id,
            "status",
            entry.message_id,
            code=entry.code.value,
            description=entry.description,
        )

    def answer(self, mid: str, sender: str, as_organ: str, code: Status, description: str) -> None:
        """The receiver's status, signed, handed back to the sender by the transport."""
        msg = StatusMessage(
            response_for=ResponseFor(organ_id=sender, message_id=mid),
            sender=self.ctx.organ_info(as_organ),
            code=code,
            description=description,
            timestamp=timestamp(),
        )
        root = envelope_write.status_tree(msg)
        options, keys = self.ctx.options, self.ctx.keys
        if options.sign and keys.has_key(as_organ):
            data = sign(root, keys.keys(as_organ), options.algorithm_for(sender))
        else:
            data = envelope_write.to_bytes(envelope_write.strip_placeholder(root))
        try:
            self.transport.send_status(sender, data)
        except TransportError as e:
            log.warning("status %s for %s not delivered to %s: %s", code, mid, sender, e.message)
            self.store(
                StatusEntry(
                    message_id=mid,
                    code=code,
                    organ_id=as_organ,
                    description=description,
                    timestamp=msg.timestamp,
                )
            )

    def set_status(self, message_id: str, as_organ: str, code: Status, note: str = "") -> None:
        """The recipient reports progress (the statuses a recipient sets: statuses.py)."""
        state = self.ctx.book.state(message_id)
        if as_organ not in state.recipients:
            raise AccessDenied(f"organ {as_organ} did not receive message {message_id}")
        if code not in statuses.RECIPIENT_SETS:
            raise SohoaError(f"a recipient sets {statuses.recipient_choices()}")
        if not self.ctx.book.exists(messages.receipt(as_organ, message_id)):
            raise SohoaError(f"message {message_id} was not accepted by {as_organ}")
        latest = self.latest_status(message_id, as_organ)  # what this installation knows
        reached = statuses.rank(latest) if latest is not None else None
        if reached is not None and (statuses.rank(code) or 0) < reached:
            raise StatusRefused(
                f"{as_organ} already reported {describe(latest)} for message "
                f"{message_id}: statuses only move forward"
            )
        self.answer(message_id, state.sender, as_organ, code, note or code.name)

    # ------------------------------------------------------------------ receiving

    def receive_status(self, data: bytes, to_organ: str | None = None) -> StatusEntry:
        """A recipient's signed status about a message: stored only when the organ it comes
        from is one of that message's recipients, once (a replay of the same signed status is
        answered as before and changes nothing), and only when it moves that organ's statuses
        forward (out_of_order). `to_organ`: the organ whose token posted it over HTTP, which
        must be the message's sender (the status is addressed to it).
        """
        signed, msg = self._verified(data)
        organ_id, mid = msg.sender.organ_id, msg.response_for.message_id
        self._require_addressed(msg, to_organ)
        # What the signature covers, canonical: the same status however it is re-serialised.
        digest = hashlib.sha256(etree.tostring(signed, method="c14n")).hexdigest()
        seen_key = messages.status_seen(mid, digest)
        entry = StatusEntry(
            message_id=mid,
            code=msg.code,
            organ_id=organ_id,
            description=msg.description,
            timestamp=msg.timestamp,
        )
        if not self.ctx.book.exists(seen_key):
            self._check_order(entry)
            if self.ctx.store.create(seen_key, entry.model_dump_json().encode()):
                self.store(entry)
                return entry
        first = self.ctx.book.get(seen_key, StatusEntry) or entry
        self.ctx.audit.append(
            organ_id, "replay", mid, code=msg.code.value, status_sha256=digest, wanted="status"
        )
        return first.model_copy(update={"replay": True})

    def _verified(self, data: bytes) -> tuple[etree._Element, StatusMessage]:
        """The signed element and the status it says (unsigned only when signing is off)."""
        root = envelope_read.secure_parse(data, STATUS_MAX_BYTES)
        claimed = envelope_read.status_from_tree(root)
        organ_id = claimed.sender.organ_id
        self.ctx.organ(organ_id)
        if reference_uri(root) is not None or self.ctx.options.sign:
            cert, certs, pem = self.ctx.trust.signer_of(root, organ_id)
            # its validity: Trust.check's, at the signed time
            signed, _ = verify(root, pem, organ_id, cert.not_valid_before_utc)
            msg = envelope_read.status_from_tree(signed)
            if msg.sender.organ_id != organ_id:
                raise SignatureError("the signed status names another organ")
            self.ctx.trust.check(
                cert,
                certs,
                sender=organ_id,
                signed_at=msg.timestamp,
                acting=organ_id,
                target=msg.response_for.message_id or "",
            )
        else:
            signed, msg = root, claimed
        if not messages.MESSAGE_ID.match(msg.response_for.message_id or ""):
            raise EnvelopeError("status names no message id (ResponseFor/MessageId)")
        return signed, msg

    def _require_addressed(self, msg: StatusMessage, to_organ: str | None) -> None:
        """From a recipient of the message; posted with its sender's token, if over HTTP."""
        organ_id, mid = msg.sender.organ_id, msg.response_for.message_id
        state = self.ctx.book.state(mid)
        audit = self.ctx.audit
        if organ_id not in state.recipients:
            audit.append(organ_id, "denied", mid, wanted="status", code=msg.code.value)
            raise AccessDenied(
                f"organ {organ_id} is not a recipient of message {mid}: its status is refused"
            )
        if to_organ is not None and to_organ != state.sender:
            audit.append(
                to_organ, "denied", mid, wanted="status", code=msg.code.value, status_of=organ_id
            )
            raise AccessDenied(
                f"a status about message {mid} is posted with its sender {state.sender}'s "
                f"token, not with {to_organ}'s"
            )

    def _check_order(self, entry: StatusEntry) -> None:
        reason = out_of_order(entry, self.of_organ(entry.message_id, entry.organ_id))
        if reason:
            self.ctx.audit.append(
                entry.organ_id,
                "status-refused",
                entry.message_id,
                code=entry.code.value,
                timestamp=entry.timestamp,
                reason=reason,
            )
            raise StatusRefused(reason)
