"""CPU per born-digital page by actor, and `accept` of known bytes, without the worker pool
(issue 17; hand-run beside bench/born_digital.py, which times the whole path).

Each document's actors run one after the other in this process (start, assemble, index), so
CPU time (time.process_time) is split by actor without thread-seconds inflated by other jobs;
then every file is accepted again 6 times (all must be 'reused', no page read again). Run it
over two trees in turn on the same load to compare code, e.g.::

    .venv/bin/python bench/born_digital.py --runs 1 --no-docs --skip-ocrmypdf   # makes inputs
    for tree in /tmp/base .; do .venv/bin/python bench/born_actors.py --tree $tree; done
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tree", type=Path, default=REPO, help="the sohoa source tree to measure")
    p.add_argument(
        "--inputs", type=Path, default=REPO / "bench" / "out" / "born_digital" / "inputs"
    )
    p.add_argument("--again", type=int, default=6, help="times each known file is accepted")
    p.add_argument(
        "--profile", type=Path, help="write a cProfile (CPU-time clock) of the three actors here"
    )
    args = p.parse_args(argv)
    sys.path.insert(0, str(args.tree.resolve()))
    from app.compose import build_services
    from app.config import Settings
    from workers import tasks
    from workers.submit import accept

    logging.basicConfig(level=logging.WARNING)
    paths = sorted(args.inputs.glob("*.pdf"))
    with tempfile.TemporaryDirectory(prefix="sohoa-born-actors-") as tmp:
        settings = Settings(data_dir=Path(tmp), storage="", search="", broker="", workers=1)
        services = build_services(settings)
        ids = [accept(services, path).doc_id for path in paths]
        registry_ms = 0.0
        if hasattr(services, "organs"):  # older trees have no registry
            t = time.process_time()
            services.organs()  # loaded before the actors' timing, once, as in a worker
            registry_ms = (time.process_time() - t) * 1000
        cpu = {"start": 0.0, "assemble": 0.0, "index": 0.0}
        index_wall = 0.0
        duplicates = _timed(tasks, "flag_duplicates")  # inside the index actor
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        if profiler is not None:
            profiler.enable()
        for doc_id in ids:
            t = time.process_time()
            tasks.start_document(services, doc_id, lambda *a: None, lambda *a: None)
            cpu["start"] += time.process_time() - t
            t = time.process_time()
            tasks.assemble_document(services, doc_id, lambda *a: None, "bench")
            cpu["assemble"] += time.process_time() - t
            t, wall = time.process_time(), time.perf_counter()
            tasks.index_document(services, doc_id)
            cpu["index"] += time.process_time() - t
            index_wall += time.perf_counter() - wall  # the parts' records' syncs show here
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(args.profile))
        pages = sum(services.records.require(d).page_count for d in ids)
        took = []
        for _ in range(args.again):
            for path in paths:
                t = time.perf_counter()
                sub = accept(services, path)
                took.append((time.perf_counter() - t) * 1000)
                assert sub.outcome == "reused", (path, sub.outcome, sub.error)
    load = Path("/proc/loadavg").read_text().split()[0]
    by_actor = ", ".join(f"{k} {v / pages * 1000:.1f}" for k, v in cpu.items())
    print(
        f"{args.tree}: {pages} pages, CPU {sum(cpu.values()) / pages * 1000:.1f} ms/page"
        f" ({by_actor}; index wall {index_wall / pages * 1000:.1f}; of index: near-duplicates"
        f" {duplicates[0] / pages * 1000:.1f}, wall {duplicates[1] / pages * 1000:.1f});"
        f" registry load {registry_ms:.0f} ms CPU once;"
        f" accept of known bytes median {statistics.median(took):.1f} ms,"
        f" max {max(took):.1f} ms (wall); load average {load}"
    )
    return 0


def _timed(module: object, name: str) -> list[float]:
    """Wrap `module.name` so that its CPU and wall seconds add up in the list returned."""
    spent = [0.0, 0.0]
    inner = getattr(module, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - cpu
            spent[1] += time.perf_counter() - wall

    setattr(module, name, wrapper)
    return spent


if __name__ == "__main__":
    sys.exit(main())
