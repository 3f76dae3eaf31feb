"""`sohoa` command line. Messages in English; document text stays as written (Vietnamese, NFC)."""

from __future__ import annotations

import errno
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from app import views
from app.archive_cli import fixity_status
from app.compose import OPERATOR, Context, fixity_schedule
from app.config import Settings, load_settings, one_thread_per_tesseract
from app.filters import MAX_OFFSET, OFFSET_HELP, SORT_HELP, parse_filters, parse_sort, within_window
from app.filters import SYNTAX as FILTER_SYNTAX
from app.logs import configure_logging
from app.terminal import emit_json, err, fail, out, warn_damaged, write_output, write_stdout
from schemas.errors import (
    READ_ONLY_ERRNOS,
    DamagedRecord,
    IndexUnavailable,
    NotFound,
    PermissionDenied,
    ReadOnlyData,
    SohoaError,
)
from schemas.models import DocumentStatus, PageStatus, page_ranges_text
from schemas.redact import redact_url
from storage.dossiers import DossierStore, check_file_code
from storage.keys import pdf_key
from storage.records import RecordStore
from workers.dossiers import members, summarise
from workers.fixity import FixityTimer
from workers.services import Services

if TYPE_CHECKING:
    from workers.batch import Progress as BatchProgress
    from workers.batch import ProgressFn
    from workers.jobs import FileResult, IngestReport, Watch
    from workers.runtime import WorkerPool

# The worker pool, the jobs and the tasks (with the whole pipeline: OpenCV, pdfium, pikepdf...)
# are imported by the commands that run them, not here: every `sohoa` start would pay for them.

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    help="sohoa — số hóa: scanned Vietnamese records in, searchable records out.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
)


@dataclass
class Invocation:
    """What `main()` hands the app (typer's `ctx.obj`) and keeps, to word its error line: the
    --verbose flag and the context the main options made (None until they are parsed)."""

    verbose: bool = False
    context: Context | None = None


