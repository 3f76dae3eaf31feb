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

import functools
import hashlib
import io
import json
import logging
import re
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from exchange import envelope as edxml
from exchange.audit import AuditLog
from exchange.models import (
    STATUS_NAMES,
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
    StatusRefused,
    TraceHeader,
    TransportError,
)
from exchange.options import ExchangeOptions
from exchange.signing import KeyStore, OrganKeys, reference_uri, sign, sign_tree, verify
from exchange.transport import (
    HttpTransport,
    RoutedTransport,
    SharedStoreTransport,
    Transport,
    parse_peers,
)
from organs.registry import OrganRegistry
from schemas.errors import NotFound, SohoaError
from schemas.models import Document, DocumentStatus, Organ
from storage.keys import original_key, pdf_key
from workers.services import Services
from workers.submit import Submission, accept

log = logging.getLogger("sohoa.exchange")

P = "exchange/"
_ID = re.compile(r"^[0-9a-f]{32}$")
CLAIM_LEASE_S = 300  # a receipt takes well under a second; a claim this old is abandoned
# What one recipient reports about one message only moves forward in this order (13: recalled
# or replaced, the end). 15/16 answer an update or recall and stand beside it. 02 is never a
# stored status: a rejection is answered in the receipt.
_PROGRESS = {
    Status.arrived: 1,
    Status.accepted: 2,
    Status.assigned: 3,
    Status.in_progress: 4,
    Status.done: 5,
    Status.recalled: 6,
}
# A signed Status/Timestamp further ahead than this is refused (peers sign in local time).
STATUS_CLOCK_SKEW = timedelta(days=1)


def _now() -> datetime:
    return datetime.now(UTC)


def _timestamp(at: datetime | None = None) -> str:
    return (at or _now()).strftime("%Y/%m/%d %H:%M:%S")


def _signed_time(text: str) -> datetime | None:
    """Status/Timestamp as QCVN 102 writes it (yyyy/MM/dd HH:mm:ss); None if it is not one."""
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _status_name(code: Status) -> str:
    return f"{code.value} ({STATUS_NAMES[code.value]})"


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


def _file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            sha.update(chunk)
    return sha.hexdigest()


