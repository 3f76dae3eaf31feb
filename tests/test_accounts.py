"""Accounts and access (issue 15, first slice): every API route needs a credential, roles
decide what a credential may do, browser sessions are protected against CSRF, logins are
throttled, tokens are stored only as hashes, and the operator manages it all with `sohoa users`.

The route matrix iterates the application's own route table: a route added later is checked
without anyone listing it, and one missing from ROLES fails until someone says who may call it.
Its callers are the issue's: no credential, an officer of another organ (an invisible record is
404 on every record route, as a missing one), an officer of the record's organ, a clerk, an
archivist and an admin.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from accounts import keys
from accounts.service import LOCK_S, MAX_FAILURES, Accounts
from app.api import create_app
from app.auth import is_public
from app.compose import build_services, build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from schemas.errors import LoginLocked, Unauthenticated
from schemas.text import fold
from tests.conftest import TEST_ORGAN, TEST_PASSWORD, run_cli
from workers.jobs import ingest_batch

ADMIN, ARCHIVIST, OFFICER, CLERK = "admin", "archivist", "officer", "clerk"
ELSEWHERE = "000.00.00.G20"  # an organ of the sample registry that owns nothing here
# The callers of the matrix: (name, role). "stranger": an officer of ELSEWHERE.
CALLERS = [("stranger", OFFICER), (OFFICER, OFFICER), (CLERK, CLERK)]
CALLERS += [(ARCHIVIST, ARCHIVIST), (ADMIN, ADMIN)]
DOSSIER = "HS-MATRIX"
# What the matrix sends to a route that needs a body or a query (a no-op for the record).
REQUESTS = {
    ("GET", "/exchange/organs"): {"params": {"level": "central"}},  # not all 38,000 organs
    ("POST", "/documents/{doc_id}/shares"): {"json": {"organ": TEST_ORGAN}},
    ("PUT", "/documents/{doc_id}/public"): {"json": {"public": False}},
    ("PATCH", "/documents/{doc_id}/metadata"): {"json": {"field": "subject", "value": "Về việc"}},
    ("POST", "/dossiers/{file_code}/documents"): {"json": {"documents": ["{doc_id}"]}},
    ("POST", "/documents/{doc_id}/fields"): {"data": {"field": "subject", "value": "Về việc"}},
    ("POST", "/documents/{doc_id}/sharing"): {"data": {"action": "share", "organ": TEST_ORGAN}},
    ("POST", "/dossier-list"): {"data": {"file_code": DOSSIER, "documents": "{doc_id}"}},
}
# What a route answers its record's organ when not 200 (the record has no failed page: the
# retry is refused after the checks of who and what passed).
ANSWERS = {("POST", "/documents/{doc_id}/retry"): 409}
# Routes that undo what the matrix needs for the next call: the record is filed again after.
REFILE = {("DELETE", "/dossiers/{file_code}/documents/{doc_id}")}
REFILE |= {("POST", "/dossiers/{file_code}/documents/{doc_id}/remove")}  # its page form
READERS = {OFFICER, ARCHIVIST, ADMIN}
EXCHANGERS = {CLERK, ADMIN}
EVERYONE = {ADMIN, ARCHIVIST, OFFICER, CLERK}
# Who may call each protected route: a route missing here fails test_every_route_has_a_rule.
ROLES = {
    ("GET", "/search"): READERS,
    ("GET", "/documents/{doc_id}"): READERS,
    ("GET", "/review"): READERS,
    ("GET", "/dossiers/{file_code}"): READERS,
    ("GET", "/documents/{doc_id}/pdf"): READERS,
    ("GET", "/documents/{doc_id}/shares"): READERS,
    ("POST", "/documents/{doc_id}/shares"): {ARCHIVIST, ADMIN},
    ("DELETE", "/documents/{doc_id}/shares/{organ}"): {ARCHIVIST, ADMIN},
    ("PUT", "/documents/{doc_id}/public"): {ARCHIVIST, ADMIN},
    ("POST", "/documents"): {ARCHIVIST, ADMIN},
    ("PATCH", "/documents/{doc_id}/metadata"): {ARCHIVIST, ADMIN},
    ("GET", "/documents/{doc_id}/progress"): READERS,
    ("POST", "/documents/{doc_id}/retry"): {ARCHIVIST, ADMIN},
    ("GET", "/dossiers"): READERS,
    ("POST", "/dossiers/{file_code}/documents"): {ARCHIVIST, ADMIN},
    ("DELETE", "/dossiers/{file_code}/documents/{doc_id}"): {ARCHIVIST, ADMIN},
    ("POST", "/logout"): EVERYONE,
    ("GET", "/exchange/organs"): EVERYONE,
    ("GET", "/exchange/organs/{key}"): EVERYONE,
    ("GET", "/organs"): EVERYONE,  # the web's organ fields search the registry (app/web/organs.py)
    ("POST", "/exchange/send"): EXCHANGERS,
    ("POST", "/exchange/build"): EXCHANGERS,
    ("POST", "/exchange/receive"): EXCHANGERS,
    ("POST", "/exchange/status-in"): EXCHANGERS,
    ("GET", "/exchange/inbox"): EXCHANGERS,
    ("GET", "/exchange/sent"): EXCHANGERS,
    ("GET", "/exchange/messages/{message_id}"): EXCHANGERS,
    ("GET", "/exchange/messages/{message_id}/envelope"): EXCHANGERS,
    ("POST", "/exchange/messages/{message_id}/status"): EXCHANGERS,
    ("POST", "/exchange/messages/{message_id}/recall"): EXCHANGERS,
    ("POST", "/exchange/messages/{message_id}/public"): EXCHANGERS,
    ("GET", "/audit/verify"): EXCHANGERS,
    ("GET", "/"): EVERYONE,  # the web pages (app/web/): a clerk is sent on to /exchange
    ("GET", "/documents/{doc_id}/view"): READERS,
    ("GET", "/documents/{doc_id}/pages/{page_no}/image"): READERS,
    ("GET", "/upload"): {ARCHIVIST, ADMIN},  # the upload page and its batches (app/web/upload.py)
    ("POST", "/upload"): {ARCHIVIST, ADMIN},
    ("POST", "/batches"): {ARCHIVIST, ADMIN},
    ("GET", "/batches"): {ARCHIVIST, ADMIN},
    ("GET", "/batches/{batch_id}"): {ARCHIVIST, ADMIN},
    ("POST", "/batches/{batch_id}/documents"): {ARCHIVIST, ADMIN},
    ("POST", "/batches/{batch_id}/file"): {ARCHIVIST, ADMIN},
    ("POST", "/batches/{batch_id}/retry"): {ARCHIVIST, ADMIN},
    ("GET", "/review/queue"): READERS,  # review, sharing and dossier pages (app/web/review.py)
    ("POST", "/documents/{doc_id}/fields"): {ARCHIVIST, ADMIN},
    ("POST", "/documents/{doc_id}/sharing"): {ARCHIVIST, ADMIN},
    ("GET", "/documents/{doc_id}/original"): READERS,
    ("GET", "/dossier-list"): READERS,
    ("POST", "/dossier-list"): {ARCHIVIST, ADMIN},
    ("GET", "/dossiers/{file_code}/view"): READERS,
    ("POST", "/dossiers/{file_code}/documents/{doc_id}/remove"): {ARCHIVIST, ADMIN},
    ("GET", "/exchange"): EXCHANGERS,
    ("GET", "/exchange/send"): EXCHANGERS,
    ("POST", "/exchange/messages/{message_id}/retry"): EXCHANGERS,
    ("POST", "/exchange/messages/{message_id}/forward"): EXCHANGERS,
    ("GET", "/admin/users"): {ADMIN},  # the admin pages (app/web/admin.py); "x": no such user
    ("POST", "/admin/users"): {ADMIN},
    ("GET", "/admin/users/{login}"): {ADMIN},
    ("POST", "/admin/users/{login}/disable"): {ADMIN},
    ("POST", "/admin/users/{login}/password"): {ADMIN},
    ("POST", "/admin/users/{login}/tokens"): {ADMIN},
    ("POST", "/admin/users/{login}/tokens/revoke"): {ADMIN},
    ("GET", "/admin/audit"): {ADMIN},
    ("POST", "/admin/audit/verify"): {ADMIN},
    ("GET", "/admin/status"): {ADMIN},
    # probable duplicates (app/duplicates_api.py, app/web/duplicates.py): "x"/"x" is no pair
    ("GET", "/review/duplicates"): READERS,
    ("GET", "/review/duplicates/{a}/{b}"): READERS,
    ("POST", "/review/duplicates/merge"): {ARCHIVIST, ADMIN},
    ("POST", "/review/duplicates/dismiss"): {ARCHIVIST, ADMIN},
    ("GET", "/review/pairs"): READERS,
    ("POST", "/review/pairs"): {ARCHIVIST, ADMIN},
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An installation with one user per role, an officer of another organ, a disabled user,
    a revoked token, and one record of TEST_ORGAN filed into a dossier."""
    tmp = tmp_path_factory.mktemp("data")
    settings = Settings(data_dir=tmp, workers=1, organ=TEST_ORGAN)
    accounts = Accounts(build_store(settings))
    tokens = {}
    for role in (ADMIN, ARCHIVIST, OFFICER, CLERK):
        accounts.add_user(f"u-{role}", role, TEST_ORGAN, TEST_PASSWORD)
        tokens[role] = accounts.issue_token(f"u-{role}")
    accounts.add_user("stranger", OFFICER, ELSEWHERE, TEST_PASSWORD)
    tokens["stranger"] = accounts.issue_token("stranger")
    accounts.add_user("gone", OFFICER, TEST_ORGAN, TEST_PASSWORD)
    tokens["disabled"] = accounts.issue_token("gone")
    accounts.disable("gone")
    tokens["revoked"] = accounts.issue_token("u-admin", "old")
    accounts.revoke("u-admin", "old")
    tokens["bad"] = "not-a-token"
    (doc,) = make_documents(1, seed=15, pages=1)
    pdf = write_pdf_digital(tmp / "record.pdf", doc.pages)
    services = build_services(settings)
    (row,) = ingest_batch(services, [str(pdf)], threads=1, dossier=DOSSIER).rows
    assert row.result == "ok", row
    words = fold(doc.pages[0].lines[-1].runs[0].text)  # the signer's name: in this record only
    return {
        "settings": settings,
        "accounts": accounts,
        "tokens": tokens,
        "record": row.doc.id,
        "words": words,
    }


