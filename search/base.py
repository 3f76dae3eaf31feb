from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from schemas.access import Viewer
from schemas.fields import FACETED
from schemas.models import Document

# Facets (filter and count names) in the order both indexes store them: SQLite keeps one code
# per facet in this order. Those of metadata fields come from the field table
# (`schemas.fields`); a new one is appended here with a SCHEMA_VERSION bump in both backends.
FACETS = ("organ", "level", "type", "year", "signer", "dossier", "needs_review", "status")
DOCUMENT_FACETS = ("dossier", "needs_review", "status")  # of the record, not of its metadata
EXACT_BOOST = 2.0  # exact (accented) terms weigh this much more than folded ones in ranking
MAX_PAGES_PER_HIT = 3  # pages shown with snippets under one hit
FACET_SIZE = 50  # values per facet, most frequent first
# Orders of hits: BM25 (listings: by file name), or by issued date newest or oldest first.
# By date, documents without one come last either way; ties go by relevance, then id.
SORTS = ("relevance", "date", "date_asc")
EPOCH = date(1970, 1, 1)
# Hits a search reaches: OpenSearch answers offset + limit up to 10,000 (index.max_result_window)
# and SQLite overflowed on a huge offset; GET /search and `sohoa search` stop at MAX_OFFSET.
RESULT_WINDOW = 10_000
MAX_OFFSET = RESULT_WINDOW - 200  # the API's largest page (limit 200) still fits


@dataclass
class PageHit:
    page_no: int
    snippet: str
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class SearchHit:
    doc_id: str
    score: float
    source_name: str
    status: str
    page_count: int
    metadata: dict[str, Any]
    pages: list[PageHit] = field(default_factory=list)
    failed_pages: list[int] = field(default_factory=list)  # of a `partial` document


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class SearchIndex(Protocol):
    """A rebuildable index over `Document` records; storage stays the source of truth."""

    def index(self, docs: Iterable[Document]) -> int:
        """Add or replace documents; returns how many were indexed."""
        ...

    def rebuild(self, docs: Iterable[Document]) -> int:
        """Replace the whole index with `docs`, with no moment where searches find nothing."""
        ...

    def delete(self, doc_id: str) -> None: ...

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
        """Documents matching `query` and `filters` among those `viewer` sees: the visibility
        filter is part of the query, so totals and facets count only those (no way to learn
        of a document by its counts). A document indexed without visibility: admins only.
        `sort` is one of SORTS (ValueError otherwise)."""
        ...

    def count(self) -> int: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


def check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")


def issued_day(value: Any) -> int | None:
    """An issued date (a date, or ISO text as a stored record holds it) as days since
    1970-01-01; None for no date or one that does not read as a date (the server index
    ignores those too: `ignore_malformed`)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(str(value)[:10])  # a datetime too: its date
    except ValueError:
        return None
    return (day - EPOCH).days


def facet_values(doc: Document) -> dict[str, str | None]:
    """The facet fields of a document, as both backends store them."""
    meta = doc.metadata
    return {
        **{name: f.facet_value(getattr(meta, f.name).value) for name, f in FACETED.items()},
        "dossier": doc.dossier,
        "needs_review": "true" if meta.needs_review else "false",
        "status": doc.status.value,
    }


def failed_page_numbers(doc: Document) -> list[int]:
    """Pages of the document that failed, as both backends store them with a hit."""
    return [p.page_no for p in doc.failed_pages]


def metadata_text(doc: Document) -> str:
    """Metadata strings searched along with the page text."""
    parts = [doc.source_name]
    for value in doc.metadata.values().values():
        parts.extend(value if isinstance(value, list) else [str(value)])
    return "\n".join(parts)
