"""The per-page data path on the production backends, before and after a change, in one run.

    python bench/data_path.py [--pages 10 40] [--threads 4] [--before 2f0d0b3]

What it measures: one scanned PDF of N pages (JPEG, 300 dpi) through `submit_all` → Redis →
Dramatiq worker threads (ingest, ocr_page ×N, assemble, index) → `wait_for`, on the S3 server
and Redis of `scripts/services.sh up` (the index: a SQLite file, to keep the search server out of
it). Every ObjectStore call is counted by kind, on the workers' side and on the submitting
side (progress polling) apart; GET MiB is what the calls downloaded.

OCR is left out: `process_scanned_page` returns the real output of one page continuing a
document (computed once, before the clock starts) for every page, so the time is the data path
(store, queue, rasterising the page from its original, assembling, indexing), which Tesseract
would otherwise hide.

Before = the tree of `--before` (git archive into a temporary folder), after = this checkout;
each size runs before then after, each in a fresh process, fresh bucket, flushed Redis
database (15: the bench's own) and a cold cache of originals.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = 15
KINDS = ("GET", "PUT", "HEAD", "LIST", "DELETE")
TITLE = "## Data path (bench/data_path.py)"


class _CountedBody(io.RawIOBase):
    def __init__(self, body, tally) -> None:  # noqa: ANN001
        self._body, self._tally = body, tally

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self._tally(len(data))
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


class CountingStore:
    """An ObjectStore counting the calls that reach it, by the S3 request each one is."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.got: Counter[str] = Counter()  # bytes downloaded, by what they are
        self._lock = threading.Lock()

    def _count(self, kind: str, key: str = "", got: int = 0) -> None:
        with self._lock:
            self.calls[kind] += 1
            self.got[_what(key)] += got

    def _getter(self, key: str):  # noqa: ANN202
        def got(n: int) -> None:
            with self._lock:
                self.got[_what(key)] += n

        return got

    def put_bytes(self, key, data):  # noqa: ANN001, ANN201
        self._count("PUT")
        return self.inner.put_bytes(key, data)

    def create(self, key, data):  # noqa: ANN001, ANN201
        self._count("PUT")
        return self.inner.create(key, data)

    def put_file(self, key, path):  # noqa: ANN001, ANN201
        self._count("PUT")
        if key.endswith("/searchable.pdf"):
            self._count("searchable_pdf_written")
        return self.inner.put_file(key, path)

    def get_bytes(self, key):  # noqa: ANN001, ANN201
        data = self.inner.get_bytes(key)
        self._count("GET", key, len(data))
        return data

    def open(self, key):  # noqa: ANN001, ANN201
        self._count("GET")
        return io.BufferedReader(_CountedBody(self.inner.open(key), self._getter(key)))

    def local_path(self, key):  # noqa: ANN001, ANN201
        from contextlib import contextmanager

        @contextmanager
        def counted():  # noqa: ANN202
            with self.inner.local_path(key) as path:
                self._count("GET", key, path.stat().st_size)
                yield path

        return counted()

    def exists(self, key):  # noqa: ANN001, ANN201
        self._count("HEAD")
        return self.inner.exists(key)

    def delete(self, key):  # noqa: ANN001, ANN201
        self._count("DELETE")
        return self.inner.delete(key)

    def list(self, prefix):  # noqa: ANN001, ANN201
        self._count("LIST")
        return self.inner.list(prefix)

    def snapshot(self) -> dict:
        mib = {f"mib_{what}": round(n / 2**20, 2) for what, n in self.got.items() if n}
        return {
            **{k: self.calls[k] for k in KINDS},
            "pdf_written": self.calls["searchable_pdf_written"],
            "get_mib": sum(self.got.values()) / 2**20,
            **mib,
        }


def _what(key: str) -> str:
    """originals, page_pdf, page_json, searchable, records… (for the bytes downloaded)."""
    if key.startswith("originals/"):
        return "originals"
    if "/pages/" in key:
        return "page_" + key.rsplit(".", 1)[-1]
    return key.rsplit("/", 1)[-1].split(".")[0] if key.startswith("derived/") else "records"


def _stub_ocr(pdf: Path, canned_page: int) -> None:
    """Every page gets the real output of `canned_page` (OCR once, before the clock): a page
    that does not start a document, so the scan stays one document (not cut into N)."""
    import workers.tasks as tasks
    from pipeline.detect import PDF
    from pipeline.load import PageInfo, load_scanned_page
    from pipeline.page import ScannedPageOutput, process_scanned_page

    page = load_scanned_page(pdf, PDF, PageInfo(canned_page, False, 300))
    canned = process_scanned_page(page)

    def canned_page(page, options=None) -> ScannedPageOutput:  # noqa: ANN001
        result = canned.result.model_copy(update={"page_no": page.page_no})
        return ScannedPageOutput(result=result, pdf=canned.pdf)

    tasks.process_scanned_page = canned_page


