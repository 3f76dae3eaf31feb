"""The work of each actor, as plain functions over Services (the actors in actors.py are thin)."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.detect import PDF
from pipeline.load import (
    PageInfo,
    iter_planned_pages,
    load_scanned_page,
    page_pixels,
    plan_pages,  # noqa: F401 - bench/ocr.py times this name as a stage (planning is now in
    # _store_text_pages, one pass with the text)
)
from pipeline.page import process_scanned_page, text_page_result
from pipeline.pdf import PagePart, assemble
from schemas.errors import (
    IndexDamaged,
    NotFound,
    PageResultsMissing,
    PagesFailed,
    SohoaError,
    StepFailed,
)
from schemas.models import (
    Document,
    DocumentStatus,
    ErrorInfo,
    PageResult,
    PageStatus,
    page_ranges_text,
)
from storage.base import put_all
from storage.keys import assembly_claim_key, original_key, page_key, pages_prefix, pdf_key
from storage.records import OnDamaged
from workers.describe import describe
from workers.duplicates import flag_duplicates
from workers.fanin import PageTally
from workers.services import Services

log = logging.getLogger("sohoa.workers")

SendPage = Callable[[str, int, int], None]
SendDoc = Callable[[str], None]
# ErrorInfo.code of a finished document the index could not take (`sohoa reindex` adds it).
NOT_INDEXED = "not_indexed"


def _error(e: SohoaError) -> ErrorInfo:
    return ErrorInfo(code=e.code, message=e.message, retryable=e.retryable)


def fail_document(services: Services, doc: Document, error: SohoaError) -> None:
    doc.errors.append(_error(error))
    doc.record_status(DocumentStatus.failed, error.message)
    services.records.put(doc)
    log.warning("document %s failed: %s", doc.id[:12], error.message)


def page_done(services: Services, doc_id: str, page_no: int) -> bool:
    """The page's result is stored (done, skipped or failed): nothing to do in this run."""
    return services.store.exists(page_key(doc_id, page_no))


def stored_pages(services: Services, doc_id: str) -> set[str]:
    """The keys of every page result and page PDF of the document: one store listing."""
    return set(services.store.list(pages_prefix(doc_id)))


def pages_with_results(services: Services, doc_id: str) -> set[int]:
    """The pages whose result (the commit marker) is stored: one store listing."""
    prefix = pages_prefix(doc_id)
    return {
        int(key[len(prefix) : -len(".json")])
        for key in stored_pages(services, doc_id)
        if key.endswith(".json")
    }


def _stored_page(services: Services, doc_id: str, page_no: int) -> PageResult:
    return PageResult.model_validate_json(services.store.get_bytes(page_key(doc_id, page_no)))


def _stored_summary(services: Services, doc_id: str, page_no: int) -> PageResult:
    """`_stored_page(...).summary(key)` without making a model of every word and zone: the
    record keeps only their count, and the index step validates the words when it reads
    them (workers/pages.py). Validating ~500 words a page here cost 1.5 ms per born-digital
    page for a count (issue 17). Bytes that are not a page result still fail here."""
    key = page_key(doc_id, page_no)
    raw = json.loads(services.store.get_bytes(key))
    if not isinstance(raw, dict) or not isinstance(raw.get("words", []), list):
        raise ValueError(f"{key} is not a page result")
    words = raw.pop("words", None) or []
    raw.pop("zones", None)
    raw["word_count"] = raw.get("word_count") or len(words)
    raw["result_key"] = key
    return PageResult.model_validate(raw)


def discard_failed_pages(services: Services, doc_id: str, page_nos: set[int]) -> list[int]:
    """Forget the stored results of pages that failed, so this run does them again; the
    results of good pages stay as they are (never recomputed). `page_nos`: pages with a
    stored result. Returns the pages discarded.

    The result is deleted last: it is the commit marker, so a crash in between leaves a page
    still marked failed, and the next run discards it again."""
    discarded = []
    for page_no in sorted(page_nos):
        if _stored_page(services, doc_id, page_no).status == PageStatus.failed:
            services.store.delete(page_key(doc_id, page_no, "pdf"))
            services.store.delete(page_key(doc_id, page_no))
            discarded.append(page_no)
    return discarded


