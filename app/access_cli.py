"""`sohoa share …` and `sohoa migrate` (mounted by app/cli.py; docs/access.md).

The CLI runs on the machine that holds the store: it is the operator and may change who sees
any record (app.cli.OPERATOR), so it checks no role; what a share names is still checked (the
record exists, the organ is in the registry).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from app.compose import OPERATOR
from app.terminal import emit_json, err, out
from schemas.errors import DamagedRecord
from workers.access import Sharing, pin_owners, set_public, share, sharing, unshare

BY = "cli"  # who a share made here is recorded as


def share_command(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(metavar="ID", help="Document id (or a unique prefix).")],
    with_organs: Annotated[
        list[str] | None,
        typer.Option("--with", metavar="ORGAN_ID", help="Let this organ see it; repeatable."),
    ] = None,
    revoke: Annotated[
        list[str] | None,
        typer.Option("--revoke", metavar="ORGAN_ID", help="Take back a share; repeatable."),
    ] = None,
    public: Annotated[
        bool | None,
        typer.Option("--public/--private", help="Everyone sees it / no longer everyone."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Who sees a document; with --with, --revoke or --public/--private, change it first."""
    services = ctx.obj.services
    shown = sharing(services, OPERATOR, doc_id)
    for organ_id in with_organs or ():
        shown = share(services, OPERATOR, shown.document_id, organ_id, by=BY)
        err.print(f"shared with {organ_id}" if shown.changed else f"{organ_id} already sees it")
    for organ_id in revoke or ():
        shown = unshare(services, OPERATOR, shown.document_id, organ_id)
        err.print(
            f"no longer shared with {organ_id}" if shown.changed else f"not shared with {organ_id}"
        )
    if public is not None:
        shown = set_public(services, OPERATOR, shown.document_id, public, by=BY)
        err.print(("made public" if public else "made private") if shown.changed else "unchanged")
    if as_json:
        emit_json(shown.model_dump(mode="json"))
    else:
        _print_sharing(shown)


def _print_sharing(shown: Sharing) -> None:
    out.print(f"document {shown.document_id}")
    out.print(f"owner: {shown.owner or '(none: admins only)'}")
    out.print(f"public: {'yes' if shown.public else 'no'}")
    table = Table("organ", "via", "by", "at", title="Also seen by")
    for g in shown.organs:
        table.add_row(g.organ, g.via, g.by or g.ref, f"{g.at:%Y-%m-%d %H:%M}")
    if shown.organs:
        out.print(table)
    else:
        out.print("no other organ sees it")


def migrate_command(ctx: typer.Context) -> None:
    """Bring an existing store up to date: every record gets an owner organ (SOHOA_ORGAN when
    it has none), then the index is rebuilt so searches know who sees what. Safe to run again."""
    # Imported on use: the exchange, jobs and tasks (lxml, signxml, pyhanko, the page pipeline)
    # would otherwise load at every `sohoa` start.
    from workers.exchange_jobs import grant_past_deliveries
    from workers.exchange_setup import build_exchange
    from workers.tasks import searchable_records

    services = ctx.obj.services
    damaged: list[DamagedRecord] = []
    pinned = pin_owners(services, damaged.append)
    out.print(f"owner organ written for {pinned} record(s)")
    # Past exchange deliveries become grants, before the index is rebuilt from them.
    exchange = build_exchange(services, registry=ctx.obj.registry)
    out.print(f"delivery grants written for {grant_past_deliveries(services, exchange)} record(s)")
    indexed = services.index.rebuild(searchable_records(services, damaged.append))
    out.print(f"reindexed {indexed} document(s)")
    if damaged:
        ids = ", ".join(sorted({e.doc_id for e in damaged}))
        err.print(f"[yellow]damaged record(s) left out:[/] {ids}", soft_wrap=True)
        raise typer.Exit(DamagedRecord.exit_code)


def mount(app: typer.Typer) -> None:
    app.command("share")(share_command)
    app.command("migrate")(migrate_command)
