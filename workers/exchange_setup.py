"""An Exchange wired to this installation: its stored records, and ingest (workers.submit)
for the attachments it receives. Imported by the actors, so nothing here imports the runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from exchange.service import Exchange
from exchange.transport import Transport
from organs.registry import OrganRegistry
from workers.services import Services
from workers.submit import Submission, accept


class ExchangeIngest:
    """The exchange's ingest port: a received attachment is accepted as an original, and its
    processing is queued with `enqueue`; without one (a CLI run with no worker), the new
    records wait in `pending` for the caller to process."""

    def __init__(self, services: Services, enqueue: Callable[[str], None] | None = None) -> None:
        self.services = services
        self.enqueue = enqueue
        self.pending: list[Submission] = []

    def __call__(self, path: Path) -> Submission:
        sub = accept(self.services, path)
        if sub.error is None and sub.needs_work:
            if self.enqueue is not None:
                self.enqueue(sub.doc_id)
            else:
                self.pending.append(sub)
        return sub


def build_exchange(
    services: Services,
    *,
    ingest: ExchangeIngest | None = None,
    enqueue: Callable[[str], None] | None = None,
    registry: OrganRegistry | None = None,
    transport: Transport | None = None,
) -> Exchange:
    """The exchange on `services` (its options, store and records); received attachments go
    to `ingest`, or to a new ExchangeIngest that queues them with `enqueue`."""
    return Exchange(
        services.store,
        services.records,
        ingest or ExchangeIngest(services, enqueue),
        services.exchange,
        registry=registry or services.organs(),
        transport=transport,
    )
