"""Known-item search benchmark: can a user find a document by its trích yếu?

For every document of a generated corpus of Vietnamese administrative records (`corpus.content`
specs: organs, types, numbers, dates, trích yếu from the ND30 templates, body paragraphs of the
real texts in `corpus/seeds`), plus one document per real seed text (trích yếu = its first
line), three queries, all typed without diacritics:

- `subject`: the whole trích yếu;
- `fragment`: three consecutive words of it (fixed seed);
- `phrase`: the same three words in double quotes.

A query's answer is right when the first document whose trích yếu holds the query words as a
run (the document itself, or one with the same trích yếu: the generator repeats some) comes
first; reciprocal rank 1/rank within the first 10 hits, else 0. MRR and hits@1 per query kind,
on SqliteIndex and on ElasticIndex (the OpenSearch of `scripts/services.sh up`), in one run,
with search latency (p50/p95) and index size.

Documents are indexed directly (`Document` records with page text and metadata; no OCR).
Half of the documents (even numbers) were used to tune the ranking constants; the other half
(odd numbers) is held out and is the number to report: both are printed.

    python bench/known_item.py [--docs 2000] [--backends sqlite elastic] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _p in (str(REPO), str(REPO / "bench")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from ocr import machine_info  # noqa: E402  (bench/ocr.py helper)

from schemas.access import Viewer  # noqa: E402
from schemas.text import fold, nfc  # noqa: E402
from search.words import tokens  # noqa: E402

ALL = Viewer.everything()
KINDS = ("subject", "fragment", "phrase")
DEPTH = 10  # hits read per query: a known item beyond them counts 0


def make_document(i: int, subject: str, body: list[str], spec, doc_id: str):
    """A record as the pipeline leaves it: page text with the ND30 header, metadata fields."""
    from schemas.models import AdminMetadata, Document, DocumentStatus, Field, PageResult

    header = [
        spec.organ.parent,
        spec.organ.name,
        spec.code_line,
        spec.date_line,
        spec.doc_type.name.upper(),
        subject,
    ]
    rng = random.Random(f"known-item:pages:{i}")
    page_count = rng.randint(1, 3)
    per_page = max(1, len(body) // page_count)
    pages = []
    for n in range(page_count):
        lines = body[n * per_page : (n + 1) * per_page]
        if n == 0:
            lines = header + lines
        pages.append(PageResult(page_no=n + 1, text="\n".join(lines)))
    meta = AdminMetadata(
        organ_name=Field(value=spec.organ.name, confidence=0.9),
        code_number=Field(value=spec.code_number, confidence=0.9),
        code_notation=Field(value=spec.code_notation, confidence=0.9),
        issued_date=Field(value=spec.issued.isoformat(), confidence=0.9),
        type_name=Field(value=spec.doc_type.name, confidence=0.9),
        subject=Field(value=subject, confidence=0.85),
        signer_name=Field(value=spec.signer_name, confidence=0.8),
    )
    return Document(
        id=doc_id,
        source_name=f"{i:06d}.pdf",
        media_type="application/pdf",
        size_bytes=1,
        status=DocumentStatus.done,
        page_count=len(pages),
        metadata=meta,
        pages=pages,
    )


def build_corpus(n: int, seed: int) -> list[tuple]:
    """(document, trích yếu) pairs: `n` generated records and one per real seed text."""
    from corpus.content import DEFAULT_SEEDS_DIR, random_spec

    out = []
    for i in range(n):
        rng = random.Random(f"known-item:{seed}:{i}")
        spec = random_spec(rng, body_paragraphs=rng.randint(2, 6))
        doc = make_document(i, spec.subject, list(spec.body), spec, f"{seed}-{i:064d}"[-64:])
        out.append((doc, spec.subject))
    base = random_spec(random.Random(f"known-item:{seed}:real"), body_paragraphs=1)
    for k, path in enumerate(sorted(DEFAULT_SEEDS_DIR.glob("*.txt"))):
        lines = [nfc(x.strip()) for x in path.read_text(encoding="utf-8").splitlines()]
        lines = [x for x in lines if x]
        subject, body = lines[0], lines[1:]
        spec = replace(base, issued=date(2020, 1, 1 + k))
        i = n + k
        out.append((make_document(i, subject, body, spec, f"real-{i:064d}"[-64:]), subject))
    return out


def make_queries(corpus: list[tuple], seed: int) -> list[dict]:
    queries = []
    for i, (doc, subject) in enumerate(corpus):
        words = [fold(w.lower()) for w in tokens(nfc(subject))]
        rng = random.Random(f"known-item:{seed}:fragment:{i}")
        start = rng.randrange(max(1, len(words) - 2))
        fragment = " ".join(words[start : start + 3])
        half = "tune" if i % 2 == 0 else "held-out"
        for kind, q in (
            ("subject", " ".join(words)),
            ("fragment", fragment),
            ("phrase", f'"{fragment}"'),
        ):
            queries.append({"q": q, "kind": kind, "doc": doc.id, "half": half, "run": q})
    return queries


def answers(corpus: list[tuple]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Each document's trích yếu as spaced folded words, for the 'same trích yếu holds the
    query' rule."""
    spaced = {doc.id: f" {' '.join(fold(w.lower()) for w in tokens(s))} " for doc, s in corpus}
    return spaced, list(spaced.items())


