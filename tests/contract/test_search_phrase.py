"""Quoted phrases match only where their words stand together, and documents where the query
words stand together rank first: on both backends."""

import pytest

from schemas.models import AdminMetadata, Field
from tests.contract.test_search import ALL, make_doc

PHRASE = "Kế hoạch số hóa tài liệu lưu trữ năm 2021"
SCATTERED = "Sổ theo dõi công văn đến. " + "Nội dung công việc của phòng. " * 8 + "Hòa giải"


@pytest.fixture
def phrase_docs(index):
    index.index(
        [
            make_doc("a", PHRASE, "Phụ lục"),
            # "sổ … hòa" far apart, each several times: more raw term frequency than "a"
            make_doc("b", SCATTERED + " sổ sách " * 3 + " hòa nhập " * 3),
            make_doc("c", "Quyết định so hoa (khong dau) ve viec luu tru"),
            make_doc("d", "Trang cuối: sổ", "hóa đơn trang sau"),  # across a page break
        ]
    )
    return index


def _ids(results) -> list[str]:
    return [h.doc_id[0] for h in results.hits]


@pytest.mark.parametrize("query", ['"số hóa"', '"so hoa"', "“so hoa”", "“số hóa”"])
def test_a_quoted_phrase_matches_only_adjacent_words(phrase_docs, query: str) -> None:
    results = phrase_docs.search(query, viewer=ALL)
    assert sorted(_ids(results)) == ["a", "c"]
    assert results.total == 2


def test_words_outside_quotes_stay_and_terms(phrase_docs) -> None:
    assert _ids(phrase_docs.search('"so hoa" 2021', viewer=ALL)) == ["a"]
    assert _ids(phrase_docs.search('luu tru "so hoa"', viewer=ALL, limit=5)) != []
    assert phrase_docs.search('"hoa so"', viewer=ALL).total == 0  # order counts


def test_an_unclosed_quote_runs_to_the_end(phrase_docs) -> None:
    assert sorted(_ids(phrase_docs.search('ke hoach "so hoa', viewer=ALL))) == ["a"]
    assert phrase_docs.search('"tai lieu so hoa', viewer=ALL).total == 0


def test_quotes_with_no_words_are_ignored(phrase_docs) -> None:
    results = phrase_docs.search('"" "so hoa" “ ”', viewer=ALL)
    assert sorted(_ids(results)) == ["a", "c"]


def test_a_phrase_in_a_metadata_string_matches(index) -> None:
    doc = make_doc("e", "Văn bản không có cụm từ đó: hóa ra sổ")
    doc.metadata = AdminMetadata(subject=Field(value="Về việc số hóa hồ sơ", confidence=0.9))
    index.index([doc, make_doc("f", "hồ sơ hóa trang trí sổ")])
    assert _ids(index.search('"so hoa ho so"', viewer=ALL)) == ["e"]


def test_totals_and_facets_count_only_documents_holding_the_phrase(index) -> None:
    docs = []
    for i in range(12):
        text = "báo cáo số hóa tài liệu" if i % 3 == 0 else "số liệu báo cáo văn hóa"
        doc = make_doc(f"{i:064x}", text)
        doc.metadata = AdminMetadata(
            type_name=Field(value=("Báo cáo", "Kế hoạch")[i % 2], confidence=1)
        )
        docs.append(doc)
    index.index(docs)
    results = index.search('"so hoa"', viewer=ALL, limit=2)
    assert results.total == 4  # i = 0, 3, 6, 9
    assert results.facets["type"] == {"Báo cáo": 2, "Kế hoạch": 2}
    narrowed = index.search('"so hoa"', viewer=ALL, filters={"type": "Kế hoạch"})
    assert narrowed.total == 2
    assert index.search("so hoa", viewer=ALL).total == 12  # without quotes: every document


def test_words_standing_together_rank_above_scattered_ones(phrase_docs) -> None:
    results = phrase_docs.search("so hoa", viewer=ALL)
    ids = _ids(results)
    assert set(ids) == {"a", "b", "c", "d"}
    assert ids.index("a") < ids.index("b")
    assert ids.index("a") < ids.index("d")
    assert ids.index("c") < ids.index("b")


def test_the_document_whose_title_holds_common_words_together_comes_first(index) -> None:
    """Words found in every document still rank: the record whose trích yếu (its subject and
    page header) holds them together twice comes before records that mention them together
    once in their prose and often apart, as on a server, which weighs how often a phrase
    stands (a presence-only bonus ranked these by raw word counts)."""
    others = []
    for i in range(6):
        doc = make_doc(
            f"{i:064x}",
            f"Hồ sơ {i}. Theo báo cáo kết quả năm trước, báo cáo tháng, báo cáo quý, kết luận, "
            "kết thúc, báo cáo năm và kết nối đã được gửi đến cơ quan.",
        )
        doc.metadata = AdminMetadata(subject=Field(value=f"Công văn số {i}", confidence=0.9))
        others.append(doc)
    known = make_doc("k", "BÁO CÁO KẾT QUẢ SỐ HÓA TÀI LIỆU\nNội dung gửi đến cơ quan.")
    known.metadata = AdminMetadata(
        subject=Field(value="Báo cáo kết quả số hóa tài liệu", confidence=0.9)
    )
    index.index([*others, known])
    assert _ids(index.search("bao cao ket", viewer=ALL, limit=3))[0] == "k"
