"""The field table (`schemas/fields.py`) and the places that iterate it agree."""

from schemas.fields import FACETED, METADATA_FIELDS
from schemas.models import AdminMetadata
from search.base import DOCUMENT_FACETS, FACETS


def test_the_table_has_one_row_per_metadata_field_in_the_models_order() -> None:
    assert [f.name for f in METADATA_FIELDS] == list(AdminMetadata().fields())


def test_every_facet_of_the_table_is_stored_by_the_indexes_and_no_other() -> None:
    assert set(FACETS) == {*FACETED, *DOCUMENT_FACETS}
    assert len(FACETS) == len(set(FACETS))


def test_every_edxml_path_of_the_table_is_an_element_of_the_envelope_sohoa_writes() -> None:
    from exchange.envelope_write import envelope_tree
    from exchange.models import NS, Envelope

    header = envelope_tree(Envelope(to_places=["Sở Nội vụ"])).find(f".//{{{NS}}}MessageHeader")
    paths = [f.edxml for f in METADATA_FIELDS if f.edxml]
    assert paths
    for path in paths:
        element = "/".join(f"{{{NS}}}{tag}" for tag in path.split("/"))
        assert header.find(element) is not None, path


def test_a_record_fills_every_edxml_element_of_the_table() -> None:
    """The outbox reads the table: a value in each field with an edXML element reaches the
    envelope's header attribute for that element."""
    from datetime import date

    from exchange.models import HEADER_ATTRIBUTES
    from exchange.outbox import header_from_record
    from schemas.models import Document

    doc = Document(
        id="0" * 32,
        source_name="x.pdf",
        source_sha256="0" * 64,
        media_type="application/pdf",
        size_bytes=1,
    )
    for field in METADATA_FIELDS:
        if field.edxml:
            value = date(2019, 3, 4) if field.name == "issued_date" else f"{field.name} ✓"
            value = [value] if field.name == "recipients" else value
            getattr(doc.metadata, field.name).value = value
    header = header_from_record(doc)
    for field in METADATA_FIELDS:
        if field.edxml:
            shown = header[HEADER_ATTRIBUTES[field.edxml]]
            expected = "2019/03/04" if field.name == "issued_date" else f"{field.name} ✓"
            assert shown == ([expected] if field.name == "recipients" else expected), field.name
