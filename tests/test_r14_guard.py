"""Round 14's attacker pass over the HTTP surfaces (docs/access.md, docs/web.md): each test is a
request an attacker can send and what they must get back."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_store
from app.config import Settings
from tests.conftest import TEST_PASSWORD

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
    from tests.conftest import ROOT

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
