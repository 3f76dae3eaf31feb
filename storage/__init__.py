"""Object storage: the source of truth (DESIGN §3). One small Protocol, two implementations."""

from storage.base import ObjectStore
from storage.keys import original_key, page_key, pdf_key, record_key
from storage.local import LocalStore
from storage.records import RecordStore

__all__ = [
    "LocalStore",
    "ObjectStore",
    "RecordStore",
    "original_key",
    "page_key",
    "pdf_key",
    "record_key",
]
