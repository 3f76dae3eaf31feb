"""The admin pages (role admin only): users and their API tokens, the exchange audit log with
its verify, and the system status (documents by status, failed ones, queue, backends).

Every account change goes through `accounts.service.Accounts`, as `sohoa users` does; its own
validators (`valid_login`, `valid_password`) only decide which field a refusal is shown on.
A password is never written back into a page, and a new token is shown once, on the page
answering the POST that issued it (no redirect: it is never in a URL or a later page).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.models import MIN_PASSWORD_CHARS, valid_login, valid_password
from accounts.service import Accounts
from app.auth import Me, allow
from app.compose import Context
from app.web.i18n import STRINGS, language
from app.web.organs import organ_id_of
from app.web.render import page
from exchange.audit import AuditLog
from schemas.accounts import Role
from schemas.errors import BadAccount, NotFound
from schemas.models import DocumentStatus
from schemas.redact import redact_url
from schemas.text import nfc
from workers.admin import AUDIT_SCAN, audit_page, document_counts, failure_reason
from workers.fixity import last_result

AUDIT_PAGE_SIZE = 50
FormText = Annotated[str, Form()]  # a missing field is "" (a refusal on the form, not a 422)
NOTICES = ("user_added", "user_disabled", "password_set", "token_revoked")


def register_admin_pages(api: FastAPI, context: Context) -> None:
    services, settings = context.services, context.settings
    accounts = Accounts(services.store, session_hours=settings.session_hours)
    admins = [Depends(allow(Role.admin))]

    def organ_names(ids: Iterable[str]) -> dict[str, str]:
        """The names of these organs (the registry holds 38,000: never all of them)."""
        found = {i: context.registry.get(i) for i in set(ids)}
        return {i: o.name for i, o in found.items() if o is not None}

    def users_page(
        request: Request, me: Me, form: dict[str, str] | None = None, error: str = ""
    ) -> HTMLResponse:
        listed = sorted(accounts.users(), key=lambda u: u.login)
        view = {
            "users": listed,
            "organs": organ_names(u.organ_id for u in listed),
            "roles": [r.value for r in Role],
            "form": form or {"login": "", "role": Role.officer.value, "organ": settings.organ},
            "error": error,
            "notice": _notice(request),
        }
        return page(request, "admin_users.html", view, me=me, status=400 if error else 200)

    def user_page(request: Request, me: Me, login: str, **extra: Any) -> HTMLResponse:
        try:
            user = accounts.user(login)
        except (NotFound, BadAccount) as error:
            strings = STRINGS[language(request)]
            gone = NotFound(f"{strings['no_such_user']} ({nfc(login)})")
            return page(request, "error.html", {"error": gone}, me=me, status=error.http_status)
        view = {
            "user": user,
            "organ_name": organ_names([user.organ_id]).get(user.organ_id, ""),
            "tokens": sorted(accounts.tokens(user.login), key=lambda t: t.created),
            "notice": _notice(request),
            "new_token": None,
            "password_error": "",
            "token_error": "",
            **extra,
        }
        failed = bool(view["password_error"] or view["token_error"])
        return page(request, "admin_user.html", view, me=me, status=400 if failed else 200)

    @api.get("/admin/users", response_class=HTMLResponse, dependencies=admins, tags=["web"])
    def users(request: Request, me: Me) -> HTMLResponse:
        return users_page(request, me)

    @api.post("/admin/users", response_class=HTMLResponse, dependencies=admins, tags=["web"])
    def add_user(
        request: Request,
        me: Me,
        login: FormText = "",
        role: FormText = "",
        organ: FormText = "",
        password: FormText = "",
        password_again: FormText = "",
    ) -> Response:
        shown = {"login": login, "role": role, "organ": organ}  # never the passwords
        strings = STRINGS[language(request)]
        organ = organ_id_of(context.registry, organ)  # an id, a label or an exact name
        problem = _new_user_problem(
            login, role, organ, password, password_again, organ_names([organ])
        )
        if problem:
            return users_page(request, me, shown, strings[problem].format(n=MIN_PASSWORD_CHARS))
        try:
            user = accounts.add_user(login, role, organ, password)
        except BadAccount:  # every field passed the checks above: the login is taken
            return users_page(request, me, shown, strings["user_exists"])
        return _see(f"/admin/users/{user.login}", "user_added")

    @api.get("/admin/users/{login}", response_class=HTMLResponse, dependencies=admins, tags=["web"])
    def user(request: Request, me: Me, login: str) -> HTMLResponse:
        return user_page(request, me, login)

    @api.post(
        "/admin/users/{login}/disable",
        response_class=HTMLResponse,
        dependencies=admins,
        tags=["web"],
    )
    def disable(request: Request, me: Me, login: str) -> Response:
        try:
            accounts.disable(login)
        except (NotFound, BadAccount):
            return user_page(request, me, login)  # the page saying there is no such user
        return _see(f"/admin/users/{valid_login(login)}", "user_disabled")

    @api.post(
        "/admin/users/{login}/password",
        response_class=HTMLResponse,
        dependencies=admins,
        tags=["web"],
    )
    def set_password(
        request: Request, me: Me, login: str, password: FormText = "", password_again: FormText = ""
    ) -> Response:
        strings = STRINGS[language(request)]
        problem = _password_problem(password, password_again)
        if problem:
            message = strings[problem].format(n=MIN_PASSWORD_CHARS)
            return user_page(request, me, login, password_error=message)
        try:
            accounts.set_password(login, password)
        except (NotFound, BadAccount):
            return user_page(request, me, login)
        return _see(f"/admin/users/{valid_login(login)}", "password_set")

    @api.post(
        "/admin/users/{login}/tokens",
        response_class=HTMLResponse,
        dependencies=admins,
        tags=["web"],
    )
    def issue_token(request: Request, me: Me, login: str, name: FormText = "") -> Response:
        try:
            accounts.user(login)
        except (NotFound, BadAccount):
            return user_page(request, me, login)
        try:
            token = accounts.issue_token(login, name)
        except BadAccount:  # the user exists: the name is taken
            taken = STRINGS[language(request)]["token_name_taken"]
            return user_page(request, me, login, token_error=taken)
        return user_page(request, me, login, new_token=token)

    @api.post(
        "/admin/users/{login}/tokens/revoke",
        response_class=HTMLResponse,
        dependencies=admins,
        tags=["web"],
    )
    def revoke(request: Request, me: Me, login: str, name: FormText = "") -> Response:
        try:
            accounts.revoke(login, name)
        except (NotFound, BadAccount) as error:  # no such user (the page says so), or token
            return user_page(request, me, login, token_error=error.message)
        return _see(f"/admin/users/{valid_login(login)}", "token_revoked")

    # ------------------------------------------------------------------ audit log

    def audit(
        request: Request, me: Me, organ: str, action: str, page_no: int, report: Any = None
    ) -> HTMLResponse:
        organ, action = nfc(organ).strip(), nfc(action).strip()
        found = audit_page(services, organ=organ, action=action, page=page_no, size=AUDIT_PAGE_SIZE)

        def url(n: int) -> str:
            params = {"organ": organ, "action": action, "page": n}
            return "/admin/audit?" + urlencode({k: v for k, v in params.items() if v})

        view = {
            "found": found,
            "entries": [(e, _note(e.detail)) for e in found.entries],
            "organ": organ,
            "action": action,
            "page_no": page_no,
            "prev_url": url(page_no - 1) if page_no > 1 else None,
            "next_url": url(page_no + 1) if found.has_next else None,
            "report": report,
            "scan_cap": AUDIT_SCAN,
        }
        return page(request, "admin_audit.html", view, me=me)

    @api.get("/admin/audit", response_class=HTMLResponse, dependencies=admins, tags=["web"])
    def audit_log(
        request: Request,
        me: Me,
        organ: str = "",
        action: str = "",
        page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    ) -> HTMLResponse:
        return audit(request, me, organ, action, page_no)

    @api.post("/admin/audit/verify", response_class=HTMLResponse, dependencies=admins, tags=["web"])
    def audit_verify(
        request: Request, me: Me, organ: FormText = "", action: FormText = ""
    ) -> HTMLResponse:
        """What `sohoa audit verify` does: the check, then a checkpoint over a log that holds
        (a POST may write; the API's GET /audit/verify only checks)."""
        log = AuditLog.for_options(services.store, services.exchange)
        return audit(request, me, organ, action, 1, report=log.verify_and_checkpoint())

    # ------------------------------------------------------------------ system status

    @api.get("/admin/status", response_class=HTMLResponse, dependencies=admins, tags=["web"])
    def status(request: Request, me: Me) -> HTMLResponse:
        counts = document_counts(services)
        pool = getattr(request.app.state, "worker_pool", None)  # set by app/api.py
        view = {
            "counts": counts,
            "statuses": list(DocumentStatus),
            "failed": [(d, failure_reason(d)) for d in counts.failed],
            "load": pool.load() if pool is not None else None,
            "broker": redact_url(settings.broker) if settings.broker else "",
            "storage": redact_url(settings.storage)
            if settings.storage
            else str(settings.storage_path),
            "search": redact_url(settings.search) if settings.search else str(settings.search_path),
            "data_dir": str(settings.data_dir),
            "fixity": last_result(services),
        }
        return page(request, "admin_status.html", view, me=me)


def _new_user_problem(
    login: str, role: str, organ: str, password: str, again: str, organs: dict[str, str]
) -> str:
    """The string key of what is wrong with a new user's form, or "": the account service's
    own validators decide (it checks again when it adds the user)."""
    try:
        valid_login(login)
    except BadAccount:
        return "bad_login"
    if role not in {r.value for r in Role}:
        return "bad_role"
    if organ.strip() not in organs:
        return "bad_organ"
    return _password_problem(password, again)


def _password_problem(password: str, again: str) -> str:
    try:
        valid_password(password)
    except BadAccount:
        return "bad_password"
    return "" if password == again else "passwords_differ"


def _see(path: str, notice: str) -> RedirectResponse:
    """After a change: 303 to the page that shows it (a reload does not post it again)."""
    return RedirectResponse(f"{path}?{urlencode({'done': notice})}", status_code=303)


def _notice(request: Request) -> str:
    done = request.query_params.get("done", "")
    return done if done in NOTICES else ""


def _note(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in detail.items())
