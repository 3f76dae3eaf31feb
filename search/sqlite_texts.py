"""The texts of SqliteIndex documents, read for what postings cannot tell: whether a quoted
phrase stands in one of them, and how close the query words stand (search/sqlite.py says why
the index keeps no word positions). Page rows are keyed rid << PAGE_BITS | page_no."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import numpy as np

from search.words import folded_documents, has_phrase

PAGE_BITS = 20  # pages are rows rid << 20 | page_no: up to a million pages per document
PHRASE_BATCH = 500  # candidate documents read at once by the phrase check


def page_keys(rid: int) -> tuple[int, int]:
    """The first and last page row keys of document `rid`."""
    first = rid << PAGE_BITS
    return first, first + (1 << PAGE_BITS) - 1


def texts_of(db: sqlite3.Connection, rid: int, source_name: str, metadata: str) -> list[str]:
    """A document's searchable texts, each on its own: a phrase stands inside one (no phrase
    across a page break, or from one metadata string into the next)."""
    texts = [source_name]
    for value in json.loads(metadata).values():
        texts.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    first, last = page_keys(rid)
    rows = db.execute("SELECT text FROM pages WHERE key BETWEEN ? AND ?", (first, last))
    texts += [text for (text,) in rows]
    return texts


def documents_texts(db: sqlite3.Connection, rids: list[int]) -> Iterator[tuple[int, list[str]]]:
    for start in range(0, len(rids), PHRASE_BATCH):
        batch = rids[start : start + PHRASE_BATCH]
        marks = ",".join("?" * len(batch))
        for rid, source_name, metadata in db.execute(
            f"SELECT rid, source_name, metadata FROM documents WHERE rid IN ({marks})", batch
        ):
            yield rid, texts_of(db, rid, source_name, metadata)


def keep_phrases(db: sqlite3.Connection, mask: np.ndarray, phrases: list[tuple[str, ...]]) -> None:
    """Drop from `mask` the candidates where some phrase stands in none of the texts."""
    candidates = np.flatnonzero(mask).tolist()
    for start in range(0, len(candidates), PHRASE_BATCH):
        batch = list(documents_texts(db, candidates[start : start + PHRASE_BATCH]))
        folded = folded_documents([texts for _, texts in batch])
        for (rid, _), spaced in zip(batch, folded, strict=True):
            if not all(has_phrase(spaced, p) for p in phrases):
                mask[rid] = False
