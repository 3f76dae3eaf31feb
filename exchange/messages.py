"""Where the exchange keeps everything in the ObjectStore: the ONE key layout (DESIGN §6).

Every object is JSON or XML in the store, so the same code runs on a local folder and on S3.
Nothing else builds an `exchange/…` key: call the function that names the object::

    exchange/messages/<id>/envelope.edxml       envelope(): the signed message, as sent
    exchange/messages/<id>/state.json           state(): MessageState (who, what, which records)
    exchange/messages/<id>/status/<t>-….json    status_entry(): one StatusEntry per status
    exchange/messages/<id>/status-seen/<c14n sha256>.json   status_seen(): a status received
    exchange/outbox/<id>/<recipient>.json       outbox_entry(): attempts, last error, receipt
    exchange/inbox/<organ>/<id>.json            receipt(): the receiver's dedupe marker
    exchange/inbox/<organ>/<id>.claim           claim(): one receiver at a time
    exchange/sent/<organ>/<id>.json             sent(): the sender's list
    exchange/public/<id>.json                   public(): marked public by its sender
    exchange/docids/<hash>/<record id>.json     copy_link(): copies of one paper (DocumentId)
    exchange/hashes/<sha256>.json               derived_link(): derived files -> their record
    exchange/tokens/<sha256 of token>.json      token(): API tokens -> organ, name, last use
    exchange/certs/<organ>.pem                  cert(): organ certificates (signing.py)
    exchange/pki/anchors/<sha256>.pem           anchor(): trusted roots (pki.py)
    exchange/pki/ca.pem                         PKI_CA: the installation's issuing CA certificate
    exchange/pki/cas/<sha256>.pem               ca_cert(): other CAs' issuing CAs, under anchors
    exchange/pki/crls/<issuer hash>.crl         crl(): the CRL of each issuer (DER)
    exchange/pki/issued/<serial>.json           issued(): what the installation CA issued
    exchange/pki/revoked/<serial>.json          revoked(): its revocations (the CRL source)
    exchange/audit/<seq>.json …                 AUDIT_*: the hash-chained audit log (audit.py)
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeVar

from pydantic import BaseModel

from exchange.models import MessageState
from schemas.errors import NotFound
from storage.base import ObjectStore

ROOT = "exchange/"
MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")

M = TypeVar("M", bound=BaseModel)

AUDIT_ENTRIES = f"{ROOT}audit/"
AUDIT_CHECKPOINTS = f"{ROOT}audit-checkpoints/"
AUDIT_KEY = f"{ROOT}audit-key.pem"  # the audit key's public half, for every verifier


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------ one message


def message(message_id: str) -> str:
    """The folder of one message; with a prefix of an id, the folders it may start."""
    return f"{ROOT}messages/{message_id}"


def message_id_of(key: str) -> str:
    """The message id in a key under message()."""
    return key.removeprefix(f"{ROOT}messages/").split("/", 1)[0]


def envelope(message_id: str) -> str:
    return f"{message(message_id)}/envelope.edxml"


def state(message_id: str) -> str:
    return f"{message(message_id)}/state.json"


def statuses(message_id: str) -> str:
    return f"{message(message_id)}/status/"


def status_entry(message_id: str, name: str) -> str:
    return f"{statuses(message_id)}{name}.json"


def status_seen(message_id: str, digest: str) -> str:
    return f"{message(message_id)}/status-seen/{digest}.json"


# ------------------------------------------------------------------ sending and receiving


def outbox(message_id: str = "") -> str:
    """Every outbox entry; with a message id, that message's entries."""
    return f"{ROOT}outbox/{message_id}/" if message_id else f"{ROOT}outbox/"


def outbox_entry(message_id: str, recipient: str) -> str:
    return f"{outbox(message_id)}{recipient}.json"


INBOXES = f"{ROOT}inbox/"


def inbox(organ_id: str) -> str:
    return f"{INBOXES}{organ_id}/"


def receipt_owner(key: str) -> tuple[str, str] | None:
    """(organ, message id) of a receipt key under INBOXES; None for a claim or anything else."""
    organ, _, name = key.removeprefix(INBOXES).partition("/")
    message_id = name.removesuffix(".json")
    return (organ, message_id) if name.endswith(".json") and MESSAGE_ID.match(message_id) else None


