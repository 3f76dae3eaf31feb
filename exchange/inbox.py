"""Receiving: verify an envelope, claim it (one receiver at a time), import its attachments
(known bytes link to their record, new bytes are ingested, owned by the receiver), let the
receiver see every record it was sent (a delivery grant), answer 01 and 03, and act on a
revoke, update or replacement (business.py). A refused envelope is answered in the receipt,
and grants nothing.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from pathlib import Path

from exchange import envelope_read, envelope_write, messages
from exchange.business import apply_business
from exchange.context import ExchangeContext, timestamp
from exchange.ledger import Ledger
from exchange.links import Links
from exchange.models import (
    Attachment,
    AttachmentOutcome,
    Envelope,
    EnvelopeError,
    Kind,
    MessageState,
    Receipt,
    SignatureError,
    TraceHeader,
    TransportError,
)
from exchange.pki_verify import envelope_signed_at
from exchange.ports import Ingest, RecordAccess, Records
from exchange.signing import reference_uri, verify
from exchange.statuses import Status
from schemas.errors import NotFound
from schemas.models import DocumentStatus

log = logging.getLogger("sohoa.exchange")

CLAIM_LEASE_S = 300  # a receipt takes well under a second; a claim this old is abandoned


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


class Inbox:
    def __init__(
        self,
        ctx: ExchangeContext,
        records: Records,
        access: RecordAccess,
        ingest: Ingest,
        links: Links,
        ledger: Ledger,
    ) -> None:
        self.ctx = ctx
        self.records = records
        self.access = access
        self.ingest = ingest
        self.links = links
        self.ledger = ledger

    def receive(self, data: bytes | Path, as_organ: str) -> Receipt:
        """Verify, deduplicate, import and answer one envelope addressed to `as_organ`.

        `data`: the envelope, or a file holding it (large messages: read in a stream, their
        attachments decoded to temporary files that are gone when this returns)."""
        self.ctx.organ(as_organ)
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
            parsed = envelope_read.read_xml(path, self.ctx.options.max_bytes, spool_dir=work)
            claimed = envelope_read.envelope_from_tree(parsed.root, parsed)  # who claims it
            if not messages.MESSAGE_ID.match(claimed.message_id or ""):
                raise EnvelopeError(
                    "TraceHeaderList id (message id) missing or not 32 hex characters"
                )
            env = self._verified(path, parsed, claimed, as_organ)
        except (EnvelopeError, SignatureError, NotFound) as e:
            return self._reject(arrived, as_organ, e.message, claimed)
        done = self._already_received(env, as_organ)
        if done is not None:  # a resent message: accepted once, answered with the same receipt
            self.ctx.audit.append(as_organ, "duplicate", env.message_id, sender=env.sender.organ_id)
            return done.model_copy(update={"duplicate": True})
        return self._accept(env, path, work, as_organ)

    def _already_received(self, env: Envelope, as_organ: str) -> Receipt | None:
        """The receipt given before, or None once this receiver holds the claim."""
        key = messages.receipt(as_organ, env.message_id)
        done = self.ctx.book.get(key, Receipt)
        if done is None and not self._claim(as_organ, env.message_id):
            done = self.ctx.book.get(key, Receipt)
            if done is None:  # the sender's outbox tries again after its backoff
                raise TransportError(
                    f"message {env.message_id} is being received right now; retry later"
                )
        return done

    def _accept(self, env: Envelope, path: Path, work: Path, as_organ: str) -> Receipt:
        mid, sender = env.message_id, env.sender.organ_id
        store, book = self.ctx.store, self.ctx.book
        if not store.exists(messages.envelope(mid)):
            store.put_file(messages.envelope(mid), path)  # from a peer
        attachments = [
            self._import(a, work / f"import-{i}", as_organ) for i, a in enumerate(env.attachments)
        ]
        record_ids = [a.record_id for a in attachments if a.record_id]
        for record_id in dict.fromkeys(record_ids):  # before the receipt: a receipt means seen
            self.access.deliver(record_id, as_organ, mid)
        copies = self.links.link_copies(env.document_id, record_ids) if env.document_id else []
        if not book.exists(messages.state(mid)):
            book.put(messages.state(mid), self._state(env, record_ids, path.stat().st_size))
        # 01 once the message is known here (its state names the recipients a status is
        # accepted from), then 03.
        self.ledger.answer(mid, sender, as_organ, Status.arrived, "arrived")
        receipt = Receipt(
            message_id=mid,
            status=Status.accepted,
            trace=[*env.trace, TraceHeader(organ_id=as_organ, timestamp=timestamp())],
            attachments=attachments,
            copies=copies,
        )
        book.put(messages.receipt(as_organ, mid), receipt)
        self.ctx.audit.append(
            as_organ,
            "receive",
            mid,
            sender=sender,
            kind=env.business.doc_type.value,
            reuse=receipt.reuse_counts,
            copies=len(copies),
        )
        self.ledger.answer(mid, sender, as_organ, Status.accepted, "accepted")
        if env.business.doc_type != Kind.new:
            apply_business(self.ctx, self.ledger, env, as_organ)
        return receipt

    @staticmethod
    def _state(env: Envelope, record_ids: list[str], size: int) -> MessageState:
        return MessageState.of(
            env,
            record_ids=record_ids,
            size_bytes=size,
            responds_to=next((r.message_id for r in env.response_for if r.message_id), None),
        )

    def _claim(self, as_organ: str, mid: str) -> bool:
        """One receiver at a time per message, across processes and machines: a write-once
        claim (`ObjectStore.create`). A claim older than CLAIM_LEASE_S without a receipt is a
        receiver that died mid-way; it is taken over (importing again is idempotent)."""
        store = self.ctx.store
        key = messages.claim(as_organ, mid)
        if store.create(key, str(time.time()).encode()):
            return True
        try:
            since = float(store.get_bytes(key))
        except (NotFound, ValueError):
            return False
        if time.time() - since < CLAIM_LEASE_S:
            return False
        log.warning("message %s: taking over a receipt left unfinished since %.0f", mid, since)
        store.delete(key)
        return store.create(key, str(time.time()).encode())

    def _verified(
        self, path: Path, parsed: envelope_read.Parsed, claimed: Envelope, as_organ: str
    ) -> Envelope:
        sender = claimed.sender.organ_id
        self.ctx.organ(sender)
        uri = reference_uri(parsed.root)
        if uri is None and not self.ctx.options.sign:
            return claimed  # benchmarks of the unsigned path only
        cert, certs, pem = self.ctx.trust.signer_of(parsed.root, sender)
        at = cert.not_valid_before_utc  # its validity: Trust.check's, at the signed time
        if uri == "":  # signed whole by other QCVN 102 software: verified whole, in memory
            signed, _algorithm = verify(path.read_bytes(), pem, sender, at)
            env = envelope_read.envelope_from_tree(signed)
        else:  # sohoa: the edXMLEnvelope is signed, each attachment bound by its digest
            signed, _algorithm = verify(parsed.root, pem, sender, at)
            env = envelope_read.envelope_from_tree(signed, parsed, signed_manifest=True)
        # what the signature covers, nothing else, decides from here on
        if env.sender.organ_id != sender or env.message_id != claimed.message_id:
            raise SignatureError("the signed content names another sender or message id")
        if as_organ not in [r.organ_id for r in env.recipients]:
            raise EnvelopeError(
                f"message is addressed to {env.recipients[0].organ_id}, not to {as_organ}"
            )
        signed_at = envelope_signed_at([(t.organ_id, t.timestamp) for t in env.trace], sender)
        self.ctx.trust.check(
            cert, certs, sender=sender, signed_at=signed_at, acting=as_organ, target=env.message_id
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
        self.ctx.audit.append(
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

    def _import(self, att: Attachment, work: Path, as_organ: str) -> AttachmentOutcome:
        """Known bytes link to their record (zero OCR, zero new object); new bytes are ingested
        as a record `as_organ` owns."""
        sha = envelope_write.content_sha256(att)
        size = att.path.stat().st_size if att.path is not None else len(att.data)
        out = AttachmentOutcome(
            name=att.name, sha256=sha, size_bytes=size, content_type=att.content_type
        )
        known = self.records.status(sha)
        if known is not None and known.status != DocumentStatus.failed:
            out.record_id, out.outcome = sha, "reused"
            return out
        derived = self.links.record_of(sha)
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
        ingested = self.ingest(path, as_organ)  # stored, and its processing scheduled
        out.record_id = ingested.doc_id
        if ingested.error is not None:
            out.outcome, out.error = "failed", ingested.error.message
        else:
            out.outcome = "reused" if ingested.outcome == "reused" else "new"
        return out
