"""Whole-installation export speed and memory: `sohoa archive export --all` (docs/benchmarks.md).

N generated born-digital documents (1-3 pages, half of them filed into dossiers of 5) are
ingested once into a data folder (kept with --data, reused when it holds them), then exported
in a fresh `sohoa` process each: into a folder, and into a .zip. The peer, in the same run, is
`tar` of the store folder: the cost of just reading and writing those bytes. Each run's CPU
(user + system of it and its children) and peak RSS come from GNU time; wall time is reported
but the machine may be shared: compare CPU.

    .venv/bin/python -m bench.archive [--docs 300] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import write_pdf_digital
from corpus.nd30 import make_document

ROOT = Path(__file__).resolve().parents[1]


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _prepare(data: Path, docs: int) -> None:
    """Ingest `docs` documents unless the data folder already holds that many records."""
    records = data / "store" / "records"
    if records.is_dir() and len(list(records.glob("*.json"))) >= docs:
        return
    inputs = data.parent / f"{data.name}-inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    rng = random.Random("bench-archive")
    paths = []
    for n in range(docs):
        pages = make_document(random.Random(f"bench-archive:{n}"), rng.choice((1, 1, 2, 3))).pages
        paths.append(write_pdf_digital(inputs / f"vb-{n:05d}.pdf", pages))
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_ORGAN": "000.00.00.G09"}
    filed = paths[: docs // 2]
    for start in range(0, len(filed), 5):
        group = [str(p) for p in filed[start : start + 5]]
        code = f"2024.HS-{start // 5:04d}"
        _run(
            [sys.executable, "-m", "app.cli", "ingest", *group, "--dossier", code, "--no-progress"],
            env,
        )
    # the rest, alone: the filed ones are known bytes, reused without OCR
    _run([sys.executable, "-m", "app.cli", "ingest", str(inputs), "--no-progress"], env)


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:5])}…: {result.stderr[-2000:]}")


def _measured(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall, CPU (user + system) and peak RSS of `command`, by GNU time (its own child: the
    peak is the command's, not this process's image copied at fork)."""
    timed = ["/usr/bin/time", "-f", "%M %U %S", *command]
    started = time.perf_counter()
    result = subprocess.run(
        timed, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{command[:6]} failed: {result.stderr[-2000:]}")
    rss_kib, user, system = result.stderr.strip().splitlines()[-1].split()
    return {
        "wall_s": wall,
        "cpu_s": float(user) + float(system),
        "max_rss_mib": int(rss_kib) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    data = args.data or work / "data"
    try:
        _prepare(data, args.docs)
        store = data / "store"
        records = len(list((store / "records").glob("*.json")))
        originals = _folder_bytes(store / "originals")
        derived = sum(p.stat().st_size for p in (store / "derived").rglob("searchable.pdf"))
        print(f"{records} records; originals {originals / 1e6:.1f} MB, PDFs {derived / 1e6:.1f} MB")
        print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores, shared machine)")
        env = {**os.environ, "SOHOA_DATA_DIR": str(data)}
        sohoa = [sys.executable, "-m", "app.cli", "archive", "export", "--all", "--no-progress"]
        runs = {
            "tar of the store folder (peer)": (
                ["tar", "-cf", str(work / "store.tar"), "-C", str(data), "store"],
                work / "store.tar",
            ),
            "sohoa archive export --all -o DIR": (
                [*sohoa, "-o", str(work / "bags")],
                work / "bags",
            ),
            "sohoa archive export --all -o X.zip": (
                [*sohoa, "-o", str(work / "bags.zip")],
                work / "bags.zip",
            ),
        }
        base = _measured([sys.executable, "-m", "app.cli", "status"], env)
        print(f"(a `sohoa status` process, for scale: max RSS {base['max_rss_mib']:.0f} MiB)")
        print("| run | wall s | CPU s | MB written | MB/s (wall) | MB per CPU s | max RSS MiB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, (command, output) in runs.items():
            got = _measured(command, env)
            size = output.stat().st_size if output.is_file() else _folder_bytes(output)
            mb = size / 1e6
            print(
                f"| {name} | {got['wall_s']:.1f} | {got['cpu_s']:.1f} | {mb:.1f} | "
                f"{mb / got['wall_s']:.1f} | {mb / got['cpu_s']:.1f} | "
                f"{got['max_rss_mib']:.0f} |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
