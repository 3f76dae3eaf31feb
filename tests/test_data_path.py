"""The per-page data path: originals cached once per machine, O(N) fan-in, one assembly, and
a hint when a server broker has no worker."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import img2pdf
import pytest
import redis
from PIL import Image

from corpus import generate_batch
from schemas.errors import StorageError
from schemas.models import DocumentStatus
from search.sqlite import SqliteIndex
from storage.cache import CachedOriginals
from storage.keys import original_key
from storage.local import LocalStore
from tests.conftest import ROOT, worker_process
from workers import tasks
from workers.actors import QUEUE
from workers.batch import NO_WORKER_HINT_S, outcome, submit_all, wait_for
from workers.runtime import WorkerPool
from workers.services import Services

HINT = "no worker is consuming queue 'sohoa' on"


def _original(store: LocalStore, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    store.put_bytes(original_key(digest), data)
    return digest


def test_originals_are_downloaded_once_then_read_from_the_cache(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    digest = _original(store, b"%PDF-1.7 scanned pages")
    cache = CachedOriginals(store, tmp_path / "cache")
    for _ in range(3):
        with cache.local_path(original_key(digest)) as path:
            assert path.read_bytes() == b"%PDF-1.7 scanned pages"
    assert (tmp_path / "cache" / digest).read_bytes() == b"%PDF-1.7 scanned pages"
    store.delete(original_key(digest))  # the store no longer has it: the cache still does
    with cache.local_path(original_key(digest)) as path:
        assert path.read_bytes() == b"%PDF-1.7 scanned pages"


def test_a_damaged_download_is_refused_and_never_cached(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    wrong = hashlib.sha256(b"other bytes").hexdigest()
    store.put_bytes(original_key(wrong), b"damaged in transit")
    cache = CachedOriginals(store, tmp_path / "cache")
    with (
        pytest.raises(StorageError, match="SHA-256 mismatch"),
        cache.local_path(original_key(wrong)),
    ):
        pass
    assert not any(p.is_file() for p in (tmp_path / "cache").iterdir())


def test_the_least_recently_used_original_is_evicted_past_the_bound(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    first, second, third = (_original(store, bytes([n]) * 1000) for n in range(3))
    cache = CachedOriginals(store, tmp_path / "cache", max_bytes=2500)
    for digest in (first, second, first, third):  # `second` is now the least recently used
        with cache.local_path(original_key(digest)):
            time.sleep(0.01)  # distinct modification times
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted([first, third])


class CountingStore(LocalStore):
    """A LocalStore that counts the calls made to it by kind (as S3 requests)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: Counter[str] = Counter()

    def exists(self, key: str) -> bool:
        self.calls["HEAD"] += 1
        return super().exists(key)

    def list(self, prefix: str):  # noqa: ANN201
        self.calls["LIST"] += 1
        return super().list(prefix)


def _blank_scan(path: Path, pages: int) -> Path:
    """Blank scanned pages: the pipeline skips them without OCR, the fan-in is the same."""
    image = tmp = path.with_suffix(".png")
    Image.new("L", (850, 1100), 255).save(tmp)
    layout = img2pdf.get_fixed_dpi_layout_fun((100, 100))
    path.write_bytes(img2pdf.convert([str(image)] * pages, layout_fun=layout))
    return path


def test_fan_in_asks_the_store_o_of_n_times(tmp_path: Path) -> None:
    pages = 16
    store = CountingStore(tmp_path / "store")
    services = Services(store=store, index=SqliteIndex(tmp_path / "index.sqlite3"))
    with WorkerPool(services, "", threads=4) as pool:
        subs = submit_all(services, pool, [_blank_scan(tmp_path / "blank.pdf", pages)])
        wait_for(services, pool, subs, None)
    result, doc, _ = outcome(services, subs[0])
    assert doc is not None and doc.page_count == pages, result
    assert doc.status == DocumentStatus.done and result == "ok", doc.history
    # 2f0d0b3: every page checked every page marker (≥ 16·17/2 HEADs) and polled by listing.
    assert store.calls["HEAD"] <= 2 * pages, store.calls
    assert store.calls["LIST"] <= pages, store.calls


def test_two_pages_finishing_together_assemble_once(tmp_path: Path) -> None:
    manifest = generate_batch(
        tmp_path / "in", pages=2, seed=52, formats=("pdf_digital",), levels=("clean",)
    )
    services = Services(
        store=LocalStore(tmp_path / "store"), index=SqliteIndex(tmp_path / "index.sqlite3")
    )
    with WorkerPool(services, "", threads=1, consume=False) as pool:
        sub = submit_all(services, pool, [tmp_path / "in" / manifest.files[0].file])[0]
    sent: list[str] = []
    tasks.start_document(services, sub.doc_id, lambda *a: None, lambda d: None)
    for claim in ("message-a", "message-b", "message-a"):  # a's retry may go on, b may not
        tasks.assemble_document(services, sub.doc_id, sent.append, claim=claim)
    assert sent == [sub.doc_id, sub.doc_id]
    tasks.index_document(services, sub.doc_id)
    assert services.records.require(sub.doc_id).status == DocumentStatus.done


