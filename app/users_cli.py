"""`sohoa users …`: accounts of the API, managed by the operator (mounted by app/cli.py).

Whoever runs the CLI on the data folder is the operator: it can read the store anyway, so it
needs no account of its own. A token is printed once, alone on its line, and never again.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from accounts.service import Accounts
from app.terminal import emit_json, out
from schemas.accounts import Role
from schemas.errors import BadSetting, NotFound

users_app = typer.Typer(help="API accounts: users, roles, passwords and API tokens.")

AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
]


def _accounts(ctx: typer.Context) -> Accounts:
    return Accounts(ctx.obj.store, session_hours=ctx.obj.settings.session_hours)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    login: str,
    role: Annotated[Role, typer.Option(help="What the user may do.")],
    organ: Annotated[
        str | None,
        typer.Option(help="The user's organ (OrganId in the registry; default: SOHOA_ORGAN)."),
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user (asks for the password twice, without echo)."""
    organ = organ if organ is not None else ctx.obj.settings.organ.strip()
    if not organ:
        raise BadSetting("say the user's organ with --organ ORGAN_ID (SOHOA_ORGAN is not set)")
    if ctx.obj.registry.get(organ.strip()) is None:
        raise NotFound(f"no organ {organ!r} in the registry (sohoa organs list)")
    user = _accounts(ctx).add_user(login, role, organ, _password(password_stdin))
    out.print(f"added {user.login} ({user.role.value}, {user.organ_id})")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Every user, with role, organ and whether it is disabled."""
    users = _accounts(ctx).users()
    if as_json:
        emit_json([u.model_dump(mode="json", exclude={"password_hash"}) for u in users])
        return
    table = Table("login", "role", "organ", "disabled", "created")
    for u in users:
        table.add_row(
            u.login, u.role.value, u.organ_id, "yes" if u.disabled else "", f"{u.created:%Y-%m-%d}"
        )
    out.print(table)


@users_app.command("disable")
def users_disable(ctx: typer.Context, login: str) -> None:
    """Stop a user at once: its tokens and sessions no longer work."""
    _accounts(ctx).disable(login)
    out.print(f"disabled {login}")


@users_app.command("passwd")
def users_passwd(ctx: typer.Context, login: str, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password."""
    accounts = _accounts(ctx)
    accounts.user(login)  # an unknown user is said before the password is asked
    ended = accounts.set_password(login, _password(password_stdin))
    out.print(f"password of {login} changed; {ended} browser session(s) ended")


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    login: str,
    name: Annotated[str, typer.Option(help="A name to list and revoke it by.")] = "",
    as_json: AsJson = False,
) -> None:
    """A new API token for the user, printed once (only its hash is kept)."""
    token = _accounts(ctx).issue_token(login, name)
    if as_json:
        emit_json({"token": token})
    else:
        sys.stdout.write(token + "\n")


@users_app.command("tokens")
def users_tokens(ctx: typer.Context, login: str, as_json: AsJson = False) -> None:
    """The user's API tokens: names and dates, never the tokens."""
    accounts = _accounts(ctx)
    tokens = accounts.tokens(accounts.user(login).login)
    if as_json:
        emit_json([t.model_dump(mode="json") for t in tokens])
        return
    table = Table("name", "created", "last used")
    for t in tokens:
        used = f"{t.last_used:%Y-%m-%d %H:%M}" if t.last_used else "never"
        table.add_row(t.name, f"{t.created:%Y-%m-%d %H:%M}", used)
    out.print(table)


@users_app.command("revoke")
def users_revoke(ctx: typer.Context, login: str, name: str) -> None:
    """Revoke one of the user's tokens; it stops working at once."""
    _accounts(ctx).revoke(login, name)
    out.print(f"revoked {login}'s token {name}")


def mount(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
