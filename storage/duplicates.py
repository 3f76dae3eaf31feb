"""Fingerprints and probable-duplicate pairs as small objects in an ObjectStore (issue 20).

Lookup is by key prefix, never by reading every record, and works alike on both stores:

    fingerprints/docs/<doc_id>.json            the document's page fingerprints, DocumentId
    fingerprints/<kind>/<band>/<doc_id>        empty: a page of <doc_id> has this LSH band
                                               (on a local folder: a row of bands.sqlite)
    fingerprints/docid/<digest>/<doc_id>       empty: <doc_id> carries this DocumentId
    duplicates/pairs/<a>_<b>.json              a pair (ids sorted), its evidence and state
    duplicates/open/<a>_<b>                    empty while the pair waits for a person
    duplicates/of/<doc_id>/<other_id>          empty: the link, both ways
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from schemas.errors import NotFound, StorageError
from schemas.models import utcnow
from storage.base import ObjectStore, put_all
from storage.local import LocalStore

FINGERPRINTS = "fingerprints/"
PAIRS = "duplicates/pairs/"
OPEN = "duplicates/open/"
LINKS = "duplicates/of/"
DECISION_LOCK = "locks/duplicates/decisions"  # held while a person's merge or dismissal is made
# Band keys are written and listed this many at a time: on S3 each is a request whose wait,
# not its work, is the cost (bench/duplicates_store.py, docs/benchmarks.md).
REQUESTS_AT_ONCE = 8
BAND_TABLE = "fingerprints/bands.sqlite"  # a local folder's band markers


class PageFingerprint(BaseModel):
    page_no: int
    image: str | None = None  # pipeline.fingerprint.image_hash
    text: list[int] | None = None  # pipeline.fingerprint.text_minhash


class Fingerprints(BaseModel):
    doc_id: str
    pages: list[PageFingerprint] = Field(default_factory=list)
    document_id: str | None = None


class PageMatch(BaseModel):
    page_no: int  # of the pair's `new` document
    other_page_no: int  # of its `existing` one
    # How alike the two pages are by each kind of fingerprint both have (0..1)
    image: float | None = None
    text: float | None = None

    @property
    def shown(self) -> str:
        """`image 0.95, text 0.91`"""
        kinds = (("image", self.image), ("text", self.text))
        return ", ".join(f"{name} {value:.2f}" for name, value in kinds if value is not None)


class Pair(BaseModel):
    """Two records found to be probably the same paper. `new` is the one ingested last."""

    new: str
    existing: str
    pages: list[PageMatch] = Field(default_factory=list)
    same_document_id: str | None = None
    state: str = "open"  # open | merged | dismissed
    found_at: datetime = Field(default_factory=utcnow)
    decided_by: str | None = None
    decided_at: datetime | None = None
    kept: str | None = None  # of a merged pair

    @property
    def key(self) -> str:
        return pair_name(self.new, self.existing)


def pair_name(a: str, b: str) -> str:
    return "_".join(sorted((a, b)))


def _docid_digest(document_id: str) -> str:
    return hashlib.sha256(document_id.encode()).hexdigest()[:32]


class BandTable:
    """A local folder's band markers as rows of one SQLite file. As files they cost a folder
    and a file per band and document, ~0.3 ms of kernel CPU each (48 for a 3-page document:
    7 of the 10 ms per page the duplicates took on the born-digital bench, docs/benchmarks.md);
    rows cost one commit per document. Markers an older sohoa wrote as files still count."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, doc_id: str, bands: dict[str, Iterable[str]]) -> None:
        self.add_many([(doc_id, bands)])

    def add_many(self, docs: list[tuple[str, dict[str, list[str]]]]) -> None:
        """Several documents' rows in one commit (one fsync of the journal, not one each)."""
        rows = [
            (kind, band, doc_id)
            for doc_id, bands in docs
            for kind, keys in bands.items()
            for band in set(keys)
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(self.path, timeout=60)) as db, db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS bands (kind TEXT, band TEXT, doc_id TEXT,"
                    " PRIMARY KEY (kind, band, doc_id)) WITHOUT ROWID"
                )
                db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?, ?)", rows)
        except sqlite3.Error as e:
            raise StorageError(f"cannot record fingerprint bands in {self.path}: {e}") from e

    def sharing(self, kind: str, bands: list[str]) -> Counter[str]:
        """Documents with a row in any of the bands, and in how many."""
        if not bands or not self.path.is_file():
            return Counter()
        marks = ", ".join("?" * len(bands))
        try:
            with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as db:
                found = db.execute(
                    f"SELECT doc_id FROM bands WHERE kind = ? AND band IN ({marks})",  # noqa: S608
                    (kind, *bands),
                )
                return Counter(doc_id for (doc_id,) in found)
        except sqlite3.Error as e:
            raise StorageError(f"cannot read fingerprint bands in {self.path}: {e}") from e


