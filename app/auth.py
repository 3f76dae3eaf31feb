"""Who is calling the HTTP API: one middleware authenticates every request, one dependency hands
routes the `Principal`, and `allow(...)` states which roles a route takes.

Credentials: `Authorization: Bearer TOKEN` (a user's API token, `sohoa users token`; under
/exchange/ and on /audit/verify also an organ's exchange token, `sohoa exchange token`), or the
session cookie that `POST /login` sets for the browser. Every request but PUBLIC needs one, and
`Authenticate` answers 401 before a byte of the body is read (FastAPI parses a body before it
runs a route's dependencies, so a dependency alone would read a multi-GB upload first). A
state-changing request authenticated by the cookie must carry the session's CSRF token in
`X-CSRF-Token` (403 otherwise); a bearer token is never sent by a browser on its own, so it
needs none.

Browser pages (app/web/): a GET without a credential that asks for HTML is sent to
`/login?next=…` instead of a 401; a form cannot set a header, so a small urlencoded form body may
carry the CSRF token as the field `csrf_token` instead (read here, then replayed to the route);
a multipart upload form carries it in its action URL (`?csrf_token=…`, checked before the
body is read); and `POST /login`, `POST /logout` from a browser form answer with a redirect,
not JSON.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

import anyio
from fastapi import Depends, FastAPI, Request, Security
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import APIKeyCookie, HTTPBearer
from starlette.routing import Match

from accounts.models import Principal
from accounts.service import Accounts
from app.login_limits import ClientLimit
from app.transfer import refuse
from schemas.access import Viewer
from schemas.accounts import Role
from schemas.errors import Forbidden, SohoaError, Unauthenticated

SESSION_COOKIE = "sohoa_session"
CSRF_HEADER = b"x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PRINCIPAL_KEY = "sohoa.principal"  # where Authenticate leaves the Principal for the routes
# Answered without a credential: the health probe, the login, the API's own documentation, and
# the CA's OCSP responder and CRLs (app/pki_api.py: verifiers elsewhere have no account here).
PUBLIC = frozenset(
    {"/health", "/login", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/pki/ocsp"}
)
# Public, but a credential sent is resolved (never refused): /health tells an admin more.
CREDENTIAL_OPTIONAL = frozenset({"/health"})
# Swagger UI and ReDoc assets (fastapi-offline); the web pages' CSS and JS (the login page too)
PUBLIC_PREFIXES = ("/static-offline-docs/", "/static/", "/pki/ocsp/", "/pki/crl/")
READERS = (Role.officer, Role.archivist, Role.admin)
UPLOADERS = (Role.archivist, Role.admin)
EXCHANGERS = (Role.clerk, Role.admin)

OrganForToken = Callable[[str], str | None]


def is_public(path: str) -> bool:
    return path in PUBLIC or path.startswith(PUBLIC_PREFIXES)


def takes_organ_tokens(path: str) -> bool:
    """Organ tokens are for organ-to-organ transport: the exchange, and its audit check."""
    return path.startswith("/exchange/") or path == "/audit/verify"


class Resolver:
    """Headers -> Principal or None; blocking (it reads the store), run in a thread."""

    def __init__(self, accounts: Accounts, organ_for_token: OrganForToken) -> None:
        self.accounts = accounts
        self.organ_for_token = organ_for_token

    def __call__(self, headers: dict[bytes, bytes], path: str) -> Principal | None:
        token = _bearer(headers)
        if token:
            found = self.accounts.principal_for_token(token)
            if found is None and takes_organ_tokens(path):
                organ_id = self.organ_for_token(token)
                if organ_id is not None:
                    found = Principal(kind="organ", organ_id=organ_id, via="organ-token")
            return found
        session_id = _cookie(headers, SESSION_COOKIE)
        return self.accounts.principal_for_session(session_id) if session_id else None


class Authenticate:
    """ASGI middleware: every HTTP request outside PUBLIC needs a valid credential, checked
    before its body is read; so a route added later is guarded without anyone listing it."""

    def __init__(self, app: Any, resolve: Resolver) -> None:
        self.app = app
        self.resolve = resolve

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            if scope["type"] == "http" and scope["path"] in CREDENTIAL_OPTIONAL:
                scope = await self._with_optional_credential(scope)
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        found = await anyio.to_thread.run_sync(self.resolve, headers, scope["path"])
        if found is None:
            if wants_page(scope, headers):
                await _to_login(scope, send)
                return
            message = "a valid credential is required (Authorization: Bearer … or POST /login)"
            await _refuse(send, 401, "unauthorized", message, [(b"www-authenticate", b"Bearer")])
            return
        if found.via == "session" and scope["method"] not in SAFE_METHODS:
            sent = headers.get(CSRF_HEADER, b"").decode("latin-1")
            if not sent and _is_small_form(headers):
                sent, receive = await _form_csrf_token(receive)
            if not sent and _is_multipart(headers):
                sent = _query_csrf_token(scope)
            if not secrets.compare_digest(sent, found.csrf_token or ""):
                message = "this request needs the session's X-CSRF-Token header (from POST /login)"
                await _refuse(send, 403, "csrf", message)
                return
        refused = _role_refusal(scope, found)
        if refused is not None:  # a wrong role's multi-GB upload is not read either
            await _refuse(send, 403, refused.code, refused.message)
            return
        await self.app({**scope, PRINCIPAL_KEY: found}, receive, send)

    async def _with_optional_credential(self, scope: dict) -> dict:
        """The scope with its caller when a GET sent a valid credential, else as it was."""
        headers = {k.lower(): v for k, v in scope["headers"]}
        if scope["method"] not in SAFE_METHODS or not (_bearer(headers) or b"cookie" in headers):
            return scope
        found = await anyio.to_thread.run_sync(self.resolve, headers, scope["path"])
        return scope if found is None else {**scope, PRINCIPAL_KEY: found}


def _role_refusal(scope: dict, caller: Principal) -> Forbidden | None:
    """The route's own `allow(...)` rule, applied before the body: FastAPI would run it only
    after reading the whole form."""
    for route in getattr(scope.get("app"), "routes", ()):
        if route.matches(scope)[0] != Match.FULL:
            continue
        for dependency in getattr(route, "dependencies", ()):
            if getattr(dependency.dependency, "role_rule", False):
                try:
                    dependency.dependency(caller)
                except Forbidden as e:
                    return e
        return None
    return None


async def _refuse(send: Callable, status: int, code: str, message: str, headers=None) -> None:  # noqa: ANN001
    await refuse(send, status, json.dumps({"error": code, "message": message}).encode(), headers)


def _bearer(headers: dict[bytes, bytes]) -> str:
    explicit = headers.get(b"x-sohoa-token", b"").decode("latin-1").strip()
    authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
    scheme, _, value = authorization.partition(" ")
    return explicit or (value.strip() if scheme.lower() == "bearer" else "")


def _cookie(headers: dict[bytes, bytes], name: str) -> str:
    jar = SimpleCookie()
    try:
        jar.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # noqa: BLE001 - a garbled Cookie header is no credential
        return ""
    return jar[name].value if name in jar else ""


# ------------------------------------------------------------------ dependencies

# Declared so that the OpenAPI description lists both schemes on every route that uses them;
# the checking itself is Authenticate's.
_bearer_scheme = HTTPBearer(auto_error=False, description="a user's API token (sohoa users token)")
_cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="POST /login")


def principal(
    request: Request,
    _bearer: Annotated[Any, Security(_bearer_scheme)] = None,
    _session: Annotated[Any, Security(_cookie_scheme)] = None,
) -> Principal:
    """The caller, as Authenticate resolved it (once per request)."""
    found = request.scope.get(PRINCIPAL_KEY)
    if found is None:
        raise Unauthenticated("a valid credential is required")
    return found


Me = Annotated[Principal, Depends(principal)]


def viewer_of(me: Principal) -> Viewer:
    """Which records a caller sees: admins every one, others their organ's (schemas.access)."""
    return Viewer.everything() if me.role == Role.admin else Viewer.of_organ(me.organ_id)


