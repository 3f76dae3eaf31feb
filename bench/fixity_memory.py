"""`sohoa fixity` on the S3 server: does memory stay bounded when an original is large?
(docs/preservation.md, "Fixity"; docs/benchmarks.md).

Into a new bucket of the project's S3 server (scripts/services.sh up): one small born-digital
document ingested, then a large original (--mb of pseudo-random bytes) stored under its
SHA-256 with a record naming it. `sohoa fixity --all --json` runs in a fresh process twice:
before the large original is added (the peer, same run) and after. Peak RSS, CPU (user +
system) and wall time of each come from os.wait4; the machine may be shared: compare CPU.

    eval "$(scripts/services.sh up)"; .venv/bin/python -m bench.fixity_memory [--mb 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from corpus import make_documents, write_pdf_digital
from schemas.models import Document
from storage.keys import original_key
from storage.minio import MinioStore
from storage.records import RecordStore

ROOT = Path(__file__).resolve().parents[1]


def _run(env: dict[str, str], *args: str) -> dict[str, object]:
    """One `sohoa` process: its output, peak RSS (MB), CPU and wall seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit": proc.returncode,
        "out": out.decode(),
        "rss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": time.perf_counter() - started,
    }


def _big_original(folder: Path, mb: int) -> tuple[Path, str]:
    path = folder / "big.pdf"
    digest = hashlib.sha256()
    block = hashlib.sha512(b"sohoa").digest() * (1024 * 1024 // 64)
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n")
        digest.update(b"%PDF-1.7\n")
        for n in range(mb):
            chunk = n.to_bytes(8, "little") + block[8:]
            out.write(chunk)
            digest.update(chunk)
    return path, digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    storage = os.environ.get("SOHOA_STORAGE", "")
    if not storage.startswith("minio"):
        sys.exit('SOHOA_STORAGE is not an S3 server: eval "$(scripts/services.sh up)" first')
    bucket = f"fixity-bench-{uuid.uuid4().hex[:8]}"
    storage = storage.rsplit("/", 1)[0] + f"/{bucket}"
    with tempfile.TemporaryDirectory(prefix="sohoa-fixity-bench-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "SOHOA_STORAGE": storage, "SOHOA_DATA_DIR": str(work / "data")}
        env.pop("SOHOA_SEARCH", None)  # the embedded index: fixity reads only the store
        env.pop("SOHOA_BROKER", None)  # ingest in process: no worker is needed
        doc = make_documents(1, seed=5, pages=1)[0]
        small = write_pdf_digital(work / "small.pdf", doc.pages)
        print("ingesting one small document…", file=sys.stderr, flush=True)
        ingested = _run(env, "ingest", str(small), "--json", "--no-progress")
        small_id = json.loads(ingested["out"].splitlines()[0])["document_id"]
        before = _run(env, "fixity", "--all", "--json")
        store = MinioStore.from_url(storage)
        path, big_id = _big_original(work, args.mb)
        print(f"storing a {args.mb} MB original…", file=sys.stderr, flush=True)
        store.put_file(original_key(big_id), path)
        records = RecordStore(store)
        template = records.get(small_id)
        assert template is not None
        big = Document.model_validate(
            {
                **template.model_dump(),
                "id": big_id,
                "source_name": "big.pdf",
                "size_bytes": path.stat().st_size,
                "pdfa": None,
                "pages": [],
                "page_count": 0,
                "history": [],
            }
        )
        records.put(big)
        after = _run(env, "fixity", "--all", "--json")
    for name, run in (("small only (peer)", before), (f"+ {args.mb} MB original", after)):
        result = json.loads(str(run["out"]))
        mb_s = result["bytes"] / 1e6 / max(float(run["wall_s"]), 1e-6)
        print(
            f"{name:22} exit {run['exit']}  {result['objects']} objects"
            f" {result['bytes'] / 1e6:7.1f} MB"
            f"  peak RSS {run['rss_mb']:6.1f} MB  CPU {run['cpu_s']:5.1f} s"
            f"  wall {run['wall_s']:5.1f} s  ({mb_s:.0f} MB/s wall)"
        )
    print(f"bucket {bucket} (left on the server; remove it with the S3 client if wanted)")


if __name__ == "__main__":
    main()
