"""Sending, receiving and answering edXML messages between organs (DESIGN §6).

Everything is a JSON or XML object in the ObjectStore, so the same code runs on a local folder
and on S3::

    exchange/messages/<id>/envelope.edxml     the signed message, as sent
    exchange/messages/<id>/state.json         MessageState (who, what, which records)
    exchange/messages/<id>/status/<t>-….json  StatusEntry, one object per status (append-only)
    exchange/outbox/<id>/<recipient>.json     OutboxEntry: attempts, last error, receipt
    exchange/inbox/<organ>/<id>.json          Receipt: the receiver's dedupe marker
    exchange/sent/<organ>/<id>.json           the sender's list
    exchange/public/<id>.json                 marked public by its sender
    exchange/docids/<hash>/<record id>.json   records that are copies of one paper (DocumentId)
    exchange/hashes/<sha256>.json             derived files (searchable PDFs) -> their record
    exchange/tokens/<sha256 of token>.json    API tokens -> organ
    exchange/audit/<seq>.json                 the hash-chained audit log (audit.py)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from lxml import etree

from exchange import envelope as edxml
from exchange.audit import AuditLog
from exchange.models import (
    AccessDenied,
    Attachment,
    AttachmentOutcome,
    Business,
    Envelope,
    EnvelopeError,
    Kind,
    MessageState,
    OrganInfo,
    OutboxEntry,
    Receipt,
    ResponseFor,
    SignatureError,
    Status,
    StatusEntry,
    StatusMessage,
    TraceHeader,
    TransportError,
)
from exchange.options import ExchangeOptions
from exchange.registry import OrganRegistry
from exchange.signing import KeyStore, OrganKeys, sign, verify
from exchange.transport import (
    HttpTransport,
    RoutedTransport,
    SharedStoreTransport,
    Transport,
    parse_peers,
)
from schemas.errors import NotFound, SohoaError
from schemas.models import Document, DocumentStatus, Organ
from storage.keys import original_key, pdf_key
from workers.services import Services
from workers.submit import Submission, accept

log = logging.getLogger("sohoa.exchange")

P = "exchange/"
_ID = re.compile(r"^[0-9a-f]{32}$")
CLAIM_LEASE_S = 300  # a receipt takes well under a second; a claim this old is abandoned


def _now() -> datetime:
    return datetime.now(UTC)


def _timestamp(at: datetime | None = None) -> str:
    return (at or _now()).strftime("%Y/%m/%d %H:%M:%S")


def _hash_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _edxml_date(value: object) -> str:
    """yyyy/MM/dd from a known date; anything else stays empty (never guessed)."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y/%m/%d")
    text = str(value or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text.replace("-", "/")
    return text if re.fullmatch(r"\d{4}/\d{2}/\d{2}", text) else ""


def _value(doc: Document, name: str) -> str:
    value = getattr(doc.metadata, name).value
    if value in (None, "", []):
        return ""
    return value if isinstance(value, str) else str(value)


class Exchange:
    """One installation's exchange service, acting for any organ it hosts."""

    def __init__(
        self,
        services: Services,
        options: ExchangeOptions | None = None,
        *,
        registry: OrganRegistry | None = None,
        enqueue: Callable[[str], None] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.services = services
        self.store = services.store
        self.options = options or getattr(services, "exchange", None) or ExchangeOptions()
        self.registry = registry or (
            OrganRegistry.load(self.options.organs)
            if self.options.organs
            else OrganRegistry.default()
        )
        self.keys = KeyStore(self.store, self.options.keys_dir)
        self.audit = AuditLog.for_options(self.store, self.options)
        self.enqueue = enqueue
        self.pending_work: list[Submission] = []  # new records to OCR when nobody enqueues
        self.transport: Transport = transport or SharedStoreTransport(self)
        if transport is None and self.options.peers:
            remote = HttpTransport(parse_peers(self.options.peers))
            self.transport = RoutedTransport(SharedStoreTransport(self), remote)

    # ------------------------------------------------------------------ storage helpers

    def _put(self, key: str, model) -> None:  # noqa: ANN001
        self.store.put_bytes(P + key, model.model_dump_json().encode())

    def _get(self, key: str, cls):  # noqa: ANN001, ANN202
        try:
            return cls.model_validate_json(self.store.get_bytes(P + key))
        except NotFound:
            return None

    def _exists(self, key: str) -> bool:
        return self.store.exists(P + key)

    def _ids(self, prefix: str) -> list[str]:
        return [k.rsplit("/", 1)[-1].removesuffix(".json") for k in self.store.list(P + prefix)]

    # ------------------------------------------------------------------ organs, keys, tokens

    def organ(self, organ_id: str) -> Organ:
        return self.registry.require(organ_id)

    def organ_info(self, organ_id: str) -> OrganInfo:
        organ = self.registry.get(organ_id)
        return OrganInfo(organ_id=organ_id, organ_name=organ.name if organ else "")

    def create_keys(self, organ_id: str) -> OrganKeys:
        organ = self.organ(organ_id)
        existed = self.keys.has_key(organ_id)
        pair = self.keys.create(organ_id, organ.name)
        if not existed:
            self.audit.append(organ_id, "keys", organ_id, note="key pair and certificate created")
        return pair

    def issue_token(self, organ_id: str) -> str:
        self.organ(organ_id)
        token = secrets.token_urlsafe(32)
        key = f"tokens/{hashlib.sha256(token.encode()).hexdigest()}.json"
        self.store.put_bytes(P + key, f'{{"organ_id": "{organ_id}"}}'.encode())
        self.audit.append(organ_id, "token", organ_id, note="API token issued")
        return token

    def organ_for_token(self, token: str) -> str | None:
        if not token:
            return None
        key = f"{P}tokens/{hashlib.sha256(token.encode()).hexdigest()}.json"
        try:
            return json.loads(self.store.get_bytes(key))["organ_id"]
        except NotFound:
            return None

    # ------------------------------------------------------------------ building

    def envelope_for_records(
        self,
        record_ids: list[str],
        sender: str,
        recipients: list[str],
        *,
        attach: str = "original",
    ) -> Envelope:
        """Header from the first record's extracted metadata; every record's files attached."""
        records = self.services.records
        docs = [records.require(records.resolve(r)) for r in record_ids]
        if not docs:
            raise SohoaError("nothing to send: name at least one document")
        first = docs[0]
        env = Envelope(
            sender=self.organ_info(sender),
            recipients=[self.organ_info(r) for r in recipients],
            document_id=_value(first, "document_id"),
            code_number=_value(first, "code_number"),
            code_notation=_value(first, "code_notation"),
            place=_value(first, "issued_place"),
            promulgation_date=_edxml_date(first.metadata.issued_date.value),
            type_name=_value(first, "type_name"),
            subject=_value(first, "subject"),
            signer_competence=_value(first, "signer_competence"),
            signer_position=_value(first, "signer_position"),
            signer_name=_value(first, "signer_name"),
            priority=_value(first, "priority"),
            page_amount=str(first.page_count) if first.page_count else "",
        )
        places = first.metadata.recipients.value
        if isinstance(places, list):
            env.to_places = [str(p) for p in places if p]
        for doc in docs:
            env.attachments.extend(self._record_files(doc, attach))
        return env

    def _record_files(self, doc: Document, attach: str) -> list[Attachment]:
        if attach not in ("original", "searchable", "both"):
            raise SohoaError(f"--attach {attach!r}: use original, searchable or both")
        files = []
        if attach in ("original", "both"):
            files.append(
                Attachment(
                    content_id=str(uuid.uuid4()),
                    name=doc.source_name,
                    content_type=doc.media_type or "application/octet-stream",
                    description="original",
                    data=self.store.get_bytes(original_key(doc.id)),
                )
            )
        if attach in ("searchable", "both"):
            if doc.status != DocumentStatus.done:
                raise SohoaError(f"document {doc.id[:12]} is {doc.status.value}: no searchable PDF")
            data = self.store.get_bytes(pdf_key(doc.id))
            sha = hashlib.sha256(data).hexdigest()
            if not self._exists(f"hashes/{sha}.json"):
                self.store.put_bytes(
                    f"{P}hashes/{sha}.json", f'{{"record_id": "{doc.id}"}}'.encode()
                )
            files.append(
                Attachment(
                    content_id=str(uuid.uuid4()),
                    name=Path(doc.source_name).stem + ".pdf",
                    content_type="application/pdf",
                    description="searchable PDF/A",
                    data=data,
                )
            )
        return files

    def seal(self, env: Envelope, *, sign_it: bool | None = None) -> bytes:
        """Give the envelope a message id and the sender's trace hop, then sign it."""
        env.message_id = env.message_id or uuid.uuid4().hex
        hop = TraceHeader(organ_id=env.sender.organ_id, timestamp=_timestamp())
        if env.trace and env.trace[-1].organ_id == hop.organ_id:
            env.trace = env.trace[:-1]  # received here, sent on from here: one hop
        env.trace = [*env.trace, hop]
        root = edxml.envelope_tree(env)
        if not (self.options.sign if sign_it is None else sign_it):
            return edxml.to_bytes(edxml.strip_placeholder(root))
        algorithm = self.options.algorithm_for(env.recipients[0].organ_id)
        return sign(root, self.keys.keys(env.sender.organ_id), algorithm)

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
    ) -> tuple[Envelope, bytes]:
        """A signed envelope from stored records, kept in the sender's sent list."""
        self.organ(sender)
        for r in recipients:
            self.organ(r)
        if record_ids:
            env = self.envelope_for_records(record_ids, sender, recipients, attach=attach)
            if responds_to:  # an answer, update or replacement with its own files
                env.response_for = self._forwarded(
                    responds_to, sender, recipients, kind, reason
                ).response_for
        elif responds_to:  # a forward (the earlier files and trace) or a recall (no files)
            env = self._forwarded(responds_to, sender, recipients, kind, reason)
        else:
            raise SohoaError("nothing to send: name a document, or a message to forward")
        env.business = Business(doc_type=kind, reason=reason)
        if kind != Kind.new and responds_to:
            earlier = self.state(responds_to)
            env.business.replaces = [earlier.document_id] if earlier.document_id else []
        data = self.seal(env)
        self._record_sent(env, data, responds_to)
        return env, data

    def _forwarded(
        self, message_id: str, sender: str, recipients: list[str], kind: Kind, reason: str
    ) -> Envelope:
        """A message built on an earlier one: its header and files, its trace plus our hop."""
        earlier_state = self.state(message_id)
        if sender not in (earlier_state.sender, *earlier_state.recipients):
            raise AccessDenied(f"organ {sender} neither sent nor received message {message_id}")
        earlier = edxml.parse_envelope(self.envelope_bytes(message_id), self.options.max_bytes)
        receipt = self._get(f"inbox/{sender}/{message_id}.json", Receipt)
        trace = receipt.trace if receipt is not None else earlier.trace
        env = earlier.model_copy(deep=True)
        env.message_id = ""
        env.sender = self.organ_info(sender)
        env.recipients = [self.organ_info(r) for r in recipients]
        env.trace = list(trace)
        env.response_for = [
            ResponseFor(
                organ_id=earlier.sender.organ_id,
                code="/".join(x for x in (earlier.code_number, earlier.code_notation) if x),
                promulgation_date=earlier.promulgation_date,
                document_id=earlier.document_id,
                message_id=message_id,
            )
        ]
        if kind == Kind.revoke:
            env.attachments = []  # a recall carries the header only
        return env

    def _record_sent(self, env: Envelope, data: bytes, responds_to: str | None) -> MessageState:
        record_ids = [self._record_of(hashlib.sha256(a.data).hexdigest()) for a in env.attachments]
        state = MessageState(
            message_id=env.message_id,
            sender=env.sender.organ_id,
            recipients=[r.organ_id for r in env.recipients],
            kind=env.business.doc_type,
            document_id=env.document_id,
            subject=env.subject,
            code="/".join(x for x in (env.code_number, env.code_notation) if x),
            record_ids=[r for r in record_ids if r is not None],
            responds_to=responds_to,
            algorithm=self.options.algorithm_for(env.recipients[0].organ_id)
            if self.options.sign
            else "none",
            size_bytes=len(data),
        )
        self.store.put_bytes(f"{P}messages/{env.message_id}/envelope.edxml", data)
        self._put(f"messages/{env.message_id}/state.json", state)
        self.store.put_bytes(f"{P}sent/{state.sender}/{env.message_id}.json", b"{}")
        if env.document_id:
            self._link_copies(env.document_id, state.record_ids)
        self.audit.append(
            state.sender,
            "send",
            env.message_id,
            to=state.recipients,
            kind=state.kind.value,
            document_id=state.document_id,
            records=state.record_ids,
            bytes=len(data),
        )
        return state

    def _record_of(self, sha: str) -> str | None:
        """The record whose original (or searchable PDF) has this SHA-256, if any."""
        if self.services.records.status(sha) is not None:
            return sha
        try:
            raw = self.store.get_bytes(f"{P}hashes/{sha}.json")
        except NotFound:
            return None
        return json.loads(raw)["record_id"]

    # ------------------------------------------------------------------ outbox and delivery

    def send(self, record_ids: list[str], sender: str, recipients: list[str], **kw) -> str:
        """Build, sign and put one outbox entry per recipient; delivery happens in deliver()."""
        env, _ = self.build(record_ids, sender, recipients, **kw)
        for recipient in recipients:
            self._put(
                f"outbox/{env.message_id}/{recipient}.json",
                OutboxEntry(message_id=env.message_id, sender=sender, recipient=recipient),
            )
        return env.message_id

    def outbox(self, message_id: str) -> list[OutboxEntry]:
        return [
            e
            for r in self._ids(f"outbox/{message_id}/")
            if (e := self._get(f"outbox/{message_id}/{r}.json", OutboxEntry)) is not None
        ]

    def deliver(self, message_id: str, recipient: str) -> OutboxEntry:
        """One delivery attempt. Raises TransportError (retryable) when the peer is away."""
        key = f"outbox/{message_id}/{recipient}.json"
        entry = self._get(key, OutboxEntry)
        if entry is None:
            raise NotFound(f"message {message_id} has no outbox entry for {recipient}")
        if entry.state in ("delivered", "rejected"):
            return entry
        entry.attempts += 1
        entry.updated_at = _now()
        try:
            receipt = self.transport.deliver(recipient, self.envelope_bytes(message_id))
        except TransportError as e:
            entry.last_error = e.message
            self._put(key, entry)
            self.audit.append(
                entry.sender,
                "retry",
                message_id,
                to=recipient,
                attempt=entry.attempts,
                error=e.message,
            )
            raise
        entry.receipt = receipt
        entry.state = "rejected" if receipt.status == Status.rejected else "delivered"
        entry.last_error = receipt.reason
        self._put(key, entry)
        self.audit.append(
            entry.sender,
            entry.state,
            message_id,
            to=recipient,
            attempt=entry.attempts,
            status=receipt.status.value,
        )
        return entry

    def pending_deliveries(self) -> list[tuple[str, str]]:
        """(message id, recipient) of every outbox entry not yet delivered, e.g. after a crash."""
        pending = []
        for key in self.store.list(P + "outbox/"):
            if key.endswith(".json"):
                entry = self._get(key.removeprefix(P), OutboxEntry)
                if entry is not None and entry.state == "pending":
                    pending.append((entry.message_id, entry.recipient))
        return pending

    def retry(self, message_id: str, as_organ: str) -> list[str]:
        """Put failed deliveries of a message back to pending; returns their recipients."""
        state = self.state(message_id)
        if state.sender != as_organ:
            raise AccessDenied(f"only the sender {state.sender} can resend message {message_id}")
        again = []
        for entry in self.outbox(message_id):
            if entry.state in ("failed", "pending"):
                entry.state, entry.updated_at = "pending", _now()
                self._put(f"outbox/{message_id}/{entry.recipient}.json", entry)
                again.append(entry.recipient)
        if again:
            self.audit.append(as_organ, "resend", message_id, to=again)
        return again

    def give_up(self, message_id: str, recipient: str, reason: str) -> None:
        key = f"outbox/{message_id}/{recipient}.json"
        entry = self._get(key, OutboxEntry)
        if entry is None or entry.state != "pending":
            return
        entry.state, entry.last_error, entry.updated_at = "failed", reason, _now()
        self._put(key, entry)
        self.audit.append(entry.sender, "undeliverable", message_id, to=recipient, reason=reason)

    # ------------------------------------------------------------------ receiving

    def receive(self, data: bytes, as_organ: str) -> Receipt:
        """Verify, deduplicate, import and answer one envelope addressed to `as_organ`."""
        self.organ(as_organ)
        try:
            root = edxml.secure_parse(data, self.options.max_bytes)
            claimed = edxml.envelope_from_tree(root)  # unverified: only to know who claims it
        except EnvelopeError as e:
            self.audit.append(as_organ, "reject", "", reason=e.message)
            return Receipt(message_id="", status=Status.rejected, reason=e.message)
        mid = claimed.message_id
        if not _ID.match(mid or ""):
            reason = "TraceHeaderList id (message id) missing or not 32 hex characters"
            self.audit.append(as_organ, "reject", mid, reason=reason)
            return Receipt(message_id=mid, status=Status.rejected, reason=reason)
        try:
            env = self._verified(data, root, claimed, as_organ)
        except (EnvelopeError, SignatureError, NotFound) as e:
            return self._reject(mid, claimed.sender.organ_id, as_organ, e.message)
        done = self._get(f"inbox/{as_organ}/{mid}.json", Receipt)
        if done is None and not self._claim(as_organ, mid):
            done = self._get(f"inbox/{as_organ}/{mid}.json", Receipt)
            if done is None:  # the sender's outbox tries again after its backoff
                raise TransportError(f"message {mid} is being received right now; retry later")
        if done is not None:  # a resent message: accepted once, answered with the same receipt
            self.audit.append(as_organ, "duplicate", mid, sender=env.sender.organ_id)
            return done.model_copy(update={"duplicate": True})
        self._answer(mid, env.sender.organ_id, as_organ, Status.arrived, "arrived")
        if not self.store.exists(f"{P}messages/{mid}/envelope.edxml"):
            self.store.put_bytes(f"{P}messages/{mid}/envelope.edxml", data)  # from a peer
        attachments = [self._import(a) for a in env.attachments]
        record_ids = [a.record_id for a in attachments if a.record_id]
        copies = self._link_copies(env.document_id, record_ids) if env.document_id else []
        if not self._exists(f"messages/{mid}/state.json"):
            self._put(
                f"messages/{mid}/state.json",
                MessageState(
                    message_id=mid,
                    sender=env.sender.organ_id,
                    recipients=[r.organ_id for r in env.recipients],
                    kind=env.business.doc_type,
                    document_id=env.document_id,
                    subject=env.subject,
                    record_ids=record_ids,
                    size_bytes=len(data),
                    responds_to=next(
                        (r.message_id for r in env.response_for if r.message_id), None
                    ),
                ),
            )
        receipt = Receipt(
            message_id=mid,
            status=Status.accepted,
            trace=[*env.trace, TraceHeader(organ_id=as_organ, timestamp=_timestamp())],
            attachments=attachments,
            copies=copies,
        )
        self._put(f"inbox/{as_organ}/{mid}.json", receipt)
        self.audit.append(
            as_organ,
            "receive",
            mid,
            sender=env.sender.organ_id,
            kind=env.business.doc_type.value,
            reuse=receipt.reuse_counts,
            copies=len(copies),
        )
        self._answer(mid, env.sender.organ_id, as_organ, Status.accepted, "accepted")
        if env.business.doc_type != Kind.new:
            self._apply_business(env, as_organ)
        return receipt

    def _claim(self, as_organ: str, mid: str) -> bool:
        """One receiver at a time per message, across processes and machines: a write-once
        claim (`ObjectStore.create`). A claim older than CLAIM_LEASE_S without a receipt is a
        receiver that died mid-way; it is taken over (importing again is idempotent)."""
        key = f"{P}inbox/{as_organ}/{mid}.claim"
        if self.store.create(key, str(time.time()).encode()):
            return True
        try:
            since = float(self.store.get_bytes(key))
        except (NotFound, ValueError):
            return False
        if time.time() - since < CLAIM_LEASE_S:
            return False
        log.warning("message %s: taking over a receipt left unfinished since %.0f", mid, since)
        self.store.delete(key)
        return self.store.create(key, str(time.time()).encode())

    def _verified(
        self, data: bytes, root: etree._Element, claimed: Envelope, as_organ: str
    ) -> Envelope:
        if as_organ not in [r.organ_id for r in claimed.recipients]:
            raise EnvelopeError(
                f"message is addressed to {claimed.recipients[0].organ_id}, not to {as_organ}"
            )
        sender = claimed.sender.organ_id
        self.organ(sender)
        has_signature = root.find(f".//{{{edxml.DSIG}}}Signature") is not None
        if not has_signature and not self.options.sign:
            return claimed  # benchmarks of the unsigned path only
        signed, _algorithm = verify(data, self.keys.cert(sender), sender)
        env = edxml.envelope_from_tree(signed)  # what the signature covers, nothing else
        if env.sender.organ_id != sender or env.message_id != claimed.message_id:
            raise SignatureError("the signed content names another sender or message id")
        return env

    def _reject(self, mid: str, sender: str, as_organ: str, reason: str) -> Receipt:
        log.warning("message %s from %s rejected by %s: %s", mid, sender, as_organ, reason)
        self.audit.append(as_organ, "reject", mid, sender=sender, reason=reason)
        self._answer(mid, sender, as_organ, Status.rejected, reason)
        return Receipt(message_id=mid, status=Status.rejected, reason=reason)

    def _import(self, att: Attachment) -> AttachmentOutcome:
        """Known bytes link to their record (zero OCR, zero new object); new bytes are ingested."""
        sha = hashlib.sha256(att.data).hexdigest()
        out = AttachmentOutcome(
            name=att.name, sha256=sha, size_bytes=len(att.data), content_type=att.content_type
        )
        known = self.services.records.status(sha)
        if known is not None and known.status != DocumentStatus.failed:
            out.record_id, out.outcome = sha, "reused"
            return out
        derived = self._record_of(sha)
        if derived is not None:
            out.record_id, out.outcome = derived, "derived"
            return out
        with tempfile.TemporaryDirectory(prefix="sohoa-receive-") as tmp:
            path = Path(tmp) / (Path(att.name).name or "attachment")
            path.write_bytes(att.data)
            sub = accept(self.services, path)
        out.record_id = sub.doc_id
        if sub.error is not None:
            out.outcome, out.error = "failed", sub.error.message
        else:
            out.outcome = "reused" if sub.outcome == "reused" else "new"
            if sub.outcome in ("new", "resumed"):
                if self.enqueue is not None:
                    self.enqueue(sub.doc_id)
                else:
                    self.pending_work.append(sub)
        return out

    def _link_copies(self, document_id: str, record_ids: Iterable[str]) -> list[str]:
        """Records that are copies of the paper `document_id`, other than `record_ids`."""
        prefix = f"docids/{_hash_key(document_id)}/"
        mine = set(record_ids)
        others = [r for r in self._ids(prefix) if r not in mine]
        for record_id in mine:
            if not self._exists(f"{prefix}{record_id}.json"):
                self.store.put_bytes(f"{P}{prefix}{record_id}.json", b"{}")
        return others

    def _apply_business(self, env: Envelope, as_organ: str) -> None:
        """Revoke, update, replace: act on the earlier message and say so."""
        target = next((r.message_id for r in env.response_for if r.message_id), None)
        if target is None or not self._exists(f"inbox/{as_organ}/{target}.json"):
            return
        kind, sender = env.business.doc_type, env.sender.organ_id
        if kind == Kind.revoke:
            latest = self.latest_status(target, as_organ)
            if latest == Status.done:
                self._answer(
                    env.message_id,
                    sender,
                    as_organ,
                    Status.refuse,
                    f"message {target} is already done; recall refused",
                )
                return
            self._answer(env.message_id, sender, as_organ, Status.agree, f"recall of {target}")
            self._answer(
                target,
                sender,
                as_organ,
                Status.recalled,
                env.business.reason or "recalled by its sender",
            )
        elif kind == Kind.update:
            self._answer(env.message_id, sender, as_organ, Status.agree, f"update of {target}")
            self._answer(
                target, sender, as_organ, Status.agree, f"updated by message {env.message_id}"
            )
        elif kind == Kind.replace:
            self._answer(
                target, sender, as_organ, Status.recalled, f"replaced by message {env.message_id}"
            )

    # ------------------------------------------------------------------ statuses

    def _answer(self, mid: str, sender: str, as_organ: str, code: Status, description: str) -> None:
        """The receiver's status, signed, handed back to the sender by the transport."""
        msg = StatusMessage(
            response_for=ResponseFor(organ_id=sender, message_id=mid),
            sender=self.organ_info(as_organ),
            code=code,
            description=description,
            timestamp=_timestamp(),
        )
        root = edxml.status_tree(msg)
        if self.options.sign and self.keys.has_key(as_organ):
            data = sign(root, self.keys.keys(as_organ), self.options.algorithm_for(sender))
        else:
            data = edxml.to_bytes(edxml.strip_placeholder(root))
        try:
            self.transport.send_status(sender, data)
        except TransportError as e:
            log.warning("status %s for %s not delivered to %s: %s", code, mid, sender, e.message)
            self._store_status(
                StatusEntry(message_id=mid, code=code, organ_id=as_organ, description=description)
            )

    def receive_status(self, data: bytes) -> StatusEntry:
        root = edxml.secure_parse(data, 1024 * 1024)
        claimed = edxml.status_from_tree(root)
        organ_id = claimed.sender.organ_id
        self.organ(organ_id)
        if root.find(f".//{{{edxml.DSIG}}}Signature") is not None or self.options.sign:
            signed, _ = verify(data, self.keys.cert(organ_id), organ_id)
            msg = edxml.status_from_tree(signed)
        else:
            msg = claimed
        mid = msg.response_for.message_id
        if not _ID.match(mid or ""):
            raise EnvelopeError("status names no message id (ResponseFor/MessageId)")
        entry = StatusEntry(
            message_id=mid, code=msg.code, organ_id=organ_id, description=msg.description
        )
        self._store_status(entry)
        return entry

    def _store_status(self, entry: StatusEntry) -> None:
        stamp = entry.at.strftime("%Y%m%dT%H%M%S%f")
        self._put(f"messages/{entry.message_id}/status/{stamp}-{uuid.uuid4().hex[:8]}.json", entry)
        self.audit.append(
            entry.organ_id,
            "status",
            entry.message_id,
            code=entry.code.value,
            description=entry.description,
        )

    def statuses(self, message_id: str) -> list[StatusEntry]:
        return [
            e
            for name in sorted(self._ids(f"messages/{message_id}/status/"))
            if (e := self._get(f"messages/{message_id}/status/{name}.json", StatusEntry))
        ]

    def latest_status(self, message_id: str, organ_id: str) -> Status | None:
        mine = [s for s in self.statuses(message_id) if s.organ_id == organ_id]
        return mine[-1].code if mine else None

    def set_status(self, message_id: str, as_organ: str, code: Status, note: str = "") -> None:
        """The recipient reports progress (04 assigned, 05 in progress, 06 done)."""
        state = self.state(message_id)
        if as_organ not in state.recipients:
            raise AccessDenied(f"organ {as_organ} did not receive message {message_id}")
        if code not in (Status.assigned, Status.in_progress, Status.done):
            raise SohoaError("a recipient sets 04 assigned, 05 in progress or 06 done")
        if not self._exists(f"inbox/{as_organ}/{message_id}.json"):
            raise SohoaError(f"message {message_id} was not accepted by {as_organ}")
        self._answer(message_id, state.sender, as_organ, code, note or code.name)

    def recall(self, message_id: str, as_organ: str, reason: str = "") -> str:
        """Send a revoke (kind 1) for an earlier message to all its recipients."""
        state = self.state(message_id)
        if state.sender != as_organ:
            raise AccessDenied(f"only the sender {state.sender} can recall message {message_id}")
        return self.send(
            [],
            as_organ,
            state.recipients,
            kind=Kind.revoke,
            responds_to=message_id,
            reason=reason or "recall",
        )

    # ------------------------------------------------------------------ queries and access

    def state(self, message_id: str) -> MessageState:
        state = self._get(f"messages/{message_id}/state.json", MessageState)
        if state is None:
            raise NotFound(f"no message {message_id}")
        return state

    def resolve(self, prefix: str) -> str:
        prefix = prefix.strip().lower()
        if _ID.match(prefix):
            return prefix
        found = {k.split("/")[2] for k in self.store.list(f"{P}messages/{prefix}")}
        found = {m for m in found if m.startswith(prefix)}
        if len(found) != 1:
            raise NotFound(f"no message {prefix}" if not found else f"{prefix} is ambiguous")
        return found.pop()

    def envelope_bytes(self, message_id: str) -> bytes:
        return self.store.get_bytes(f"{P}messages/{message_id}/envelope.edxml")

    def is_public(self, message_id: str) -> bool:
        return self._exists(f"public/{message_id}.json")

    def visible(self, state: MessageState, organ_id: str) -> bool:
        return (
            organ_id == state.sender
            or organ_id in state.recipients
            or self.is_public(state.message_id)
        )

    def require_visible(self, message_id: str, organ_id: str, action: str = "read") -> MessageState:
        state = self.state(message_id)
        if not self.visible(state, organ_id):
            self.audit.append(organ_id, "denied", message_id, wanted=action)
            raise AccessDenied(
                f"organ {organ_id} may not {action} message {message_id}: it neither sent nor "
                "received it, and it is not public"
            )
        self.audit.append(organ_id, action, message_id)
        return state

    def make_public(self, message_id: str, as_organ: str) -> None:
        state = self.state(message_id)
        if state.sender != as_organ:
            raise AccessDenied(f"only the sender {state.sender} can make {message_id} public")
        self.store.put_bytes(f"{P}public/{message_id}.json", b"{}")
        self.audit.append(as_organ, "public", message_id)

    def show(self, message_id: str, organ_id: str) -> dict:
        state = self.require_visible(message_id, organ_id)
        return {
            "message": state.model_dump(mode="json"),
            "statuses": [s.model_dump(mode="json") for s in self.statuses(message_id)],
            "outbox": [
                e.model_dump(mode="json", exclude={"receipt"}) for e in self.outbox(message_id)
            ]
            if organ_id == state.sender
            else [],
            "receipt": r.model_dump(mode="json")
            if (r := self._get(f"inbox/{organ_id}/{message_id}.json", Receipt))
            else None,
            "public": self.is_public(message_id),
        }

    def receipt(self, message_id: str, organ_id: str) -> Receipt | None:
        return self._get(f"inbox/{organ_id}/{message_id}.json", Receipt)

    def inbox(self, organ_id: str) -> list[MessageState]:
        self.organ(organ_id)
        self.audit.append(organ_id, "list", f"inbox/{organ_id}")
        return [
            s
            for m in self._ids(f"inbox/{organ_id}/")
            if (s := self._get(f"messages/{m}/state.json", MessageState))
        ]

    def sent(self, organ_id: str) -> list[MessageState]:
        self.organ(organ_id)
        self.audit.append(organ_id, "list", f"sent/{organ_id}")
        return [
            s
            for m in self._ids(f"sent/{organ_id}/")
            if (s := self._get(f"messages/{m}/state.json", MessageState))
        ]
