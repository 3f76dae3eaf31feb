"""SQLite FTS5 index: exact and folded columns, bm25 with the exact column boosted (DESIGN §7).

Rows are tied by integer rowids, never by scanning text columns: a document's `rid` is its
`doc_fts` rowid, and its pages are `page_fts` rows `rid << 20 | page_no`, so replacing one
document or finding its best pages is a key lookup whatever the size of the index.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from schemas.models import Document
from search.base import FACETS, PageHit, SearchHit, SearchResults, facet_values, metadata_text
from search.fold import fold, nfc, query_terms
from search.highlight import best_pages

log = logging.getLogger("sohoa.search")

SCHEMA_VERSION = 2
EXACT_BOOST = 2.0
MAX_PAGES_PER_HIT = 3
PAGE_BITS = 20  # up to a million pages per document
_TOKENIZER = 'tokenize = "unicode61 remove_diacritics 0"'
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS documents (
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source_name TEXT, status TEXT,
    page_count INTEGER, metadata TEXT,
    organ TEXT, level TEXT, type TEXT, year TEXT, signer TEXT, dossier TEXT, needs_review TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS doc_fts USING fts5(exact, folded, {_TOKENIZER});
CREATE VIRTUAL TABLE IF NOT EXISTS page_fts USING fts5(exact, folded, {_TOKENIZER});
INSERT INTO doc_fts(doc_fts, rank) VALUES ('rank', 'bm25({EXACT_BOOST}, 1.0)');
INSERT INTO page_fts(page_fts, rank) VALUES ('rank', 'bm25({EXACT_BOOST}, 1.0)');
"""
_COLUMNS = ("id", "source_name", "status", "page_count", "metadata") + tuple(
    name for name in FACETS if name != "status"
)


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(folded: list[str], exact: list[str], operator: str = "AND") -> str:
    """All terms must match the folded column; exact matches only add to the score."""
    joiner = f" {operator} "
    folded_part = f"folded : ({joiner.join(_phrase(t) for t in folded)})"
    exact_part = f"exact : ({joiner.join(_phrase(t) for t in exact)})"
    return f"({folded_part}) OR ({exact_part})"


def _page_rows(rid: int) -> tuple[int, int]:
    first = rid << PAGE_BITS
    return first, first + (1 << PAGE_BITS) - 1


class SqliteIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._migrate()
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS hits (rid INTEGER PRIMARY KEY, score)")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if "documents" in tables:
            log.warning(
                "search index %s has an old layout: emptied; run `sohoa reindex`", self.path
            )
            for table in ("documents", "doc_fts", "page_fts"):
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
        self._db.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")

    # -- writes ------------------------------------------------------------------------------

    def index(self, docs: Iterable[Document]) -> int:
        return self._write(docs, replace_all=False)

    def rebuild(self, docs: Iterable[Document]) -> int:
        """Replace the whole index in one transaction: readers see the old one until commit."""
        return self._write(docs, replace_all=True)

    def _write(self, docs: Iterable[Document], replace_all: bool) -> int:
        count = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if replace_all:
                    self._delete_all()
                for doc in docs:
                    if not replace_all:
                        self._delete(doc.id)
                    self._insert(doc)
                    count += 1
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return count

    def _insert(self, doc: Document) -> None:
        facets = facet_values(doc)
        values = (
            doc.id,
            doc.source_name,
            doc.status.value,
            doc.page_count,
            json.dumps(doc.metadata.values(), ensure_ascii=False, default=str),
            *(facets[name] for name in FACETS if name != "status"),
        )
        placeholders = ",".join("?" * len(_COLUMNS))
        rid = self._db.execute(
            f"INSERT INTO documents ({','.join(_COLUMNS)}) VALUES ({placeholders})", values
        ).lastrowid
        whole = nfc(metadata_text(doc) + "\n" + doc.text)
        self._db.execute(
            "INSERT INTO doc_fts (rowid, exact, folded) VALUES (?,?,?)", (rid, whole, fold(whole))
        )
        first, _ = _page_rows(rid)
        self._db.executemany(
            "INSERT INTO page_fts (rowid, exact, folded) VALUES (?,?,?)",
            [(first + p.page_no, nfc(p.text), fold(p.text)) for p in doc.pages if p.text],
        )

    def _delete(self, doc_id: str) -> None:
        row = self._db.execute("SELECT rid FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return
        rid = row[0]
        self._db.execute("DELETE FROM doc_fts WHERE rowid = ?", (rid,))
        self._db.execute("DELETE FROM page_fts WHERE rowid BETWEEN ? AND ?", _page_rows(rid))
        self._db.execute("DELETE FROM documents WHERE rid = ?", (rid,))

    def delete(self, doc_id: str) -> None:
        with self._lock:
            self._delete(doc_id)

    def _delete_all(self) -> None:
        for table in ("documents", "doc_fts", "page_fts"):
            self._db.execute(f"DELETE FROM {table}")

    def clear(self) -> None:
        with self._lock:
            self._delete_all()

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM documents").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- search ------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        filters: dict[str, str] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> SearchResults:
        folded, exact = query_terms(query)
        where, params = self._filter_sql(filters or {})
        with self._lock:
            if folded:
                self._db.execute("DELETE FROM hits")
                self._db.execute(
                    "INSERT INTO hits SELECT rowid, rank FROM doc_fts WHERE doc_fts MATCH ?",
                    (match_expression(folded, exact),),
                )
                matched = f"FROM hits h JOIN documents d ON d.rid = h.rid WHERE 1=1 {where}"
                order = "h.score, d.id"
                score = "-h.score"
            else:
                matched = f"FROM documents d WHERE 1=1 {where}"
                order = "d.source_name, d.id"
                score = "0.0"
            total = self._db.execute(f"SELECT count(*) {matched}", params).fetchone()[0]
            rows = self._db.execute(
                f"SELECT d.rid, d.id, d.source_name, d.status, d.page_count, d.metadata, {score} "
                f"{matched} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            hits = [self._hit(row, folded, exact) for row in rows]
            facets = self._facets(matched, params) if total else {}
        return SearchResults(query=query, total=total, hits=hits, facets=facets)

    def _filter_sql(self, filters: dict[str, str]) -> tuple[str, list[str]]:
        clauses, params = [], []
        for name, value in filters.items():
            if name not in FACETS:
                raise ValueError(f"unknown filter {name!r}; use one of {', '.join(FACETS)}")
            clauses.append(f"AND d.{name} = ?")
            params.append(str(value))
        return " ".join(clauses), params

    def _hit(self, row: tuple, folded: list[str], exact: list[str]) -> SearchHit:
        rid, doc_id, source_name, status, page_count, metadata, score = row
        pages: list[PageHit] = []
        if folded:
            # A key-range read of the document's pages, ranked here: far cheaper than a
            # second full-text match (measured 0.2 ms against 15 ms per hit at 10k documents).
            first, last = _page_rows(rid)
            texts = self._db.execute(
                "SELECT rowid, exact FROM page_fts WHERE rowid BETWEEN ? AND ?", (first, last)
            ).fetchall()
            for page_no, snippet in best_pages(
                [(row - first, text) for row, text in texts], folded, MAX_PAGES_PER_HIT
            ):
                pages.append(PageHit(page_no, snippet.text, snippet.spans))
        return SearchHit(
            doc_id=doc_id,
            score=score,
            source_name=source_name,
            status=status,
            page_count=page_count,
            metadata=json.loads(metadata),
            pages=pages,
        )

    def _facets(self, matched: str, params: list[str]) -> dict[str, dict[str, int]]:
        facets: dict[str, dict[str, int]] = {}
        for name in FACETS:
            rows = self._db.execute(
                f"SELECT d.{name}, count(*) {matched} AND d.{name} IS NOT NULL "
                f"GROUP BY d.{name} ORDER BY count(*) DESC, d.{name}",
                params,
            ).fetchall()
            if rows:
                facets[name] = {str(value): n for value, n in rows}
        return facets
