"""Brokers and worker pools: in-process (embedded default) or a server named by URL."""

from __future__ import annotations

import logging
import os

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Prometheus, default_middleware

from workers.actors import Actors, declare_actors
from workers.budget import limit_malloc_arenas
from workers.services import Services

log = logging.getLogger("sohoa.workers")


def configure_process() -> None:
    """Once, before any worker thread starts. (One core per Tesseract is set by the entry
    point at start-up: app.config.one_thread_per_tesseract.)"""
    limit_malloc_arenas()


def _middleware() -> list[dramatiq.Middleware]:
    """Dramatiq's defaults less Prometheus (it needs an exporter process), plus CurrentMessage."""
    chosen = [m() for m in default_middleware if m is not Prometheus]
    return [*chosen, CurrentMessage()]


def make_broker(url: str) -> dramatiq.Broker:
    if not url or url in ("stub", "memory", "embedded"):
        broker: dramatiq.Broker = StubBroker(middleware=_middleware())
    elif url.startswith("redis://"):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url, middleware=_middleware())
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, middleware=_middleware())
    else:
        raise ValueError(f"unknown broker URL {url!r} (use redis://, amqp:// or leave empty)")
    return broker


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
