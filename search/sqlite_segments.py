"""Writing SqliteIndex segments: the terms of a document, and the postings and per-document
columns of one new segment (search/sqlite.py describes the layout)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

from schemas.models import Document
from schemas.text import fold, nfc
from search.base import metadata_text
from search.words import tokens

MERGE_FACTOR = 8  # merge when this many segments share a size level
FOLDED, EXACT = 0, 1  # postings columns: folded terms, exact (lower-case NFC) terms
RID = np.dtype("<u4")
FREQ = np.dtype("<u2")
LEN = np.dtype("<u4")
CODE = np.dtype("<i4")


def document_terms(doc: Document) -> tuple[Counter[str], Counter[str], int]:
    """(folded term counts, exact term counts, number of terms) of everything searchable in a
    record: the words of the lower-cased text, and those words folded, as ElasticIndex has the
    server cut them."""
    words = " ".join(tokens(nfc(metadata_text(doc) + "\n" + doc.text).lower()))
    exact = words.split()
    # fold() maps each character to one character and keeps spaces: folding the joined words
    # folds every word, in one pass.
    return Counter(fold(words).split()), Counter(exact), len(exact)


def level(docs: int) -> int:
    return int(math.log(max(docs, 1), MERGE_FACTOR))


class SegmentWriter:
    """Collects the postings and per-document columns of one new segment."""

    def __init__(self, seg: int) -> None:
        self.seg = seg
        self.rids: list[int] = []
        self.lens: list[int] = []
        self.codes: list[int] = []
        self.terms: tuple[list[str], list[str]] = ([], [])
        self.term_rids: tuple[list[int], list[int]] = ([], [])
        self.freqs: tuple[list[int], list[int]] = ([], [])

    def add(self, rid: int, codes: list[int], doc_terms: tuple) -> None:
        folded, exact, length = doc_terms
        self.rids.append(rid)
        self.lens.append(length)
        self.codes.extend(codes)
        for col, counts in ((FOLDED, folded), (EXACT, exact)):
            self.terms[col].extend(counts.keys())
            self.freqs[col].extend(counts.values())
            self.term_rids[col].extend([rid] * len(counts))

    def __len__(self) -> int:
        return len(self.rids)

    def segment_row(self) -> tuple:
        return (
            level(len(self.rids)),
            len(self.rids),
            np.asarray(self.rids, RID).tobytes(),
            np.asarray(self.lens, LEN).tobytes(),
            np.asarray(self.codes, CODE).tobytes(),
            self.seg,
        )

    def posting_rows(self) -> Iterable[tuple]:
        for col in (FOLDED, EXACT):
            yield from _group_postings(
                col, self.seg, self.terms[col], self.term_rids[col], self.freqs[col]
            )


def _group_postings(
    col: int, seg: int, terms: list[str], rids: list[int], freqs: list[int]
) -> Iterable[tuple]:
    """Rows (col, term, seg, rids, freqs) from parallel lists, rids ascending per term."""
    if not terms:
        return
    ids = dict.fromkeys(terms)
    for i, term in enumerate(ids):
        ids[term] = i
    term_ids = np.fromiter(map(ids.__getitem__, terms), np.int64, len(terms))
    rid_arr = np.asarray(rids, np.int64)
    order = np.lexsort((rid_arr, term_ids))
    term_ids = term_ids[order]
    rid_bytes = rid_arr[order].astype(RID)
    freq_arr = np.minimum(np.asarray(freqs, np.int64)[order], 65535).astype(FREQ)
    cuts = np.flatnonzero(np.diff(term_ids)) + 1
    starts = np.concatenate(([0], cuts)).tolist()
    ends = np.concatenate((cuts, [len(term_ids)])).tolist()
    names = list(ids)
    first_ids = term_ids[starts].tolist()
    for start, end, tid in zip(starts, ends, first_ids, strict=True):
        yield (
            col,
            names[tid],
            seg,
            rid_bytes[start:end].tobytes(),
            freq_arr[start:end].tobytes(),
        )