def start_document(
    services: Services,
    doc_id: str,
    send_page: SendPage,
    send_assemble: SendDoc,
    tally: PageTally | None = None,
) -> None:
    """Plan the pages, take born-digital text directly, fan out scanned pages to OCR; the
    tally starts at the pages already stored (a resumed or retried run)."""
    records = services.records
    doc = records.require(doc_id)
    if doc.status.finished:
        return
    try:
        with services.store.local_path(original_key(doc_id)) as path:
            stored = pages_with_results(services, doc_id)
            retried = discard_failed_pages(services, doc_id, stored)
            stored -= set(retried)
            plan = _store_text_pages(services, doc_id, path, doc.media_type, stored)
            stored &= {p.page_no for p in plan}
    except SohoaError as e:
        fail_document(services, doc, e)
        return
    doc.page_count = len(plan)
    doc.pipeline_version = PIPELINE_VERSION
    if doc.status != DocumentStatus.processing:
        born_digital = sum(p.has_text_layer for p in plan)
        note = (
            f"{len(plan)} pages: {born_digital} with a text layer, "
            f"{len(plan) - born_digital} to OCR"
        )
        if retried:
            note += f"; retrying failed pages {page_ranges_text(retried)}"
        doc.record_status(DocumentStatus.processing, note)
    records.put(doc)
    pending = [p for p in plan if p.page_no not in stored]
    _new_assembly(services, doc_id)
    if tally is not None:
        tally.start(doc_id, len(plan) - len(pending), len(plan))
    for page in pending:
        send_page(doc_id, page.page_no, page.dpi)
    if not pending:
        send_assemble(doc_id)


def _new_assembly(services: Services, doc_id: str) -> None:
    """This run may assemble again: the claim of an earlier run (failed pages retried) goes."""
    services.store.delete(assembly_claim_key(doc_id))


# Text-layer page results written together (durable in one go: storage.base.put_all); a
# batch holds this many pages' words in memory at most.
TEXT_PAGES_PER_WRITE = 64


def _store_text_pages(
    services: Services, doc_id: str, path: Path, media_type: str, stored: set[int]
) -> list[PageInfo]:
    """Plan the pages and, in the same pass over the file, store the results of the pages read
    from their text layer that are not in `stored` yet (their numbers are added to it);
    returns the plan."""
    plan: list[PageInfo] = []
    batch: list[tuple[str, bytes]] = []
    for info, text_page in iter_planned_pages(path, media_type, lambda n: n not in stored):
        plan.append(info)
        if text_page is None:
            continue
        if isinstance(text_page, SohoaError):
            log.warning("page %d of %s failed: %s", info.page_no, doc_id[:12], text_page.message)
            result = PageResult(
                page_no=info.page_no, status=PageStatus.failed, reason=text_page.message
            )
        else:
            result = text_page_result(text_page)
            if text_page.pdf is not None:  # legacy fonts mapped to Unicode: pipeline.legacy_pdf
                # before the result: a stored result means its page PDF is there too
                batch.append((page_key(doc_id, info.page_no, "pdf"), text_page.pdf))
        batch.append((page_key(doc_id, info.page_no), result.model_dump_json().encode()))
        stored.add(info.page_no)
        if len(batch) >= TEXT_PAGES_PER_WRITE:
            put_all(services.store, batch)
            batch = []
    put_all(services.store, batch)
    return plan


def _may_pass_on_retry(e: Exception) -> bool:
    """Only a failure that may pass on its own is retried: one our errors mark retryable (a
    Tesseract timeout, the store), an OS error (a temporary file, the disk), or memory the
    other pages held. Any other exception is our pipeline failing the same way on the same
    input: retrying it only costs the back-off (a tiny image took 3 tries, ~7 s)."""
    if isinstance(e, SohoaError):
        return e.retryable
    return isinstance(e, (OSError, MemoryError))