def _file_name(name: str) -> str:
    """A received attachment's name as a file name in a folder of ours: no folders, no NUL,
    not empty, at most 200 bytes (the name came from another organ)."""
    base = Path(name.replace("\x00", "").replace("\\", "/")).name.strip()
    while len(base.encode()) > 200:
        base = Path(base).stem[:-1] + Path(base).suffix
    return base if base not in ("", ".", "..") else "attachment"


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
        files: ExitStack | None = None,
    ) -> Envelope:
        """Header from the first record's extracted metadata; every record's files attached
        (as files `files` holds until the envelope is written; without it, in memory)."""
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
            env.attachments.extend(self._record_files(doc, attach, files))
        return env

    def _record_files(
        self, doc: Document, attach: str, files: ExitStack | None
    ) -> list[Attachment]:
        """The record's stored files as attachments backed by local paths (`files` keeps them
        until the envelope is written: with S3 each is downloaded to a temporary file)."""

        def content(key: str) -> dict:
            if files is None:
                return {"data": self.store.get_bytes(key)}
            return {"path": files.enter_context(self.store.local_path(key))}

        if attach not in ("original", "searchable", "both"):
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
            sha = edxml.content_sha256(Attachment(content_id="", name="", **pdf))
            if not self._exists(f"hashes/{sha}.json"):
                self.store.put_bytes(
                    f"{P}hashes/{sha}.json", f'{{"record_id": "{doc.id}"}}'.encode()
                )
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
        hop = TraceHeader(organ_id=env.sender.organ_id, timestamp=_timestamp())
        if env.trace and env.trace[-1].organ_id == hop.organ_id:
            env.trace = env.trace[:-1]  # received here, sent on from here: one hop
        env.trace = [*env.trace, hop]

    def _write(self, env: Envelope, out: BinaryIO, sign_it: bool | None = None) -> int:
        """The signed (or unsigned) message, attachments streamed from their files."""
        signer = None
        if self.options.sign if sign_it is None else sign_it:
            keys = self.keys.keys(env.sender.organ_id)
            algorithm = self.options.algorithm_for(env.recipients[0].organ_id)
            signer = functools.partial(sign_tree, keys=keys, algorithm=algorithm)
        return edxml.write_envelope(env, out, signer)

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
    ) -> Envelope:
        """A signed envelope from stored records, stored (`envelope_bytes`/`open_envelope`)
        and kept in the sender's sent list. Attachments are streamed, never held whole."""
        self.organ(sender)
        for r in recipients:
            self.organ(r)
        with ExitStack() as files, tempfile.TemporaryDirectory(prefix="sohoa-build-") as tmp:
            if record_ids:
                env = self.envelope_for_records(
                    record_ids, sender, recipients, attach=attach, files=files
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
                earlier = self.state(responds_to)
                env.business.replaces = [earlier.document_id] if earlier.document_id else []
            self._stamp(env)
            path = Path(tmp) / "envelope.edxml"
            with path.open("wb") as out:
                size = self._write(env, out)
            if size > self.options.max_bytes:
                raise SohoaError(
                    f"the message would be {size:,} bytes, above the exchange limit of "
                    f"{self.options.max_bytes:,} (SOHOA_EXCHANGE_MAX_BYTES): send fewer files"
                )
            self._record_sent(env, path, size, responds_to)
        return env

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
        earlier_state = self.state(message_id)
        if sender not in (earlier_state.sender, *earlier_state.recipients):
            raise AccessDenied(f"organ {sender} neither sent nor received message {message_id}")
        with self.store.local_path(f"{P}messages/{message_id}/envelope.edxml") as stored:
            parsed = edxml.read_xml(stored, self.options.max_bytes, spool_dir=spool_dir)
        earlier = edxml.envelope_from_tree(parsed.root, parsed)  # our own copy: verified before
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

    def _record_sent(
        self, env: Envelope, path: Path, size: int, responds_to: str | None
    ) -> MessageState:
        record_ids = [self._record_of(edxml.content_sha256(a)) for a in env.attachments]
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
            size_bytes=size,
        )
        self.store.put_file(f"{P}messages/{env.message_id}/envelope.edxml", path)
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
            bytes=size,
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
        env = self.build(record_ids, sender, recipients, **kw)
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
            with self.store.local_path(f"{P}messages/{message_id}/envelope.edxml") as path:
                receipt = self.transport.deliver(recipient, path)
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

    def receive(self, data: bytes | Path, as_organ: str) -> Receipt:
        """Verify, deduplicate, import and answer one envelope addressed to `as_organ`.

        `data`: the envelope, or a file holding it (large messages: read in a stream, their
        attachments decoded to temporary files that are gone when this returns)."""
        self.organ(as_organ)
        with tempfile.TemporaryDirectory(prefix="sohoa-receive-") as tmp:
            work = Path(tmp)
            if isinstance(data, bytes):
                path = work / "envelope.edxml"
                path.write_bytes(data)
            else:
                path = Path(data)
            return self._receive_file(path, work, as_organ)

    def _receive_file(self, path: Path, work: Path, as_organ: str) -> Receipt:
        arrived = _file_sha256(path)  # a rejection is keyed by what arrived
        claimed: Envelope | None = None
        try:
            parsed = edxml.read_xml(path, self.options.max_bytes, spool_dir=work)
            claimed = edxml.envelope_from_tree(parsed.root, parsed)  # unverified: who claims it
            if not _ID.match(claimed.message_id or ""):
                raise EnvelopeError(
                    "TraceHeaderList id (message id) missing or not 32 hex characters"
                )
            env = self._verified(path, parsed, claimed, as_organ)
        except (EnvelopeError, SignatureError, NotFound) as e:
            return self._reject(arrived, as_organ, e.message, claimed)
        mid = env.message_id
        done = self._get(f"inbox/{as_organ}/{mid}.json", Receipt)
        if done is None and not self._claim(as_organ, mid):
            done = self._get(f"inbox/{as_organ}/{mid}.json", Receipt)
            if done is None:  # the sender's outbox tries again after its backoff
                raise TransportError(f"message {mid} is being received right now; retry later")
        if done is not None:  # a resent message: accepted once, answered with the same receipt
            self.audit.append(as_organ, "duplicate", mid, sender=env.sender.organ_id)
            return done.model_copy(update={"duplicate": True})
        if not self.store.exists(f"{P}messages/{mid}/envelope.edxml"):
            self.store.put_file(f"{P}messages/{mid}/envelope.edxml", path)  # from a peer
        attachments = [self._import(a, work / f"import-{i}") for i, a in enumerate(env.attachments)]
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
                    size_bytes=path.stat().st_size,
                    responds_to=next(
                        (r.message_id for r in env.response_for if r.message_id), None
                    ),
                ),
            )
        # 01 once the message is known here (its state names the recipients a status is
        # accepted from), then 03.
        self._answer(mid, env.sender.organ_id, as_organ, Status.arrived, "arrived")
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
        self, path: Path, parsed: edxml.Parsed, claimed: Envelope, as_organ: str
    ) -> Envelope:
        sender = claimed.sender.organ_id
        self.organ(sender)
        uri = reference_uri(parsed.root)
        if uri is None and not self.options.sign:
            env = claimed  # benchmarks of the unsigned path only
        elif uri == "":  # signed whole by other QCVN 102 software: verified whole, in memory
            signed, _algorithm = verify(path.read_bytes(), self.keys.cert(sender), sender)
            env = edxml.envelope_from_tree(signed)
        else:  # sohoa: the edXMLEnvelope is signed, each attachment bound by its digest
            signed, _algorithm = verify(parsed.root, self.keys.cert(sender), sender)
            env = edxml.envelope_from_tree(signed, parsed, signed_manifest=True)
        # what the signature covers, nothing else, decides from here on
        if env.sender.organ_id != sender or env.message_id != claimed.message_id:
            raise SignatureError("the signed content names another sender or message id")
        if as_organ not in [r.organ_id for r in env.recipients]:
            raise EnvelopeError(
                f"message is addressed to {env.recipients[0].organ_id}, not to {as_organ}"
            )
        return env

    def _reject(
        self, arrived: str, as_organ: str, reason: str, claimed: Envelope | None
    ) -> Receipt:
        """A refused envelope is recorded as what arrived (its SHA-256), never as the message
        it claims to be: no status under that message id, nothing signed for `as_organ`. The
        sender learns the reason from the receipt (its outbox entry becomes 'rejected')."""
        mid = claimed.message_id if claimed is not None else ""
        sender = claimed.sender.organ_id if claimed is not None else ""
        log.warning(
            "envelope sha256:%s (claims message %s from %s) rejected by %s: %s",
            arrived[:16],
            mid or "-",
            sender or "-",
            as_organ,
            reason,
        )
        self.audit.append(
            as_organ,
            "reject",
            f"sha256:{arrived}",
            claimed_message_id=mid,
            claimed_sender=sender,
            reason=reason,
        )
        return Receipt(
            message_id=mid, status=Status.rejected, reason=reason, envelope_sha256=arrived
        )

    def _import(self, att: Attachment, work: Path) -> AttachmentOutcome:
        """Known bytes link to their record (zero OCR, zero new object); new bytes are ingested."""
        sha = edxml.content_sha256(att)
        size = att.path.stat().st_size if att.path is not None else len(att.data)
        out = AttachmentOutcome(
            name=att.name, sha256=sha, size_bytes=size, content_type=att.content_type
        )
        known = self.services.records.status(sha)
        if known is not None and known.status != DocumentStatus.failed:
            out.record_id, out.outcome = sha, "reused"
            return out
        derived = self._record_of(sha)
        if derived is not None:
            out.record_id, out.outcome = derived, "derived"
            return out
        work.mkdir()
        path = work / _file_name(att.name)  # the record's source name
        if att.path is not None:
            att.path.rename(path)  # same temporary folder: no copy
            att.path = path
        else:
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
        if self.state(target).sender != sender:  # only its own sender acts on a message
            self._answer(
                env.message_id,
                sender,
                as_organ,
                Status.refuse,
                f"message {target} was not sent by {sender}; refused",
            )
            return
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
                StatusEntry(
                    message_id=mid,
                    code=code,
                    organ_id=as_organ,
                    description=description,
                    timestamp=msg.timestamp,
                )
            )

    def receive_status(self, data: bytes, to_organ: str | None = None) -> StatusEntry:
        """A recipient's signed status about a message: stored only when the organ it comes
        from is one of that message's recipients, once (a replay of the same signed status is
        answered as before and changes nothing), and only when it moves that organ's statuses
        forward (see _PROGRESS, and by its signed Timestamp). `to_organ`: the organ whose token
        posted it over HTTP, which must be the message's sender (the status is addressed to it).
        """
        root = edxml.secure_parse(data, 1024 * 1024)
        claimed = edxml.status_from_tree(root)
        organ_id = claimed.sender.organ_id
        self.organ(organ_id)
        if reference_uri(root) is not None or self.options.sign:
            signed, _ = verify(root, self.keys.cert(organ_id), organ_id)
            msg = edxml.status_from_tree(signed)
            if msg.sender.organ_id != organ_id:
                raise SignatureError("the signed status names another organ")
        else:
            signed, msg = root, claimed
        mid = msg.response_for.message_id
        if not _ID.match(mid or ""):
            raise EnvelopeError("status names no message id (ResponseFor/MessageId)")
        state = self.state(mid)
        if organ_id not in state.recipients:
            self.audit.append(organ_id, "denied", mid, wanted="status", code=msg.code.value)
            raise AccessDenied(
                f"organ {organ_id} is not a recipient of message {mid}: its status is refused"
            )
        if to_organ is not None and to_organ != state.sender:
            self.audit.append(
                to_organ, "denied", mid, wanted="status", code=msg.code.value, status_of=organ_id
            )
            raise AccessDenied(
                f"a status about message {mid} is posted with its sender {state.sender}'s "
                f"token, not with {to_organ}'s"
            )
        # What the signature covers, canonical: the same status however it is re-serialised.
        digest = hashlib.sha256(etree.tostring(signed, method="c14n")).hexdigest()
        seen_key = f"messages/{mid}/status-seen/{digest}.json"
        entry = StatusEntry(
            message_id=mid,
            code=msg.code,
            organ_id=organ_id,
            description=msg.description,
            timestamp=msg.timestamp,
        )
        if not self._exists(seen_key):
            self._check_order(entry)
            if self.store.create(P + seen_key, entry.model_dump_json().encode()):
                self._store_status(entry)
                return entry
        first = self._get(seen_key, StatusEntry) or entry
        self.audit.append(
            organ_id, "replay", mid, code=msg.code.value, status_sha256=digest, wanted="status"
        )
        return first.model_copy(update={"replay": True})

    def _check_order(self, entry: StatusEntry) -> None:
        reason = self._out_of_order(entry)
        if reason:
            self.audit.append(
                entry.organ_id,
                "status-refused",
                entry.message_id,
                code=entry.code.value,
                timestamp=entry.timestamp,
                reason=reason,
            )
            raise StatusRefused(reason)

    def _out_of_order(self, entry: StatusEntry) -> str:
        """Why `entry` may not follow what its organ already reported ('' if it may)."""
        if entry.code not in _PROGRESS and entry.code not in (Status.agree, Status.refuse):
            return (
                f"status {_status_name(entry.code)} is never stored as a status "
                "(a rejection is answered in the receipt)"
            )
        mine = [s for s in self.statuses(entry.message_id) if s.organ_id == entry.organ_id]
        reached = [s for s in mine if s.code in _PROGRESS]
        if entry.code in _PROGRESS and reached:
            top = max(reached, key=lambda s: _PROGRESS[s.code])
            if _PROGRESS[entry.code] < _PROGRESS[top.code]:
                return (
                    f"status {_status_name(entry.code)} after {_status_name(top.code)} from "
                    f"{entry.organ_id}: statuses only move forward"
                )
        when = _signed_time(entry.timestamp)
        if when is None:
            return ""
        if when > _now() + STATUS_CLOCK_SKEW:
            return f"status timestamp {entry.timestamp} is in the future"
        signed = [(t, s) for s in mine if (t := _signed_time(s.timestamp)) is not None]
        if signed:
            latest_at = max(t for t, _ in signed)
            latest = [s for t, s in signed if t == latest_at][-1]  # the last stored of them
            if when < latest_at:
                return (
                    f"status {_status_name(entry.code)} signed at {entry.timestamp} is older "
                    f"than {_status_name(latest.code)} signed at {latest.timestamp}"
                )
        return ""

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
        latest = self.latest_status(message_id, as_organ)  # what this installation knows
        if latest in _PROGRESS and _PROGRESS[code] < _PROGRESS[latest]:
            raise StatusRefused(
                f"{as_organ} already reported {_status_name(latest)} for message {message_id}: "
                "statuses only move forward"
            )
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
        """The stored message in memory (small messages; tests): prefer open_envelope."""
        return self.store.get_bytes(f"{P}messages/{message_id}/envelope.edxml")

    def open_envelope(self, message_id: str) -> BinaryIO:
        """The stored message as a stream (it can be as large as the exchange limit)."""
        return self.store.open(f"{P}messages/{message_id}/envelope.edxml")

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
