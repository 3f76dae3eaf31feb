"""What the account store keeps, and who a request is (`Principal`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from schemas.accounts import Role
from schemas.errors import BadAccount
from schemas.text import nfc

# Letters (Vietnamese too), digits, '.', '_' and '-': a login is also a storage key's last part.
_LOGIN = re.compile(r"^\w[\w.-]{0,63}$")
MIN_PASSWORD_CHARS = 8


def valid_login(login: str) -> str:
    """The login in NFC, or BadAccount: 1-64 letters, digits, '.', '_' or '-'."""
    login = nfc(login.strip())
    if not _LOGIN.fullmatch(login):
        raise BadAccount(
            f"login {login!r}: use 1 to 64 letters, digits, '.', '_' or '-' (no leading dot)"
        )
    return login


def valid_password(password: str) -> str:
    password = nfc(password)
    if len(password) < MIN_PASSWORD_CHARS:
        raise BadAccount(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    return password


class User(BaseModel):
    login: str
    role: Role
    organ_id: str
    disabled: bool = False
    password_hash: str
    created: datetime


class Token(BaseModel):
    login: str
    name: str
    created: datetime
    last_used: datetime | None = None


class Session(BaseModel):
    login: str
    csrf_token: str
    expires: datetime


class Attempt(BaseModel):
    """One login attempt's slot (accounts/service.py, "login throttling")."""

    at: datetime


class Principal(BaseModel):
    """Who a request is: a user (login, role, organ), or an organ's exchange token (no login,
    no role: organ-to-organ transport only). Resolved once per request."""

    kind: Literal["user", "organ"] = "user"
    login: str | None = None
    role: Role | None = None
    organ_id: str
    via: Literal["token", "session", "organ-token"] = "token"
    csrf_token: str | None = None  # the session's, when authenticated by the cookie
