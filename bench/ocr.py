"""OCR benchmark: sohoa against OCRmyPDF on the same generated scans, in one run.

Run from the repository root::

    .venv/bin/python bench/ocr.py                      # full run, writes docs/benchmarks.md
    .venv/bin/python bench/ocr.py --pages-per-level 2 --born-digital-pages 9 --no-docs  # smoke

What it measures (DESIGN §8), all on pages made by the project's corpus generator:

* scanned pages (one image-only 300-dpi PDF per level clean / light / heavy, same documents at
  every level): sohoa through its real product path (build_services → WorkerPool →
  submit_all → wait_for → records), pages/s and word / character error per level;
* the preprocessing ablation (deskew off, denoise off / on, background normalisation on);
* OCRmyPDF (in-process Python API, --jobs 2) with its defaults and with rotate + deskew;
* the floor: plain ``tesseract IMG out -l vie`` (the CLI, one process per page, one page at a
  time, OMP_THREAD_LIMIT=1) on exactly the page images sohoa's loader gives its OCR; sohoa's
  CPU per page is reported as a multiple of it;
* word error over all whitespace-separated tokens (punctuation included) beside words only;
* born-digital PDFs (no OCR): pages/s, text source, word error;
* re-ingest of known bytes: time of `workers.submit.accept`, and proof that nothing is redone;
* peak memory of every engine run.

Every engine run happens in its own child Python process (this file with ``--phase``), so each
starts from the same state, environment and memory high-water mark; timing is taken inside the
child around the work only (not around interpreter start-up or imports).

By default the same run also measures the independent page set ``pages2/`` (made apart from the
corpus generator, never tuned on: the headline), generated with the same pages per level and
seed into OUT/pages2: sohoa's default, OCRmyPDF's defaults and the floor, in its own docs
section, and side by side with the tuning set in a *Both page sets* table (``--skip-pages2``
leaves it out; ``--baseline RESULTS_JSON`` shows an older run's sohoa rows there as *before*).

One other page set alone (made apart from the corpus generator) is measured with
``--page-set DIR``:
DIR/truth.json names one image-only PDF per level, ``{"name": ..., "scanned": {"clean": {"file":
"x.pdf", "pages": [{"text": ...}, ...]}, "light": ..., "heavy": ...}}`` (the shape of the
generated inputs' truth.json) or in the corpus manifest's shape (``{"files": [{"file": ...,
"level": ..., "pages": [...]}]}``, what ``python -m pages2 DIR`` writes), the PDFs beside
it; its section in docs/benchmarks.md is titled with the set's name, so each set keeps its own.

The numbers in docs/benchmarks.md are written by this script; rerun it rather than edit them.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from embedded import fresh_embedded
from report import write_section

REPO = Path(__file__).resolve().parent.parent
LEVELS = ("clean", "light", "heavy")
SECTION_TITLE = "## OCR (bench/ocr.py)"
FLOOR_LABEL = "floor: plain `tesseract IMG out -l vie`, one page at a time"

# sohoa configurations: name -> (label, Settings overrides). "default" must stay first.
SOHOA_CONFIGS: dict[str, tuple[str, dict]] = {
    "default": ("sohoa (default: deskew, denoise auto)", {}),
    "deskew_off": ("sohoa, deskew off", {"deskew": False}),
    "denoise_off": ("sohoa, denoise never", {"denoise": False}),
    "denoise_on": ("sohoa, denoise always", {"denoise": True}),
    "normalise_on": ("sohoa, background normalisation on", {"normalise_background": True}),
    # Not settings, measured all the same (`_apply_bench_overrides`): `_tesseract`, Tesseract
    # variables of the page read (invert_threshold 0: no second, inverted read of a line
    # Tesseract is unsure of); `_page_cli`, the page read through the `tesseract` CLI, one
    # process per page, as before the in-process engine; `_page_options`, PageOptions fields.
    "invert_off": ("sohoa, invert_threshold=0", {"_tesseract": {"invert_threshold": "0"}}),
    "page_cli": ("sohoa, page read by a `tesseract` process", {"_page_cli": True}),
    "fast_read": ("sohoa, large type read shrunk (SOHOA_OCR_FAST_READ)", {"ocr_fast_read": True}),
}
DEFAULT_SETTINGS = {
    "deskew": True,
    "normalise_background": False,
    "denoise": None,
    "ocr_fast_read": False,
}
OCRMYPDF_CONFIGS: dict[str, tuple[str, dict]] = {
    "default": ("OCRmyPDF (defaults)", {}),
    "rotate_deskew": ("OCRmyPDF --rotate-pages --deskew", {"rotate_pages": True, "deskew": True}),
}


PRODUCT_PACKAGES = ("app", "workers", "pipeline", "storage", "search", "schemas", "corpus")


def source_fingerprint() -> str | None:
    """Hash of the repository's modules this process has imported (their files as they are
    now, right after the import). Phases that ran different product code are not comparable;
    other engineers may commit while a run is going on."""
    import hashlib

    files = sorted(
        {
            path
            for path in (
                Path(m.__file__).resolve()
                for m in list(sys.modules.values())
                if getattr(m, "__file__", None)
            )
            if path.is_relative_to(REPO) and path.relative_to(REPO).parts[0] in PRODUCT_PACKAGES
        }
    )
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _rusage() -> dict:
    """Peak resident memory in MiB: this process, and the largest finished child process.

    Linux carries a parent's high-water mark into a child it spawns (vfork + exec), so the child
    figure is an upper bound of the largest Tesseract / Ghostscript, not its exact size."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mib": round(own, 1), "largest_child_mib": round(children, 1)}


def _cpu_s(who: int | None = None) -> float:
    """CPU seconds used so far by this process and its finished children (Tesseract, ...)."""
    total = 0.0
    for one in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) if who is None else (who,):
        usage = resource.getrusage(one)
        total += usage.ru_utime + usage.ru_stime
    return total


def _machine_busy_s() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / hz, steal / hz


class Meter:
    """Wall clock, our CPU, the rest of the machine's CPU and the load, around a piece of work."""

    def __enter__(self) -> Meter:
        with contextlib.suppress(OSError):
            self.load = float(Path("/proc/loadavg").read_text().split()[0])
        self.cpu0, (self.busy0, self.steal0) = _cpu_s(), _machine_busy_s()
        self.children0 = _cpu_s(resource.RUSAGE_CHILDREN)
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        busy, steal = _machine_busy_s()
        self.cpu = _cpu_s() - self.cpu0
        self.children = _cpu_s(resource.RUSAGE_CHILDREN) - self.children0
        self.others = max(busy - self.busy0 - self.cpu, 0.0)
        self.steal = steal - self.steal0

    def as_dict(self) -> dict:
        return {
            "wall_s": round(self.wall, 3),
            "cpu_s": round(self.cpu, 2),
            "children_cpu_s": round(self.children, 2),
            "others_cpu_s": round(self.others, 2),
            "steal_s": round(self.steal, 2),
            "load_at_start": getattr(self, "load", None),
        }


# =========================================================================== inputs


