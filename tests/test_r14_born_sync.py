"""Round 14, born-digital ingest (issue 17: ≥ 50 pages/s): objects written together on a
local folder are made durable by one sync of the file system, not an fsync per file (~6 ms
each on a busy disk: the born-digital path wrote 1.5 of them per page); a record and its
status marker go together; the cheaper readings give the same answers."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from app.compose import build_services
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from pipeline.metadata_rules import looks_vietnamese
from pipeline.starts import has_content
from schemas.models import PageResult, Word
from storage import local
from storage.base import put_all
from storage.keys import page_key, pdf_key, record_key, status_key
from tests.fsync_count import count_fsyncs, linux_only
from workers import tasks
from workers.submit import accept


@linux_only
def test_a_batch_of_page_results_is_synced_once_and_reads_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = local.LocalStore(tmp_path / "store")
    items = [(page_key("d" * 64, n), f'{{"page_no": {n}}}'.encode()) for n in range(1, 65)]
    fsyncs = count_fsyncs(monkeypatch)
    put_all(store, items)
    assert fsyncs == []  # one syncfs for the 64 files instead of 64 fsyncs
    assert [store.get_bytes(key) for key, _ in items] == [data for _, data in items]
    assert not list((tmp_path / "store").rglob(".tmp-*"))


def test_without_syncfs_each_file_of_a_batch_is_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another system (or a file system syncfs cannot cover): an fsync per file, as before."""
    monkeypatch.setattr(local, "_LIBC", None)
    store = local.LocalStore(tmp_path / "store")
    items = [(f"derived/x/{n}.json", b"{}") for n in range(5)]
    fsyncs = count_fsyncs(monkeypatch)
    put_all(store, items)
    assert len(fsyncs) == 5
    assert all(store.get_bytes(key) == b"{}" for key, _ in items)


@linux_only
def test_a_born_digital_ingest_syncs_far_fewer_times_than_it_writes_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six born-digital pages (three documents of two pages in one PDF): page results,
    records with their markers, parts' PDFs. Measured: 29 fsyncs before round 14, 2 after (the
    document's PDF, the assembly claim); page results, and each record with its marker (and a
    part's record with its PDF), are synced a batch at a time."""
    docs = make_documents(3, seed=7, pages=2)
    source = write_pdf_digital(tmp_path / "three.pdf", [p for d in docs for p in d.pages])
    services = build_services(Settings(data_dir=tmp_path / "data", workers=1))
    doc_id = accept(services, source).doc_id
    fsyncs = count_fsyncs(monkeypatch)
    tasks.start_document(services, doc_id, lambda *a: None, lambda *a: None)
    tasks.assemble_document(services, doc_id, lambda *a: None, "test")
    tasks.index_document(services, doc_id)
    doc = services.records.require(doc_id)
    assert doc.status.value == "done" and len(doc.parts) == 3
    assert [p.word_count > 0 for p in doc.pages] == [True] * 6
    for part in [doc_id, *doc.parts]:  # each record readable, its marker says its digest
        assert services.store.exists(record_key(part)) and services.store.exists(status_key(part))
        assert services.records.intact(part, services.records.status(part)) is True
    for part in map(services.records.require, doc.parts):  # each part's PDF/A beside it
        pdf = services.store.get_bytes(pdf_key(part.id))
        assert pdf.startswith(b"%PDF-") and len(pdf) == part.size_bytes and part.pdfa
    assert len(fsyncs) <= 6, len(fsyncs)


def test_a_page_summary_made_without_word_models_is_the_summary_of_the_page(
    tmp_path: Path,
) -> None:
    """The assemble step reads a page result for its summary without validating each word:
    the same summary as the whole page's, and bytes that are not a page result still fail."""
    services = build_services(Settings(data_dir=tmp_path / "data", workers=1))
    doc_id = "e" * 64
    words = [
        Word(text=f"Quyết{n}", left=n, top=2, width=3, height=4, confidence=100.0) for n in range(9)
    ]
    page = PageResult(page_no=2, text="x", words=words, zones={"signer": words[:2]}, width_px=10)
    services.store.put_bytes(page_key(doc_id, 2), page.model_dump_json().encode())
    summary = tasks._stored_summary(services, doc_id, 2)
    assert summary == page.summary(page_key(doc_id, 2))
    assert summary.word_count == 9 and summary.words == [] and summary.zones == {}
    services.store.put_bytes(page_key(doc_id, 3), b'{"page_no": 3, "words": "not a list"}')
    with pytest.raises(ValueError):
        tasks._stored_summary(services, doc_id, 3)


def _looks_vietnamese_word_by_word(text: str) -> float:
    """The definition, one word at a time (what looks_vietnamese computed before round 14)."""
    only = set("ăâđêôơưĂÂĐÊÔƠƯ")
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    if not words:
        return 0.0
    marked = sum(
        1
        for w in words
        if any(c in only for c in w)
        or any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", w))
    )
    return marked / len(words)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1 2 3 -",
        "Độc lập - Tự do - Hạnh phúc",
        unicodedata.normalize("NFD", "Quyết định số 12/QĐ-UBND về việc"),
        "Cộng hòa xã hội chủ nghĩa Việt Nam hello world e\u0301 \u0301",
        "ĐOÀN KẾT  the  quick brown fox ǅ",
    ],
)
def test_the_share_of_vietnamese_words_is_the_word_by_word_share(text: str) -> None:
    assert looks_vietnamese(text) == _looks_vietnamese_word_by_word(text)


def test_a_page_has_content_from_three_confident_words_of_two_letters_or_digits() -> None:
    def page(*texts: str, confidence: float = 90.0) -> PageResult:
        return PageResult(
            page_no=1,
            words=[
                Word(text=t, left=0, top=0, width=1, height=1, confidence=confidence) for t in texts
            ],
        )

    assert has_content(page("ab", "1a", "Độ"))
    assert not has_content(page("ab", "a_", "_b", "a-", "12"))  # "_" is not a letter
    assert has_content(page("ab", "a_b", "x", "12"))
    assert not has_content(page("ab", "cd", "ef", confidence=40.0))
    assert not has_content(page("ab", "cd"))
