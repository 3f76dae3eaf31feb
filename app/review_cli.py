"""`sohoa review`: the documents whose metadata needs a person, and a person's corrections
(`sohoa review ID --set FIELD=VALUE --confirm FIELD`), mounted by app/cli.py.

The CLI is the operator (app/cli.py): it sees and manages every record. The editor named in
the record's history is the OS user running it.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from app import views
from app.compose import OPERATOR
from app.duplicates_cli import DUPLICATE_ACTIONS, duplicates_command, print_waiting_pairs
from app.filters import parse_filters
from app.terminal import emit_json, fail, out, warn_damaged
from schemas.errors import SohoaError
from schemas.fields import BY_NAME
from schemas.models import Document
from workers.review import BadField, confirm_field, correct_field
from workers.services import Services

LIST_SEPARATOR = ";"  # `--set recipients="Như trên; Lưu: VT"`


def review(
    ctx: typer.Context,
    doc_id: Annotated[
        str | None,
        typer.Argument(
            help="A document to correct or confirm (id or prefix); or `duplicates` (the "
            "probable duplicates), `merge KEEP OTHER`, `dismiss A B`."
        ),
    ] = None,
    pair: Annotated[
        list[str] | None, typer.Argument(help="The two documents of merge or dismiss.")
    ] = None,
    set_values: Annotated[
        list[str],
        typer.Option("--set", help="FIELD=VALUE (empty clears; a list field: items split by ;)."),
    ] = [],  # noqa: B006
    confirm: Annotated[
        list[str], typer.Option("--confirm", help="FIELD whose value is right as read.")
    ] = [],  # noqa: B006
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    filters: Annotated[
        list[str], typer.Option("--filter", "-f", help="name=value, as for search.")
    ] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per document.")] = False,
) -> None:
    """List documents whose metadata the machine is unsure of, with the reasons; with an id,
    correct (--set) or confirm (--confirm) its fields."""
    services = ctx.obj.services
    if doc_id in DUPLICATE_ACTIONS:
        duplicates_command(services, doc_id, pair or [], as_json, _os_user())
        return
    try:
        if pair:
            raise BadField(f"unexpected argument {pair[0]!r}")
        if doc_id is None:
            if set_values or confirm:
                raise BadField("--set and --confirm need the document's id")
            wanted = {**parse_filters(filters), "needs_review": "true"}
        else:
            doc = _edit(services, doc_id, set_values, confirm)
    except SohoaError as e:
        raise fail(e) from e
    if doc_id is not None:
        if as_json:
            emit_json(views.document_json(doc))
        else:
            views.print_metadata(out, doc)
        return
    results = services.index.search("", viewer=OPERATOR, filters=wanted, limit=limit)
    docs = list(services.records.readable((h.doc_id for h in results.hits), warn_damaged))
    if as_json:
        for found in docs:
            emit_json(views.review_json(found))
        return
    views.print_review(out, docs, results.total)
    print_waiting_pairs(services)


def _edit(services: Services, doc_id: str, set_values: list[str], confirm: list[str]) -> Document:
    """Each --set, then each --confirm, in order; the record as it is after the last."""
    if not set_values and not confirm:
        return services.records.require(services.records.resolve(doc_id))
    editor = _os_user()
    for item in set_values:
        field, sep, value = item.partition("=")
        if not sep:
            raise BadField(f"--set {item!r}: write FIELD=VALUE")
        field = field.strip()
        spec = BY_NAME.get(field)
        typed = value.split(LIST_SEPARATOR) if spec and spec.kind == "list" else value
        doc = correct_field(services, OPERATOR, doc_id, field, typed, editor)
    for field in confirm:
        doc = confirm_field(services, OPERATOR, doc_id, field.strip(), editor)
    return doc


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli"


def mount(app: typer.Typer) -> None:
    app.command("review")(review)
