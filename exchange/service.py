"""One installation's exchange service, acting for any organ it hosts (DESIGN §6): a thin
facade over the parts that do the work.

messages.py   the one key layout in the ObjectStore (and `Book`, typed objects at those keys)
outbox.py     building, signing and sending envelopes; outbox entries and their delivery
inbox.py      receiving: verify, claim, import attachments, answer; rejections
statuses.py   the edXML status table; ledger.py: statuses in and out, and their order
business.py   what a revoke, update or replacement does to the earlier message
links.py      records <-> copies of one paper (DocumentId), derived files <-> records
access.py     API tokens, who may see a message, the public mark
ports.py      what the exchange needs from outside (records, who sees them, an ingest callable)

Whoever composes the installation builds it and hands in the ports (records, access, ingest).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO

from exchange import envelope_read, messages
from exchange.access import Access
from exchange.audit import AuditLog
from exchange.context import ExchangeContext, now
from exchange.inbox import Inbox
from exchange.ledger import Ledger
from exchange.links import Links
from exchange.models import (
    AccessDenied,
    Envelope,
    Kind,
    MessageState,
    OrganInfo,
    OrganToken,
    OutboxEntry,
    Receipt,
    StatusEntry,
)
from exchange.options import ExchangeOptions
from exchange.outbox import Outbox
from exchange.pki import PkiError, load_pem_certs
from exchange.ports import Ingest, RecordAccess, Records
from exchange.signing import KeyStore, OrganKeys
from exchange.statuses import Status
from exchange.transport import (
    HttpTransport,
    RoutedTransport,
    SharedStoreTransport,
    Transport,
    parse_peers,
)
from organs.registry import OrganRegistry
from schemas.models import Organ
from storage.base import ObjectStore


class Exchange:
    """Send, deliver, receive and answer edXML messages; who may see them."""

    def __init__(
        self,
        store: ObjectStore,
        records: Records,
        ingest: Ingest,
        options: ExchangeOptions | None = None,
        *,
        access: RecordAccess,
        registry: OrganRegistry | Callable[[], OrganRegistry] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.ctx = ExchangeContext.build(store, options or ExchangeOptions(), registry)
        self.transport: Transport = transport or self._default_transport()
        self.links = Links(self.ctx, records)
        self.ledger = Ledger(self.ctx, self.transport)
        self.access = Access(self.ctx)
        self.sending = Outbox(self.ctx, access, self.links, self.transport)
        self.receiving = Inbox(self.ctx, records, access, ingest, self.links, self.ledger)

    def _default_transport(self) -> Transport:
        """Organs on this installation through the store (this service receives); organs of
        peer installations (options.peers) over HTTP."""
        local = SharedStoreTransport(self)
        if not self.options.peers:
            return local
        return RoutedTransport(local, HttpTransport(parse_peers(self.options.peers)))

    @property
    def store(self) -> ObjectStore:
        return self.ctx.store

    @property
    def options(self) -> ExchangeOptions:
        return self.ctx.options

    @property
    def registry(self) -> OrganRegistry:
        return self.ctx.registry

    @property
    def keys(self) -> KeyStore:
        return self.ctx.keys

    @property
    def audit(self) -> AuditLog:
        return self.ctx.audit

    # ------------------------------------------------------------------ organs, keys, tokens

    def organ(self, organ_id: str) -> Organ:
        return self.ctx.organ(organ_id)

    def organ_info(self, organ_id: str) -> OrganInfo:
        return self.ctx.organ_info(organ_id)

    def create_keys(
        self, organ_id: str, *, reissue: bool = False, new_key: bool = False
    ) -> OrganKeys:
        """The organ's key and a certificate from the installation CA (pki.py)."""
        organ = self.organ(organ_id)
        existed = self.keys.has_key(organ_id) and self.store.exists(messages.cert(organ_id))
        reissue = reissue or new_key
        if (reissue or not existed) and not self.ctx.pki.has_ca():
            raise PkiError(
                "this installation has no CA to issue the certificate: run `sohoa pki init`, "
                f"or `sohoa exchange keys csr {organ_id}` for a CA elsewhere"
            )
        pair = self.keys.create(
            organ_id, organ.name, self.ctx.pki, reissue=reissue, new_key=new_key
        )
        if reissue or not existed:
            self.audit.append(
                organ_id, "keys", organ_id, note="certificate issued", serial=pair.serial
            )
        return pair

    def install_certificate(self, organ_id: str, pem: bytes) -> OrganKeys:
        """A certificate issued elsewhere for the organ's key (`keys csr`): installed only
        when it verifies here now (chain, validity, usage, revocation)."""
        self.organ(organ_id)
        cert = load_pem_certs(pem)[0] if pem.strip() else None
        if cert is None:
            raise PkiError("no certificate in the file")
        self.ctx.trust.check(
            cert,
            load_pem_certs(pem),
            sender=organ_id,
            signed_at=now().replace(microsecond=0),
            acting=organ_id,
            target=f"certificate:{organ_id}",
        )
        self.keys.install(organ_id, pem)
        pair = self.keys.keys(organ_id)
        self.audit.append(
            organ_id, "keys", organ_id, note="certificate installed", serial=pair.serial
        )
        return pair

    def issue_token(self, organ_id: str, name: str = "") -> str:
        return self.access.issue_token(organ_id, name)

    def tokens(self, organ_id: str) -> list[OrganToken]:
        return self.access.tokens(organ_id)

    def revoke_token(self, organ_id: str, name_or_digest: str) -> OrganToken:
        return self.access.revoke_token(organ_id, name_or_digest)

    def organ_for_token(self, token: str) -> str | None:
        return self.access.organ_for_token(token)

    # ------------------------------------------------------------------ sending

    def envelope_for_records(
        self,
        record_ids: list[str],
        sender: str,
        recipients: list[str],
        *,
        attach: str = "original",
        files: ExitStack | None = None,
        unrestricted: bool = False,
    ) -> Envelope:
        return self.sending.envelope_for_records(
            record_ids, sender, recipients, attach=attach, files=files, unrestricted=unrestricted
        )

    def seal(self, env: Envelope, *, sign_it: bool | None = None) -> bytes:
        return self.sending.seal(env, sign_it=sign_it)

    def build(self, record_ids: list[str], sender: str, recipients: list[str], **kw) -> Envelope:
        """Every record must be one `sender` sees (`unrestricted=True`: the operator, an
        admin); one it may not see is NotFound, as a missing id, and nothing is built."""
        return self.sending.build(record_ids, sender, recipients, **kw)

    def send(self, record_ids: list[str], sender: str, recipients: list[str], **kw) -> str:
        """build(), then one outbox entry per recipient (the same check on the records)."""
        return self.sending.send(record_ids, sender, recipients, **kw)

    def recall(self, message_id: str, as_organ: str, reason: str = "") -> str:
        """Send a revoke (kind 1) for an earlier message to all its recipients."""
        state = self.state(message_id)
        if state.sender != as_organ:
            raise AccessDenied(f"only the sender of message {message_id} can recall it")
        return self.send(
            [],
            as_organ,
            state.recipients,
            kind=Kind.revoke,
            responds_to=message_id,
            reason=reason or "recall",
        )

    def outbox(self, message_id: str) -> list[OutboxEntry]:
        return self.sending.entries(message_id)

    def deliver(self, message_id: str, recipient: str) -> OutboxEntry:
        return self.sending.deliver(message_id, recipient)

    def pending_deliveries(self) -> list[tuple[str, str]]:
        return self.sending.pending()

    def retry(self, message_id: str, as_organ: str) -> list[str]:
        return self.sending.retry(message_id, as_organ)

    def give_up(self, message_id: str, recipient: str, reason: str) -> None:
        self.sending.give_up(message_id, recipient, reason)

    # ------------------------------------------------------------------ receiving (Receiver)

    def receive(self, data: bytes | Path, as_organ: str) -> Receipt:
        return self.receiving.receive(data, as_organ)

    def receive_status(self, data: bytes, to_organ: str | None = None) -> StatusEntry:
        return self.ledger.receive_status(data, to_organ)

    # ------------------------------------------------------------------ statuses

    def statuses(self, message_id: str) -> list[StatusEntry]:
        return self.ledger.statuses(message_id)

    def latest_status(self, message_id: str, organ_id: str) -> Status | None:
        return self.ledger.latest_status(message_id, organ_id)

    def set_status(self, message_id: str, as_organ: str, code: Status, note: str = "") -> None:
        self.ledger.set_status(message_id, as_organ, code, note)

    # ------------------------------------------------------------------ queries and access

    def state(self, message_id: str) -> MessageState:
        return self.ctx.book.state(message_id)

    def resolve(self, prefix: str, organ_id: str | None = None) -> str:
        """The one message id starting with `prefix`: among every message (None: the
        operator), or among those organ `organ_id` may see (Access.resolve_visible)."""
        if organ_id is None:
            return self.ctx.book.resolve(prefix)
        return self.access.resolve_visible(prefix, organ_id)

    def envelope_bytes(self, message_id: str) -> bytes:
        """The stored message in memory (small messages; tests): prefer open_envelope."""
        return self.store.get_bytes(messages.envelope(message_id))

    def header(self, message_id: str) -> Envelope:
        """The stored message's header fields and its attachments' names, for people to read
        (the files are decoded into a temporary folder on the way and dropped)."""
        with (
            tempfile.TemporaryDirectory(prefix="sohoa-read-") as tmp,
            self.store.local_path(messages.envelope(message_id)) as stored,
        ):
            parsed = envelope_read.read_xml(stored, self.options.max_bytes, spool_dir=Path(tmp))
            env = envelope_read.envelope_from_tree(parsed.root, parsed)
        for attachment in env.attachments:
            attachment.path = None  # removed with the folder
        return env

    def open_envelope(self, message_id: str) -> BinaryIO:
        """The stored message as a stream (it can be as large as the exchange limit)."""
        return self.store.open(messages.envelope(message_id))

    def is_public(self, message_id: str) -> bool:
        return self.access.is_public(message_id)

    def require_visible(self, message_id: str, organ_id: str, action: str = "read") -> MessageState:
        return self.access.require_visible(message_id, organ_id, action)

    def make_public(self, message_id: str, as_organ: str) -> None:
        self.access.make_public(message_id, as_organ)

    def received(self) -> Iterator[tuple[str, Receipt]]:
        """(organ, receipt) of every message an organ here accepted (rejections keep none)."""
        for key in self.store.list(messages.INBOXES):
            found = messages.receipt_owner(key)
            receipt = self.ctx.book.get(key, Receipt) if found else None
            if found and receipt is not None and receipt.status == Status.accepted:
                yield found[0], receipt

    def receipt(self, message_id: str, organ_id: str) -> Receipt | None:
        return self.ctx.book.get(messages.receipt(organ_id, message_id), Receipt)

    def show(self, message_id: str, organ_id: str) -> dict[str, Any]:
        """What `organ_id` may know of a message: it, its statuses, its receipt; the sender
        also sees its outbox."""
        state = self.require_visible(message_id, organ_id)
        outbox = self.outbox(message_id) if organ_id == state.sender else []
        receipt = self.receipt(message_id, organ_id)
        return {
            "message": state.model_dump(mode="json"),
            "statuses": [s.model_dump(mode="json") for s in self.statuses(message_id)],
            "outbox": [e.model_dump(mode="json", exclude={"receipt"}) for e in outbox],
            "receipt": receipt.model_dump(mode="json") if receipt else None,
            "public": self.is_public(message_id),
        }

    def inbox(self, organ_id: str) -> list[MessageState]:
        self.organ(organ_id)
        self.audit.append(organ_id, "list", f"inbox/{organ_id}")
        return self.ctx.book.states(self.ctx.book.names(messages.inbox(organ_id)))

    def sent(self, organ_id: str) -> list[MessageState]:
        self.organ(organ_id)
        self.audit.append(organ_id, "list", f"sent/{organ_id}")
        return self.ctx.book.states(self.ctx.book.names(messages.sent_list(organ_id)))
