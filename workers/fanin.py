"""Counting a document's finished pages without asking the store after every page.

Each finished page adds one to its document's tally; the page that brings it to the total
recounts the page markers in the store once (they stay the truth: a crash or a redelivered
message can leave the tally off) and, when they agree, sends `assemble`. The tally lives where
every worker of the broker can reach it: in Redis beside a Redis broker, in this process for
the in-process broker. Other brokers have no tally: every page recounts the markers (one store
listing per page, still O(N) for N pages).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol, TypeGuard

import dramatiq
from dramatiq.brokers.stub import StubBroker

if TYPE_CHECKING:
    from dramatiq.brokers.redis import RedisBroker
    from redis import Redis

Counts = tuple[int, int]  # (pages done, pages in the document)


class PageTally(Protocol):
    def start(self, doc_id: str, done: int, total: int) -> None:
        """A run of the document begins with `done` of its `total` pages already stored."""
        ...

    def add(self, doc_id: str) -> Counts | None:
        """One more page finished: the counts after it, None when no run is known."""
        ...

    def peek(self, doc_id: str) -> Counts | None: ...


class LocalTally:
    """The in-process broker's tally: a locked dict, bounded (oldest documents forgotten:
    a forgotten document recounts its markers)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._counts: OrderedDict[str, list[int]] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def start(self, doc_id: str, done: int, total: int) -> None:
        with self._lock:
            self._counts[doc_id] = [done, total]
            self._counts.move_to_end(doc_id)
            while len(self._counts) > self._capacity:
                self._counts.popitem(last=False)

    def add(self, doc_id: str) -> Counts | None:
        with self._lock:
            counts = self._counts.get(doc_id)
            if counts is None:
                return None
            counts[0] += 1
            return counts[0], counts[1]

    def peek(self, doc_id: str) -> Counts | None:
        with self._lock:
            counts = self._counts.get(doc_id)
            return None if counts is None else (counts[0], counts[1])


# Adds one only to a tally that exists: a missing one (expired, flushed) must read as
# unknown, never restart at 1 (the document would then wait forever for its last pages).
_ADD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return {redis.call('HINCRBY', KEYS[1], 'done', 1), tonumber(redis.call('HGET', KEYS[1], 'total'))}
"""


class RedisTally:
    """A hash per document in the broker's Redis, kept a week after its last page."""

    TTL_S = 7 * 24 * 3600

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._add = client.register_script(_ADD)

    @staticmethod
    def _key(doc_id: str) -> str:
        return f"sohoa:pages:{doc_id}"

    def start(self, doc_id: str, done: int, total: int) -> None:
        key = self._key(doc_id)
        pipe = self._client.pipeline()
        pipe.hset(key, mapping={"done": done, "total": total})
        pipe.expire(key, self.TTL_S)
        pipe.execute()

    def add(self, doc_id: str) -> Counts | None:
        counts = self._add(keys=[self._key(doc_id)], args=[self.TTL_S])
        return None if counts is None else (int(counts[0]), int(counts[1]))

    def peek(self, doc_id: str) -> Counts | None:
        done, total = self._client.hmget(self._key(doc_id), "done", "total")
        return None if done is None or total is None else (int(done), int(total))


def tally_for(broker: dramatiq.Broker) -> PageTally | None:
    """The tally every worker on `broker` shares, or None when there is no such place."""
    if isinstance(broker, StubBroker):
        return LocalTally()
    if is_redis_broker(broker):
        return RedisTally(broker.client)
    return None


def is_redis_broker(broker: dramatiq.Broker) -> TypeGuard[RedisBroker]:
    """Whether `broker` is dramatiq's Redis broker, asked without importing redis (~0.13 s CPU
    at every `sohoa` start, most of them with no Redis): one exists only once its module is."""
    module = sys.modules.get("dramatiq.brokers.redis")
    return module is not None and isinstance(broker, module.RedisBroker)
