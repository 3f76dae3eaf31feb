"""Near-duplicate fingerprints of one indexing written together (issue 17, round 13): the parts
of a multi-document scan were each made durable on their own (a JSON object with its fsync and
a SQLite commit per part); now once for all of them, with what each part finds unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.compose import build_services
from app.config import Settings
from corpus import make_documents
from schemas.models import Document, PageResult, PageSource, PageStatus
from storage.duplicates import DuplicateBook, Fingerprints, PageFingerprint
from storage.local import LocalStore
from workers.duplicates import flag_duplicates


def _prints(doc_id: str, offset: int) -> tuple[Fingerprints, dict[str, list[str]]]:
    pages = [PageFingerprint(page_no=n, text=list(range(n, n + 64))) for n in (1, 2)]
    bands = [f"{b:02d}-{offset + n * 100 + b:x}" for n in (1, 2) for b in range(16)]
    return Fingerprints(doc_id=doc_id, pages=pages, document_id=f"G{offset}"), {"text": bands}


def test_a_batch_is_found_by_its_own_book_and_stored_for_others_only_when_it_ends(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path)
    book, other = DuplicateBook(store), DuplicateBook(store)
    a, a_bands = _prints("a" * 64, 0)
    with book.batch():
        book.put_fingerprints(a, a_bands)
        # this book finds the held document like a stored one (the next part is compared)
        assert book.fingerprints("a" * 64) == a
        assert book.sharing_bands("text", a_bands["text"][:3]) == {"a" * 64: 3}
        assert book.with_document_id("G0") == ["a" * 64]
        # nothing is stored yet
        assert other.fingerprints("a" * 64) is None
        assert other.sharing_bands("text", a_bands["text"]) == {}
    assert other.fingerprints("a" * 64) == a
    assert other.sharing_bands("text", a_bands["text"][:3]) == {"a" * 64: 3}
    assert other.with_document_id("G0") == ["a" * 64]


def test_a_batch_that_fails_stores_none_of_its_fingerprints(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    book = DuplicateBook(store)
    b, b_bands = _prints("b" * 64, 7)
    with pytest.raises(RuntimeError), book.batch():
        book.put_fingerprints(b, b_bands)
        raise RuntimeError("indexing failed half-way")
    assert DuplicateBook(store).fingerprints("b" * 64) is None
    assert DuplicateBook(store).sharing_bands("text", b_bands["text"]) == {}
    book.put_fingerprints(b, b_bands)  # out of a batch: stored at once, as before
    assert DuplicateBook(store).fingerprints("b" * 64) == b


def _part(doc_id: str, texts: list[str]) -> Document:
    pages = [
        PageResult(page_no=n, status=PageStatus.done, source=PageSource.text_layer, text=text)
        for n, text in enumerate(texts, 1)
    ]
    return Document(
        id=doc_id,
        source_name=f"{doc_id[:4]}.pdf",
        media_type="application/pdf",
        size_bytes=1,
        page_count=len(pages),
        pages=pages,
    )


def test_two_parts_of_one_scan_holding_the_same_paper_are_paired_and_stored(
    tmp_path: Path,
) -> None:
    texts = [page.text for doc in make_documents(2, seed=5, pages=2) for page in doc.pages][:3]
    settings = Settings(data_dir=tmp_path, storage="", search="", broker="", workers=1)
    services = build_services(settings)
    first, again = _part("1" * 64, texts[:2]), _part("2" * 64, texts[:2])
    other = _part("3" * 64, [texts[2]])
    for doc in (first, again, other):
        services.records.put(doc)
    pairs = flag_duplicates(services, [first, again, other])
    assert [(p.new, p.existing) for p in pairs] == [("2" * 64, "1" * 64)]
    stored = DuplicateBook(services.store)
    assert all(stored.fingerprints(d.id) is not None for d in (first, again, other))
    # a later scan of the same paper finds both stored parts
    later = _part("4" * 64, texts[:2])
    services.records.put(later)
    found = {(p.new, p.existing) for p in flag_duplicates(services, [later])}
    assert found == {("4" * 64, "1" * 64), ("4" * 64, "2" * 64)}
