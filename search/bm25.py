"""The statistics BM25 takes over a set of documents (SqliteIndex): how many hold a term, how
many there are, their average length. A restricted viewer's are taken over the documents it
sees, so neither its scores nor their order depend on records it may not see (docs/access.md,
"What a search can still reveal")."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

K1, B = 1.2, 0.75  # BM25 parameters of both backends (FTS5 and Lucene defaults)


def idf_of(count: int, df: int) -> float:
    """Lucene's BM25 idf, as the server backend scores: positive for every term, however
    common (FTS5's log((N - df + 0.5) / (df + 0.5)) is zero or negative for a term in half the
    documents, which left a query of common words, and its proximity bonus, without a score)."""
    return math.log(1 + (count - df + 0.5) / (df + 0.5))


@dataclass
class Scope:
    """The documents BM25 counts over: every live one (`keep_norm`: the length normalisation
    of every document computed once), or those one viewer sees (normalised per term: one
    array per cached viewer would cost as much memory as the index's own)."""

    seen: np.ndarray  # bool by rid
    lens: np.ndarray  # float64 document length in tokens by rid
    every: bool  # every rid a posting holds is seen (no deleted one): df = postings' length
    keep_norm: bool = False

    def __post_init__(self) -> None:
        self.count = int(self.seen.sum())
        self.avgdl = max(float(self.lens[self.seen].sum() / self.count) if self.count else 1, 1)
        self.norm = self._norm(self.lens) if self.keep_norm else None

    def df(self, rids: np.ndarray) -> int:
        """How many seen documents of `rids` (a term's postings) there are."""
        return len(rids) if self.every else int(np.count_nonzero(self.seen[rids]))

    def norms(self, rids: np.ndarray) -> np.ndarray:
        """k1 * (1 - b + b * len / avgdl) of `rids`, float32."""
        return self.norm[rids] if self.norm is not None else self._norm(self.lens[rids])

    def all_norms(self) -> np.ndarray:
        """k1 * (1 - b + b * len / avgdl) of every rid, float32."""
        return self.norm if self.norm is not None else self._norm(self.lens)

    def _norm(self, lens: np.ndarray) -> np.ndarray:
        return (K1 * (1 - B + B * lens / self.avgdl)).astype(np.float32)
