"""The scanner folder (issue 20): `sohoa watch FOLDER` ingests each complete file once and moves
it to done/ or failed/ (with its reason), keeps going after a bad one, takes on start what
arrived (or was left half-way) while it was down, files into the subfolder's dossier with the
`.sohoa.toml` owner and title, and shows itself in `sohoa status`, the batches page and the
audit log. Born-digital PDFs (no OCR) keep these fast; the kill test OCRs real scans."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.compose import Context
from app.config import Settings
from corpus import generate_batch, make_documents, write_pdf_digital
from exchange.audit import AuditLog
from storage.batches import BatchStore
from storage.dossiers import DossierStore
from tests.conftest import ROOT, TEST_ORGAN, run_cli, search_hits
from tests.test_web import HTML, add_users, log_in
from workers.consume import Consumed, ConsumeFolder, ConsumeOptions, Consumer
from workers.consume_watch import WatchOptions, run
from workers.runtime import WorkerPool

OWNER = "000.00.00.G20"  # another organ of the shipped sample registry than SOHOA_ORGAN's


def pdf(path: Path, seed: int) -> Path:
    """A one-page born-digital PDF, distinct per seed (seconds to ingest: no OCR)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    (doc,) = make_documents(1, seed=seed, pages=1)
    return write_pdf_digital(path, doc.pages)


def tree(root: Path) -> set[str]:
    """Every file under `root` but the watcher's own (lock, state), as relative paths."""
    names = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    return {n for n in names if not n.endswith((".watch.lock", ".sohoa-watch.json"))}


@pytest.fixture
def context(tmp_path: Path) -> Context:
    return Context(Settings(data_dir=tmp_path / "data", workers=1, organ=TEST_ORGAN))


def consume(
    context: Context, root: Path, *, polling: bool = True, once: bool = True, **options: object
) -> list[Consumed]:
    """Run the watcher in this process until nothing is left (`once`)."""
    results: list[Consumed] = []
    chosen = ConsumeOptions(**{"settle_s": 0.3, **options})
    with WorkerPool(context.services, "", 1) as pool:
        consumer = Consumer(context.services, ConsumeFolder(root), pool, chosen, results.append)
        run(consumer, WatchOptions(polling=polling, poll_s=0.05, once=once), threading.Event())
    return results


def records(context: Context) -> list:
    return list(context.services.records.all())


