"""Build the backends named by the settings."""

from __future__ import annotations

from app.config import Settings
from pipeline.page import PageOptions
from search.sqlite import SqliteIndex
from storage.local import LocalStore
from workers.services import Services


def build_services(settings: Settings) -> Services:
    for name, value in (("storage", settings.storage), ("search", settings.search)):
        if "://" in value:
            raise ValueError(f"SOHOA_{name.upper()}={value}: server backends are not built yet")
    return Services(
        store=LocalStore(settings.storage_path),
        index=SqliteIndex(settings.search_path),
        page_options=PageOptions(
            deskew=settings.deskew,
            normalise_background=settings.normalise_background,
            denoise=settings.denoise,
        ),
    )
