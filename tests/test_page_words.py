"""Page words out of the document record (issue 17, round 13): the record holds one summary
per page and each page's words stay in its stored page result, read a few pages at a time
where they are used; records written before (words inside) still read, search, show their
hits on the page image and export."""

from __future__ import annotations

import gc
import json
import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.compose import OPERATOR, build_services, build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from pipeline.metadata import extract_metadata
from schemas.models import DocumentStatus, PageResult
from storage.keys import page_key, pages_prefix, record_key, status_key
from storage.records import RecordStatus, RecordStore
from tests.conftest import TEST_ORGAN, cli_with_env
from tests.test_web import HTML, add_users, hostile_pdf, log_in, upload
from workers import tasks
from workers.submit import accept

PAGES = 20


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory):
    """A born-digital document of PAGES pages, started and assembled (not indexed yet)."""
    folder = tmp_path_factory.mktemp("long-words")
    # one document: its own first and last pages around the body pages of others (no header)
    docs = make_documents(6, seed=5, pages=5)
    body = [page for doc in docs[1:] for page in doc.pages[1:-1]]
    first = list(docs[0].pages)
    layout = first[:-1] + body[: PAGES - len(first)] + first[-1:]
    assert len(layout) == PAGES
    source = write_pdf_digital(folder / "long.pdf", layout)
    settings = Settings(data_dir=folder / "data", storage="", search="", broker="", workers=1)
    services = build_services(settings)
    doc_id = accept(services, source).doc_id
    tasks.start_document(services, doc_id, lambda *a: None, lambda *a: None)
    tasks.assemble_document(services, doc_id, lambda *a: None, "test")
    return services, doc_id


def _stored(services, doc_id: str, n: int) -> PageResult:
    return PageResult.model_validate_json(services.store.get_bytes(page_key(doc_id, n)))


def test_the_record_holds_page_summaries_and_the_words_stay_in_the_page_results(
    assembled,
) -> None:
    services, doc_id = assembled
    raw = services.store.get_bytes(record_key(doc_id))
    pages = json.loads(raw)["pages"]
    assert [p["page_no"] for p in pages] == list(range(1, PAGES + 1))
    results = 0
    for page in pages:
        stored = services.store.get_bytes(page_key(doc_id, page["page_no"]))
        results += len(stored)
        words = PageResult.model_validate_json(stored).words
        assert page["words"] == [] and page["zones"] == {}
        assert page["word_count"] == len(words) > 0
        assert page["result_key"] == page_key(doc_id, page["page_no"])
        assert page["text"]  # the text stays: search, snippets and the API read it
    assert len(raw) * 4 < results  # the record is a fraction of its pages' results


def _live_pages_with_words() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, PageResult) and o.words)


def test_indexing_reads_each_pages_words_from_its_result_a_few_pages_at_a_time(
    assembled, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, doc_id = assembled
    keys = {page_key(doc_id, n) for n in range(1, PAGES + 1)}
    # the metadata the whole document's words give, every page in memory at once
    every_page = [_stored(services, doc_id, n) for n in range(1, PAGES + 1)]
    expected = extract_metadata(every_page, find_organ=services.organs().match_header)
    del every_page
    reads: list[str] = []
    live: list[int] = []
    get_bytes = services.store.get_bytes

    def counted(key: str) -> bytes:
        if key in keys:
            reads.append(key)
            live.append(_live_pages_with_words())
        return get_bytes(key)

    monkeypatch.setattr(services.store, "get_bytes", counted)
    tasks.index_document(services, doc_id)

    assert set(reads) == keys  # every page's words, from its stored result
    assert len(reads) <= PAGES + 2  # each once, the first and last again at most
    assert max(live) <= 9 < PAGES  # a few pages' words in memory, not the document's
    doc = services.records.require(doc_id)
    assert doc.status == DocumentStatus.done and not doc.parts
    assert doc.metadata.model_dump(mode="json") == expected.model_dump(mode="json")
    last_word = max(doc.pages[-1].text.split(), key=len)
    hits = services.index.search(last_word, viewer=OPERATOR).hits
    assert doc_id in [hit.doc_id for hit in hits]


# ------------------------------------------------------------------ records written before


def _as_old_record(data: Path, doc_id: str) -> bytes:
    """Rewrite the stored record as records were written before round 13 (every page's
    words inside, no summary fields, a marker without digest) and delete its page results,
    so the words inside the record are the only ones left."""
    store = build_store(Settings(data_dir=data))
    doc = RecordStore(store).require(doc_id)
    doc.pages = [
        PageResult.model_validate_json(store.get_bytes(page_key(doc_id, p.page_no)))
        for p in doc.pages
    ]
    raw = doc.model_dump_json(exclude={"pages": {"__all__": {"word_count", "result_key"}}})
    store.put_bytes(record_key(doc_id), raw.encode())
    marker = RecordStatus(status=doc.status, page_count=doc.page_count)
    store.put_bytes(status_key(doc_id), marker.model_dump_json().encode())
    for key in list(store.list(pages_prefix(doc_id))):
        if key.endswith(".json"):
            store.delete(key)
    return raw.encode()


def test_a_record_with_the_words_inside_still_searches_shows_its_hits_and_exports(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    add_users(settings)
    with TestClient(create_app(settings)) as client:
        doc_id = upload(client, settings, hostile_pdf(tmp_path / "hostile.pdf"), "old.pdf")
        old = _as_old_record(settings.data_dir, doc_id)
        assert b'"words":[{' in old and b"word_count" not in old
        env = {**os.environ, "SOHOA_DATA_DIR": str(settings.data_dir), "SOHOA_ORGAN": TEST_ORGAN}
        reindexed = cli_with_env(env, "reindex", "--metadata")
        assert reindexed.returncode == 0, reindexed.stderr
        assert "reindexed 1 document(s)" in reindexed.stderr

        log_in(client, "officer")
        found = client.get("/", params={"q": "quyet dinh"}, headers=HTML).text
        assert f"/documents/{doc_id}/view" in found
        view = client.get(
            f"/documents/{doc_id}/view", params={"q": "quyet dinh"}, headers=HTML
        ).text
        assert len(re.findall(r'<rect class="hit-box"', view)) == 4  # QUYẾT ĐỊNH, Quyết định
        shown = client.get(f"/documents/{doc_id}", headers={"Accept": "application/json"})
        # read again by `reindex --metadata` from the words inside the record
        assert shown.json()["metadata"]["type_name"]["value"] == "Quyết định"

    out = tmp_path / "bags"
    exported = cli_with_env(env, "archive", "export", "--all", "-o", str(out), "--no-progress")
    assert exported.returncode == 0, exported.stderr
    records = list(out.rglob(f"metadata/other/{doc_id}/record.json"))
    assert len(records) == 1 and b'"words":[{' in records[0].read_bytes()
