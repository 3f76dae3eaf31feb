"""A person corrects or confirms a metadata field (the review queue, `sohoa review --set`).

Only the fields of the field table (`schemas.fields`), each taking the kind of value it holds;
the field then has confidence 1.0, the record's history names the editor and the change, the
review reasons are decided again by the pipeline's own rule (`review_reasons`), and the index
takes the record at once so a search finds the new value. Only the organ that manages the
record (its owner, or an unrestricted viewer) may change it; a record the caller cannot see
answers as a missing one.

A person's values are remembered in the record (`Document.edited`) and put back by
`keep_edits` over every new reading of the metadata (failed pages retried, the same file
ingested again, `sohoa reindex --metadata`): a value a person corrected or confirmed stays,
whatever the machine reads later. The organ's registry fields (`organ_id`, `organ_level`)
follow a person's organ name, parent or date through the pipeline's own lookup
(`pipeline.reconcile.read_registry`), so the organ and level facets follow a correction.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pipeline.extracted import Extracted
from schemas.access import Viewer
from schemas.errors import Forbidden, NotReady, SohoaError
from schemas.fields import BY_NAME, MetadataField
from schemas.models import (
    AdminMetadata,
    Document,
    DocumentStatus,
    Field,
    StatusChange,
    document_id_key,
    utcnow,
)
from schemas.text import nfc
from workers.access import manages, require_visible
from workers.locks import update_record
from workers.services import Services

if TYPE_CHECKING:
    from pipeline.reconcile import FindOrgan

PERSON = 1.0  # the confidence of a value a person set or confirmed
MAX_TEXT_CHARS = 2000
SHOWN_CHARS = 120  # of an old or new value, in the history note
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
# The edXML DocumentId is made of these: a correction of one of them makes it again.
DOCUMENT_ID_PARTS = ("organ_id", "issued_date", "code_number", "code_notation")
# What the organ is looked up by in the registry, and the fields that lookup gives.
REGISTRY_INPUTS = ("organ_name", "organ_parent", "issued_date")
REGISTRY_FIELDS = ("organ_id", "organ_level")


class BadField(SohoaError):
    """A field that is not a metadata field, or a value it cannot hold."""

    code = "bad_field"
    exit_code = 2


def correct_field(
    services: Services, viewer: Viewer, doc_id: str, field: str, value: Any, editor: str
) -> Document:
    """Set `field` to `value` (None or "" clears it) as a person read it."""
    spec = _spec(field)
    new = normalised(spec, value)

    def change(doc: Document) -> bool:
        old = getattr(doc.metadata, field).value
        note = f"{field} corrected: {_shown(old)} → {_shown(new)}"
        _set(services, doc, field, new, note, editor)
        return True

    return _edit(services, viewer, doc_id, change)


def confirm_field(
    services: Services, viewer: Viewer, doc_id: str, field: str, editor: str
) -> Document:
    """The machine's value of `field` is right, as a person checked it."""
    _spec(field)

    def change(doc: Document) -> bool:
        value = getattr(doc.metadata, field).value
        if value in (None, "", []):
            raise BadField(f"{field} is empty: nothing to confirm; set a value instead")
        _set(services, doc, field, value, f"{field} confirmed: {_shown(value)}", editor)
        return True

    return _edit(services, viewer, doc_id, change)


def _spec(field: str) -> MetadataField:
    spec = BY_NAME.get(field)
    if spec is None:
        known = ", ".join(BY_NAME)
        raise BadField(f"no metadata field {field!r} (fields: {known})")
    return spec


def editable(services: Services, viewer: Viewer, doc_id: str) -> Document:
    """The record `viewer` may change: visible (else NotFound), managed by it (else
    Forbidden), and finished with metadata of its own (else NotReady)."""
    doc = require_visible(services, viewer, doc_id)
    if not manages(viewer, doc.visibility):
        raise Forbidden("only the organ that owns this document may change it")
    if doc.status not in (DocumentStatus.done, DocumentStatus.partial):
        raise NotReady(f"document is {doc.status.value}: its metadata is not read yet")
    if doc.parts:
        raise NotReady(f"this scan holds {len(doc.parts)} documents: change each of those")
    return doc


def _edit(services: Services, viewer: Viewer, doc_id: str, change) -> Document:  # noqa: ANN001
    checked = editable(services, viewer, doc_id)
    doc = update_record(services, checked.id, change)
    services.index.index([doc])  # visibility attached by the index (workers/visible_index.py)
    doc.visibility = checked.visibility
    return doc


