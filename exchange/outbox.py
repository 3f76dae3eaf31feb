"""Sending: the signed envelope built from stored records (or from an earlier message), kept
as sent, and one outbox entry per recipient that moves pending → delivered | rejected | failed
(models.Delivery) as the transport hands it over, retries, and gives up.

An organ sends only records it may see (ports.RecordAccess): a record it may not see is
refused exactly like a missing one, before anything is built, signed or stored. Only the
operator's CLI and admins pass `unrestricted`.
"""

from __future__ import annotations

import functools
import io
import re
import tempfile
import uuid
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from exchange import envelope_read, envelope_write, messages
from exchange.context import ExchangeContext, now, timestamp
from exchange.links import Links
from exchange.models import (
    HEADER_ATTRIBUTES,
    AccessDenied,
    Attachment,
    Business,
    Delivery,
    Envelope,
    Kind,
    MessageState,
    OutboxEntry,
    Receipt,
    ResponseFor,
    TraceHeader,
    TransportError,
)
from exchange.ports import RecordAccess
from exchange.signing import sign_tree
from exchange.statuses import Status
from exchange.transport import Transport
from schemas.errors import NotFound, SohoaError
from schemas.fields import METADATA_FIELDS
from schemas.models import Document, DocumentStatus, is_local_organ
from storage.keys import original_key, pdf_key

ATTACH_CHOICES = ("original", "searchable", "both")


def _edxml_date(value: object) -> str:
    """yyyy/MM/dd from a known date; anything else stays empty (never guessed)."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y/%m/%d")
    text = str(value or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text.replace("-", "/")
    return text if re.fullmatch(r"\d{4}/\d{2}/\d{2}", text) else ""


def _header_value(value: object, empty: object) -> object:
    """A metadata value as the edXML header writes it: dates yyyy/MM/dd, lists item by item,
    nothing known as the header's own empty value."""
    if value in (None, "", []):
        return empty
    if isinstance(value, list):
        return [str(item) for item in value if item]
    if isinstance(value, datetime | date):
        return _edxml_date(value)
    return str(value)


_EMPTY_HEADER = Envelope()


def header_from_record(doc: Document) -> dict[str, object]:
    """The edXML header fields a record's extracted metadata fills (Document → Envelope), row
    by row of the field table. A field the metadata does not hold stays empty."""
    header: dict[str, object] = {
        attr: _header_value(getattr(doc.metadata, field.name).value, getattr(_EMPTY_HEADER, attr))
        for field in METADATA_FIELDS
        if field.edxml and (attr := HEADER_ATTRIBUTES[field.edxml])
    }
    header["promulgation_date"] = _edxml_date(doc.metadata.issued_date.value)
    if is_local_organ(header.get("document_id")):
        # An edXML DocumentId opens with the issuing organ's QCVN 102 OrganId; a local organ
        # (pipeline/local_organ.py) has none, and its local code means nothing to others.
        header["document_id"] = _EMPTY_HEADER.document_id
    if doc.page_count:  # the pages sohoa holds, whatever the text says
        header["page_amount"] = str(doc.page_count)
    return header


def _code(env: Envelope) -> str:
    return "/".join(x for x in (env.code_number, env.code_notation) if x)


