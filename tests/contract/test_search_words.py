"""The server index gets its words cut by the project, as SqliteIndex has them, and bulk writes
retry only what the server refused as overloaded."""

import json
import unicodedata
from collections import Counter

import pytest

from schemas import Document
from schemas.access import Viewer
from schemas.text import fold, nfc
from search.base import metadata_text
from search.elastic import ElasticIndex, SearchBackendError, bulk_line
from search.sqlite_segments import document_terms
from search.words import lower_words, query_terms, tokens
from tests.contract.test_search import make_doc

ALL = Viewer.everything()  # these tests are about search, not about who sees what

TRICKY = [
    "Quyết định số 1452/QĐ-UBND ngày 02/05/2019",
    "snake_case a_b __x__ tab\tnew\nline",
    "no\u00a0break\u202fspaces and soft\u00adhyphen zero\u200bwidth",
    "İstanbul ΟΔΟΣ ΣΟΦΙΑ Σ",  # lower case of İ is two characters; final sigma
    "x² ½ Ⅻ ٣ १२",  # other numbers
    "中文字 日本語のテキスト 한국어",  # beyond the one-table range
    "emoji 🙂 and 𝐛𝐨𝐥𝐝",  # beyond the BMP
    unicodedata.normalize("NFD", "Tiếng Việt tổ hợp"),
    "",
    "   ",
]


@pytest.mark.parametrize("text", TRICKY)
def test_words_are_those_sqlite_indexes(text: str) -> None:
    doc = make_doc("a", text)
    whole = nfc(metadata_text(doc) + "\n" + doc.text)
    lower = lower_words(whole)
    assert lower.split() == tokens(whole.lower())
    folded_terms, exact_terms, _ = document_terms(doc)
    assert Counter(lower.split()) == exact_terms
    assert Counter(fold(lower).split()) == folded_terms


def test_bulk_line_is_the_action_then_the_source() -> None:
    doc = make_doc("a", 'Trích yếu: "số hóa" \\ lưu trữ LƯU TRỮ luu tru', "Trang 2")
    action, source, end = bulk_line(doc).split("\n")
    assert json.loads(action) == {"index": {"_id": doc.id}}
    assert end == ""
    body = json.loads(source)
    assert body["pages"] == [
        {"page_no": 1, "text": 'Trích yếu: "số hóa" \\ lưu trữ LƯU TRỮ luu tru'},
        {"page_no": 2, "text": "Trang 2"},
    ]
    folded_terms, exact_terms, _ = document_terms(doc)
    assert Counter(" ".join(body["exact"]).split()) == exact_terms  # one value per text
    assert Counter(" ".join(body["folded"]).split()) == folded_terms


def test_tricky_words_find_the_same_documents(index) -> None:
    docs = [make_doc(f"{i:064x}", text) for i, text in enumerate(TRICKY) if text.strip()]
    index.index(docs)
    queries = [
        "snake_case",
        "ΟΔΟΣ",
        "σοφια",
        "stanbul",
        "x²",
        "日本語のテキスト",
        "no break",
        "tổ hợp",
    ]
    for query in queries:
        words = set(query_terms(query)[0])
        want = {d.id for d in docs if words <= set(document_terms(d)[0])}
        assert want, query
        results = index.search(query, viewer=ALL, limit=50)
        assert {h.doc_id for h in results.hits} == want, query
        assert results.total == len(want)


class _FakeClient:
    """Answers bulk requests from a list of prepared responses, keeping what was sent."""

    def __init__(self, *responses: object) -> None:
        self.responses = list(responses)
        self.sent: list[list[str]] = []

    def bulk(self, body: bytes, index: str, filter_path: str) -> object:
        self.sent.append([json.loads(line)["index"]["_id"] for line in body.splitlines()[::2]])
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return response


class _Overloaded(Exception):
    status_code = 429


def _index_with(client: _FakeClient, monkeypatch: pytest.MonkeyPatch) -> ElasticIndex:
    monkeypatch.setattr("search.elastic.time.sleep", lambda seconds: None)
    ix = ElasticIndex.__new__(ElasticIndex)
    ix.client = client
    return ix


def _docs(n: int) -> list[Document]:
    return [make_doc(f"{i:064x}", f"trang {i}") for i in range(n)]


def _item(doc: Document, status: int, error: str | None = None) -> dict:
    result: dict = {"_id": doc.id, "status": status}
    if error:
        result["error"] = {"type": error}
    return {"index": result}


def test_bulk_retries_only_documents_refused_as_overloaded(monkeypatch) -> None:
    docs = _docs(3)
    client = _FakeClient(
        _Overloaded("too many requests"),
        {
            "errors": True,
            "items": [_item(docs[0], 201), _item(docs[1], 429, "rejected"), _item(docs[2], 201)],
        },
        {"errors": False},
    )
    ix = _index_with(client, monkeypatch)
    assert ix._send("ix", [bulk_line(d) for d in docs]) == 3
    ids = [d.id for d in docs]
    assert client.sent == [ids, ids, [docs[1].id]]


def test_bulk_failure_names_the_document(monkeypatch) -> None:
    docs = _docs(2)
    client = _FakeClient(
        {
            "errors": True,
            "items": [_item(docs[0], 201), _item(docs[1], 400, "mapper_parsing_exception")],
        }
    )
    ix = _index_with(client, monkeypatch)
    with pytest.raises(SearchBackendError, match=docs[1].id):
        ix._send("ix", [bulk_line(d) for d in docs])
