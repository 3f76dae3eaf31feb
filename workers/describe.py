"""After OCR: read each document's administrative metadata; cut multi-document scans.

A box scan often holds many documents. Each one found gets its own record (id derived from the
scan and its page range, so a rerun finds the same ids), its own slice of the searchable PDF
and its own metadata; the scan's record lists them as its parts and stays the original.
Values a person set or confirmed win over every new reading (workers/review.keep_edits).
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

from pipeline.lexicon import WordPairs, word_pairs
from pipeline.metadata import VIETNAM, extract_metadata
from pipeline.pdf import PagePart, assemble
from pipeline.starts import iter_document_starts
from schemas.errors import DamagedRecord, PageResultsMissing
from schemas.models import (
    Document,
    DocumentStatus,
    PageResult,
    PageSource,
    page_ranges_text,
    split_document_id,
)
from storage.base import put_all
from storage.keys import pages_prefix, pdf_key
from workers.pages import PageReader, result_key_of
from workers.review import keep_edits
from workers.services import Services


def _pairs(services: Services, pages: list[PageResult]) -> WordPairs | None:
    """The word pairs beside the accurate model the settings named (read once per process),
    for OCR text only: a text layer is exact, and reading the 263k pairs costs ~1.5 s of CPU
    that a born-digital batch would otherwise pay for nothing."""
    if all(page.source == PageSource.text_layer for page in pages):
        return None
    return word_pairs(services.page_options.tessdata)


def page_ranges(starts: list[int], page_count: int) -> list[tuple[int, int]]:
    """1-based inclusive ranges; pages before the first start belong to the first document."""
    starts = sorted({s for s in starts if 1 <= s <= page_count} | {1})
    ends = [s - 1 for s in starts[1:]] + [page_count]
    return list(zip(starts, ends, strict=True))


def describe(services: Services, doc: Document) -> list[Document]:
    """Fill `doc`'s metadata, or cut it into parts; returns the documents to index.

    The record holds page summaries: each page's words are read from its stored result one
    page at a time (`reader`, which keeps the last few pages and their lines, and the first
    page of the document being read), and a part is cut as soon as the next one begins, so
    its first and last pages are still loaded and laid out (read once for the starts and
    the part's metadata), whatever the scan's length."""
    _require_page_results(services, doc)
    reader = PageReader(services, doc.id)
    parts: list[Document] = []
    pending = _PartWrites(services)
    first = 1  # pages before the first start are a document of their own (page_ranges)
    for start in iter_document_starts(reader.iter_full(doc.pages), reader.lines):
        if start > first:
            parts.append(_cut(services, doc, first, start - 1, reader, pending))
            first = start
        reader.pin(doc.pages[start - 1])
    if not parts:
        find_organ = services.organs().match_header
        pairs = _pairs(services, doc.pages)
        metadata = extract_metadata(
            doc.pages,
            find_organ=find_organ,
            pairs=pairs,
            lines_of=reader.lines,
            full=reader.full,
            today=today_in_vietnam(),
        )
        _require_readable(doc, reader)
        doc.metadata = metadata
        keep_edits(doc, find_organ)
        doc.parts = []
        return [doc]
    parts.append(_cut(services, doc, first, doc.page_count, reader, pending))
    pending.flush()
    doc.parts = [part.id for part in parts]
    return [part for part in parts if part.status != DocumentStatus.failed]


def today_in_vietnam() -> date:
    """The day a record is read, where records are issued (the server's clock is UTC): a date
    after it is flagged (`extract_metadata(today=…)`)."""
    return datetime.now(VIETNAM).date()


def _require_page_results(services: Services, doc: Document) -> None:
    """Every page with words has its stored result (one listing): read without them, the
    document would lose the metadata read before and be cut differently (nothing found)."""
    summaries = [p for p in doc.pages if p.has_words and not p.words]
    if not summaries:
        return
    stored = set(services.store.list(pages_prefix(doc.id)))
    missing = [p.page_no for p in summaries if result_key_of(doc.id, p) not in stored]
    if missing:
        raise PageResultsMissing(
            f"document {doc.id[:12]}: the stored words of page(s) {page_ranges_text(missing)} "
            f"are missing ({pages_prefix(doc.id)}): its metadata is left as it was"
        )


def _require_readable(doc: Document, reader: PageReader) -> None:
    """No page was read without its words (a page result there but damaged): nothing is
    written from such a reading."""
    if reader.unreadable:
        raise PageResultsMissing(
            f"document {doc.id[:12]}: the stored words of {len(reader.unreadable)} page(s) do "
            f"not read ({sorted(reader.unreadable)[0]}): its metadata is left as it was"
        )


# The parts' records (with their PDFs when small) are written together, up to this many bytes
# at a time: one sync for all the parts of a scan instead of one per part (a born-digital
# batch made two syncfs(2) per part, 5-20 ms each on a busy disk: docs/benchmarks.md "Born-
# digital, round 15"), with memory bounded whatever the number of parts.
PART_WRITES_BYTES = 32 * 1024 * 1024


class _PartWrites:
    """The objects of the parts cut so far (each part's PDF, record, marker, in that order),
    put in place together by `flush`, before the scan's record names them as its parts."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.items: list[tuple[str, bytes]] = []
        self.size = 0

    def add(self, part: Document, first: list[tuple[str, bytes]]) -> None:
        objects = self.services.records.objects(part, first)
        self.items += objects
        self.size += sum(len(data) for _key, data in objects)
        if self.size >= PART_WRITES_BYTES:
            self.flush()

    def flush(self) -> None:
        put_all(self.services.store, self.items)
        self.items, self.size = [], 0


def _cut(
    services: Services,
    scan: Document,
    first: int,
    last: int,
    reader: PageReader,
    pending: _PartWrites,
) -> Document:
    # the part's pages are the scan's renumbered; their words stay in the scan's page results
    pages = [
        page.model_copy(
            update={
                "page_no": page.page_no - first + 1,
                "result_key": result_key_of(scan.id, page),
            }
        )
        for page in scan.pages[first - 1 : last]
    ]
    part = Document(
        id=split_document_id(scan.id, first, last),
        source_name=f"{scan.source_name} [{first}-{last}]",
        media_type="application/pdf",
        size_bytes=0,
        page_count=len(pages),
        pipeline_version=scan.pipeline_version,
        pages=pages,
        dossier=scan.dossier,
        source_id=scan.id,
        page_range=(first, last),
        metadata=extract_metadata(
            pages,
            find_organ=services.organs().match_header,
            pairs=_pairs(services, pages),
            lines_of=reader.lines,
            full=reader.full,
            today=today_in_vietnam(),
        ),
    )
    _require_readable(scan, reader)
    _keep_people_edits(services, part)
    part.size_bytes, pdf = _cut_pdf(services, scan, part)
    note = f"cut from {scan.id[:12]} ({scan.source_name}), pages {first}-{last}"
    if part.failed_pages:
        note += f"; failed {part.failed_pages_note()}"
    part.record_status(part.status_from_pages(), note)
    # the part's PDF, then its record: made durable with the other parts' (one sync)
    pending.add(part, [(pdf_key(part.id), pdf)] if pdf is not None else [])
    return part


def _keep_people_edits(services: Services, part: Document) -> None:
    """A part cut again (its scan's failed pages retried, its metadata read again) keeps what
    people decided on its earlier record, and the history entries that say who did: the
    values they set or confirmed, its merge as a rescan of another record (else it comes back
    into the search), the dossier it was filed into."""
    try:
        earlier = services.records.get(part.id)
    except DamagedRecord:
        return  # made anew, as a damaged record is on ingest
    if earlier is None:
        return
    part.rescan_of = earlier.rescan_of
    part.dossier = earlier.dossier  # filed on its own after the cut, or with its scan
    part.history = [change for change in earlier.history if change.editor is not None]
    if earlier.edited:
        part.edited = earlier.edited
        keep_edits(part, services.organs().match_header)


# A part's PDF up to this size is stored with its record (one sync for both); a larger one
# (many scanned pages) on its own, streamed from its file.
PART_PDF_WITH_RECORD = 8 * 1024 * 1024


def _cut_pdf(services: Services, scan: Document, part: Document) -> tuple[int, bytes | None]:
    """The part's own searchable PDF, cut from the scan's: its size, and its bytes when they
    are to be stored with the part's record (else stored here); (0, None) when the scan has
    no PDF."""
    if not services.store.exists(pdf_key(scan.id)) or part.page_range is None:
        return 0, None
    first, last = part.page_range
    with (
        tempfile.TemporaryDirectory(prefix="sohoa-cut-") as tmp,
        services.store.local_path(pdf_key(scan.id)) as scan_pdf,
    ):
        out = Path(tmp) / "part.pdf"
        pages = [PagePart(scan_pdf, i) for i in range(first - 1, last)]
        # A scan's PDF/A output was sanitised when it was written: its pages' content streams
        # are not parsed again for each part.
        written = assemble(pages, out, part.source_name, from_pdfa_output=scan.pdfa)
        part.pdfa, part.not_pdfa = written.pdfa, list(written.not_pdfa)
        size = out.stat().st_size
        if size <= PART_PDF_WITH_RECORD:
            return size, out.read_bytes()
        services.store.put_file(pdf_key(part.id), out)
        return size, None
