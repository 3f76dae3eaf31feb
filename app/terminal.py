"""What the command line writes: results on stdout, one line per problem on stderr.

Shared by every command group (app/cli.py, app/exchange_cli.py, app/pki_cli.py), so an error
reads the same whichever command met it: `error: <message>` as written (no markup read into it,
never wrapped), and the exit code the error's class carries; a file the user asked for is written
by `write_output` alone.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any, BinaryIO

import typer
from rich.console import Console
from rich.markup import escape

from schemas.errors import DamagedRecord, OutputNotWritable, SohoaError

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


def write_output(output: Path, data: bytes | BinaryIO) -> int:
    """Write `data` (bytes, or a binary stream copied in 1 MiB pieces) to the file the user named
    (`-o PATH`); returns the bytes written. A file that cannot be written raises
    OutputNotWritable (`cannot write PATH: <reason>`, one line) and leaves the file as it was:
    the bytes go to a temporary file beside it that replaces it only when complete (a symlink
    or a device such as /dev/null is written through, in place). Every command
    that writes a file the user asked for goes through here."""
    try:
        # A symlink is opened, not resolved here: the kernel's checks on following it (e.g.
        # fs.protected_symlinks in a shared /tmp) still apply. Devices are written in place.
        if output.is_symlink() or (output.exists() and not output.is_file()):
            with output.open("wb") as dst:
                return _copy(data, dst)
        return _replace_with(output, data)
    except OSError as e:
        raise OutputNotWritable(f"cannot write {output}: {e.strerror or e}") from e


def _replace_with(target: Path, data: bytes | BinaryIO) -> int:
    part = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    # 0o666 less the umask, as open() would make it; an existing file keeps its mode.
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as dst:
            written = _copy(data, dst)
            os.fsync(dst.fileno())
        if target.is_file():
            shutil.copymode(target, part)
        part.replace(target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return written


def write_stdout(data: BinaryIO) -> int:
    """Copy a binary stream to stdout (`-o -`); returns the bytes written."""
    return _copy(data, sys.stdout.buffer)


def _copy(data: bytes | BinaryIO, dst: BinaryIO) -> int:
    if isinstance(data, bytes):
        dst.write(data)
        dst.flush()
        return len(data)
    written = 0
    while chunk := data.read(1024 * 1024):
        dst.write(chunk)
        written += len(chunk)
    dst.flush()
    return written
