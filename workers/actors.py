"""Thin Dramatiq actors, declared on a broker handed in (never one created on import)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dramatiq
from dramatiq.middleware import CurrentMessage

from schemas.errors import SohoaError
from workers.fanin import PageTally, tally_for
from workers.services import Services

if TYPE_CHECKING:
    from exchange.service import Exchange

MAX_RETRIES = 3
OCR_TIME_LIMIT_MS = 15 * 60 * 1000
QUEUE = "sohoa"


def _is_last_try() -> bool:
    message = CurrentMessage.get_current_message()
    return message is None or message.options.get("retries", 0) >= MAX_RETRIES


def _is_retry() -> bool:
    message = CurrentMessage.get_current_message()
    return message is not None and message.options.get("retries", 0) > 0


def _message_id() -> str:
    """The running message's id: the same for its retries and redeliveries."""
    message = CurrentMessage.get_current_message()
    return message.message_id if message is not None else uuid.uuid4().hex


def _retry_when(retries: int, exception: Exception) -> bool:
    return retries < MAX_RETRIES and (not isinstance(exception, SohoaError) or exception.retryable)


@dataclass
class Actors:
    ingest: dramatiq.Actor
    ocr_page: dramatiq.Actor
    assemble: dramatiq.Actor
    index: dramatiq.Actor
    # Finished pages per document, shared by every worker of the broker (None: not shared).
    tally: PageTally | None = None
    exchange_deliver: dramatiq.Actor | None = None


def declare_actors(broker: dramatiq.Broker, services: Services) -> Actors:
    """Bind the pipeline's actors to `broker`, working against `services`."""
    # Imported here: the tasks bring the whole page pipeline (OpenCV...), which a `sohoa`
    # command that only needs QUEUE or a WorkerPool's type should not pay for at start-up.
    from workers import tasks

    options = {
        "broker": broker,
        "queue_name": QUEUE,
        "max_retries": MAX_RETRIES,
        "min_backoff": 1000,
        "max_backoff": 30000,
        "retry_when": _retry_when,
        # After the last retry the message goes to the broker's dead-letter queue, and the
        # document is marked failed with the reason, so no batch waits forever.
        "on_retry_exhausted": "sohoa.give_up",
    }

    def send_page(doc_id: str, page_no: int, dpi: int) -> None:
        actors.ocr_page.send(doc_id, page_no, dpi)

    def ingest(doc_id: str) -> None:
        tasks.start_document(services, doc_id, send_page, actors.assemble.send, actors.tally)

    def ocr_page(doc_id: str, page_no: int, dpi: int) -> None:
        tasks.ocr_one_page(services, doc_id, page_no, dpi, last_try=_is_last_try())
        if tasks.last_page_finished(services, actors.tally, doc_id, recount=_is_retry()):
            actors.assemble.send(doc_id)

    def assemble(doc_id: str) -> None:
        tasks.assemble_document(services, doc_id, actors.index.send, claim=_message_id())

    def index(doc_id: str) -> None:
        tasks.index_document(services, doc_id)

    def give_up(message: dict, info: dict) -> None:
        tasks.give_up(services, message["args"][0], message["actor_name"], message["options"])

    dramatiq.actor(
        give_up, actor_name="sohoa.give_up", broker=broker, queue_name=QUEUE, max_retries=0
    )
    actors = Actors(
        ingest=dramatiq.actor(ingest, actor_name="sohoa.ingest", **options),
        ocr_page=dramatiq.actor(
            ocr_page, actor_name="sohoa.ocr_page", time_limit=OCR_TIME_LIMIT_MS, **options
        ),
        assemble=dramatiq.actor(assemble, actor_name="sohoa.assemble", **options),
        index=dramatiq.actor(index, actor_name="sohoa.index", **options),
        tally=tally_for(broker),
    )
    actors.exchange_deliver = _declare_exchange(broker, services, actors)
    return actors


def _exchange_retry_when(retries: int, exception: Exception, limit: int) -> bool:
    return retries < limit and isinstance(exception, SohoaError) and exception.retryable


def _declare_exchange(
    broker: dramatiq.Broker, services: Services, actors: Actors
) -> dramatiq.Actor:
    """The exchange outbox: one message per (message, recipient), retried with backoff while
    the recipient cannot be reached; marked failed when retries run out."""
    from workers.exchange_setup import build_exchange  # on first use, as the exchange itself

    options = services.exchange
    made: list[Exchange] = []

    def exchange() -> Exchange:  # built on first use: keys and registry load lazily
        if not made:
            made.append(build_exchange(services, enqueue=actors.ingest.send))
        return made[0]

    def deliver(message_id: str, recipient: str) -> None:
        exchange().deliver(message_id, recipient)

    def give_up(message: dict, info: dict) -> None:
        trace = (message["options"].get("traceback") or "").strip().splitlines()
        message_id, recipient = message["args"][:2]
        exchange().give_up(message_id, recipient, trace[-1] if trace else "retries exhausted")

    dramatiq.actor(
        give_up,
        actor_name="sohoa.exchange_give_up",
        broker=broker,
        queue_name=QUEUE,
        max_retries=0,
    )
    return dramatiq.actor(
        deliver,
        actor_name="sohoa.exchange_deliver",
        broker=broker,
        queue_name=QUEUE,
        max_retries=options.max_retries,
        min_backoff=options.retry_min_backoff_ms,
        max_backoff=options.retry_max_backoff_ms,
        retry_when=lambda retries, e: _exchange_retry_when(retries, e, options.max_retries),
        on_retry_exhausted="sohoa.exchange_give_up",
    )
