"""`sohoa archive export|import` and `sohoa fixity` (mounted by app/cli.py; docs/preservation.md).

The CLI is the operator (app.compose.OPERATOR): it packs and restores every record, with its
owner organ and grants, and checks no role. The use cases are workers/archive_export.py and
workers/archive_import.py; this module parses, draws the progress bar and prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from app.terminal import emit_json, err, fail, out
from schemas.errors import SohoaError
from workers.archive_export import (
    BagPlan,
    ExportReport,
    export_packages,
    plan_all,
    plan_dossier,
    plan_query,
)
from workers.archive_import import ImportedBag, import_packages
from workers.fixity import FixityProblem, FixityResult, check, last_result, sample
from workers.services import Services

archive_app = typer.Typer(
    help="Archival packages: BagIt bags laid out as E-ARK SIPs, out and in.",
    no_args_is_help=True,
)


def _plans(services: Services, dossier: str | None, query: str | None, everything: bool):
    """(plans, documents expected) of the one selection given."""
    chosen = [x for x in (dossier, query, everything or None) if x]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --dossier CODE, --query TEXT or --all")
    if everything:
        return plan_all(services), sum(1 for _ in services.records.ids())
    plans: list[BagPlan] = (
        plan_dossier(services, dossier) if dossier else plan_query(services, str(query))
    )
    return plans, sum(len(p.doc_ids) for p in plans)


@archive_app.command("export")
def export_command(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="A new folder, or a file ending in .zip.")
    ],
    dossier: Annotated[str | None, typer.Option("--dossier", help="One dossier's code.")] = None,
    query: Annotated[
        str | None, typer.Option("--query", help="The documents a search finds.")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Every record: a whole-installation backup.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per bag.")] = False,
) -> None:
    """Write BagIt bags (one per dossier, one per document in none) laid out as E-ARK SIPs."""
    services: Services = ctx.obj.services
    try:
        plans, expected = _plans(services, dossier, query, everything)
        if progress and not as_json:
            report = _export_with_bar(services, plans, output, expected, not everything)
        else:
            report = export_packages(services, plans, output, carry_sources=not everything)
    except SohoaError as e:
        raise fail(e) from e
    _print_export(report, output, as_json)
    raise typer.Exit(1 if report.problems else 0)


def _export_with_bar(
    services: Services, plans, output: Path, expected: int, carry: bool
) -> ExportReport:
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]export"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} documents"),
        TextColumn("{task.fields[rate]} MB/s"),
        TimeElapsedColumn(),
        console=err,
    ) as bar:
        task = bar.add_task("export", total=expected or None, rate="–")
        written = 0

        def advance(documents: int, size: int) -> None:
            nonlocal written
            written += size
            rate = written / 1e6 / max(time.perf_counter() - started, 1e-6)
            bar.update(task, advance=documents, rate=f"{rate:.1f}")

        return export_packages(services, plans, output, carry_sources=carry, on_progress=advance)


def _print_export(report: ExportReport, output: Path, as_json: bool) -> None:
    if as_json:
        for bag in report.bags:
            emit_json(
                {
                    "bag": bag.name,
                    "documents": bag.documents,
                    "bytes": bag.bytes,
                    "problems": bag.problems,
                }  # fmt: skip
            )
    else:
        rate = report.bytes / 1e6 / max(report.seconds, 1e-6)
        out.print(
            f"wrote {len(report.bags)} bag(s), {report.documents} document(s), "
            f"{report.bytes / 1e6:.1f} MB to {escape(str(output))} in {report.seconds:.1f} s "
            f"({rate:.1f} MB/s)"
        )
    for problem in report.problems:
        err.print(f"[red]problem:[/] {escape(problem)}")


@archive_app.command("import")
def import_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A folder of bags, one bag, or a .zip.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per bag.")] = False,
) -> None:
    """Restore bags from `archive export`: same ids, records, dossiers, owners and search
    results, no OCR. A bag that fails validation or lies is refused (named); others go on.
    A document already here is kept as it is (a conflict when the bag's copy differs)."""
    services: Services = ctx.obj.services

    def shown(bag: ImportedBag) -> None:
        if as_json:
            emit_json(
                {
                    "bag": bag.name,
                    "restored": bag.restored,
                    "present": bag.present,
                    "conflicts": bag.conflicts,
                    "refused": bag.refused or None,
                }  # fmt: skip
            )
        elif bag.refused:
            err.print(f"[red]refused[/] {escape(bag.name)}: {escape(bag.refused)}")
        else:
            present = f", {len(bag.present)} already here" if bag.present else ""
            out.print(f"restored {escape(bag.name)}: {len(bag.restored)} document(s){present}")
        for doc_id in bag.conflicts:
            err.print(
                f"[yellow]conflict[/] {escape(bag.name)}: document {doc_id} is already here "
                "with other content; the copy here is kept"
            )

    try:
        report = import_packages(services, source, shown)
    except SohoaError as e:
        raise fail(e) from e
    if not report.bags:
        err.print(f"[yellow]no bag found in {escape(str(source))}[/]")
        raise typer.Exit(2)
    raise typer.Exit(1 if report.refused or report.conflicts else 0)


def fixity_command(
    ctx: typer.Context,
    sample_n: Annotated[
        int | None, typer.Option("--sample", min=1, help="Check N records chosen at random.")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Check every record (default).")
    ] = False,
    since: Annotated[
        datetime | None,
        typer.Option("--since", help="Only records changed since this date (YYYY-MM-DD)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The result as one JSON object.")] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="A progress bar on a terminal.")
    ] = True,
) -> None:
    """Stream originals and derived files from the store and compare their SHA-256 with the
    content address or the recorded hash; exit 1 when any differs or is missing."""
    if sample_n is not None and everything:
        raise typer.BadParameter("give --sample N or --all, not both")
    services: Services = ctx.obj.services
    when = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    scope = f"sample {sample_n}" if sample_n else "all"
    scope += f" since {when:%Y-%m-%d}" if when else ""
    ids = sample(services, sample_n) if sample_n else services.records.ids()

    def shown(doc_id: str, problems: list[FixityProblem]) -> None:
        for p in problems if not as_json else ():
            err.print(f"[red]FAILED[/] {doc_id}: {escape(p.line())}")

    try:
        if progress and not as_json and err.is_terminal:
            ids = list(ids)  # ids only, for the bar's total
            with _fixity_bar(len(ids)) as advance:
                result = check(services, ids, scope, since=when, on_document=shown,
                               on_progress=advance)  # fmt: skip
        else:
            result = check(services, ids, scope, since=when, on_document=shown)
    except SohoaError as e:
        raise fail(e) from e
    if as_json:
        emit_json(fixity_json(result))
    else:
        out.print(fixity_summary(result))
    raise typer.Exit(0 if result.ok else 1)


