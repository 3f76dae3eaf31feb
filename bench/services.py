"""Services benchmark: search backends, object store and end-to-end throughput, in one run.

Run from the repository root (the servers come from ``scripts/services.sh up``, started here
if they are not already up)::

    .venv/bin/python bench/services.py            # full run (~15-20 min on 2 busy cores)
    .venv/bin/python bench/services.py --quick    # small smoke run (~3 min)
    .venv/bin/python bench/services.py --help

What it measures (DESIGN §8), on the real servers and the embedded default:

1. **Search**, ``search.sqlite.SqliteIndex`` and ``search.elastic.ElasticIndex`` (OpenSearch):
   generated ``schemas.Document`` records (1-3 pages of 150-400 words of the seed prose, with
   organ / type / date / signer / review metadata so facets have values; fixed seed, made lazily
   batch by batch), indexed with ``index.index(batch)``: bulk docs/s; then a fixed mix of
   queries (folded, accented, with a filter) through ``index.search(q, viewer=ALL,
   limit=10)``: p50 / p95 / max latency at each size; ``rebuild()`` of the first size.
2. **Object store**: ``MinioStore.put_file`` of a large file (hash, streaming multipart upload,
   then the stored object is read back and hashed again: the time includes that read) and
   ``local_path`` download, against ``LocalStore.put_file`` on the same file.
3. **End to end**: the same generated scanned pages through the embedded run (in-process
   broker, ``WorkerPool(threads=2)``) and through the servers (``sohoa worker`` with 2 Dramatiq
   processes on Redis + ``sohoa ingest --json`` as a subprocess): pages/s.

Everything this script writes on the servers is its own: an index alias, buckets and a Redis
database (``--redis-db``, refused if not empty) named per run, removed at the end.

A backend that is too slow for the run to finish gets a time budget instead of hanging the run
(reported with the numbers): SqliteIndex.rebuild() is interrupted (``--rebuild-budget``), and a
query set stops after ``--query-budget`` seconds (never before ``--min-queries``).

The numbers in docs/benchmarks.md are written by this script; rerun it rather than edit them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import random
import resource
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from importlib import metadata as pkg_metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _p in (str(REPO), str(REPO / "bench")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from ocr import PRODUCT_PACKAGES, Meter, log, machine_info  # noqa: E402  (bench/ocr.py helpers)

from schemas.access import Viewer  # noqa: E402

ALL = Viewer.everything()  # these tests are about search, not about who sees what

SECTION_TITLE = "## Services (bench/services.py)"
MIB = 1024 * 1024

# =========================================================================== documents

# ~30 issuing organs across the four levels (name, level); the level is kept for the report.
ORGANS: tuple[tuple[str, str], ...] = (
    ("BỘ NỘI VỤ", "central"),
    ("CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC", "central"),
    ("BỘ THÔNG TIN VÀ TRUYỀN THÔNG", "central"),
    ("BỘ TÀI CHÍNH", "central"),
    ("BỘ TƯ PHÁP", "central"),
    ("VĂN PHÒNG CHÍNH PHỦ", "central"),
    ("BỘ KẾ HOẠCH VÀ ĐẦU TƯ", "central"),
    ("ỦY BAN NHÂN DÂN TỈNH KON TUM", "province"),
    ("SỞ NỘI VỤ", "province"),
    ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "province"),
    ("SỞ TÀI CHÍNH", "province"),
    ("ỦY BAN NHÂN DÂN TỈNH ĐIỆN BIÊN", "province"),
    ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM", "province"),
    ("SỞ Y TẾ", "province"),
    ("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "province"),
    ("SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "province"),
    ("ỦY BAN NHÂN DÂN TỈNH LÀO CAI", "province"),
    ("ỦY BAN NHÂN DÂN HUYỆN TAM DƯƠNG", "district"),
    ("PHÒNG NỘI VỤ", "district"),
    ("ỦY BAN NHÂN DÂN THÀNH PHỐ KON TUM", "district"),
    ("ỦY BAN NHÂN DÂN HUYỆN ĐẮK HÀ", "district"),
    ("PHÒNG TÀI CHÍNH - KẾ HOẠCH", "district"),
    ("ỦY BAN NHÂN DÂN QUẬN NINH KIỀU", "district"),
    ("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", "district"),
    ("ỦY BAN NHÂN DÂN XÃ HOÀNG HOA", "commune"),
    ("ỦY BAN NHÂN DÂN XÃ ĐẮK MAR", "commune"),
    ("ỦY BAN NHÂN DÂN PHƯỜNG QUYẾT THẮNG", "commune"),
    ("ỦY BAN NHÂN DÂN XÃ VĨNH TƯỜNG", "commune"),
    ("ỦY BAN NHÂN DÂN PHƯỜNG TRƯỜNG THI", "commune"),
    ("ỦY BAN NHÂN DÂN THỊ TRẤN HỢP HÒA", "commune"),
)
# (type_name, notation abbreviation), with draw weights
DOC_TYPES: tuple[tuple[str, str, int], ...] = (
    ("Quyết định", "QĐ", 6),
    ("Công văn", "", 6),
    ("Báo cáo", "BC", 4),
    ("Kế hoạch", "KH", 4),
    ("Thông báo", "TB", 3),
    ("Tờ trình", "TTr", 2),
    ("Nghị quyết", "NQ", 1),
    ("Chỉ thị", "CT", 1),
)
PLACES = (
    "Hà Nội",
    "Kon Tum",
    "Điện Biên",
    "Vĩnh Phúc",
    "Bắc Giang",
    "Quảng Nam",
    "Lào Cai",
    "Cần Thơ",
    "Nghệ An",
)
DOSSIERS = tuple(f"HS-{y}-{n:02d}" for y in (2019, 2021, 2023) for n in (1, 2, 3))


class DocFactory:
    """Document number i, always the same for a given seed, made on demand (nothing cached)."""

    def __init__(self, seed: int) -> None:
        from corpus.content import FAMILY_NAMES, GIVEN_NAMES, MIDDLE_NAMES, TOPICS, seed_paragraphs

        self.seed = seed
        self.paragraphs = [p.split() for p in seed_paragraphs()]
        self.topics = TOPICS
        rng = random.Random(f"bench-services:{seed}:signers")
        self.signers = sorted(
            {
                f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"
                for _ in range(150)
            }
        )
        self.types = [t[:2] for t in DOC_TYPES]
        self.type_weights = [t[2] for t in DOC_TYPES]

    def _body(self, rng: random.Random, words: int) -> str:
        """`words` words of consecutive seed prose from a random point, paragraphs kept."""
        k = rng.randrange(len(self.paragraphs))
        first = self.paragraphs[k]
        lines, taken = [], 0
        chunk = first[rng.randrange(max(1, len(first) - 20)) :]
        while taken < words:
            chunk = chunk[: words - taken]
            lines.append(" ".join(chunk))
            taken += len(chunk)
            k = (k + 1) % len(self.paragraphs)
            chunk = self.paragraphs[k]
        return "\n".join(lines)

    def make(self, i: int):  # -> schemas.Document
        from schemas.models import (
            AdminMetadata,
            Document,
            DocumentStatus,
            Field,
            PageResult,
            PageSource,
        )

        rng = random.Random(f"bench-services:{self.seed}:{i}")
        organ, _level = rng.choice(ORGANS)
        type_name, abbr = rng.choices(self.types, weights=self.type_weights)[0]
        issued = date(rng.randint(2015, 2024), rng.randint(1, 12), rng.randint(1, 28))
        number = str(rng.randint(1, 2999))
        notation = f"{abbr}-{organ.split()[0][:4]}" if abbr else "VP"
        subject = f"Về việc {rng.choice(self.topics)} năm {issued.year}"
        signer = rng.choice(self.signers)
        place = rng.choice(PLACES)
        header = (
            f"{organ}\nSố: {number}/{notation}\n{place}, ngày {issued.day} tháng "
            f"{issued.month} năm {issued.year}\n{type_name.upper()}\n{subject}\n"
        )
        pages = []
        for page_no in range(1, rng.randint(1, 3) + 1):
            text = self._body(rng, rng.randint(150, 400))
            if page_no == 1:
                text = header + text
            else:
                closing = f"\nNơi nhận:\n- Như trên;\n- Lưu: VT.\n{signer}"
                text += closing if rng.random() < 0.3 else ""
            pages.append(
                PageResult(
                    page_no=page_no,
                    source=PageSource.ocr,
                    text=text,
                    mean_confidence=round(rng.uniform(80, 97), 1),
                )
            )
        meta = AdminMetadata(
            organ_name=Field(value=organ, confidence=0.9),
            code_number=Field(value=number, confidence=0.9),
            code_notation=Field(value=notation, confidence=0.9),
            issued_place=Field(value=place, confidence=0.9),
            issued_date=Field(value=issued.isoformat(), confidence=0.9),
            type_name=Field(value=type_name, confidence=0.9),
            subject=Field(value=subject, confidence=0.8),
            signer_name=Field(value=signer, confidence=0.8),
            needs_review=rng.random() < 0.3,
        )
        doc_id = hashlib.sha256(f"bench-services:{self.seed}:{i}".encode()).hexdigest()
        return Document(
            id=doc_id,
            source_name=f"{i:06d}_{abbr or 'CV'}.pdf",
            media_type="application/pdf",
            size_bytes=rng.randint(80_000, 4_000_000),
            page_count=len(pages),
            status=DocumentStatus.done,
            pipeline_version="bench",
            metadata=meta,
            pages=pages,
            dossier=rng.choice(DOSSIERS) if rng.random() < 0.2 else None,
        )

    def iter(self, start: int, stop: int) -> Iterator:
        for i in range(start, stop):
            yield self.make(i)

    def batches(self, start: int, stop: int, size: int) -> Iterator[list]:
        for lo in range(start, stop, size):
            yield [self.make(i) for i in range(lo, min(stop, lo + size))]


# =========================================================================== queries

FIXED_QUERIES = (
    ("quyet dinh so hoa", None),
    ("cải cách hành chính", None),
    ("uy ban nhan dan tinh", None),
    ("chuyen doi so", None),
    ("văn thư lưu trữ", None),
    ("ke hoach", {"year": "2021"}),
    ("thu tuc hanh chinh", {"type": "Quyết định"}),
    ("Sở Nội vụ", None),
)


def make_queries(n: int, seed: int) -> list[dict]:
    """`n` queries: 1-4 consecutive words of the seed prose; ~40 % folded (no accents), ~40 %
    accented, ~20 % with a filter (type, year, organ or needs_review); fixed seed."""
    from corpus.content import seed_paragraphs
    from schemas.text import fold
    from search.words import tokens

    rng = random.Random(f"bench-services:{seed}:queries")
    words = [tokens(p) for p in seed_paragraphs()]
    out = [
        {
            "q": q,
            "filters": f,
            "kind": "filtered" if f else ("folded" if q == fold(q) else "accented"),
        }
        for q, f in FIXED_QUERIES
    ]
    seen = {(d["q"], json.dumps(d["filters"])) for d in out}
    while len(out) < n:
        para = rng.choice(words)
        k = rng.randint(1, 4)
        start = rng.randrange(max(1, len(para) - k))
        phrase = " ".join(para[start : start + k])
        roll = rng.random()
        filters = None
        if roll < 0.4:
            kind, q = "folded", fold(phrase)
        elif roll < 0.8:
            kind, q = "accented", phrase
        else:
            kind = "filtered"
            q = fold(phrase) if rng.random() < 0.5 else phrase
            name = rng.choice(("type", "year", "organ", "needs_review"))
            value = {
                "type": lambda: rng.choice(DOC_TYPES)[0],
                "year": lambda: str(rng.randint(2015, 2024)),
                "organ": lambda: rng.choice(ORGANS)[0],
                "needs_review": lambda: "true",
            }[name]()
            filters = {name: value}
        key = (q, json.dumps(filters))
        if q and key not in seen:
            seen.add(key)
            out.append({"q": q, "filters": filters, "kind": kind})
    rng.shuffle(out)  # any prefix is a fair sample of the mix (the budget may stop early)
    return out


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
    return ordered[k]


# =========================================================================== search


class Timers:
    """Seconds spent in wrapped callables during one query, summed per name."""

    def __init__(self) -> None:
        self.now: dict[str, float] = {}
        self.extra: dict[str, float] = {}

    def wrap(self, owner: object, attr: str, name: str) -> None:
        inner = getattr(owner, attr)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.now[name] = self.now.get(name, 0.0) + time.perf_counter() - t0

        setattr(owner, attr, timed)  # instance attribute: this object only, in this process

    def take(self) -> dict[str, float]:
        out, self.now = self.now, {}
        return out


def opensearch_cpu_s(client) -> float | None:
    with contextlib.suppress(Exception):
        stats = client.nodes.stats(metric="process")
        return sum(n["process"]["cpu"]["total_in_millis"] for n in stats["nodes"].values()) / 1e3
    return None


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fill(ix, backend: str, factory: DocFactory, start: int, stop: int, args) -> dict:
    """Index documents [start, stop) in batches; per-batch timing of index() only."""
    batches = []
    gen_s = 0.0
    method = "index"
    switched_at = None
    index_time = 0.0
    es_cpu0 = opensearch_cpu_s(ix.client) if backend == "elastic" else None
    cpu0 = own_cpu_s()
    gen_cpu = 0.0
    for lo in range(start, stop, args.batch):
        hi = min(stop, lo + args.batch)
        g0, gc0 = time.perf_counter(), own_cpu_s()
        batch = [factory.make(i) for i in range(lo, hi)]
        gen_s += time.perf_counter() - g0
        gen_cpu += own_cpu_s() - gc0
        t0 = time.perf_counter()
        n = ix.index(batch)
        dt = time.perf_counter() - t0
        index_time += dt
        assert n == len(batch), (n, len(batch))
        batches.append({"at": lo, "docs": n, "s": dt, "method": method})
        del batch
        if len(batches) % 10 == 0:
            log(f"  {backend}: {hi:,} docs, last batch {n / dt:.0f} docs/s ({method})")
    out = {
        "start": start,
        "stop": stop,
        "batches": batches,
        "generate_s": gen_s,
        "switched_at": switched_at,
    }
    for m in ("index", "insert-only"):
        chosen = [b for b in batches if b["method"] == m]
        if chosen:
            docs, secs = sum(b["docs"] for b in chosen), sum(b["s"] for b in chosen)
            out[m] = {
                "docs": docs,
                "s": secs,
                "docs_per_s": docs / secs,
                "first_batch_docs_per_s": chosen[0]["docs"] / chosen[0]["s"],
                "last_batch_docs_per_s": chosen[-1]["docs"] / chosen[-1]["s"],
            }
    out["client_cpu_s"] = own_cpu_s() - cpu0 - gen_cpu
    if es_cpu0 is not None:
        end = opensearch_cpu_s(ix.client)
        out["server_cpu_s"] = None if end is None else end - es_cpu0
    return out


def run_queries(ix, backend: str, queries: list[dict], args) -> dict:
    timers = Timers()
    took: list[float] = []
    if backend == "sqlite":
        timers.wrap(ix, "_match", "match + BM25 (postings, numpy)")
        timers.wrap(ix, "_facets", "facet counts")
        timers.wrap(ix, "_hits", "hits: rows, best pages + snippets")
    else:
        inner = ix.client.msearch  # one round trip: ranked hits + facet counts, side by side

        def msearch(*a, **kw):
            t0 = time.perf_counter()
            response = inner(*a, **kw)
            timers.now["round trip"] = time.perf_counter() - t0
            took = [r.get("took", 0) for r in response["responses"]]
            timers.now["server (took)"] = max(took) / 1000
            timers.now["server hits (took)"] = took[0] / 1000
            timers.now["server facets (took)"] = took[-1] / 1000
            return response

        ix.client.msearch = msearch
    for q in make_queries(args.warmup, args.seed + 1):  # warm-up, not timed
        ix.search(q["q"], viewer=ALL, filters=q["filters"], limit=10)
    timers.take()
    rows = []
    started = time.perf_counter()
    for q in queries:
        if len(rows) >= args.min_queries and time.perf_counter() - started > args.query_budget:
            break
        t0 = time.perf_counter()
        res = ix.search(q["q"], viewer=ALL, filters=q["filters"], limit=10)
        ms = (time.perf_counter() - t0) * 1000
        parts = timers.take()
        rows.append(
            {
                **q,
                "ms": ms,
                "total": res.total,
                "hits": len(res.hits),
                "parts_ms": {k: v * 1000 for k, v in parts.items()},
            }
        )
        if parts.get("server (took)") is not None:
            took.append(parts["server (took)"] * 1000)
    if backend == "elastic":
        ix.client.msearch = inner
    else:
        del ix._match, ix._facets, ix._hits
    ms = [r["ms"] for r in rows]
    out = {
        "n": len(rows),
        "planned": len(queries),
        "wall_s": time.perf_counter() - started,
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "max": max(ms),
        "mean": statistics.fmean(ms),
        "median_total": statistics.median(r["total"] for r in rows),
        "no_hit": sum(1 for r in rows if r["total"] == 0),
        "by_kind": {},
        "rows": rows,
    }
    docs = max(1, ix.count())
    out["docs"] = docs
    out["by_share"] = {}
    for label, lo, hi in (("< 1 %", 0.0, 0.01), ("1–10 %", 0.01, 0.10), ("> 10 %", 0.10, 2.0)):
        part = [r["ms"] for r in rows if lo <= r["total"] / docs < hi]
        if part:
            out["by_share"][label] = {
                "n": len(part),
                "p50": percentile(part, 50),
                "p95": percentile(part, 95),
            }
    for kind in ("folded", "accented", "filtered"):
        part = [r["ms"] for r in rows if r["kind"] == kind]
        if part:
            out["by_kind"][kind] = {
                "n": len(part),
                "p50": percentile(part, 50),
                "p95": percentile(part, 95),
            }
    names = sorted({k for r in rows for k in r["parts_ms"]})
    out["parts_mean_ms"] = {
        k: statistics.fmean(r["parts_ms"].get(k, 0.0) for r in rows) for k in names
    }
    if took:
        out["took_p50"], out["took_p95"] = percentile(took, 50), percentile(took, 95)
    return out


def timed_rebuild(ix, backend: str, docs: list, budget_s: float) -> dict:
    """rebuild(docs); SQLite's is interrupted after `budget_s` (its transaction rolls back)."""
    yielded = 0

    def counting():
        nonlocal yielded
        for d in docs:
            yield d
            yielded += 1

    timer = None
    interrupted = threading.Event()
    if backend == "sqlite":

        def stop() -> None:
            interrupted.set()
            ix._db.interrupt()

        timer = threading.Timer(budget_s, stop)
        timer.start()
    t0 = time.perf_counter()
    try:
        count = ix.rebuild(counting())
        error = None
    except sqlite3.OperationalError as e:
        count, error = None, str(e)
    dt = time.perf_counter() - t0
    if timer:
        timer.cancel()
    out = {
        "docs": len(docs),
        "s": dt,
        "count": count,
        "yielded": yielded,
        "interrupted": interrupted.is_set(),
        "error": error,
        "count_after": ix.count(),
    }
    if interrupted.is_set():
        log(f"  sqlite rebuild interrupted after {dt:.0f} s at {yielded:,}/{len(docs):,} docs")
    return out


