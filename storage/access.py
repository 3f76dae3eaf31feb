"""Who may see each record, as small objects beside the records (schemas.access.Visibility).

One object per fact, so concurrent writers never lose each other's grant (a share arriving
while a worker rewrites the record, two deliveries at once) and no record is rewritten:

    access/<doc_id>/owner                 {"organ", "at"}   written once: the first owner stays
    access/<doc_id>/organs/<organ_id>     {"via", "ref", "by", "at"}   a share, delivery, upload
    access/<doc_id>/public                {"by", "at"}      present: everyone sees the record
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from pydantic import BaseModel

from schemas.access import Visibility
from schemas.errors import NotFound
from storage.base import ObjectStore

GRANT_KINDS = ("share", "delivery", "upload")


def _prefix(doc_id: str) -> str:
    return f"access/{doc_id}/"


def owner_key(doc_id: str) -> str:
    return f"{_prefix(doc_id)}owner"


def grant_key(doc_id: str, organ_id: str) -> str:
    return f"{_prefix(doc_id)}organs/{organ_id}"


def public_key(doc_id: str) -> str:
    return f"{_prefix(doc_id)}public"


class Grant(BaseModel):
    organ: str
    via: str  # share | delivery | upload
    ref: str = ""  # the exchange message of a delivery
    by: str = ""  # who shared it (a login, "cli")
    at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class AccessBook:
    """Owner, grants and the public mark of records in an ObjectStore. A record with no owner
    object (ingested before owners existed) belongs to `default_owner`, the installation's
    organ (`SOHOA_ORGAN`), until `sohoa migrate` writes it down."""

    def __init__(self, store: ObjectStore, default_owner: str = "") -> None:
        self.store = store
        self.default_owner = default_owner

    def claim_owner(self, doc_id: str, organ_id: str) -> bool:
        """Make `organ_id` the owner unless the record has one: True if it now is."""
        body = json.dumps({"organ": organ_id, "at": _now().isoformat()}).encode()
        return self.store.create(owner_key(doc_id), body)

    def owner(self, doc_id: str) -> str:
        try:
            return json.loads(self.store.get_bytes(owner_key(doc_id)))["organ"]
        except NotFound:
            return self.default_owner

    def has_owner(self, doc_id: str) -> bool:
        return self.store.exists(owner_key(doc_id))

    def grant(self, doc_id: str, organ_id: str, via: str, *, ref: str = "", by: str = "") -> bool:
        """Let `organ_id` see the record; False if it already could through a grant."""
        if via not in GRANT_KINDS:
            raise ValueError(f"unknown grant kind {via!r}")
        grant = Grant(organ=organ_id, via=via, ref=ref, by=by, at=_now())
        return self.store.create(grant_key(doc_id, organ_id), grant.model_dump_json().encode())

    def revoke(self, doc_id: str, organ_id: str) -> bool:
        key = grant_key(doc_id, organ_id)
        if not self.store.exists(key):
            return False
        self.store.delete(key)
        return True

    def grants(self, doc_id: str) -> Iterator[Grant]:
        for key in self.store.list(f"{_prefix(doc_id)}organs/"):
            try:
                yield Grant.model_validate_json(self.store.get_bytes(key))
            except NotFound:  # revoked meanwhile
                continue

    def set_public(self, doc_id: str, public: bool, *, by: str = "") -> None:
        if public:
            body = json.dumps({"by": by, "at": _now().isoformat()}).encode()
            self.store.put_bytes(public_key(doc_id), body)
        elif self.store.exists(public_key(doc_id)):
            self.store.delete(public_key(doc_id))

    def visibility(self, doc_id: str) -> Visibility:
        """One listing of the record's access objects (and a read of its owner)."""
        organs: set[str] = set()
        public = has_owner = False
        prefix = _prefix(doc_id)
        for key in self.store.list(prefix):
            rest = key[len(prefix) :]
            if rest == "owner":
                has_owner = True
            elif rest == "public":
                public = True
            elif rest.startswith("organs/"):
                organs.add(rest.removeprefix("organs/"))
        owner = self.owner(doc_id) if has_owner else self.default_owner
        return Visibility(owner=owner, organs=frozenset(organs), public=public)
