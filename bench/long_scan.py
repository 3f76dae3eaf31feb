"""Long scan benchmark: one N-page scanned PDF (500 by default) through sohoa's embedded ingest
path; pages/s, CPU per page and memory per window of 50 pages, page 1 to N (issue 17).

Run from the repository root::

    .venv/bin/python bench/long_scan.py                         # 500 pages, writes the docs
    .venv/bin/python bench/long_scan.py --pages 100 --no-docs   # iteration / smoke run

The input is made by the corpus generator (`corpus.iter_pages`, level light, seed 0): every page
its own (no page repeated), each a JPEG q85 300-dpi image as a scanner writes them, all in one
image-only PDF (`bench/out/long_scan/scan_<N>.pdf`, kept between runs: it takes ~0.3 s a page to
make). sohoa runs in a child process of this script (fresh data dir, settings explicit, as
`sohoa ingest` runs: `build_services` → `WorkerPool(threads=2)` → `submit_all` → `wait_for`),
timed from pool start to pool stop. Inside the child a sampler thread reads, every 0.25 s, the
process's own RSS and CPU (/proc/self) and the peak RSS (VmHWM) of every live child process
(Tesseract); each page's finish time is its stored page result's mtime (the commit marker).

Reported per window of 50 pages (in the order they finished, which is page order give or take
a page or two): pages/s (50 / time from the previous window's last page to this one's), CPU
s/page of the whole process tree over that time, the highest RSS of the sohoa process in it;
then the assembly and indexing after the last page, the peak RSS of the sohoa process and of
the largest Tesseract child. Flat means the last windows run as fast as the first and the RSS
does not climb with the page number.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from embedded import fresh_embedded
from report import load_words, write_section

REPO = Path(__file__).resolve().parent.parent
SECTION_TITLE = "## Long scan (bench/long_scan.py)"
WINDOW = 50
DEFAULT_PAGES = 500
SAMPLE_S = 0.25
THREADS = 2


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# =========================================================================== input


def make_scan(folder: Path, pages: int, seed: int) -> Path:
    """The N-page light scan, made once and kept (its name says how it was made)."""
    import img2pdf

    from corpus import iter_pages

    path = folder / f"scan_{pages}_light_seed{seed}.pdf"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    encoded: list[bytes] = []  # ~1 MB a page: 0.5 GB for 500, never the decoded images
    for image, _truth in iter_pages(pages, seed=seed, level="light"):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85, dpi=(300, 300))
        encoded.append(out.getvalue())
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        img2pdf.convert(
            encoded,
            layout_fun=img2pdf.get_fixed_dpi_layout_fun((300, 300)),
            nodate=True,
            outputstream=f,
        )
    tmp.replace(path)
    log(
        f"  made {path.name}: {pages} pages, {path.stat().st_size / 1e6:.0f} MB in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    return path


# =========================================================================== child: sohoa


def _status(pid: int | str) -> dict[str, int]:
    """VmRSS / VmHWM of a process in KiB ({} once it is gone)."""
    out = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def _tree_cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (Tesseract), from /proc."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """Every SAMPLE_S: (time, own RSS KiB, tree CPU s); the peak VmHWM of each child seen."""

    def __init__(self, pages_dir: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.pages_dir = pages_dir  # where page results appear: a progress line every 30 s
        self.samples: list[tuple[float, int, float]] = []
        self.child_hwm: dict[int, int] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._stop_event.is_set():
            self.samples.append((time.time(), _status(me).get("VmRSS", 0), _tree_cpu_s()))
            if self.pages_dir is not None and len(self.samples) % int(30 / SAMPLE_S) == 0:
                self._progress()
            for kid in _children(me):
                hwm = _status(kid).get("VmHWM", 0)
                self.child_hwm[kid] = max(self.child_hwm.get(kid, 0), hwm)
            self._stop_event.wait(SAMPLE_S)

    def _progress(self) -> None:
        done = 0
        with contextlib.suppress(OSError):
            done = sum(p.suffix == ".json" for p in self.pages_dir.iterdir())
        t0, _rss, cpu0 = self.samples[0]
        now, rss, cpu = self.samples[-1]
        log(f"  {done} pages done, {now - t0:.0f} s, {cpu - cpu0:.0f} CPU s, RSS {rss >> 10} MiB")

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def phase_sohoa(spec: dict) -> dict:
    import resource

    from storage.keys import page_key, pages_prefix, pdf_key
    from workers.batch import outcome, submit_all, wait_for
    from workers.runtime import WorkerPool

    data_dir = Path(spec["data_dir"])
    settings, services = fresh_embedded(data_dir, THREADS)
    path = Path(spec["path"])
    with path.open("rb") as f:  # the id sohoa gives the file (read in chunks: RSS untouched)
        doc_id = hashlib.file_digest(f, "sha256").hexdigest()
    sampler = Sampler(settings.storage_path / pages_prefix(doc_id))
    sampler.start()
    rss_before = _status(os.getpid()).get("VmRSS", 0)
    t0, cpu0 = time.time(), _tree_cpu_s()
    with WorkerPool(services, "", threads=THREADS) as pool:
        subs = submit_all(services, pool, [path])
        wait_for(services, pool, subs, None)
    t_end, cpu_end = time.time(), _tree_cpu_s()
    sampler.stop()
    result, doc, error = outcome(services, subs[0])
    store_root = settings.storage_path
    finished = {}
    for n in range(1, (doc.page_count if doc else 0) + 1):
        with contextlib.suppress(OSError):
            finished[n] = (store_root / page_key(subs[0].doc_id, n)).stat().st_mtime - t0
    pages = doc.pages if doc else []
    # the end's steps, by the commit time of what each writes: the scan's searchable PDF
    # (assembly), then each part's, cut from it while the metadata is read (describe)
    written = {}
    for key, name in [(pdf_key(subs[0].doc_id), "assembled_s")] + [
        (pdf_key(part), "parts_cut_s") for part in (doc.parts if doc else [])
    ]:
        with contextlib.suppress(OSError):
            written[name] = max(written.get(name, 0.0), (store_root / key).stat().st_mtime - t0)
    out = {
        "result": result,
        "error": error.message if error else None,
        "status": doc.status.value if doc else None,
        "page_count": doc.page_count if doc else 0,
        "pages_ok": sum(p.status.value == "done" for p in pages),
        "pages_failed": sum(p.status.value == "failed" for p in pages),
        "wall_s": t_end - t0,
        "cpu_s": cpu_end - cpu0,
        "rss_before_kib": rss_before,
        "self_hwm_kib": _status(os.getpid()).get("VmHWM", 0),
        "largest_child_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "child_hwm_kib": sorted(sampler.child_hwm.values()),
        "samples": [(t - t0, rss, cpu - cpu0) for t, rss, cpu in sampler.samples],
        "finished_s": finished,
        "parts": len(doc.parts) if doc else 0,
        **written,
        "load_at_start": spec.get("load_at_start"),
        "load_at_end": float(Path("/proc/loadavg").read_text().split()[0]),
    }
    shutil.rmtree(data_dir, ignore_errors=True)
    return out


# =========================================================================== summary


def _at(samples: list, t: float, column: int) -> float:
    """The sampled value (column 1 RSS, 2 CPU) at time t (the last sample not after it)."""
    best = samples[0][column] if samples else 0.0
    for sample in samples:
        if sample[0] > t:
            break
        best = sample[column]
    return best


def windows(raw: dict, window: int = WINDOW) -> list[dict]:
    """Rows of `window` pages in the order they finished (two worker threads finish pages a
    little out of order; the pages each row holds are named by their first and last number)."""
    finished = sorted((t, int(n)) for n, t in raw["finished_s"].items())
    samples = raw["samples"]
    rows, start = [], 0.0
    for k in range(0, len(finished), window):
        chunk = finished[k : k + window]
        end = chunk[-1][0]
        span = max(end - start, 1e-3)
        in_window = [s[1] for s in samples if start <= s[0] <= end] or [_at(samples, end, 1)]
        cpu = _at(samples, end, 2) - _at(samples, start, 2)
        numbers = sorted(n for _, n in chunk)
        rows.append(
            {
                "pages": f"{numbers[0]}–{numbers[-1]}",
                "n": len(chunk),
                "seconds": round(span, 1),
                "pages_per_s": round(len(chunk) / span, 3),
                "cpu_s_per_page": round(cpu / len(chunk), 2),
                "max_rss_mib": round(max(in_window) / 1024),
            }
        )
        start = end
    return rows


def summarise(raw: dict, window: int = WINDOW) -> dict:
    rows = windows(raw, window)
    last_page = max(raw["finished_s"].values()) if raw["finished_s"] else 0.0
    tail = [s[1] for s in raw["samples"] if s[0] > last_page]
    during = [s[1] for s in raw["samples"] if s[0] <= last_page]
    rates = [r["pages_per_s"] for r in rows if r["n"] == window]
    # what the end (assembly, metadata, index) adds over the OCR's own peak, per page of the
    # scan: the part of memory that grew with the document's length (issue 17)
    growth = (max(tail) - max(during)) / 1024 if tail and during else None
    # the end's steps (older results did not record them)
    assembled, cut = raw.get("assembled_s"), raw.get("parts_cut_s")
    steps = {}
    if assembled is not None and raw["finished_s"]:
        steps["assembly_s"] = round(assembled - last_page, 1)
        steps["assembly_max_rss_mib"] = round(
            max([s[1] for s in raw["samples"] if last_page < s[0] <= assembled] or [0]) / 1024
        )
        after = cut if cut is not None else assembled
        steps["describe_s"] = round(after - assembled, 1) if cut is not None else None
        steps["index_s"] = round(raw["wall_s"] - after, 1)
    return {
        **steps,
        "window": window,
        "windows": rows,
        "ocr_s": round(last_page, 1),
        "after_last_page_s": round(raw["wall_s"] - last_page, 1),
        "after_last_page_max_rss_mib": round(max(tail) / 1024) if tail else None,
        "ocr_max_rss_mib": round(max(during) / 1024) if during else None,
        "after_last_page_growth_mib_per_page": (
            None if growth is None else round(max(growth, 0.0) / max(raw["page_count"], 1), 2)
        ),
        "pages_per_s": round(raw["page_count"] / raw["wall_s"], 3),
        "cpu_s_per_page": round(raw["cpu_s"] / max(raw["page_count"], 1), 2),
        "self_peak_mib": round(raw["self_hwm_kib"] / 1024),
        "rss_before_mib": round(raw["rss_before_kib"] / 1024),
        "child_peak_mib": round(max(raw["child_hwm_kib"] or [0]) / 1024),
        "children_seen": len(raw["child_hwm_kib"]),
        "first_last_ratio": round(rates[-1] / rates[0], 2) if len(rates) >= 2 else None,
    }


def _cmd(args: list[str]) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def _end_steps(raw: dict, s: dict) -> str:
    """The end's seconds step by step, where the run recorded them."""
    if s.get("assembly_s") is None:
        return ""
    text = (
        f" (assembly {s['assembly_s']:.0f} s, at most {s['assembly_max_rss_mib']} MiB meanwhile; "
    )
    if s.get("describe_s") is not None:
        text += f"metadata and cutting into {raw['parts']} parts {s['describe_s']:.0f} s; "
    else:
        text += "metadata "
    return text + f"index and record {s['index_s']:.0f} s)"


