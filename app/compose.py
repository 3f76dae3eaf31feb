"""Build the backends named by the settings."""

from __future__ import annotations

from app.config import Settings
from exchange.options import ExchangeOptions
from pipeline.page import PageOptions
from schemas.redact import redact_url
from search.base import SearchIndex
from search.sqlite import SqliteIndex
from storage.base import ObjectStore
from storage.local import LocalStore
from workers.services import Services


def build_store(settings: Settings) -> ObjectStore:
    if settings.storage.startswith(("minio://", "minios://")):
        from storage.minio import MinioStore

        return MinioStore.from_url(settings.storage)
    if "://" in settings.storage:
        raise ValueError(f"SOHOA_STORAGE={redact_url(settings.storage)}: use a folder or minio://")
    return LocalStore(settings.storage_path)


def build_index(settings: Settings) -> SearchIndex:
    if settings.search.startswith(("http://", "https://")):
        from search.elastic import ElasticIndex

        return ElasticIndex(settings.search, alias=settings.search_index)
    if "://" in settings.search:
        raise ValueError(f"SOHOA_SEARCH={redact_url(settings.search)}: use a file or http(s)://")
    return SqliteIndex(settings.search_path)


def build_services(settings: Settings) -> Services:
    return Services(
        store=build_store(settings),
        index=build_index(settings),
        page_options=PageOptions(
            deskew=settings.deskew,
            normalise_background=settings.normalise_background,
            denoise=settings.denoise,
        ),
        exchange=exchange_options(settings),
    )


def exchange_options(settings: Settings) -> ExchangeOptions:
    return ExchangeOptions(
        keys_dir=settings.data_dir / "exchange-keys",
        algorithm=settings.exchange_signature,
        sha1_peers=frozenset(
            p.strip() for p in settings.exchange_sha1_peers.split(",") if p.strip()
        ),
        sign=settings.exchange_sign,
        max_bytes=settings.exchange_max_bytes,
        organs=settings.organs,
        retry_min_backoff_ms=settings.exchange_retry_min_ms,
        max_retries=settings.exchange_retries,
        peers=settings.exchange_peers,
        audit_checkpoint_every=settings.audit_checkpoint_every,
        audit_checkpoint_minutes=settings.audit_checkpoint_minutes,
    )
