"""Settings: the one reader of the environment (`SOHOA_*`); everything else is handed them."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.login_limits import Network, parse_networks
from exchange.options import MAX_BYTES as EXCHANGE_MAX_BYTES
from schemas.errors import BadSetting


class Settings(BaseSettings):
    """Every setting has a `SOHOA_*` environment variable and a matching CLI option."""

    model_config = SettingsConfigDict(env_prefix="SOHOA_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("sohoa"))
    storage: str = ""  # a folder (default: <data_dir>/store); minio://… in production
    minio_access_key: SecretStr = SecretStr("")  # S3 keys when they are not in the storage URL
    minio_secret_key: SecretStr = SecretStr("")
    # http(s)://HOST[:PORT] that clients outside our network reach the S3 server at: download
    # links are signed for it (empty: the endpoint of SOHOA_STORAGE)
    public_storage_url: str = ""
    search: str = ""  # a SQLite file (default: <data_dir>/index.sqlite3); http://… Elasticsearch
    search_index: str = "sohoa-documents"  # Elasticsearch alias; versioned indices sit behind it
    broker: str = ""  # empty: in-process; redis://… or amqp://… in production
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    verbose: bool = False  # worker processes: log INFO and tracebacks (`sohoa -v worker`)
    deskew: bool = True
    normalise_background: bool = False
    denoise: bool | None = None  # unset: only pages measured as noisy
    # Pages of large type read at half resolution: ~25 % less CPU a page, measured 0.2–0.3
    # points more word error on unseen clean/light pages (docs/benchmarks.md, pipeline/page.py)
    ocr_fast_read: bool = False
    # Folder of the standard `vie` model and word pairs (scripts/tessdata.sh); empty: the default
    tessdata: str = ""
    # Electronic document exchange (docs/exchange.md)
    # The installation's own organ (an OrganId): owner of records ingested without another
    # (`sohoa ingest --owner`), the organ of users added without --organ (docs/access.md)
    organ: str = ""
    # The organ registry (docs/registry.md): empty, the shipped national one; a CSV path, the
    # operator's organs laid over it; "sample", the 25 test organs alone; "national+sample"…
    organs: str = ""
    exchange_signature: str = "rsa-sha256"  # or rsa-sha1 for every peer
    exchange_sha1_peers: str = ""  # comma-separated OrganIds to sign with RSA-SHA1
    exchange_sign: bool = True  # false only for benchmarks of the unsigned path
    exchange_max_bytes: int = Field(default=EXCHANGE_MAX_BYTES, ge=1024)
    exchange_retry_min_ms: int = Field(default=1000, ge=10)
    exchange_retries: int = Field(default=6, ge=0)
    exchange_peers: str = ""  # organs on other installations: ORGAN=URL|TOKEN;…
    # Trust (docs/exchange.md): the root CA key's passphrase for `sohoa pki init` (empty: asked)
    pki_passphrase: SecretStr = SecretStr("")
    pki_revocation: str = Field(default="hard", pattern="^(hard|soft)$")  # CRL missing: refuse?
    pki_trust_registered: bool = False  # legacy: registered self-issued certificates trusted
    pki_crl_url: str = ""  # URL base of the published CRLs, written in issued certificates
    # http(s)://HOST[:PORT] peers reach this API at: issued certificates name its /pki/crl/…
    # (unless SOHOA_PKI_CRL_URL) and /pki/ocsp (empty: no OCSP responder named)
    pki_public_url: str = ""
    # Ask the OCSP responder a certificate names: off; prefer (its CRL when no good answer);
    # require (no CRL for it: no good answer is missing revocation data)
    pki_ocsp: str = Field(default="off", pattern="^(off|prefer|require)$")
    audit_checkpoint_every: int = Field(default=20, ge=1)  # entries between signed checkpoints
    audit_checkpoint_minutes: float = Field(default=5.0, gt=0)  # … or minutes, when appending
    session_hours: float = Field(default=8.0, gt=0)  # a browser session's life (POST /login)
    # Failed logins from one client address (README "Security"): this many in the window, then
    # 429 with Retry-After until it ends; per API process, in bounded memory (app/login_limits.py)
    login_client_failures: int = Field(default=20, ge=1)
    login_client_window_s: float = Field(default=900.0, gt=0)
    # The reverse proxies in front (addresses or networks, comma-separated): only a request from
    # one of them has its client address taken from X-Forwarded-For (empty: the header ignored)
    trusted_proxies: str = ""
    # The scanner folder (`sohoa watch`, README "Scanner folder"): `sohoa worker` watches it too
    consume_dir: str = ""
    consume_owner: str = ""  # owner organ of the records it makes (empty: SOHOA_ORGAN)
    consume_dossier_from_subfolder: bool = False  # `2023.HS-12/scan.pdf` goes into 2023.HS-12
    consume_polling: bool = False  # walk it every consume_poll_seconds (network shares: no events)
    consume_poll_seconds: float = Field(default=2.0, gt=0)
    consume_settle_seconds: float = Field(default=5.0, ge=0)  # unchanged this long: complete

    # Fixity checks by the workers (docs/preservation.md): a share of the records every
    # `fixity_every_hours` (0: never), sized so every record is checked within the period
    fixity_every_hours: float = Field(default=24.0, ge=0)
    fixity_period_days: float = Field(default=30.0, gt=0)
    # veraPDF's launcher for `sohoa pdfa check` (the `verapdf` of its installation; --verapdf
    # wins); empty: scripts/verapdf.sh installs veraPDF from Maven Central on first use
    verapdf: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        parse_networks(value)  # ValueError names the wrong entry
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def storage_path(self) -> Path:
        return Path(self.storage) if self.storage else self.data_dir / "store"

    @property
    def search_path(self) -> Path:
        return Path(self.search) if self.search else self.data_dir / "index.sqlite3"

    @property
    def tessdata_path(self) -> Path:
        return (
            Path(self.tessdata)
            if self.tessdata
            else platformdirs.user_cache_path("sohoa") / "tessdata"
        )

    def worker_env(self) -> dict[str, str]:
        """The environment of worker processes started from this one: ours, with the settings
        the main options may have chosen written over it (they read their own Settings from
        it, so `sohoa --broker URL --data-dir DIR -v worker` reaches them as SOHOA_* would)."""
        chosen = {
            "SOHOA_DATA_DIR": str(self.data_dir),
            "SOHOA_STORAGE": self.storage,
            "SOHOA_SEARCH": self.search,
            "SOHOA_BROKER": self.broker,
            "SOHOA_WORKERS": str(self.workers),
            "SOHOA_VERBOSE": "1" if self.verbose else "0",
        }
        return {**os.environ, **chosen}


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `overrides` (the command line's options); a value
    that cannot be used is a BadSetting naming its variable, one line per problem."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        problems = [
            f"SOHOA_{'_'.join(str(part) for part in error['loc']).upper()}="
            f"{error.get('input')!s}: {error['msg']}"
            for error in e.errors()
        ]
        raise BadSetting("bad setting " + "; ".join(problems)) from None


def one_thread_per_tesseract() -> None:
    """Once, first thing in each entry point (`sohoa`, the Dramatiq worker module), before any
    Tesseract starts: one core per Tesseract, so workers scale by process (DESIGN §4). This is
    the one variable set process-wide because pytesseract starts Tesseract with this process's
    environment and takes none of its own; worker processes inherit it."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
