"""Pydantic models for everything that crosses a process or storage boundary (DESIGN §2)."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import Field as PydField

from schemas.access import Visibility


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


Text = Annotated[str, AfterValidator(_nfc)]
"""A string that is always Unicode NFC, whatever came in."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class DocumentStatus(StrEnum):
    received = "received"  # original stored, nothing else done yet
    processing = "processing"
    done = "done"  # every page done or skipped
    # Indexed (its good pages are searchable), but some pages failed; running the same ingest
    # again retries exactly those pages. Never reused as finished work.
    partial = "partial"
    failed = "failed"  # nothing usable: the document could not be read, or no page could

    @property
    def finished(self) -> bool:
        """No more work will happen to it unless someone ingests it again."""
        return self in (DocumentStatus.done, DocumentStatus.partial, DocumentStatus.failed)


class PageStatus(StrEnum):
    done = "done"
    # Read, with nothing to read on it: a blank page, or no text found. Flagged, and it does
    # not fail the document.
    skipped = "skipped"
    # Could not be read, decoded or OCRed (a damaged page, a tool that failed): the document
    # is `partial` and the page is retried by the next ingest of the same file.
    failed = "failed"


class PageSource(StrEnum):
    ocr = "ocr"
    text_layer = "text_layer"  # born-digital page: text taken from the PDF, no OCR


class ErrorInfo(_Model):
    code: str
    message: Text
    retryable: bool = False


class Word(_Model):
    text: Text
    left: int
    top: int
    width: int
    height: int
    confidence: float  # 0..100; 100 for text-layer words
    block: int = 0
    line: int = 0


class PageResult(_Model):
    page_no: int  # 1-based
    status: PageStatus = PageStatus.done
    source: PageSource = PageSource.ocr
    text: Text = ""
    words: list[Word] = PydField(default_factory=list)
    width_px: int = 0
    height_px: int = 0
    dpi: int = 0
    rotation_deg: int = 0  # clockwise rotation applied to make the page upright
    skew_deg: float = 0.0  # skew corrected
    mean_confidence: float | None = None
    quality_flags: list[str] = PydField(default_factory=list)
    reason: Text | None = None  # why a page was skipped or failed
    seconds: float = 0.0
    # key-field zones (subject, signer) read a second time, upscaled; words in page coordinates
    zones: dict[str, list[Word]] = PydField(default_factory=dict)
    # Difference hash of the deskewed page (pipeline/fingerprint.py), hex; None for a page
    # with no image or no ink, and in records written before fingerprints existed.
    image_hash: str | None = None
    # In a document's record a page is a summary: its words and zones stay in the stored page
    # result named by `result_key` (read page by page where they are needed: workers/pages.py),
    # `word_count` says how many there are. Records written before round 13 hold the words
    # inline and no key.
    word_count: int = 0
    result_key: str | None = None

    @property
    def has_words(self) -> bool:
        """Words were read on the page (inline, or in its stored result)."""
        return bool(self.words) or self.word_count > 0

    def summary(self, result_key: str) -> PageResult:
        """This page as a document's record holds it: everything but the words and zones,
        which stay in the page result stored at `result_key`."""
        return self.model_copy(
            update={
                "words": [],
                "zones": {},
                "word_count": self.word_count or len(self.words),
                "result_key": result_key,
            }
        )


class Field(_Model):
    """One extracted metadata value with the machine's confidence in it (0..1)."""

    value: Any = None
    confidence: float = 0.0


class AdminMetadata(_Model):
    """Nghị định 30/2020 Phụ lục VI fields. Empty beats wrong: unknown values stay None."""

    organ_name: Field = PydField(default_factory=Field)
    organ_parent: Field = PydField(default_factory=Field)
    code_number: Field = PydField(default_factory=Field)
    code_notation: Field = PydField(default_factory=Field)
    issued_place: Field = PydField(default_factory=Field)
    issued_date: Field = PydField(default_factory=Field)
    type_name: Field = PydField(default_factory=Field)
    subject: Field = PydField(default_factory=Field)
    signer_competence: Field = PydField(default_factory=Field)
    signer_position: Field = PydField(default_factory=Field)
    signer_name: Field = PydField(default_factory=Field)
    recipients: Field = PydField(default_factory=Field)
    priority: Field = PydField(default_factory=Field)
    page_amount: Field = PydField(default_factory=Field)
    language: Field = PydField(default_factory=Field)
    # From the organ registry, when the extracted organ can be identified there.
    organ_id: Field = PydField(default_factory=Field)
    organ_level: Field = PydField(default_factory=Field)
    # edXML DocumentId, only when organ id, date, number and notation are all known.
    document_id: Field = PydField(default_factory=Field)
    needs_review: bool = True
    review_reasons: list[str] = PydField(default_factory=list)

    def values(self) -> dict[str, Any]:
        """Field name -> value, without confidences, for display and indexing."""
        return {
            name: field.value
            for name, field in self.fields().items()
            if field.value not in (None, "", [])
        }

    def fields(self) -> dict[str, Field]:
        return {
            name: getattr(self, name)
            for name in type(self).model_fields
            if name not in ("needs_review", "review_reasons")
        }