@contextmanager
def _fixity_bar(total: int) -> Iterator[Callable[[int, FixityResult], None]]:
    """The bar drawn on stderr (a terminal only) while documents are checked."""
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]fixity"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} documents"),
        TextColumn("{task.fields[size]} MB"),
        TextColumn("{task.fields[rate]} MB/s"),
        TextColumn("{task.fields[failed]}"),
        TimeElapsedColumn(),
        console=err,
    ) as bar:
        task = bar.add_task("fixity", total=total or None, size="0", rate="–", failed="")

        def advance(seen: int, result: FixityResult) -> None:
            rate = result.bytes / 1e6 / max(time.perf_counter() - started, 1e-6)
            failed = len(result.failed_documents)
            bar.update(
                task,
                completed=seen,
                size=f"{result.bytes / 1e6:.1f}",
                rate=f"{rate:.1f}",
                failed=f"[red]{failed} FAILED[/]" if failed else "",
            )

        yield advance


FIXITY_JSON_KEYS = (
    "scope", "started_at", "finished_at", "documents", "objects", "bytes", "cpu_s", "ok",
    "failed_documents", "problems",
)  # fmt: skip


def fixity_json(result: FixityResult) -> dict[str, object]:
    """`sohoa fixity --json`: these keys, in this order, always (docs/preservation.md)."""
    dumped = result.model_dump(mode="json")
    dumped.update(ok=result.ok, failed_documents=result.failed_documents)
    return {key: dumped[key] for key in FIXITY_JSON_KEYS}


def fixity_summary(result: FixityResult) -> str:
    verdict = "all match" if result.ok else f"{len(result.failed_documents)} document(s) FAILED"
    return (
        f"fixity ({result.scope}, {result.started_at:%Y-%m-%d %H:%M} UTC): {result.documents} "
        f"document(s), {result.objects} object(s), {result.bytes / 1e6:.1f} MB: {verdict}"
    )


def fixity_status(services: Services) -> str:
    """`sohoa status`'s line about the last fixity run."""
    last = last_result(services)
    return fixity_summary(last) if last else "fixity: never checked (sohoa fixity)"


def mount(app: typer.Typer) -> None:
    app.add_typer(archive_app, name="archive")
    from app.pdfa_cli import pdfa_app  # `sohoa pdfa check`: veraPDF, opt-in

    app.add_typer(pdfa_app, name="pdfa")
    app.command("fixity")(fixity_command)
