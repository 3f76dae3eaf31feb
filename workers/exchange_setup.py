"""An Exchange wired to this installation: its stored records, who may see them
(workers/access.py), and ingest (workers.submit) for the attachments it receives. Imported by
the actors, so nothing here imports the runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from exchange.service import Exchange
from exchange.transport import Transport
from organs.registry import OrganRegistry
from schemas.access import Viewer
from schemas.models import Document
from workers.access import reindex, require_visible
from workers.services import Services
from workers.submit import Submission, accept


class ExchangeIngest:
    """The exchange's ingest port: a received attachment is accepted as an original owned by
    the organ that received it, and its processing is queued with `enqueue`; without one (a
    CLI run with no worker), the new records wait in `pending` for the caller to process."""

    def __init__(self, services: Services, enqueue: Callable[[str], None] | None = None) -> None:
        self.services = services
        self.enqueue = enqueue
        self.pending: list[Submission] = []

    def __call__(self, path: Path, owner: str) -> Submission:
        sub = accept(self.services, path, owner=owner)
        if sub.error is None and sub.needs_work:
            if self.enqueue is not None:
                self.enqueue(sub.doc_id)
            else:
                self.pending.append(sub)
        return sub


class ExchangeRecordAccess:
    """The exchange's RecordAccess port: the one visibility check (workers/access.py) and the
    delivery grants (storage/access.py), the grant carried into the index at once."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def require_visible(self, prefix: str, organ_id: str | None) -> Document:
        viewer = Viewer.everything() if organ_id is None else Viewer.of_organ(organ_id)
        return require_visible(self.services, viewer, prefix)

    def deliver(self, doc_id: str, organ_id: str, message_id: str) -> bool:
        if not self.services.access.grant(doc_id, organ_id, "delivery", ref=message_id):
            return False
        for doc in self.services.records.readable([doc_id]):  # a failed import has none
            reindex(self.services, doc)
        return True


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
        access=ExchangeRecordAccess(services),
        registry=registry or services.organs,  # loaded on first use, not to build the exchange
        transport=transport,
    )