class Document(_Model):
    id: str  # SHA-256 hex of the original bytes
    source_name: Text
    media_type: str
    size_bytes: int
    page_count: int = 0
    status: DocumentStatus = DocumentStatus.received
    pipeline_version: str = ""
    created_at: datetime = PydField(default_factory=utcnow)
    updated_at: datetime = PydField(default_factory=utcnow)
    metadata: AdminMetadata = PydField(default_factory=AdminMetadata)
    pages: list[PageResult] = PydField(default_factory=list)
    errors: list[ErrorInfo] = PydField(default_factory=list)
    history: list[StatusChange] = PydField(default_factory=list)
    dossier: str | None = None
    # A document cut from a multi-document scan: the original it came from and its pages there
    # (1-based, inclusive). Its own id is derived from both (see split_document_id).
    source_id: str | None = None
    page_range: tuple[int, int] | None = None
    # A scan found to hold several documents: the ids of the documents cut from it, in order.
    # Such a scan is kept (it is the original) but searched through its parts.
    parts: list[str] = PydField(default_factory=list)
    # Whether its searchable PDF claims PDF/A-2b (None: no PDF written), and if not, why: e.g. a
    # born-digital page's font that could not be embedded (pipeline/hygiene.py).
    pdfa: bool | None = None
    not_pdfa: list[Text] = PydField(default_factory=list)
    # The metadata values a person set or confirmed (workers/review.py), field name -> value
    # (None: cleared): put back over every new reading of the metadata, so a person's value
    # wins over the machine's. Empty in records written before people edited them.
    edited: dict[str, Any] = PydField(default_factory=dict)
    # Merged as a rescan of that record (workers/duplicates.py): its original stays stored and
    # readable, and only the kept record is searched.
    rescan_of: str | None = None

    # What the last fixity check found wrong with its stored objects (workers/fixity.py): one
    # line per object, e.g. `originals/<id>: SHA-256 differs`; empty when all matched.
    fixity_failed: list[Text] = PydField(default_factory=list)
    # Who may see it: kept beside the record (storage/access.py), never in the record's JSON;
    # attached when the record is indexed or checked (workers/access.py). None: not known.
    visibility: Visibility | None = PydField(default=None, exclude=True)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages if p.text)

    @property
    def failed_pages(self) -> list[PageResult]:
        return [p for p in self.pages if p.status == PageStatus.failed]

    def failed_pages_note(self) -> str:
        """Which pages failed and why, pages sharing a reason together:
        `pages 2-3, 7: tesseract is not installed; page 9: page image cannot be decoded: …`."""
        by_reason: dict[str, list[int]] = {}
        for page in self.failed_pages:
            by_reason.setdefault(page.reason or "unknown error", []).append(page.page_no)
        return "; ".join(
            f"{'pages' if len(numbers) > 1 else 'page'} {page_ranges_text(numbers)}: {reason}"
            for reason, numbers in by_reason.items()
        )

    def status_from_pages(self) -> DocumentStatus:
        """done when every page is done or skipped; partial when some failed, failed when all."""
        failed = len(self.failed_pages)
        if not failed:
            return DocumentStatus.done
        return DocumentStatus.failed if failed == len(self.pages) else DocumentStatus.partial

    def record_status(self, status: DocumentStatus, note: str = "") -> None:
        """Change status and keep the change in the record's history."""
        self.status = status
        self.updated_at = utcnow()
        self.history.append(StatusChange(status=status, at=self.updated_at, note=note))


class StatusChange(_Model):
    status: DocumentStatus
    at: datetime
    note: Text = ""
    # Who made the change when a person did (a metadata correction: workers/review.py); None
    # for the pipeline's own steps and in records written before people edited them.
    editor: Text | None = None


Document.model_rebuild()


class OrganLevel(StrEnum):
    central = "central"
    province = "province"
    district = "district"
    commune = "commune"


class Organ(_Model):
    organ_id: str  # e.g. 000.00.00.H41
    name: Text
    level: OrganLevel
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    aliases: list[Text] = PydField(default_factory=list)  # header forms: "UBND TỈNH KON TUM"
    # "official": a QCVN 102 code; "local": this installation's code, never to be shown as
    # official (organs/national.py makes them for organs whose official code is not known).
    code_kind: str = "official"
    generated: bool = False  # made by rule (a standard department), not listed by a source
    predecessors: list[str] = PydField(default_factory=list)  # OrganIds it took over
    successors: list[str] = PydField(default_factory=list)  # OrganIds that took it over

    def active_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class Dossier(_Model):
    file_code: str
    title: Text
    organ: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    maintenance: Text | None = None
    rights: Text | None = None
    doc_total: int = 0
    page_total: int = 0
    documents: list[str] = PydField(default_factory=list)


def page_ranges_text(numbers: list[int]) -> str:
    """`1, 3-5, 9` from [1, 3, 4, 5, 9]."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


# A local organ's code (pipeline/local_organ.py) opens with this: never a QCVN 102 OrganId.
LOCAL_ORGAN_PREFIX = "LOCAL-"


def is_local_organ(organ_id: object) -> bool:
    """`organ_id` (or a DocumentId opening with one) is a local code, not an official one."""
    return isinstance(organ_id, str) and organ_id.startswith(LOCAL_ORGAN_PREFIX)


def document_id_key(organ_id: str, issued: date, number: str, notation: str) -> str:
    """edXML DocumentId: `<OrganId>,<yyyy/MM/dd>,<Number/Notation>`."""
    return f"{organ_id},{issued:%Y/%m/%d},{number}/{notation}"


def split_document_id(source_id: str, first_page: int, last_page: int) -> str:
    """Stable id of the document found on pages first..last of the scan `source_id`."""
    return hashlib.sha256(f"{source_id}#{first_page}-{last_page}".encode()).hexdigest()
