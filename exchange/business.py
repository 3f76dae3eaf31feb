"""What a revoke, an update or a replacement (Bussiness/BussinessDocType) does to the earlier
message it names, as the statuses the receiver answers: one row per kind.

Only the earlier message's own sender may act on it; a revoke of a message already done is
refused (16).
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange import messages
from exchange.context import ExchangeContext
from exchange.ledger import Ledger
from exchange.models import Envelope, Kind
from exchange.statuses import Status


@dataclass(frozen=True)
class Effect:
    # About the new message (None: no answer about it beyond 01/03); its note names {target}.
    on_message: Status | None
    message_note: str
    # About the earlier message; its note may name {mid} (the new message) and {reason}.
    on_target: Status
    target_note: str
    refused_when_done: bool = False  # the earlier message reported 06 done: answer 16 instead


EFFECTS: dict[Kind, Effect] = {
    Kind.revoke: Effect(
        Status.agree, "recall of {target}", Status.recalled, "{reason}", refused_when_done=True
    ),
    Kind.update: Effect(
        Status.agree, "update of {target}", Status.agree, "updated by message {mid}"
    ),
    Kind.replace: Effect(None, "", Status.recalled, "replaced by message {mid}"),
}


def apply_business(ctx: ExchangeContext, ledger: Ledger, env: Envelope, as_organ: str) -> None:
    """Act on the earlier message `env` names (when `as_organ` received it) and say so."""
    effect = EFFECTS.get(env.business.doc_type)
    target = next((r.message_id for r in env.response_for if r.message_id), None)
    if effect is None or target is None:
        return
    if not ctx.book.exists(messages.receipt(as_organ, target)):
        return
    mid, sender = env.message_id, env.sender.organ_id
    if ctx.book.state(target).sender != sender:  # only its own sender acts on a message
        refusal = f"message {target} was not sent by {sender}; refused"
        ledger.answer(mid, sender, as_organ, Status.refuse, refusal)
        return
    if effect.refused_when_done and ledger.latest_status(target, as_organ) == Status.done:
        refusal = f"message {target} is already done; recall refused"
        ledger.answer(mid, sender, as_organ, Status.refuse, refusal)
        return
    if effect.on_message is not None:
        ledger.answer(
            mid, sender, as_organ, effect.on_message, effect.message_note.format(target=target)
        )
    reason = env.business.reason or "recalled by its sender"
    note = effect.target_note.format(mid=mid, reason=reason)
    ledger.answer(target, sender, as_organ, effect.on_target, note)
