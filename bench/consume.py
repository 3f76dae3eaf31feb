"""The scanner folder's start on a folder of 10,000 files (issue 20): how long the walks take
and how much memory they hold, against the ways a watcher is often written.

    .venv/bin/python bench/consume.py                  # 10,000 files; writes docs/benchmarks.md
    .venv/bin/python bench/consume.py --files 2000 --no-docs

Each way runs in its own fresh process (its memory is its own), three times; the median is
reported. Files are 2 KiB each in 100 subfolders, the page cache warm (a walk before the clock):
    sohoa walk       ConsumeFolder.waiting() streamed to the end: what `sohoa status` counts
                     and what one polling walk costs at most
    sohoa start      what `sohoa watch` does before its first claim: recover() of an empty
                     processing/, then Consumer.scan() (follows at most 500 files, then stops)
    inotify start    watchdog's Observer scheduled recursively on the tree (one watch a folder)
    peer: rglob      sorted(Path.rglob("*")): the whole tree as a list
    peer: snapshot   watchdog's DirectorySnapshot: what its PollingObserver builds every interval
No OCR here: the files are never ingested (ingesting is bench/ocr.py's)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TITLE = "## Scanner folder start (bench/consume.py)"
WAYS = ("sohoa walk", "sohoa start", "inotify start", "peer: rglob", "peer: snapshot")
REPEATS = 3


def make_tree(root: Path, files: int) -> None:
    body = os.urandom(2048)
    for n in range(files):
        folder = root / f"box-{n % 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"scan-{n:05d}.pdf").write_bytes(body)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> None:
    """Linux: the peak RSS (VmHWM) starts again from the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")


def measure(way: str, root: Path, data: Path) -> dict:
    """In a fresh process: one way, timed, its Python allocations' peak and its RSS growth."""
    sys.path.insert(0, str(ROOT))
    from watchdog.observers import Observer
    from watchdog.utils.dirsnapshot import DirectorySnapshot

    from app.compose import Context
    from app.config import Settings
    from workers.consume import ConsumeFolder, Consumer
    from workers.consume_watch import _Events
    from workers.runtime import WorkerPool

    folder = ConsumeFolder(root)
    folder.prepare()
    sum(1 for _ in folder.waiting())  # the page cache warm for every way alike
    context = Context(Settings(data_dir=data, workers=1))
    pool = WorkerPool(context.services, "", 1)  # not started: no ingest happens here
    consumer = Consumer(context.services, folder, pool)
    observer = Observer()
    _reset_peak_rss()
    rss_before = _status_kib("VmRSS")
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    if way == "sohoa walk":
        seen = sum(1 for _ in folder.waiting())
    elif way == "sohoa start":
        consumer.recover()
        consumer.scan()
        seen = len(consumer.settling)
    elif way == "inotify start":
        observer.schedule(_Events(), str(root), recursive=True)
        observer.start()
        seen = 0
    elif way == "peer: rglob":
        listed = sorted(p for p in root.rglob("*") if p.is_file())
        seen = len(listed)
    else:
        snapshot = DirectorySnapshot(str(root))
        seen = len(snapshot.paths)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_peak = _status_kib("VmHWM")
    if way == "inotify start":
        observer.stop()
        observer.join()
    return {
        "seen": seen,
        "wall_s": wall,
        "cpu_s": cpu,
        "py_peak_kib": peak / 1024,
        "rss_growth_kib": max(rss_peak - rss_before, 0),
    }


def _child(way: str, root: Path, data: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", way, str(root), str(data)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{way} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def _git_rev() -> str:
    git = ["git", "-C", str(ROOT)]
    rev = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    return rev.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def _fs_type(path: str) -> str:
    done = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return done.stdout.strip() or "?"


def report(files: int, rows: dict[str, dict], loads: list[str]) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        TITLE,
        "",
        f"_Written by `bench/consume.py` on {stamp}. Do not edit these numbers by hand: "
        "rerun the command._",
        "",
        f"- Machine: {_cpu_model()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}; "
        "the machine was shared with other engineers' runs (CPU time is the fairer figure)",
        f"- Code: sohoa git {_git_rev()}",
        f"- Command: `.venv/bin/python bench/consume.py --files {files}`",
        f"- Load (`uptime`): before {loads[0]}; after {loads[1]}",
        f"- Tree: {files:,} files of 2 KiB in 100 subfolders of {tempfile.gettempdir()} "
        f"({_fs_type(tempfile.gettempdir())}), page cache warm; each way in a fresh process, "
        "median of "
        f"{REPEATS}; memory: peak of Python allocations (tracemalloc) and the process's "
        "peak RSS growth during the way",
        "",
        "| way | files seen | wall ms | CPU ms | Python peak KiB | RSS growth KiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for way in WAYS:
        r = rows[way]
        lines.append(
            f"| {way} | {r['seen']:,} | {r['wall_s'] * 1000:.0f} | {r['cpu_s'] * 1000:.0f} "
            f"| {r['py_peak_kib']:,.0f} | {r['rss_growth_kib']:,.0f} |"
        )
    walk, start = rows["sohoa walk"], rows["sohoa start"]
    peer = rows["peer: snapshot"]
    lines += [
        "",
        f"- The watcher's start follows {start['seen']} files (its bound) in "
        f"{start['wall_s'] * 1000:.0f} ms; a whole walk of the {files:,} files (a polling "
        f"walk, `sohoa status`) takes {walk['wall_s'] * 1000:.0f} ms and holds "
        f"{walk['py_peak_kib']:,.0f} KiB at its peak, against {peer['py_peak_kib']:,.0f} KiB "
        "for watchdog's snapshot of the same tree.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--no-docs", action="store_true", help="print, leave docs/ alone")
    parser.add_argument(
        "--measure", nargs=3, metavar=("WAY", "ROOT", "DATA"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.measure:
        way, root, data = args.measure
        print(json.dumps(measure(way, Path(root), Path(data))))
        return
    loads = [_uptime()]
    with tempfile.TemporaryDirectory(prefix="sohoa-consume-bench-") as work:
        root, data = Path(work) / "scans", Path(work) / "data"
        make_tree(root, args.files)
        rows = {}
        for way in WAYS:
            runs = [_child(way, root, data) for _ in range(REPEATS)]
            rows[way] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{way}: {json.dumps(rows[way])}", file=sys.stderr)
    loads.append(_uptime())
    section = report(args.files, rows, loads)
    print(section)
    if not args.no_docs:
        sys.path.insert(0, str(ROOT))
        from bench.report import write_section

        write_section(ROOT / "docs" / "benchmarks.md", TITLE, section)


if __name__ == "__main__":
    main()
