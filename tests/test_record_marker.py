"""The small status marker beside each record (issue 17): re-ingest of known bytes answers
from it and a hash of the record's bytes, without parsing every page's words; markers written
before it carried a digest still load, and a damaged record is still made again."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.compose import build_services
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from schemas.models import Document
from storage.keys import record_key, status_key
from workers.batch import outcome, submit_all, wait_for
from workers.runtime import WorkerPool
from workers.services import Services
from workers.submit import accept


@pytest.fixture()
def ingested(tmp_path: Path) -> tuple[Services, Path, str, Path]:
    """One born-digital document of 3 pages, ingested and done; its data folder."""
    docs = make_documents(1, seed=7, pages=3)
    source = write_pdf_digital(tmp_path / "one.pdf", docs[0].pages)
    settings = Settings(data_dir=tmp_path / "data", storage="", search="", broker="", workers=1)
    services = build_services(settings)
    with WorkerPool(services, "", threads=1) as pool:
        subs = submit_all(services, pool, [source])
        wait_for(services, pool, subs, None)
    result, doc, error = outcome(services, subs[0])
    assert result == "ok", error
    assert doc is not None and doc.pages and doc.pages[0].word_count
    return services, source, doc.id, tmp_path / "data"


def _count_reads(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every key read from the store from now on."""
    reads: list[str] = []
    get_bytes = services.store.get_bytes

    def counted(key: str) -> bytes:
        reads.append(key)
        return get_bytes(key)

    monkeypatch.setattr(services.store, "get_bytes", counted)
    return reads


def _snapshot(data: Path) -> dict[str, bytes]:
    store = data / "store"
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.parts[-2] != "fingerprints"
    }


def test_known_bytes_are_reused_without_parsing_their_record(
    ingested: tuple[Services, Path, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, source, doc_id, data = ingested
    before = _snapshot(data)
    reads = _count_reads(services, monkeypatch)
    parsed: list[bytes] = []
    validate = Document.model_validate_json
    monkeypatch.setattr(
        Document,
        "model_validate_json",
        lambda raw, *a, **k: parsed.append(raw) or validate(raw, *a, **k),
    )

    sub = accept(services, source)

    assert sub.outcome == "reused" and sub.doc_id == doc_id and sub.error is None
    assert parsed == []  # the record of every page's words was not parsed
    assert status_key(doc_id) in reads  # the marker was, and the record's bytes hashed
    assert _snapshot(data) == before  # no page read again, nothing new
    assert services.records.require(doc_id).page_count == 3


def test_a_record_under_an_old_marker_is_read_and_reused(
    ingested: tuple[Services, Path, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data folder written before markers carried a digest: the record is read, as then."""
    services, source, doc_id, data = ingested
    marker = data / "store" / status_key(doc_id)
    marker.write_text('{"status": "done", "page_count": 3}')
    reads = _count_reads(services, monkeypatch)

    sub = accept(services, source)

    assert sub.outcome == "reused" and sub.doc_id == doc_id
    assert record_key(doc_id) in reads
    known = services.records.status(doc_id)
    assert known is not None and known.page_count == 3 and known.digest is None


def test_a_damaged_record_under_an_intact_marker_is_made_again(
    ingested: tuple[Services, Path, str, Path],
) -> None:
    """The marker's digest does not vouch for a record cut short after it: made again."""
    services, source, doc_id, data = ingested
    record = data / "store" / record_key(doc_id)
    record.write_bytes(record.read_bytes()[:300])

    sub = accept(services, source)

    assert sub.outcome != "reused"
    assert any("its record was damaged" in note for note in sub.notes), sub.notes
    assert services.records.require(doc_id).status.value == "received"
