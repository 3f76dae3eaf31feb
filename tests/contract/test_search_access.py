"""Both backends filter by the viewer inside the index query: totals, facet counts, hits and
snippets never count or show a document the viewer may not see (issue 15)."""

import sqlite3
from pathlib import Path

import pytest

from schemas import Document
from schemas.access import Viewer, Visibility
from search import SqliteIndex
from tests.contract.test_search import make_doc

ALL = Viewer.everything()
OWNER, PARTNER, OTHER = "000.00.01.H01", "000.00.02.H02", "000.00.03.H03"
NO_ORGAN = Viewer(frozenset())  # a user of no organ: public records alone


def seen_by(
    doc: Document, owner: str = "", organs: tuple[str, ...] = (), public: bool = False
) -> Document:
    doc.visibility = Visibility(owner=owner, organs=frozenset(organs), public=public)
    return doc


def typed(doc: Document, type_name: str) -> Document:
    doc.metadata.type_name.value = type_name
    return doc


def ids(results) -> list[str]:
    return sorted(h.doc_id[0] for h in results.hits)


def test_a_wrong_organ_learns_nothing_of_an_invisible_document(index) -> None:
    index.index(
        [
            seen_by(
                typed(make_doc("s", "Quyết định thanh tra mật"), "Quyết định"),
                owner=OWNER,
                organs=(PARTNER,),
            ),
            seen_by(typed(make_doc("o", "Quyết định khen thưởng"), "Báo cáo"), owner=OTHER),
            seen_by(make_doc("p", "Thông báo thanh tra công khai"), owner=OWNER, public=True),
        ]
    )
    other = Viewer.of_organ(OTHER)
    hidden = index.search("mat", viewer=other)
    assert (hidden.total, hidden.hits, hidden.facets) == (0, [], {})
    for viewer in (Viewer.of_organ(OWNER), Viewer.of_organ(PARTNER), ALL):
        found = index.search("thanh tra mật", viewer=viewer)
        assert ids(found) == ["s"]
        assert "mật" in found.hits[0].pages[0].snippet
    for viewer in (other, NO_ORGAN, Viewer.of_organ(PARTNER), ALL):  # public: everyone
        assert ids(index.search("thanh tra cong khai", viewer=viewer)) == ["p"]

    both = index.search("quyet dinh", viewer=other)  # matches "s" (hidden) and "o"
    assert (both.total, ids(both)) == (1, ["o"])
    assert both.facets["type"] == {"Báo cáo": 1}
    assert both.facets["status"] == {"done": 1}
    assert index.search("quyet dinh", viewer=ALL).facets["type"] == {"Quyết định": 1, "Báo cáo": 1}
    listed = index.search("", viewer=other, filters={"status": "done"})
    assert (listed.total, ids(listed), listed.facets["status"]) == (2, ["o", "p"], {"done": 2})
    assert index.search("thanh tra", viewer=other, filters={"type": "Quyết định"}).total == 0


def test_a_document_of_unknown_visibility_is_found_by_admins_alone(index) -> None:
    index.index([make_doc("n", "Công văn không rõ chủ")])  # visibility None
    for viewer in (Viewer.of_organ(OWNER), NO_ORGAN):
        assert index.search("cong van", viewer=viewer).total == 0
        assert index.search("", viewer=viewer).total == 0
    assert ids(index.search("cong van", viewer=ALL)) == ["n"]


def test_sharing_and_unsharing_take_effect_when_reindexed(index) -> None:
    index.index([seen_by(make_doc("d", "Hồ sơ dự án"), owner=OWNER)])
    partner = Viewer.of_organ(PARTNER)
    assert index.search("ho so du an", viewer=partner).total == 0
    index.index([seen_by(make_doc("d", "Hồ sơ dự án"), owner=OWNER, organs=(PARTNER,))])
    assert ids(index.search("ho so du an", viewer=partner)) == ["d"]
    assert index.search("", viewer=partner).total == 1
    index.index([seen_by(make_doc("d", "Hồ sơ dự án"), owner=OWNER)])
    assert index.search("ho so du an", viewer=partner).total == 0
    assert ids(index.search("ho so du an", viewer=Viewer.of_organ(OWNER))) == ["d"]
    index.delete("d" * 64)
    assert index.search("ho so du an", viewer=Viewer.of_organ(OWNER)).total == 0