def render(
    raw: dict, s: dict, args: argparse.Namespace, when: str, whole_s: float, head: str
) -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    lines = [
        SECTION_TITLE,
        "",
        f"_Written by `bench/long_scan.py` on {when}. Do not edit these numbers by hand: rerun"
        " the command._",
        "",
        f"- Machine: {cpu}, {os.cpu_count()} cores, "
        f"**{load_words([raw.get('load_at_start'), raw.get('load_at_end')], os.cpu_count())}**"
        " at the start and the end of the run: pages/s move with the load, CPU s/page (user +"
        " system of sohoa and its Tesseract children) much less.",
        f"- sohoa at git {head}; {_cmd(['tesseract', '--version'])}; Python"
        f" {platform.python_version()}.",
        f"- Command: `.venv/bin/python bench/long_scan.py --pages {args.pages}` (whole run"
        f" {whole_s / 60:.1f} min). Input: one image-only PDF of {raw['page_count']} distinct"
        " corpus pages (level light, seed 0, JPEG q85, 300 dpi). sohoa: embedded path as"
        f" `sohoa ingest` runs it, {THREADS} worker threads, fresh data dir.",
        f"- Result: **{raw['result']}**, {raw['pages_ok']} pages done, {raw['pages_failed']}"
        f" failed; {raw['wall_s']:.0f} s from pool start to stop = **{s['pages_per_s']:.2f}"
        f" pages/s**, {s['cpu_s_per_page']:.2f} CPU s/page.",
        "",
        "Pages do not finish in page order (the in-process broker hands the queued pages to the"
        f" two threads out of order), so each row is the next {s['window']} pages to finish, in"
        " time order, with the lowest and highest page number among them:",
        "",
        "| pages (in the order finished) | pages/s | CPU s/page | seconds"
        " | max RSS of the sohoa process |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in s["windows"]:
        lines.append(
            f"| {r['pages']} | {r['pages_per_s']:.2f} | {r['cpu_s_per_page']:.2f} |"
            f" {r['seconds']:.0f} | {r['max_rss_mib']} MiB |"
        )
    ratio = s["first_last_ratio"]
    if raw["page_count"] < DEFAULT_PAGES:
        quiet_min = DEFAULT_PAGES * s["cpu_s_per_page"] / 2 / 60
        lines += [
            "",
            f"- {raw['page_count']} pages, not {DEFAULT_PAGES}: at this run's"
            f" {s['pages_per_s']:.2f} pages/s the full run would have taken"
            f" {DEFAULT_PAGES / max(s['pages_per_s'], 1e-6) / 60:.0f} min; rerun"
            f" `--pages {DEFAULT_PAGES}` on a quiet machine (~{quiet_min:.0f} min of 2 cores at"
            " the measured CPU per page).",
        ]
    lines += [
        "",
        f"- After the last page: assembly of the searchable PDF, metadata and index"
        f" {s['after_last_page_s']:.0f} s{_end_steps(raw, s)}, the sohoa process at most"
        f" {s['after_last_page_max_rss_mib']} MiB meanwhile"
        + (
            f" ({s['ocr_max_rss_mib']} MiB at most while pages were read: the end added"
            f" {s['after_last_page_growth_mib_per_page']:.2f} MiB per page of the scan)."
            if s.get("after_last_page_growth_mib_per_page") is not None
            else "."
        ),
        f"- Peak RSS: sohoa process (all worker threads) **{s['self_peak_mib']} MiB** (VmHWM;"
        f" {s['rss_before_mib']} MiB before the pool started); "
        + (
            f"largest Tesseract child **{s['child_peak_mib']} MiB** (VmHWM sampled every"
            f" {SAMPLE_S} s over {s['children_seen']} children seen)."
            if s["children_seen"]
            else "no Tesseract child process (pages are read in process, so their memory is"
            " in the figure above)."
        ),
        f"- Last full window's pages/s over the first's: {ratio if ratio is not None else 'n/a'}"
        " (1.0 = flat).",
    ]
    return "\n".join(lines) + "\n"


# =========================================================================== main


def run_child(spec: dict, out: Path) -> dict:
    spec_path, result_path = out / "spec.json", out / "result.json"
    spec["result"] = str(result_path)
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--phase", "--spec", str(spec_path)],
        env=env,
        cwd=REPO,
        check=False,
    )
    if proc.returncode != 0 or not result_path.exists():
        raise SystemExit(f"the sohoa run failed (exit {proc.returncode})")
    return json.loads(result_path.read_text(encoding="utf-8"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, default=DEFAULT_PAGES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--window", type=int, default=WINDOW, help="pages per row of the table")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "long_scan")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.md alone")
    p.add_argument(
        "--from-results", action="store_true", help="render OUT/results.json again, no run"
    )
    p.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))
    if args.phase:
        spec = json.loads(args.spec.read_text(encoding="utf-8"))
        result = phase_sohoa(spec)
        Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")
        return 0
    if args.from_results:
        saved = json.loads((args.out / "results.json").read_text(encoding="utf-8"))
        raw, meta = saved["raw"], saved["run"]
        args.pages = raw["page_count"]
        # the commit the run measured, not today's (older results did not record it)
        head = meta.get("git", "unknown")
        section = render(
            raw, summarise(raw, args.window), args, meta["when"], meta["whole_s"], head
        )
        print(section)
        if not args.no_docs:
            write_section(args.docs, SECTION_TITLE, section)
        return 0
    started, t0 = datetime.now(UTC), time.perf_counter()
    log(f"input: {args.pages} light pages")
    path = make_scan(args.out / "inputs", args.pages, args.seed)
    load = float(Path("/proc/loadavg").read_text().split()[0])
    log(f"sohoa ingest of {path.name} (load average {load})")
    raw = run_child(
        {"path": str(path), "data_dir": str(args.out / "data"), "load_at_start": load}, args.out
    )
    summary = summarise(raw, args.window)
    when, whole_s = started.strftime("%Y-%m-%d %H:%M UTC"), time.perf_counter() - t0
    head = _cmd(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    run = {"when": when, "whole_s": whole_s, "git": head}
    (args.out / "results.json").write_text(
        json.dumps({"raw": raw, "summary": summary, "run": run}, indent=1), encoding="utf-8"
    )
    section = render(raw, summary, args, when, whole_s, head)
    print(section)
    if not args.no_docs:
        write_section(args.docs, SECTION_TITLE, section)
        log(f"wrote {args.docs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
