"""Exchange use cases that need workers running: deliver a message and wait for the outcome,
resume what a stopped run left in the outbox, receive a file and process its new records; and
the migration that turns past deliveries into visibility grants."""

from __future__ import annotations

import time
from pathlib import Path

from exchange import messages
from exchange.models import OutboxEntry, Receipt
from exchange.service import Exchange
from organs.registry import OrganRegistry
from workers.batch import enqueue, wait_for
from workers.exchange_setup import ExchangeIngest, ExchangeRecordAccess, build_exchange
from workers.runtime import WorkerPool
from workers.services import Services

DELIVERY_WAIT_S = 300.0


def queue_deliveries(pool: WorkerPool, message_id: str, recipients: list[str]) -> None:
    """One delivery message per recipient (the actor retries with backoff, then gives up)."""
    for recipient in recipients:
        pool.actors.exchange_deliver.send(message_id, recipient)


def resume_deliveries(services: Services, pool: WorkerPool) -> int:
    """Outbox entries a stopped run left pending go out again (the receiver deduplicates);
    returns how many."""
    if pool.actors.exchange_deliver is None or not any(services.store.list(messages.outbox())):
        return 0  # no outbox at all: no exchange to build (keys, registry, audit log)
    pending = build_exchange(services).pending_deliveries()
    for message_id, recipient in pending:
        queue_deliveries(pool, message_id, [recipient])
    return len(pending)


def deliver_and_wait(
    exchange: Exchange,
    services: Services,
    broker: str,
    workers: int,
    message_id: str,
    recipients: list[str],
    *,
    wait: bool,
) -> list[OutboxEntry]:
    """Queue one delivery per recipient. On the embedded broker (or with `wait`) wait until
    none is pending (at most DELIVERY_WAIT_S); the outbox entries as they then stand."""
    with WorkerPool(services, broker, workers, consume=not broker) as pool:
        queue_deliveries(pool, message_id, recipients)
        if broker and not wait:
            return exchange.outbox(message_id)
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while time.monotonic() < deadline:
            entries = exchange.outbox(message_id)
            settled = all(e.state.settled for e in entries)
            if settled and (not pool.embedded or pool.idle()):
                return entries
            time.sleep(0.1)
    return exchange.outbox(message_id)


def receive_file(
    services: Services,
    registry: OrganRegistry,
    broker: str,
    workers: int,
    path: Path,
    as_organ: str,
) -> Receipt:
    """Receive one envelope file; records made from its unknown attachments then go through
    the pipeline as ingest does (waited for on the embedded broker)."""
    ingest = ExchangeIngest(services)
    receipt = build_exchange(services, ingest=ingest, registry=registry).receive(path, as_organ)
    if ingest.pending:
        with WorkerPool(services, broker, workers, consume=not broker) as pool:
            enqueue(pool, ingest.pending)
            if not broker:
                wait_for(services, pool, ingest.pending, None)
    return receipt


def grant_past_deliveries(services: Services, exchange: Exchange) -> int:
    """Existing installations (`sohoa migrate`): every record an organ here received before
    deliveries were grants becomes visible to it, as a delivery now does (exchange/inbox.py).
    Rejected envelopes kept no receipt, so they grant nothing. Safe to run again; returns how
    many grants were new."""
    access = ExchangeRecordAccess(services)
    granted = 0
    for organ_id, receipt in exchange.received():
        records = dict.fromkeys(a.record_id for a in receipt.attachments if a.record_id)
        for record_id in records:
            granted += access.deliver(record_id, organ_id, receipt.message_id)
    return granted
