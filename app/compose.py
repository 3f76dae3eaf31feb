"""Build the backends named by the settings."""

from __future__ import annotations

from app.config import Settings
from pipeline.page import PageOptions
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
        raise ValueError(f"SOHOA_STORAGE={settings.storage}: use a folder or minio://")
    return LocalStore(settings.storage_path)


def build_index(settings: Settings) -> SearchIndex:
    if settings.search.startswith(("http://", "https://")):
        from search.elastic import ElasticIndex

        return ElasticIndex(settings.search, alias=settings.search_index)
    if "://" in settings.search:
        raise ValueError(f"SOHOA_SEARCH={settings.search}: use a file or http(s)://")
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
    )
