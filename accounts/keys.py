"""Where accounts live in the object store: every key under `accounts/` is built here.

    accounts/users/<login>.json                 one user (password hash, role, organ, disabled)
    accounts/tokens/<sha256 of token>.json      an API token -> its user and name
    accounts/sessions/<sha256 of id>.json       a browser session -> its user, CSRF token, expiry
    accounts/attempts/<sha256 of login>/<round>/<slot>.json   one login attempt (written once)
    accounts/attempts/<sha256 of login>/<round>/open.json     a round opened by a good login
    accounts/attempts/decoy.json                the one object a failed login of no user writes

Tokens and session ids are stored only as their SHA-256: the store never holds one that works.
"""

from __future__ import annotations

import hashlib

ROOT = "accounts/"
USERS = f"{ROOT}users/"
TOKENS = f"{ROOT}tokens/"
SESSIONS = f"{ROOT}sessions/"
# Written by every failed login of a name that is no user, so that it costs the store work of a
# user's (accounts/service.py); one fixed key, overwritten: such names leave nothing behind.
DECOY_ATTEMPT = f"{ROOT}attempts/decoy.json"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def user(login: str) -> str:
    return f"{USERS}{login}.json"


def login_of(key: str) -> str:
    return key.removeprefix(USERS).removesuffix(".json")


def token(secret: str) -> str:
    return f"{TOKENS}{digest(secret)}.json"


def session(session_id: str) -> str:
    return f"{SESSIONS}{digest(session_id)}.json"


def attempts(login: str) -> str:
    """The folder of one login name's attempt rounds."""
    return f"{ROOT}attempts/{digest(login)}/"


def attempt(login: str, round_no: int, slot: int | str) -> str:
    return f"{attempts(login)}{round_no:010d}/{slot}.json"


def attempt_round(key: str) -> tuple[int, str]:
    """The round and slot name of an attempt key."""
    round_no, name = key.rsplit("/", 2)[-2:]
    return int(round_no), name.removesuffix(".json")
