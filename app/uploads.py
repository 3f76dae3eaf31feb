"""One uploaded file taken in: what `POST /documents` (JSON API) and `POST /upload` (the upload
page without JS) both do with a multipart file part before the use case runs."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from fastapi import UploadFile

from pipeline.detect import sniff_media_type
from schemas.errors import Refused, TooLarge
from workers.jobs import submit
from workers.runtime import WorkerPool
from workers.services import Services
from workers.submit import Submission

MAX_UPLOAD_BYTES = 2 * 1024**3  # one file; and the whole body of the page's multi-file form
MULTIPART_SLACK_BYTES = 64 * 1024  # boundaries and part headers around the uploaded file
SNIFF_BYTES = 1024  # sniff_media_type looks no further (a PDF header may sit anywhere in it)
# The routes whose body is uploaded files: they get the limit above instead of the default.
UPLOAD_PATHS = frozenset({"/documents", "/upload"})


def upload_name(file: UploadFile) -> str:
    """The client's name is only the record's source name (made safe by accept), never a path:
    "..", "a/b" or a NUL byte in it cannot touch the file system."""
    return PurePosixPath((file.filename or "upload").replace("\\", "/")).name or "upload"


def take_upload(services: Services, pool: WorkerPool, file: UploadFile, owner: str) -> Submission:
    """Store the original at once and queue its work (`workers.jobs.submit`), owned by `owner`.
    Refused before anything is stored: too large (TooLarge), no PDF or image whatever its name
    (sniff_media_type's 422), or a submission with no record (Refused, with its reason)."""
    name = upload_name(file)
    with tempfile.TemporaryDirectory(prefix="sohoa-upload-") as tmp:
        path = Path(tmp) / "upload"
        with path.open("wb") as out:
            copied = _copy_limited(file.file, out, MAX_UPLOAD_BYTES)
        if copied > MAX_UPLOAD_BYTES:
            raise TooLarge(f"file larger than {MAX_UPLOAD_BYTES:,} bytes")
        with path.open("rb") as head:
            # What the CLI's ingest checks too, here before anything is stored.
            sniff_media_type(head.read(SNIFF_BYTES), name)
        sub = submit(services, pool, path, name=name, owner=owner)
    if sub.error is not None and sub.doc_id is None:
        raise Refused(sub.error.code, sub.error.message)
    return sub


def _copy_limited(src: BinaryIO, dst: BinaryIO, limit: int) -> int:
    copied = 0
    while chunk := src.read(1024 * 1024):
        copied += len(chunk)
        if copied > limit:
            return copied
        dst.write(chunk)
    return copied
