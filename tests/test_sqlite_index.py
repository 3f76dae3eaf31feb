import unicodedata
from pathlib import Path

import pytest

from schemas import Document, DocumentStatus, PageResult
from search import SqliteIndex


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
def index(tmp_path: Path) -> SqliteIndex:
    ix = SqliteIndex(tmp_path / "index.sqlite3")
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
def test_folded_queries_find_accented_text(index: SqliteIndex, query: str) -> None:
    results = index.search(query)
    assert {h.doc_id[0] for h in results.hits} == {"a", "b"}


def test_exact_diacritics_rank_above_folded_only_matches(index: SqliteIndex) -> None:
    results = index.search("quyết định số hóa")
    assert [h.doc_id[0] for h in results.hits] == ["a", "b"]


def test_hits_carry_page_numbers_and_highlights(index: SqliteIndex) -> None:
    hit = index.search("so noi vu").hits[0]
    assert hit.doc_id[0] == "a"
    assert hit.pages[0].page_no == 2
    page = hit.pages[0]
    assert [page.snippet[a:b] for a, b in page.spans] == ["Sở", "Nội", "vụ"]


def test_all_terms_must_match(index: SqliteIndex) -> None:
    assert index.search("ke hoach kinh te").total == 0
    assert index.search("đ").total == 0


def test_filters_and_facets(index: SqliteIndex) -> None:
    results = index.search("", filters={"status": "done"})
    assert results.total == 3
    assert results.facets["status"] == {"done": 3}
    with pytest.raises(ValueError):
        index.search("x", filters={"colour": "red"})


def test_reindexing_a_document_replaces_it(index: SqliteIndex) -> None:
    index.index([make_doc("c", "Thông báo kết luận")])
    assert index.count() == 3
    assert index.search("ke hoach").total == 0
    assert index.search("thong bao").hits[0].doc_id[0] == "c"
    index.delete("c" * 64)
    assert index.count() == 2
    index.clear()
    assert index.count() == 0


def test_index_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite3"
    first = SqliteIndex(path)
    first.index([make_doc("a", "Công văn")])
    first.close()
    assert SqliteIndex(path).search("cong van").total == 1