# -- no worker consuming a server broker ---------------------------------------------------


@pytest.fixture
def broker_env(servers, tmp_path: Path) -> dict[str, str]:
    """A local store and index, the real Redis on a database of this test's own."""
    broker = servers["SOHOA_BROKER"].rsplit("/", 1)[0] + "/14"
    redis.Redis.from_url(broker).flushdb()
    return {
        **os.environ,
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_STORAGE": str(tmp_path / "store"),
        "SOHOA_SEARCH": str(tmp_path / "index.sqlite3"),
        "SOHOA_BROKER": broker,
        "SOHOA_WORKERS": "1",
    }


def _ingest(env: dict[str, str], path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(path), "--no-progress"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ingest_says_when_no_worker_consumes_the_queue(broker_env, tmp_path: Path) -> None:
    manifest = generate_batch(
        tmp_path / "in", pages=1, seed=53, formats=("pdf_digital",), levels=("clean",)
    )
    started = time.monotonic()
    proc = _ingest(broker_env, tmp_path / "in" / manifest.files[0].file)
    time.sleep(NO_WORKER_HINT_S + 8)  # the CLI's start, the quiet time, a poll
    proc.send_signal(signal.SIGINT)  # Ctrl-C: it would otherwise wait for a worker forever
    _, stderr = proc.communicate(timeout=60)
    assert stderr.count(HINT) == 1, stderr
    assert f"{HINT} {broker_env['SOHOA_BROKER']}; start one with 'sohoa worker'" in stderr
    assert "Interrupted" in stderr and proc.returncode == 130
    assert time.monotonic() - started < NO_WORKER_HINT_S + 40


def test_no_hint_while_a_worker_consumes_the_queue(broker_env, tmp_path: Path) -> None:
    generate_batch(tmp_path / "busy", pages=6, seed=54, formats=("pdf_scanned",), levels=("light",))
    digital = generate_batch(
        tmp_path / "in", pages=1, seed=55, formats=("pdf_digital",), levels=("clean",)
    )
    beats = redis.Redis.from_url(broker_env["SOHOA_BROKER"])
    with worker_process(broker_env, tmp_path / "worker.log"):
        deadline = time.monotonic() + 120
        while not beats.zcard("dramatiq:__heartbeats__"):  # the worker process is up
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        # The one worker thread OCRs six pages first: the second ingest sees no progress
        # for longer than the hint's quiet time, with a worker alive all along. It is sent once
        # the pages are queued (the messages Redis holds), so it queues behind them.
        busy = _ingest(broker_env, tmp_path / "busy")  # three files of two pages
        queued = f"dramatiq:{QUEUE}.msgs"
        while beats.hlen(queued) < 4:  # pages planned: at least four of the six still queued
            assert time.monotonic() < deadline and busy.poll() is None, busy.stderr.read()
            time.sleep(0.05)
        started = time.monotonic()
        quiet = _ingest(broker_env, tmp_path / "in" / digital.files[0].file)
        _, quiet_err = quiet.communicate(timeout=600)
        waited = time.monotonic() - started
        _, busy_err = busy.communicate(timeout=600)
    assert quiet.returncode == 0 and busy.returncode == 0, quiet_err + busy_err
    assert waited > NO_WORKER_HINT_S + 2, "the worker was too fast to tell: use more pages"
    assert HINT not in quiet_err + busy_err


def test_worker_takes_the_main_options_given_on_its_command_line(broker_env, tmp_path) -> None:
    """`sohoa --broker URL --data-dir DIR … worker` with none of them in the environment: the
    worker processes it starts consume that broker and write to that data folder."""
    options = {  # option -> its SOHOA_* variable, taken out of the worker's environment
        "--data-dir": "SOHOA_DATA_DIR",
        "--storage": "SOHOA_STORAGE",
        "--search": "SOHOA_SEARCH",
        "--broker": "SOHOA_BROKER",
    }
    env = {k: v for k, v in broker_env.items() if k not in options.values()}
    command = [sys.executable, "-m", "app.cli"]
    for option, variable in options.items():
        command += [option, broker_env[variable]]
    manifest = generate_batch(
        tmp_path / "in", pages=1, seed=56, formats=("pdf_digital",), levels=("clean",)
    )
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [*command, "worker"], env=env, cwd=ROOT, start_new_session=True, stdout=out, stderr=out
        )
    try:
        ingest = _ingest(broker_env, tmp_path / "in" / manifest.files[0].file)
        try:
            _, stderr = ingest.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            ingest.kill()
            _, stderr = ingest.communicate()
            pytest.fail(f"no worker did the ingest:\n{stderr}\n{log.read_text()}")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert ingest.returncode == 0, stderr
    assert HINT not in stderr
