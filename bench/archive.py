"""Whole-installation export speed and memory: `sohoa archive export --all` (docs/benchmarks.md).

N generated born-digital documents (1-3 pages, half of them filed into dossiers of 5) are
ingested once into a data folder (kept with --data, reused when it holds them), then exported
in a fresh `sohoa` process each: into a folder, and into a .zip.

`--scale 1000,10000` then grows the installation to each of those counts without ingesting
again (`replicate`): every stored document is copied under a new id through the object store's
own interface (`ObjectStore.list/get_bytes/put_bytes`). A copy is a real record: its original
is the source's bytes plus one PDF comment line after `%%EOF` (so its SHA-256, the new id, is
its content address and the export's fixity check passes), its record, page results and access
objects are the source's with the old id replaced by the new one, its searchable PDF the
source's bytes, and a filed document's copy is filed in a copy of its dossier (`<code>-rNNN`).
The export then reads everything it reads for an ingested document. At each count it measures
`export --all` into a folder (and into a zip unless `--no-zip`). The peer, in the same run, is
`tar` of the store folder: the cost of just reading and writing those bytes. Each run's CPU
(user + system of it and its children) and peak RSS come from GNU time; wall time is reported
but the machine may be shared: compare CPU.

    .venv/bin/python -m bench.archive [--docs 300] [--data DIR]
"""

from __future__ import annotations

import argparse
import hashlib
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
from schemas.models import Document
from storage.base import ObjectStore, put_all
from storage.dossiers import DossierStore
from storage.keys import original_key, pages_prefix, pdf_key, record_key
from storage.local import LocalStore
from storage.records import RecordStore

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


def _copy_id(store: ObjectStore, doc_id: str, copy: int) -> str:
    """One copy of the document `doc_id` under a new id (see the module's docstring)."""
    original = store.get_bytes(original_key(doc_id)) + f"\n%sohoa-bench copy {copy}\n".encode()
    new_id = hashlib.sha256(original).hexdigest()

    def renamed(data: bytes) -> bytes:
        return data.replace(doc_id.encode(), new_id.encode())

    items = [(original_key(new_id), original)]
    items.append((record_key(new_id), renamed(store.get_bytes(record_key(doc_id)))))
    items.append((pdf_key(new_id), store.get_bytes(pdf_key(doc_id))))
    for key in store.list(pages_prefix(doc_id)):
        if key.endswith(".json"):
            items.append((renamed(key.encode()).decode(), renamed(store.get_bytes(key))))
    for key in store.list(f"access/{doc_id}/"):
        items.append((renamed(key.encode()).decode(), renamed(store.get_bytes(key))))
    put_all(store, items)
    return new_id


def replicate(data: Path, target: int) -> int:
    """Grow the data folder's records to `target` by copying the ingested ones; the count."""
    store = LocalStore(data / "store")
    ids = sorted(i for i in RecordStore(store).ids())
    sources = [i for i in ids if b"sohoa-bench copy" not in store.get_bytes(original_key(i))[-40:]]
    dossiers = DossierStore(store)
    originals = [d for d in dossiers.all() if "-r" not in d.file_code]
    filed = {i for d in originals for i in d.documents}
    count, copy = len(ids), 0
    while count < target:
        copy += 1
        if dossiers.get(f"{originals[0].file_code}-r{copy:03d}") is not None:
            continue  # this round of copies was made by an earlier run
        for dossier in originals:
            if count >= target:
                break
            members = [_copy_id(store, i, copy) for i in dossier.documents]
            code = f"{dossier.file_code}-r{copy:03d}"
            for new_id in members:  # the record names its (copied) dossier
                raw = store.get_bytes(record_key(new_id)).decode()
                doc = Document.model_validate_json(raw).model_copy(update={"dossier": code})
                store.put_bytes(record_key(new_id), doc.model_dump_json().encode())
            dossiers.put(dossier.model_copy(update={"file_code": code, "documents": members}))
            count += len(members)
        for doc_id in sources:
            if count >= target:
                break
            if doc_id not in filed:
                _copy_id(store, doc_id, copy)
                count += 1
    return count


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


def _describe(data: Path) -> None:
    store = data / "store"
    records = len(list((store / "records").glob("*.json")))
    originals = _folder_bytes(store / "originals")
    derived = sum(p.stat().st_size for p in (store / "derived").rglob("searchable.pdf"))
    print(f"\n{records} records; originals {originals / 1e6:.1f} MB, PDFs {derived / 1e6:.1f} MB")
    print(f"load average now: {os.getloadavg()[0]:.1f} (2 cores, shared machine)")