def _print_version(wanted: bool) -> None:
    if wanted:
        out.print(f"sohoa {package_version('sohoa')}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(envvar="SOHOA_DATA_DIR", help="Folder of the embedded store and index."),
    ] = None,
    storage: Annotated[
        str | None, typer.Option(envvar="SOHOA_STORAGE", help="Storage folder or minio:// URL.")
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(envvar="SOHOA_SEARCH", help="SQLite index file or http:// Elasticsearch URL."),
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(envvar="SOHOA_BROKER", help="Empty for in-process, or redis:// / amqp://."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(envvar="SOHOA_WORKERS", help="OCR worker threads (default: one per core)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what the workers do.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "data_dir": data_dir,
            "storage": storage,
            "search": search,
            "broker": broker,
            "workers": workers,
        }.items()
        if v is not None
    }
    invocation = ctx.ensure_object(Invocation)
    invocation.verbose = verbose
    invocation.context = Context(load_settings(**overrides, verbose=verbose))
    ctx.obj = invocation.context  # what every command is handed
    configure_logging(verbose)
    if not verbose:  # in-process workers: each failure is in its file's row
        logging.getLogger("dramatiq").setLevel(logging.CRITICAL)


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj.settings  # ctx.obj: the Context the main options made


def _services(ctx: typer.Context) -> Services:
    return ctx.obj.services


def _progress_bar(started: float) -> Watch:
    """The bar drawn on stderr while a batch is processed; rates count from `started`."""

    @contextmanager
    def watch(files: int) -> Iterator[ProgressFn]:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[pages]} pages"),
            TextColumn("{task.fields[rate]} pages/s"),
            TextColumn("{task.fields[docs]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        ) as bar:
            task = bar.add_task("OCR", total=None, pages="0/?", rate="–", docs="")

            def on_progress(p: BatchProgress) -> None:
                elapsed = max(time.perf_counter() - started, 1e-6)
                bar.update(
                    task,
                    completed=p.pages_done,
                    total=max(p.pages_total, p.pages_done) or None,
                    pages=f"{p.pages_done}/{p.pages_total or '?'}",
                    rate=f"{p.pages_done / elapsed:.2f}",
                    docs=f"{p.docs_finished}/{files} files",
                )

            yield on_progress

    return watch


NO_OWNER = (
    "note: these records have no owner organ (no --owner, SOHOA_ORGAN unset): only admins see "
    "them in the web app and the API. Set SOHOA_ORGAN and run `sohoa migrate` to give them one."
)


def _ingest(
    ctx: typer.Context,
    inputs: list[str],
    *,
    as_json: bool,
    show_progress: bool,
    dossier: str | None = None,
    title: str | None = None,
    owner: str | None = None,
) -> int:
    """Ingest files (workers.jobs.ingest_batch) and print the results; the exit code."""
    from workers.jobs import ingest_batch

    settings = _settings(ctx)
    watch = _progress_bar(time.perf_counter()) if show_progress and not as_json else None
    report = ingest_batch(
        _services(ctx),
        inputs,
        broker=settings.broker,
        threads=settings.workers,
        dossier=dossier,
        title=title,
        watch=watch,
        owner=owner,
    )
    if not report.rows:
        err.print("[yellow]Nothing to ingest.[/]")
        return EXIT_USAGE
    _show_ingest(report, as_json)
    if not (owner or settings.organ) and any(r.result in ("ok", "partial") for r in report.rows):
        err.print(NO_OWNER)  # else a new user's officer sees none of them in the web app
    return 0 if report.succeeded else EXIT_FAILED


def _show_ingest(report: IngestReport, as_json: bool) -> None:
    if as_json:
        for row in report.rows:
            emit_json(views.ingest_json(*row))
        if report.dossier is not None:
            emit_json({"dossier": report.dossier.model_dump(mode="json")})
        return
    _print_ingest_table(report.rows, report.seconds)
    if report.dossier is not None:
        views.print_dossier(out, report.dossier)


def _print_ingest_table(rows: list[FileResult], elapsed: float) -> None:
    table = Table("file", "result", "pages", "id", "reason", title="Ingest results")
    table.columns[0].overflow = "fold"
    counts: dict[str, int] = {}
    pages = 0
    for sub, result, doc, error in rows:
        counts[result] = counts.get(result, 0) + 1
        style = {"ok": "green", "reused": "cyan", "failed": "red"}.get(result, "yellow")
        n = doc.page_count if doc else 0
        pages += n if result in ("ok", "partial") else 0
        reason = error.message if error else ""
        if result == "partial" and error:
            reason = f"failed {error.message}; run the same command again to retry them"
        elif doc and result == "ok":
            skipped = [p.page_no for p in doc.pages if p.status == PageStatus.skipped]
            reason = f"pages skipped: {page_ranges_text(skipped)}" if skipped else ""
        reason = "; ".join([*sub.notes, reason] if reason else sub.notes)
        shown_id = doc.id[:12] if doc else ""
        # Names and reasons as plain Text: a "[" in a file name is not markup.
        table.add_row(Text(sub.shown), f"[{style}]{result}[/]", str(n), shown_id, Text(reason))
    out.print(table)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out.print(f"{len(rows)} file(s): {summary}; {pages} page(s) processed in {elapsed:.1f} s")


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(help="Files, folders (recursive) or glob patterns.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per file on stdout.")
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    dossier: Annotated[
        str | None,
        typer.Option("--dossier", help="File the documents into this dossier (hồ sơ) code."),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Dossier title (tiêu đề hồ sơ).")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner organ (default: SOHOA_ORGAN).")
    ] = None,
) -> None:
    """Store, OCR and index scanned or born-digital documents."""
    if title and not dossier:
        raise typer.BadParameter("--title names a dossier: give --dossier CODE too")
    try:
        if dossier:
            check_file_code(dossier)
        code = _ingest(
            ctx,
            paths,
            as_json=as_json,
            show_progress=progress,
            dossier=dossier,
            title=title,
            owner=owner,
        )
    except SohoaError as e:
        raise fail(e) from e
    except KeyboardInterrupt:
        err.print(
            "[yellow]Interrupted.[/] Stored originals are safe; run the same command to resume."
        )
        code = EXIT_INTERRUPTED
    raise typer.Exit(code)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to find; accents and đ optional.")],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    offset: Annotated[int, typer.Option(min=0, max=MAX_OFFSET, help=OFFSET_HELP)] = 0,
    filters: Annotated[
        list[str],
        typer.Option(
            "--filter",
            "-f",
            help=f"{FILTER_SYNTAX} (as GET /search?filter=…).",
        ),
    ] = [],  # noqa: B006
    as_json: Annotated[
        bool,
        typer.Option("--json", help="One JSON object: total, hits and facets (as GET /search)."),
    ] = False,
    sort: Annotated[str, typer.Option(help=SORT_HELP)] = "relevance",
) -> None:
    """Search the records: ranked documents with highlighted snippets and page numbers."""
    try:
        wanted, order = parse_filters(filters), parse_sort(sort)
        limit = within_window(offset, limit)
        index = ctx.obj.index  # the index only: a search never needs the store
        results = index.search(
            query, viewer=OPERATOR, filters=wanted, limit=limit, offset=offset, sort=order
        )
        if not results.total and not index.count() and _store_holds_records(ctx):
            err.print(  # e.g. an index file deleted, or a server index lost and made again empty
                "[yellow]warning:[/] the search index is empty but the store holds records; "
                "run 'sohoa reindex' to rebuild it from them",
                soft_wrap=True,
            )
    except SohoaError as e:
        raise fail(e) from e
    if as_json:
        emit_json(views.results_json(results))
        return
    views.print_results(out, results)


