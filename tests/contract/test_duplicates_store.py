"""The fingerprint keys and duplicate pairs of storage/duplicates.py on both stores (issue 20):
look-alikes are found by listing a band's prefix, a pair is proposed once, decided pairs leave
the open queue, links go both ways."""

from __future__ import annotations

from storage.duplicates import DuplicateBook, Fingerprints, PageFingerprint, Pair


def _prints(doc_id: str, document_id: str | None = None) -> Fingerprints:
    page = PageFingerprint(page_no=1, image="ab" * 32, text=list(range(64)))
    return Fingerprints(doc_id=doc_id, pages=[page], document_id=document_id)


def test_documents_are_found_by_band_and_by_document_id(store) -> None:  # noqa: ANN001
    book = DuplicateBook(store)
    book.put_fingerprints(_prints("a" * 64, "G09,2024/01/02,1/QĐ"), {"text": ["00-x", "01-y"]})
    book.put_fingerprints(_prints("b" * 64), {"text": ["01-y", "02-z"], "image": ["00-abab"]})
    assert book.sharing_bands("text", ["01-y", "02-z"]) == {"a" * 64: 1, "b" * 64: 2}
    assert book.sharing_bands("text", ["09-none"]) == {}
    assert book.sharing_bands("image", ["00-abab"]) == {"b" * 64: 1}
    assert book.with_document_id("G09,2024/01/02,1/QĐ") == ["a" * 64]
    assert book.with_document_id("G09,2024/01/03,1/QĐ") == []
    assert book.fingerprints("b" * 64) == _prints("b" * 64)
    assert book.fingerprints("c" * 64) is None


def test_a_pair_is_proposed_once_linked_both_ways_and_leaves_the_queue_when_decided(
    store,  # noqa: ANN001
) -> None:
    book = DuplicateBook(store)
    pair = Pair(new="b" * 64, existing="a" * 64)
    assert book.propose(pair)
    assert not book.propose(Pair(new="a" * 64, existing="b" * 64))  # either order: the same
    assert [p.key for p in book.open_pairs()] == [pair.key]
    assert book.linked("a" * 64) == ["b" * 64] and book.linked("b" * 64) == ["a" * 64]
    book.decide(pair.model_copy(update={"state": "dismissed", "decided_by": "tester"}))
    assert list(book.open_pairs()) == []
    assert book.pair("a" * 64, "b" * 64).state == "dismissed"
    assert not book.propose(pair)  # a dismissed pair is never proposed again
