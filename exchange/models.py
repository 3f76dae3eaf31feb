"""What an edXML message carries, and what sohoa keeps about each message (DESIGN §6).

Field names follow QCVN 102:2016 element names. Values the sender does not know stay empty:
an envelope built from a record never fills a field the record's metadata does not hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField

from exchange.statuses import Status
from schemas.errors import SohoaError
from schemas.models import Text, utcnow

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


class EnvelopeError(SohoaError):
    """Malformed or incomplete edXML: the message is rejected (status 02)."""

    code = "bad_envelope"


class SignatureError(SohoaError):
    """Signature missing, invalid, or not made with the From organ's registered certificate."""

    code = "bad_signature"


class AccessDenied(SohoaError):
    code = "forbidden"
    exit_code = 4
    http_status = 403


class StatusRefused(SohoaError):
    """A genuine status that may not be stored: older than what the organ already reported, or
    a code that is never a stored status (02). HTTP 409."""

    code = "status_refused"
    http_status = 409


class TransportError(SohoaError):
    """The peer could not be reached or did not answer: the outbox tries again later."""

    code = "transport"
    retryable = True
    http_status = 503
    retry_after = 5  # the peer's outbox tries again after a 503


class Kind(StrEnum):
    """Bussiness/BussinessDocType."""

    new = "0"
    revoke = "1"
    update = "2"
    replace = "3"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OrganInfo(_Model):
    organ_id: str = ""
    organ_name: Text = ""
    organization_in_charge: Text = ""
    organ_add: Text = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


class ResponseFor(_Model):
    organ_id: str = ""
    code: Text = ""
    promulgation_date: str = ""
    document_id: Text = ""
    message_id: str = ""  # sohoa extension: the exact message answered


class TraceHeader(_Model):
    organ_id: str
    timestamp: str  # yyyy/MM/dd HH:mm:ss (UTC)


class Business(_Model):
    doc_type: Kind = Kind.new
    reason: Text = ""
    paper: str = "0"
    # Earlier documents this one revokes, updates or replaces (their DocumentIds).
    replaces: list[Text] = PydField(default_factory=list)


class Attachment(_Model):
    content_id: str  # uuid, without the `cid:` prefix
    name: Text
    content_type: str = "application/octet-stream"
    description: Text = ""
    data: bytes = b""
    # Or the bytes live in this file (a stored original, or an attachment decoded from an
    # arriving envelope): large files are streamed, never held whole in memory.
    path: Path | None = None

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        if self.path is None:
            for start in range(0, len(self.data), size):
                yield self.data[start : start + size]
            return
        with self.path.open("rb") as f:
            while chunk := f.read(size):
                yield chunk


class Envelope(_Model):
    """One edXML document message."""

    message_id: str = ""  # TraceHeaderList/@id
    sender: OrganInfo = PydField(default_factory=OrganInfo)
    recipients: list[OrganInfo] = PydField(default_factory=list)
    response_for: list[ResponseFor] = PydField(default_factory=list)
    document_id: Text = ""
    code_number: Text = ""
    code_notation: Text = ""
    place: Text = ""
    promulgation_date: str = ""  # yyyy/MM/dd
    doc_type: str = ""
    type_name: Text = ""
    subject: Text = ""
    content: Text = ""
    signer_competence: Text = ""
    signer_position: Text = ""
    signer_name: Text = ""
    due_date: str = ""
    to_places: list[Text] = PydField(default_factory=list)
    priority: str = ""
    sphere_of_promulgation: Text = ""
    typer_notation: Text = ""
    promulgation_amount: str = ""
    page_amount: str = ""
    appendixes: list[Text] = PydField(default_factory=list)
    steering_type: str = ""
    trace: list[TraceHeader] = PydField(default_factory=list)
    business: Business = PydField(default_factory=Business)
    attachments: list[Attachment] = PydField(default_factory=list)


# Where each MessageHeader element of the field table (schemas.fields, `edxml`) sits in an
# Envelope: the writer and the reader name these attributes, the outbox fills them from a record.
HEADER_ATTRIBUTES = {
    "DocumentId": "document_id",
    "Code/CodeNumber": "code_number",
    "Code/CodeNotation": "code_notation",
    "PromulgationInfo/Place": "place",
    "PromulgationInfo/PromulgationDate": "promulgation_date",
    "DocumentType/TypeName": "type_name",
    "Subject": "subject",
    "SignerInfo/Competence": "signer_competence",
    "SignerInfo/Position": "signer_position",
    "SignerInfo/FullName": "signer_name",
    "ToPlaces/Place": "to_places",
    "OtherInfo/Priority": "priority",
    "OtherInfo/PageAmount": "page_amount",
}


