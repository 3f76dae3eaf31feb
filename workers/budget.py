"""How many pixels of page images one worker process holds at once (docs/limits.md).

Each worker thread decodes a page and makes a few working copies of it; two threads on two of
the largest pages would need twice the memory of one. Pages are admitted in arrival order while
their pixels fit in the budget: ordinary pages run side by side, a page near the pixel limit
runs alone, so the process's peak memory is set by one largest page, whatever the number of
worker threads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _libc_function(name: str) -> ctypes._CFuncPtr | None:
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return None


_MALLOC_TRIM = _libc_function("malloc_trim")
_MALLOPT = _libc_function("mallopt")
M_ARENA_MAX = -8  # glibc's malloc.h
# Heaps glibc may keep for the threads of one process (its default is 8 a core). Each arena
# reserves address space and keeps its own freed blocks: a 139 Mpx CMYK page, a float TIFF and
# an A4 PDF on two workers peaked at 2.68 GB virtual with the default, 2.41 GB with this call
# (2.05 GB with MALLOC_ARENA_MAX=2 set before start), 1.77 GB resident either way: headroom
# under an address-space limit (RLIMIT_AS counts reserved arenas), not a resident saving.
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """Once, before the worker threads start (arenas made before stay)."""
    if _MALLOPT is not None:
        _MALLOPT(M_ARENA_MAX, MALLOC_ARENAS)


def release_freed_memory() -> None:
    """Hand memory freed by a finished page back to the system. glibc keeps freed blocks in the
    arena of the thread that used them, so without this each worker thread kept the peak of
    the largest page it had seen: five 140 Mpx pages on two threads peaked at 3.0 GiB, 2.0 GiB
    with this, 1.9 GiB for one such page alone (docs/limits.md)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class PixelBudget:
    def __init__(self, capacity_px: int) -> None:
        self.capacity_px = capacity_px
        self._used_px = 0
        self._next_ticket = 0
        self._serving = 0  # first come, first served: a large page is not overtaken forever
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        pixels = min(max(pixels, 0), self.capacity_px)
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._changed.wait_for(
                lambda: self._serving == ticket and self._used_px + pixels <= self.capacity_px
            )
            self._used_px += pixels
            self._serving += 1
            self._changed.notify_all()
        try:
            yield
        finally:
            release_freed_memory()
            with self._changed:
                self._used_px -= pixels
                self._changed.notify_all()