def ocr_one_page(services: Services, doc_id: str, page_no: int, dpi: int, last_try: bool) -> None:
    """OCR one page and store its searchable page PDF, then its result (the commit marker)."""
    if page_done(services, doc_id, page_no):
        return
    doc = services.records.require(doc_id)
    try:
        with services.store.local_path(original_key(doc_id)) as path:
            page = PageInfo(page_no, False, dpi)
            with services.pixel_budget.hold(page_pixels(path, doc.media_type, page)):
                image_page = load_scanned_page(path, doc.media_type, page)
                output = process_scanned_page(image_page, services.page_options)
                del image_page  # freed before the budget admits the next page
    except Exception as e:
        if _may_pass_on_retry(e) and not last_try:
            raise
        reason = e.message if isinstance(e, SohoaError) else f"internal error: {e!r}"
        # The reason goes to the record and the ingest result; the traceback only with -v.
        log.warning(
            "page %d of %s failed: %s",
            page_no,
            doc_id[:12],
            reason,
            exc_info=True,  # the traceback only with -v (app/logs.py)
        )
        result = PageResult(page_no=page_no, status=PageStatus.failed, reason=reason)
    else:
        result = output.result
        if output.pdf is not None:
            services.store.put_bytes(page_key(doc_id, page_no, "pdf"), output.pdf)
    services.store.put_bytes(page_key(doc_id, page_no), result.model_dump_json().encode())


def last_page_finished(
    services: Services, tally: PageTally | None, doc_id: str, *, recount: bool
) -> bool:
    """After one page: True when every page of the document is stored (send `assemble`).

    The tally says when to look; the stored results are the truth, recounted from one listing
    when the tally reaches the total, is unknown, or the page was retried (`recount`)."""
    counts = tally.add(doc_id) if tally is not None else None
    if counts is not None and counts[0] < counts[1] and not recount:
        return False
    if counts is not None:
        total = counts[1]
    else:
        known = services.records.status(doc_id)
        total = known.page_count if known is not None else 0
    return total > 0 and len(pages_with_results(services, doc_id)) >= total


def claim_assembly(services: Services, doc_id: str, claim: str) -> bool:
    """True for the one `assemble` message of this run that may write the document (several
    are sent when pages finish together); its own retries and redeliveries carry the same
    `claim` (the message id) and keep it."""
    key = assembly_claim_key(doc_id)
    if services.store.create(key, claim.encode()):
        return True
    try:
        return services.store.get_bytes(key).decode() == claim
    except NotFound:  # a new run removed it meanwhile: try once more
        return services.store.create(key, claim.encode())


def assemble_document(services: Services, doc_id: str, send_index: SendDoc, claim: str) -> None:
    """Collect page results, write the searchable PDF, then hand over to indexing (once,
    whatever the number of `assemble` messages: see claim_assembly)."""
    records = services.records
    doc = records.require(doc_id)
    if doc.status.finished:
        return
    stored = stored_pages(services, doc_id)
    pages = range(1, doc.page_count + 1)
    if not pages or any(page_key(doc_id, n) not in stored for n in pages):
        return
    if not claim_assembly(services, doc_id, claim):
        return
    # One summary per page: the words stay in the stored page results (workers/pages.py),
    # so the record and this step hold one page's words at a time, whatever the length.
    doc.pages = [_stored_summary(services, doc_id, n) for n in pages]
    if doc.status_from_pages() == DocumentStatus.failed:
        # Nothing to assemble or to search; the same ingest again retries every page.
        fail_document(services, doc, PagesFailed(doc.failed_pages_note()))
        services.index.delete(doc.id)  # a retry that failed again leaves no stale entry
        return
    try:
        _write_searchable_pdf(services, doc, stored)
    except SohoaError as e:
        fail_document(services, doc, e)
        return
    records.put(doc)
    send_index(doc_id)