def bench_search(args, servers: dict, run_id: str, work: Path) -> dict:
    from search.elastic import ElasticIndex
    from search.sqlite import SqliteIndex

    factory = DocFactory(args.seed)
    queries = make_queries(args.queries, args.seed)
    sizes = sorted(args.sizes)
    results: dict = {
        "sizes": sizes,
        "batch": args.batch,
        "queries_planned": len(queries),
        "query_kinds": {
            k: sum(q["kind"] == k for q in queries) for k in ("folded", "accented", "filtered")
        },
        "backends": {},
    }
    results["server_warmup"] = 0
    for backend in args.backends:
        log(f"search: {backend}")
        alias = f"{run_id}-search"
        if backend == "elastic" and args.server_warmup:
            warm_up_server(servers["SOHOA_SEARCH"], f"{run_id}-warmup", args)
            results["server_warmup"] = args.server_warmup
        if backend == "sqlite":
            ix = SqliteIndex(work / "index.sqlite3")
        else:
            ix = ElasticIndex(servers["SOHOA_SEARCH"], alias=alias)
        res: dict = {"stages": [], "queries": {}, "rebuild": None}
        results["backends"][backend] = res
        try:
            done = 0
            for size in sizes:
                with Meter() as meter:
                    stage = fill(ix, backend, factory, done, size, args)
                stage["meter"] = meter.as_dict()
                stage["count_after"] = ix.count()
                res["stages"].append(stage)
                done = size
                log(f"  {backend}: {size:,} docs indexed; running queries")
                with Meter() as meter:
                    res["queries"][size] = run_queries(ix, backend, queries, args)
                res["queries"][size]["meter"] = meter.as_dict()
                q = res["queries"][size]
                log(
                    f"  {backend} @ {size:,}: {q['n']} queries p50 {q['p50']:.1f} ms "
                    f"p95 {q['p95']:.1f} ms max {q['max']:.1f} ms"
                )
                if size == sizes[0] and not args.skip_rebuild:
                    docs = list(factory.iter(0, size))
                    log(f"  {backend}: rebuild() of {size:,} docs")
                    with Meter() as meter:
                        res["rebuild"] = timed_rebuild(ix, backend, docs, args.rebuild_budget)
                    res["rebuild"]["meter"] = meter.as_dict()
                    del docs
            if backend == "sqlite":
                res["db_mib"] = sum(p.stat().st_size for p in work.glob("index.sqlite3*")) / MIB
            else:
                with contextlib.suppress(Exception):
                    stats = ix.client.indices.stats(index=alias, metric="store,docs")
                    prim = stats["_all"]["primaries"]
                    res["index_mib"] = prim["store"]["size_in_bytes"] / MIB
                    res["lucene_docs"] = prim["docs"]["count"]
        finally:
            if backend == "sqlite":
                ix.close()
                for p in work.glob("index.sqlite3*"):
                    p.unlink()
            else:
                cleanup_elastic(ix.client, alias)
                ix.close()
    return results