def _measure_runs(data: Path, work: Path, zip_too: bool) -> None:
    env = {**os.environ, "SOHOA_DATA_DIR": str(data)}
    sohoa = [sys.executable, "-m", "app.cli", "archive", "export", "--all", "--no-progress"]
    runs = {
        "tar of the store folder (peer)": (
            ["tar", "-cf", str(work / "store.tar"), "-C", str(data), "store"],
            work / "store.tar",
        ),
        "sohoa archive export --all -o DIR": ([*sohoa, "-o", str(work / "bags")], work / "bags"),
    }
    if zip_too:
        runs["sohoa archive export --all -o X.zip"] = (
            [*sohoa, "-o", str(work / "bags.zip")],
            work / "bags.zip",
        )
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
            f"{got['max_rss_mib']:.0f} |",
            flush=True,
        )
        if output.is_file():
            output.unlink()
        else:
            shutil.rmtree(output)


def trace_memory(data: Path, at: list[int], top: int = 10) -> None:
    """Export `--all` in this process under tracemalloc, with a snapshot after the bag that
    reaches each count of documents in `at`. Prints, per stretch between two snapshots, the
    memory still held at its end and the peak reached inside it (what RSS follows: freed
    memory mostly stays with the process), CPU, and the audit log's length; then the lines
    whose held memory grew from the first snapshot to the last (a leak would show there: a
    list, cache or log growing with the bags)."""
    import gc
    import tracemalloc

    from app.compose import build_services
    from app.config import load_settings
    from workers.archive_export import export_packages, plan_all

    services = build_services(load_settings(data_dir=data))
    audit = data / "store" / "exchange" / "audit"
    rows: list[tuple[int, float, float, float, int]] = []
    snapshots: list[tracemalloc.Snapshot] = []
    done, wanted = 0, sorted(at)

    def progress(documents: int, size: int) -> None:
        nonlocal done
        done += documents
        if wanted and done >= wanted[0]:
            wanted.pop(0)
            gc.collect()
            held, peak = tracemalloc.get_traced_memory()
            entries = len(list(audit.glob("*.json")))
            rows.append((done, held / 1e6, peak / 1e6, time.process_time(), entries))
            snapshots.append(tracemalloc.take_snapshot())
            tracemalloc.reset_peak()

    out = Path(tempfile.mkdtemp(prefix="bench-archive-trace-")) / "bags"
    tracemalloc.start(1)
    try:
        export_packages(
            services, plan_all(services), out, carry_sources=False, on_progress=progress
        )
    finally:
        tracemalloc.stop()
        shutil.rmtree(out.parent, ignore_errors=True)
    print(f"load average now: {os.getloadavg()[0]:.1f} (2 cores, shared machine)")
    print("| after documents | held MB | peak MB since the last | CPU s | audit entries |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for count, held, peak, cpu, entries in rows:
        print(f"| {count} | {held:.2f} | {peak:.2f} | {cpu:.1f} | {entries} |")
    diff = snapshots[-1].compare_to(snapshots[0], "lineno")
    print(f"\nheld memory grown, {rows[0][0]} -> {rows[-1][0]} documents, by line:")
    print("| where | KB | blocks |")
    print("| --- | ---: | ---: |")
    for d in sorted(diff, key=lambda d: -d.size_diff)[:top]:
        frame = d.traceback[0]
        where = f"{'/'.join(Path(frame.filename).parts[-2:])}:{frame.lineno}"
        print(f"| {where} | {d.size_diff / 1e3:+.1f} | {d.count_diff:+d} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=300, help="documents ingested")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument(
        "--scale", default="", help="record counts to grow to by copying, e.g. 1000,10000"
    )
    parser.add_argument("--no-zip", action="store_true", help="measure export into a folder only")
    parser.add_argument(
        "--trace-memory",
        default="",
        help="document counts (e.g. 200,600) to compare tracemalloc snapshots at, in process",
    )
    args = parser.parse_args()
    if args.trace_memory:
        if args.data is None:
            raise SystemExit("--trace-memory needs --data (an installation to export)")
        trace_memory(args.data, [int(c) for c in args.trace_memory.split(",")])
        return
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    data = args.data or work / "data"
    try:
        _prepare(data, args.docs)
        counts = [int(c) for c in args.scale.split(",") if c] or [0]
        for count in counts:
            if count:
                started = time.perf_counter()
                total = replicate(data, count)
                print(
                    f"\ngrew to {total} records by copying in {time.perf_counter() - started:.0f} s"
                )
            _describe(data)
            _measure_runs(data, work, not args.no_zip)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
