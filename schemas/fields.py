"""The administrative metadata fields, one row each: what every layer needs to know of a field.

Adding a field: a row here and an attribute of `schemas.models.AdminMetadata` (a test checks
that the two name the same fields), and a reader in `pipeline/` that sets it. The extractor's
thresholds, the facets and typed fields of both search indexes, the edXML header mapping, the
benchmark and the tests take the rest from this table.

A new facet also changes the layout of both indexes: append its name to `search.base.FACETS`
(the order they are stored in) and bump `SCHEMA_VERSION` in both backends (`sohoa reindex`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KEEP_THRESHOLD = 0.6  # a field that is not a key field is dropped below this confidence


def _year(value: Any) -> str | None:
    return str(value)[:4] if value else None


@dataclass(frozen=True)
class MetadataField:
    name: str  # the attribute of AdminMetadata
    # Key fields decide `needs_review`: below `threshold` (or missing) a person looks. Any other
    # field is dropped (left empty) below its `threshold`: empty beats wrong.
    threshold: float = KEEP_THRESHOLD
    key: bool = False
    edxml: str | None = None  # element under edXML MessageHeader (`SignerInfo/FullName`)
    facet: str | None = None  # facet and filter name in both search indexes (a text column)
    facet_of: Callable[[Any], str | None] | None = None  # facet value from the field's value
    server_mapping: dict[str, Any] | None = None  # a typed field of its own in a server index
    kind: str = "text"  # what a person's correction must be: text | date | list | number

    def facet_value(self, value: Any) -> str | None:
        return self.facet_of(value) if self.facet_of is not None else value


METADATA_FIELDS: tuple[MetadataField, ...] = (  # in AdminMetadata's order
    MetadataField("organ_name", 0.75, key=True, facet="organ"),
    MetadataField("organ_parent"),
    MetadataField("code_number", 0.75, key=True, edxml="Code/CodeNumber"),
    MetadataField("code_notation", 0.75, key=True, edxml="Code/CodeNotation"),
    MetadataField("issued_place", 0.75, edxml="PromulgationInfo/Place"),
    MetadataField(
        "issued_date",
        0.75,
        key=True,
        edxml="PromulgationInfo/PromulgationDate",
        facet="year",
        facet_of=_year,
        server_mapping={"type": "date", "ignore_malformed": True},
        kind="date",
    ),
    MetadataField("type_name", 0.75, key=True, edxml="DocumentType/TypeName", facet="type"),
    # tone slips (đẩy → đấy) come at 0.80–0.85 (bench/metadata.py)
    MetadataField("subject", 0.85, key=True, edxml="Subject"),
    MetadataField("signer_competence", 0.7, edxml="SignerInfo/Competence"),
    MetadataField("signer_position", 0.85, edxml="SignerInfo/Position"),
    # names are an open set: nothing else on the page confirms them
    MetadataField("signer_name", 0.85, key=True, edxml="SignerInfo/FullName", facet="signer"),
    # 0.8: chosen on pages2's tuning seed (bench/metadata.py): correct lists from 0.73 up,
    # wrong ones at most 0.5 once specks and the set phrases are told apart (pipeline.footer).
    MetadataField("recipients", 0.8, edxml="ToPlaces/Place", kind="list"),  # one Place per item
    MetadataField("priority", edxml="OtherInfo/Priority"),
    MetadataField("page_amount", edxml="OtherInfo/PageAmount", kind="number"),
    MetadataField("language"),
    # From the organ registry, when the extracted organ can be identified there.
    MetadataField("organ_id"),
    MetadataField("organ_level", facet="level"),
    # edXML DocumentId, only when organ id, date, number and notation are all known.
    MetadataField("document_id", edxml="DocumentId"),
)
# The fields that decide needs_review, and the confidence each needs to pass without review.
KEY_THRESHOLDS = {f.name: f.threshold for f in METADATA_FIELDS if f.key}
# Below these the other fields are left empty rather than shown wrong.
KEEP_THRESHOLDS = {f.name: f.threshold for f in METADATA_FIELDS if not f.key}
FACETED = {f.facet: f for f in METADATA_FIELDS if f.facet}  # facet name -> its field
BY_NAME = {f.name: f for f in METADATA_FIELDS}