def _store_holds_records(ctx: typer.Context) -> bool:
    """Asked only of an empty index; a store that cannot be reached then just gives no hint."""
    try:
        return next(RecordStore(ctx.obj.store).ids(), None) is not None
    except SohoaError:
        return False


@app.command()
def show(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(help="Document id (a unique prefix is enough).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    text: Annotated[bool, typer.Option("--text", help="Print the text of every page.")] = False,
) -> None:
    """Print a record: metadata, pages, status."""
    records = _services(ctx).records
    try:
        doc = records.require(records.resolve(doc_id))
    except SohoaError as e:
        raise fail(e) from e
    if as_json:
        emit_json(views.document_json(doc))
    else:
        views.print_document(out, doc, text)


@app.command()
def export(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(help="Document id (a unique prefix is enough).")],
    output: Annotated[
        str,
        typer.Option("-o", "--output", help="Where to write the searchable PDF; - for stdout."),
    ],
) -> None:
    """Write the searchable PDF (page images with an invisible text layer, PDF/A-2b unless
    `sohoa show` says why not)."""
    services = _services(ctx)
    try:
        full_id = services.records.resolve(doc_id)
        doc = services.records.require(full_id)
        if doc.status not in (DocumentStatus.done, DocumentStatus.partial):
            raise NotFound(f"document {full_id[:12]} is {doc.status.value}; nothing to export yet")
        with services.store.open(pdf_key(full_id)) as src:
            written = _write_output(src, output)
    except SohoaError as e:
        raise fail(e) from e
    shown = "stdout" if output == "-" else output
    written_line = f"wrote {shown} ({written:,} bytes, {doc.page_count} page(s))"
    err.print(written_line, markup=False, soft_wrap=True)
    if doc.pdfa is False:
        err.print("not PDF/A: " + "; ".join(doc.not_pdfa), markup=False, highlight=False)


def _write_output(src: BinaryIO, output: str) -> int:
    """Copy `src` to the file `output`, or to stdout for "-"; returns the bytes written."""
    if output == "-":
        return write_stdout(src)
    return write_output(Path(output), src)


dossier_app = typer.Typer(help="Dossiers (hồ sơ): documents filed together.", no_args_is_help=True)
app.add_typer(dossier_app, name="dossier")


