import unicodedata
from pathlib import Path

import pytest

from schemas import Document, DocumentStatus, PageResult, PageStatus
from schemas.access import Viewer
from schemas.text import fold
from search import SqliteIndex
from search.base import facet_values, metadata_text
from search.words import tokens

ALL = Viewer.everything()  # these tests are about search, not about who sees what


def make_doc(doc_id: str, *pages: str, name: str = "doc.pdf") -> Document:
    return Document(
        id=doc_id * 64 if len(doc_id) == 1 else doc_id,
        source_name=name,
        media_type="application/pdf",
        size_bytes=1,
        status=DocumentStatus.done,
        page_count=len(pages),
        pages=[PageResult(page_no=i, text=t) for i, t in enumerate(pages, 1)],
    )


@pytest.fixture
def loaded(index):
    ix = index
    ix.index(
        [
            make_doc(
                "a",
                "UBND TỈNH KON TUM\nQUYẾT ĐỊNH\nVề việc số hóa tài liệu năm 2019",
                "Điều 2. Sở Nội vụ",
            ),
            make_doc("b", "Báo cáo tình hình kinh tế", "Phụ lục: quyet dinh so hoa (khong dau)"),
            make_doc("c", "Kế hoạch cải cách hành chính"),
        ]
    )
    return ix


@pytest.mark.parametrize(
    "query",
    ["quyet dinh so hoa", "QUYẾT ĐỊNH SỐ HÓA", unicodedata.normalize("NFD", "Quyết định số hoá")],
)
def test_folded_queries_find_accented_text(loaded, query: str) -> None:
    results = loaded.search(query, viewer=ALL)
    assert {h.doc_id[0] for h in results.hits} == {"a", "b"}


def test_exact_diacritics_rank_above_folded_only_matches(loaded) -> None:
    results = loaded.search("quyết định số hóa", viewer=ALL)
    assert [h.doc_id[0] for h in results.hits] == ["a", "b"]


def test_hits_carry_page_numbers_and_highlights(loaded) -> None:
    hit = loaded.search("so noi vu", viewer=ALL).hits[0]
    assert hit.doc_id[0] == "a"
    assert hit.pages[0].page_no == 2
    page = hit.pages[0]
    assert [page.snippet[a:b] for a, b in page.spans] == ["Sở", "Nội", "vụ"]


def test_all_terms_must_match(loaded) -> None:
    assert loaded.search("ke hoach kinh te", viewer=ALL).total == 0
    assert loaded.search("đ", viewer=ALL).total == 0


def test_filters_and_facets(loaded) -> None:
    results = loaded.search("", viewer=ALL, filters={"status": "done"})
    assert results.total == 3
    assert results.facets["status"] == {"done": 3}
    with pytest.raises(ValueError):
        loaded.search("x", viewer=ALL, filters={"colour": "red"})


def test_reindexing_a_document_replaces_it(loaded) -> None:
    loaded.index([make_doc("c", "Thông báo kết luận")])
    assert loaded.count() == 3
    assert loaded.search("ke hoach", viewer=ALL).total == 0
    assert loaded.search("thong bao", viewer=ALL).hits[0].doc_id[0] == "c"
    loaded.delete("c" * 64)
    assert loaded.count() == 2
    loaded.clear()
    assert loaded.count() == 0


def test_index_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite3"
    first = SqliteIndex(path)
    first.index([make_doc("a", "Công văn")])
    first.close()
    assert SqliteIndex(path).search("cong van", viewer=ALL).total == 1


def _with_metadata(doc_id: str, organ: str, type_name: str, issued: str, text: str) -> Document:
    doc = make_doc(doc_id, text)
    doc.metadata.organ_name.value = organ
    doc.metadata.type_name.value = type_name
    doc.metadata.issued_date.value = issued
    doc.metadata.needs_review = False
    return doc


