"""The embedded default as `sohoa ingest` builds it, in a fresh data folder, for benches that
run sohoa's product path in a child process."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any


def fresh_embedded(data_dir: Path, threads: int, **overrides: object) -> tuple[Any, Any]:
    """(Settings, Services) of the embedded default (folder store, SQLite index, in-process
    broker, default clean-ups) over an emptied `data_dir`; one Tesseract thread per worker, as
    the `sohoa` entry point sets it; `overrides`: Settings fields over those defaults (a bench's
    variant). Imported here, not at the top: the bench's parent process does not load the
    product."""
    from app.compose import build_services
    from app.config import Settings, one_thread_per_tesseract

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("dramatiq").setLevel(logging.CRITICAL)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    settings = Settings(
        data_dir=data_dir,
        storage="",
        search="",
        broker="",
        workers=threads,
        **{"deskew": True, "normalise_background": False, "denoise": None, **overrides},
    )
    services = build_services(settings)
    one_thread_per_tesseract()
    return settings, services