class Outbox:
    def __init__(
        self, ctx: ExchangeContext, access: RecordAccess, links: Links, transport: Transport
    ) -> None:
        self.ctx = ctx
        self.access = access
        self.links = links
        self.transport = transport

    def _visible(self, prefix: str, sender: str, unrestricted: bool) -> Document:
        """The record `prefix` names, if `sender` may see it (`unrestricted`: any record);
        NotFound as for a missing id otherwise, and the refusal is audited."""
        try:
            return self.access.require_visible(prefix, None if unrestricted else sender)
        except NotFound:
            if not unrestricted:
                self.ctx.audit.append(sender, "denied", f"record:{prefix}", wanted="send")
            raise

    # ------------------------------------------------------------------ building

    def envelope_for_records(
        self,
        record_ids: list[str],
        sender: str,
        recipients: list[str],
        *,
        attach: str = "original",
        files: ExitStack | None = None,
        unrestricted: bool = False,
    ) -> Envelope:
        """Header from the first record's extracted metadata; every record's files attached
        (as files `files` holds until the envelope is written; without it, in memory). Each
        record must be one `sender` sees, unless `unrestricted`."""
        docs = [self._visible(r, sender, unrestricted) for r in record_ids]
        if not docs:
            raise SohoaError("nothing to send: name at least one document")
        env = Envelope(
            sender=self.ctx.organ_info(sender),
            recipients=[self.ctx.organ_info(r) for r in recipients],
            **header_from_record(docs[0]),
        )
        for doc in docs:
            env.attachments.extend(self._record_files(doc, attach, files))
        return env

    def _record_files(
        self, doc: Document, attach: str, files: ExitStack | None
    ) -> list[Attachment]:
        """The record's stored files as attachments backed by local paths (`files` keeps them
        until the envelope is written: with S3 each is downloaded to a temporary file)."""
        store = self.ctx.store

        def content(key: str) -> dict:
            if files is None:
                return {"data": store.get_bytes(key)}
            return {"path": files.enter_context(store.local_path(key))}

        if attach not in ATTACH_CHOICES:
            raise SohoaError(f"--attach {attach!r}: use original, searchable or both")
        found = []
        if attach in ("original", "both"):
            found.append(
                Attachment(
                    content_id=str(uuid.uuid4()),
                    name=doc.source_name,
                    content_type=doc.media_type or "application/octet-stream",
                    description="original",
                    **content(original_key(doc.id)),
                )
            )
        if attach in ("searchable", "both"):
            if doc.status != DocumentStatus.done:
                raise SohoaError(f"document {doc.id[:12]} is {doc.status.value}: no searchable PDF")
            pdf = content(pdf_key(doc.id))
            sha = envelope_write.content_sha256(Attachment(content_id="", name="", **pdf))
            self.links.link_derived(sha, doc.id)
            found.append(
                Attachment(
                    content_id=str(uuid.uuid4()),
                    name=Path(doc.source_name).stem + ".pdf",
                    content_type="application/pdf",
                    description="searchable PDF/A",
                    **pdf,
                )
            )
        return found

    def _stamp(self, env: Envelope) -> None:
        """Give the envelope a message id and the sender's trace hop."""
        env.message_id = env.message_id or uuid.uuid4().hex
        hop = TraceHeader(organ_id=env.sender.organ_id, timestamp=timestamp())
        if env.trace and env.trace[-1].organ_id == hop.organ_id:
            env.trace = env.trace[:-1]  # received here, sent on from here: one hop
        env.trace = [*env.trace, hop]

    def _write(self, env: Envelope, out: BinaryIO, sign_it: bool | None = None) -> int:
        """The signed (or unsigned) message, attachments streamed from their files."""
        options = self.ctx.options
        signer = None
        if options.sign if sign_it is None else sign_it:
            keys = self.ctx.keys.keys(env.sender.organ_id)
            algorithm = options.algorithm_for(env.recipients[0].organ_id)
            signer = functools.partial(sign_tree, keys=keys, algorithm=algorithm)
        return envelope_write.write_envelope(env, out, signer)

    def seal(self, env: Envelope, *, sign_it: bool | None = None) -> bytes:
        """Stamp and sign the envelope, in memory (small messages; tests)."""
        self._stamp(env)
        out = io.BytesIO()
        self._write(env, out, sign_it)
        return out.getvalue()

    def build(
        self,
        record_ids: list[str],
        sender: str,
        recipients: list[str],
        *,
        kind: Kind = Kind.new,
        attach: str = "original",
        responds_to: str | None = None,
        reason: str = "",
        unrestricted: bool = False,
    ) -> Envelope:
        """A signed envelope from stored records, stored (messages.envelope) and kept in the
        sender's sent list. Attachments are streamed, never held whole. Every record sent
        (named, or carried by the message forwarded) must be one `sender` sees, unless
        `unrestricted` (the operator, an admin)."""
        self.ctx.organ(sender)
        for r in recipients:
            self.ctx.recipient(r)
        with ExitStack() as files, tempfile.TemporaryDirectory(prefix="sohoa-build-") as tmp:
            if record_ids:
                env = self.envelope_for_records(
                    record_ids,
                    sender,
                    recipients,
                    attach=attach,
                    files=files,
                    unrestricted=unrestricted,
                )
                if responds_to:  # an answer, update or replacement with its own files
                    env.response_for = self._forwarded(
                        responds_to, sender, recipients, kind, reason, Path(tmp)
                    ).response_for
            elif responds_to:  # a forward (the earlier files and trace) or a recall (no files)
                env = self._forwarded(responds_to, sender, recipients, kind, reason, Path(tmp))
            else:
                raise SohoaError("nothing to send: name a document, or a message to forward")
            env.business = Business(doc_type=kind, reason=reason)
            if kind != Kind.new and responds_to:
                earlier = self.ctx.book.state(responds_to)
                env.business.replaces = [earlier.document_id] if earlier.document_id else []
            sent_records = self._records_of(env)
            if not record_ids and not unrestricted:  # named records: checked above
                for record_id in dict.fromkeys(sent_records):
                    self._visible(record_id, sender, unrestricted)
            self._stamp(env)
            path = Path(tmp) / "envelope.edxml"
            with path.open("wb") as out:
                size = self._write(env, out)
            limit = self.ctx.options.max_bytes
            if size > limit:
                raise SohoaError(
                    f"the message would be {size:,} bytes, above the exchange limit of "
                    f"{limit:,} (SOHOA_EXCHANGE_MAX_BYTES): send fewer files"
                )
            self._record_sent(env, sent_records, path, size, responds_to)
        return env

    def _records_of(self, env: Envelope) -> list[str]:
        """The records the envelope's attachments are (originals, or their searchable PDFs)."""
        found = [self.links.record_of(envelope_write.content_sha256(a)) for a in env.attachments]
        return [r for r in found if r is not None]

    def _forwarded(
        self,
        message_id: str,
        sender: str,
        recipients: list[str],
        kind: Kind,
        reason: str,
        spool_dir: Path,
    ) -> Envelope:
        """A message built on an earlier one: its header and files, its trace plus our hop."""
        book = self.ctx.book
        earlier_state = book.state(message_id)
        if sender not in (earlier_state.sender, *earlier_state.recipients):
            raise AccessDenied(f"organ {sender} neither sent nor received message {message_id}")
        with self.ctx.store.local_path(messages.envelope(message_id)) as stored:
            parsed = envelope_read.read_xml(stored, self.ctx.options.max_bytes, spool_dir=spool_dir)
        earlier = envelope_read.envelope_from_tree(parsed.root, parsed)  # ours: verified before
        receipt = book.get(messages.receipt(sender, message_id), Receipt)
        trace = receipt.trace if receipt is not None else earlier.trace
        env = earlier.model_copy(deep=True)
        env.message_id = ""
        env.sender = self.ctx.organ_info(sender)
        env.recipients = [self.ctx.organ_info(r) for r in recipients]
        env.trace = list(trace)
        env.response_for = [
            ResponseFor(
                organ_id=earlier.sender.organ_id,
                code=_code(earlier),
                promulgation_date=earlier.promulgation_date,
                document_id=earlier.document_id,
                message_id=message_id,
            )
        ]
        if kind == Kind.revoke:
            env.attachments = []  # a recall carries the header only
        return env

    def _record_sent(
        self, env: Envelope, record_ids: list[str], path: Path, size: int, responds_to: str | None
    ) -> MessageState:
        options = self.ctx.options
        state = MessageState.of(
            env,
            code=_code(env),
            record_ids=record_ids,
            responds_to=responds_to,
            algorithm=options.algorithm_for(env.recipients[0].organ_id) if options.sign else "none",
            size_bytes=size,
        )
        self.ctx.store.put_file(messages.envelope(env.message_id), path)
        self.ctx.book.put(messages.state(env.message_id), state)
        self.ctx.book.mark(messages.sent(state.sender, env.message_id))
        if env.document_id:
            self.links.link_copies(env.document_id, state.record_ids)
        self.ctx.audit.append(
            state.sender,
            "send",
            env.message_id,
            to=state.recipients,
            kind=state.kind.value,
            document_id=state.document_id,
            records=state.record_ids,
            bytes=size,
        )
        return state

    # ------------------------------------------------------------------ outbox and delivery

    def send(self, record_ids: list[str], sender: str, recipients: list[str], **kw) -> str:
        """Build, sign and put one outbox entry per recipient; delivery happens in deliver()."""
        env = self.build(record_ids, sender, recipients, **kw)
        for recipient in recipients:
            self.ctx.book.put(
                messages.outbox_entry(env.message_id, recipient),
                OutboxEntry(message_id=env.message_id, sender=sender, recipient=recipient),
            )
        return env.message_id

    def entries(self, message_id: str) -> list[OutboxEntry]:
        book = self.ctx.book
        return [
            e
            for r in book.names(messages.outbox(message_id))
            if (e := book.get(messages.outbox_entry(message_id, r), OutboxEntry)) is not None
        ]

    def deliver(self, message_id: str, recipient: str) -> OutboxEntry:
        """One delivery attempt. Raises TransportError (retryable) when the peer is away."""
        key = messages.outbox_entry(message_id, recipient)
        entry = self.ctx.book.get(key, OutboxEntry)
        if entry is None:
            raise NotFound(f"message {message_id} has no outbox entry for {recipient}")
        if entry.state in (Delivery.delivered, Delivery.rejected):
            return entry
        entry.attempts += 1
        entry.updated_at = now()
        try:
            with self.ctx.store.local_path(messages.envelope(message_id)) as path:
                receipt = self.transport.deliver(recipient, path)
        except TransportError as e:
            entry.last_error = e.message
            self.ctx.book.put(key, entry)
            self.ctx.audit.append(
                entry.sender,
                "retry",
                message_id,
                to=recipient,
                attempt=entry.attempts,
                error=e.message,
            )
            raise
        entry.receipt = receipt
        rejected = receipt.status == Status.rejected
        entry.state = Delivery.rejected if rejected else Delivery.delivered
        entry.last_error = receipt.reason
        self.ctx.book.put(key, entry)
        self.ctx.audit.append(
            entry.sender,
            entry.state.value,
            message_id,
            to=recipient,
            attempt=entry.attempts,
            status=receipt.status.value,
        )
        return entry

    def pending(self) -> list[tuple[str, str]]:
        """(message id, recipient) of every outbox entry not yet delivered, e.g. after a crash."""
        found = []
        for key in self.ctx.store.list(messages.outbox()):
            if key.endswith(".json"):
                entry = self.ctx.book.get(key, OutboxEntry)
                if entry is not None and entry.state == Delivery.pending:
                    found.append((entry.message_id, entry.recipient))
        return found

    def retry(self, message_id: str, as_organ: str) -> list[str]:
        """Put failed deliveries of a message back to pending; returns their recipients."""
        state = self.ctx.book.state(message_id)
        if state.sender != as_organ:
            raise AccessDenied(f"only the sender of message {message_id} can resend it")
        again = []
        for entry in self.entries(message_id):
            if entry.state in (Delivery.failed, Delivery.pending):
                entry.state, entry.updated_at = Delivery.pending, now()
                self.ctx.book.put(messages.outbox_entry(message_id, entry.recipient), entry)
                again.append(entry.recipient)
        if again:
            self.ctx.audit.append(as_organ, "resend", message_id, to=again)
        return again

    def give_up(self, message_id: str, recipient: str, reason: str) -> None:
        key = messages.outbox_entry(message_id, recipient)
        entry = self.ctx.book.get(key, OutboxEntry)
        if entry is None or entry.state != Delivery.pending:
            return
        entry.state, entry.last_error, entry.updated_at = Delivery.failed, reason, now()
        self.ctx.book.put(key, entry)
        self.ctx.audit.append(
            entry.sender, "undeliverable", message_id, to=recipient, reason=reason
        )
