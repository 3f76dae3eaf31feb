"""Round-13 review: page words out of the record, attacked (issue 17). A damaged page result
leaves the document readable (its page shown without word boxes, not a server error); an
imported record may only name its own page results, or those of the scan it was cut from."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.compose import build_services, build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from storage.keys import page_key
from tests.conftest import TEST_ORGAN, cli_with_env
from tests.test_archive_attacks import alone_bag, bags, edit_json, exported, import_into, rebag  # noqa: F401  (fixtures)
from tests.test_web import HTML, add_users, hostile_pdf, log_in, upload
from workers import tasks
from workers.archive_export import document_bag_name, export_packages, plan_all
from workers.archive_import import import_packages
from workers.pages import full_page
from workers.submit import accept


def test_a_damaged_page_result_shows_the_page_without_boxes_not_a_server_error(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    add_users(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        doc_id = upload(client, settings, hostile_pdf(tmp_path / "hostile.pdf"), "doc.pdf")
        store = build_store(Settings(data_dir=settings.data_dir))
        store.put_bytes(page_key(doc_id, 1), b'{"page_no": 1, "words": "not a list"')
        log_in(client, "officer")
        view = client.get(f"/documents/{doc_id}/view", params={"q": "quyet dinh"}, headers=HTML)
        assert view.status_code == 200, view.text[:300]
        assert 'class="hit-box"' not in view.text  # no words to place the boxes on
        assert "Quyết định" in view.text or "QUYẾT ĐỊNH" in view.text  # the page text stays


def test_an_imported_record_naming_another_documents_page_result_is_refused(
    bags,  # noqa: F811
    tmp_path: Path,
) -> None:
    folder, ids = bags
    bag = alone_bag(folder, ids)
    record = bag / f"data/metadata/other/{ids[2]}/record.json"
    stolen = page_key(ids[0], 1)  # a page result of a document the bag does not hold

    def steal(value: dict) -> None:
        value["pages"][0]["result_key"] = stolen

    edit_json(record, steal)
    rebag(bag)
    result = import_into(tmp_path / "target", bag)
    assert result.returncode == 1, result.stdout
    assert f"names {stolen!r} as its page result" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_parts_bag_restored_without_its_scans_bag_keeps_the_parts_words(
    tmp_path: Path,
) -> None:
    """`archive export --all` writes each record's bag, a part's apart from its scan's (no
    sources carried): the part's bag holds the page results its pages name, so restored alone
    elsewhere its pages still have their words (the web's hit boxes)."""
    docs = make_documents(2, seed=11, pages=1)
    source = write_pdf_digital(tmp_path / "two.pdf", [d.pages[0] for d in docs])
    here = build_services(Settings(data_dir=tmp_path / "here", workers=1))
    scan_id = accept(here, source).doc_id
    tasks.start_document(here, scan_id, lambda *a: None, lambda *a: None)
    tasks.assemble_document(here, scan_id, lambda *a: None, "test")
    tasks.index_document(here, scan_id)
    part_id = here.records.require(scan_id).parts[1]
    out = tmp_path / "bags"
    report = export_packages(here, plan_all(here), out, carry_sources=False)
    assert not report.problems, report.problems

    there = build_services(Settings(data_dir=tmp_path / "there", workers=1))
    restored = import_packages(there, out / document_bag_name(part_id))
    assert not restored.refused, [b.refused for b in restored.refused]
    part = there.records.require(part_id)
    assert not there.store.exists(page_key(scan_id, 1))  # the scan is not here
    page = full_page(there, part_id, part.pages[0])
    assert page.page_no == 1 and len(page.words) == part.pages[0].word_count > 0
    assert " ".join(w.text for w in page.words).split() == part.pages[0].text.split()


@pytest.mark.parametrize("damage", ["deleted", "garbled"])
def test_reading_the_metadata_again_without_the_page_results_leaves_it_as_it_was(
    tmp_path: Path, damage: str
) -> None:
    """A damaged data folder (page results gone): `reindex --metadata` said nothing and read
    the document from no words at all, erasing every value read before."""
    source = write_pdf_digital(tmp_path / "a.pdf", make_documents(1, seed=5, pages=2)[0].pages)
    data = tmp_path / "data"
    services = build_services(Settings(data_dir=data, workers=1))
    doc_id = accept(services, source).doc_id
    tasks.start_document(services, doc_id, lambda *a: None, lambda *a: None)
    tasks.assemble_document(services, doc_id, lambda *a: None, "test")
    tasks.index_document(services, doc_id)
    before = services.records.require(doc_id).metadata
    assert before.code_number.value and before.signer_name.value
    for n in (1, 2):
        if damage == "deleted":
            services.store.delete(page_key(doc_id, n))
        else:
            services.store.put_bytes(page_key(doc_id, n), b'{"page_no": 1, "words": [{')

    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_ORGAN": TEST_ORGAN}
    again = cli_with_env(env, "reindex", "--metadata")
    assert again.returncode == 0, again.stderr
    said = " ".join(again.stderr.split())
    if damage == "deleted":
        assert f"document {doc_id[:12]}: the stored words of page(s) 1-2 are missing" in said
    else:
        assert f"document {doc_id[:12]}: the stored words of 2 page(s) do not read" in said
    assert "read the metadata of 0 record(s) again" in said
    shown = cli_with_env(env, "show", doc_id, "--json")
    metadata = json.loads(shown.stdout)["metadata"]
    assert metadata["code_number"]["value"] == before.code_number.value
    assert metadata["signer_name"]["value"] == before.signer_name.value