def allow(*roles: Role, organ_tokens: bool = False) -> Callable[[Principal], Principal]:
    """A dependency: the caller if its role is one of `roles` (or it is an organ token and
    `organ_tokens`), else 403."""

    def check(me: Me) -> Principal:
        if (me.kind == "organ" and organ_tokens) or me.role in roles:
            return me
        who = f"role {me.role.value}" if me.role else "an organ token"
        raise Forbidden(f"{who} may not do this (allowed: {', '.join(r.value for r in roles)})")

    check.role_rule = True  # found and applied early by Authenticate
    return check


# ------------------------------------------------------------------ login, logout


# Password checks at once, over all logins: each argon2id check holds 64 MiB (the library's
# default cost) for its time. Without a bound, 40 logins sent together by anyone (the default
# thread pool) held 2.4 GiB, and took every thread the other routes run on; now at most 256 MiB.
PASSWORD_CHECKS = 4


def register_login_routes(api: FastAPI, accounts: Accounts, clients: ClientLimit) -> None:
    password_checks = anyio.CapacityLimiter(PASSWORD_CHECKS)

    @api.post("/login")
    async def login(request: Request) -> Response:
        """`{"login", "password"}` as JSON or a form: sets the session cookie (HttpOnly,
        SameSite=Strict, Secure over https) and returns the CSRF token that every
        state-changing request made with the cookie must send as `X-CSRF-Token`. A browser's
        form (app/web/) is sent on to its `next` page, or shown again with the reason."""
        _refuse_cross_site(request)
        browser, fields = from_browser_form(request), {}
        try:
            client = clients.take(request.scope)  # counted first: parallel guesses too
            fields = await _login_fields(request)
            session_id, session = await anyio.to_thread.run_sync(
                accounts.login,
                fields.get("login", ""),
                fields.get("password", ""),
                limiter=password_checks,
            )
        except SohoaError as error:
            login_page = getattr(request.app.state, "login_page", None)
            if browser and login_page is not None:  # the form again, with the reason
                return login_page(request, error, fields)
            raise
        clients.give_back(client)  # a success is no failure of this address
        if previous := request.cookies.get(SESSION_COOKIE):  # one session per browser:
            await anyio.to_thread.run_sync(accounts.logout, previous)  # the one it held ends
        body = {"login": session.login, "csrf_token": session.csrf_token}
        response: Response = JSONResponse({**body, "expires": session.expires.isoformat()})
        if browser:
            response = RedirectResponse(safe_next(fields.get("next", "")), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=int(accounts.session_ttl.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=_over_https(request),
        )
        return response

    @api.post("/logout")
    def logout(request: Request, me: Me) -> Response:
        if me.via == "session":
            accounts.logout(request.cookies.get(SESSION_COOKIE, ""))
        response: Response = JSONResponse({"login": me.login, "logged_out": me.via == "session"})
        if from_browser_form(request):
            response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
        return response


def _over_https(request: Request) -> bool:
    """Whether the browser reached us over https: directly, or through the TLS proxy the
    deployment puts in front (README, *Running it with Compose*), which says so in
    `X-Forwarded-Proto`. uvicorn trusts that header only from 127.0.0.1, and under Compose the
    proxy's requests come from the Docker gateway: the cookie lost `Secure` and could be sent
    over plain http. Believing a forged header here only makes the sender's own cookie stricter.
    """
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _refuse_cross_site(request: Request) -> None:
    """Login CSRF: a page of another site must not log the browser in (as the attacker, whose
    account then receives what the victim uploads). Browsers name the page that sent a request
    (`Sec-Fetch-Site`, `Origin`); clients that are not browsers send neither and are let in.
    The scheme is not compared: behind a TLS proxy the app sees http."""
    origin, foreign = request.headers.get("origin"), False
    if origin is not None:  # "null" (a sandboxed page) is foreign too
        own = f"{urlsplit(origin).scheme}://{request.headers.get('host', '')}"
        foreign = not _host_port(origin)[0] or _host_port(origin) != _host_port(own)
    if foreign or request.headers.get("sec-fetch-site") == "cross-site":
        raise Forbidden("a login from another site's page is refused (login CSRF)")


def _host_port(url: str) -> tuple[str, int | None]:
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # "null" (a sandboxed page), a malformed port
        return "", None
    return (parts.hostname or "", port)


async def _login_fields(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except (ValueError, RecursionError):  # nested too deep: the parser's stack, not ours
            data = None
    else:
        data = dict(await request.form())
    if not isinstance(data, dict):
        raise Unauthenticated("send login and password as JSON or a form")
    return {k: v for k, v in data.items() if isinstance(v, str)}


# ------------------------------------------------------------------ browser pages

FORM_TYPE = b"application/x-www-form-urlencoded"
FORM_CSRF_BYTES = 64 * 1024  # a page's form of a few fields; bigger ones send the header


def wants_page(scope: dict, headers: dict[bytes, bytes]) -> bool:
    """A browser navigating (GET asking for HTML), not a script calling the JSON API."""
    return scope["method"] in ("GET", "HEAD") and b"text/html" in headers.get(b"accept", b"")


def from_browser_form(request: Request) -> bool:
    """A form a browser submitted (it then wants a page back), not a JSON client."""
    kind = request.headers.get("content-type", "")
    is_form = kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    return is_form and "text/html" in request.headers.get("accept", "")


def safe_next(value: str) -> str:
    """Where to go after logging in: a path of this site only (`/…`), never another site
    (`//evil`, `https://evil`, `/\\evil`); `/` otherwise."""
    parts = urlsplit(value)
    local = value.startswith("/") and not value.startswith(("//", "/\\"))
    if not local or parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return "/"
    return value


async def _to_login(scope: dict, send: Callable) -> None:
    here = scope["path"] + (
        f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else ""
    )
    target = "/login?next=" + quote(safe_next(here), safe="")
    headers = [(b"location", target.encode("latin-1")), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _is_small_form(headers: dict[bytes, bytes]) -> bool:
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    length = headers.get(b"content-length", b"")
    return kind == FORM_TYPE and length.isdigit() and int(length) <= FORM_CSRF_BYTES


def _is_multipart(headers: dict[bytes, bytes]) -> bool:
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return kind == b"multipart/form-data"


def _query_csrf_token(scope: dict) -> str:
    """A form with files (the upload page without JS) is too big to read twice: its token
    rides in the form's action URL, `?csrf_token=…`, checked before a byte of the body."""
    try:
        fields = parse_qs(scope["query_string"].decode("latin-1"), max_num_fields=100)
    except ValueError:  # too many fields: no token from it
        return ""
    return (fields.get("csrf_token") or [""])[0]


async def _form_csrf_token(receive: Callable) -> tuple[str, Callable]:
    """The form's `csrf_token` field, and a `receive` that hands the route the same body."""
    chunks, size, more = [], 0, True
    while more and size <= FORM_CSRF_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return "", receive
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
    if more:  # longer than Content-Length said: no token from it
        return "", receive
    body = b"".join(chunks)
    fields = parse_qs(body.decode("latin-1"), max_num_fields=100)
    replayed = False

    async def replay() -> dict:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return (fields.get("csrf_token") or [""])[0], replay
