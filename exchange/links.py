"""Links between records and the papers they are copies of.

Two scans of one paper never share a hash; they share a DocumentId, so every record sent or
received under a DocumentId is linked to it. A searchable PDF sent as an attachment is linked
to the record it was derived from, so a receiver that sends it back is understood.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from exchange import messages
from exchange.context import ExchangeContext
from exchange.ports import Records
from schemas.errors import NotFound


class Links:
    def __init__(self, ctx: ExchangeContext, records: Records) -> None:
        self.ctx = ctx
        self.records = records

    def link_copies(self, document_id: str, record_ids: Iterable[str]) -> list[str]:
        """Records that are copies of the paper `document_id`, other than `record_ids`
        (which are linked to it from now on)."""
        mine = set(record_ids)
        others = [r for r in self.ctx.book.names(messages.copies(document_id)) if r not in mine]
        for record_id in mine:
            key = messages.copy_link(document_id, record_id)
            if not self.ctx.book.exists(key):
                self.ctx.book.mark(key)
        return others

    def link_derived(self, sha256: str, record_id: str) -> None:
        """A file made from `record_id` (its searchable PDF) has this SHA-256."""
        key = messages.derived_link(sha256)
        if not self.ctx.book.exists(key):
            self.ctx.store.put_bytes(key, json.dumps({"record_id": record_id}).encode())

    def record_of(self, sha256: str) -> str | None:
        """The record whose original (or searchable PDF) has this SHA-256, if any."""
        if self.records.status(sha256) is not None:
            return sha256
        try:
            raw = self.ctx.store.get_bytes(messages.derived_link(sha256))
        except NotFound:
            return None
        return json.loads(raw)["record_id"]
