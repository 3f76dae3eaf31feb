"""Build the backends named by the settings: one `Context` per process (CLI run, API, worker)."""

from __future__ import annotations

from functools import cached_property, partial
from typing import TYPE_CHECKING

from app.config import Settings
from exchange.options import ExchangeOptions
from organs.registry import OrganRegistry
from schemas.access import Viewer
from schemas.errors import BadSetting
from schemas.redact import redact_url
from search.base import SearchIndex
from search.sqlite import SqliteIndex
from storage.base import ObjectStore
from storage.cache import CachedOriginals
from storage.local import LocalStore
from workers.fixity import FixitySchedule
from workers.services import Services

if TYPE_CHECKING:
    from pipeline.page import PageOptions

# The CLI runs on the machine that holds the store and its credentials: it is the operator and
# sees every record (README, "Users and access"), whichever command it runs.
OPERATOR = Viewer.everything()


class Context:
    """The settings one process runs with and what they name, each built once, on first use: a
    command that needs no store never connects to one. The CLI hands it to every command as
    typer's `ctx.obj`; the API and the worker entry make one at start. Whatever else is built
    from the settings (e.g. the organ registry) belongs here too, as one more cached property."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self) -> ObjectStore:
        return build_store(self.settings)

    @cached_property
    def index(self) -> SearchIndex:
        return build_index(self.settings)

    @cached_property
    def services(self) -> Services:
        return build_services(self.settings, store=self.store, index=self.index)

    @cached_property
    def registry(self) -> OrganRegistry:
        return build_registry(self.settings)


def build_store(settings: Settings) -> ObjectStore:
    if settings.storage.startswith(("minio://", "minios://")):
        from storage.minio import MinioStore

        store = MinioStore.from_url(
            settings.storage,
            settings.minio_access_key.get_secret_value(),
            settings.minio_secret_key.get_secret_value(),
            public_url=settings.public_storage_url,
        )
        return CachedOriginals(store, settings.data_dir / "cache")
    if "://" in settings.storage:
        raise BadSetting(f"SOHOA_STORAGE={redact_url(settings.storage)}: use a folder or minio://")
    return LocalStore(settings.storage_path)


def build_index(settings: Settings) -> SearchIndex:
    if settings.search.startswith(("http://", "https://")):
        from search.elastic import ElasticIndex

        return ElasticIndex(settings.search, alias=settings.search_index)
    if "://" in settings.search:
        raise BadSetting(f"SOHOA_SEARCH={redact_url(settings.search)}: use a file or http(s)://")
    return SqliteIndex(settings.search_path)


def build_services(
    settings: Settings, *, store: ObjectStore | None = None, index: SearchIndex | None = None
) -> Services:
    return Services(
        store=store or build_store(settings),
        index=index or build_index(settings),
        page_options=page_options(settings),
        exchange=exchange_options(settings),
        organs=partial(build_registry, settings),
        organ=settings.organ.strip(),
    )


def build_registry(settings: Settings) -> OrganRegistry:
    """The organ registry the settings name (`SOHOA_ORGANS`, docs/registry.md): by default the
    shipped national registry, with the operator's own file laid over it when one is named;
    `sample` (or `only+PATH`) for a small one. Read on first use, once per process: the one
    way the surfaces and the workers load it."""
    return OrganRegistry.from_setting(settings.organs)


def page_options(settings: Settings) -> PageOptions:
    # Imported on use, not at the top: the page pipeline (OpenCV...) at every `sohoa` start.
    from pipeline.ocr import accurate_tessdata
    from pipeline.page import PageOptions
    from pipeline.preprocess import READ_LETTER_MIN_PX

    return PageOptions(
        deskew=settings.deskew,
        normalise_background=settings.normalise_background,
        denoise=settings.denoise,
        tessdata=accurate_tessdata(settings.tessdata_path),
        read_letter_min_px=READ_LETTER_MIN_PX if settings.ocr_fast_read else None,
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
        retry_min_backoff_ms=settings.exchange_retry_min_ms,
        max_retries=settings.exchange_retries,
        peers=settings.exchange_peers,
        audit_checkpoint_every=settings.audit_checkpoint_every,
        audit_checkpoint_minutes=settings.audit_checkpoint_minutes,
        revocation_hard_fail=settings.pki_revocation == "hard",
        trust_registered=settings.pki_trust_registered,
        crl_url=settings.pki_crl_url,
        public_url=settings.pki_public_url,
        ocsp=settings.pki_ocsp,
    )


def fixity_schedule(settings: Settings) -> FixitySchedule:
    return FixitySchedule(settings.fixity_every_hours, settings.fixity_period_days)