class DuplicateBook:
    def __init__(self, store: ObjectStore, at_once: int | None = None) -> None:
        self.store = store
        # On a local folder a request waits for nothing: threads there only cost their start
        # (8 started per call, two calls per document: most of the duplicates' CPU on the
        # born-digital bench, docs/benchmarks.md). S3's requests wait, so go 8 at a time.
        local = isinstance(store, LocalStore)
        if at_once is None:
            at_once = 1 if local else REQUESTS_AT_ONCE
        self.at_once = at_once
        self.band_table = BandTable(store.root / BAND_TABLE) if local else None
        # Fingerprints put inside `batch()`, written when it ends: doc_id → (prints, bands)
        self._held: dict[str, tuple[Fingerprints, dict[str, list[str]]]] | None = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Fingerprints put inside are written together when the block ends well: one
        durable write of their JSON objects and one commit of their band rows, instead of an
        fsync and a commit for each (a multi-document scan indexes its parts one after the
        other). Until then this book finds them as if stored (look-alikes among the parts of
        one scan are still caught); other books see them once the block has ended."""
        if self._held is not None:
            yield  # already batching: the outer block writes them
            return
        self._held = {}
        try:
            yield
            held, self._held = self._held, None
            self._write(list(held.values()))
        finally:
            self._held = None

    def _each(self, call: Callable[[str], object], keys: list[str]) -> list:
        """`call` on every key, `at_once` of them at a time; results in the keys' order."""
        if self.at_once <= 1 or len(keys) <= 1:
            return [call(key) for key in keys]
        with ThreadPoolExecutor(min(self.at_once, len(keys))) as pool:
            return list(pool.map(call, keys))

    # ------------------------------------------------------------ fingerprints

    def put_fingerprints(self, prints: Fingerprints, bands: dict[str, Iterable[str]]) -> None:
        """The document's fingerprints, then one empty object per band key (`kind -> keys`)
        and for its DocumentId, so look-alikes find it by listing (inside `batch()`: when
        the block ends)."""
        listed = {kind: list(keys) for kind, keys in bands.items()}
        if self._held is not None:
            self._held[prints.doc_id] = (prints, listed)
            return
        self._write([(prints, listed)])

    def _write(self, docs: list[tuple[Fingerprints, dict[str, list[str]]]]) -> None:
        """The fingerprints' objects first, made durable together, then their markers: a
        marker never names a document whose fingerprints are not stored."""
        if not docs:
            return
        put_all(
            self.store,
            [
                (f"{FINGERPRINTS}docs/{prints.doc_id}.json", prints.model_dump_json().encode())
                for prints, _ in docs
            ],
        )
        markers = []
        if self.band_table is not None:
            self.band_table.add_many([(prints.doc_id, bands) for prints, bands in docs])
        else:
            markers = [
                f"{FINGERPRINTS}{kind}/{band}/{prints.doc_id}"
                for prints, bands in docs
                for kind, keys in bands.items()
                for band in sorted(set(keys))
            ]
        markers += [
            f"{FINGERPRINTS}docid/{_docid_digest(prints.document_id)}/{prints.doc_id}"
            for prints, _ in docs
            if prints.document_id
        ]
        if self.band_table is not None:  # a local folder: made durable together
            put_all(self.store, [(key, b"") for key in markers])
        else:  # S3: each a request whose wait is the cost, several at a time
            self._each(lambda key: self.store.put_bytes(key, b""), markers)

    def fingerprints(self, doc_id: str) -> Fingerprints | None:
        if self._held and doc_id in self._held:
            return self._held[doc_id][0]
        try:
            raw = self.store.get_bytes(f"{FINGERPRINTS}docs/{doc_id}.json")
        except NotFound:
            return None
        return Fingerprints.model_validate_json(raw)

    def sharing_bands(self, kind: str, bands: Iterable[str]) -> Counter[str]:
        """Documents with a page in any of the bands, and how many of the bands each shares."""
        wanted = sorted(set(bands))
        prefixes = [f"{FINGERPRINTS}{kind}/{band}/" for band in wanted]
        listed = self._each(lambda prefix: list(self.store.list(prefix)), prefixes)
        found: Counter[str] = Counter()
        for prefix, keys in zip(prefixes, listed, strict=True):
            found.update(key[len(prefix) :] for key in keys)
        if self.band_table is not None:  # rows, beside the files an older sohoa wrote
            found.update(self.band_table.sharing(kind, wanted))
        for doc_id, (_, held) in (self._held or {}).items():
            shared = len(set(held.get(kind, ())).intersection(wanted))
            if shared:
                found[doc_id] += shared
        return found

    def with_document_id(self, document_id: str) -> list[str]:
        prefix = f"{FINGERPRINTS}docid/{_docid_digest(document_id)}/"
        stored = [key[len(prefix) :] for key in self.store.list(prefix)]
        held = [d for d, (p, _) in (self._held or {}).items() if p.document_id == document_id]
        return list(dict.fromkeys([*stored, *held]))

    # ------------------------------------------------------------ pairs

    def pair(self, a: str, b: str) -> Pair | None:
        try:
            return Pair.model_validate_json(self.store.get_bytes(f"{PAIRS}{pair_name(a, b)}.json"))
        except NotFound:
            return None

    def propose(self, pair: Pair) -> bool:
        """Record a new pair (write-once: a pair found, merged or dismissed before is never
        proposed again); True if it is new. The links and the open marker follow it."""
        if not self.store.create(f"{PAIRS}{pair.key}.json", pair.model_dump_json().encode()):
            return False
        self.store.put_bytes(f"{LINKS}{pair.new}/{pair.existing}", b"")
        self.store.put_bytes(f"{LINKS}{pair.existing}/{pair.new}", b"")
        self.store.put_bytes(f"{OPEN}{pair.key}", b"")
        return True

    def decide(self, pair: Pair) -> None:
        """A person's decision: the pair rewritten, out of the open queue."""
        self.store.put_bytes(f"{PAIRS}{pair.key}.json", pair.model_dump_json().encode())
        self.store.delete(f"{OPEN}{pair.key}")

    def open_pairs(self) -> Iterator[Pair]:
        for key in self.store.list(OPEN):
            a, _, b = key[len(OPEN) :].partition("_")
            found = self.pair(a, b)
            if found is not None and found.state == "open":
                yield found

    def linked(self, doc_id: str) -> list[str]:
        prefix = f"{LINKS}{doc_id}/"
        return [key[len(prefix) :] for key in self.store.list(prefix)]
