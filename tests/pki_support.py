"""A CA for tests that exchange signed messages: `pki init` as the CLI does it, once per
installation (organ certificates are then issued by it, as in production)."""

from __future__ import annotations

from typing import Any

PASSPHRASE = "correct horse battery staple"


def init_ca(ex: Any, name: str = "sohoa test") -> None:
    """The installation CA of `ex` (an Exchange), made unless it has one."""
    if not ex.ctx.pki.has_ca():
        ex.ctx.pki.init(name, PASSPHRASE.encode())