def generate_inputs(
    out: Path, pages_per_level: int, seed: int, digital_pages: int, digital_files: int
) -> dict:
    """Scanned PDFs (one per level) and born-digital PDFs, plus truth.json beside them."""
    from corpus import iter_pages, make_documents, write_pdf_digital, write_pdf_scanned

    folder = out / "inputs"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    truth: dict = {
        "seed": seed,
        "pages_per_level": pages_per_level,
        "scanned": {},
        "born_digital": [],
    }
    for level in LEVELS:
        images, pages = [], []
        for image, page_truth in iter_pages(pages_per_level, seed=seed, level=level):
            images.append(image)
            pages.append(asdict(page_truth))
        path = folder / f"scanned_{level}.pdf"
        write_pdf_scanned(path, images, lossless=level == "clean")
        truth["scanned"][level] = {
            "file": path.name,
            "size_bytes": path.stat().st_size,
            "pages": pages,
        }
        log(f"  {path.name}: {len(pages)} pages, {path.stat().st_size / 1e6:.1f} MB")
        del images
    per_doc = 3
    docs = make_documents(-(-digital_pages // per_doc), seed=seed + 1, pages=per_doc)
    layouts = [page for doc in docs for page in doc.pages]
    chunk = -(-len(layouts) // max(digital_files, 1))
    for k in range(0, len(layouts), chunk):
        part = layouts[k : k + chunk]
        path = folder / f"digital_{k // chunk:02d}.pdf"
        write_pdf_digital(path, part, title=f"sohoa bench born-digital {k // chunk}")
        truth["born_digital"].append(
            {
                "file": path.name,
                "size_bytes": path.stat().st_size,
                "pages": [{"page_no": i + 1, "text": p.text} for i, p in enumerate(part)],
            }
        )
    n_digital = sum(len(f["pages"]) for f in truth["born_digital"])
    log(f"  {len(truth['born_digital'])} born-digital PDFs, {n_digital} pages")
    (folder / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return truth


def page_set_inputs(folder: Path, name: str | None = None) -> dict:
    """The truth of a page set made elsewhere (`--page-set`, pages2): its scanned levels only.
    Reads the bench's own shape (`scanned` by level) or the corpus manifest's (`files`, each
    with its `level`: what `python -m pages2` writes)."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    if "scanned" not in truth and "files" in truth:
        truth["scanned"] = {
            entry["level"]: entry for entry in truth["files"] if not entry.get("born_digital")
        }
    missing = [level for level in LEVELS if level not in truth.get("scanned", {})]
    if missing:
        raise SystemExit(f"{folder / 'truth.json'}: no scanned level {', '.join(missing)}")
    pages = {len(truth["scanned"][level]["pages"]) for level in LEVELS}
    return {
        "name": name or truth.get("name") or folder.name,
        "pages_per_level": max(pages),
        "scanned": truth["scanned"],
        "born_digital": [],
    }


PAGES2 = "pages2"  # the independent set (pages2/): the headline, never tuned on


def pages2_inputs(out: Path, pages_per_level: int, seed: int) -> tuple[dict, Path]:
    """The independent page set written by `pages2` (its own texts, fonts, layout, marks and
    scanner model) into out/pages2/inputs, read back as a page set."""
    folder = out / PAGES2 / "inputs"
    shutil.rmtree(folder, ignore_errors=True)
    # Its own command, from the repository root: pages2 is benchmark material, not a package
    # the project installs (pyproject), so this process may not import it.
    command = [sys.executable, "-m", PAGES2, str(folder), "--pages", str(pages_per_level)]
    subprocess.run([*command, "--seed", str(seed)], cwd=REPO, check=True, capture_output=True)
    return page_set_inputs(folder, name=PAGES2), folder


def extract_page_images(truth: dict, inputs: Path, out: Path) -> dict[str, list[str]]:
    """Each scanned level's pages as sohoa's loader gives them to its OCR (before clean-up),
    written losslessly as PNG with their resolution: what the floor row reads."""
    from pipeline.load import PDF, load_scanned_page, plan_pages

    folder = out / "floor-images"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    images: dict[str, list[str]] = {}
    for level in LEVELS:
        path = inputs / truth["scanned"][level]["file"]
        images[level] = []
        for info in plan_pages(path, PDF):
            page = load_scanned_page(path, PDF, info)
            target = folder / f"{level}-{info.page_no:04d}.png"
            page.image.save(target, dpi=(page.dpi, page.dpi))
            images[level].append(str(target))
    return images


# =========================================================================== child phases


class StageClock:
    """Wall time spent inside chosen functions, summed over threads (thread-seconds)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner: object, name: str, key: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                used = time.thread_time() - cpu
                with self.lock:
                    self.seconds[key] += elapsed
                    self.cpu[key] += used
                    self.calls[key] += 1

        setattr(owner, name, timed)

    def snapshot(self) -> dict:
        with self.lock:
            return {
                k: {
                    "seconds": round(self.seconds[k], 3),
                    "cpu_s": round(self.cpu[k], 3),
                    "calls": self.calls[k],
                }
                for k in self.seconds
            }


# (depth, key, owner module, attribute): nested stages, depth is for display only.
STAGES = [
    (0, "accept: hash + store original", "workers.batch", "accept"),
    (0, "ingest actor (plan pages, born-digital text)", "workers.tasks", "start_document"),
    (1, "plan pages (pdfium)", "workers.tasks", "plan_pages"),
    (1, "born-digital text + words (pdfium)", "workers.tasks", "_store_text_pages"),
    (0, "ocr_page actor", "workers.tasks", "ocr_one_page"),
    (1, "load / rasterise page (pdfium)", "workers.tasks", "load_scanned_page"),
    (1, "process page", "workers.tasks", "process_scanned_page"),
    (2, "blank test", "pipeline.page", "is_blank"),
    (2, "sideways test", "pipeline.page", "is_sideways"),
    (2, "OSD (tesseract)", "pipeline.page", "detect_quarter_turns"),
    (2, "prepare", "pipeline.page", "prepare"),
    (3, "skew estimate", "pipeline.preprocess", "estimate_skew"),
    (3, "deskew rotation", "pipeline.preprocess", "deskew"),
    (3, "background normalisation", "pipeline.preprocess", "normalise_background"),
    (3, "noise measure", "pipeline.preprocess", "noise_level"),
    (3, "median filter", "pipeline.preprocess", "denoise"),
    (2, "page OCR (tesseract read, parse TSV)", "pipeline.page", "ocr_page"),
    (3, "tesseract in process (libtesseract)", "pipeline.tessapi.Engine", "read"),
    (3, "tesseract process", "pipeline.ocr", "_run"),
    (2, "key-zone second reads", "pipeline.page", "key_zone_words"),
    (2, "page PDF (JPEG + text overlay)", "pipeline.page", "page_pdf"),
    (1, "fan-in check (tally, one listing at the end)", "workers.tasks", "last_page_finished"),
    (0, "assemble actor", "workers.tasks", "assemble_document"),
    (1, "qpdf assemble + PDF/A marks", "workers.tasks", "assemble"),
    (0, "index actor", "workers.tasks", "index_document"),
    (0, "record reads (JSON, incl. polling)", "storage.records.RecordStore", "get"),
    (0, "record status reads (polling, re-ingest)", "storage.records.RecordStore", "status"),
    (0, "record writes (JSON)", "storage.records.RecordStore", "put"),
]


def _resolve(dotted: str) -> object:
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _install_clock() -> StageClock:
    clock = StageClock()
    done: set[tuple[int, str]] = set()
    for _, key, owner_name, attr in STAGES:
        owner = _resolve(owner_name)
        if (id(owner), attr) in done:
            continue
        done.add((id(owner), attr))
        clock.wrap(owner, attr, key)
    return clock


TESSERACT_STAGES = ("tesseract process", "tesseract in process (libtesseract)")


def tesseract_runs(stages: dict) -> int:
    """Tesseract page reads and CLI runs of a run's StageClock snapshot (the zone reads through
    tesserocr are not counted: they only happen after a page read)."""
    return sum(stages.get(key, {}).get("calls", 0) for key in TESSERACT_STAGES)


def tesseract_cpu_s(summary: dict) -> float:
    """CPU seconds Tesseract used in a sohoa run (a summary with its stages): its child
    processes (CLI, OSD) and the in-process page reads (the reading threads' own CPU time)."""
    in_process = (summary.get("stages") or {}).get(TESSERACT_STAGES[1], {}).get("cpu_s", 0.0)
    return summary["conditions"]["children_cpu_s"] + in_process


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def phase_sohoa(spec: dict) -> dict:
    from schemas.models import DocumentStatus
    from workers.batch import outcome, submit_all, wait_for
    from workers.runtime import WorkerPool
    from workers.submit import accept

    clock = _install_clock()
    data_dir = Path(spec["data_dir"])
    threads = spec["threads"]
    overrides = dict(spec["settings"])
    bench_only = {k: overrides.pop(k) for k in list(overrides) if k.startswith("_")}
    # Every setting explicit, so SOHOA_* variables in the environment cannot change the run;
    # the embedded default as the other benches build it, one Tesseract thread per worker.
    settings, services = fresh_embedded(data_dir, threads, **{**DEFAULT_SETTINGS, **overrides})
    _apply_bench_overrides(services, bench_only)
    paths = [Path(p) for p in spec["paths"]]

    with Meter() as meter, WorkerPool(services, "", threads=threads) as pool:
        subs = submit_all(services, pool, paths)
        wait_for(services, pool, subs, None)

    files = []
    for sub in subs:
        result, doc, error = outcome(services, sub)
        doc = services.records.require(sub.doc_id) if sub.doc_id else doc
        files.append(
            {
                "path": str(sub.path),
                "result": result,
                "error": error.message if error else None,
                "doc_id": sub.doc_id,
                "status": doc.status.value if doc else None,
                "pages": [
                    {
                        "page_no": p.page_no,
                        "status": p.status.value,
                        "source": p.source.value,
                        "text": p.text,
                        "seconds": p.seconds,
                        "skew_deg": p.skew_deg,
                        "rotation_deg": p.rotation_deg,
                        "mean_confidence": p.mean_confidence,
                        "flags": p.quality_flags,
                    }
                    for p in (doc.pages if doc else [])
                ],
            }
        )
    busy = clock.snapshot()
    out = {
        **meter.as_dict(),
        "files": files,
        "stages": busy,
        "settings": {k: getattr(settings, k) for k in DEFAULT_SETTINGS},
    }

    if spec.get("reingest_reps"):
        store_root = settings.storage_path
        derived_before = _tree(store_root / "derived")
        records_before = _tree(store_root / "records")
        tesseract_before = tesseract_runs(clock.snapshot())
        timings: dict[str, list[float]] = defaultdict(list)
        outcomes: dict[str, int] = defaultdict(int)
        for rep in range(spec["reingest_reps"]):
            path = paths[rep % len(paths)]
            t0 = time.perf_counter()
            sub = accept(services, path)
            timings[path.name].append((time.perf_counter() - t0) * 1000)
            outcomes[sub.outcome] += 1
        # The whole batch path once per file, as `sohoa ingest` runs it (pool start and stop
        # included; interpreter start-up and imports excluded).
        batch_ms = []
        for path in paths:
            t0 = time.perf_counter()
            with WorkerPool(services, "", threads=threads) as pool:
                again = submit_all(services, pool, [path])
                wait_for(services, pool, again, None)
            batch_ms.append((time.perf_counter() - t0) * 1000)
            outcomes["batch:" + again[0].outcome] += 1
        tesseract_after = tesseract_runs(clock.snapshot())
        # Where an accept() of known bytes spends its time: hashing the file, reading the record.
        from storage.keys import record_key
        from workers.inputs import Found
        from workers.submit import _hash_file

        parts: dict[str, list[float]] = defaultdict(list)
        record_bytes = []
        for path in paths:
            for _ in range(3):
                t0 = time.perf_counter()
                doc_id = _hash_file(Found(path=path, shown=str(path), name=path.name))[0]
                t1 = time.perf_counter()
                services.records.get(doc_id)
                t2 = time.perf_counter()
                parts["hash_ms"].append((t1 - t0) * 1000)
                parts["record_read_ms"].append((t2 - t1) * 1000)
            record_bytes.append(len(services.store.get_bytes(record_key(doc_id))))
        all_ms = [ms for v in timings.values() for ms in v]
        out["reingest"] = {
            "reps": len(all_ms),
            "median_ms": round(statistics.median(all_ms), 2),
            "max_ms": round(max(all_ms), 2),
            "per_file": {
                name: {
                    "size_bytes": Path(next(p for p in paths if p.name == name)).stat().st_size,
                    "median_ms": round(statistics.median(v), 2),
                    "max_ms": round(max(v), 2),
                    "n": len(v),
                }
                for name, v in timings.items()
            },
            "outcomes": dict(outcomes),
            "batch_path_ms": [round(ms, 1) for ms in batch_ms],
            "hash_median_ms": round(statistics.median(parts["hash_ms"]), 2),
            "record_read_median_ms": round(statistics.median(parts["record_read_ms"]), 2),
            "record_bytes_max": max(record_bytes),
            "derived_unchanged": _tree(store_root / "derived") == derived_before,
            "records_unchanged": _tree(store_root / "records") == records_before,
            "derived_files": len(derived_before),
            "tesseract_runs_during_reingest": tesseract_after - tesseract_before,
            "all_done": all(
                services.records.require(s.doc_id).status == DocumentStatus.done
                for s in subs
                if s.doc_id
            ),
        }
    out["memory"] = _rusage()
    if not spec.get("keep_data"):
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def _apply_bench_overrides(services: object, overrides: dict) -> None:
    """The variants of SOHOA_CONFIGS that are not settings (keys starting with `_`)."""
    import dataclasses

    import pipeline.ocr
    import pipeline.tessapi

    pipeline.ocr.PAGE_VARIABLES.update(overrides.get("_tesseract", {}))
    if overrides.get("_page_cli"):
        pipeline.tessapi.library = lambda: None  # as on a machine without libtesseract
    if overrides.get("_page_options"):
        options = dataclasses.replace(services.page_options, **overrides["_page_options"])
        services.page_options = options


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def phase_ocrmypdf(spec: dict) -> dict:
    import ocrmypdf

    handler = _ListHandler()
    root = logging.getLogger("ocrmypdf")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    work = Path(spec["work_dir"])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    options = dict(spec["options"])
    dropped: list[str] = []
    files = []
    total = 0.0
    meter = Meter().__enter__()
    for raw in spec["paths"]:
        path = Path(raw)
        output, sidecar = work / f"{path.stem}.ocr.pdf", work / f"{path.stem}.txt"
        while True:
            handler.lines.clear()
            t0 = time.perf_counter()
            try:
                ocrmypdf.ocr(
                    path,
                    output,
                    language="vie",
                    jobs=spec["threads"],
                    sidecar=sidecar,
                    progress_bar=False,
                    **options,
                )
            except Exception as e:  # an option this machine cannot honour: drop it, say so
                from ocrmypdf.exceptions import MissingDependencyError

                named = [k for k in options if k in str(e) or k.replace("_", "-") in str(e)]
                if named:
                    victim = named[0]
                elif isinstance(e, MissingDependencyError) and options:
                    victim = next(iter(options))
                else:
                    raise
                dropped.append(f"{victim} ({type(e).__name__}: {e})")
                options.pop(victim)
                continue
            elapsed = time.perf_counter() - t0
            break
        total += elapsed
        text = sidecar.read_text(encoding="utf-8")
        pages = text.split("\f")
        if pages and not pages[-1].strip():
            pages = pages[:-1]
        pdfa = "unknown"
        with contextlib.suppress(Exception):
            import pikepdf

            with pikepdf.open(output) as pdf, pdf.open_metadata() as meta:
                part, conf = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
                pdfa = f"PDF/A-{part}{(conf or '').lower()}" if part else "plain PDF"
        route = (
            "pikepdf (speculative)"
            if any("Speculative PDF/A conversion succeeded" in ln for ln in handler.lines)
            else "Ghostscript"
            if any("hostscript" in ln for ln in handler.lines)
            else "?"
        )
        files.append(
            {
                "path": str(path),
                "seconds": round(elapsed, 3),
                "pages": pages,
                "output_bytes": output.stat().st_size,
                "pdfa": pdfa,
                "pdfa_route": route,
                "log_tail": handler.lines[-8:],
            }
        )
    meter.__exit__()
    return {
        **meter.as_dict(),
        "wall_s": round(total, 3),
        "files": files,
        "dropped_options": dropped,
        "options_used": options,
        "version": ocrmypdf.__version__,
        "memory": _rusage(),
    }


def phase_tesseract(spec: dict) -> dict:
    """The floor: the Tesseract CLI as a user would run it, one page image after another."""
    work = Path(spec["work_dir"])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    files = []
    with Meter() as meter:
        for level, images in spec["images"].items():
            t0, texts = time.perf_counter(), []
            for image in images:
                base = work / Path(image).stem
                subprocess.run(
                    ["tesseract", image, str(base), "-l", "vie"],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                texts.append(base.with_suffix(".txt").read_text(encoding="utf-8"))
            files.append(
                {
                    "path": spec["pdfs"][level],
                    "seconds": round(time.perf_counter() - t0, 3),
                    "pages": texts,
                }
            )
    return {**meter.as_dict(), "files": files, "memory": _rusage()}


def run_child(phase: str, spec: dict, out: Path, name: str) -> dict:
    spec_path, result_path = out / "runs" / f"{name}.spec.json", out / "runs" / f"{name}.json"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec["result"] = str(result_path)
    spec_path.write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    # Children start without OMP_THREAD_LIMIT inherited from a previous phase of ours; each
    # engine sets its own (sohoa: 1 per Tesseract; OCRmyPDF: jobs // pages, clamped to 1–3).
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--spec", str(spec_path)],
        env=env,
        cwd=REPO,
        check=False,
    )
    if proc.returncode != 0 or not result_path.exists():
        raise SystemExit(f"phase {name} failed (exit {proc.returncode}); see the output above")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    log(f"  {name}: {result['wall_s']:.1f} s of work, {time.perf_counter() - t0:.1f} s in all")
    return result


# =========================================================================== metrics


def tokens(text: str) -> list[str]:
    """All whitespace-separated tokens, punctuation kept (`-` alone is a token), NFC."""
    import unicodedata

    return unicodedata.normalize("NFC", text).split()


def token_error(truth: str, hypothesis: str) -> float:
    """Bag-of-tokens error, as `corpus.metrics.word_error` but over all tokens: a dropped dash
    or a `trên;` read as `trên` counts."""
    from collections import Counter

    want, got = Counter(tokens(truth)), Counter(tokens(hypothesis))
    total = sum(want.values())
    if total == 0:
        return 0.0 if not got else 1.0
    return max(sum((want - got).values()), sum((got - want).values())) / total


def score_pages(truths: list[str], texts: list[str]) -> dict:
    from corpus.metrics import char_error, word_error, words

    if len(texts) < len(truths):
        texts = texts + [""] * (len(truths) - len(texts))
    we = [word_error(t, h) for t, h in zip(truths, texts, strict=False)]
    te = [token_error(t, h) for t, h in zip(truths, texts, strict=False)]
    n_tokens = [len(tokens(t)) for t in truths]
    ce = [char_error(t, h) for t, h in zip(truths, texts, strict=False)]
    n_words = [len(words(t)) for t in truths]
    n_chars = [len(" ".join(t.split())) for t in truths]
    return {
        "word_error": statistics.fmean(we),
        "char_error": statistics.fmean(ce),
        "word_error_pooled": sum(e * n for e, n in zip(we, n_words, strict=True)) / sum(n_words),
        "char_error_pooled": sum(e * n for e, n in zip(ce, n_chars, strict=True)) / sum(n_chars),
        "word_error_max": max(we),
        "token_error": statistics.fmean(te),
        "token_error_pooled": sum(e * n for e, n in zip(te, n_tokens, strict=True))
        / max(sum(n_tokens), 1),
        "per_page_word_error": [round(e, 5) for e in we],
        "pages": len(truths),
        "words": sum(n_words),
    }


def _conditions(result: dict, pages: int) -> dict:
    keys = ("wall_s", "cpu_s", "children_cpu_s", "others_cpu_s", "steal_s", "load_at_start")
    out = {k: result.get(k) for k in keys}
    out["cpu_s_per_page"] = result["cpu_s"] / pages
    return out


def summarise_sohoa(result: dict, truth: dict) -> dict:
    by_name = {Path(f["path"]).name: f for f in result["files"]}
    levels, pages_total = {}, 0
    for level in LEVELS:
        entry = truth["scanned"][level]
        f = by_name[entry["file"]]
        texts = [p["text"] for p in f["pages"]]
        levels[level] = score_pages([p["text"] for p in entry["pages"]], texts)
        levels[level]["not_done"] = sum(p["status"] != "done" for p in f["pages"])
        levels[level]["denoised"] = sum("denoised" in p["flags"] for p in f["pages"])
        levels[level]["result"] = f["result"]
        pages_total += len(entry["pages"])
    return {
        "pages": pages_total,
        "wall_s": result["wall_s"],
        "pages_per_s": pages_total / result["wall_s"],
        "levels": levels,
        "memory": result["memory"],
        "settings": result["settings"],
        "conditions": _conditions(result, pages_total),
    }


def report_words(truth: dict) -> int:
    from corpus.metrics import words

    return sum(len(words(p["text"])) for p in truth["scanned"]["clean"]["pages"])


def confusions(result: dict, truth: dict, top: int = 8) -> dict:
    """The commonest missing and extra words per level (bag of words, as word_error counts)."""
    from collections import Counter

    from corpus.metrics import words

    by_name = {Path(f["path"]).name: f for f in result["files"]}
    out = {}
    for level in LEVELS:
        entry = truth["scanned"][level]
        missing, extra = Counter(), Counter()
        for t, page in zip(entry["pages"], by_name[entry["file"]]["pages"], strict=False):
            want, got = Counter(words(t["text"])), Counter(words(page["text"]))
            missing += want - got
            extra += got - want
        out[level] = {"missing": missing.most_common(top), "extra": extra.most_common(top)}
    return out


def _scanned_levels(result: dict, truth: dict) -> tuple[dict, int]:
    """Per level, a peer engine's page texts scored against the truth (with the seconds its
    file took), and the number of pages scored."""
    by_name = {Path(f["path"]).name: f for f in result["files"]}
    levels, pages_total = {}, 0
    for level in LEVELS:
        entry = truth["scanned"][level]
        f = by_name[entry["file"]]
        levels[level] = score_pages([p["text"] for p in entry["pages"]], f["pages"])
        levels[level]["seconds"] = f["seconds"]
        pages_total += len(entry["pages"])
    return levels, pages_total


def _peer_summary(result: dict, truth: dict) -> dict:
    levels, pages_total = _scanned_levels(result, truth)
    return {
        "pages": pages_total,
        "wall_s": result["wall_s"],
        "pages_per_s": pages_total / result["wall_s"],
        "levels": levels,
        "memory": result["memory"],
        "conditions": _conditions(result, pages_total),
    }


def summarise_ocrmypdf(result: dict, truth: dict) -> dict:
    summary = _peer_summary(result, truth)
    by_name = {Path(f["path"]).name: f for f in result["files"]}
    for level, scores in summary["levels"].items():
        scores["sidecar_pages"] = len(by_name[truth["scanned"][level]["file"]]["pages"])
    summary["dropped_options"] = result["dropped_options"]
    summary["files"] = [{k: v for k, v in f.items() if k != "pages"} for f in result["files"]]
    return summary


def summarise_floor(result: dict, truth: dict) -> dict:
    return {"label": FLOOR_LABEL, **_peer_summary(result, truth)}


def summarise_digital(result: dict, truth: dict) -> dict:
    by_name = {Path(f["path"]).name: f for f in result["files"]}
    truths, texts, sources, not_ok = [], [], defaultdict(int), 0
    for entry in truth["born_digital"]:
        f = by_name[entry["file"]]
        not_ok += f["result"] != "ok"
        truths += [p["text"] for p in entry["pages"]]
        texts += [p["text"] for p in f["pages"]]
        for p in f["pages"]:
            sources[p["source"]] += 1
    score = score_pages(truths, texts)
    return {
        "pages": len(truths),
        "files": len(truth["born_digital"]),
        "wall_s": result["wall_s"],
        "pages_per_s": len(truths) / result["wall_s"],
        "sources": dict(sources),
        "files_not_ok": not_ok,
        "word_error": score["word_error"],
        "char_error": score["char_error"],
        "word_error_max": score["word_error_max"],
        "tesseract_runs": tesseract_runs(result["stages"]),
        "memory": result["memory"],
        "stages": result["stages"],
        "conditions": _conditions(result, len(truths)),
    }


# =========================================================================== report


def _cmd(args: list[str]) -> str:
    try:
        return subprocess.run(
            args, capture_output=True, text=True, check=False, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _git_head() -> str:
    commit = _cmd(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = bool(_cmd(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"]))
    return f"{commit}{' + uncommitted changes' if dirty else ''}" if commit else "unknown"


def machine_info() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    os_name = platform.platform()
    with contextlib.suppress(OSError):
        found = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(), re.M)
        if found:
            os_name = f"{found.group(1)} (Linux {platform.release()})"
    from pipeline import PIPELINE_VERSION
    from pipeline.ocr import page_engine, zone_engine

    try:
        import ocrmypdf

        ocrmypdf_version = ocrmypdf.__version__
    except ImportError:
        ocrmypdf_version = "not installed"
    tesseract = (_cmd(["tesseract", "--version"]).splitlines() or ["not found"])[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram": ram,
        "os": os_name,
        "python": platform.python_version(),
        "pipeline_version": PIPELINE_VERSION,
        "git": _git_head(),
        "tesseract": tesseract,
        "ocrmypdf": ocrmypdf_version,
        "page_engine": page_engine(),
        "zone_engine": zone_engine(),
        "ghostscript": _cmd(["gs", "--version"]) or "not found",
        "qpdf": (_cmd(["qpdf", "--version"]).splitlines() or ["not found"])[0],
    }


def _code(word: str) -> str:
    """A word as Markdown code inside a table cell, whatever characters OCR produced."""
    word = word.replace("|", "\\|")
    return f"`` {word} ``" if "`" in word else f"`{word}`"


def pct(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x * 100:.{digits}f} %"


def section_title(page_set: str | None) -> str:
    """The docs section of one page set: the generated pages keep the original title."""
    return SECTION_TITLE if not page_set else f"## OCR, page set {page_set} (bench/ocr.py)"


def _inputs_line(r: dict) -> str:
    a = r["args"]
    if r.get("page_set"):
        return (
            f"- Inputs: page set **{r['page_set']}** (`{_rel(a['page_set'])}`, made apart from "
            f"the corpus generator), {a['pages_per_level']} pages per level clean / light / heavy, "
            f"one image-only PDF per level. Truth: `{_rel(a['page_set'])}/truth.json`; every page "
            f"text of every run: `{_rel(a['out'])}/runs/*.json`."
        )
    return (
        f"- Inputs (corpus generator, seed {a['seed']}): the same {a['pages_per_level']} "
        "pages at each level clean / light / heavy (same documents, different degradation), "
        "one image-only 300-dpi PDF per level (clean: lossless Flate; light/heavy: JPEG q85); "
        f"{r['digital']['pages'] if r.get('digital') else 0} born-digital pages in "
        f"{r['digital']['files'] if r.get('digital') else 0} PDFs. "
        f"Truth: `{_rel(a['out'])}/inputs/truth.json`; every page text of every run: "
        f"`{_rel(a['out'])}/runs/*.json`."
    )


def _token_table(r: dict, rows: list[tuple[str, dict]]) -> list[str]:
    """Word error over all tokens beside words only, and CPU per page against the floor."""
    floor = r.get("floor")
    floor_cpu = floor["conditions"]["cpu_s_per_page"] if floor else None
    lines = [
        "",
        "Word error over **all tokens** (whitespace-separated, punctuation included: a dropped "
        "`-` or `trên;` read as `trên` counts) beside words only (punctuation stripped), pooled "
        "over the level's tokens / words; CPU per page as a multiple of the floor row's "
        f"({FLOOR_LABEL}, OMP_THREAD_LIMIT=1, on the very page images sohoa's loader gives its "
        "OCR):",
        "",
        "| engine | CPU s/page | × floor | all tokens clean | light | heavy "
        "| words only clean | light | heavy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, s in rows:
        lv, cpu = s["levels"], s["conditions"]["cpu_s_per_page"]
        times = f"{cpu / floor_cpu:.2f}×" if floor_cpu else "–"
        lines.append(
            f"| {label} | {cpu:.2f} | {times} | "
            + " | ".join(pct(lv[level].get("token_error_pooled")) for level in LEVELS)
            + " | "
            + " | ".join(pct(lv[level]["word_error_pooled"]) for level in LEVELS)
            + " |"
        )
    return lines


def _set_rows(r: dict) -> list[tuple[str, dict]]:
    rows = [("sohoa", r["sohoa"]["default"])]
    rows += [("OCRmyPDF `-l vie --jobs 2`", r["ocrmypdf"]["default"])] if r["ocrmypdf"] else []
    return rows + ([("floor: plain `tesseract`", r["floor"])] if r.get("floor") else [])


def _both_sets_table(r: dict) -> list[str]:
    """The headline: the independent set (never tuned on) beside the tuning set, sohoa against
    OCRmyPDF and the floor, with a previous run's sohoa (`--baseline`) as 'before'."""
    others = r.get("other_sets") or {}
    if not others:
        return []
    before = r.get("baseline") or {}
    old_sets = before.get("other_sets") or {}
    sets = [(name, other, old_sets.get(name)) for name, other in others.items()]
    sets.append(("corpus (tuning set)", r, before or None))
    lines = [
        "",
        "### Both page sets: sohoa, OCRmyPDF and the floor",
        "",
        f"The headline is **{', '.join(others)}**: pages made apart from the corpus generator "
        "(own texts, fonts, layout, seals and signatures, scanner model; `pages2/README.md`), "
        "which no clean-up decision was tuned on; the corpus rows are the set the clean-up "
        "was tuned on. Same run, same page count per level. Word error pooled over the level's "
        "tokens (all tokens, punctuation included) and words (words only); CPU per page is the "
        "engine's process and children (insensitive to other load, unlike pages/s)."
        + (
            f" *before*: sohoa at git {before['machine']['git']} ({before['date']}, same inputs)."
            if before
            else ""
        ),
        "",
        "| set | engine | CPU s/page | all tokens clean | light | heavy "
        "| words only clean | light | heavy |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, report, old in sets:
        rows = _set_rows(report)
        if old:
            rows.insert(0, ("sohoa *before*", old["sohoa"]["default"]))
        for label, s in rows:
            lv = s["levels"]
            lines.append(
                f"| {name} | {label} | {s['conditions']['cpu_s_per_page']:.2f} | "
                + " | ".join(pct(lv[level].get("token_error_pooled")) for level in LEVELS)
                + " | "
                + " | ".join(pct(lv[level]["word_error_pooled"]) for level in LEVELS)
                + " |"
            )
    return lines


def render_section(r: dict) -> str:
    m, a = r["machine"], r["args"]
    lines = [
        section_title(r.get("page_set")),
        "",
        f"_Written by `bench/ocr.py` on {r['date']}. Do not edit these numbers by hand: rerun "
        "the command._",
        "",
        *_code_warning(r),
        "### Machine and versions",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram']}; {m['os']}",
        f"- sohoa pipeline {m['pipeline_version']} (git {_git_span(r)}; product modules "
        f"{', '.join(sorted(set((r.get('source_fingerprints') or {}).values()))) or '?'}); "
        f"{m['tesseract']} (`vie`; sohoa's page reads: {m.get('page_engine', 'tesseract CLI')}, "
        f"key-zone reads: {m.get('zone_engine', '?')}); "
        f"OCRmyPDF {m['ocrmypdf']}; Ghostscript {m['ghostscript']}; {m['qpdf']}; "
        f"Python {m['python']}",
        f"- Command: `{r['command']}` (whole run {r['total_s'] / 60:.1f} min, of which "
        f"{r['generate_s']:.0f} s generating the inputs)",
        _inputs_line(r),
        f"- sohoa runs in-process through its product path (`build_services` → `WorkerPool(threads="
        f"{a['threads']})` → `submit_all` → `wait_for` → records), fresh data dir per run, timed "
        "from pool start to pool stop (all three files in one batch). OCRmyPDF runs in-process "
        f'through `ocrmypdf.ocr(..., language="vie", jobs={a["threads"]}, sidecar=...)`, one '
        "call per file, timed per call and summed. Each engine run is its own child process.",
        "",
        "### Scanned pages: throughput and accuracy",
        "",
        "Word error = bag of words (NFC, words missing or extra, the larger, over the true word "
        "count; `corpus.metrics.word_error`); char error = edit distance over the true length "
        "(whitespace runs made single spaces, so it also counts reading-order differences); "
        f"both averaged over pages. Each level holds {r['words_per_level']} words, so 0.1 % is "
        f"about {r['words_per_level'] / 1000:.1f} words. CPU s/page: user + system CPU of the "
        "engine's process and children over the pages, the figure least disturbed by other load "
        "on the machine (see *Run conditions*); CPU time still grows somewhat under load (shared "
        "caches), so treat differences under ~10 % as noise.",
        "",
        "| engine | pages/s | CPU s/page | word err clean | light | heavy "
        "| char err clean | light | heavy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [(r["sohoa"][name]["label"], r["sohoa"][name]) for name in r["sohoa"]]
    rows += [(r["ocrmypdf"][name]["label"], r["ocrmypdf"][name]) for name in r["ocrmypdf"]]
    rows += [(r["floor"]["label"], r["floor"])] if r.get("floor") else []
    for label, s in rows:
        lv = s["levels"]
        lines.append(
            f"| {label} | {s['pages_per_s']:.2f} | {s['conditions']['cpu_s_per_page']:.2f} | "
            + " | ".join(pct(lv[level]["word_error"]) for level in LEVELS)
            + " | "
            + " | ".join(pct(lv[level]["char_error"]) for level in LEVELS)
            + " |"
        )
    lines += _token_table(r, rows)
    lines += _both_sets_table(r)
    lines += [
        "",
        "Pooled over all words of a level (word error), and what sohoa did to the pages:",
        "",
        "| engine | pooled word err clean | light | heavy | worst page | notes |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, s in rows:
        lv = s["levels"]
        notes = []
        if "settings" in s:
            den = [lv[level]["denoised"] for level in LEVELS]
            notes.append(
                f"pages denoised (clean/light/heavy): {den[0]}/{den[1]}/{den[2]} of "
                f"{lv['clean']['pages']} each"
            )
            nd = sum(lv[level]["not_done"] for level in LEVELS)
            if nd:
                notes.append(f"{nd} page(s) not done")
        if s.get("dropped_options"):
            notes.append("dropped options: " + "; ".join(s["dropped_options"]))
        if s.get("files"):
            notes.append(
                "output "
                + ", ".join(sorted({f["pdfa"] + " via " + f["pdfa_route"] for f in s["files"]}))
            )
        worst = max(lv[level]["word_error_max"] for level in LEVELS)
        lines.append(
            f"| {label} | "
            + " | ".join(pct(lv[level]["word_error_pooled"]) for level in LEVELS)
            + f" | {pct(worst)} | {'; '.join(notes)} |"
        )
    base = r["sohoa"]["default"]
    variants = [v for k, v in r["sohoa"].items() if k != "default"]
    if variants:
        lines += [
            "",
            "Preprocessing ablation against the default, in words of the "
            f"{r['words_per_level']} per level (pooled word errors; + is worse) and CPU:",
            "",
        ]
        for v in variants:
            deltas = []
            for level in LEVELS:
                n = round(
                    (
                        v["levels"][level]["word_error_pooled"]
                        - base["levels"][level]["word_error_pooled"]
                    )
                    * r["words_per_level"]
                )
                deltas.append(f"{level} {n:+d}")
            cpu = v["conditions"]["cpu_s_per_page"] - base["conditions"]["cpu_s_per_page"]
            lines.append(f"- {v['label']}: {', '.join(deltas)} words; CPU {cpu:+.2f} s/page.")
    conf = r.get("confusions")
    if conf:
        lines += [
            "",
            "Most frequent word errors of sohoa (default), all pages of a level "
            "(true word → missing n times; OCR word not in the truth → extra n times):",
            "",
            "| level | missing | extra |",
            "| --- | --- | --- |",
        ]
        for level in LEVELS:
            fmt = lambda items: ", ".join(f"{_code(w)} ×{n}" for w, n in items) or "–"  # noqa: E731
            lines.append(
                f"| {level} | {fmt(conf[level]['missing'])} | {fmt(conf[level]['extra'])} |"
            )
    if r["ocrmypdf"]:
        lines += [
            "",
            "OCRmyPDF seconds per file (one `ocrmypdf.ocr` call each):",
            "",
            "| engine | "
            + " | ".join(f"{lv} ({r['args']['pages_per_level']} p.)" for lv in LEVELS)
            + " |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name in r["ocrmypdf"]:
            s = r["ocrmypdf"][name]
            lines.append(
                f"| {s['label']} | "
                + " | ".join(f"{s['levels'][level]['seconds']:.1f} s" for level in LEVELS)
                + " |"
            )
    stages = r["sohoa"]["default"].get("stages")
    if stages:
        wall, pages = r["sohoa"]["default"]["wall_s"], r["sohoa"]["default"]["pages"]
        lines += [
            "",
            "### Where sohoa's time goes (default configuration, scanned batch)",
            "",
            f"Wall clock {wall:.1f} s for {pages} pages on {a['threads']} worker threads = "
            f"{wall * a['threads']:.1f} thread-seconds available. Time inside each function, "
            "summed over threads (nested rows are part of the row above them); *thread-s* is wall "
            "time (it grows when other processes take the cores), *CPU s* the calling thread's "
            "own CPU time (an in-process Tesseract read's included; a `tesseract` child "
            "process's is not, it is counted below the table):",
            "",
            "| stage | calls | thread-s | per page | share of wall × threads | CPU s (thread) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for depth, key, _, _ in STAGES:
            if key not in stages:
                continue
            st = stages[key]
            lines.append(
                f"| {'&nbsp;&nbsp;' * 2 * depth}{key} | {st['calls']} | {st['seconds']:.1f} | "
                f"{st['seconds'] / pages:.2f} s | "
                f"{st['seconds'] / (wall * a['threads']) * 100:.0f} % | {st.get('cpu_s', 0):.1f} |"
            )
        c = r["sohoa"]["default"]["conditions"]
        tess = tesseract_cpu_s(r["sohoa"]["default"])
        rest = c["cpu_s"] - tess
        lines += [
            "",
            f"CPU of the whole run: {c['cpu_s']:.1f} s = Tesseract's page reads (in process) "
            f"and child processes {tess:.1f} s ({tess / pages:.2f} s/page) + the rest "
            f"{rest:.1f} s ({rest / pages:.2f} s/page: loading, clean-up, key-zone reads, "
            "page PDFs, storage, Dramatiq, polling).",
        ]
    d = r.get("digital")
    if d:
        src = ", ".join(f"{k}: {v}" for k, v in sorted(d["sources"].items()))
        lines += [
            "",
            "### Born-digital PDFs",
            "",
            f"{d['pages']} pages in {d['files']} PDFs: **{d['pages_per_s']:.1f} pages/s** "
            f"({d['wall_s']:.2f} s wall, same product path). Page sources: {src}; Tesseract runs: "
            f"{d['tesseract_runs']}; files not ok: {d['files_not_ok']}. Word error against the "
            f"true text {pct(d['word_error'])} (worst page {pct(d['word_error_max'])}), "
            f"char error {pct(d['char_error'])}.",
        ]
        dstages = d.get("stages") or {}
        parts = [
            f"{k} {dstages[k]['seconds']:.2f} s"
            for _, k, _, _ in STAGES
            if k in dstages and dstages[k]["seconds"] >= 0.05
        ]
        if parts:
            lines += [
                "",
                "Thread-seconds by stage (wall time inside each function, summed over "
                "threads; nested stages are counted in their parent too): "
                + "; ".join(parts)
                + ".",
            ]
    lines += ["", "### Re-ingest of known bytes", ""]
    for title, ri in (
        ("scanned PDFs", r["sohoa"]["default"].get("reingest")),
        ("born-digital PDFs", (d or {}).get("reingest")),
    ):
        if not ri:
            continue
        sizes = ", ".join(
            f"{name} {v['size_bytes'] / 1e6:.1f} MB: median {v['median_ms']:.1f} ms"
            for name, v in ri["per_file"].items()
        )
        lines.append(
            f"- {title}: `workers.submit.accept` on already stored files, {ri['reps']} times: "
            f"**median {ri['median_ms']:.1f} ms, max {ri['max_ms']:.1f} ms** ({sizes}). "
            f"Outcomes {ri['outcomes']}; files under `derived/` unchanged: "
            f"{ri['derived_unchanged']} ({ri['derived_files']} files); records unchanged: "
            f"{ri['records_unchanged']}; Tesseract runs: {ri['tesseract_runs_during_reingest']}. "
            f"Of an `accept`: hashing the file {ri['hash_median_ms']:.1f} ms, reading and "
            f"validating its record (JSON up to {ri['record_bytes_max'] / 1e6:.1f} MB, all pages' "
            f"words) {ri['record_read_median_ms']:.1f} ms (medians). "
            f"The whole batch path for one known file (pool start, `submit_all`, `wait_for`, "
            f"pool stop): {', '.join(f'{x:.0f}' for x in ri['batch_path_ms'])} ms."
        )
    lines += [
        "",
        "### Run conditions and peak memory",
        "",
        "CPU = user + system seconds of the engine's process and its children (Tesseract, "
        "Ghostscript), insensitive to other load; *others* = CPU seconds the rest of the machine "
        "used during the run (from /proc/stat), i.e. how much the timing was disturbed "
        f"({m['cores']} cores × wall = the machine's capacity). Max RSS is the engine's Python "
        "process (sohoa's page reads run in it, one loaded `vie` model per worker thread; "
        "OCRmyPDF's and the floor's Tesseract runs in child processes).",
        "",
        "| run | wall s | CPU s | others' CPU s | steal s | load avg at start | max RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, s in rows + ([("sohoa born-digital", d)] if d else []):
        c, mem = s["conditions"], s["memory"]
        lines.append(
            f"| {label} | {c['wall_s']:.1f} | {c['cpu_s']:.1f} | {c['others_cpu_s']:.1f} "
            f"| {c['steal_s']:.1f} | {c['load_at_start']} | {mem['self_mib']:.0f} MiB |"
        )
    lines += ["", "### Where we stand vs targets (DESIGN §8)", ""]
    lines += [f"- {t}" for t in targets(r)]
    return "\n".join(lines) + "\n"


def _rel(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def _git_span(r: dict) -> str:
    start, end = r.get("git_at_start"), r["machine"]["git"]
    return end if not start or start == end else f"{start} at the start, {end} at the end"


def _code_warning(r: dict) -> list[str]:
    prints = r.get("source_fingerprints") or {}
    if len(set(prints.values())) <= 1:
        return []
    return [
        "**Warning: the product code that the sohoa runs imported changed during this run "
        f"(fingerprints {prints}); those runs are not comparable with each other. Rerun.**",
        "",
    ]


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**not met**")


def targets(r: dict) -> list[str]:
    out = []
    s = r["sohoa"]["default"]
    lv = s["levels"]
    for o in r["ocrmypdf"].values():
        ratio = s["pages_per_s"] / o["pages_per_s"]
        worse = [
            level for level in LEVELS if lv[level]["word_error"] > o["levels"][level]["word_error"]
        ]
        no_higher = not worse
        cpu_ratio = o["conditions"]["cpu_s_per_page"] / s["conditions"]["cpu_s_per_page"]
        out.append(
            f"Throughput vs {o['label']}: {s['pages_per_s']:.2f} / {o['pages_per_s']:.2f} pages/s "
            f"= **{ratio:.2f}×** (by CPU seconds per page: {cpu_ratio:.2f}×); target ≥ 3× "
            f"{_verdict(ratio >= 3 and no_higher)}, issue target ≥ 1× "
            f"{_verdict(ratio >= 1 and no_higher)}; sohoa's word error "
            + (
                "no higher at any level"
                if no_higher
                else f"higher than OCRmyPDF's on {', '.join(worse)}"
            )
            + f". (On {s['pages']} pages, not a long run.)"
        )
    if not r["ocrmypdf"]:
        out.append("Throughput vs OCRmyPDF: not measured (skipped or not installed).")
    elif "default" in r["ocrmypdf"]:
        tess = tesseract_cpu_s(s) / s["pages"]
        peer = r["ocrmypdf"]["default"]["conditions"]["cpu_s_per_page"]
        out.append(
            f"Ceiling with today's OCR call: Tesseract alone used {tess:.2f} CPU s/page inside "
            f"sohoa, OCRmyPDF's whole run {peer:.2f} CPU s/page; however lean the rest of "
            f"sohoa gets, the same Tesseract work per page caps the ratio near "
            f"{peer / tess:.2f}× on CPU. Reaching 3× needs cheaper OCR per page, not less "
            "overhead."
        )
    floor = r.get("floor")
    if floor:
        times = s["conditions"]["cpu_s_per_page"] / floor["conditions"]["cpu_s_per_page"]
        # sohoa's word error over all tokens minus the floor's, per level
        gap = {
            level: lv[level]["token_error_pooled"] - floor["levels"][level]["token_error_pooled"]
            for level in LEVELS
        }
        over = [level for level, points in gap.items() if points > 0.001]
        out.append(
            f"Against the floor ({FLOOR_LABEL}): sohoa's CPU per page {times:.2f}× (target ≤ 1.3× "
            f"{_verdict(times <= 1.3)}); word error over all tokens minus the floor's, in points: "
            f"{', '.join(f'{level} {d * 100:+.2f}' for level, d in gap.items())} "
            f"(target ≤ +0.1 {_verdict(not over)})."
        )
    light_ok = all(lv[level]["word_error"] <= 0.005 for level in ("clean", "light"))
    heavy_ok = lv["heavy"]["word_error"] <= 0.015
    out.append(
        f"Word error ≤ 0.5 % clean/light: clean {pct(lv['clean']['word_error'])}, light "
        f"{pct(lv['light']['word_error'])} {_verdict(light_ok)}; ≤ 1.5 % heavy: "
        f"{pct(lv['heavy']['word_error'])} {_verdict(heavy_ok)}."
    )
    d = r.get("digital")
    if d:
        no_ocr = d["tesseract_runs"] == 0 and set(d["sources"]) == {"text_layer"}
        out.append(
            f"Born-digital ≥ 50 pages/s, no OCR: {d['pages_per_s']:.1f} pages/s "
            f"{_verdict(d['pages_per_s'] >= 50)}; no OCR {_verdict(no_ocr)}."
        )
    else:
        out.append("Born-digital: not measured.")
    ris = [x for x in (s.get("reingest"), (d or {}).get("reingest")) if x]
    if ris:
        med = max(x["median_ms"] for x in ris)
        worst = max(x["max_ms"] for x in ris)
        zero = all(
            x["derived_unchanged"]
            and x["tesseract_runs_during_reingest"] == 0
            and set(x["outcomes"]) <= {"reused", "batch:reused"}
            for x in ris
        )
        out.append(
            f"Re-ingest ≤ 20 ms, zero OCR: `accept` median {med:.1f} ms, max {worst:.1f} ms "
            f"(median {_verdict(med <= 20)}, every call {_verdict(worst <= 20)}); zero OCR "
            f"{_verdict(zero)}. Through the whole batch path (worker pool start/stop) a known "
            f"file takes {max(max(x['batch_path_ms']) for x in ris):.0f} ms at worst."
        )
    mem = max(v["memory"]["self_mib"] for v in r["sohoa"].values())
    out.append(
        f"Peak memory (target ≤ 1 GiB for a 500-page scan; not measured at that size here): "
        f"the sohoa process (its Tesseract models and page reads included) peaked at "
        f"{mem:.0f} MiB on {a_pages(r)}-page files."
    )
    out.append("Metadata accuracy and search latency targets: measured by other benches.")
    return out


def a_pages(r: dict) -> int:
    return r["args"]["pages_per_level"]


def write_docs(path: Path, section: str, page_set: str | None = None) -> None:
    write_section(path, section_title(page_set), section)


# =========================================================================== main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--pages-per-level",
        type=int,
        default=8,
        help="scanned pages per level (clean, light, heavy), one PDF per level",
    )
    p.add_argument(
        "--born-digital-pages", type=int, default=102, help="born-digital pages (3-page documents)"
    )
    p.add_argument("--born-digital-files", type=int, default=4, help="PDFs they are packed into")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads", type=int, default=2, help="sohoa worker threads and OCRmyPDF --jobs"
    )
    p.add_argument(
        "--reingest-reps",
        type=int,
        default=24,
        help="accept() calls on known files (per file kind)",
    )
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    p.add_argument(
        "--skip-variants",
        action="store_true",
        help="no preprocessing ablation (sohoa default only)",
    )
    p.add_argument(
        "--variants",
        metavar="NAMES",
        help="only these sohoa variants, comma-separated (of: "
        + ", ".join(k for k in SOHOA_CONFIGS if k != "default")
        + "); default: all",
    )
    p.add_argument("--skip-ocrmypdf", action="store_true")
    p.add_argument("--skip-floor", action="store_true", help="no plain `tesseract` CLI floor row")
    p.add_argument(
        "--page-set",
        type=Path,
        metavar="DIR",
        help="measure the scanned PDFs of a page set made elsewhere (DIR/truth.json, see the "
        "module docstring) instead of generating them; implies --skip-born-digital",
    )
    p.add_argument("--skip-born-digital", action="store_true")
    p.add_argument(
        "--skip-pages2",
        action="store_true",
        help="do not measure the independent page set (pages2/, generated with the same pages "
        "per level and seed), the headline set the pipeline was not tuned on",
    )
    p.add_argument(
        "--skip-ocrmypdf-deskew", action="store_true", help="no OCRmyPDF --rotate-pages --deskew"
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="RESULTS_JSON",
        help="a previous run's results.json (e.g. of an older commit): its sohoa rows are shown "
        "as 'before' beside this run's in the both-sets table",
    )
    p.add_argument("--keep-data", action="store_true", help="keep each run's sohoa data dir")
    p.add_argument(
        "--from-results",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: rewrite the docs section from a previous results.json",
    )
    p.add_argument("--phase", help=argparse.SUPPRESS)
    p.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def child_main(args: argparse.Namespace) -> int:
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    if args.phase == "sohoa":  # import the product path first, then fingerprint what was loaded
        import app.compose  # noqa: F401
        import workers.batch  # noqa: F401
        import workers.runtime  # noqa: F401
        import workers.submit  # noqa: F401
    fingerprint = source_fingerprint()
    phases = {"sohoa": phase_sohoa, "ocrmypdf": phase_ocrmypdf, "tesseract": phase_tesseract}
    result = phases[args.phase](spec)
    result["source_fingerprint"] = fingerprint
    Path(spec["result"]).write_text(
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase:
        return child_main(args)
    if args.from_results:
        results = json.loads(args.from_results.read_text(encoding="utf-8"))
        for report in [results, *results.get("other_sets", {}).values()]:
            section = render_section(report)
            if not args.no_docs:
                write_docs(args.docs, section, report.get("page_set"))
            print(section)
        if not args.no_docs:
            log(f"wrote {args.docs} from {args.from_results}")
        return 0
    started = time.perf_counter()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    git_at_start = _git_head()
    command = shlex.join([".venv/bin/python", "bench/ocr.py", *(argv or sys.argv[1:])])
    if args.page_set:
        inputs = args.page_set.resolve()
        truth = page_set_inputs(inputs)
        args.pages_per_level = truth["pages_per_level"]
        args.skip_born_digital = True
    else:
        log(f"generating inputs in {out / 'inputs'}")
        truth = generate_inputs(
            out, args.pages_per_level, args.seed, args.born_digital_pages, args.born_digital_files
        )
        inputs = out / "inputs"
    generate_s = time.perf_counter() - started
    report = measure_set(args, truth, inputs, out, full=True)
    if not args.page_set and not args.skip_pages2:
        # The headline set: made apart from the generator the pipeline was tuned on. Only the
        # configurations the headline compares (sohoa's default, OCRmyPDF's, the floor).
        t0 = time.perf_counter()
        log(f"generating the independent set in {out / PAGES2 / 'inputs'}")
        truth2, inputs2 = pages2_inputs(out, args.pages_per_level, args.seed)
        gen2 = time.perf_counter() - t0
        other = measure_set(args, truth2, inputs2, out / PAGES2, full=False)
        other.update(generate_s=gen2, command=command, git_at_start=git_at_start)
        other["args"] = {**report["args"], "page_set": str(inputs2)}
        report["other_sets"] = {PAGES2: other}
    report.update(generate_s=generate_s, command=command, git_at_start=git_at_start)
    if args.baseline:
        report["baseline"] = json.loads(args.baseline.read_text(encoding="utf-8"))
    report["total_s"] = time.perf_counter() - started
    for other in report.get("other_sets", {}).values():
        other["total_s"] = report["total_s"]

    (out / "results.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    reports = [report, *report.get("other_sets", {}).values()]
    sections = [render_section(r) for r in reports]
    (out / "benchmarks-ocr.md").write_text("\n".join(sections), encoding="utf-8")
    if not args.no_docs:
        for r, section in zip(reports, sections, strict=True):
            write_docs(args.docs, section, r.get("page_set"))
        log(f"wrote {args.docs}")
    print("\n".join(sections))
    log(f"done in {report['total_s'] / 60:.1f} min; raw results in {out / 'results.json'}")
    return 0


def measure_set(args: argparse.Namespace, truth: dict, inputs: Path, out: Path, full: bool) -> dict:
    """Every engine run over one page set's scanned PDFs (and, for the generated set, its
    born-digital PDFs); the report of that set. `full`: the preprocessing ablation and
    OCRmyPDF's rotate + deskew too (the tuning set's diagnostics)."""
    shutil.rmtree(out / "runs", ignore_errors=True)
    scanned = [str(inputs / truth["scanned"][level]["file"]) for level in LEVELS]
    digital = [str(inputs / f["file"]) for f in truth["born_digital"]]

    have_ocrmypdf = not args.skip_ocrmypdf
    if have_ocrmypdf:
        try:
            import ocrmypdf  # noqa: F401
        except ImportError:
            log("OCRmyPDF is not installed (pip install -e .[bench]); skipping it")
            have_ocrmypdf = False

    def sohoa(name: str, paths: list[str], settings: dict, reingest: bool) -> dict:
        log(f"sohoa {name}")
        return run_child(
            "sohoa",
            {
                "paths": paths,
                "settings": settings,
                "threads": args.threads,
                "data_dir": str(out / "data" / name),
                "keep_data": args.keep_data,
                "reingest_reps": args.reingest_reps if reingest else 0,
            },
            out,
            f"sohoa-{name}",
        )

    def peer(name: str) -> dict:
        log(f"OCRmyPDF {name}")
        return run_child(
            "ocrmypdf",
            {
                "paths": scanned,
                "options": OCRMYPDF_CONFIGS[name][1],
                "threads": args.threads,
                "work_dir": str(out / "ocrmypdf" / name),
            },
            out,
            f"ocrmypdf-{name}",
        )

    # Interleaved so that a slow drift of the machine does not favour one engine.
    raw_sohoa = {"default": sohoa("default", scanned, {}, reingest=full)}
    raw_peer = {}
    if have_ocrmypdf:
        raw_peer["default"] = peer("default")
    if full and not args.skip_variants:
        for name, (_, overrides) in SOHOA_CONFIGS.items():
            if name != "default" and (not args.variants or name in args.variants.split(",")):
                raw_sohoa[name] = sohoa(name, scanned, overrides, reingest=False)
    if have_ocrmypdf and full and not args.skip_ocrmypdf_deskew:
        raw_peer["rotate_deskew"] = peer("rotate_deskew")
    raw_floor = None
    if not args.skip_floor:
        log("floor: plain tesseract CLI")
        images = extract_page_images(truth, inputs, out)
        pdfs = {level: str(inputs / truth["scanned"][level]["file"]) for level in LEVELS}
        raw_floor = run_child(
            "tesseract",
            {"images": images, "pdfs": pdfs, "work_dir": str(out / "floor")},
            out,
            "tesseract-floor",
        )
    raw_digital = None
    if digital and not args.skip_born_digital:
        raw_digital = sohoa("born-digital", digital, {}, reingest=True)

    report: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "page_set": truth.get("name"),
        "sohoa": {},
        "ocrmypdf": {},
    }
    phases = {"sohoa-" + k: v for k, v in raw_sohoa.items()}
    phases |= {"ocrmypdf-" + k: v for k, v in raw_peer.items()}
    if raw_digital:
        phases["sohoa-born-digital"] = raw_digital
    report["source_fingerprints"] = {
        k: v.get("source_fingerprint")
        for k, v in phases.items()
        if k.startswith("sohoa-") and v.get("source_fingerprint")
    }
    report["words_per_level"] = report_words(truth)
    report["confusions"] = confusions(raw_sohoa["default"], truth)
    for name, raw in raw_sohoa.items():
        summary = summarise_sohoa(raw, truth)
        summary["label"] = SOHOA_CONFIGS[name][0]
        if name == "default":
            summary["stages"] = raw["stages"]
            summary["reingest"] = raw.get("reingest")
        report["sohoa"][name] = summary
    for name, raw in raw_peer.items():
        summary = summarise_ocrmypdf(raw, truth)
        summary["label"] = OCRMYPDF_CONFIGS[name][0]
        if summary["dropped_options"]:
            summary["label"] += (
                " (less " + ", ".join(d.split(" ")[0] for d in summary["dropped_options"]) + ")"
            )
        report["ocrmypdf"][name] = summary
    if raw_floor:
        report["floor"] = summarise_floor(raw_floor, truth)
    if raw_digital:
        report["digital"] = summarise_digital(raw_digital, truth)
        report["digital"]["reingest"] = raw_digital.get("reingest")
    return report


if __name__ == "__main__":
    sys.exit(main())