def warm_up_server(url: str, alias: str, args) -> None:
    """Index throwaway documents into a scratch index, untimed: a search server started
    shortly before compiles its indexing code (JIT) during the first thousands of documents,
    which would otherwise be counted against the first size."""
    from search.elastic import ElasticIndex

    log(f"  elastic: warming the server up with {args.server_warmup:,} throwaway documents")
    ix = ElasticIndex(url, alias=alias)
    try:
        for batch in DocFactory(args.seed + 1000).batches(0, args.server_warmup, args.batch):
            ix.index(batch)
    finally:
        cleanup_elastic(ix.client, alias)
        ix.close()


def cleanup_elastic(client, alias: str) -> None:
    with contextlib.suppress(Exception):
        for name in client.indices.get(index=f"{alias}-v*"):
            client.indices.delete(index=name)
    with contextlib.suppress(Exception):
        client.indices.delete_index_template(name=f"{alias}-template")


# =========================================================================== object store


def bench_storage(args, servers: dict, run_id: str, work: Path) -> dict:
    import storage.minio as minio_mod
    from storage.digest import sha256_file
    from storage.local import LocalStore
    from storage.minio import MinioStore

    size = args.file_mb * MIB
    path = work / "big.bin"
    rng = random.Random(f"bench-services:{args.seed}:file")
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, 16 * MIB)
            f.write(rng.randbytes(n))
            left -= n
    t0 = time.perf_counter()
    sha = sha256_file(path)
    hash_s = time.perf_counter() - t0
    key = f"originals/{sha}"
    bucket = f"{run_id}-s3"
    url = servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + "/" + bucket
    store = MinioStore.from_url(url)
    out: dict = {
        "mib": args.file_mb,
        "local_sha256_s": hash_s,
        "minio": [],
        "local": [],
        "part_mib": minio_mod.PART_SIZE / MIB,
    }
    # Split put_file's time: wrap the local hash (module function) and the verification read
    # (instance method), in this process only.
    split: dict[str, float] = {}

    def wrap_fn(fn, name):
        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                split[name] = split.get(name, 0.0) + time.perf_counter() - t

        return timed

    orig_sha = minio_mod.sha256_file
    minio_mod.sha256_file = wrap_fn(orig_sha, "hash")
    store._hash_stored = wrap_fn(store._hash_stored, "verify")
    try:
        for rep in range(args.storage_reps):
            with contextlib.suppress(Exception):
                store.delete(key)
            split.clear()
            with Meter() as meter:
                store.put_file(key, path)
            total = meter.wall
            row = {
                "rep": rep,
                "put_file_s": total,
                "hash_s": split.get("hash", 0.0),
                "verify_s": split.get("verify", 0.0),
            }
            row["upload_s"] = total - row["hash_s"] - row["verify_s"]
            t0 = time.perf_counter()
            with store.local_path(key) as got:
                row["download_s"] = time.perf_counter() - t0
                assert got.stat().st_size == size
            row["meter"] = meter.as_dict()
            out["minio"].append(row)
            log(
                f"  minio rep {rep}: put_file {args.file_mb / total:.0f} MiB/s "
                f"(upload part {args.file_mb / row['upload_s']:.0f}), "
                f"local_path {args.file_mb / row['download_s']:.0f} MiB/s"
            )
    finally:
        minio_mod.sha256_file = orig_sha
        with contextlib.suppress(Exception):
            for k in list(store.list("")):
                store.delete(k)
            store.client.remove_bucket(bucket)
    local = LocalStore(work / "local-store")
    for rep in range(args.storage_reps):
        local.delete(key)
        with Meter() as meter:
            local.put_file(key, path)
        out["local"].append({"rep": rep, "put_file_s": meter.wall, "meter": meter.as_dict()})
        log(f"  local rep {rep}: put_file {args.file_mb / meter.wall:.0f} MiB/s")
    shutil.rmtree(work / "local-store", ignore_errors=True)
    path.unlink()
    return out


