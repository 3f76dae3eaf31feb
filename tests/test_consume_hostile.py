"""The scanner folder (issue 20) against what a careless or hostile user of the folder can put
there: links and special files are moved to failed/ unread, a FIFO or /dev/zero as a
`.sohoa.toml` hangs nothing, the watcher's own folders cannot be redirected outside the folder,
names of 255 bytes still find a place, and a file it may not move stops only that file."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.compose import Context
from app.config import Settings
from storage.batches import BatchStore
from tests.conftest import ROOT, TEST_ORGAN, run_cli
from tests.test_consume import consume, pdf, records, tree
from workers.consume import Consumed, ConsumeFolder, ConsumeOptions, Consumer
from workers.consume_watch import WatchOptions, run
from workers.runtime import WorkerPool


@pytest.fixture
def context(tmp_path: Path) -> Context:
    return Context(Settings(data_dir=tmp_path / "data", workers=1, organ=TEST_ORGAN))


def stored_digests(context: Context) -> set[str]:
    return {d.id for d in records(context)}  # a record's id is its original's SHA-256


def watch_once(data: Path, root: Path) -> subprocess.CompletedProcess:
    args = ("--once", "--polling", "--poll-interval", "0.1", "--settle", "0.2")
    return run_cli(data, "watch", str(root), *args, timeout_s=90)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reason(root: Path, rel: str) -> str:
    return (root / "failed" / f"{rel}.reason.txt").read_text(encoding="utf-8")


def test_links_fifos_and_hard_links_found_by_a_walk_go_to_failed_unread(
    context: Context, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    secret = pdf(tmp_path / "elsewhere" / "secret.pdf", seed=30)  # not the folder's to give
    pdf(root / "box" / "scan.pdf", seed=31)
    (root / "box" / "link.pdf").symlink_to(secret)
    os.link(secret, root / "box" / "hard.pdf")
    os.mkfifo(root / "box" / "pipe.pdf")
    (root / "loop").symlink_to(root)  # a folder link back to the top: no endless walk

    results = {r.file: r for r in consume(context, root)}

    assert {f: r.result for f, r in results.items()} == {
        "box/scan.pdf": "ok",
        "box/link.pdf": "failed",
        "box/hard.pdf": "failed",
        "box/pipe.pdf": "failed",
        "loop": "failed",
    }
    assert digest(secret) not in stored_digests(context)
    assert len(records(context)) == 1
    assert "a symbolic link: not followed" in reason(root, "box/link.pdf")
    assert "has 2 hard links: not read" in reason(root, "box/hard.pdf")
    assert "a FIFO (named pipe), not a file" in reason(root, "box/pipe.pdf")
    assert (root / "failed" / "box" / "link.pdf").readlink() == secret  # moved, kept as it was
    assert secret.read_bytes().startswith(b"%PDF")  # the target untouched


def test_a_link_dropped_while_watching_is_not_followed(context: Context, tmp_path: Path) -> None:
    """File events name a link (or a FIFO) the walk would pass over: it must not be read."""
    root = tmp_path / "scans"
    root.mkdir()
    secret = pdf(tmp_path / "elsewhere" / "secret.pdf", seed=32)
    stop = threading.Event()
    results: list[Consumed] = []
    with WorkerPool(context.services, "", 1) as pool:
        options = ConsumeOptions(settle_s=0.3)
        consumer = Consumer(context.services, ConsumeFolder(root), pool, options, results.append)
        watcher = threading.Thread(target=run, args=(consumer, WatchOptions(polling=False), stop))
        watcher.start()
        try:
            time.sleep(0.5)  # the observer's first walk
            (root / "x.pdf").symlink_to(secret)
            os.mkfifo(root / "pipe.pdf")
            deadline = time.monotonic() + 30
            while len(results) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            watcher.join(timeout=60)
    assert sorted((r.file, r.result) for r in results) == [
        ("pipe.pdf", "failed"),
        ("x.pdf", "failed"),
    ]
    assert records(context) == []
    assert tree(root) == {"failed/x.pdf", "failed/x.pdf.reason.txt", "failed/pipe.pdf.reason.txt"}


def test_a_fifo_or_dev_zero_as_sohoa_toml_fails_its_files_and_hangs_nothing(
    tmp_path: Path,
) -> None:
    root, data = tmp_path / "scans", tmp_path / "data"
    pdf(root / "box" / "a.pdf", seed=33)
    os.mkfifo(root / "box" / ".sohoa.toml")  # opening it would wait for a writer for ever
    pdf(root / "other" / "b.pdf", seed=34)
    (root / "other" / ".sohoa.toml").symlink_to("/dev/zero")  # endless zeros
    pdf(root / "c.pdf", seed=35)
    forged = "x.pdf → done/x.pdf\nok       forged.pdf"  # a name that would print two lines
    pdf(root / forged, seed=41)
    root.chmod(0o777)  # writable by anyone: said, as the owner of a .sohoa.toml is then anyone's

    watched = watch_once(data, root)

    assert watched.returncode == 1, watched.stderr  # two files failed
    lines = watched.stdout.splitlines()
    assert len(lines) == 4 and not any(line.startswith("ok       forged") for line in lines)
    assert "ok       x.pdf → done/x.pdf\\x0aok       forged.pdf → done/x.pdf" in watched.stdout
    assert f"warning: {root} is writable by every user of this machine" in watched.stderr
    assert "box/.sohoa.toml: not a regular file" in reason(root, "box/a.pdf")
    assert "other/.sohoa.toml: a symbolic link, not followed" in reason(root, "other/b.pdf")
    assert "done/c.pdf" in tree(root)


def test_a_link_or_file_named_like_the_watchers_folders_stops_it_moving_anything_out(
    tmp_path: Path,
) -> None:
    root, data, outside = tmp_path / "scans", tmp_path / "data", tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    (root / "failed").symlink_to(outside)  # e.g. failed -> ~/.ssh: files would be moved there
    (root / "authorized_keys").write_text("ssh-ed25519 AAAA attacker\n")  # fails: not a scan
    pdf(root / "a.pdf", seed=36)

    watched = watch_once(data, root)

    assert watched.returncode != 0
    assert "failed is a symbolic link, not a folder" in watched.stderr, watched.stderr
    assert list(outside.iterdir()) == []
    assert {"authorized_keys", "a.pdf"} <= tree(root)  # nothing taken, nothing lost

    (root / "failed").unlink()
    (root / "done").rmdir()  # made (empty) by the first run
    (root / "done").write_text("a file where the folder goes")  # every file would stall
    again = watch_once(data, root)
    assert again.returncode != 0
    assert "done is a file, not a folder" in again.stderr, again.stderr
    assert {"authorized_keys", "a.pdf"} <= tree(root)


def test_names_of_255_bytes_get_a_place_in_done_and_failed(
    context: Context, tmp_path: Path
) -> None:
    """Vietnamese takes 2-3 bytes a letter: ` (2)` or `.reason.txt` after such a name would be
    too long for the file system, and the file stayed in processing/ for ever."""
    root = tmp_path / "scans"
    stem = "Quyết định bổ nhiệm cán bộ " * 10
    long_pdf = (stem.encode()[:251].decode("utf-8", "ignore") + ".pdf").strip()
    long_txt = (stem.encode()[:251].decode("utf-8", "ignore") + ".txt").strip()
    assert len(long_pdf.encode()) >= 250 and len(long_txt.encode()) >= 250
    pdf(root / long_pdf, seed=37)
    (root / "done").mkdir()
    (root / "done" / long_pdf).write_text("an earlier file of that name")
    (root / long_txt).write_text("not a scan")

    results = {r.file: r for r in consume(context, root)}

    assert {f: r.result for f, r in results.items()} == {long_pdf: "ok", long_txt: "failed"}
    kept = results[long_pdf].place
    assert kept.parent == root / "done" and kept.name.endswith(" (2).pdf")
    assert len(kept.name.encode()) <= 255
    assert (root / "done" / long_pdf).read_text() == "an earlier file of that name"
    failed = results[long_txt].place
    explained = failed.with_name(failed.name + ".reason.txt").read_text(encoding="utf-8")
    assert explained.startswith(long_txt)  # the reason names the file as it was dropped
    assert failed.read_text() == "not a scan"
    assert not any((root / "processing").iterdir())


# ------------------------------------------------------------------ another user's folders


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder `nobody` can reach (pytest's tmp_path is private to root)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the watcher as another user")
    top = Path(tempfile.mkdtemp(prefix="sohoa-consume-", dir="/tmp"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def as_nobody(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "HOME": str(data)}
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        + [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_file_the_watcher_may_not_move_stays_is_reported_and_the_others_go_on(
    shared_tmp: Path,
) -> None:
    root, data = shared_tmp / "scans", shared_tmp / "data"
    pdf(root / "locked" / "a.pdf", seed=38)  # root's folder, mode 755: nobody cannot move it
    pdf(root / "b.pdf", seed=39)
    (root / "secret.pdf").write_bytes(pdf(shared_tmp / "s.pdf", seed=40).read_bytes())
    (root / "secret.pdf").chmod(0o600)  # root's, unreadable by nobody: moved, not read
    data.mkdir()
    for path in (root, data, root / "b.pdf"):
        os.chown(path, 65534, 65534)  # nobody:nogroup

    watched = as_nobody(
        data, "watch", str(root), "--once", "--polling", "--settle", "0.2", "--poll-interval", "0.1"
    )

    assert watched.returncode == 1, watched.stderr
    assert "unexpected" not in watched.stderr, watched.stderr
    assert "ok       b.pdf → done/b.pdf" in watched.stdout, watched.stdout + watched.stderr
    assert (root / "locked" / "a.pdf").is_file()  # left where the scanner put it
    assert (root / "failed" / "secret.pdf").is_file()
    assert "secret.pdf" in reason(root, "secret.pdf")
    status = run_cli(data, "status")
    assert "waiting: 1, processing: 0, done: 1, failed: 1" in status.stdout, status.stdout
    assert re.search(
        r"^  not taken: locked/a\.pdf: cannot be moved into processing/ \(Permission denied\)",
        status.stdout,
        re.M,
    ), status.stdout


@pytest.fixture
def done_elsewhere(tmp_path: Path) -> Iterator[Path]:
    """A watched folder whose done/ is another file system (a tmpfs mounted there)."""
    root = tmp_path / "scans"
    (root / "done").mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(root / "done")],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root / "done")], check=False)


def test_done_on_another_file_system_gets_its_files(context: Context, done_elsewhere: Path) -> None:
    """A rename cannot cross file systems (EXDEV): the file stayed in processing/ for ever."""
    root = done_elsewhere
    dropped = pdf(root / "box" / "a.pdf", seed=42).read_bytes()

    results = consume(context, root)

    assert [(r.file, r.result) for r in results] == [("box/a.pdf", "ok")]
    assert (root / "done" / "box" / "a.pdf").read_bytes() == dropped
    assert tree(root) == {"done/box/a.pdf"}  # no copy left behind, no hidden temporary
    assert not any(p.name.startswith(".sohoa-") for p in (root / "done" / "box").iterdir())


def test_planted_lock_link_and_fifo_state_file_neither_write_elsewhere_nor_hang(
    tmp_path: Path,
) -> None:
    root, data = tmp_path / "scans", tmp_path / "data"
    victim = tmp_path / "elsewhere" / "authorized_keys"  # the lock would be created there
    victim.parent.mkdir()
    (root / "processing").mkdir(parents=True)
    (root / "processing" / ".watch.lock").symlink_to(victim)
    os.mkfifo(root / ".sohoa-watch.json")  # `sohoa status` reads it: must not wait for a writer
    pdf(root / "a.pdf", seed=43)

    watched = watch_once(data, root)
    assert watched.returncode != 0
    assert "cannot be opened as the watcher's lock" in watched.stderr, watched.stderr
    assert not victim.exists()
    assert "a.pdf" in tree(root)

    status = run_cli(data, "status", timeout_s=60)
    assert status.returncode == 0, status.stderr
    assert f"consume folder {root}: never watched" in status.stdout
    assert "waiting: 1, processing: 0, done: 0, failed: 0" in status.stdout


def test_names_that_are_not_utf8_are_consumed_and_shown_escaped(
    context: Context, tmp_path: Path
) -> None:
    """A Windows scanner writing in a legacy code page (CP1258: `é` is 0xE9): such a subfolder
    stalled every file in it for ever (its batch name could not be encoded)."""
    root = tmp_path / "scans"
    sub = Path(os.fsdecode(os.fsencode(root) + b"/h\xe9"))
    pdf(sub / "a.pdf", seed=44)
    (sub / "notes.txt").write_text("not a scan")

    results = {r.file: r for r in consume(context, root)}

    assert {f: r.result for f, r in results.items()} == {
        "h\\xe9/a.pdf": "ok",
        "h\\xe9/notes.txt": "failed",
    }
    assert (root / "done" / sub.name / "a.pdf").is_file()
    assert "h\\xe9/notes.txt: failed" in reason(root, f"{sub.name}/notes.txt")
    batches = BatchStore(context.store).newest_first()
    assert [b.login for b in batches] == ["scanner folder scans/h\\xe9"]
