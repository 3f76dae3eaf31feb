"""Fingerprints and probable-duplicate pairs as small objects in an ObjectStore (issue 20).

Lookup is by key prefix, never by reading every record, and works alike on both stores:

    fingerprints/docs/<doc_id>.json            the document's page fingerprints, DocumentId
    fingerprints/<kind>/<band>/<doc_id>        empty: a page of <doc_id> has this LSH band
    fingerprints/docid/<digest>/<doc_id>       empty: <doc_id> carries this DocumentId
    duplicates/pairs/<a>_<b>.json              a pair (ids sorted), its evidence and state
    duplicates/open/<a>_<b>                    empty while the pair waits for a person
    duplicates/of/<doc_id>/<other_id>          empty: the link, both ways
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from pydantic import BaseModel, Field

from schemas.errors import NotFound
from schemas.models import utcnow
from storage.base import ObjectStore

FINGERPRINTS = "fingerprints/"
PAIRS = "duplicates/pairs/"
OPEN = "duplicates/open/"
LINKS = "duplicates/of/"
DECISION_LOCK = "locks/duplicates/decisions"  # held while a person's merge or dismissal is made
# Band keys are written and listed this many at a time: on S3 each is a request whose wait,
# not its work, is the cost (bench/duplicates_store.py, docs/benchmarks.md).
REQUESTS_AT_ONCE = 8


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


class DuplicateBook:
    def __init__(self, store: ObjectStore, at_once: int = REQUESTS_AT_ONCE) -> None:
        self.store = store
        self.at_once = at_once

    def _each(self, call: Callable[[str], object], keys: list[str]) -> list:
        """`call` on every key, `at_once` of them at a time; results in the keys' order."""
        if self.at_once <= 1 or len(keys) <= 1:
            return [call(key) for key in keys]
        with ThreadPoolExecutor(min(self.at_once, len(keys))) as pool:
            return list(pool.map(call, keys))

    # ------------------------------------------------------------ fingerprints

    def put_fingerprints(self, prints: Fingerprints, bands: dict[str, Iterable[str]]) -> None:
        """The document's fingerprints, then one empty object per band key (`kind -> keys`)
        and for its DocumentId, so look-alikes find it by listing."""
        doc_id = prints.doc_id
        self.store.put_bytes(f"{FINGERPRINTS}docs/{doc_id}.json", prints.model_dump_json().encode())
        markers = [
            f"{FINGERPRINTS}{kind}/{band}/{doc_id}"
            for kind, keys in bands.items()
            for band in sorted(set(keys))
        ]
        if prints.document_id:
            markers.append(f"{FINGERPRINTS}docid/{_docid_digest(prints.document_id)}/{doc_id}")
        self._each(lambda key: self.store.put_bytes(key, b""), markers)

    def fingerprints(self, doc_id: str) -> Fingerprints | None:
        try:
            raw = self.store.get_bytes(f"{FINGERPRINTS}docs/{doc_id}.json")
        except NotFound:
            return None
        return Fingerprints.model_validate_json(raw)

    def sharing_bands(self, kind: str, bands: Iterable[str]) -> Counter[str]:
        """Documents with a page in any of the bands, and how many of the bands each shares."""
        prefixes = [f"{FINGERPRINTS}{kind}/{band}/" for band in sorted(set(bands))]
        listed = self._each(lambda prefix: list(self.store.list(prefix)), prefixes)
        found: Counter[str] = Counter()
        for prefix, keys in zip(prefixes, listed, strict=True):
            found.update(key[len(prefix) :] for key in keys)
        return found

    def with_document_id(self, document_id: str) -> list[str]:
        prefix = f"{FINGERPRINTS}docid/{_docid_digest(document_id)}/"
        return [key[len(prefix) :] for key in self.store.list(prefix)]

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
