"""Both backends sort by issued date (issue 16: "sort by relevance or date"): newest or oldest
first, documents without a date (or with one that does not read as a date) last either way,
the same day by relevance then id, so that pages follow one another; filters and the viewer
narrow the sorted documents as they narrow a ranked search."""

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from schemas import Document
from schemas.access import Viewer, Visibility
from search import SqliteIndex
from tests.contract.test_search import make_doc

ALL = Viewer.everything()
OWNER, OTHER = "000.00.01.H01", "000.00.03.H03"
# id letter -> (issued date, owner organ, type); None: no date, "12/05/2023": not a date
DOCS = {
    "a": ("2021-03-01", OWNER, "Quyết định"),
    "b": (None, OWNER, "Công văn"),
    "c": ("2023-01-05", OTHER, "Quyết định"),
    "d": (date(2022, 6, 1), OWNER, "Quyết định"),
    "e": ("12/05/2023", OWNER, "Công văn"),
    "f": ("2023-01-05", OWNER, "Công văn"),
    "g": ("2019-11-20", OTHER, "Công văn"),
    "h": ("2023-01-05", OWNER, "Quyết định"),
}


def dated(letter: str) -> Document:
    issued, owner, type_name = DOCS[letter]
    doc = make_doc(letter, f"Công văn về lưu trữ hồ sơ {letter}")
    doc.metadata.issued_date.value = issued
    doc.metadata.type_name.value = type_name
    doc.visibility = Visibility(owner=owner)
    return doc


@pytest.fixture
def sorted_index(index):
    index.index([dated(letter) for letter in DOCS])
    return index


def order(results) -> str:
    return "".join(h.doc_id[0] for h in results.hits)


def test_newest_first_and_oldest_first_with_undated_last(sorted_index) -> None:
    for query in ("luu tru ho so", ""):  # a search and a listing
        newest = sorted_index.search(query, viewer=ALL, sort="date", limit=20)
        oldest = sorted_index.search(query, viewer=ALL, sort="date_asc", limit=20)
        assert newest.total == oldest.total == 8
        # the same day (c, f, h: 2023-01-05) by relevance (equal here), then id
        assert order(newest) == "cfhdagbe", query
        assert order(oldest) == "gadcfhbe", query
        assert newest.facets == sorted_index.search(query, viewer=ALL).facets


def test_pages_follow_one_another_in_date_order(sorted_index) -> None:
    for sort in ("date", "date_asc"):
        whole = order(sorted_index.search("", viewer=ALL, sort=sort, limit=20))
        pages = [
            sorted_index.search("", viewer=ALL, sort=sort, limit=3, offset=k) for k in (0, 3, 6)
        ]
        assert [p.total for p in pages] == [8, 8, 8]
        assert "".join(order(p) for p in pages) == whole


def test_filters_and_viewer_narrow_the_sorted_documents(sorted_index) -> None:
    decisions = sorted_index.search(
        "cong van", viewer=ALL, filters={"type": "Quyết định"}, sort="date"
    )
    assert (decisions.total, order(decisions)) == (4, "chda")
    owner = Viewer.of_organ(OWNER)  # c and g belong to another organ
    for query in ("luu tru", ""):
        mine = sorted_index.search(query, viewer=owner, sort="date", limit=4)
        rest = sorted_index.search(query, viewer=owner, sort="date", limit=4, offset=4)
        assert (mine.total, order(mine) + order(rest)) == (6, "fhdabe")
        assert mine.facets["type"] == {"Công văn": 3, "Quyết định": 3}
    hidden = sorted_index.search("", viewer=Viewer.of_organ("000.00.09.H09"), sort="date")
    assert (hidden.total, hidden.hits) == (0, [])


def test_the_same_day_goes_by_relevance_before_id(index) -> None:
    docs = [make_doc("x", "Báo cáo"), make_doc("z", "Thanh tra thanh tra, thanh tra thuế")]
    docs.append(make_doc("y", "Thanh tra, kế hoạch, báo cáo, tổng hợp, phụ lục, biểu mẫu"))
    for doc in docs:
        doc.metadata.issued_date.value = "2024-02-02"
    index.index(docs)
    assert order(index.search("thanh tra", viewer=ALL, sort="date")) == "zy"  # id order: yz


def test_an_unknown_sort_is_refused(sorted_index) -> None:
    with pytest.raises(ValueError, match="unknown sort"):
        sorted_index.search("", viewer=ALL, sort="size")


def test_an_index_of_layout_5_takes_its_dates_in_place(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite3"
    SqliteIndex(path).index([dated(letter) for letter in "abd"])
    db = sqlite3.connect(path)
    db.execute("DROP INDEX documents_by_issued")
    db.execute("ALTER TABLE documents DROP COLUMN issued")
    db.execute("PRAGMA user_version = 5")
    db.commit()
    db.close()
    index = SqliteIndex(path)
    assert order(index.search("", viewer=ALL, sort="date")) == "dab"
    assert order(index.search("", viewer=Viewer.of_organ(OWNER), sort="date_asc")) == "adb"
