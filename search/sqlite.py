"""SQLite FTS5 index: exact and folded columns, bm25 with the exact column boosted (DESIGN §7)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from schemas.models import Document
from search.base import FACETS, PageHit, SearchHit, SearchResults, facet_values, metadata_text
from search.fold import fold, nfc, query_terms
from search.highlight import make_snippet

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source_name TEXT, status TEXT, page_count INTEGER, metadata TEXT,
    organ TEXT, level TEXT, type TEXT, year TEXT, signer TEXT, dossier TEXT,
    needs_review TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS doc_fts USING fts5(
    doc_id UNINDEXED, exact, folded, tokenize = "unicode61 remove_diacritics 0"
);
CREATE VIRTUAL TABLE IF NOT EXISTS page_fts USING fts5(
    doc_id UNINDEXED, page_no UNINDEXED, exact, folded,
    tokenize = "unicode61 remove_diacritics 0"
);
"""
EXACT_BOOST = 2.0
MAX_PAGES_PER_HIT = 3


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(folded: list[str], exact: list[str], operator: str = "AND") -> str:
    """All terms must match the folded column; exact matches only add to the score."""
    joiner = f" {operator} "
    folded_part = f"folded : ({joiner.join(_phrase(t) for t in folded)})"
    exact_part = f"exact : ({joiner.join(_phrase(t) for t in exact)})"
    return f"({folded_part}) OR ({exact_part})"


class SqliteIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)

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
        self._db.execute(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                doc.id,
                doc.source_name,
                doc.status.value,
                doc.page_count,
                json.dumps(doc.metadata.values(), ensure_ascii=False, default=str),
                *(facets[name] for name in FACETS if name != "status"),
            ),
        )
        whole = nfc(metadata_text(doc) + "\n" + doc.text)
        self._db.execute(
            "INSERT INTO doc_fts (doc_id, exact, folded) VALUES (?,?,?)",
            (doc.id, whole, fold(whole)),
        )
        self._db.executemany(
            "INSERT INTO page_fts (doc_id, page_no, exact, folded) VALUES (?,?,?,?)",
            [(doc.id, p.page_no, nfc(p.text), fold(p.text)) for p in doc.pages if p.text],
        )

    def _delete(self, doc_id: str) -> None:
        for table, column in (("documents", "id"), ("doc_fts", "doc_id"), ("page_fts", "doc_id")):
            self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (doc_id,))

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
                matched = self._db.execute(
                    f"""SELECT d.id, bm25(doc_fts, 0, {EXACT_BOOST}, 1.0) AS score
                        FROM doc_fts JOIN documents d ON d.id = doc_fts.doc_id
                        WHERE doc_fts MATCH ? {where} ORDER BY score, d.id""",
                    [match_expression(folded, exact), *params],
                ).fetchall()
            else:
                matched = self._db.execute(
                    f"SELECT d.id, 0.0 FROM documents d WHERE 1=1 {where} ORDER BY d.source_name",
                    params,
                ).fetchall()
            ids = [row[0] for row in matched]
            hits = [
                self._hit(doc_id, -score, folded, exact)
                for doc_id, score in matched[offset : offset + limit]
            ]
            facets = self._facets(ids)
        return SearchResults(query=query, total=len(ids), hits=hits, facets=facets)

    def _filter_sql(self, filters: dict[str, str]) -> tuple[str, list[str]]:
        clauses, params = [], []
        for name, value in filters.items():
            if name not in FACETS:
                raise ValueError(f"unknown filter {name!r}; use one of {', '.join(FACETS)}")
            clauses.append(f"AND d.{name} = ?")
            params.append(str(value))
        return " ".join(clauses), params

    def _hit(self, doc_id: str, score: float, folded: list[str], exact: list[str]) -> SearchHit:
        source_name, status, page_count, metadata = self._db.execute(
            "SELECT source_name, status, page_count, metadata FROM documents WHERE id = ?",
            (doc_id,),
        ).fetchone()
        pages: list[PageHit] = []
        if folded:
            rows = self._db.execute(
                f"""SELECT page_no, exact FROM page_fts
                    WHERE page_fts MATCH ? AND doc_id = ?
                    ORDER BY bm25(page_fts, 0, 0, {EXACT_BOOST}, 1.0) LIMIT ?""",
                (match_expression(folded, exact, "OR"), doc_id, MAX_PAGES_PER_HIT),
            ).fetchall()
            for page_no, text in rows:
                snippet = make_snippet(text, folded)
                pages.append(PageHit(int(page_no), snippet.text, snippet.spans))
        return SearchHit(
            doc_id=doc_id,
            score=score,
            source_name=source_name,
            status=status,
            page_count=page_count,
            metadata=json.loads(metadata),
            pages=pages,
        )

    def _facets(self, ids: list[str]) -> dict[str, dict[str, int]]:
        if not ids:
            return {}
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS hit_ids (id TEXT PRIMARY KEY)")
        self._db.execute("DELETE FROM hit_ids")
        self._db.executemany("INSERT OR IGNORE INTO hit_ids VALUES (?)", [(i,) for i in ids])
        facets: dict[str, dict[str, int]] = {}
        for name in FACETS:
            rows = self._db.execute(
                f"""SELECT d.{name}, count(*) FROM documents d JOIN hit_ids h ON h.id = d.id
                    WHERE d.{name} IS NOT NULL GROUP BY d.{name} ORDER BY count(*) DESC"""
            ).fetchall()
            if rows:
                facets[name] = {str(value): n for value, n in rows}
        return facets
