from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a `SOHOA_*` environment variable and a matching CLI option."""

    model_config = SettingsConfigDict(env_prefix="SOHOA_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("sohoa"))
    storage: str = ""  # a folder (default: <data_dir>/store); minio://… in production
    search: str = ""  # a SQLite file (default: <data_dir>/index.sqlite3); http://… Elasticsearch
    search_index: str = "sohoa-documents"  # Elasticsearch alias; versioned indices sit behind it
    broker: str = ""  # empty: in-process; redis://… or amqp://… in production
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    verbose: bool = False  # worker processes: log INFO and tracebacks (`sohoa -v worker`)
    deskew: bool = True
    normalise_background: bool = False
    denoise: bool | None = None  # unset: only pages measured as noisy
    # Electronic document exchange (docs/exchange.md)
    organs: str = ""  # organ registry CSV; empty: the shipped sample (organs/organs.csv)
    exchange_signature: str = "rsa-sha256"  # or rsa-sha1 for every peer
    exchange_sha1_peers: str = ""  # comma-separated OrganIds to sign with RSA-SHA1
    exchange_sign: bool = True  # false only for benchmarks of the unsigned path
    exchange_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    exchange_retry_min_ms: int = Field(default=1000, ge=10)
    exchange_retries: int = Field(default=6, ge=0)
    exchange_peers: str = ""  # organs on other installations: ORGAN=URL|TOKEN;…
    audit_checkpoint_every: int = Field(default=20, ge=1)  # entries between signed checkpoints
    audit_checkpoint_minutes: float = Field(default=5.0, gt=0)  # … or minutes, when appending

    @property
    def storage_path(self) -> Path:
        return Path(self.storage) if self.storage else self.data_dir / "store"

    @property
    def search_path(self) -> Path:
        return Path(self.search) if self.search else self.data_dir / "index.sqlite3"
