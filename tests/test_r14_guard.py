"""Round 14's attacker pass over the HTTP surfaces (docs/access.md, docs/web.md): each test is a
request an attacker can send and what they must get back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from tests.conftest import ROOT, TEST_PASSWORD, cli_with_env
from tests.web_site import free_port, wait_until_up

ORGAN = "000.00.00.G09"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("guard") / "data", workers=1, organ=ORGAN)
    Accounts(build_store(settings)).add_user("an.nguyen", "officer", ORGAN, TEST_PASSWORD)
    # raise_server_exceptions=False: see the answer a client gets, a 500 included
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_deeply_nested_json_to_the_login_is_a_clear_refusal_not_a_server_error(site) -> None:
    """POST /login needs no credential: 200 kB of nested brackets (well under the body limit)
    made the JSON parser recurse too deep, and anyone could make the server answer 500 and log
    a traceback of 90 lines per request."""
    body = "[" * 100_000 + "]" * 100_000
    answer = site.post("/login", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 401, answer.text
    assert answer.json()["message"] == "send login and password as JSON or a form"
    # and the login itself still works
    good = site.post("/login", json={"login": "an.nguyen", "password": TEST_PASSWORD})
    assert good.status_code == 200, good.text


def test_login_fields_that_are_not_text_are_refused_like_a_wrong_password(site) -> None:
    answer = site.post("/login", json={"login": ["an.nguyen"], "password": {"x": 1}})
    assert answer.status_code == 401, answer.text
    assert "Traceback" not in answer.text


def test_the_readme_names_every_route_that_answers_without_a_credential() -> None:
    """README's *Users and access* said only /health, /login and /docs need no credential; the
    OCSP responder, the CRLs, /redoc, /openapi.json and /static/ answer anyone too."""
    from app.auth import PUBLIC, PUBLIC_PREFIXES

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Users and access") : readme.index("### Configuration")]
    paragraph = section[: section.index("| role |")]
    named = {"/docs/oauth2-redirect": "/docs", "/static-offline-docs/": "/docs"}
    named["/pki/ocsp/"] = "/pki/ocsp"  # its GET form, the same responder
    for path in [*PUBLIC, *PUBLIC_PREFIXES]:
        assert named.get(path, path) in paragraph, path


def test_behind_the_tls_proxy_the_session_cookie_is_secure(site) -> None:
    """The deployment puts a TLS proxy in front (Compose: its requests come from the Docker
    gateway, whose X-Forwarded-Proto uvicorn does not trust). The cookie was set without
    `Secure`, so a browser would also send it over plain http to the same host."""
    login = {"login": "an.nguyen", "password": TEST_PASSWORD}
    proxied = site.post("/login", json=login, headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200, proxied.text
    cookie = proxied.headers["set-cookie"]
    assert "sohoa_session=" in cookie and "secure" in cookie.lower(), cookie
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower(), cookie
    direct = site.post("/login", json=login)  # plain http, no proxy: Secure would lose it
    assert "secure" not in direct.headers["set-cookie"].lower(), direct.headers["set-cookie"]


@contextmanager
def _served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """`sohoa serve` as an operator starts it, with the officer an.nguyen: its URL, process
    and log file."""
    port, data, log_path = free_port(), tmp_path / "data", tmp_path / "serve.log"
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_WORKERS": "1", "SOHOA_ORGAN": ORGAN}
    Accounts(build_store(Settings(data_dir=data))).add_user(
        "an.nguyen", "officer", ORGAN, TEST_PASSWORD
    )
    cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    with log_path.open("w") as log:
        server = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, server)
        yield url, server, log_path
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def test_logins_sent_together_by_anyone_hold_bounded_memory(tmp_path: Path) -> None:
    """Each password check is argon2id with 64 MiB; 16 logins of unknown names sent at once (no
    credential needed, no lock: each name is new) made `sohoa serve` hold ~1.1 GiB more, 40 of
    them 2.4 GiB. Now at most PASSWORD_CHECKS run at once; every caller still gets its 401."""

    def guess(url: str, n: int) -> int:
        body = {"login": f"nobody-{n}", "password": "guess"}
        return httpx.post(f"{url}/login", json=body, timeout=300).status_code

    with _served(tmp_path) as (url, server, _):
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(guess, [url] * 16, range(16)))
        status = Path(f"/proc/{server.pid}/status").read_text()
    assert answers == [401] * 16, answers
    # the server's own high-water mark (its mm's, unlike ru_maxrss not inherited from pytest)
    peak_kib = int(status.split("VmHWM:")[1].split()[0])
    # measured 394 MiB (idle ~140 MiB + 4 checks × 64 MiB); 1,094 MiB on 1fd7f2e
    assert peak_kib < 600 * 1024, peak_kib


def test_an_ingest_without_an_owner_organ_says_who_will_see_its_records(tmp_path: Path) -> None:
    """A new user runs `make demo` (or `sohoa ingest`) without SOHOA_ORGAN, then logs in to the
    web app as the officer README's *Web application* tells them to add: the search is empty,
    as the records have no owner and only admins see them. Nothing said so."""
    pdf = write_pdf_digital(tmp_path / "quyet-dinh.pdf", list(make_documents(1, seed=3)[0].pages))
    env = {k: v for k, v in os.environ.items() if k != "SOHOA_ORGAN"}
    env["SOHOA_DATA_DIR"] = str(tmp_path / "data")
    unowned = cli_with_env(env, "ingest", str(pdf), "--no-progress")
    assert unowned.returncode == 0, unowned.stderr
    assert "no owner organ" in unowned.stderr and "sohoa migrate" in unowned.stderr, unowned.stderr
    owned = cli_with_env({**env, "SOHOA_ORGAN": ORGAN}, "ingest", str(pdf), "--json")
    assert owned.returncode == 0 and "no owner organ" not in owned.stderr, owned.stderr


def test_the_upload_forms_csrf_token_is_not_written_to_the_servers_log(tmp_path: Path) -> None:
    """The upload page without JS posts to `/upload?csrf_token=…` (a multipart body is not
    read twice); uvicorn's access log wrote that URL, the session's CSRF token in clear."""
    with _served(tmp_path) as (url, _, log_path), httpx.Client(base_url=url) as browser:
        login = browser.post("/login", json={"login": "an.nguyen", "password": TEST_PASSWORD})
        token = login.json()["csrf_token"]
        files = {"files": ("a.pdf", b"%PDF-1.4 not really", "application/pdf")}
        browser.post(f"/upload?csrf_token={token}", files=files)
    log = log_path.read_text()
    assert '"POST /upload?csrf_token=[redacted] HTTP/1.1"' in log, log[-2000:]
    assert token not in log, log[-2000:]


def test_a_search_offset_past_the_result_window_is_a_422_not_a_server_error(site) -> None:
    """GET /search?offset=99999999999999999999 was a 500 (SQLite cannot hold the integer);
    OpenSearch refuses any offset + limit above 10,000. The API now says where the limit is."""
    token = site.post("/login", json={"login": "an.nguyen", "password": TEST_PASSWORD}).json()
    headers = {"X-CSRF-Token": token["csrf_token"]}
    for offset in ("99999999999999999999", "10000"):
        answer = site.get(f"/search?offset={offset}", headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["query", "offset"], answer.text
    last = site.get("/search?offset=9800&limit=200", headers=headers)
    assert last.status_code == 200 and last.json()["hits"] == [], last.text


def test_organs_list_is_one_line_an_organ_that_grep_can_read(tmp_path: Path) -> None:
    """README sends a new user to `sohoa organs list` for their OrganId. It printed a Rich table:
    names wrapped onto lines without their id (`| grep "Nội vụ"` lost it), and the national
    registry's 61k rows took 40 s of CPU and 0.5 GB before the first line showed."""
    env = {**os.environ, "SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_ORGANS": "sample"}
    listed = cli_with_env({**env, "COLUMNS": "60"}, "organs", "list")
    assert listed.returncode == 0, listed.stderr
    as_json = cli_with_env(env, "organs", "list", "--json")
    organs = [json.loads(line) for line in as_json.stdout.splitlines()]
    lines = listed.stdout.splitlines()
    assert lines[0] == f"{len(organs)} organ(s)" and len(lines) == len(organs) + 2, lines[:4]
    for organ, line in zip(organs, lines[2:], strict=True):
        assert line.startswith(organ["organ_id"]) and line.endswith(organ["name"]), line
