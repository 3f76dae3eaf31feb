"""Counting failed logins in memory, in bounded memory: a table of at most `capacity` keys (a
client address, a login name that names no user), the least recently counted one forgotten
first when a new key arrives. An attacker who varies the key (names, addresses) therefore
costs a fixed amount of memory and nothing on disk; the price is that a key evicted by
`capacity` newer ones starts again from zero, which needs `capacity` attempts from elsewhere
(and those are counted too).

Two rules, one table each:
- `Window`: at most `limit` failures per key in a window that opens at its first failure
  (per client address: POST /login, app/auth.py).
- `InARow`: the account store's rule for login names (accounts/service.py), kept for names
  that are no user, so that they lock exactly as a user's name does and their state is never
  written anywhere: `limit` failures in a row, then refused until `lock_s` after the last.
Both are per process; thread-safe (logins run in the thread pool).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

Clock = Callable[[], float]


class _Table:
    """key -> (count, a time): an OrderedDict in least-recently-counted order, at most
    `capacity` long; `limit` attempts per key, `seconds` as the rule below says."""

    def __init__(
        self, limit: int, seconds: float, capacity: int, clock: Clock = time.monotonic
    ) -> None:
        self.limit, self.seconds = limit, seconds
        self.capacity = max(1, capacity)
        self.clock = clock
        self.rows: OrderedDict[Hashable, tuple[int, float]] = OrderedDict()
        self.lock = threading.Lock()

    def put(self, key: Hashable, row: tuple[int, float]) -> None:
        self.rows[key] = row
        self.rows.move_to_end(key)
        while len(self.rows) > self.capacity:
            self.rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self.rows)


def _seconds(delta: float) -> int:
    """A wait as the whole seconds of a Retry-After header (never 0 while refused)."""
    return max(1, math.ceil(delta))


class Window(_Table):
    """At most `limit` counted attempts per key in `seconds` from its first one."""

    def take(self, key: Hashable) -> int | None:
        """Count an attempt before it is checked: None when allowed, else the seconds to wait
        (and nothing counted). Counting first means parallel guesses cannot all get through."""
        with self.lock:
            now = self.clock()
            count, since = self.rows.get(key, (0, now))
            if now - since >= self.seconds:
                count, since = 0, now
            if count >= self.limit:
                return _seconds(since + self.seconds - now)
            self.put(key, (count + 1, since))
            return None

    def give_back(self, key: Hashable) -> None:
        """The attempt `take` counted succeeded: it is not a failure."""
        with self.lock:
            count, since = self.rows.get(key, (0, 0.0))
            if count > 1:
                self.rows[key] = (count - 1, since)
            else:
                self.rows.pop(key, None)


class InARow(_Table):
    """`limit` attempts in a row per key, then refused until `seconds` after the last one; the
    next attempt after that starts a new row (accounts/service.py's rounds, in memory)."""

    def take(self, key: Hashable) -> int | None:
        """Count an attempt: None when allowed, else the seconds to wait."""
        with self.lock:
            now = self.clock()
            count, last = self.rows.get(key, (0, now))
            if count >= self.limit:
                if last + self.seconds > now:  # the store's rounds count the wait so: alike
                    return int(last + self.seconds - now) + 1
                count = 0
            self.put(key, (count + 1, now))
            return None