# =========================================================================== end to end


def sohoa_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("sohoa")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]


def clean_env() -> dict[str, str]:
    """This environment less any SOHOA_* setting (each run sets its own)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SOHOA_") or k.startswith("SOHOA_MINIO_")
    }


def bench_e2e(args, servers: dict, run_id: str, work: Path) -> dict:
    import redis

    from app.compose import build_services
    from app.config import Settings, one_thread_per_tesseract
    from corpus import generate_batch
    from workers.batch import outcome, submit_all, wait_for
    from workers.runtime import WorkerPool
    from workers.submit import expand_inputs

    batch = work / "e2e-batch"
    t0 = time.perf_counter()
    manifest = generate_batch(
        batch,
        pages=args.e2e_pages,
        seed=args.seed,
        formats=("pdf_scanned", "tiff"),
        levels=("clean", "light"),
    )
    pages = sum(len(f.pages) for f in manifest.files)
    out: dict = {
        "files": len(manifest.files),
        "pages": pages,
        "generate_s": time.perf_counter() - t0,
        "workers": args.workers,
    }
    log(f"e2e: {len(manifest.files)} files, {pages} pages")

    # --- embedded: in-process broker and worker threads (as workers/jobs.py ingest_batch)
    settings = Settings(
        data_dir=work / "e2e-embedded", storage="", search="", broker="", workers=args.workers
    )
    t0 = time.perf_counter()
    services = build_services(settings)
    setup_s = time.perf_counter() - t0
    one_thread_per_tesseract()  # as the `sohoa` entry point does
    with Meter() as meter, WorkerPool(services, "", threads=args.workers) as pool:
        subs = submit_all(services, pool, list(expand_inputs([str(batch)])))
        wait_for(services, pool, subs, None)
    results = [outcome(services, s)[0] for s in subs]
    embedded_pages = sum(
        (outcome(services, s)[1].page_count if outcome(services, s)[1] else 0) for s in subs
    )
    services.index.close()
    out["embedded"] = {
        "wall_s": meter.wall,
        "setup_s": setup_s,
        "pages": embedded_pages,
        "outcomes": results,
        "meter": meter.as_dict(),
    }
    log(
        f"  embedded: {embedded_pages} pages in {meter.wall:.1f} s "
        f"({embedded_pages / meter.wall:.2f} pages/s), {results.count('ok')}/{len(results)} ok"
    )

    # --- servers: `sohoa worker` (Dramatiq processes on Redis) + `sohoa ingest --json`
    broker = servers["SOHOA_BROKER"].rsplit("/", 1)[0] + f"/{args.redis_db}"
    r = redis.Redis.from_url(broker)
    if r.dbsize():
        raise SystemExit(f"Redis db {args.redis_db} is not empty; pick another --redis-db")
    alias = f"{run_id}-e2e"
    bucket = f"{run_id}-e2e"
    env = {
        **clean_env(),
        "SOHOA_DATA_DIR": str(work / "e2e-server-data"),
        "SOHOA_STORAGE": servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + "/" + bucket,
        "SOHOA_SEARCH": servers["SOHOA_SEARCH"],
        "SOHOA_SEARCH_INDEX": alias,
        "SOHOA_BROKER": broker,
        "SOHOA_WORKERS": str(args.workers),
    }
    from search.elastic import ElasticIndex
    from storage.minio import MinioStore

    store = MinioStore.from_url(env["SOHOA_STORAGE"])  # the bucket exists before the workers
    worker_log = work / "worker.log"
    proc = None
    try:
        with worker_log.open("wb") as logf:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [*sohoa_cmd(), "worker"],
                env=env,
                cwd=REPO,
                start_new_session=True,
                stdout=logf,
                stderr=subprocess.STDOUT,
            )
            while True:
                text = worker_log.read_text(errors="replace")
                if text.count("ready for action") >= args.workers:
                    break
                if proc.poll() is not None or time.perf_counter() - t0 > 180:
                    raise RuntimeError(f"sohoa worker did not get ready:\n{text[-2000:]}")
                time.sleep(0.2)
            out["server_worker_ready_s"] = time.perf_counter() - t0
            log(f"  sohoa worker ready in {out['server_worker_ready_s']:.1f} s")
            runs = []
            for label in ("first", "again (all reused)"):
                with Meter() as meter:
                    done = subprocess.run(
                        [*sohoa_cmd(), "ingest", str(batch), "--json"],
                        env=env,
                        cwd=REPO,
                        capture_output=True,
                        text=True,
                        timeout=3600,
                    )
                rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
                runs.append(
                    {
                        "label": label,
                        "wall_s": meter.wall,
                        "returncode": done.returncode,
                        "statuses": [row.get("status") for row in rows],
                        "pages": sum(
                            row.get("page_count") or 0 for row in rows if row.get("status") == "ok"
                        ),
                        "stderr_tail": done.stderr[-1500:],
                        "meter": meter.as_dict(),
                    }
                )
                log(
                    f"  sohoa ingest ({label}): {meter.wall:.1f} s, rc {done.returncode}, "
                    f"{runs[-1]['statuses']}"
                )
            out["server"] = runs
    finally:
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        out["worker_log_tail"] = (
            worker_log.read_text(errors="replace")[-3000:] if worker_log.exists() else ""
        )
        with contextlib.suppress(Exception):
            ix = ElasticIndex(servers["SOHOA_SEARCH"], alias=alias)
            cleanup_elastic(ix.client, alias)
            ix.close()
        with contextlib.suppress(Exception):
            for k in list(store.list("")):
                store.delete(k)
            store.client.remove_bucket(bucket)
        with contextlib.suppress(Exception):
            r.flushdb()  # our own database number, checked empty above
    return out


# =========================================================================== environment


def servers_env() -> dict[str, str]:
    """SOHOA_SEARCH / SOHOA_STORAGE / SOHOA_BROKER: from the environment when all three are set
    to servers, else from `scripts/services.sh up` (starts what is not running)."""
    names = ("SOHOA_SEARCH", "SOHOA_STORAGE", "SOHOA_BROKER")
    env = {k: os.environ.get(k, "") for k in names}
    if (
        env["SOHOA_SEARCH"].startswith("http")
        and env["SOHOA_STORAGE"].startswith("minio")
        and env["SOHOA_BROKER"].startswith("redis")
    ):
        return env
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "services.sh"), "up"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    for line in done.stdout.splitlines():  # export KEY='VALUE' lines, made for eval
        key, sep, value = (shlex.split(line) or [""])[-1].partition("=")
        if sep and key in names:
            env[key] = value
    return env


def _out(args: list[str]) -> str:
    try:
        return subprocess.run(
            args, capture_output=True, text=True, timeout=30, cwd=REPO
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def versions(servers: dict) -> dict:
    from opensearchpy import OpenSearch

    v: dict = {}
    with contextlib.suppress(Exception):
        info = OpenSearch(hosts=[servers["SOHOA_SEARCH"]], timeout=10).info()
        v["search_server"] = (
            f"{info['version'].get('distribution', 'elasticsearch')} "
            f"{info['version']['number']} (Lucene "
            f"{info['version'].get('lucene_version', '?')})"
        )
    status = _out(["bash", "scripts/services/minio.sh", "status"])
    v["s3_server"] = status.split("(", 1)[1].split(",")[0] if "(" in status else status or "?"
    v["redis_server"] = (
        _out(["redis-server", "--version"]).split(" sha=")[0].replace("Redis server v=", "Redis ")
    )
    v["sqlite"] = sqlite3.sqlite_version
    v["packages"] = {}
    for name in ("opensearch-py", "minio", "dramatiq", "redis", "pydantic", "urllib3"):
        with contextlib.suppress(pkg_metadata.PackageNotFoundError):
            v["packages"][name] = pkg_metadata.version(name)
    return v


def code_state() -> dict:
    """Git HEAD and a hash of the product's sources: others commit while a run goes on, and a
    run whose parts saw different code says so."""
    digest = hashlib.sha256()
    for package in PRODUCT_PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    head = _out(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = bool(
        _out(["git", "status", "--porcelain", "--untracked-files=no", "--", *PRODUCT_PACKAGES])
    )
    return {
        "git": head + (" (uncommitted changes)" if dirty else ""),
        "sources": digest.hexdigest()[:12],
    }


class LoadSampler(threading.Thread):
    """The 1-minute load average every few seconds, for the whole run."""

    def __init__(self, every_s: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.every_s, self.samples = every_s, []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(OSError, ValueError):
                self.samples.append(float(Path("/proc/loadavg").read_text().split()[0]))
            self._stop_event.wait(self.every_s)

    def stop(self) -> dict:
        self._stop_event.set()
        self.join()
        xs = self.samples or [0.0]
        return {"max": max(xs), "mean": statistics.fmean(xs), "samples": len(xs)}


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


# =========================================================================== report


def fmt_rate(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def render_section(r: dict) -> str:
    m, v = r["machine"], r["versions"]
    lines = [
        SECTION_TITLE,
        "",
        f"_Written by `bench/services.py` on {r['date']}. Do not edit these numbers by hand: "
        "rerun the command._",
        "",
        "### Machine, versions, conditions",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram']}; {m['os']}",
        f"- sohoa git {r['code_start']['git']} (sources {r['code_start']['sources']}); "
        f"Python {m['python']}; SQLite {v['sqlite']}; "
        f"{v.get('search_server', 'search server ?')}; S3 server {v['s3_server']}; "
        f"{v['redis_server']}; {m['tesseract']}",
        "- Python packages: " + ", ".join(f"{k} {x}" for k, x in v["packages"].items()),
        f"- Command: `{r['command']}` (whole run {r['total_s'] / 60:.1f} min)",
        f"- Load average (1/5/15 min) at start {r['load_start']}, at end {r['load_end']}, "
        f"on {m['cores']} cores. {r['load_note']}",
        "- Servers on loopback (`scripts/services.sh up`), each part on its own alias / bucket "
        "/ Redis database, removed afterwards. OpenSearch runs with a 512 MiB heap; the S3 "
        "server (versitygw, POSIX backend) stores on the same disk as the bench.",
        "",
    ]
    if r["code_start"] != r["code_end"]:
        lines[-1:-1] = [
            f"- **The product code changed during the run** (at start {r['code_start']}, at end "
            f"{r['code_end']}): parts run later may have used the newer code; rerun."
        ]
    if r.get("search"):
        lines += render_search(r["search"], r["args"])
    if r.get("storage"):
        lines += render_storage(r["storage"])
    if r.get("e2e"):
        lines += render_e2e(r["e2e"])
    lines += render_conditions(r)
    lines += ["### Where we stand vs targets", ""] + [f"- {t}" for t in targets(r)] + [""]
    return "\n".join(lines)


def render_conditions(r: dict) -> list[str]:
    """Per part: wall clock, this process's CPU, CPU of every other process (the servers
    included: OpenSearch, versitygw, Redis, the worker processes) and the load at its start."""
    parts: list[tuple[str, dict]] = []
    names = {"sqlite": "SQLite", "elastic": "OpenSearch"}
    for backend, res in (r.get("search") or {}).get("backends", {}).items():
        for st in res["stages"]:
            parts.append((f"{names[backend]}: index to {st['stop']:,}", st["meter"]))
        for size, q in res["queries"].items():
            parts.append((f"{names[backend]}: queries at {int(size):,}", q["meter"]))
        if res.get("rebuild"):
            parts.append((f"{names[backend]}: rebuild", res["rebuild"]["meter"]))
    for row in (r.get("storage") or {}).get("minio", []):
        parts.append((f"S3 put_file run {row['rep'] + 1}", row["meter"]))
    e = r.get("e2e") or {}
    if e.get("embedded"):
        parts.append(("end to end: embedded", e["embedded"]["meter"]))
    for run in e.get("server", []):
        parts.append((f"end to end: servers, {run['label']}", run["meter"]))
    lines = [
        "### Run conditions",
        "",
        "CPU seconds during each part: this bench process (with its child processes), and "
        "every other process on the machine — the servers and `sohoa worker` processes "
        "are in that column, and so is unrelated work.",
        "",
        "| part | wall s | bench CPU s | other processes CPU s | load at start |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, m in parts:
        lines.append(
            f"| {name} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {m['others_cpu_s']:.1f} "
            f"| {m.get('load_at_start') or 0:.2f} |"
        )
    return lines + [""]


def render_search(s: dict, a: dict) -> list[str]:
    names = {"sqlite": "SqliteIndex (SQLite)", "elastic": "ElasticIndex (OpenSearch)"}
    kinds = s["query_kinds"]
    lines = [
        "### Search backends",
        "",
        f"Generated records (fixed seed {a['seed']}): 1–3 pages of 150–400 words of the seed "
        "prose (`corpus/seeds`, the first page with an ND30 header), metadata set (30 "
        "organs, 8 types, dates 2015–2024, 150 signers, 30 % needs_review, 20 % in a dossier). "
        f"Indexed with `index.index(batch)`, {s['batch']:,} documents per batch; only the "
        "index() call is timed (making the documents is not). The larger size adds documents "
        "to the smaller one."
        + (
            f" Before its first size the search server indexed {s['server_warmup']:,} "
            "throwaway documents into a scratch index, untimed (JIT warm-up: a freshly started "
            "server otherwise spends its first thousands of documents compiling)."
            if s.get("server_warmup")
            else ""
        ),
        "",
        "| backend | docs | written by | docs/s | first → last batch docs/s | seconds | "
        "CPU s / 1000 docs (bench process · server) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for backend, res in s["backends"].items():
        for st in res["stages"]:
            span = f"{st['start']:,} → {st['stop']:,}"
            for m in ("index", "insert-only"):
                x = st.get(m)
                if not x:
                    continue
                label = (
                    "`index()`" if m == "index" else "insert-only (same rows, no per-doc delete)"
                )
                if m == "index" and st.get("switched_at") is not None:
                    label += f" (docs {st['start']:,}–{st['switched_at']:,})"
                cpu = "–"
                total_docs = st["stop"] - st["start"]
                if backend == "elastic" and st.get("server_cpu_s") is not None:
                    cpu = (
                        f"{st['client_cpu_s'] / total_docs * 1000:.2f} · "
                        f"{st['server_cpu_s'] / total_docs * 1000:.2f}"
                    )
                elif backend == "sqlite" and not st.get("insert-only"):
                    cpu = f"{st['client_cpu_s'] / total_docs * 1000:.2f} · –"
                lines.append(
                    f"| {names[backend]} | {span} | {label} | {x['docs_per_s']:,.0f} | "
                    f"{x['first_batch_docs_per_s']:,.0f} → {x['last_batch_docs_per_s']:,.0f} | "
                    f"{x['s']:.1f} | {cpu} |"
                )
    lines += [
        "",
        f"Queries: {s['queries_planned']} planned per set ({kinds['folded']} folded "
        f"without accents, {kinds['accented']} accented, {kinds['filtered']} with a "
        "filter on type / year / organ / needs_review), 1–4 consecutive words of the "
        "seed prose plus a few fixed ones (`quyet dinh so hoa`, `cải cách hành chính`, …), "
        f"in a fixed shuffled order, `index.search(q, viewer=ALL, limit=10)` after {a['warmup']} "
        f"warm-up queries. A set stops after {a['query_budget']:.0f} s once "
        f"{a['min_queries']} queries have run. The seed prose is ~9,000 words, so most "
        "queries match a large share of the documents (median hits column): a hard case "
        "for ranking all matches and counting facets over them. Both backends rank every "
        "match and count totals and facets exactly: SqliteIndex from term postings and "
        "per-document columns stored in SQLite, scored with numpy; ElasticIndex with two "
        "searches in one `msearch`, run side by side by the server: the ranked page of "
        "hits (top-k, no count), and the total with the facet counts (filter context).",
        "",
        "| backend | docs | queries | p50 ms | p95 ms | max ms | p95 folded · accented "
        "· filtered | median hits | p95 by share of docs matched (n) | "
        "mean ms per query, by part |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for backend, res in s["backends"].items():
        for size, q in res["queries"].items():
            bk = " · ".join(
                f"{q['by_kind'][k]['p95']:.0f}" if k in q["by_kind"] else "–"
                for k in ("folded", "accented", "filtered")
            )
            parts = q["parts_mean_ms"]
            if backend == "sqlite":
                rest = q["mean"] - sum(parts.values())
                split = "; ".join(f"{k} {v:.1f}" for k, v in parts.items())
                if "match + BM25 (postings, numpy)" in parts:
                    split += f"; the rest (snapshot, filters, top-k) {rest:.1f}"
                else:  # results.json of the FTS5 index
                    split = f"full-text match, rank, count (the rest) {rest:.0f}; " + split
            else:
                rt, server = parts.get("round trip", 0.0), parts.get("server (took)", 0.0)
                split = f"server `took` {server:.0f} (p95 {q.get('took_p95', 0):.0f}"
                if "server hits (took)" in parts:
                    split += (
                        f"; hits {parts['server hits (took)']:.0f}, facets "
                        f"{parts['server facets (took)']:.0f}, run side by side"
                    )
                split += (
                    f"); HTTP + JSON {rt - server:.0f}; Python hits / snippets {q['mean'] - rt:.0f}"
                )
            n = f"{q['n']}" + (f" of {q['planned']} (budget)" if q["n"] < q["planned"] else "")
            share = " · ".join(
                f"{k}: {v['p95']:.0f} ({v['n']})" for k, v in q.get("by_share", {}).items()
            )
            lines.append(
                f"| {names[backend]} | {int(size):,} | {n} | {q['p50']:.1f} | "
                f"{q['p95']:.1f} | {q['max']:.1f} | {bk} | {q['median_total']:,.0f} | "
                f"{share} | {split} |"
            )
    lines += [
        "",
        "`rebuild()` of the first size (documents made beforehand, in a list):",
        "",
        "| backend | docs | seconds | docs/s | note |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for backend, res in s["backends"].items():
        rb = res.get("rebuild")
        if not rb:
            continue
        if rb["interrupted"]:
            lines.append(
                f"| {names[backend]} | {rb['docs']:,} | > {rb['s']:.0f} | "
                f"< {rb['yielded'] / rb['s']:,.0f} | interrupted by the bench after "
                f"{rb['s']:.0f} s with {rb['yielded']:,} documents read; rolled back, "
                f"{rb['count_after']:,} still indexed |"
            )
        else:
            lines.append(
                f"| {names[backend]} | {rb['docs']:,} | {rb['s']:.1f} | "
                f"{rb['docs'] / rb['s']:,.0f} | {rb['count_after']:,} indexed after |"
            )
    sizes = []
    for res in s["backends"].values():
        if res.get("db_mib"):
            sizes.append(f"SQLite file {res['db_mib']:,.0f} MiB")
        if res.get("index_mib"):
            sizes.append(
                f"OpenSearch index {res['index_mib']:,.0f} MiB "
                f"({res.get('lucene_docs', 0):,} Lucene documents)"
            )
    if sizes:
        lines += ["", f"At {max(s['sizes']):,} documents: " + "; ".join(sizes) + "."]
    return lines + [""]


def render_storage(st: dict) -> list[str]:
    mib = st["mib"]
    lines = [
        "### Object store",
        "",
        f"One {mib} MiB file of random bytes (in the page cache: written just before), key "
        f"`originals/<sha256>`, {len(st['minio'])} run(s) each; best run shown. "
        f"`MinioStore.put_file` = SHA-256 of the file + streaming multipart upload "
        f"({st['part_mib']:.0f} MiB parts) + the stored object read back and hashed again "
        "(verification): the MiB/s of put_file counts all three. `LocalStore.put_file` = copy "
        "into a temp file, fsync, rename (no hash: the key is new).",
        "",
        "| store | operation | seconds | MiB/s |",
        "| --- | --- | ---: | ---: |",
    ]
    best = min(st["minio"], key=lambda x: x["put_file_s"])
    rows = [
        ("S3 (MinioStore → versitygw)", "`put_file` total", best["put_file_s"]),
        ("", "… SHA-256 of the local file", best["hash_s"]),
        ("", "… multipart upload", best["upload_s"]),
        ("", "… read back + SHA-256 (verification)", best["verify_s"]),
        ("", "`local_path` (download to a temp file)", min(x["download_s"] for x in st["minio"])),
    ]
    bl = min(st["local"], key=lambda x: x["put_file_s"])
    rows.append(("LocalStore (folder)", "`put_file` (copy + fsync + rename)", bl["put_file_s"]))
    rows.append(("", "`local_path`", None))
    for name, op, secs in rows:
        if secs is None:
            lines.append(f"| {name} | {op} | 0 | no copy: the stored file itself |")
        else:
            lines.append(f"| {name} | {op} | {secs:.2f} | {mib / secs:,.0f} |")
    all_runs = ", ".join(f"{mib / x['put_file_s']:.0f}" for x in st["minio"])
    local_runs = ", ".join(f"{mib / x['put_file_s']:.0f}" for x in st["local"])
    lines += [
        "",
        f"All runs, put_file MiB/s: S3 {all_runs}; local {local_runs}. "
        f"SHA-256 of the file alone: {mib / st['local_sha256_s']:,.0f} MiB/s.",
        "",
    ]
    return lines


def render_e2e(e: dict) -> list[str]:
    emb = e["embedded"]
    lines = [
        "### End to end: embedded vs servers",
        "",
        f"The same {e['pages']} generated scanned pages ({e['files']} files, `generate_batch` "
        "formats pdf_scanned + tiff, levels clean + light, one page turned 90°). Embedded: "
        f"`build_services` + `WorkerPool(threads={e['workers']})` + `submit_all` + `wait_for` in "
        "this process, timed from pool start to the last record done. Servers: `sohoa worker` "
        f"(SOHOA_WORKERS={e['workers']}: {e['workers']} Dramatiq processes on Redis, S3 "
        "storage, OpenSearch index) started and waited for (`ready for action` in its log), "
        "then `sohoa ingest DIR --json` as a subprocess, wall clock (includes that process's "
        "start-up); the second ingest of the same folder (all reused) shows that fixed cost.",
        "",
        "| run | pages | seconds | pages/s | result |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| embedded (in-process broker, {e['workers']} threads) | {emb['pages']} | "
        f"{emb['wall_s']:.1f} | {emb['pages'] / emb['wall_s']:.2f} | "
        f"{emb['outcomes'].count('ok')}/{len(emb['outcomes'])} ok |",
    ]
    for run in e.get("server", []):
        ok = run["statuses"].count("ok")
        reused = run["statuses"].count("reused")
        result = (
            f"{ok} ok"
            + (f", {reused} reused" if reused else "")
            + f" of {len(run['statuses'])}, exit {run['returncode']}"
        )
        pages = run["pages"] or e["pages"]
        rate = f"{run['pages'] / run['wall_s']:.2f}" if run["pages"] else "–"
        lines.append(
            f"| servers: `sohoa ingest` {run['label']} | {pages if run['pages'] else '–'}"
            f" | {run['wall_s']:.1f} | {rate} | {result} |"
        )
    lines += [
        "",
        f"`sohoa worker` took {e.get('server_worker_ready_s', 0):.1f} s to be ready "
        f"(not in the times above). Embedded set-up (`build_services`) "
        f"{emb['setup_s']:.2f} s, also outside.",
        "",
    ]
    return lines


def targets(r: dict) -> list[str]:
    out = []
    s = r.get("search")
    if s:
        for backend, res in s["backends"].items():
            name = {"sqlite": "SQLite", "elastic": "OpenSearch"}[backend]
            rates = [st["index"]["docs_per_s"] for st in res["stages"] if st.get("index")]
            if backend == "elastic" and rates:
                worst = min(rates)
                verdict = "**met**" if worst >= 2000 else "**missed**"
                out.append(
                    f"Bulk indexing ≥ 2,000 docs/s (OpenSearch): {verdict}: "
                    + ", ".join(f"{x:,.0f}" for x in rates)
                    + " docs/s through `ElasticIndex.index()` on this machine."
                )
            if backend == "sqlite":
                curve = [
                    (b["at"], b["docs"] / b["s"])
                    for st in res["stages"]
                    for b in st["batches"]
                    if b["method"] == "index"
                ]
                sw = [st for st in res["stages"] if st.get("switched_at") is not None]
                ins = [
                    st["insert-only"]["docs_per_s"] for st in res["stages"] if st.get("insert-only")
                ]
                shown = curve if len(curve) <= 4 else [curve[0], curve[len(curve) // 2], curve[-1]]
                at = ", ".join(f"{r:,.0f} docs/s at {n:,} docs" for n, r in shown)
                if sw:
                    out.append(
                        f"SQLite `index()` slows down as the index grows ({at}): it could not "
                        "reach the sizes in the time budget, so the rest was written "
                        "insert-only (the same rows without the per-document delete: "
                        + ", ".join(f"{x:,.0f}" for x in ins)
                        + " docs/s). No numeric target "
                        "for SQLite bulk."
                    )
                elif curve:
                    out.append(
                        f"SQLite `index()` (no numeric target): {at}, all through `index()`."
                    )
            big = max(s["sizes"])
            q = res["queries"].get(big) or res["queries"].get(str(big))
            if q:
                verdict = "**met**" if q["p95"] <= 50 else "**missed**"
                out.append(
                    f"Search p95 ≤ 50 ms at {big:,} documents, {name}: {verdict} "
                    f"(p95 {q['p95']:.0f} ms, p50 {q['p50']:.0f} ms over {q['n']} "
                    f"queries)."
                )
    e = r.get("e2e")
    if e and e.get("server"):
        emb = e["embedded"]["pages"] / e["embedded"]["wall_s"]
        first = e["server"][0]
        if first["pages"]:
            srv = first["pages"] / first["wall_s"]
            out.append(
                f"End to end (no numeric target): servers {srv:.2f} pages/s vs embedded "
                f"{emb:.2f} pages/s with {e['workers']} workers "
                f"({srv / emb:.2f}×; OCR-bound on {r['machine']['cores']} cores)."
            )
    st = r.get("storage")
    if st:
        best = min(st["minio"], key=lambda x: x["put_file_s"])
        s3 = st["mib"] / best["put_file_s"]
        out.append(
            f"Object store (no numeric target): S3 put_file {s3:.0f}"
            f" MiB/s including the verification read, local "
            f"{st['mib'] / min(x['put_file_s'] for x in st['local']):.0f} MiB/s."
        )
    out.append(
        "Numbers from a shared, busy machine (see the load average): rates move with "
        "the load; rerun for a comparison."
    )
    return out


def write_docs(path: Path, section: str) -> None:
    """Replace only our section (from its heading to the next `## `), or append it."""
    import re

    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else (
            "# Benchmarks\n\nMeasured numbers, each section written by the bench script it names "
            "(see `bench/README.md`). DESIGN §8 lists the targets.\n"
        )
    )
    start = text.find(SECTION_TITLE + "\n")
    if start >= 0:
        nxt = re.search(r"^## ", text[start + len(SECTION_TITLE) :], re.M)
        end = start + len(SECTION_TITLE) + nxt.start() if nxt else len(text)
        text = text[:start] + section.rstrip("\n") + "\n" + ("\n" if nxt else "") + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# =========================================================================== main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small run: sizes 1000 5000, 60 queries, 20 MiB file, 4 pages",
    )
    p.add_argument(
        "--sizes", type=int, nargs="+", default=None, help="index sizes (default 10000 100000)"
    )
    p.add_argument("--batch", type=int, default=1000, help="documents per index() call")
    p.add_argument(
        "--backends", nargs="+", default=["elastic", "sqlite"], choices=["sqlite", "elastic"]
    )
    p.add_argument("--queries", type=int, default=None, help="queries per set (default 300)")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument(
        "--server-warmup",
        type=int,
        default=20_000,
        help="throwaway documents indexed (untimed) before the first size; 0: none",
    )
    p.add_argument(
        "--query-budget",
        type=float,
        default=None,
        help="seconds per query set before it stops (default 60)",
    )
    p.add_argument("--min-queries", type=int, default=20)
    p.add_argument(
        "--rebuild-budget",
        type=float,
        default=None,
        help="seconds before SqliteIndex.rebuild() is interrupted (default 45)",
    )
    p.add_argument("--skip-rebuild", action="store_true")
    p.add_argument("--file-mb", type=int, default=None, help="object store file, MiB (200)")
    p.add_argument("--storage-reps", type=int, default=None, help="runs per store (2)")
    p.add_argument("--e2e-pages", type=int, default=None, help="scanned pages (12)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--redis-db", type=int, default=11)
    p.add_argument("--skip", nargs="+", default=[], choices=["search", "storage", "e2e"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "services")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    p.add_argument(
        "--from-results",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: rewrite the docs section from a results.json",
    )
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "sizes": [1000, 5000] if quick else [10_000, 100_000],
        "queries": 60 if quick else 300,
        "query_budget": 20 if quick else 60,
        "rebuild_budget": 20 if quick else 45,
        "file_mb": 20 if quick else 200,
        "storage_reps": 1 if quick else 2,
        "e2e_pages": 4 if quick else 12,
    }
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if quick and args.min_queries == 20:
        args.min_queries = 10
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_results:
        section = render_section(json.loads(args.from_results.read_text(encoding="utf-8")))
        if not args.no_docs:
            write_docs(args.docs, section)
        print(section)
        return 0
    started = time.perf_counter()
    load_start = loadavg()
    sampler = LoadSampler()
    sampler.start()
    code_start = code_state()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    run_id = f"bench-services-{uuid.uuid4().hex[:8]}"
    log(f"run {run_id}; load average {load_start}")
    servers = servers_env()
    log("servers: " + ", ".join(f"{k}={v.split('@')[-1]}" for k, v in servers.items()))
    report: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(
            [".venv/bin/python", "bench/services.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "run_id": run_id,
        "load_start": load_start,
        "versions": versions(servers),
        "machine": machine_info(),
        "python": platform.python_version(),
    }
    work = Path(tempfile.mkdtemp(prefix="sohoa-bench-services-"))
    try:
        if "search" not in args.skip:
            report["search"] = bench_search(args, servers, run_id, work)
        if "storage" not in args.skip:
            log("object store")
            report["storage"] = bench_storage(args, servers, run_id, work)
        if "e2e" not in args.skip:
            report["e2e"] = bench_e2e(args, servers, run_id, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["load_end"] = loadavg()
    report["load_sampled"] = sampler.stop()
    report["code_start"], report["code_end"] = code_start, code_state()
    report["total_s"] = time.perf_counter() - started
    cores = os.cpu_count() or 1
    peak = report["load_sampled"]["max"]
    report["load_note"] = (
        f"Sampled every 5 s: mean {report['load_sampled']['mean']:.2f}, max {peak:.2f}. "
        + (
            f"The machine was busy with other work during the run (other benchmarks and tests "
            f"share these {cores} cores): every figure here is lower than on an idle machine, "
            "the latencies most; see *Run conditions*."
            if peak > cores * 0.75
            else "The machine was mostly idle."
        )
    )
    (out / "results.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    section = render_section(json.loads(json.dumps(report, default=str)))
    if not args.no_docs:
        write_docs(args.docs, section)
        log(f"wrote {args.docs}")
    print(section)
    log(f"done in {report['total_s'] / 60:.1f} min; results {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
