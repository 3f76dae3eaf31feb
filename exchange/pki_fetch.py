"""Revocation data over HTTP (docs/exchange.md, "Trust"): a CRL from a certificate's
distribution point, an OCSP answer from its responder. Only URLs named by certificates that
already chain to a trusted root are fetched (pki_verify.py), with a short timeout and a size
limit, so a slow or hostile server costs a verification seconds and kilobytes, not more."""

from __future__ import annotations

from collections.abc import Callable

TIMEOUT_S = 5.0
MAX_CRL_BYTES = 16 * 1024 * 1024  # a national CA's CRL runs to megabytes
MAX_OCSP_BYTES = 64 * 1024  # one certificate's answer, perhaps with a responder certificate

# (url, body or None for a GET, content type, largest answer) -> the answer's bytes
Fetch = Callable[[str, bytes | None, str, int], bytes]


class FetchError(Exception):
    """The URL did not answer with what was asked (down, slow, an error status, too large)."""


def is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def http_fetch(url: str, body: bytes | None, content_type: str, max_bytes: int) -> bytes:
    """GET (body None) or POST `url`; the answer's bytes, or FetchError saying why not."""
    import httpx

    if not is_http(url):
        raise FetchError(f"not an http(s) URL: {url}")
    headers = {"Content-Type": content_type} if body is not None else {}
    try:
        with httpx.stream(
            "GET" if body is None else "POST",
            url,
            content=body,
            headers=headers,
            timeout=TIMEOUT_S,
            follow_redirects=False,
        ) as answer:
            if answer.status_code != 200:
                raise FetchError(f"{url} answered HTTP {answer.status_code}")
            data = bytearray()
            for chunk in answer.iter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise FetchError(f"{url} answered more than {max_bytes} bytes")
            return bytes(data)
    except httpx.HTTPError as e:
        raise FetchError(f"{url} is unreachable ({type(e).__name__}: {e})") from e
