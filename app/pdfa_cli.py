"""`sohoa pdfa check` (mounted with the archive commands, app/archive_cli.py): the operator's
opt-in validation of searchable PDFs by veraPDF (workers/pdfa_check.py; docs/preservation.md).
This module parses, picks the documents and prints."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from app.terminal import emit_json, err, fail, out
from schemas.errors import SohoaError
from storage.dossiers import DossierStore
from workers.pdfa_check import PdfaCheck, check_documents
from workers.services import Services

pdfa_app = typer.Typer(
    help="PDF/A validation of the searchable PDFs by veraPDF.", no_args_is_help=True
)


def _chosen(services: Services, ids: list[str], dossier: str | None, everything: bool):
    picked = [x for x in (ids or None, dossier, everything or None) if x]
    if len(picked) != 1:
        raise typer.BadParameter("give document ids, or exactly one of --dossier CODE or --all")
    if everything:
        return services.records.ids()
    if dossier:
        return list(DossierStore(services.store).require(dossier).documents)
    return [services.records.resolve(i) for i in ids]


def _line(result: PdfaCheck) -> str:
    tool = f"{result.profile}, {result.tool} {result.version}"
    if result.outcome == "pass":
        return f"PASS {result.doc_id}  ({tool})"
    if result.outcome == "missing":
        return f"MISSING {result.doc_id}  (no searchable PDF stored)"
    rules = "".join(f"\n  {escape(r)}" for r in result.failed_rules)
    return f"FAIL {result.doc_id}  ({tool}: {len(result.failed_rules)} failed rules){rules}"


@pdfa_app.command("check")
def check_command(
    ctx: typer.Context,
    doc_ids: Annotated[list[str] | None, typer.Argument(help="Document ids (or prefixes).")] = None,
    dossier: Annotated[
        str | None, typer.Option("--dossier", help="One dossier's documents.")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every record.")] = False,
    verapdf: Annotated[
        str | None,
        typer.Option(
            "--verapdf",
            help="veraPDF's launcher (default SOHOA_VERAPDF; neither: installed on first use).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per document.")] = False,
) -> None:
    """Validate each document's searchable PDF against PDF/A-2b with veraPDF (run as an
    external program); the result is kept, audited, and exported as a PREMIS event. Exit 1
    when any fails or has no PDF."""
    services: Services = ctx.obj.services

    def show(result: PdfaCheck) -> None:
        if as_json:
            emit_json(
                {
                    "document_id": result.doc_id,
                    "outcome": result.outcome,
                    "tool": result.tool,
                    "version": result.version,
                    "profile": result.profile,
                    "failed_rules": result.failed_rules,
                }  # fmt: skip
            )
        else:
            (out if result.outcome == "pass" else err).print(_line(result), highlight=False)

    try:
        chosen = _chosen(services, list(doc_ids or []), dossier, everything)
        launcher = verapdf or ctx.obj.settings.verapdf or None  # the option wins
        results = check_documents(services, chosen, launcher=launcher, on_result=show)
    except SohoaError as e:
        raise fail(e) from e
    bad = sum(1 for r in results if r.outcome != "pass")
    if not as_json:
        out.print(f"checked {len(results)} document(s): {len(results) - bad} pass, {bad} not")
    raise typer.Exit(1 if bad else 0)