def receipt(organ_id: str, message_id: str) -> str:
    return f"{inbox(organ_id)}{message_id}.json"


def claim(organ_id: str, message_id: str) -> str:
    return f"{inbox(organ_id)}{message_id}.claim"


def sent_list(organ_id: str) -> str:
    return f"{ROOT}sent/{organ_id}/"


def sent(organ_id: str, message_id: str) -> str:
    return f"{sent_list(organ_id)}{message_id}.json"


def public(message_id: str) -> str:
    return f"{ROOT}public/{message_id}.json"


# ------------------------------------------------------------------ records, tokens, keys


def copies(document_id: str) -> str:
    """The records that are copies of one paper (its DocumentId, hashed: it holds slashes)."""
    return f"{ROOT}docids/{_sha256(document_id)[:40]}/"


def copy_link(document_id: str, record_id: str) -> str:
    return f"{copies(document_id)}{record_id}.json"


def derived_link(sha256: str) -> str:
    """A derived file (a searchable PDF sent as an attachment) -> the record it came from."""
    return f"{ROOT}hashes/{sha256}.json"


def tokens() -> str:
    """Every organ API token (each named by its hash)."""
    return f"{ROOT}tokens/"


def token(value: str) -> str:
    """Only the token's hash is stored."""
    return token_by_digest(_sha256(value))


def token_by_digest(digest: str) -> str:
    return f"{tokens()}{digest}.json"


def cert(organ_id: str) -> str:
    return f"{ROOT}certs/{organ_id}.pem"


PKI = f"{ROOT}pki/"
PKI_CA = f"{PKI}ca.pem"
ANCHORS = f"{PKI}anchors/"
CAS = f"{PKI}cas/"
CRLS = f"{PKI}crls/"
ISSUED = f"{PKI}issued/"
REVOKED = f"{PKI}revoked/"


def anchor(sha256: str) -> str:
    return f"{ANCHORS}{sha256}.pem"


def ca_cert(sha256: str) -> str:
    return f"{CAS}{sha256}.pem"


def crl(issuer_hash: str) -> str:
    return f"{CRLS}{issuer_hash}.crl"


def issued(serial_hex: str) -> str:
    return f"{ISSUED}{serial_hex}.json"


def revoked(serial_hex: str) -> str:
    return f"{REVOKED}{serial_hex}.json"


def name_of(key: str) -> str:
    """The last part of a key without `.json`: a message id, a recipient, a record id."""
    return key.rsplit("/", 1)[-1].removesuffix(".json")


class Book:
    """Typed objects at the keys above (pydantic models as JSON; markers as `{}`)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def put(self, key: str, model: BaseModel) -> None:
        self.store.put_bytes(key, model.model_dump_json().encode())

    def get(self, key: str, cls: type[M]) -> M | None:
        try:
            return cls.model_validate_json(self.store.get_bytes(key))
        except NotFound:
            return None

    def mark(self, key: str) -> None:
        self.store.put_bytes(key, b"{}")

    def exists(self, key: str) -> bool:
        return self.store.exists(key)

    def names(self, prefix: str) -> list[str]:
        return [name_of(k) for k in self.store.list(prefix)]

    def state(self, message_id: str) -> MessageState:
        found = self.get(state(message_id), MessageState)
        if found is None:
            raise NotFound(f"no message {message_id}")
        return found

    def states(self, message_ids: list[str]) -> list[MessageState]:
        """The messages of a list that are known here (a list can name one not stored yet)."""
        return [s for m in message_ids if (s := self.get(state(m), MessageState))]

    def resolve(self, prefix: str) -> str:
        """The one message id that starts with `prefix`."""
        prefix = prefix.strip().lower()
        if MESSAGE_ID.match(prefix):
            return prefix
        return one_message(prefix, self.matching(prefix))

    def matching(self, prefix: str) -> list[str]:
        """The stored message ids that start with `prefix` (stripped, lower case), sorted."""
        prefix = prefix.strip().lower()
        found = {message_id_of(k) for k in self.store.list(message(prefix))}
        return sorted(m for m in found if m.startswith(prefix))


def one_message(prefix: str, found: list[str]) -> str:
    """The one id of `found` (those `prefix` names); NotFound when none or several."""
    if len(found) != 1:
        raise NotFound(f"no message {prefix}" if not found else f"{prefix} is ambiguous")
    return found[0]