def _write_searchable_pdf(services: Services, doc: Document, stored: set[str]) -> None:
    """`stored`: the keys under the document's pages (which pages have a page PDF)."""
    store = services.store
    with tempfile.TemporaryDirectory(prefix="sohoa-assemble-") as tmp, ExitStack() as stack:
        parts: list[PagePart] = []
        original: Path | None = None
        for page in doc.pages:
            page_pdf = page_key(doc.id, page.page_no, "pdf")
            if page_pdf in stored:
                # the store's own file where it has one (no copy of every page), else a
                # download to a temporary file; assemble reads a chunk of pages at a time
                parts.append(PagePart(stack.enter_context(store.local_path(page_pdf))))
            elif doc.media_type == PDF:
                if original is None:
                    original = stack.enter_context(store.local_path(original_key(doc.id)))
                parts.append(PagePart(original, page.page_no - 1))
            else:  # a failed page of an image file: a blank page keeps the page numbers true
                parts.append(PagePart(None))
        if all(part.pdf_path is None for part in parts):
            return
        out = Path(tmp) / "searchable.pdf"
        written = assemble(parts, out, doc.source_name)
        store.put_file(pdf_key(doc.id), out)
        doc.pdfa, doc.not_pdfa = written.pdfa, list(written.not_pdfa)
        if not written.pdfa:
            log.warning("%s: output is not PDF/A: %s", doc.id[:12], "; ".join(written.not_pdfa))


def give_up(services: Services, doc_id: str, step: str, options: dict) -> None:
    """A step failed on every retry: record why, so the document ends as failed, not stuck."""
    doc = services.records.get(doc_id)
    if doc is None or doc.status.finished:
        return
    trace = (options.get("traceback") or "").strip().splitlines()
    reason = trace[-1] if trace else "unknown error"
    fail_document(services, doc, StepFailed(f"{step} failed after retries: {reason}"))


def index_document(services: Services, doc_id: str) -> None:
    """Read the metadata (cutting multi-document scans), index, then mark the record done, or
    partial when some pages failed (its good pages are searchable, and the index says which
    pages failed)."""
    doc = services.records.require(doc_id)
    if doc.status == DocumentStatus.failed:
        return
    status = doc.status_from_pages()
    searchable = [d for d in describe(services, doc) if d.rescan_of is None]
    flag_duplicates(services, searchable)  # probable rescans of stored papers (issue 20)
    skipped = [p.page_no for p in doc.pages if p.status == PageStatus.skipped]
    notes = ["indexed"]
    if skipped:
        notes.append(f"pages skipped: {page_ranges_text(skipped)}")
    if status == DocumentStatus.partial:
        notes.append(f"failed {doc.failed_pages_note()}")
    if doc.parts:
        notes.append(f"holds {len(doc.parts)} documents")
    if doc.status != status:
        doc.record_status(status, "; ".join(notes))  # before indexing: the index shows it
    try:
        if doc.parts:
            services.index.delete(doc.id)
        services.index.index(searchable)
    except IndexDamaged as e:
        # The document itself is finished and recorded; only the index, rebuilt from the
        # records by `sohoa reindex`, lacks it. Said in the record, never silently done.
        # (An index merely unavailable, e.g. a server down, fails the step: it is retried.)
        doc.errors.append(ErrorInfo(code=NOT_INDEXED, message=f"not searchable: {e.message}"))
        doc.record_status(status, f"not indexed: {e.message}")
        log.warning("document %s not indexed: %s", doc.id[:12], e.message)
    services.records.put(doc)


def searchable_records(
    services: Services, on_damaged: OnDamaged | None = None
) -> Iterator[Document]:
    """What the index holds: finished documents (partial ones too, for their good pages),
    multi-document scans through their parts. A damaged record is reported to `on_damaged`
    (default: a warning) and left out."""
    docs = services.records.all(on_damaged) if on_damaged else services.records.all()
    return (
        doc
        for doc in docs
        if doc.status in (DocumentStatus.done, DocumentStatus.partial)
        and not doc.parts
        and doc.rescan_of is None  # merged into the record it is a rescan of: not searched
    )


def redescribe_all(services: Services) -> int:
    """Read the metadata of every finished scan again from its stored pages (no OCR)."""
    count = 0
    for doc in list(services.records.all()):
        indexed = doc.status in (DocumentStatus.done, DocumentStatus.partial)
        if indexed and doc.source_id is None:
            try:
                describe(services, doc)
            except PageResultsMissing as e:  # its record and parts stay as they were
                log.warning("%s", e.message)
                continue
            services.records.put(doc)
            count += 1
    return count