def test_a_dropped_file_is_ingested_once_and_moved_to_done_keeping_its_path(
    context: Context, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    pdf(root / "box 1" / "quyet-dinh.pdf", seed=1)
    pdf(root / "to-trinh.pdf", seed=2)

    results = consume(context, root)

    assert sorted((r.file, r.result) for r in results) == [
        ("box 1/quyet-dinh.pdf", "ok"),
        ("to-trinh.pdf", "ok"),
    ]
    assert tree(root) == {"done/box 1/quyet-dinh.pdf", "done/to-trinh.pdf"}
    assert sorted(d.status.value for d in records(context)) == ["done", "done"]

    # The same paper scanned to the same bytes again, same name: taken once more as the record
    # it already is (reused), its copy kept under a new name, never overwriting the first.
    again = root / "box 1" / "quyet-dinh.pdf"
    again.write_bytes((root / "done" / "box 1" / "quyet-dinh.pdf").read_bytes())
    (second,) = consume(context, root)
    assert (second.file, second.result) == ("box 1/quyet-dinh.pdf", "reused")
    assert "done/box 1/quyet-dinh (2).pdf" in tree(root)
    assert len(records(context)) == 2


def test_a_growing_file_is_not_taken_until_it_has_stopped_changing(
    context: Context, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    root.mkdir()
    whole = pdf(tmp_path / "source.pdf", seed=3).read_bytes()
    growing = root / "scan.pdf"
    stop = threading.Event()
    results: list[Consumed] = []
    with WorkerPool(context.services, "", 1) as pool:
        options = ConsumeOptions(settle_s=1.0)
        consumer = Consumer(context.services, ConsumeFolder(root), pool, options, results.append)
        watcher = threading.Thread(
            target=run, args=(consumer, WatchOptions(polling=True, poll_s=0.05), stop)
        )
        watcher.start()
        try:
            step = len(whole) // 6 + 1
            with growing.open("wb") as f:  # a slow scanner: a chunk every 0.4 s, 2.4 s in all
                for start in range(0, len(whole), step):
                    f.write(whole[start : start + step])
                    f.flush()
                    time.sleep(0.4)
                    assert growing.exists(), "taken while it was still being written"
                    assert not records(context)
            deadline = time.monotonic() + 60
            while not results and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            watcher.join(timeout=60)
    assert [(r.file, r.result) for r in results] == [("scan.pdf", "ok")]
    (doc,) = records(context)
    assert doc.size_bytes == len(whole)
    assert tree(root) == {"done/scan.pdf"}


def test_file_events_take_a_file_renamed_from_its_temporary_name_at_once(
    context: Context, tmp_path: Path
) -> None:
    """The real watchdog observer (no polling walk: the next one is a minute away). A scanner
    that writes `x.pdf.tmp` and renames it says the file is complete: no settle time to wait."""
    root = tmp_path / "scans"
    root.mkdir()
    stop = threading.Event()
    results: list[Consumed] = []
    with WorkerPool(context.services, "", 1) as pool:
        options = ConsumeOptions(settle_s=120.0)  # only the rename can make it complete
        consumer = Consumer(context.services, ConsumeFolder(root), pool, options, results.append)
        watcher = threading.Thread(target=run, args=(consumer, WatchOptions(polling=False), stop))
        watcher.start()
        try:
            time.sleep(0.5)  # the observer's first walk of the tree
            assert consumer.state.mode == "inotify"
            temporary = pdf(root / "sub" / "scan.pdf.tmp", seed=4)
            time.sleep(0.5)
            assert not results and temporary.exists()  # a temporary name is never taken
            temporary.rename(root / "sub" / "scan.pdf")
            deadline = time.monotonic() + 60
            while not results and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            watcher.join(timeout=60)
    assert [(r.file, r.result) for r in results] == [("sub/scan.pdf", "ok")]
    assert tree(root) == {"done/sub/scan.pdf"}


def test_a_bad_file_goes_to_failed_with_its_reason_and_the_next_one_is_still_ingested(
    context: Context, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    (root / "box").mkdir(parents=True)
    (root / "box" / "a-notes.txt").write_text("not a scan")
    pdf(root / "box" / "b-scan.pdf", seed=5)

    results = {r.file: r for r in consume(context, root)}

    assert results["box/a-notes.txt"].result == "failed"
    assert results["box/b-scan.pdf"].result == "ok"
    assert tree(root) == {
        "failed/box/a-notes.txt",
        "failed/box/a-notes.txt.reason.txt",
        "done/box/b-scan.pdf",
    }
    reason = (root / "failed" / "box" / "a-notes.txt.reason.txt").read_text()
    assert "not a PDF, TIFF, JPEG or PNG" in reason
    assert (root / "failed" / "box" / "a-notes.txt").read_text() == "not a scan"  # kept whole
    actions = Counter(e.action for e in AuditLog(context.store).entries())
    assert actions == {"consumed": 1, "consume-failed": 1}


def test_on_start_it_removes_the_half_written_files_a_killed_watcher_left(
    context: Context, tmp_path: Path
) -> None:
    """A SIGKILL between the temporary write and its rename (the state file, a reason, a move
    across file systems) leaves a `.sohoa-*.tmp`; the next watcher removes it, nothing else."""
    root = tmp_path / "scans"
    pdf(root / "to-trinh.pdf", seed=2)
    (root / "done" / "box").mkdir(parents=True)
    (root / ".sohoa-k1ll3d.tmp").write_text("{")
    (root / "done" / "box" / ".sohoa-abc123.tmp").write_bytes(b"%PDF-1.7 half")
    (root / "notes.tmp").write_text("a scanner's own temporary file: not ours, kept")
    consume(context, root)
    assert tree(root) == {"done/to-trinh.pdf", "notes.tmp"}


def test_on_start_it_takes_what_arrived_and_what_a_stopped_watcher_left_in_processing(
    context: Context, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    pdf(root / "arrived.pdf", seed=6)  # dropped while no watcher ran
    pdf(root / "processing" / "2023" / "claimed.pdf", seed=7)  # claimed, then the watcher died

    results = consume(context, root)

    assert [r.file for r in results] == ["2023/claimed.pdf", "arrived.pdf"]  # recovery first
    assert tree(root) == {"done/2023/claimed.pdf", "done/arrived.pdf"}
    assert len(records(context)) == 2


def test_subfolder_dossier_and_sohoa_toml_owner_and_title_and_bad_rules_go_to_failed(
    context: Context, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    pdf(root / "2023.HS-12" / "a.pdf", seed=8)
    (root / "2023.HS-12" / ".sohoa.toml").write_text(
        f'title = "Hồ sơ tuyển dụng 2023"\nowner = "{OWNER}"\n', encoding="utf-8"
    )
    pdf(root / "2024.HS-01" / "bad" / "b.pdf", seed=9)
    (root / "2024.HS-01" / "bad" / ".sohoa.toml").write_text('priority = "high"\n')
    pdf(root / "not a code!" / "c.pdf", seed=10)
    pdf(root / "2024.HS-01" / "d.pdf", seed=11)

    results = {r.file: r for r in consume(context, root, dossier_from_subfolder=True)}

    assert {f: r.result for f, r in results.items()} == {
        "2023.HS-12/a.pdf": "ok",
        "2024.HS-01/bad/b.pdf": "failed",
        "not a code!/c.pdf": "failed",
        "2024.HS-01/d.pdf": "ok",
    }
    dossier = DossierStore(context.store).require("2023.HS-12")
    assert (dossier.title, dossier.documents) == (
        "Hồ sơ tuyển dụng 2023",
        [results["2023.HS-12/a.pdf"].doc_id],
    )
    assert context.services.access.owner(results["2023.HS-12/a.pdf"].doc_id) == OWNER
    assert context.services.access.owner(results["2024.HS-01/d.pdf"].doc_id) == TEST_ORGAN
    assert DossierStore(context.store).require("2024.HS-01").documents == [
        results["2024.HS-01/d.pdf"].doc_id
    ]
    bad = (root / "failed" / "2024.HS-01" / "bad" / "b.pdf.reason.txt").read_text()
    assert "2024.HS-01/bad/.sohoa.toml: priority" in bad
    not_code = (root / "failed" / "not a code!" / "c.pdf.reason.txt").read_text()
    assert "is not a dossier code" in not_code
    assert len(records(context)) == 2  # nothing was stored of the files its rules refused


def test_the_batches_page_shows_the_folder_batch_to_its_organ(
    context: Context, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    pdf(root / "2023.HS-12" / "a.pdf", seed=12)
    pdf(root / "2023.HS-12" / "b.pdf", seed=13)
    consume(context, root, dossier_from_subfolder=True)

    add_users(context.settings)
    with TestClient(create_app(context.settings), headers=HTML) as client:
        log_in(client, "archivist")  # of TEST_ORGAN, the records' owner
        listing = client.get("/batches?lang=vi").text
        assert "<td>thư mục máy quét scans/2023.HS-12</td>" in listing
        assert "scanner folder" not in listing  # nothing English on the Vietnamese page
        url = re.search(r'href="(/batches/[^"]+)"', listing)[1]
        assert "Người tải: thư mục máy quét scans/2023.HS-12" in client.get(url).text
        english = client.get("/batches?lang=en").text
        assert "<td>scanner folder scans/2023.HS-12</td>" in english
        page = client.get(url).text
        assert "Uploaded by: scanner folder scans/2023.HS-12" in page
    shown = re.findall(r'<td class="name"><a [^>]+>([^<]+)</a>', page)
    assert sorted(shown) == ["2023.HS-12/a.pdf", "2023.HS-12/b.pdf"]
    assert page.count('class="result-ok"') == 2


def test_sohoa_status_shows_the_folder_counts_and_the_last_error(tmp_path: Path) -> None:
    root, data = tmp_path / "scans", tmp_path / "data"
    pdf(root / "a.pdf", seed=14)
    (root / "notes.txt").write_text("not a scan")
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_CONSUME_DIR": str(root)}
    watched = subprocess.run(
        [sys.executable, "-m", "app.cli", "watch", "--once", "--polling", "--settle", "0.2"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert watched.returncode == 1, watched.stderr  # one file failed
    assert re.search(r"^ok\s+a\.pdf → done/a\.pdf", watched.stdout, re.M), watched.stdout
    assert re.search(r"^failed\s+notes\.txt → failed/notes\.txt", watched.stdout, re.M)
    pdf(root / "later.pdf", seed=15)  # arrived after it stopped: waiting

    status = run_cli(data, "status")
    assert status.returncode == 0, status.stderr
    assert f"consume folder {root}: not watched now" in status.stdout  # remembered by watch
    assert "waiting: 1, processing: 0, done: 1, failed: 1" in status.stdout
    assert re.search(r"last error \(.*\): notes\.txt: not a PDF", status.stdout), status.stdout


def test_sohoa_worker_watches_sohoa_consume_dir(tmp_path: Path) -> None:
    root, data = tmp_path / "scans", tmp_path / "data"
    root.mkdir()
    env = {
        **os.environ,
        "SOHOA_DATA_DIR": str(data),
        "SOHOA_CONSUME_DIR": str(root),
        "SOHOA_CONSUME_POLLING": "1",
        "SOHOA_CONSUME_POLL_SECONDS": "0.1",
        "SOHOA_CONSUME_SETTLE_SECONDS": "0.3",
        "SOHOA_WORKERS": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        pdf(root / "a.pdf", seed=16)
        deadline = time.monotonic() + 120
        while not (root / "done" / "a.pdf").exists():
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker did not consume the file"
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=60)
    assert "a.pdf → done/a.pdf" in stdout, stderr
    assert worker.returncode == 0, stderr


# ------------------------------------------------------------------ a kill mid-consumption


def _digests(folder: Path) -> Counter:
    return Counter(hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.*"))


def _watch_until(root: Path, data: Path, ready: Callable[[], bool]) -> None:
    """`sohoa watch` in its own process group, SIGKILLed once `ready()` holds."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "watch", str(root), "--polling", "--settle", "0.2"],
        env={**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_WORKERS": "1"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not ready() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert time.monotonic() < deadline, "the moment to kill never came"


@pytest.mark.slow  # OCR of scanned pages, killed twice, a dead lock's 30 s (about a minute)
def test_sigkill_during_consumption_loses_nothing_and_ingests_nothing_twice(
    tmp_path: Path,
) -> None:
    root, data = tmp_path / "scans", tmp_path / "data"
    manifest = generate_batch(
        root / "box",
        pages=2,
        seed=20,
        formats=("tiff", "pdf_scanned"),
        levels=("clean",),
        rotate_one=False,
    )
    (root / "box" / "truth.json").unlink()  # the generator's answers: not a scan
    dropped, names = _digests(root), tree(root)
    n = len(manifest.files)
    assert len(names) == n
    originals = data / "store" / "originals"
    processing = root / "processing"

    def stored_and_claimed() -> bool:  # killed while a claimed file is being OCRed
        claimed = processing.is_dir() and any(processing.rglob("*.*"))
        return claimed and originals.is_dir() and any(originals.iterdir())

    _watch_until(root, data, stored_and_claimed)
    assert any(processing.rglob("*.*")), "the kill should land mid-consumption"
    # killed again right after a file reached done/ (the next may be half-way)
    _watch_until(root, data, lambda: (root / "done").is_dir() and any((root / "done").rglob("*.*")))

    finished = run_cli(data, "watch", str(root), "--once", "--polling", "--settle", "0.2")
    assert finished.returncode == 0, finished.stdout + finished.stderr

    assert _digests(root / "done") == dropped  # every file, each exactly once
    assert tree(root) == {f"done/{name}" for name in names}  # same places, no "(2)" copies
    assert len(list((data / "store" / "records").glob("*.json"))) == n
    hits = search_hits(run_cli(data, "search", "ngay thang nam", "--json", "--limit", "100"))
    assert len(hits) == len({h["document_id"] for h in hits}) == n
    status = run_cli(data, "status").stdout
    assert f"done: {n}" in status and f"indexed: {n}" in status
    (batch,) = BatchStore(Context(Settings(data_dir=data)).store).newest_first()
    assert len(batch.files) == n  # one row per file, whatever the kills did