def test_facets_count_the_matching_documents_and_filters_narrow(index) -> None:
    index.index(
        [
            _with_metadata("d", "UBND tỉnh Kon Tum", "Quyết định", "2019-05-02", "số hóa tài liệu"),
            _with_metadata("e", "UBND tỉnh Kon Tum", "Báo cáo", "2020-01-09", "số hóa hồ sơ"),
            _with_metadata("f", "Sở Nội vụ", "Quyết định", "2019-11-14", "số hóa lưu trữ"),
        ]
    )
    results = index.search("so hoa", viewer=ALL)
    assert results.total == 3
    assert results.facets["organ"] == {"UBND tỉnh Kon Tum": 2, "Sở Nội vụ": 1}
    assert results.facets["type"] == {"Quyết định": 2, "Báo cáo": 1}
    assert results.facets["year"] == {"2019": 2, "2020": 1}
    narrowed = index.search("so hoa", viewer=ALL, filters={"type": "Quyết định", "year": "2019"})
    assert sorted(h.doc_id[0] for h in narrowed.hits) == ["d", "f"]
    assert index.search("kon tum so hoa", viewer=ALL).total == 2  # metadata is searchable too


def test_rebuild_replaces_everything_at_once(loaded) -> None:
    assert loaded.rebuild([make_doc("z", "Công văn về việc số hóa")]) == 1
    assert loaded.count() == 1
    assert [h.doc_id[0] for h in loaded.search("cong van", viewer=ALL).hits] == ["z"]
    assert loaded.search("ke hoach", viewer=ALL).total == 0


def test_paging_through_results(loaded) -> None:
    first = loaded.search("quyet dinh", viewer=ALL, limit=1)
    second = loaded.search("quyet dinh", viewer=ALL, limit=1, offset=1)
    assert first.total == second.total == 2
    assert {first.hits[0].doc_id, second.hits[0].doc_id} == {"a" * 64, "b" * 64}


def _record(i: int, text: str, type_name: str, year: int, review: bool) -> Document:
    doc = _with_metadata(f"{i:064x}", "UBND tỉnh Kon Tum", type_name, f"{year}-03-04", text)
    doc.metadata.needs_review = review
    return doc


def test_totals_facets_and_filters_stay_exact_through_many_writes(index) -> None:
    """Documents written one by one, then some replaced and deleted: every total, facet count
    and filtered list equals what the records themselves say (the embedded index merges its
    segments along the way)."""
    words = ["số hóa", "lưu trữ", "quyết định", "kế hoạch", "báo cáo"]
    types = ["Quyết định", "Báo cáo", "Kế hoạch"]
    docs = {}
    for i in range(40):
        text = f"{words[i % 5]} tài liệu {words[(i * 3) % 5]} năm {2015 + i % 4}"
        doc = _record(i, text, types[i % 3], 2015 + i % 4, i % 2 == 0)
        index.index([doc])
        docs[doc.id] = doc
    for i in range(0, 40, 7):  # replaced: new text, new type
        doc = _record(i, "thông báo số hóa", "Thông báo", 2020, False)
        index.index([doc])
        docs[doc.id] = doc
    for i in range(3, 40, 9):
        index.delete(f"{i:064x}")
        docs.pop(f"{i:064x}")
    assert index.count() == len(docs)

    def expected(query_words: set[str], filters: dict[str, str]) -> list[Document]:
        return [
            d
            for d in docs.values()
            if query_words <= set(tokens(fold(metadata_text(d) + "\n" + d.text)))
            and all(facet_values(d)[k] == v for k, v in filters.items())
        ]

    for query, filters in [
        ("so hoa", {}),
        ("số hóa", {"type": "Thông báo"}),
        ("tai lieu", {"year": "2016"}),
        ("luu tru", {"needs_review": "true", "type": "Báo cáo"}),
        ("", {"type": "Kế hoạch"}),
        ("", {}),
    ]:
        want = expected(set(fold(query).split()), filters)
        results = index.search(query, viewer=ALL, filters=filters, limit=100)
        assert results.total == len(want), (query, filters)
        assert sorted(h.doc_id for h in results.hits) == sorted(d.id for d in want)
        for name in ("type", "year", "needs_review"):
            counts: dict[str, int] = {}
            for d in want:
                counts[facet_values(d)[name]] = counts.get(facet_values(d)[name], 0) + 1
            assert results.facets.get(name, {}) == counts, (query, filters, name)
        pages = [
            index.search(query, viewer=ALL, filters=filters, limit=4, offset=k) for k in (0, 4, 8)
        ]
        flat = [h.doc_id for page in pages for h in page.hits]
        assert flat == [h.doc_id for h in results.hits][:12]  # paging is one stable order