def measure(
    pdf: Path, canned_page: int, threads: int, storage: str, broker: str, work: Path
) -> dict:
    """One document through the production path with this process's code."""
    import redis

    import storage as storage_package
    import workers
    from app.compose import build_services
    from app.config import Settings
    from storage.minio import MinioStore
    from workers.batch import outcome, submit_all, wait_for
    from workers.runtime import WorkerPool

    redis.Redis.from_url(broker).flushdb()
    bucket = f"bench-dp-{uuid.uuid4().hex[:10]}"
    url = storage.rsplit("/", 1)[0] + "/" + bucket
    settings = Settings(
        data_dir=work, storage=url, search=str(work / "index.sqlite3"), broker=broker
    )
    base = build_services(settings)
    worker_store = CountingStore(MinioStore.from_url(url))
    submit_store = CountingStore(MinioStore.from_url(url))
    cached = worker_store
    # The cache of originals, where this tree has one (after). Asked by file: the editable
    # install's finder would hand the before tree this checkout's module.
    if (Path(storage_package.__file__).parent / "cache.py").is_file():
        from storage.cache import CachedOriginals

        cached = CachedOriginals(worker_store, work / "cache")
    worker_services = dataclasses.replace(base, store=cached)
    submit_services = dataclasses.replace(base, store=submit_store)
    _stub_ocr(pdf, canned_page)
    with WorkerPool(worker_services, broker, threads) as pool:
        started = time.perf_counter()
        subs = submit_all(submit_services, pool, [pdf])
        submitted = time.perf_counter()
        submit_calls = submit_store.snapshot()
        wait_for(submit_services, pool, subs, None)
        wall = time.perf_counter() - started
    result, doc, error = outcome(submit_services, subs[0])
    polled = submit_store.snapshot()
    polling = {k: polled[k] - submit_calls.get(k, 0) for k in (*KINDS, "get_mib")}
    raw = MinioStore.from_url(url)
    for key in list(raw.list("")):
        raw.delete(key)
    raw.client.remove_bucket(bucket)
    return {
        "code": str(Path(workers.__file__).parents[1]),
        "pages": doc.page_count if doc else 0,
        "result": result,
        "error": error.message if error else None,
        "wall_s": round(wall, 2),
        "submit_s": round(submitted - started, 2),
        "workers": worker_store.snapshot(),
        "submit": submit_calls,
        "polling": polling,
    }


def _services_env() -> dict[str, str]:
    if os.environ.get("SOHOA_STORAGE", "").startswith("minio") and os.environ.get("SOHOA_BROKER"):
        return {k: os.environ[k] for k in ("SOHOA_STORAGE", "SOHOA_BROKER")}
    up = subprocess.run(
        ["bash", str(ROOT / "scripts" / "services.sh"), "up"],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split("=", 1) for line in up.stdout.splitlines() if line.startswith("SOHOA_"))


def _make_inputs(folder: Path, sizes: list[int]) -> tuple[dict[int, Path], int]:
    """Scanned PDFs of each size: distinct 'light'-degraded pages, repeated past ten; and the
    number of the first page that continues a document (the canned OCR output)."""
    from corpus.batch import iter_pages
    from corpus.formats import write_pdf_scanned

    pages = list(iter_pages(10, seed=14, level="light"))
    images = [image for image, _ in pages]
    made = {}
    for n in sizes:
        made[n] = write_pdf_scanned(
            folder / f"scan-{n}p.pdf", [images[i % len(images)] for i in range(n)]
        )
    doc_of = [truth.doc_index for _, truth in pages]
    continuing = next(i for i in range(1, len(pages)) if doc_of[i] == doc_of[i - 1])
    return made, min(continuing + 1, min(sizes))