def test_rebuild_keeps_who_may_see(index) -> None:
    docs = [
        seen_by(make_doc("a", "Biên bản họp"), owner=OWNER),
        seen_by(make_doc("b", "Biên bản nghiệm thu"), owner=OTHER, organs=(PARTNER,)),
    ]
    index.index(docs[:1])
    assert index.rebuild(docs) == 2
    assert ids(index.search("bien ban", viewer=Viewer.of_organ(OWNER))) == ["a"]
    assert ids(index.search("bien ban", viewer=Viewer.of_organ(PARTNER))) == ["b"]
    assert index.search("bien ban", viewer=NO_ORGAN).total == 0
    assert ids(index.search("bien ban", viewer=ALL)) == ["a", "b"]


def test_paging_counts_only_what_the_viewer_sees(index) -> None:
    index.index(
        [
            seen_by(make_doc(f"{i:064x}", f"Công văn số {i}"), owner=OWNER if i < 5 else OTHER)
            for i in range(8)
        ]
    )
    owner = Viewer.of_organ(OWNER)
    for query in ("cong van", ""):
        pages = [index.search(query, viewer=owner, limit=2, offset=k) for k in (0, 2, 4)]
        assert [p.total for p in pages] == [5, 5, 5]
        seen = [h.doc_id for p in pages for h in p.hits]
        assert sorted(seen) == [f"{i:064x}" for i in range(5)]


def test_sqlite_ranks_a_viewer_by_the_documents_it_sees_alone(tmp_path: Path) -> None:
    """BM25 statistics (document frequency, average length) over the viewer's documents: the
    scores and order an organ gets are those of an index holding only what it sees, however
    many invisible records hold the words (else a score tells whether they do)."""
    mine = [
        seen_by(make_doc("a", "Thanh tra tài chính tài chính"), owner=OWNER),
        seen_by(make_doc("b", "Thanh tra thanh tra tài chính"), owner=OWNER),
    ]
    others = [
        seen_by(make_doc(f"{i:064x}", "Thanh tra " + "ngân sách " * i), owner=OTHER)
        for i in range(1, 30)
    ]
    alone, crowded = SqliteIndex(tmp_path / "alone.sqlite3"), SqliteIndex(tmp_path / "all.sqlite3")
    alone.index(mine)
    crowded.index(mine + others)
    owner = Viewer.of_organ(OWNER)
    for query in ("thanh tra tai chinh", "thanh tra", "tài chính"):
        expected = [(h.doc_id, h.score) for h in alone.search(query, viewer=owner).hits]
        got = [(h.doc_id, h.score) for h in crowded.search(query, viewer=owner).hits]
        assert [i for i, _ in got] == [i for i, _ in expected], query
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-5), query
    assert crowded.search("thanh tra", viewer=ALL).total == 31  # the operator ranks over all


def test_an_index_of_layout_4_is_upgraded_and_fails_closed(tmp_path: Path) -> None:
    """Documents indexed before their keys were: admins find them; organs once reindexed."""
    path = tmp_path / "i.sqlite3"
    SqliteIndex(path).index([seen_by(make_doc("a", "Công văn"), owner=OWNER)])
    db = sqlite3.connect(path)
    db.execute("DROP TABLE visibility")
    db.execute("DROP INDEX documents_by_issued")  # layout 6
    db.execute("ALTER TABLE documents DROP COLUMN issued")
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    index = SqliteIndex(path)
    assert ids(index.search("cong van", viewer=ALL)) == ["a"]
    assert index.search("cong van", viewer=Viewer.of_organ(OWNER)).total == 0
    index.rebuild([seen_by(make_doc("a", "Công văn"), owner=OWNER)])
    assert ids(index.search("cong van", viewer=Viewer.of_organ(OWNER))) == ["a"]


def test_a_server_index_of_the_previous_layout_takes_visibility(servers) -> None:
    """Its mappings are strict: the visibility field is added in place on opening, else every
    write would be refused."""
    import copy
    import uuid

    from search.elastic import MAPPINGS, SETTINGS, ElasticIndex, make_client

    client = make_client(servers["SOHOA_SEARCH"])
    alias = f"test-{uuid.uuid4().hex[:12]}"
    old = copy.deepcopy(MAPPINGS)
    del old["properties"]["visible_to"]
    client.indices.create(
        index=f"{alias}-v0", body={"settings": {"index": SETTINGS}, "mappings": old}
    )
    client.indices.put_alias(index=f"{alias}-v0", name=alias)
    try:
        index = ElasticIndex(servers["SOHOA_SEARCH"], alias=alias)
        index.index([seen_by(make_doc("a", "Công văn"), owner=OWNER)])
        assert ids(index.search("cong van", viewer=Viewer.of_organ(OWNER))) == ["a"]
        assert index.search("cong van", viewer=Viewer.of_organ(OTHER)).total == 0
    finally:
        for name in client.indices.get(index=f"{alias}-v*"):
            client.indices.delete(index=name)
        client.indices.delete_index_template(name=f"{alias}-template")