class StatusMessage(_Model):
    """An edXML Status message: the receiver's answer about one message."""

    response_for: ResponseFor
    sender: OrganInfo
    code: Status
    description: Text = ""
    timestamp: str = ""
    staff: Text = ""
    department: Text = ""


# ------------------------------------------------------------------ what sohoa stores


class AttachmentOutcome(_Model):
    name: Text
    sha256: str
    size_bytes: int
    content_type: str
    record_id: str | None = None  # the local record this attachment is (or became)
    outcome: str = ""  # reused | derived | new | failed
    error: Text | None = None


class MessageState(_Model):
    """One message as the installation keeps it (`exchange/messages/<id>/state.json`)."""

    message_id: str
    sender: str
    recipients: list[str]
    kind: Kind = Kind.new
    document_id: Text = ""
    subject: Text = ""
    code: Text = ""
    record_ids: list[str] = PydField(default_factory=list)
    responds_to: str | None = None  # the message this one answers, forwards or recalls
    created_at: datetime = PydField(default_factory=utcnow)
    algorithm: str = ""
    size_bytes: int = 0

    @classmethod
    def of(cls, env: Envelope, **kept: object) -> MessageState:
        """What an envelope says of itself, and what the side that keeps it adds (`kept`)."""
        return cls(
            message_id=env.message_id,
            sender=env.sender.organ_id,
            recipients=[r.organ_id for r in env.recipients],
            kind=env.business.doc_type,
            document_id=env.document_id,
            subject=env.subject,
            **kept,
        )


class StatusEntry(_Model):
    message_id: str
    code: Status
    organ_id: str
    description: Text = ""
    at: datetime = PydField(default_factory=utcnow)
    timestamp: str = ""  # as the organ signed it (Status/Timestamp); empty in older entries
    replay: bool = False  # in an answer only: this exact status had been received before


class Receipt(_Model):
    """What a receiver answers for one delivered envelope."""

    message_id: str  # as the envelope claims it (not trusted when rejected)
    status: Status
    reason: Text = ""
    duplicate: bool = False
    # A rejection is about what arrived, not about the message it claims to be: SHA-256 of
    # the envelope bytes, the key of its audit entry.
    envelope_sha256: str = ""
    trace: list[TraceHeader] = PydField(default_factory=list)
    attachments: list[AttachmentOutcome] = PydField(default_factory=list)
    copies: list[str] = PydField(default_factory=list)  # other records of the same DocumentId

    @property
    def reuse_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in self.attachments:
            counts[a.outcome] = counts.get(a.outcome, 0) + 1
        return counts


class Delivery(StrEnum):
    """Where one outbox entry (one message to one recipient) stands."""

    pending = "pending"  # waiting for a delivery attempt (again, after retry)
    delivered = "delivered"  # the receiver accepted it (its receipt is kept)
    rejected = "rejected"  # the receiver refused it (status 02, the reason in the receipt)
    failed = "failed"  # retries ran out; `exchange retry` puts it back to pending

    @property
    def settled(self) -> bool:
        """Nothing more happens to it without a retry."""
        return self != Delivery.pending


class OutboxEntry(_Model):
    message_id: str
    sender: str
    recipient: str
    state: Delivery = Delivery.pending
    attempts: int = 0
    last_error: Text = ""
    receipt: Receipt | None = None
    updated_at: datetime = PydField(default_factory=utcnow)


class OrganToken(_Model):
    """An organ's API token as stored, under the SHA-256 of its value (messages.token): the
    value itself is shown once and never kept. Tokens issued before they had names hold only
    `organ_id`; they keep working and are named by `digest`."""

    organ_id: str
    name: Text = ""
    created: datetime | None = None
    last_used: datetime | None = None
    digest: str = PydField("", exclude=True)  # from the key, never stored

    @property
    def shown_name(self) -> str:
        return self.name or f"(unnamed {self.digest[:12]})"