def _export(commit: str, folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _run(tree: Path, pdf: Path, canned: int, threads: int, env: dict[str, str], work: Path) -> dict:
    work.mkdir(parents=True)
    script = str(Path(__file__).resolve())
    cmd = [sys.executable, script, "measure", str(pdf), str(canned), str(work)]
    child_env = {**os.environ, **env, "PYTHONPATH": str(tree), "SOHOA_BENCH_THREADS": str(threads)}
    done = subprocess.run(cmd, cwd=tree, env=child_env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measure failed in {tree}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def _git_rev() -> str:
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True).stdout
    return rev + (" + uncommitted changes" if dirty.strip() else "")


def report(
    rows: list[tuple[str, int, dict]], args: argparse.Namespace, loads: list[str], canned: int
) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        TITLE,
        "",
        f"_Written by `bench/data_path.py` on {stamp}. Do not edit these numbers by hand: "
        "rerun the command._",
        "",
        f"- Machine: {_cpu()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}",
        f"- Code: before = `{args.before}`, after = sohoa git {_git_rev()}",
        f"- Command: `.venv/bin/python bench/data_path.py --pages "
        f"{' '.join(map(str, args.pages))} --threads {args.threads}`",
        f"- Load (`uptime`): before the run {loads[0]}; after {loads[1]}",
        "- Path: one scanned PDF (JPEG pages, 300 dpi) → `submit_all` → Redis broker → "
        f"{args.threads} Dramatiq worker threads in the bench process (ingest, ocr_page per page, "
        "assemble, index) → `wait_for`; store: the S3 server of `scripts/services.sh up` (a "
        "fresh bucket per run), index: SQLite. Each row a fresh process, a cold cache.",
        f"- OCR left out: every page gets page {canned}'s real OCR output (computed before the "
        "clock; a page continuing a document, so the scan is not cut into parts), "
        "so the time is the data path: store calls, queue, rasterising each page from its "
        "original, assembling the PDF, indexing.",
        "- Calls: every ObjectStore call, counted by the S3 request it is (a wrapper in the bench "
        "only): the workers' side, and the submitting side's progress polling apart. GET MiB: "
        "bytes the workers' GETs brought (originals, page PDFs, records).",
        "",
        "| pages | code | wall s | workers GET | PUT | HEAD | LIST | DELETE | GET MiB "
        "| of which originals | searchable PDF written | polling GET | polling LIST |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for label, n, r in rows:
        w, p = r["workers"], r["polling"]
        lines.append(
            f"| {n} | {label} | {r['wall_s']:.1f} | {w['GET']} | {w['PUT']} | {w['HEAD']} | "
            f"{w['LIST']} | {w['DELETE']} | {w['get_mib']:.1f} | "
            f"{w.get('mib_originals', 0):.1f} | {w['pdf_written']}× | {p['GET']} | {p['LIST']} |"
        )
    lines += ["", *_reading(rows)]
    return "\n".join(lines) + "\n"


def _reading(rows: list[tuple[str, int, dict]]) -> list[str]:
    """Before → after per size, from the rows above."""
    by = {(label, n): r for label, n, r in rows}
    said = []
    for n in sorted({n for _, n, _ in rows}):
        b, a = by[("before", n)], by[("after", n)]
        bw, aw = b["workers"], a["workers"]
        said.append(
            f"- {n} pages: wall {b['wall_s']:.1f} → {a['wall_s']:.1f} s; store calls of the "
            f"workers {sum(bw[k] for k in KINDS)} → {sum(aw[k] for k in KINDS)} "
            f"(HEAD {bw['HEAD']} → {aw['HEAD']}); downloaded {bw['get_mib']:.0f} → "
            f"{aw['get_mib']:.0f} MiB; progress polling {sum(b['polling'][k] for k in KINDS)} → "
            f"{sum(a['polling'][k] for k in KINDS)} calls."
        )
    return said


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "measure":
        pdf, canned, work = Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
        env = os.environ
        broker = env["SOHOA_BROKER"].rsplit("/", 1)[0] + f"/{BENCH_DB}"
        threads = int(env.get("SOHOA_BENCH_THREADS", "4"))
        print(json.dumps(measure(pdf, canned, threads, env["SOHOA_STORAGE"], broker, work)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[10, 40])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--before", default="2f0d0b3")
    parser.add_argument("--no-docs", action="store_true", help="print, leave the docs alone")
    args = parser.parse_args()
    env = _services_env()
    rows = []
    loads = [_load()]
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-dp-") as tmp:
        work = Path(tmp)
        before = _export(args.before, work / "before")
        inputs, canned = _make_inputs(work, args.pages)
        for n in args.pages:
            for label, tree in (("before", before), ("after", ROOT)):
                r = _run(tree, inputs[n], canned, args.threads, env, work / f"{label}-{n}")
                if r["result"] != "ok" or r["pages"] != n:
                    raise SystemExit(f"{label} {n} pages: {r['result']} {r['error']}")
                print(f"{label} {n}p: {json.dumps(r)}", file=sys.stderr)
                rows.append((label, n, r))
    loads.append(_load())
    section = report(rows, args, loads, canned)
    print(section)
    if not args.no_docs:
        sys.path.insert(0, str(ROOT))
        from bench.report import write_section

        write_section(ROOT / "docs" / "benchmarks.md", TITLE, section)


if __name__ == "__main__":
    main()
