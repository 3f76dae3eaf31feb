"""Proximity ranking of SqliteIndex, scored as the server backend scores its proximity clauses
(`search.elastic._proximity`: a `match_phrase` with slop for each pair of consecutive query
words, one for the whole query) but on a document's text instead of word positions: BM25 of
each phrase (Lucene: the sum of its words' idf × the saturated sloppy frequency, the
document's length normalisation), added to the BM25 of the words. A known item, whose trích
yếu stands in its subject and in its page header, then beats records that mention the same
words together once in their prose — a presence-only bonus could not tell them apart."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from search.base import EXACT_BOOST
from search.bm25 import K1
from search.words import PROXIMITY_BOOST, WHOLE, Query, pair_frequencies, phrase_frequency


def saturated(freq: np.ndarray | float, norm: np.ndarray | float) -> np.ndarray | float:
    return freq * (K1 + 1) / (freq + norm)


@dataclass
class Clauses:
    """The proximity clauses of one query on one field (folded or exact words), as ElasticIndex
    sends them (`search.elastic._proximity`): one per distinct pair of consecutive words, and
    the whole query (three words or more) weighing WHOLE more."""

    words: list[str]
    pair_idf: list[float]  # Lucene's phrase weight: the sum of its words' idf
    whole_idf: float  # 0: no whole-query clause
    boost: float

    @classmethod
    def of(cls, words: list[str], idf: dict[str, float], boost: float) -> Clauses:
        pairs = dict.fromkeys(zip(words, words[1:], strict=False))
        whole = WHOLE * sum(idf[w] for w in words) if len(words) > 2 else 0.0
        return cls(words, [idf[a] + idf[b] for a, b in pairs], whole, boost)

    def score(self, spaced: str, norm: float) -> float:
        """BM25 of the clauses (phrase frequency saturated, the document's length norm)."""
        freqs = pair_frequencies(spaced, self.words)
        total = sum(w * saturated(f, norm) for w, f in zip(self.pair_idf, freqs, strict=True))
        if self.whole_idf:
            total += self.whole_idf * saturated(phrase_frequency(spaced, self.words), norm)
        return self.boost * total

    def bound(self, tfs: list[np.ndarray], norm: np.ndarray) -> np.ndarray:
        """The most `score` can give each document, from the frequencies of the words (`tfs`,
        one array per word, folded: an exact word is never more frequent than its fold): a pair
        stands no more often than its rarer word."""
        total = np.zeros_like(norm)
        at = {w: i for i, w in enumerate(self.words)}
        pairs = dict.fromkeys(zip(self.words, self.words[1:], strict=False))
        for weight, (a, b) in zip(self.pair_idf, pairs, strict=True):
            total += weight * saturated(np.minimum(tfs[at[a]], tfs[at[b]]), norm)
        if self.whole_idf:
            least = np.minimum.reduce([tfs[at[w]] for w in self.words])
            total += self.whole_idf * saturated(least, norm)
        return self.boost * total


@dataclass
class Proximity:
    """A query's proximity clauses on both fields, scored on one document or bounded on many."""

    clauses: list[Clauses]
    tfs: list[np.ndarray]  # folded frequency of each query word (as typed), by rid
    norm: np.ndarray  # the snapshot's BM25 length normalisation, by rid

    @classmethod
    def of(
        cls, parsed: Query, idf: dict[str, float], tfs: list[np.ndarray], norm: np.ndarray
    ) -> Proximity:
        """Folded clauses, and exact ones weighing EXACT_BOOST more, as the server's."""
        clauses = [
            Clauses.of(parsed.words, idf, PROXIMITY_BOOST),
            Clauses.of(parsed.exact_words, idf, PROXIMITY_BOOST * EXACT_BOOST),
        ]
        return cls(clauses, tfs, norm)

    def score(self, rid: int, folded: str, exact: str) -> float:
        folded_clauses, exact_clauses = self.clauses
        norm = float(self.norm[rid])
        return folded_clauses.score(folded, norm) + exact_clauses.score(exact, norm)

    def bounds(self, rids: np.ndarray) -> np.ndarray:
        tfs = [tf[rids] for tf in self.tfs]
        return sum(c.bound(tfs, self.norm[rids]) for c in self.clauses)
