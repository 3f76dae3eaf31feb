"""The installation CA's public routes (docs/exchange.md, "Trust"): its CRLs and its OCSP
responder, which peers reach at the URLs issued certificates name (SOHOA_PKI_PUBLIC_URL). Public
by nature — a verifier elsewhere has no account here — and read-only: answered from the CA's
records, signed by the issuing CA (app/auth.py PUBLIC)."""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote

from fastapi import FastAPI, Request, Response

from exchange import messages
from exchange.pki import CRL_ROUTE, OCSP_ROUTE, Authority
from exchange.pki_ocsp import RESPONSE_TYPE, respond
from schemas.errors import NotFound

_CRL_NAME = re.compile(r"[0-9a-f]{32}")  # pki.crl_name_for_ca
MAX_OCSP_REQUEST_BYTES = 16 * 1024  # one certificate asked about, with a nonce


def register_pki_routes(api: FastAPI, authority: Authority) -> None:
    @api.get(CRL_ROUTE + "{name}.crl", response_class=Response)
    def crl(name: str) -> Response:
        """A CRL this installation publishes or keeps (DER), by its issuer's name hash."""
        if not _CRL_NAME.fullmatch(name):
            raise NotFound(f"no CRL {name}")
        data = authority.store.get_bytes(messages.crl(name))  # NotFound: 404
        return Response(data, media_type="application/pkix-crl")

    @api.post(OCSP_ROUTE, response_class=Response)
    async def ocsp_post(request: Request) -> Response:
        """OCSP over HTTP POST (RFC 6960 A.1): the DER request in the body."""
        body = await request.body()
        return _answer(authority, body[: MAX_OCSP_REQUEST_BYTES + 1])

    @api.get(OCSP_ROUTE + "/{encoded:path}", response_class=Response)
    def ocsp_get(encoded: str) -> Response:
        """OCSP over HTTP GET: the base64 DER request, URL-encoded, after the path."""
        try:
            request = base64.b64decode(unquote(encoded), validate=True)
        except ValueError:
            request = b""
        return _answer(authority, request)


def _answer(authority: Authority, request: bytes) -> Response:
    """Malformed, too large or not about our CA: an unsuccessful OCSP response, as RFC 6960
    has it (HTTP 200 either way: the status is inside, signed or not)."""
    if len(request) > MAX_OCSP_REQUEST_BYTES:
        request = b""
    return Response(respond(authority, request), media_type=RESPONSE_TYPE)
