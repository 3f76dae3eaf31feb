"""Templates, their strings and the security headers every page and page image carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from accounts.models import Principal
from app.web.i18n import LANG_COOKIE, STRINGS, language
from app.web.reasons import page_likeness, pair_evidence, shown_note, shown_reason

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
# No inline script or style anywhere (not even a style="" attribute): what a scan's text could
# smuggle into a page cannot run, and the page works only with our own files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

# Autoescape on for every template, whatever its name: OCR text and file names are hostile.
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined
)
# Reasons and evidence from the data, worded in the page's language: `{{ r | reason(t) }}`
_env.filters.update(
    reason=shown_reason, evidence=pair_evidence, likeness=page_likeness, note=shown_note
)


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    me: Principal | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A template rendered in the caller's language, with the security headers; `?lang=` is
    remembered in a cookie."""
    lang = language(request)
    other = "en" if lang == "vi" else "vi"
    params = {k: v for k, v in request.query_params.multi_items() if k != "lang"}
    body = _env.get_template(template).render(
        t=STRINGS[lang],
        lang=lang,
        other_lang_url=f"{request.url.path}?{urlencode([*params.items(), ('lang', other)])}",
        me=me,
        **context,
    )
    response = HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store"  # pages show records: no shared caching
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict")
    return response