@dossier_app.command("show")
def dossier_show(
    ctx: typer.Context,
    file_code: Annotated[str, typer.Argument(help="Dossier code, e.g. 2023.HS-12.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A dossier with its documents, totals and dates, as they are now."""
    services = _services(ctx)
    try:
        dossier = DossierStore(services.store).require(file_code)
    except SohoaError as e:
        raise fail(e) from e
    docs = members(services, dossier.documents)
    dossier = summarise(dossier, docs)
    if as_json:
        body = dossier.model_dump(mode="json")
        body["documents"] = [views.review_json(d) for d in docs]
        emit_json(body)
        return
    views.print_dossier(out, dossier, docs)


@dossier_app.command("list")
def dossier_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """All dossiers."""
    services = _services(ctx)
    dossiers = [
        summarise(d, members(services, d.documents)) for d in DossierStore(services.store).all()
    ]
    if as_json:
        for d in dossiers:
            emit_json(d.model_dump(mode="json"))
        return
    views.print_dossiers(out, dossiers)


@app.command()
def reindex(
    ctx: typer.Context,
    metadata: Annotated[
        bool,
        typer.Option(
            "--metadata", help="Also read the metadata again (after an extractor upgrade)."
        ),
    ] = False,
) -> None:
    """Rebuild the search index from the stored records alone (no OCR)."""
    from workers.tasks import redescribe_all, searchable_records

    services = _services(ctx)
    damaged: list[DamagedRecord] = []

    def skip(error: DamagedRecord) -> None:
        damaged.append(error)
        warn_damaged(error)

    if metadata:
        described = redescribe_all(services)
        err.print(f"read the metadata of {described} record(s) again")
    count = services.index.rebuild(searchable_records(services, skip))
    source = redact_url(_settings(ctx).storage) or _settings(ctx).storage_path
    err.print(f"reindexed {count} document(s) from {source}", markup=False, soft_wrap=True)
    if damaged:
        ids = ", ".join(e.doc_id for e in damaged)
        err.print(f"[yellow]{len(damaged)} damaged record(s) left out:[/] {ids}", soft_wrap=True)
        raise typer.Exit(DamagedRecord.exit_code)


def _resume_deliveries(services: Services, pool: WorkerPool) -> int:
    # Imported on use: the exchange (lxml, signxml) stays out of every other command's start.
    from workers.exchange_jobs import resume_deliveries

    return resume_deliveries(services, pool)


@app.command()
def worker(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once/--forever", help="Embedded broker: stop when no work is left.")
    ] = True,
) -> None:
    """Run workers as a separate process.

    With a server broker: Dramatiq worker processes, one per core, one Tesseract each. On the
    embedded default: finish the documents a stopped run left unfinished.
    """
    from workers.actors import QUEUE
    from workers.jobs import resume_unfinished
    from workers.runtime import WorkerPool

    settings = _settings(ctx)
    if settings.broker:
        command = [
            sys.executable,
            "-m",
            "dramatiq",
            "app.worker_entry",
            "--queues",
            QUEUE,
            "--processes",
            str(settings.workers),
            "--threads",
            "1",
            "--skip-logging",  # app.worker_entry sets it up: one line per problem (app/logs.py)
        ]
        err.print(f"worker: {settings.workers} process(es) on {redact_url(settings.broker)}")
        if settings.consume_dir:  # the workers as a child; this process watches the folder
            return watch_beside_workers(ctx.obj, command)
        os.execvpe(command[0], command, settings.worker_env())
    services = _services(ctx)
    with WorkerPool(services, settings.broker, settings.workers) as pool:
        unfinished = resume_unfinished(services, pool)
        deliveries = _resume_deliveries(services, pool)
        err.print(
            f"worker: {pool.threads} thread(s), {unfinished} unfinished document(s) and "
            f"{deliveries} undelivered exchange message(s) resumed"
        )
        fixity = FixityTimer(services, fixity_schedule(settings))
        if settings.consume_dir:  # watched until stopped, whatever --once says
            fixity.in_background()  # the watch loop is this thread's
            return watch_with_pool(ctx.obj, pool)
        try:
            fixity.tick()  # this period's share of the fixity checks, unless a worker took it
            while not (pool.embedded and once and pool.idle()):
                time.sleep(0.5)
                fixity.tick()
        except KeyboardInterrupt:
            err.print("worker: stopping")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the HTTP API (search, records, searchable PDFs, uploads)."""
    import logging

    import uvicorn

    from app.api import create_app
    from app.logs import NoTokensInAccessLog

    app_ = create_app(_settings(ctx))  # proxy_headers off: SOHOA_TRUSTED_PROXIES says whom to trust
    config = uvicorn.Config(app_, host=host, port=port, log_level="info", proxy_headers=False)
    logging.getLogger("uvicorn.access").addFilter(NoTokensInAccessLog())  # after its set-up
    uvicorn.Server(config).run()


SAMPLE_QUERIES = ("quyet dinh", "so hoa tai lieu", "uy ban nhan dan")


@app.command()
def demo(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None, typer.Argument(help="Your own files; default: a generated sample batch.")
    ] = None,
    pages: Annotated[int, typer.Option(min=1, max=500, help="Pages in the generated batch.")] = 12,
) -> None:
    """Ingest a sample batch of scanned Vietnamese documents (or your files), then search it."""
    settings = _settings(ctx)
    if not paths:
        from corpus import generate_batch

        batch = settings.data_dir / "demo-batch"
        if not batch.is_dir():
            err.print(f"Generating a sample batch of {pages} scanned pages in {batch} …")
            generate_batch(batch, pages=pages, seed=0)
        paths = [str(batch)]
    code = _ingest(ctx, paths, as_json=False, show_progress=True)
    index = _services(ctx).index
    for query in SAMPLE_QUERIES:
        results = index.search(query, viewer=OPERATOR, limit=3)
        if results.hits:
            out.rule(f"sohoa search {query!r}")
            views.print_results(out, results)
            break
    out.print(f'\nData folder: {settings.data_dir}. Try: sohoa search "quyet dinh", sohoa show ID')
    raise typer.Exit(code)


@app.command()
def status(ctx: typer.Context) -> None:
    """Counts of documents per status, and where the data lives."""
    services = _services(ctx)
    counts: dict[str, int] = {}
    for doc in services.records.all(warn_damaged):
        counts[doc.status.value] = counts.get(doc.status.value, 0) + 1
    out.print(f"data: {escape(str(_settings(ctx).data_dir))}")
    index_error = None
    try:
        indexed = str(services.index.count())
    except IndexUnavailable as e:  # the records are still counted: they do not need it
        indexed, index_error = "unknown (the index cannot be used)", e
    out.print(f"indexed: {indexed}")
    for name, n in sorted(counts.items()):
        out.print(f"{name}: {n}")
    if counts.get(DocumentStatus.partial.value):
        out.print(
            "partial documents have failed pages (sohoa show ID): ingest the same files "
            "again to retry them"
        )
    out.print(escape(fixity_status(services)))
    print_consume_status(_settings(ctx))
    if index_error is not None:
        raise fail(index_error)


# Organ registry, edXML exchange and audit log (docs/exchange.md).
from app.exchange_cli import mount as _mount_exchange  # noqa: E402

_mount_exchange(app)
from app.pki_cli import mount as _mount_pki  # noqa: E402

_mount_pki(app)

# The review queue and a person's corrections (`sohoa review`).
from app.review_cli import mount as _mount_review  # noqa: E402

_mount_review(app)

# API accounts (README: Users and access).
from app.users_cli import mount as _mount_users  # noqa: E402

_mount_users(app)

# Who sees a record (sohoa share) and bringing an older store up to date (docs/access.md).
from app.access_cli import mount as _mount_access  # noqa: E402

_mount_access(app)

# The scanner folder: `sohoa watch`, and `sohoa worker` watching SOHOA_CONSUME_DIR.
from app.watch_cli import mount as _mount_watch  # noqa: E402
from app.watch_cli import print_consume_status, watch_beside_workers, watch_with_pool  # noqa: E402

_mount_watch(app)

# Archival packages out and in (docs/preservation.md).
from app.archive_cli import mount as _mount_archive  # noqa: E402

_mount_archive(app)


def main() -> None:
    """The one place errors become a line for the user and an exit code (STYLE §3). Anything
    unforeseen still ends as one line, never a traceback (shown with --verbose)."""
    one_thread_per_tesseract()  # first, before any Tesseract here or in workers started from here
    invocation = Invocation()
    try:
        app(obj=invocation)
    except Exception as e:  # noqa: BLE001 - the safety net: the user gets a line, not a trace
        if invocation.verbose:
            traceback.print_exc()
        context = invocation.context
        error = _as_sohoa_error(e, context.settings if context else None)
        if error is not None:
            message, code = error.message, error.exit_code
        else:
            hint = "" if invocation.verbose else " (run with --verbose for details)"
            message, code = f"unexpected {type(e).__name__}: {e}{hint}", EXIT_FAILED
        err.print(f"[red]error:[/] {escape(redact_url(message))}", soft_wrap=True)
        sys.exit(code)


def _as_sohoa_error(e: Exception, settings: Settings | None) -> SohoaError | None:
    """The error as sohoa's own: itself, or a write the OS refused inside the data folder."""
    if isinstance(e, SohoaError):
        return e
    if isinstance(e, OSError) and e.errno in READ_ONLY_ERRNOS and settings is not None:
        folder = str(settings.data_dir)
        name = str(e.filename or "")
        if name.startswith(folder):
            unreadable = Path(name).exists() and not os.access(name, os.R_OK)
            if unreadable and e.errno != errno.EROFS:
                # a file of the data folder this user may not even read: not a read-only folder
                return PermissionDenied(f"permission denied in the data folder: cannot read {name}")
            return ReadOnlyData(folder, f"write {name}")
    return None


if __name__ == "__main__":
    main()
