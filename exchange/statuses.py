"""The edXML status codes (QCVN 102:2016 Status/StatusCode): ONE table, one row per status.

A row says what the code is called, who sets it and where it stands in the order a
recipient's statuses move through. `Status`, the names, what a recipient may set and the
ordering are all read from this table, so a new status is one new row. What a revoke, update
or replace does to an earlier message (the statuses it answers) is in business.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SetBy(StrEnum):
    receipt = "receipt"  # answered in the receipt only, never stored as a status
    receiver = "receiver"  # the receiving installation, on receipt or on a business message
    recipient = "recipient"  # the recipient organ reports it (exchange status --set)


@dataclass(frozen=True)
class StatusRow:
    code: str
    key: str  # the Status member's name
    name: str  # shown to people
    set_by: SetBy
    # Where it stands in one recipient's progress (statuses only move forward); None: it
    # stands beside the progress (15/16 answer an update or recall) or is never stored (02).
    rank: int | None = None


STATUS_TABLE: tuple[StatusRow, ...] = (
    StatusRow("01", "arrived", "arrived", SetBy.receiver, rank=1),
    StatusRow("02", "rejected", "rejected", SetBy.receipt),
    StatusRow("03", "accepted", "accepted", SetBy.receiver, rank=2),
    StatusRow("04", "assigned", "assigned", SetBy.recipient, rank=3),
    StatusRow("05", "in_progress", "in progress", SetBy.recipient, rank=4),
    StatusRow("06", "done", "done", SetBy.recipient, rank=5),
    # 13: recalled or replaced by its sender, the end of the progress.
    StatusRow("13", "recalled", "recalled", SetBy.receiver, rank=6),
    StatusRow("15", "agree", "agreed to update/recall", SetBy.receiver),
    StatusRow("16", "refuse", "refused update/recall", SetBy.receiver),
)

Status = StrEnum("Status", [(row.key, row.code) for row in STATUS_TABLE], module=__name__)
Status.__doc__ = "An edXML StatusCode (the rows of STATUS_TABLE)."

ROWS: dict[str, StatusRow] = {row.code: row for row in STATUS_TABLE}
STATUS_NAMES: dict[str, str] = {row.code: row.name for row in STATUS_TABLE}
RECIPIENT_SETS: tuple[Status, ...] = tuple(
    Status(row.code) for row in STATUS_TABLE if row.set_by == SetBy.recipient
)


def describe(code: str) -> str:
    """`06 (done)`: the code with its name, as errors and the audit log show it."""
    return f"{code} ({STATUS_NAMES[code]})"


def rank(code: str) -> int | None:
    return ROWS[code].rank


def is_stored(code: str) -> bool:
    return ROWS[code].set_by != SetBy.receipt


def recipient_choices() -> str:
    """`04 assigned, 05 in progress or 06 done`."""
    names = [f"{code.value} {STATUS_NAMES[code.value]}" for code in RECIPIENT_SETS]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
