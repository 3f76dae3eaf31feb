"""What the command line writes: results on stdout, one line per problem on stderr.

Shared by every command group (app/cli.py, app/exchange_cli.py), so an error reads the same
whichever command met it: `error: <message>` as written (no markup read into it, never wrapped),
and the exit code the error's class carries.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from schemas.errors import DamagedRecord, SohoaError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # a line stays one line


def emit_json(obj: Any) -> None:
    """One JSON document on its own line (dates and paths as text, Vietnamese as written)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(error: SohoaError) -> typer.Exit:
    """Print the error's one line; the caller raises what it returns: `raise fail(e) from e`."""
    err.print(f"[red]error:[/] {escape(error.message)}")
    return typer.Exit(error.exit_code)


def warn_damaged(error: DamagedRecord) -> None:
    """A record that cannot be read, left out of a listing: one line on stderr."""
    err.print(f"[yellow]warning:[/] {escape(error.message)}; skipped", soft_wrap=True)
