"""One error root with stable codes (STYLE §3). The CLI maps codes to exit codes in one place."""

from __future__ import annotations


class SohoaError(Exception):
    """Base of every error sohoa reports to a user.

    `code` is stable and machine-readable; `retryable` tells workers whether a retry can help.
    """

    code = "error"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputNotFound(SohoaError):
    code = "not_found"


class UnreadableInput(SohoaError):
    code = "unreadable"


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


class StorageError(SohoaError):
    code = "storage"
    retryable = True


class NotFound(SohoaError):
    code = "unknown_id"
