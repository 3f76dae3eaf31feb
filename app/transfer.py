"""Bytes in and names out over HTTP: request body limits, bodies spooled to files, and the
Content-Disposition header of every download."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from fastapi import HTTPException, Request

# (method, path) -> most bytes accepted on that route, or None for the middleware's default
Limits = Callable[[str, str], int | None]


def _too_large(limit: int, declared: int | None = None) -> bytes:
    size = f"{declared:,} bytes" if declared is not None else "more bytes than that"
    return (
        f'{{"error": "too_large", "message": "request body above the limit of {limit:,} '
        f'bytes: {size} sent"}}'
    ).encode()


class BodyLimit:
    """ASGI middleware: a request body above its route's limit is refused with 413 — from
    Content-Length before a byte is read, and while streaming as soon as more bytes than the
    limit have arrived (no Content-Length, or a lying one). Whatever the app makes of the
    cut-off body (a parse error, a half-read form), the client gets the 413.

    Every HTTP request has a limit: `default` unless `limits` names a larger one for its route,
    so a route added later is guarded without anyone remembering to list it."""

    def __init__(self, app: Any, limits: Limits, default: int) -> None:
        self.app = app
        self.limits = limits
        self.default = default

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits(scope["method"], scope["path"])
        limit = self.default if limit is None else limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            length = int(declared) if declared.isdigit() else None
            if length is None or length > limit:
                await self._refuse(send, _too_large(limit, length))
                return
        seen, over, started = 0, False, False

        async def counted() -> dict:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise HTTPException(413, "request body above the limit")
            return message

        async def replaced(message: dict) -> None:
            nonlocal started
            if over and not started:  # the app answered the cut-off body: answer 413 instead
                started = True
                await self._refuse(send, _too_large(limit))
                return
            if over:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, replaced)
        except Exception:
            if not over:
                raise
            if not started:
                await self._refuse(send, _too_large(limit))

    @staticmethod
    async def _refuse(send: Callable, body: bytes) -> None:
        await refuse(send, 413, body)


async def refuse(send: Callable, status: int, body: bytes, headers: list | None = None) -> None:
    """Answer without reading the request body; `Connection: close`, so the server drops the
    connection instead of reading (and discarding) whatever body the client still sends."""
    headers = [*(headers or []), (b"content-type", b"application/json"), (b"connection", b"close")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def spool_body(request: Request, path: Path, limit: int) -> Path:
    """Stream the request body into `path` chunk by chunk (never one growing bytes object);
    413 past `limit` (BodyLimit refuses it earlier on the routes it guards)."""
    size = 0
    with path.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"request body above the limit of {limit:,} bytes")
            out.write(chunk)
    return path


async def read_body(request: Request, limit: int) -> bytes:
    """A small body in memory (a status message): chunks joined once, 413 past `limit`."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body above the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def file_chunks(f: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    """A download body in fixed-size pieces (iterating a binary file yields lines: an envelope's
    base64 is one line of tens of megabytes), closing the file at the end."""
    with f:
        while chunk := f.read(size):
            yield chunk


# ------------------------------------------------------------------ Content-Disposition

_ASCII_FOLD = str.maketrans({"đ": "d", "Đ": "D"})  # no decomposition takes their stroke off
_UNSAFE = re.compile(r"[^A-Za-z0-9._()+ -]+")


def _clean(name: str) -> str:
    """NFC, no control or format characters (a newline would end the header), no folders."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    return name.replace("/", "_").replace("\\", "_").strip(" .") or "download"


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: `filename="…"`, an ASCII fallback of safe characters only (Vietnamese without
    its marks), then the real name as `filename*=UTF-8''…` (RFC 5987), which browsers prefer.

    >>> content_disposition("hồ sơ.pdf")
    'attachment; filename="ho so.pdf"; filename*=UTF-8\\'\\'h%E1%BB%93%20s%C6%A1.pdf'
    """
    name = _clean(name)
    ascii_name = unicodedata.normalize("NFKD", name.translate(_ASCII_FOLD))
    ascii_name = ascii_name.encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = ascii_name.rpartition(".") if "." in ascii_name else (ascii_name, "", "")
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "download"
    fallback = stem + dot + _UNSAFE.sub("_", suffix)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
