"""What the probable-duplicate lookup costs in the object store (issue 20), and whether fewer
LSH keys still find every rescan.

    scripts/services.sh up   # then, with its SOHOA_STORAGE exported:
    .venv/bin/python bench/duplicates_store.py [--docs 20] [--pages 8]

Two parts, both on the page fingerprints that bench/near_duplicates.py cached (its one-page
originals, four rescans each and a sibling of the same template: run it first):
- candidates: for each way of choosing a page's LSH keys, how many (original, rescan) pairs
  share a key (found for comparison: recall of the lookup), and how many same-template and
  other pairs do (compared for nothing: each costs a GET of the other's fingerprints);
- requests: `--docs` stored documents of `--pages` pages (pages of the cache), then one
  rescan of one of them looked up and stored, as `workers.duplicates.flag_duplicates` does,
  on the store of SOHOA_STORAGE (the S3 server of scripts/services.sh, else a local folder):
  requests per kind, wall and CPU seconds of that one document, for the keys of 61653fe
  (image and text bands of every page) and of now (text bands; image bands only for a page
  without text), one request at a time and REQUESTS_AT_ONCE at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.compose import build_store  # noqa: E402
from app.config import Settings  # noqa: E402
from pipeline.fingerprint import image_bands, text_bands  # noqa: E402
from storage.duplicates import (  # noqa: E402
    REQUESTS_AT_ONCE,
    DuplicateBook,
    Fingerprints,
    PageFingerprint,
)
from workers import duplicates  # noqa: E402

CACHE = REPO / "bench" / "out" / "near_duplicates-cache"
OUT = REPO / "bench" / "out" / "duplicates_store.json"
RESCANS = ("light+jpeg35", "heavy", "200dpi", "turned1.5+jpeg50")


def keys_then(prints: Fingerprints) -> dict[str, list[str]]:
    """The LSH keys of 61653fe: both kinds' bands of every page."""
    return {
        "image": [b for p in prints.pages if p.image for b in image_bands(p.image)],
        "text": [b for p in prints.pages if p.text for b in text_bands(p.text)],
    }


WAYS = {"61653fe: image + text bands": keys_then, "now: text bands": duplicates._bands}


def page(fp: dict, page_no: int = 1) -> PageFingerprint:
    return PageFingerprint(page_no=page_no, image=fp["image"], text=fp["text"])


def one_page(fp: dict) -> Fingerprints:
    return Fingerprints(doc_id="x", pages=[page(fp)])


def shared(way, a: dict, b: dict) -> bool:  # noqa: ANN001
    x, y = way(one_page(a)), way(one_page(b))
    return any(set(x[kind]) & set(y[kind]) for kind in x)


def candidates(docs: list[dict]) -> dict:
    found = {}
    for name, way in WAYS.items():
        pos = [shared(way, d["original"], d[r]) for d in docs for r in RESCANS]
        sib = [shared(way, d[s], d["sibling"]) for d in docs for s in ("original", *RESCANS)]
        other = [
            shared(way, a["original"], b["original"])
            for i, a in enumerate(docs)
            for b in docs[i + 1 :]
        ]
        found[name] = {
            "rescans found": f"{sum(pos)}/{len(pos)}",
            "same template compared": f"{sum(sib)}/{len(sib)}",
            "other compared": f"{sum(other)}/{len(other)}",
            "keys a page": sum(len(k) for k in way(one_page(docs[0]["original"])).values()),
        }
    return found


class Counted:
    """The store under a prefix of its own, every request counted by kind."""

    def __init__(self, store, prefix: str) -> None:  # noqa: ANN001
        self.store, self.prefix, self.requests = store, prefix, Counter()

    def put_bytes(self, key: str, data: bytes) -> None:
        self.requests["PUT"] += 1
        self.store.put_bytes(self.prefix + key, data)

    def create(self, key: str, data: bytes) -> bool:
        self.requests["PUT (create)"] += 1
        return self.store.create(self.prefix + key, data)

    def get_bytes(self, key: str) -> bytes:
        self.requests["GET"] += 1
        return self.store.get_bytes(self.prefix + key)

    def list(self, prefix: str):  # noqa: ANN201
        self.requests["LIST"] += 1
        return [k[len(self.prefix) :] for k in self.store.list(self.prefix + prefix)]

    def delete(self, key: str) -> None:
        self.requests["DELETE"] += 1
        self.store.delete(self.prefix + key)


def document(doc_id: str, fps: list[dict]) -> Fingerprints:
    pages = [page(fp, n) for n, fp in enumerate(fps, 1)]
    return Fingerprints(doc_id=doc_id, pages=pages)


def look_up_and_store(book: DuplicateBook, prints: Fingerprints, way) -> int:  # noqa: ANN001
    """What flag_duplicates does for one document, without the records: the candidates
    sharing a key, their fingerprints read and compared, the document's keys stored."""
    keys = way(prints)
    found: Counter[str] = Counter()
    for kind, bands in keys.items():
        found.update(book.sharing_bands(kind, bands))
    matches = 0
    for other, _ in found.most_common(duplicates.MAX_CANDIDATES + 1):
        old = book.fingerprints(other)
        if old is not None and duplicates.matching_pages(prints, old):
            matches += 1
    book.put_fingerprints(prints, keys)
    return matches


def requests(docs: list[dict], stored: int, pages: int) -> dict:
    settings = Settings()
    store = build_store(settings)
    run = uuid.uuid4().hex[:8]
    originals = [d["original"] for d in docs]
    found = {}
    for name, way in WAYS.items():
        for at_once in (1, REQUESTS_AT_ONCE):
            counted = Counted(store, f"bench-duplicates/{run}/{len(found)}/")
            book = DuplicateBook(counted, at_once=at_once)
            for i in range(stored):  # documents of `pages` pages, taken round the cache
                fps = [originals[(i * pages + j) % len(originals)] for j in range(pages)]
                book.put_fingerprints(document(f"{i:064x}", fps), way(document("", fps)))
            counted.requests.clear()
            rescan = [docs[j % len(docs)]["heavy"] for j in range(pages)]  # of document 0
            wall, cpu = time.perf_counter(), time.process_time()
            matched = look_up_and_store(book, document("f" * 64, rescan), way)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            found[f"{name}, {at_once} at a time"] = {
                "requests": dict(counted.requests),
                "total": sum(counted.requests.values()),
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "documents matched": matched,
            }
    return {"store": settings.storage.split("@")[-1] or "folder", "results": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=20, help="documents stored before")
    parser.add_argument("--pages", type=int, default=8, help="pages a document")
    args = parser.parse_args()
    docs = [json.loads(f.read_text()) for f in sorted(CACHE.glob("*.json"))]
    if not docs:
        sys.exit(f"no fingerprints in {CACHE}: run bench/near_duplicates.py first")
    if not os.environ.get("SOHOA_STORAGE"):
        os.environ["SOHOA_DATA_DIR"] = tempfile.mkdtemp(prefix="sohoa-bench-dup-")
    report = {
        "when": datetime.now(UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}",
        "documents in the cache": len(docs),
        "candidates": candidates(docs),
        "requests for one document": requests(docs, args.docs, args.pages),
        "load after": os.getloadavg(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
