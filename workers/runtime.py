"""Brokers and worker pools: in-process (embedded default) or a server named by URL."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from dramatiq.middleware import CurrentMessage, Prometheus, default_middleware

from workers.actors import QUEUE, Actors, declare_actors
from workers.budget import limit_malloc_arenas
from workers.fanin import is_redis_broker
from workers.services import Services

log = logging.getLogger("sohoa.workers")

# A worker process stamps dramatiq's heartbeat at least every second while it runs (its
# delayed-message consumer polls even when every thread is busy); older stamps are the dead.
HEARTBEAT_FRESH_S = 15.0


def configure_process() -> None:
    """Once, before any worker thread starts. (One core per Tesseract is set by the entry
    point at start-up: app.config.one_thread_per_tesseract.)"""
    limit_malloc_arenas()


def _middleware() -> list[dramatiq.Middleware]:
    """Dramatiq's defaults less Prometheus (it needs an exporter process), plus CurrentMessage."""
    chosen = [m() for m in default_middleware if m is not Prometheus]
    return [*chosen, CurrentMessage()]


def redacted(url: str) -> str:
    """A server URL as it may be shown: without its user name and password."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def make_broker(url: str) -> dramatiq.Broker:
    if not url or url in ("stub", "memory", "embedded"):
        broker: dramatiq.Broker = StubBroker(middleware=_middleware())
    elif url.startswith("redis://"):
        from dramatiq.brokers.redis import RedisBroker  # here: redis costs every `sohoa` start

        broker = RedisBroker(url=url, middleware=_middleware())
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, middleware=_middleware())
    else:
        raise ValueError(f"unknown broker URL {url!r} (use redis://, amqp:// or leave empty)")
    return broker


@dataclass(frozen=True)
class QueueLoad:
    """What is known of the work queue; None where the broker cannot say."""

    waiting: int | None  # messages queued, not yet taken by a worker
    delayed: int | None  # retries waiting for their time
    in_flight: int | None  # taken by a worker, not finished (prefetched ones included)
    busy: int | None  # worker threads running a message (this process's pool only)
    threads: int | None  # worker threads of this process's pool (None: it does not consume)
    workers_seen: int | None  # other worker processes with a fresh heartbeat (Redis)


class WorkerPool:
    """Actors on a broker plus worker threads consuming from it, started and stopped together."""

    def __init__(
        self,
        services: Services,
        broker_url: str = "",
        threads: int | None = None,
        *,
        consume: bool = True,
    ) -> None:
        configure_process()
        self.consume = consume
        self.broker_url = broker_url
        self.broker = make_broker(broker_url)
        self.actors: Actors = declare_actors(self.broker, services)
        self.threads = threads or os.cpu_count() or 1
        self._worker: dramatiq.Worker | None = None

    @property
    def embedded(self) -> bool:
        return isinstance(self.broker, StubBroker)

    def idle(self) -> bool:
        """No message queued, delayed or in flight (known only for the in-process broker)."""
        if not isinstance(self.broker, StubBroker):
            return False
        return all(q.unfinished_tasks == 0 for q in self.broker.queues.values())

    def worker_seen(self) -> bool | None:
        """Whether some worker consumes this broker's queues: this pool's own threads, or for
        Redis a fresh heartbeat of another process (dramatiq's `__heartbeats__` set, where
        each broker stamps its id on every call). None when the broker cannot say."""
        if self.consume and self._worker is not None:
            return True
        if not is_redis_broker(self.broker):
            return None
        fresh_ms = (time.time() - HEARTBEAT_FRESH_S) * 1000
        beats = self.broker.client.zrangebyscore(
            f"{self.broker.namespace}:__heartbeats__", fresh_ms, "+inf"
        )
        return any(beat.decode() != self.broker.broker_id for beat in beats)

    def load(self) -> QueueLoad:
        """The queue's length and how busy the workers are, as far as the broker tells:
        everything for the embedded pool, the queue for Redis, nothing for RabbitMQ."""
        if isinstance(self.broker, StubBroker):
            return self._embedded_load()
        if is_redis_broker(self.broker):
            return self._redis_load()
        return QueueLoad(None, None, None, None, None, None)

    def _embedded_load(self) -> QueueLoad:
        # A consumer moves messages from the broker's queue to the pool's work queue, from
        # which the worker threads take them.
        main, delay = self.broker.queues[QUEUE], self.broker.queues[dq_name(QUEUE)]
        work = self._worker.work_queue if self._worker is not None else None
        prefetched = work.qsize() if work is not None else 0
        busy = work.unfinished_tasks - prefetched if work is not None else 0
        return QueueLoad(
            waiting=main.qsize() + prefetched,
            delayed=delay.unfinished_tasks,
            in_flight=busy,  # every message taken from the work queue runs on a thread
            busy=busy,
            threads=self.threads if self._worker is not None else None,
            workers_seen=None,
        )

    def _redis_load(self) -> QueueLoad:
        """dramatiq's Redis layout: a list of waiting ids per queue, a hash of every message
        not yet acknowledged (waiting and taken), and the workers' heartbeats."""
        client, ns = self.broker.client, self.broker.namespace
        waiting = client.llen(f"{ns}:{QUEUE}")
        fresh_ms = (time.time() - HEARTBEAT_FRESH_S) * 1000
        beats = client.zrangebyscore(f"{ns}:__heartbeats__", fresh_ms, "+inf")
        return QueueLoad(
            waiting=waiting,
            delayed=client.hlen(f"{ns}:{dq_name(QUEUE)}.msgs"),
            in_flight=max(client.hlen(f"{ns}:{QUEUE}.msgs") - waiting, 0),
            busy=None,
            threads=None,
            workers_seen=sum(1 for b in beats if b.decode() != self.broker.broker_id),
        )

    def no_worker_message(self) -> str:
        return (
            f"no worker is consuming queue {QUEUE!r} on {redacted(self.broker_url)}; "
            "start one with 'sohoa worker'"
        )

    def start(self) -> WorkerPool:
        if not self.consume:
            return self
        self._worker = dramatiq.Worker(self.broker, worker_threads=self.threads, worker_timeout=100)
        self._worker.start()
        return self

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self.broker.close()

    def __enter__(self) -> WorkerPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
