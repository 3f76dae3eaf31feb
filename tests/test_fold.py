import unicodedata

import pytest

from schemas.text import fold
from search.highlight import make_snippet
from search.words import query_terms


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Quyết định", "quyet dinh"),
        ("ĐỒNG ĐẲNG", "dong dang"),
        ("Ðơn", "don"),  # U+00D0, the look-alike of Đ
        ("Ủy ban nhân dân tỉnh", "uy ban nhan dan tinh"),
        ("số hóa", "so hoa"),
        ("số hoá", "so hoa"),  # old-style tone placement folds the same
        ("1452/QĐ-UBND", "1452/qd-ubnd"),
    ],
)
def test_fold_drops_marks_and_d_bar(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(nfd(text)) == folded


def test_fold_keeps_one_character_per_nfc_character() -> None:
    text = "Cộng hòa xã hội chủ nghĩa Việt Nam — Độc lập"
    assert len(fold(text)) == len(unicodedata.normalize("NFC", text))


def test_query_terms_fold_nfd_and_case_alike() -> None:
    assert query_terms(nfd("QUYẾT ĐỊNH số hóa"))[0] == query_terms("quyet dinh so hoa")[0]


def test_snippet_marks_terms_on_the_original_text() -> None:
    text = "UBND TỈNH KON TUM\n\nQUYẾT ĐỊNH\nVề việc số hóa tài liệu"
    snippet = make_snippet(text, query_terms("quyet dinh so hoa")[0])
    assert snippet.marked() == "UBND TỈNH KON TUM «QUYẾT» «ĐỊNH» Về việc «số» «hóa» tài liệu"


def test_snippet_matches_whole_words_only() -> None:
    snippet = make_snippet("Sở Nội vụ tổ chức", ["so"])
    assert snippet.marked() == "«Sở» Nội vụ tổ chức"
    assert make_snippet("Lưu: VT", ["v"]).spans == []
