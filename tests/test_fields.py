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
    from exchange.envelope import envelope_tree
    from exchange.models import NS, Envelope

    header = envelope_tree(Envelope(to_places=["Sở Nội vụ"])).find(f".//{{{NS}}}MessageHeader")
    paths = [f.edxml for f in METADATA_FIELDS if f.edxml]
    assert paths
    for path in paths:
        element = "/".join(f"{{{NS}}}{tag}" for tag in path.split("/"))
        assert header.find(element) is not None, path
