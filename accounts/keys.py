"""Where accounts live in the object store: every key under `accounts/` is built here.

    accounts/users/<login>.json                 one user (password hash, role, organ, disabled)
    accounts/tokens/<sha256 of token>.json      an API token -> its user and name
    accounts/sessions/<sha256 of id>.json       a browser session -> its user, CSRF token, expiry
    accounts/attempts/<sha256 of login>.json    failed logins of one login name, and its lock

Tokens and session ids are stored only as their SHA-256: the store never holds one that works.
"""

from __future__ import annotations

import hashlib

ROOT = "accounts/"
USERS = f"{ROOT}users/"
TOKENS = f"{ROOT}tokens/"
SESSIONS = f"{ROOT}sessions/"


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
    return f"{ROOT}attempts/{digest(login)}.json"