def _partial(doc_id: str, *pages: str, failed: tuple[int, ...]) -> Document:
    doc = make_doc(doc_id, *pages)
    for page in doc.pages:
        if page.page_no in failed:
            page.status, page.text, page.reason = PageStatus.failed, "", "tesseract failed"
    doc.status = doc.status_from_pages()
    return doc


def test_a_partial_document_is_found_by_its_good_pages_and_marked(index) -> None:
    """Both backends say which pages of a hit failed, and filter on status=partial."""
    index.index(
        [
            _partial("p", "Quyết định số hóa", "", "Phụ lục", failed=(2,)),
            make_doc("q", "Quyết định khen thưởng"),
        ]
    )
    hits = {h.doc_id[0]: h for h in index.search("quyet dinh", viewer=ALL).hits}
    assert (hits["p"].status, hits["p"].failed_pages) == ("partial", [2])
    assert (hits["q"].status, hits["q"].failed_pages) == ("done", [])
    listed = index.search("", viewer=ALL, filters={"status": "partial"})
    assert [(h.doc_id[0], h.failed_pages) for h in listed.hits] == [("p", [2])]
    assert index.search("quyet dinh", viewer=ALL).facets["status"] == {"partial": 1, "done": 1}
    index.index([make_doc("p", "Quyết định số hóa", "Điều 2", "Phụ lục")])  # retried: done
    assert [(h.status, h.failed_pages) for h in index.search("so hoa", viewer=ALL).hits] == [
        ("done", [])
    ]
    assert index.search("", viewer=ALL, filters={"status": "partial"}).total == 0


def test_an_index_of_the_previous_layout_keeps_its_documents(tmp_path: Path) -> None:
    """Layout 3 (before failed pages were stored) is upgraded in place, not emptied."""
    import sqlite3

    path = tmp_path / "i.sqlite3"
    SqliteIndex(path).index([make_doc("a", "Công văn")])
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE documents DROP COLUMN failed_pages")
    db.execute("DROP INDEX documents_by_issued")  # layout 6
    db.execute("ALTER TABLE documents DROP COLUMN issued")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    reopened = SqliteIndex(path)
    assert [
        (h.doc_id[0], h.failed_pages) for h in reopened.search("cong van", viewer=ALL).hits
    ] == [("a", [])]
    reopened.index([_partial("b", "Công văn", "", failed=(2,))])
    assert reopened.search("", viewer=ALL, filters={"status": "partial"}).hits[0].failed_pages == [
        2
    ]


def test_a_server_index_of_the_previous_layout_takes_partial_documents(servers) -> None:
    """Its mappings are strict: the failed-pages field is added in place on opening, else
    every partial document would be refused."""
    import copy
    import uuid

    from search.elastic import MAPPINGS, SETTINGS, ElasticIndex, make_client

    client = make_client(servers["SOHOA_SEARCH"])
    alias = f"test-{uuid.uuid4().hex[:12]}"
    old = copy.deepcopy(MAPPINGS)
    del old["properties"]["failed_pages"]
    client.indices.create(
        index=f"{alias}-v0", body={"settings": {"index": SETTINGS}, "mappings": old}
    )
    client.indices.put_alias(index=f"{alias}-v0", name=alias)
    try:
        index = ElasticIndex(servers["SOHOA_SEARCH"], alias=alias)
        index.index([_partial("b", "Công văn", "", failed=(2,))])
        hits = index.search("", viewer=ALL, filters={"status": "partial"}).hits
        assert [(h.doc_id[0], h.failed_pages) for h in hits] == [("b", [2])]
    finally:
        for name in client.indices.get(index=f"{alias}-v*"):
            client.indices.delete(index=name)
        client.indices.delete_index_template(name=f"{alias}-template")
