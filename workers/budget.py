"""How many pixels of page images one worker process holds at once (docs/limits.md).

Each worker thread decodes a page and makes a few working copies of it; two threads on two of
the largest pages would need twice the memory of one. Pages are admitted in arrival order while
their pixels fit in the budget: ordinary pages run side by side, a page near the pixel limit
runs alone, so the process's peak memory is set by one largest page, whatever the number of
worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
            with self._changed:
                self._used_px -= pixels
                self._changed.notify_all()
