"""The date sorts of SqliteIndex: issued dates by rid, read once per index generation from the
(issued, id) index of `documents`, and the matched rids ordered by them with numpy."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np


@dataclass
class Dates:
    """Issued dates by rid."""

    day: np.ndarray  # int32 days since 1970-01-01
    dated: np.ndarray  # bool: has a date (documents without one sort last)
    rank: np.ndarray  # int64 place in (issued, id) order: on the same day, by id


def read_dates(db: sqlite3.Connection, size: int) -> Dates:
    """The dates of rids below `size`: one scan of the covering (issued, id) index."""
    rows = db.execute("SELECT rid, issued FROM documents ORDER BY issued, id").fetchall()
    rids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    issued = [r[1] for r in rows]
    inside = rids < size  # cannot happen inside one read transaction
    dated = np.zeros(size, bool)
    dated[rids[inside]] = np.array([d is not None for d in issued], bool)[inside]
    day = np.zeros(size, np.int32)
    day[rids[inside]] = np.array([d or 0 for d in issued], np.int32)[inside]
    rank = np.zeros(size, np.int64)
    rank[rids[inside]] = np.flatnonzero(inside)
    return Dates(day, dated, rank)


def by_date(
    dates: Dates, matched: np.ndarray, scores: np.ndarray | None, sort: str, k: int
) -> list[int]:
    """The k first `matched` rids by issued date (`date`: newest first, `date_asc`: oldest),
    documents without one last either way; on the same day by score (BM25), then by id, so
    pages follow one another without a gap or a repeat."""
    days = dates.day[matched].astype(np.int64)
    relevance = -scores[matched] if scores is not None else np.zeros(len(matched), np.float32)
    keys = (dates.rank[matched], relevance, days if sort == "date_asc" else -days)
    order = np.lexsort((*keys, ~dates.dated[matched]))[:k]  # the last key sorts first
    return matched[order].tolist()