def _routes(app) -> list[tuple[str, str]]:  # noqa: ANN001
    return sorted(
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _url(path: str, site: dict) -> str:
    """A route's path with the matrix's record, dossier and organ in it ("x" for the rest)."""
    known = {"doc_id": site["record"], "file_code": DOSSIER, "organ": ELSEWHERE, "page_no": "1"}
    known["key"] = ELSEWHERE  # one organ, not the thousands of the national registry "x" finds
    return re.sub(r"\{([^}]+)\}", lambda m: known.get(m[1], "x"), path)


def _request(method: str, path: str, site: dict) -> dict:
    """The body the matrix sends to a route, with the matrix's record in it."""
    request = REQUESTS.get((method, path), {})
    if "json" in request and "documents" in request["json"]:
        return {"json": {"documents": [site["record"]]}}
    if "data" in request:  # a page's form
        return {"data": {k: _url(v, site) for k, v in request["data"].items()}}
    return request


def _on_the_record(path: str) -> bool:
    return "{doc_id}" in path or "{file_code}" in path


def test_every_route_answers_401_without_a_valid_credential_and_403_to_other_roles(
    site: dict,
) -> None:
    app = create_app(site["settings"])
    client = TestClient(app)
    protected = [(m, p) for m, p in _routes(app) if not is_public(p)]
    assert len(protected) >= len(ROLES)
    for method, path in protected:
        url = _url(path, site)
        request = _request(method, path, site)
        for kind in ("none", "bad", "revoked", "disabled"):
            headers = {} if kind == "none" else _bearer(site["tokens"][kind])
            answer = client.request(method, url, headers=headers, **request)
            assert answer.status_code == 401, (method, path, kind, answer.text)
            assert answer.headers["www-authenticate"] == "Bearer"
            assert answer.json()["error"] == "unauthorized"
        for caller, role in CALLERS:
            answer = client.request(method, url, headers=_bearer(site["tokens"][caller]), **request)
            if (method, path) in REFILE:
                refile = _request("POST", "/dossiers/{file_code}/documents", site)
                admin = _bearer(site["tokens"][ADMIN])
                client.post(f"/dossiers/{DOSSIER}/documents", headers=admin, **refile)
            allowed = role in ROLES.get((method, path), set())
            status = answer.status_code
            assert (status == 403) != allowed, (method, path, caller, answer.text)
            assert status != 401, (method, path, caller)
            if allowed and _on_the_record(path):
                # Another organ's record is missing to a stranger; its own organ reads it.
                wanted = 404 if caller == "stranger" else ANSWERS.get((method, path), 200)
                assert status == wanted, (method, path, caller, answer.text)


def test_a_stranger_searches_and_reviews_as_if_the_record_did_not_exist(site: dict) -> None:
    client = TestClient(create_app(site["settings"]))
    mine, other = _bearer(site["tokens"][OFFICER]), _bearer(site["tokens"]["stranger"])
    query = {"q": site["words"]}
    assert client.get("/search", params=query, headers=mine).json()["total"] == 1
    found = client.get("/search", params=query, headers=other).json()
    assert (found["total"], found["hits"]) == (0, [])
    assert all(not counts for counts in found["facets"].values())
    review = client.get("/review", headers=other).json()
    assert (review["total"], review["documents"]) == (0, [])


def test_every_route_has_a_rule_and_lists_its_security_schemes(site: dict) -> None:
    app = create_app(site["settings"])
    protected = {(m, p) for m, p in _routes(app) if not is_public(p)}
    assert protected == set(ROLES), "say in ROLES who may call a new route"
    spec = TestClient(app).get("/openapi.json").json()
    for method, path in protected:
        security = spec["paths"][path][method.lower()].get("security", [])
        assert {name for item in security for name in item} == {"HTTPBearer", "APIKeyCookie"}


def test_public_routes_need_no_credential(site: dict) -> None:
    client = TestClient(create_app(site["settings"]))
    for path in ("/health", "/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 200, path


def _upload_reads(app, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:  # noqa: ANN001
    """An endless multipart upload sent straight to the ASGI app: its status, bytes read."""
    read = 0

    async def receive() -> dict:  # 16 MiB, then the end: code that reads it all still ends
        nonlocal read
        read += 1 << 20
        return {"type": "http.request", "body": b"x" * (1 << 20), "more_body": read < 16 << 20}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/documents",
        "raw_path": b"/documents",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"multipart/form-data; boundary=x"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], read


def test_an_unauthenticated_upload_is_refused_before_its_body_is_read(site: dict) -> None:
    assert _upload_reads(create_app(site["settings"]), []) == (401, 0)


def test_a_wrong_roles_upload_is_refused_before_its_body_is_read(site: dict) -> None:
    officer = [(b"authorization", f"Bearer {site['tokens'][OFFICER]}".encode())]
    assert _upload_reads(create_app(site["settings"]), officer) == (403, 0)


def test_an_officer_cannot_upload(site: dict, tmp_path: Path) -> None:
    client = TestClient(create_app(site["settings"]))
    originals = site["settings"].data_dir / "store" / "originals"
    before = sorted(originals.iterdir())  # the matrix's record
    answer = client.post(
        "/documents",
        headers=_bearer(site["tokens"][OFFICER]),
        files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    assert sorted(originals.iterdir()) == before


def test_login_sets_a_strict_httponly_cookie_and_state_changes_need_the_csrf_token(
    site: dict,
) -> None:
    client = TestClient(create_app(site["settings"]))
    wrong = client.post("/login", json={"login": "u-officer", "password": "nope-nope"})
    assert wrong.status_code == 401
    login = client.post("/login", json={"login": "u-officer", "password": TEST_PASSWORD})
    assert login.status_code == 200, login.text
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    csrf = login.json()["csrf_token"]
    assert client.get("/search").status_code == 200  # the cookie alone reads
    refused = client.post("/logout")
    assert refused.status_code == 403 and refused.json()["error"] == "csrf"
    assert client.post("/logout", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.set("sohoa_session", cookie.split(";")[0].split("=", 1)[1])
    assert client.get("/search").status_code == 401  # the session is gone, not just the cookie


def test_form_login_over_https_sets_a_secure_cookie_and_disabling_ends_sessions(
    site: dict,
) -> None:
    accounts: Accounts = site["accounts"]
    accounts.add_user("short-lived", OFFICER, TEST_ORGAN, TEST_PASSWORD)
    client = TestClient(create_app(site["settings"]), base_url="https://testserver")
    login = client.post("/login", data={"login": "short-lived", "password": TEST_PASSWORD})
    assert login.status_code == 200 and "Secure" in login.headers["set-cookie"]
    assert client.get("/search").status_code == 200
    accounts.disable("short-lived")
    assert client.get("/search").status_code == 401
    again = client.post("/login", data={"login": "short-lived", "password": TEST_PASSWORD})
    assert again.status_code == 401


def test_failed_logins_lock_the_login_in_every_process_until_the_lock_ends(
    site: dict,
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = build_store(site["settings"])
    accounts = Accounts(store, clock=lambda: now[0])
    accounts.add_user("target", OFFICER, TEST_ORGAN, TEST_PASSWORD)
    for _ in range(MAX_FAILURES):
        with pytest.raises(Unauthenticated):
            accounts.login("target", "guess-guess")
    # Another process (another Accounts on the same store) meets the lock, right password or not.
    other = Accounts(store, clock=lambda: now[0])
    with pytest.raises(LoginLocked) as locked:
        other.login("target", TEST_PASSWORD)
    assert 0 < locked.value.retry_after <= LOCK_S + 1
    now[0] += timedelta(seconds=LOCK_S + 1)
    session_id, _ = other.login("target", TEST_PASSWORD)
    assert other.principal_for_session(session_id).login == "target"
    # Sessions expire.
    now[0] += timedelta(hours=8, seconds=1)
    assert other.principal_for_session(session_id) is None


def test_a_good_login_starts_the_failures_again_and_old_attempts_are_cleared(
    site: dict,
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = build_store(site["settings"])
    accounts = Accounts(store, clock=lambda: now[0])
    accounts.add_user("forgetful", OFFICER, TEST_ORGAN, TEST_PASSWORD)
    for _ in range(3):  # each time one short of the lock, then the right password
        for _ in range(MAX_FAILURES - 1):
            with pytest.raises(Unauthenticated):
                accounts.login("forgetful", "guess-guess")
        accounts.login("forgetful", TEST_PASSWORD)
    with pytest.raises(Unauthenticated):  # not locked: the failures counted from the last success
        accounts.login("forgetful", "guess-guess")
    rounds = {key.rsplit("/", 2)[-2] for key in store.list(keys.attempts("forgetful"))}
    assert len(rounds) <= 3, rounds  # rounds before the last two are deleted


def test_the_api_answers_a_locked_login_429_with_retry_after(site: dict) -> None:
    site["accounts"].add_user("locked", OFFICER, TEST_ORGAN, TEST_PASSWORD)
    client = TestClient(create_app(site["settings"]))
    for _ in range(MAX_FAILURES):
        assert client.post("/login", json={"login": "locked", "password": "x"}).status_code == 401
    answer = client.post("/login", json={"login": "locked", "password": TEST_PASSWORD})
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    assert answer.json()["error"] == "login_locked"


def test_users_cli_end_to_end_token_shown_once_and_stored_hashed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    added = run_cli_input(
        data,
        TEST_PASSWORD + "\n",
        "users",
        "add",
        "chị-Lan",
        "--role",
        "archivist",
        "--organ",
        TEST_ORGAN,
        "--password-stdin",
    )
    assert added.returncode == 0, added.stderr
    issued = run_cli(data, "users", "token", "chị-Lan", "--name", "scanner")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert issued.stdout == token + "\n" and len(token) >= 40
    listed = json.loads(run_cli(data, "users", "list", "--json").stdout)
    assert [(u["login"], u["role"], u["organ_id"]) for u in listed] == [
        ("chị-Lan", "archivist", TEST_ORGAN)
    ]
    assert "password_hash" not in listed[0]
    stored = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    assert token.encode() not in stored and TEST_PASSWORD.encode() not in stored
    client = TestClient(create_app(Settings(data_dir=data, workers=1)))
    assert client.get("/search", headers=_bearer(token)).status_code == 200
    tokens = json.loads(run_cli(data, "users", "tokens", "chị-Lan", "--json").stdout)
    assert [t["name"] for t in tokens] == ["scanner"] and tokens[0]["last_used"]
    assert token not in json.dumps(tokens)
    assert run_cli(data, "users", "revoke", "chị-Lan", "scanner").returncode == 0
    assert client.get("/search", headers=_bearer(token)).status_code == 401  # at once
    unknown = run_cli(data, "users", "revoke", "chị-Lan", "scanner")
    assert unknown.returncode == 3 and "no token named 'scanner'" in unknown.stderr
    bad = run_cli_input(
        data,
        "short\n",
        "users",
        "add",
        "bad/login",
        "--role",
        "officer",
        "--organ",
        TEST_ORGAN,
        "--password-stdin",
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: login 'bad/login'")


def test_users_passwd_ends_the_users_browser_sessions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    accounts = Accounts(build_store(Settings(data_dir=data, workers=1)))
    accounts.add_user("stolen", OFFICER, TEST_ORGAN, TEST_PASSWORD)
    sessions = [accounts.login("stolen", TEST_PASSWORD)[0] for _ in range(2)]
    changed = run_cli_input(
        data, "a-brand-new-password\n", "users", "passwd", "stolen", "--password-stdin"
    )
    assert changed.returncode == 0, changed.stderr
    assert "password of stolen changed; 2 browser session(s) ended" in changed.stdout
    assert [accounts.principal_for_session(s) for s in sessions] == [None, None]
    assert accounts.login("stolen", "a-brand-new-password")[1].login == "stolen"


def run_cli_input(data: Path, stdin: str, *args: str):  # noqa: ANN201
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "SOHOA_DATA_DIR": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
