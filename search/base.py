from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from schemas.models import Document
from search.fold import _TABLE, _TABLE_END, fold

FACETS = ("organ", "level", "type", "year", "signer", "dossier", "needs_review", "status")


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
        filters: dict[str, str] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> SearchResults: ...

    def count(self) -> int: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


def facet_values(doc: Document) -> dict[str, str | None]:
    """The facet fields of a document, as both backends store them."""
    meta = doc.metadata
    issued = meta.issued_date.value
    year = str(issued)[:4] if issued else None
    return {
        "organ": meta.organ_name.value,
        "level": meta.organ_level.value,
        "type": meta.type_name.value,
        "year": year,
        "signer": meta.signer_name.value,
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


_BEYOND_TABLE = re.compile(f"[{chr(_TABLE_END)}-\U0010ffff]")


def fold_text(text: str) -> str:
    """fold() of a long NFC text (a whole record when indexing), without fold()'s max() scan:
    one translate when no character lies beyond fold's table, else fold() itself."""
    if _BEYOND_TABLE.search(text):
        return fold(text)
    return text.translate(_TABLE)
