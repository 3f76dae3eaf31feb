"""Embedded search index in one SQLite file: exact and folded terms, BM25 with the exact terms
boosted (DESIGN §7), exact totals, filters and facets at any result size.

Why not FTS5: FTS5 ranks by scoring every matching row, and its bm25() first counts every
document holding each query term; a search matching 40-90 % of 100,000 records then took
0.2-0.4 s to rank and as much again to count facets over the matches. This index keeps the same
model (all query terms must occur, folded; BM25 k1=1.2 b=0.75 with Lucene's idf, exact terms
weighted ×2) in a form numpy evaluates in a few vector operations whatever the number of matches:

- `postings`: for each term (`col` 0 = folded, 1 = exact lower-case NFC) and segment, the sorted
  document rids (uint32) and term frequencies (uint16) as two blobs. Terms come from the same
  `tokens()`/`fold()` as the server backend, so both backends see the same words.
- `segments`: one row per batch of indexed documents, with the per-document columns (rids,
  lengths, facet codes) as arrays. Small segments are merged (LSM style, like Lucene segments),
  so a term is a handful of rows whatever the number of `index()` calls.
- `deleted`: rids replaced or deleted but still inside a segment; merges drop them.
- `documents` (what a hit shows, and the issued date the date sorts order by:
  search/sqlite_dates.py) and `pages` (page text for snippets) are plain tables.
- `visibility`: (key, rid) rows of each document's `Visibility.keys()`, written and deleted
  with its `documents` row (merges keep rids: they never touch it). A restricted viewer's keys
  become a mask of rids, read once per generation and key set (cached in the snapshot), ANDed
  into the matches before ranking, totals and facets. No row: admins alone find the document.
  For such a viewer BM25's document frequencies and average length are taken over the
  documents it sees (`search/bm25.py`), so neither its scores nor their order depend on others.

A search reads the per-document arrays once per index generation (cached; the `meta` row counts
write transactions, so writes from other processes are seen), the postings of its few terms,
and the rows of the hits it returns, all in one read transaction.

Phrases and proximity read the text, not positions. Postings hold no word positions: storing
them (a uint32 per word occurrence, ~4 bytes per word of text, against ~1 byte per distinct
word and document now) would multiply the postings size by about four and slow every write
and merge, for the sake of quoted queries. So a quoted phrase is checked on the candidates
that hold all its words (the AND above): their page texts and metadata strings are read and
the phrase looked for in each (`search.words.has_phrase`); documents without it leave the
mask, so totals and facets count only documents that hold it. The cost grows with the number
of candidates (their texts are folded a batch at a time: see docs/benchmarks.md, known-item
section, for the cost of common 3-word phrases over 2,005 records); a phrase of rare words
costs little. Proximity (`search.sqlite_proximity`) adds to the BM25 of at most
RESCORE_WINDOW documents the BM25 of the query's pairs of words and of the whole query as
phrases, as the server's proximity clauses do; the window holds the candidates that could
score most (BM25 + a bound on their bonus from the words' frequencies), and ends early once
no further candidate can reach the k-th score.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from schemas.access import Viewer
from schemas.errors import IndexDamaged, ReadOnlyData
from schemas.models import Document
from schemas.text import nfc
from search.base import (
    EXACT_BOOST,
    FACET_SIZE,
    FACETS,
    MAX_PAGES_PER_HIT,
    PageHit,
    SearchHit,
    SearchResults,
    check_sort,
    facet_values,
    failed_page_numbers,
    issued_day,
)
from search.bm25 import K1, Scope, idf_of
from search.highlight import best_pages
from search.sqlite_dates import Dates, by_date, read_dates
from search.sqlite_file import FACET_COLUMNS, SqliteFile, guarded, rollback
from search.sqlite_proximity import Proximity
from search.sqlite_segments import (
    CODE,
    EXACT,
    FOLDED,
    FREQ,
    LEN,
    MERGE_FACTOR,
    RID,
    SegmentWriter,
    document_terms,
    level,
)
from search.sqlite_texts import documents_texts, keep_phrases, page_keys
from search.words import Query, parse_query, spaced_texts

FLUSH_DOCS = 4096  # documents per segment written by one index()/rebuild() pass
MERGE_MAX_DOCS = 65536  # no merge produces a segment larger than this
EXPUNGE_FRACTION = 0.25  # rewrite a segment alone once this share of it is deleted
RESCORE_CHUNK = 50  # documents whose texts the proximity rescoring reads at once
RESCORE_WINDOW = 100  # most documents whose proximity is scored (best BM25 + bound first)
_DOC_COLUMNS = ("id", "seg", "source_name", "status", "page_count", "metadata", *FACET_COLUMNS)
_DOC_COLUMNS += ("failed_pages", "issued")
_HIT_COLUMNS = "rid, id, source_name, status, page_count, metadata, failed_pages"
VISIBLE_MASKS = 32  # viewers' key sets whose masks one snapshot keeps


@dataclass
class _Snapshot:
    """Per-document arrays of one index generation, indexed by rid."""

    generation: int
    live: np.ndarray  # bool
    codes: np.ndarray  # int32 [facet, rid]; 0 = no value
    values: list[list[str | None]]  # [facet][code] -> value
    code_of: list[dict[str, int]]  # [facet] value -> code
    everyone: Scope  # every live document, norm computed once
    visible: dict[tuple[str, ...], Scope] = field(default_factory=dict)  # viewer keys -> scope
    dates: Dates | None = None  # read at the first date sort of the generation


class SqliteIndex(SqliteFile):
    """Documents in, hits out: segments of postings written, merged and searched (module
    docstring); the file itself is `SqliteFile`'s."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._snapshot_cache: _Snapshot | None = None

    def _opened(self) -> None:
        self._snapshot_cache = None

    # -- writes ------------------------------------------------------------------------------

    @guarded
    def index(self, docs: Iterable[Document]) -> int:
        return self._write(docs, replace_all=False)

    @guarded
    def rebuild(self, docs: Iterable[Document]) -> int:
        """Replace the whole index in one transaction: readers see the old one until commit.
        A damaged index (or one of another layout) is first moved aside, kept, and a new one
        made: the records are the source of truth."""
        self._require_writable("rebuild the search index")
        problem = self._problem()
        if problem is not None:
            self._set_aside(problem)
        return self._write(docs, replace_all=True)

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """One write transaction: the body's changes, then segments merged and the generation
        bumped (readers reload), committed together or rolled back."""
        db = self._db
        if self.read_only:
            raise ReadOnlyData(self.path.parent, f"change the search index {self.path.name}")
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._merge()
                self._bump_generation()
                db.execute("COMMIT")
            except BaseException:
                rollback(db)
                raise

    def _write(self, docs: Iterable[Document], replace_all: bool) -> int:
        count = 0
        with self._changing():
            if replace_all:
                self._delete_all()
            codes = self._load_codes()
            writer: SegmentWriter | None = None
            for doc in docs:
                if writer is None:
                    writer = self._new_segment()
                self._delete(doc.id)
                self._insert(doc, writer, codes)
                count += 1
                if len(writer) >= FLUSH_DOCS:
                    self._flush(writer)
                    writer = None
            if writer is not None:
                self._flush(writer)
        return count

    def _bump_generation(self) -> None:
        self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")

    def _load_codes(self) -> dict:
        """(facet, value) -> code, and facet -> highest code, as stored now."""
        codes: dict = {}
        for facet, value, code in self._db.execute("SELECT facet, value, code FROM facet_codes"):
            codes[(facet, value)] = code
            codes[facet] = max(codes.get(facet, 0), code)
        return codes

    def _code(self, codes: dict, facet: str, value: str | None) -> int:
        if value is None:
            return 0
        key = (facet, str(value))
        code = codes.get(key)
        if code is None:
            code = codes[facet] = codes.get(facet, 0) + 1
            self._db.execute("INSERT INTO facet_codes VALUES (?,?,?)", (facet, key[1], code))
            codes[key] = code
        return code

    def _new_segment(self) -> SegmentWriter:
        seg = self._db.execute(
            "INSERT INTO segments (level, docs, rids, lens, facets) VALUES (0, 0, x'', x'', x'')"
        ).lastrowid
        return SegmentWriter(seg)

    def _insert(self, doc: Document, writer: SegmentWriter, codes: dict) -> None:
        facets = facet_values(doc)
        values = (
            doc.id,
            writer.seg,
            doc.source_name,
            doc.status.value,
            doc.page_count,
            json.dumps(doc.metadata.values(), ensure_ascii=False, default=str),
            *(facets[name] for name in FACET_COLUMNS),
            json.dumps(failed_page_numbers(doc)),
            issued_day(doc.metadata.issued_date.value),
        )
        placeholders = ",".join("?" * len(_DOC_COLUMNS))
        rid = self._db.execute(
            f"INSERT INTO documents ({','.join(_DOC_COLUMNS)}) VALUES ({placeholders})", values
        ).lastrowid
        first, _ = page_keys(rid)
        self._db.executemany(
            "INSERT INTO pages (key, text) VALUES (?,?)",
            [(first + p.page_no, nfc(p.text)) for p in doc.pages if p.text],
        )
        keys = doc.visibility.keys() if doc.visibility is not None else []  # None: admins only
        self._db.executemany(
            "INSERT INTO visibility (key, rid) VALUES (?,?)", [(key, rid) for key in keys]
        )
        codes_ = [self._code(codes, name, facets[name]) for name in FACETS]
        writer.add(rid, codes_, document_terms(doc))

    def _flush(self, writer: SegmentWriter) -> None:
        self._db.execute(
            "UPDATE segments SET level = ?, docs = ?, rids = ?, lens = ?, facets = ? WHERE seg = ?",
            writer.segment_row(),
        )
        self._db.executemany(
            "INSERT INTO postings (col, term, seg, rids, freqs) VALUES (?,?,?,?,?)",
            writer.posting_rows(),
        )

    def _delete(self, doc_id: str) -> None:
        row = self._db.execute("SELECT rid, seg FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return
        rid, seg = row
        self._db.execute("INSERT OR IGNORE INTO deleted (rid, seg) VALUES (?,?)", (rid, seg))
        self._db.execute("DELETE FROM pages WHERE key BETWEEN ? AND ?", page_keys(rid))
        self._db.execute("DELETE FROM documents WHERE rid = ?", (rid,))
        self._db.execute("DELETE FROM visibility WHERE rid = ?", (rid,))

    @guarded
    def delete(self, doc_id: str) -> None:
        with self._changing():
            self._delete(doc_id)

    def _delete_all(self) -> None:
        for table in ("documents", "pages", "segments", "postings", "deleted", "visibility"):
            self._db.execute(f"DELETE FROM {table}")
        # Nothing refers to old rids or segments any more: number them from 1 again.
        self._db.execute("DELETE FROM sqlite_sequence")

    def clear(self) -> None:
        self.rebuild([])

    @guarded
    def count(self) -> int:
        db = self._db
        with self._lock:
            return db.execute("SELECT count(*) FROM documents").fetchone()[0]

    def close(self) -> None:
        self._disconnect(final=True)

    # -- segment merging ---------------------------------------------------------------------

    def _merge(self) -> None:
        """Drop dead segments, rewrite mostly-deleted ones, merge small ones of one size."""
        while True:
            dead = dict(
                self._db.execute("SELECT seg, count(*) FROM deleted GROUP BY seg").fetchall()
            )
            segments = self._db.execute("SELECT seg, level, docs FROM segments").fetchall()
            group: list[int] = []
            for seg, _, docs in segments:
                if dead.get(seg, 0) >= docs:
                    self._drop_segments([seg])
                elif dead.get(seg, 0) > EXPUNGE_FRACTION * docs:
                    group = [seg]
            if not group:
                by_level: dict[int, list[tuple[int, int]]] = {}
                for seg, level, docs in segments:
                    if dead.get(seg, 0) < docs:
                        by_level.setdefault(level, []).append((seg, docs - dead.get(seg, 0)))
                for level in sorted(by_level):
                    members = by_level[level]
                    if (
                        len(members) >= MERGE_FACTOR
                        and sum(d for _, d in members) <= MERGE_MAX_DOCS
                    ):
                        group = [seg for seg, _ in members]
                        break
            if not group:
                return
            self._merge_segments(group)

    def _drop_segments(self, segs: list[int]) -> None:
        marks = ",".join("?" * len(segs))
        for table in ("postings", "deleted", "segments"):
            self._db.execute(f"DELETE FROM {table} WHERE seg IN ({marks})", segs)

    def _merge_segments(self, segs: list[int]) -> None:
        marks = ",".join("?" * len(segs))
        dead_rows = self._db.execute(f"SELECT rid FROM deleted WHERE seg IN ({marks})", segs)
        dead = np.array([r[0] for r in dead_rows], np.int64)
        rows = self._db.execute(
            f"SELECT rids, lens, facets FROM segments WHERE seg IN ({marks})", segs
        ).fetchall()
        rids = np.concatenate([np.frombuffer(r[0], RID) for r in rows])
        lens = np.concatenate([np.frombuffer(r[1], LEN) for r in rows])
        codes = np.concatenate([np.frombuffer(r[2], CODE).reshape(-1, len(FACETS)) for r in rows])
        keep = ~np.isin(rids, dead) if len(dead) else np.ones(len(rids), bool)
        order = np.argsort(rids[keep], kind="stable")
        rids, lens, codes = rids[keep][order], lens[keep][order], codes[keep][order]
        new = self._db.execute(
            "INSERT INTO segments (level, docs, rids, lens, facets) VALUES (?,?,?,?,?)",
            (level(len(rids)), len(rids), rids.tobytes(), lens.tobytes(), codes.tobytes()),
        ).lastrowid
        self._db.execute(f"UPDATE documents SET seg = ? WHERE seg IN ({marks})", [new, *segs])
        postings = self._db.execute(
            f"SELECT col, term, rids, freqs FROM postings WHERE seg IN ({marks}) "
            "ORDER BY col, term",
            segs,
        )

        def merged() -> Iterable[tuple]:
            key, parts = None, []
            for col, term, rid_blob, freq_blob in [*postings, (None, None, b"", b"")]:
                if (col, term) != key:
                    if parts:
                        row = self._merged_posting(key, new, parts, dead)
                        if row is not None:
                            yield row
                    key, parts = (col, term), []
                parts.append((rid_blob, freq_blob))

        # The new rows belong to segment `new`, outside the rows being read.
        self._db.executemany(
            "INSERT INTO postings (col, term, seg, rids, freqs) VALUES (?,?,?,?,?)", merged()
        )
        self._drop_segments(segs)

    @staticmethod
    def _merged_posting(
        key: tuple, seg: int, parts: list[tuple[bytes, bytes]], dead: np.ndarray
    ) -> tuple | None:
        rids = np.concatenate([np.frombuffer(r, RID) for r, _ in parts])
        freqs = np.concatenate([np.frombuffer(f, FREQ) for _, f in parts])
        if len(dead):
            keep = ~np.isin(rids, dead)
            rids, freqs = rids[keep], freqs[keep]
        if not len(rids):
            return None
        if len(parts) > 1:
            order = np.argsort(rids, kind="stable")
            rids, freqs = rids[order], freqs[order]
        return (key[0], key[1], seg, rids.tobytes(), freqs.tobytes())

    # -- search ------------------------------------------------------------------------------

    @guarded
    def search(
        self,
        query: str,
        *,
        viewer: Viewer,
        filters: dict[str, str] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort: str = "relevance",
    ) -> SearchResults:
        check_sort(sort)
        parsed = parse_query(query)
        folded, exact = parsed.folded, parsed.exact
        filters = filters or {}
        keys = viewer.keys()
        for name in filters:
            if name not in FACETS:
                raise ValueError(f"unknown filter {name!r}; use one of {', '.join(FACETS)}")
        db = self._db
        with self._lock:
            db.execute("BEGIN")
            try:
                snap = self._snapshot()
                mask = self._filter_mask(snap, filters)
                scope = snap.everyone if keys is None else self._visible(snap, keys)
                if keys is not None:
                    mask &= scope.seen
                scores = None
                if folded:
                    mask, scores = self._match(scope, mask, folded, exact)
                    if parsed.phrases:
                        keep_phrases(self._db, mask, parsed.phrases)
                matched = np.flatnonzero(mask)
                total = len(matched)
                facets = self._facets(snap, matched) if total else {}
                if sort != "relevance":
                    snap.dates = snap.dates or read_dates(db, len(mask))
                    rids = by_date(snap.dates, matched, scores, sort, limit + offset)[offset:]
                    unscored = np.zeros(len(mask), np.float32)  # a listing
                    hits = self._hits(rids, unscored if scores is None else scores, folded)
                elif scores is not None:
                    proximity = self._proximity(scope, parsed)
                    rids = self._ranked(matched, scores, proximity, limit + offset)
                    hits = self._hits(rids[offset:], scores, folded)
                else:
                    hits = self._listing(filters, keys, limit, offset)
            except (ValueError, IndexError, KeyError) as e:
                # Pages SQLite reads fine holding arrays or rows that do not fit together.
                rollback(db)
                raise IndexDamaged(self.path, f"inconsistent content: {e}") from e
            except BaseException:
                rollback(db)
                raise
            db.execute("COMMIT")
        return SearchResults(query=query, total=total, hits=hits, facets=facets)

    def _snapshot(self) -> _Snapshot:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        if row is None:
            raise IndexDamaged(self.path, "its generation row is missing")
        generation = row[0]
        cached = self._snapshot_cache
        if cached is not None and cached.generation == generation:
            return cached
        rows = self._db.execute("SELECT rids, lens, facets FROM segments").fetchall()
        rids = [np.frombuffer(r[0], RID) for r in rows]
        size = 1 + max((int(r.max()) for r in rids if len(r)), default=0)
        live = np.zeros(size, bool)
        lens = np.zeros(size, np.float64)
        codes = np.zeros((len(FACETS), size), CODE)
        for seg_rids, (_, seg_lens, seg_codes) in zip(rids, rows, strict=True):
            live[seg_rids] = True
            lens[seg_rids] = np.frombuffer(seg_lens, LEN)
            codes[:, seg_rids] = np.frombuffer(seg_codes, CODE).reshape(-1, len(FACETS)).T
        dead = np.array([r[0] for r in self._db.execute("SELECT rid FROM deleted")], np.int64)
        live[dead[dead < size]] = False
        values: list[list[str | None]] = [[None] for _ in FACETS]
        code_of: list[dict[str, int]] = [{} for _ in FACETS]
        position = {name: i for i, name in enumerate(FACETS)}
        for facet, value, code in self._db.execute("SELECT facet, value, code FROM facet_codes"):
            i = position[facet]
            values[i].extend([None] * (code + 1 - len(values[i])))
            values[i][code] = value
            code_of[i][value] = code
        everyone = Scope(live, lens, every=not len(dead), keep_norm=True)
        snap = _Snapshot(generation, live, codes, values, code_of, everyone)
        self._snapshot_cache = snap
        return snap

    @staticmethod
    def _filter_mask(snap: _Snapshot, filters: dict[str, str]) -> np.ndarray:
        mask = snap.live.copy()
        for name, value in filters.items():
            i = FACETS.index(name)
            code = snap.code_of[i].get(str(value))
            if code is None:
                mask[:] = False
            else:
                mask &= snap.codes[i] == code
        return mask

    def _visible(self, snap: _Snapshot, keys: list[str]) -> Scope:
        """The live rids holding any of `keys`: read once per generation and key set."""
        wanted = tuple(keys)
        scope = snap.visible.get(wanted)
        if scope is None:
            rows = self._db.execute(
                f"SELECT rid FROM visibility WHERE key IN ({','.join('?' * len(keys))})", keys
            )
            rids = np.fromiter((r[0] for r in rows), np.int64)
            mask = np.zeros(len(snap.live), bool)
            mask[rids[rids < len(mask)]] = True
            if len(snap.visible) >= VISIBLE_MASKS:
                del snap.visible[next(iter(snap.visible))]  # the oldest
            scope = Scope(mask & snap.live, snap.everyone.lens, every=False)
            snap.visible[wanted] = scope
        return scope

    def _postings(self, col: int, term: str, size: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self._db.execute(
            "SELECT rids, freqs FROM postings WHERE col = ? AND term = ?", (col, term)
        ).fetchall()
        if not rows:
            return np.zeros(0, RID), np.zeros(0, FREQ)
        if len(rows) == 1:
            rids, freqs = np.frombuffer(rows[0][0], RID), np.frombuffer(rows[0][1], FREQ)
        else:
            rids = np.frombuffer(b"".join(r[0] for r in rows), RID)
            freqs = np.frombuffer(b"".join(r[1] for r in rows), FREQ)
        if len(rids) and int(rids.max()) >= size:  # cannot happen inside one read transaction
            inside = rids < size
            rids, freqs = rids[inside], freqs[inside]
        return rids, freqs

    def _match(
        self, scope: Scope, mask: np.ndarray, folded: list[str], exact: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Documents holding every folded term, and their BM25 (Lucene's idf; phrases =
        folded terms weight 1 and exact terms weight EXACT_BOOST, doc length in tokens) with
        the statistics of `scope`."""
        size = len(mask)
        scores = np.zeros(size, np.float32)
        phrases = [(FOLDED, t, 1.0) for t in folded] + [(EXACT, t, EXACT_BOOST) for t in exact]
        for col, term, weight in phrases:
            rids, freqs = self._postings(col, term, size)
            if col == FOLDED:
                present = np.zeros(size, bool)
                present[rids] = True
                mask &= present
            if not len(rids):
                continue
            idf = idf_of(scope.count, scope.df(rids))
            weighted = freqs.astype(np.float32)
            if weight != 1.0:
                weighted *= np.float32(weight)
            gain = weighted * np.float32(idf * (K1 + 1))
            gain /= weighted + scope.norms(rids)
            scores[rids] += gain
        return mask, scores

    @staticmethod
    def _top(matched: np.ndarray, scores: np.ndarray, k: int) -> list[int]:
        """The k best (highest score, then lowest rid) of the matched rids."""
        if k <= 0:
            return []
        if len(matched) > k:
            part = np.argpartition(-scores, k - 1)[:k]
            # everything scoring like the k-th is a candidate for the ties rule
            cutoff = scores[part].min()
            part = np.flatnonzero(scores >= cutoff)
            matched, scores = matched[part], scores[part]
        order = np.lexsort((matched, -scores))[:k]
        return matched[order].tolist()

    def _proximity(self, scope: Scope, parsed: Query) -> Proximity | None:
        """The proximity clauses of a query of two words or more, with their words' idf over
        `scope` (the documents the viewer sees)."""
        if len(parsed.words) < 2:
            return None
        size = len(scope.seen)
        idf: dict[str, float] = {}
        tf: dict[str, np.ndarray] = {}
        for col, terms in ((FOLDED, parsed.folded), (EXACT, parsed.exact)):
            for term in terms:
                rids, freqs = self._postings(col, term, size)
                idf[term] = idf_of(scope.count, scope.df(rids))
                if col == FOLDED:
                    tf[term] = np.zeros(size, np.float32)
                    tf[term][rids] = freqs
        return Proximity.of(parsed, idf, [tf[w] for w in parsed.words], scope.all_norms())

    def _ranked(
        self,
        matched: np.ndarray,
        scores: np.ndarray,
        proximity: Proximity | None,
        k: int,
    ) -> list[int]:
        """The k best matched rids by BM25 plus proximity bonus (added to `scores`), as the
        server ranks with its proximity clauses. Reading every candidate's text costs too
        much, so candidates are rescored in order of the most they could score (BM25 + the
        bound of their bonus) until the next one cannot reach the k-th score (then the top k
        is that of rescoring them all) or RESCORE_WINDOW documents were read."""
        if proximity is None or k <= 0:
            return self._top(matched, scores[matched], k)
        best = scores[matched] + proximity.bounds(matched)
        by_best = np.lexsort((matched, -best))
        order, best = matched[by_best], best[by_best]
        done: list[int] = []
        for start in range(0, min(len(order), RESCORE_WINDOW), RESCORE_CHUNK):
            if len(done) >= k:
                kth = np.partition(scores[done], len(done) - k)[len(done) - k]
                if best[start] <= kth:
                    break
            chunk = order[start : start + RESCORE_CHUNK].tolist()
            for rid, texts in documents_texts(self._db, chunk):
                scores[rid] += proximity.score(rid, *spaced_texts(texts))
            done += chunk
        rescored = np.array(done, np.int64)
        top = self._top(rescored, scores[rescored], k)
        # Beyond the window (a query of common words), the rest keep their BM25 and follow.
        rest = order[len(done) : len(done) + k]
        return (top + rest.tolist())[:k]

    def _facets(self, snap: _Snapshot, matched: np.ndarray) -> dict[str, dict[str, int]]:
        facets: dict[str, dict[str, int]] = {}
        codes = snap.codes[:, matched]
        for i, name in enumerate(FACETS):
            counts = np.bincount(codes[i], minlength=len(snap.values[i]))
            counts[0] = 0  # documents without a value
            present = np.flatnonzero(counts)
            if not len(present):
                continue
            pairs = sorted(
                ((int(counts[c]), snap.values[i][c]) for c in present.tolist()),
                key=lambda p: (-p[0], p[1]),
            )
            facets[name] = {value: n for n, value in pairs[:FACET_SIZE]}
        return facets

    def _hits(self, rids: list[int], scores: np.ndarray, folded: list[str]) -> list[SearchHit]:
        if not rids:
            return []
        marks = ",".join("?" * len(rids))
        rows = {
            r[0]: r
            for r in self._db.execute(
                f"SELECT {_HIT_COLUMNS} FROM documents WHERE rid IN ({marks})",
                rids,
            )
        }
        pages: dict[int, list[tuple[int, str]]] = {}
        for rid in rids:
            first, last = page_keys(rid)
            pages[rid] = [
                (key - first, text)
                for key, text in self._db.execute(
                    "SELECT key, text FROM pages WHERE key BETWEEN ? AND ?", (first, last)
                )
            ]
        return [
            self._hit(rows[rid], float(scores[rid]), pages.get(rid, []), folded) for rid in rids
        ]

    def _listing(
        self, filters: dict[str, str], keys: list[str] | None, limit: int, offset: int
    ) -> list[SearchHit]:
        """No query terms: the matching documents the viewer sees, by name."""
        conditions = [f"{name} = ?" for name in filters]
        if keys is not None:
            marks = ",".join("?" * len(keys))
            conditions.append(f"rid IN (SELECT rid FROM visibility WHERE key IN ({marks}))")
        where = " AND ".join(conditions) or "1"
        rows = self._db.execute(
            f"SELECT {_HIT_COLUMNS} FROM documents "
            f"WHERE {where} ORDER BY source_name, id LIMIT ? OFFSET ?",
            [*(str(v) for v in filters.values()), *(keys or ()), limit, offset],
        ).fetchall()
        return [self._hit(row, 0.0, [], []) for row in rows]

    @staticmethod
    def _hit(
        row: tuple, score: float, pages: list[tuple[int, str]], folded: list[str]
    ) -> SearchHit:
        _, doc_id, source_name, status, page_count, metadata, failed_pages = row
        hits = (
            [
                PageHit(page_no, snippet.text, snippet.spans)
                for page_no, snippet in best_pages(pages, folded, MAX_PAGES_PER_HIT)
            ]
            if folded
            else []
        )
        return SearchHit(
            doc_id=doc_id,
            score=score,
            source_name=source_name,
            status=status,
            page_count=page_count,
            metadata=json.loads(metadata),
            pages=hits,
            failed_pages=json.loads(failed_pages or "[]"),
        )
