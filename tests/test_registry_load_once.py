"""The organ registry is built once per process even when worker threads ask for it at the
same moment (issue 17: both threads of a fresh pool built the 38k-organ registry, ~0.2 s CPU
each)."""

from __future__ import annotations

import threading

from organs import registry as registry_module
from organs.registry import OrganRegistry


def test_threads_asking_at_once_share_one_registry() -> None:
    for cached in ("_load_once", "_load_cached"):  # the lru cache, on main and here
        clear = getattr(getattr(registry_module, cached, None), "cache_clear", None)
        if clear:
            clear()
    start, got = threading.Barrier(4), []

    def ask() -> None:
        start.wait()
        got.append(OrganRegistry.from_setting(""))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and len({id(r) for r in got}) == 1