def _set(services: Services, doc: Document, name: str, value: Any, note: str, editor: str) -> None:
    doc.edited[name] = value
    keep_edits(doc, services.organs().find)
    doc.updated_at = utcnow()
    doc.history.append(StatusChange(status=doc.status, at=doc.updated_at, note=note, editor=editor))


def keep_edits(doc: Document, find_organ: FindOrgan) -> None:
    """Put the values people set (`doc.edited`) over the metadata as it is now, a new reading
    by the machine included: each at confidence 1.0, the registry fields and the DocumentId
    made again from them, the review reasons decided again. A confirmed value the machine
    now reads differently stays as the person confirmed it."""
    # Imported on use: pipeline.metadata brings OpenCV to every `sohoa` start otherwise.
    from pipeline.metadata import review_reasons

    edited = {name: value for name, value in doc.edited.items() if name in BY_NAME}
    if not edited:
        return
    meta = doc.metadata
    for name, value in edited.items():
        setattr(meta, name, Field(value=value, confidence=PERSON))
    if any(name in edited for name in REGISTRY_INPUTS):
        _from_registry(meta, find_organ, edited)
    if "document_id" not in edited and any(
        name in edited for name in (*DOCUMENT_ID_PARTS, *REGISTRY_INPUTS)
    ):
        _remake_document_id(doc)
    meta.review_reasons = review_reasons(meta.fields(), doc.pages)
    meta.needs_review = bool(meta.review_reasons)


def _from_registry(meta: AdminMetadata, find_organ: FindOrgan, edited: dict[str, Any]) -> None:
    """`organ_id` and `organ_level` as the pipeline finds them in the registry for the organ
    name, parent and date as they are now; both empty when the registry knows no such organ,
    and then the DocumentId too (it was made of the old organ id). A person's own value of
    any of them stays."""
    from pipeline.reconcile import read_registry  # on use, as in keep_edits

    values = {n: f for n, f in meta.fields().items() if n not in REGISTRY_FIELDS}
    issued = meta.issued_date  # a stored record holds the date as text: the lookup takes a date
    values["issued_date"] = Field(value=_as_date(issued.value), confidence=issued.confidence)
    out = Extracted(values)
    read_registry(find_organ, out)
    for name in REGISTRY_FIELDS:
        if name not in edited:
            setattr(meta, name, out.values.get(name, Field()))
    if meta.organ_id.value in (None, "") and "document_id" not in edited:
        meta.document_id = Field()


def _remake_document_id(doc: Document) -> None:
    """The edXML DocumentId from its parts as they are now (left as it was when one is
    missing), at the confidence of the least sure part."""
    meta = doc.metadata
    parts = [getattr(meta, name) for name in DOCUMENT_ID_PARTS]
    organ_id, issued, number, notation = (p.value for p in parts)
    issued = _as_date(issued)
    if organ_id and issued and number and notation:
        key = document_id_key(str(organ_id), issued, str(number), str(notation))
        meta.document_id = Field(value=key, confidence=min(p.confidence for p in parts))


def normalised(spec: MetadataField, value: Any) -> Any:
    """`value` as the field holds it (NFC text, a date, a list of texts, a number); None
    clears the field. BadField (422) when it cannot be that."""
    if value is None or value == "" or value == []:
        return None
    if spec.kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadField(f"{spec.name} takes a list of texts")
        items = [_text(spec, v) for v in value]
        return [item for item in items if item] or None
    if isinstance(value, (list, dict, bool)):
        raise BadField(f"{spec.name} takes one {'number' if spec.kind == 'number' else 'text'}")
    if spec.kind == "date":
        return _parse_date(spec, str(value))
    if spec.kind == "number":
        return _number(spec, value)
    return _text(spec, value) or None


def _text(spec: MetadataField, value: Any) -> str:
    text = re.sub(r"\s+", " ", nfc(str(value))).strip()
    if len(text) > MAX_TEXT_CHARS:
        raise BadField(f"{spec.name}: at most {MAX_TEXT_CHARS} characters")
    return text


def _parse_date(spec: MetadataField, text: str) -> date:
    for form in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    raise BadField(f"{spec.name}: {text!r} is no date (YYYY-MM-DD or dd/mm/yyyy)")


def _number(spec: MetadataField, value: Any) -> int:
    text = str(value).strip()
    if not text.isdecimal() or int(text) < 1:
        raise BadField(f"{spec.name} takes a whole number from 1")
    return int(text)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date) or not value:
        return value or None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _shown(value: Any) -> str:
    if value in (None, "", []):
        return "(empty)"
    text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
    text = text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
    return f"“{text}”"
