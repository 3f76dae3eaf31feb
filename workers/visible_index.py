"""The search index as the workers see it: each document's visibility attached as it is
written, so whatever indexes a record (a worker, a dossier change, `sohoa reindex`) indexes who
may see it (schemas.access)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from schemas.access import Viewer, Visibility
from schemas.models import Document
from search.base import SearchIndex, SearchResults
from storage.access import AccessBook


def visibility_of(book: AccessBook, doc: Document) -> Visibility:
    """A record's own visibility; a document cut from a scan also inherits the scan's."""
    own = book.visibility(doc.id)
    if doc.source_id is None:
        return own
    source = book.visibility(doc.source_id)
    owner = own.owner if book.has_owner(doc.id) else source.owner
    return Visibility(owner, own.organs | source.organs, own.public or source.public)


class VisibleIndex:
    """A SearchIndex that attaches visibility to what it indexes."""

    def __init__(self, inner: SearchIndex, book: AccessBook) -> None:
        self.inner = inner
        self.book = book

    def _attached(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            doc.visibility = visibility_of(self.book, doc)
            yield doc

    def index(self, docs: Iterable[Document]) -> int:
        """A record merged as the rescan of another (workers/duplicates.py) is never searched,
        whatever indexes it again (a correction, a share, a dossier): it leaves the index.
        (Deleted before the others are written: not inside the index's write.)"""
        searched = []
        for doc in docs:
            if doc.rescan_of is not None:
                self.inner.delete(doc.id)
            else:
                searched.append(doc)
        return self.inner.index(self._attached(searched))

    def rebuild(self, docs: Iterable[Document]) -> int:
        return self.inner.rebuild(self._attached(doc for doc in docs if doc.rescan_of is None))

    def delete(self, doc_id: str) -> None:
        self.inner.delete(doc_id)

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
        return self.inner.search(
            query, viewer=viewer, filters=filters, limit=limit, offset=offset, sort=sort
        )

    def count(self) -> int:
        return self.inner.count()

    def clear(self) -> None:
        self.inner.clear()

    def close(self) -> None:
        self.inner.close()