def reciprocal_rank(hits: list[str], query: dict, spaced: dict[str, str]) -> float:
    words = " ".join(fold(w.lower()) for w in tokens(query["q"]))
    for rank, doc_id in enumerate(hits, 1):
        if doc_id == query["doc"] or f" {words} " in spaced[doc_id]:
            return 1.0 / rank
    return 0.0


def open_index(backend: str, work: Path, servers: dict):
    if backend == "sqlite":
        from search.sqlite import SqliteIndex

        return SqliteIndex(work / "known-item.sqlite3")
    from search.elastic import ElasticIndex

    return ElasticIndex(servers["SOHOA_SEARCH"], alias=f"bench-known-{uuid.uuid4().hex[:10]}")


def index_size(ix, backend: str, work: Path) -> int:
    if backend == "sqlite":
        return (work / "known-item.sqlite3").stat().st_size
    ix.client.indices.forcemerge(index=ix.alias, max_num_segments=1)
    stats = ix.client.indices.stats(index=ix.alias)
    return int(stats["_all"]["primaries"]["store"]["size_in_bytes"])


def drop(ix, backend: str) -> None:
    if backend == "elastic":
        for name in ix.client.indices.get(index=f"{ix.alias}-v*"):
            ix.client.indices.delete(index=name)
        ix.client.indices.delete_index_template(name=f"{ix.alias}-template")
    ix.close()


def run_backend(backend: str, corpus: list[tuple], queries: list[dict], servers: dict) -> dict:
    spaced, _ = answers(corpus)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ix = open_index(backend, work, servers)
        try:
            t0 = time.perf_counter()
            ix.index(doc for doc, _ in corpus)
            index_s = time.perf_counter() - t0
            size = index_size(ix, backend, work)
            for q in queries[:50]:  # warm-up: caches, the server's JIT
                ix.search(q["q"], viewer=ALL, limit=DEPTH)
            rows = []
            for q in queries:
                t0 = time.perf_counter()
                try:
                    results = ix.search(q["q"], viewer=ALL, limit=DEPTH)
                    hits = [h.doc_id for h in results.hits]
                except Exception as e:  # noqa: BLE001 - e.g. phrases on an old layout
                    hits = []
                    q = {**q, "error": f"{type(e).__name__}: {e}"[:200]}
                ms = (time.perf_counter() - t0) * 1000
                rows.append({**q, "rr": reciprocal_rank(hits, q, spaced), "ms": ms})
        finally:
            drop(ix, backend)
    return {"index_s": index_s, "index_bytes": size, "rows": rows}


def summarise(rows: list[dict]) -> dict:
    out: dict = {}
    for half in ("held-out", "tune"):
        for kind in KINDS:
            sel = [r for r in rows if r["half"] == half and r["kind"] == kind]
            if not sel:
                continue
            ms = sorted(r["ms"] for r in sel)
            out[f"{half}/{kind}"] = {
                "queries": len(sel),
                "mrr": statistics.fmean(r["rr"] for r in sel),
                "hits_at_1": sum(r["rr"] == 1.0 for r in sel) / len(sel),
                "p50_ms": ms[len(ms) // 2],
                "p95_ms": ms[min(len(ms) - 1, int(len(ms) * 0.95))],
                "errors": sum("error" in r for r in sel),
            }
    return out


def render(result: dict) -> str:
    lines = [
        f"corpus: {result['docs']} documents ({result['docs'] - 5} generated, 5 real seed texts), "
        f"seed {result['seed']}, code {result['code']}",
        "",
        "| backend | half | query | n | MRR | hits@1 | p50 ms | p95 ms | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, r in result["backends"].items():
        for key, s in r["summary"].items():
            half, kind = key.split("/")
            lines.append(
                f"| {backend} | {half} | {kind} | {s['queries']} | {s['mrr']:.3f} | "
                f"{s['hits_at_1']:.3f} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['errors']} |"
            )
    lines.append("")
    for backend, r in result["backends"].items():
        lines.append(
            f"{backend}: indexed in {r['index_s']:.1f} s, index {r['index_bytes'] / 2**20:.1f} MiB"
        )
    return "\n".join(lines)


def code_state() -> str:
    import subprocess

    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=REPO
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=2000, help="generated documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "elastic"])
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args(argv)
    corpus = build_corpus(args.docs, args.seed)
    queries = make_queries(corpus, args.seed)
    servers: dict = {}
    if "elastic" in args.backends:
        from services import servers_env  # bench/services.py: `scripts/services.sh up`

        servers = servers_env()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine_info(),
        "code": code_state(),
        "docs": len(corpus),
        "seed": args.seed,
        "backends": {},
    }
    for backend in args.backends:
        r = run_backend(backend, corpus, queries, servers)
        r["summary"] = summarise(r["rows"])
        result["backends"][backend] = r
    print(render(result))
    m = result["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, {m['ram']}, {m['os']}; {result['date']}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
