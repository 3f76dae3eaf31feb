"""MinIO (any S3-compatible server) behind the ObjectStore protocol."""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import urllib3
from minio import Minio
from minio.error import S3Error
from minio.helpers import check_bucket_name

from schemas.errors import BadSetting, NotFound, StorageError
from storage.digest import sha256_file, sha256_stream
from storage.keys import is_content_addressed

PART_SIZE = 16 * 1024 * 1024
# Presigned links are bearer credentials for one object: short-lived, issued only after the
# caller's access check, so a leaked link soon stops working.
LINK_SECONDS = 15 * 60
SHA_HEADER = "sha256"  # stored as x-amz-meta-sha256
_MISSING = ("NoSuchKey", "NoSuchObject", "NoSuchBucket")
_EXISTS = ("PreconditionFailed", "ConditionalRequestConflict")  # a create() that lost


class _Body(io.RawIOBase):
    """A streamed object body that gives its connection back when closed."""

    def __init__(self, response: urllib3.BaseHTTPResponse) -> None:
        self._response = response

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._response.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._response.release_conn()
        super().close()


class MinioStore:
    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        public_url: str = "",
    ) -> None:
        self.bucket = bucket
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure)
        try:
            if not self.client.bucket_exists(bucket):
                self.client.make_bucket(bucket)
        except S3Error as e:
            if e.code != "BucketAlreadyOwnedByYou":
                raise StorageError(f"MinIO bucket {bucket!r} cannot be used: {e.message}") from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise StorageError(f"MinIO at {endpoint} cannot be reached: {e}") from e
        self._presigner = self._public_client(public_url, access_key, secret_key)

    def _public_client(self, public_url: str, access_key: str, secret_key: str) -> Minio:
        """The client that signs download links: for the endpoint clients outside our network
        use (SOHOA_PUBLIC_STORAGE_URL), as SigV4 signs the Host header. It only signs, never
        connects: the region is the one the server told the inner client (bucket_exists above
        asked it), since the public name may not even resolve from here."""
        if not public_url:
            return self.client
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
            raise BadSetting(
                f"SOHOA_PUBLIC_STORAGE_URL={public_url}: use http(s)://HOST[:PORT], no path"
            )
        region = self.client._get_region(self.bucket)  # noqa: SLF001 (cached, no request)
        return Minio(
            parts.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parts.scheme == "https",
            region=region,
        )

    @classmethod
    def from_url(
        cls, url: str, access_key: str = "", secret_key: str = "", public_url: str = ""
    ) -> MinioStore:
        """`minio://KEY:SECRET@host:port/bucket` (or `minios://` for TLS); the keys may be
        given apart instead (Settings: SOHOA_MINIO_ACCESS_KEY / SOHOA_MINIO_SECRET_KEY).
        `public_url`: the endpoint download links are signed for (empty: this one)."""
        parts = urlsplit(url)
        bucket = parts.path.strip("/") or "sohoa"
        access = unquote(parts.username or access_key)
        secret = unquote(parts.password or secret_key)
        if not access or not secret:
            raise StorageError("MinIO credentials missing: set SOHOA_MINIO_ACCESS_KEY/SECRET_KEY")
        try:  # checked here, or the first call fails far from the setting that named it
            check_bucket_name(bucket, strict=True)
        except ValueError as e:
            raise BadSetting(f"SOHOA_STORAGE: {e} (S3 bucket names: 3-63 of a-z 0-9 . -)") from e
        endpoint = f"{parts.hostname}:{parts.port or 9000}"
        secure = parts.scheme == "minios"
        return cls(endpoint, access, secret, bucket, secure=secure, public_url=public_url)

    def _call(self, what: str, key: str, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        try:
            return fn(self.bucket, key, *args, **kwargs)
        except S3Error as e:
            if e.code in _MISSING:
                raise NotFound(f"no object {key!r} in bucket {self.bucket}") from e
            raise StorageError(f"MinIO {what} {key!r} failed: {e.code} {e.message}") from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise StorageError(f"MinIO {what} {key!r} failed: {e}") from e

    def _stored_sha(self, key: str) -> str | None:
        try:
            stat = self._call("stat", key, self.client.stat_object)
        except NotFound:
            return None
        return (stat.metadata or {}).get(f"x-amz-meta-{SHA_HEADER}")

    def _guard_content_addressed(self, key: str, sha: str) -> bool:
        """True if this exact content is already stored under a content-addressed key."""
        if not is_content_addressed(key):
            return False
        stored = self._stored_sha(key)
        if stored is None:
            return False
        if stored != sha:
            raise StorageError(f"refusing to overwrite {key!r} with different bytes")
        return True

    def put_bytes(self, key: str, data: bytes) -> None:
        sha = hashlib.sha256(data).hexdigest()
        if self._guard_content_addressed(key, sha):
            return
        self._call(
            "upload",
            key,
            self.client.put_object,
            io.BytesIO(data),
            len(data),
            metadata={SHA_HEADER: sha},
        )

    def create(self, key: str, data: bytes) -> bool:
        """A conditional PUT (`If-None-Match: *`, S3's write-once precondition, which MinIO
        and versitygw honour): the server refuses it with 412 when the key exists. The minio
        client's put_object sends no such header, hence its lower-level request."""
        headers = {
            "If-None-Match": "*",
            "Content-Type": "application/octet-stream",
            f"x-amz-meta-{SHA_HEADER}": hashlib.sha256(data).hexdigest(),
        }
        try:
            self._call("create", key, self._put_conditional, data, headers)
        except StorageError as e:
            if isinstance(e.__cause__, S3Error) and e.__cause__.code in _EXISTS:
                return False
            raise
        return True

    def _put_conditional(self, bucket: str, key: str, data: bytes, headers: dict) -> None:
        self.client._execute("PUT", bucket, key, body=data, headers=headers)  # noqa: SLF001

    def put_file(self, key: str, path: Path) -> None:
        """Multipart upload straight from the file, then the stored bytes are hashed again."""
        sha = sha256_file(path)
        if self._guard_content_addressed(key, sha):
            return
        self._call(
            "upload",
            key,
            self.client.fput_object,
            str(path),
            part_size=PART_SIZE,
            metadata={SHA_HEADER: sha},
        )
        if self._hash_stored(key) != sha:
            self.delete(key)
            raise StorageError(f"upload of {key!r} arrived damaged (SHA-256 mismatch); removed")

    def _hash_stored(self, key: str) -> str:
        with self.open(key) as body:
            return sha256_stream(body)

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    def open(self, key: str) -> BinaryIO:
        response = self._call("download", key, self.client.get_object)
        return io.BufferedReader(_Body(response), 1024 * 1024)  # type: ignore[return-value]

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="sohoa-minio-") as tmp:
            path = Path(tmp) / key.rsplit("/", 1)[-1]
            self._call("download", key, self.client.fget_object, str(path))
            yield path

    def exists(self, key: str) -> bool:
        try:
            self._call("stat", key, self.client.stat_object)
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call("delete", key, self.client.remove_object)

    def list(self, prefix: str) -> Iterator[str]:
        try:
            names = [
                o.object_name
                for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            ]
        except S3Error as e:
            raise StorageError(f"MinIO list {prefix!r} failed: {e.message}") from e
        yield from sorted(n for n in names if n)

    def presigned_url(self, key: str, expires_s: int = LINK_SECONDS, disposition: str = "") -> str:
        """A time-limited download link for the API, on the public endpoint when one is set;
        `disposition`: the Content-Disposition header S3 answers it with (the file name)."""
        headers = {"response-content-disposition": disposition} if disposition else None
        return self._presigner.presigned_get_object(
            self.bucket, key, expires=timedelta(seconds=expires_s), response_headers=headers
        )
