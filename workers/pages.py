"""A page's words, read from its stored page result when they are needed (issue 17).

A document's record holds one summary per page (status, source, text, confidence, flags,
`word_count`, `result_key`); the words and key-zone reads of a page stay in the page result
the OCR or text-layer step stored (`pages/<id>/NNNN.json`). Readers load them one page at a
time, so memory follows the pages in flight, not the pages in the document. Records written
before round 13 hold the words inline: those pages are returned as they are.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from pydantic import ValidationError

from pipeline.layout import PageLines, page_lines
from schemas.errors import NotFound
from schemas.models import PageResult
from storage.keys import page_key
from workers.services import Services

log = logging.getLogger("sohoa.workers")


def result_key_of(doc_id: str, page: PageResult) -> str:
    """Where the page's words are stored: its own key, else the document's page result."""
    return page.result_key or page_key(doc_id, page.page_no)


def full_page(services: Services, doc_id: str, page: PageResult) -> PageResult:
    """`page` with its words and zones. A summary's words are read from its stored page
    result (the page number stays the summary's: a cut document numbers its pages anew);
    an old record's page, or one with no words, is returned as it is. A page result gone
    from the store, or damaged, gives the summary (its text still searchable, no word boxes)."""
    if page.words or not page.has_words:
        return page
    stored = _stored(services, result_key_of(doc_id, page)) or _own_copy(services, doc_id, page)
    return page if stored is None else _as(page, stored)


def _own_copy(services: Services, doc_id: str, page: PageResult) -> PageResult | None:
    """A part's page whose scan is not here (a part's archive bag restored alone) has a copy
    of its result under its own page number (workers/archive_export.py)."""
    own = page_key(doc_id, page.page_no)
    if page.result_key is None or page.result_key == own or not services.store.exists(own):
        return None
    return _stored(services, own)


def _stored(services: Services, key: str) -> PageResult | None:
    try:
        return PageResult.model_validate_json(services.store.get_bytes(key))
    except NotFound:
        log.warning("page result %s is missing: its page has no word boxes", key)
        return None
    except (ValidationError, ValueError):
        # a damaged data folder: the record's summary (text, status) still stands
        log.warning("page result %s does not read: its page has no word boxes", key)
        return None


def _as(summary: PageResult, stored: PageResult) -> PageResult:
    """The stored page under the summary's number (the words list itself is shared)."""
    if stored.page_no == summary.page_no:
        return stored
    return stored.model_copy(update={"page_no": summary.page_no})


class PageReader:
    """The pages of one document with their words, for `describe`: the last `keep` pages
    read stay loaded with their lines, so the pages found to start a document are not read
    twice and their lines are computed once for `find_document_starts` and the metadata of
    the part (what `SharedLines` did in round 12, for a record holding every word), while
    memory holds `keep` pages, whatever the document's length."""

    def __init__(self, services: Services, doc_id: str, keep: int = 8) -> None:
        self.services, self.doc_id, self.keep = services, doc_id, keep
        self._pages: OrderedDict[str, PageResult] = OrderedDict()
        self._lines: OrderedDict[tuple[int, int, int], tuple[list, PageLines]] = OrderedDict()
        self._pinned: dict[str, PageResult] = {}
        self._pinned_lines: tuple[list, PageLines] | None = None
        self.unreadable: set[str] = set()  # page results gone or damaged, read without words

    def pin(self, page: PageResult) -> None:
        """Keep `page` (and its lines) loaded until the next pin, however many pages are
        read meanwhile: the first page of the document being read, needed again for its
        metadata when the next document begins."""
        full = self.full(page)
        self._pinned = {result_key_of(self.doc_id, page): full} if full.words else {}
        known = self._lines.get((id(full.words), full.width_px, full.height_px))
        self._pinned_lines = known if known is not None and known[0] is full.words else None

    def full(self, page: PageResult) -> PageResult:
        if page.words or not page.has_words:
            return page
        key = result_key_of(self.doc_id, page)
        stored = self._pinned.get(key)
        if stored is None and key in self._pages:
            self._pages.move_to_end(key)
            stored = self._pages[key]
        elif stored is None:
            stored = _stored(self.services, key) or _own_copy(self.services, self.doc_id, page)
            if stored is None:
                self.unreadable.add(key)
                return page
            _remember(self._pages, key, stored, self.keep)
        return _as(page, stored)

    def iter_full(self, pages: Iterable[PageResult]) -> Iterator[PageResult]:
        for page in pages:
            yield self.full(page)

    def lines(self, page: PageResult) -> PageLines:
        """`page_lines(page)`, known by its words list (a page whose numerals were recounted
        has a new list, so lines of its own) and size; the list is held with its lines, so
        its id is never another list's meanwhile."""
        key = (id(page.words), page.width_px, page.height_px)
        known = self._lines.get(key)
        if known is not None and known[0] is page.words:
            self._lines.move_to_end(key)
            return known[1]
        pinned = self._pinned_lines
        if pinned is not None and pinned[0] is page.words and _sized(pinned[1], page):
            return pinned[1]
        lines = page_lines(page)
        _remember(self._lines, key, (page.words, lines), self.keep)
        if any(p.words is page.words for p in self._pinned.values()):
            self._pinned_lines = (page.words, lines)
        return lines


def _sized(lines: PageLines, page: PageResult) -> bool:
    """Lines laid out for this page's size (page_lines falls back to the words' extent)."""
    return (not page.width_px or lines.width == page.width_px) and (
        not page.height_px or lines.height == page.height_px
    )


def _remember(cache: OrderedDict, key: object, value: object, keep: int) -> None:
    cache[key] = value
    if len(cache) > keep:
        cache.popitem(last=False)
