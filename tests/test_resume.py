"""A crash in the middle of a batch, then the same command again: finished, no duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from corpus import generate_batch
from tests.conftest import ROOT, run_cli, search_hits

# slow (pyproject): each runs and kills a whole OCR batch, then finishes it (> 1 min)
pytestmark = pytest.mark.slow


def _page_results(store: Path) -> list[Path]:
    return (
        sorted((store / "derived").glob("*/pages/*.json")) if (store / "derived").is_dir() else []
    )


def _kill_mid_batch(folder: Path, data: Path, total_pages: int) -> dict[Path, int]:
    """Start an ingest, SIGKILL it once two pages are finished; returns their timestamps."""
    store = data / "store"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(folder), "--json"],
        env={**os.environ, "SOHOA_DATA_DIR": str(data)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while len(_page_results(store)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    survived = {p: p.stat().st_mtime_ns for p in _page_results(store)}
    assert 2 <= len(survived) < total_pages, "the crash should land mid-batch"
    return survived


def _batch(folder: Path):
    return generate_batch(
        folder,
        pages=8,
        seed=21,
        formats=("tiff", "pdf_scanned"),
        levels=("clean", "light"),
        rotate_one=False,
    )


def test_sigkill_mid_batch_then_rerun_finishes_without_duplicates(tmp_path: Path) -> None:
    folder, data = tmp_path / "batch", tmp_path / "data"
    store = data / "store"
    manifest = _batch(folder)
    total_pages = sum(len(e.pages) for e in manifest.files)
    survived = _kill_mid_batch(folder, data, total_pages)

    result = run_cli(data, "ingest", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["status"] for r in rows} <= {"ok", "reused"}
    assert len(rows) == len(manifest.files)

    records = sorted((store / "records").glob("*.json"))
    assert len(records) == len(manifest.files)
    assert len(_page_results(store)) == total_pages
    # pages finished before the crash were not OCRed again
    assert all(p.stat().st_mtime_ns == t for p, t in survived.items())
    for path in records:
        record = json.loads(path.read_text())
        assert record["status"] == "done"
        assert Counter(h["status"] for h in record["history"])["done"] == 1
    status = run_cli(data, "status").stdout
    assert f"indexed: {len(manifest.files)}" in status
    found = run_cli(data, "search", "ngay thang nam", "--json", "--limit", "100")
    hits = [hit["document_id"] for hit in search_hits(found)]
    assert len(hits) == len(set(hits)) == len(manifest.files)


def test_separate_worker_process_finishes_what_a_crash_left(tmp_path: Path) -> None:
    folder, data = tmp_path / "batch", tmp_path / "data"
    store = data / "store"
    manifest = _batch(folder)
    _kill_mid_batch(folder, data, sum(len(e.pages) for e in manifest.files))
    accepted = [json.loads(p.read_text()) for p in (store / "records").glob("*.json")]
    unfinished = [r for r in accepted if r["status"] != "done"]
    assert unfinished

    result = run_cli(data, "worker")
    assert result.returncode == 0, result.stderr
    assert f"{len(unfinished)} unfinished document(s)" in " ".join(result.stderr.split())
    for record in accepted:
        shown = json.loads(run_cli(data, "show", record["id"], "--json").stdout)
        assert shown["status"] == "done"
        assert len(shown["pages"]) == shown["page_count"] > 0
