"""One error root with stable codes (STYLE §3).

Each class says what it means on every surface: `code` (stable, machine-readable), `exit_code`
(the CLI's exit status) and `http_status` (the API's answer). Each surface has one handler that
reads them; no surface keeps its own table.
"""

from __future__ import annotations

import errno

# What the OS answers when a write is refused by permissions or a read-only mount.
READ_ONLY_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class SohoaError(Exception):
    """Base of every error sohoa reports to a user.

    `code` is stable and machine-readable; `retryable` tells workers whether a retry can help.
    """

    code = "error"
    retryable = False
    exit_code = 1
    http_status = 422  # the request was understood but cannot be carried out
    retry_after: int | None = None  # seconds, sent as Retry-After with a 503

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputNotFound(SohoaError):
    code = "not_found"
    exit_code = 3
    http_status = 404


class UnreadableInput(SohoaError):
    code = "unreadable"


class PermissionDenied(UnreadableInput):
    code = "permission_denied"


class NotRegularFile(UnreadableInput):
    """A FIFO, socket or device: never opened for reading (a FIFO would block forever)."""

    code = "not_regular_file"


class NoSupportedFiles(SohoaError):
    """A folder or glob pattern the user named that holds nothing sohoa can ingest."""

    code = "no_files"


class EmptyInput(SohoaError):
    code = "empty_file"


class UnsupportedType(SohoaError):
    code = "unsupported_type"


class CorruptInput(SohoaError):
    code = "corrupt"


class EncryptedInput(SohoaError):
    code = "encrypted"


class ImageTooLarge(SohoaError):
    code = "too_large"


class OcrFailed(SohoaError):
    code = "ocr_failed"
    retryable = True


class ToolMissing(SohoaError):
    code = "tool_missing"


class PagesFailed(SohoaError):
    """No page of a document could be read; each page's own reason is in the message."""

    code = "pages_failed"


class StepFailed(SohoaError):
    code = "step_failed"


class PageResultsMissing(SohoaError):
    """The stored page results holding a document's words (workers/pages.py) are gone or
    unreadable (a damaged data folder): its metadata is not read again from nothing."""

    code = "page_results_missing"
    exit_code = 6  # damaged data, as DamagedRecord
    http_status = 503


class StorageError(SohoaError):
    code = "storage"
    http_status = 503
    retryable = True


class NotFound(SohoaError):
    code = "unknown_id"
    exit_code = 3
    http_status = 404


class BadSetting(SohoaError):
    """A setting (a `SOHOA_*` variable or its option) holds a value sohoa cannot use."""

    code = "bad_setting"
    exit_code = 2  # a usage error, as typer answers an option it cannot parse
    http_status = 500  # the server's own configuration, not the request


class NotReady(SohoaError):
    """What was asked of a document does not exist yet (no searchable PDF while it is processed)."""

    code = "not_ready"
    http_status = 409


class TooLarge(SohoaError):
    """An upload above the size the server takes."""

    code = "too_large_upload"
    http_status = 413


class Refused(SohoaError):
    """An input refused for a reason recorded with its own code (an ingest row's error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class OutputNotWritable(SohoaError):
    """A file the user asked for (`-o PATH`) cannot be written there."""

    code = "output_not_writable"


class ReadOnlyData(SohoaError):
    """A write was asked of a data folder this user may only read (reads still work there)."""

    code = "read_only"
    exit_code = 5
    http_status = 503  # the request was fine; the data cannot be written now

    def __init__(self, folder: object, action: str) -> None:
        super().__init__(f"data folder {folder} is read-only: cannot {action}")


class IndexUnavailable(SohoaError):
    """The search index cannot be used; the records, the source of truth, are not affected."""

    code = "index_unavailable"
    exit_code = 4
    http_status = 503


class IndexDamaged(IndexUnavailable):
    """The index is not what sohoa wrote: `sohoa reindex` sets it aside and rebuilds it."""

    code = "index_damaged"
    state = "is damaged"

    def __init__(self, where: object, reason: str) -> None:
        super().__init__(
            f"the search index {where} {self.state} ({reason}); "
            "run 'sohoa reindex' to rebuild it from the records"
        )
        self.reason = reason


class IndexOutdated(IndexDamaged):
    """An index of another layout version: rebuilt, like a damaged one, by `sohoa reindex`."""

    code = "index_outdated"
    state = "has another layout"


class DamagedRecord(SohoaError):
    """A stored record that cannot be read as a Document (garbled or cut JSON)."""

    code = "damaged_record"
    exit_code = 6
    http_status = 503

    def __init__(self, doc_id: str, reason: str) -> None:
        super().__init__(f"record {doc_id} is damaged ({reason})")
        self.doc_id = doc_id
        self.reason = reason


class Unauthenticated(SohoaError):
    """No valid credential: no token, an unknown or revoked one, a disabled user, a wrong
    password (the message never says which, so it tells an outsider nothing)."""

    code = "unauthorized"
    exit_code = 4
    http_status = 401


class Forbidden(SohoaError):
    """A known user whose role may not do what was asked."""

    code = "forbidden"
    exit_code = 4
    http_status = 403


class LoginLocked(SohoaError):
    """Too many failed logins for one login name: refused until the lock ends."""

    code = "login_locked"
    exit_code = 4
    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadAccount(SohoaError):
    """An account field sohoa cannot take (a login with a slash, a short password, a role that
    does not exist, a token name in use)."""

    code = "bad_account"
    exit_code = 2
    http_status = 422
