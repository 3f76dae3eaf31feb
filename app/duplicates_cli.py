"""`sohoa review duplicates | merge KEEP OTHER | dismiss A B` (issue 20), dispatched by
app/review_cli.py. The CLI is the operator: it sees every pair; the editor named in the
records' histories and the audit log is the OS user running it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from app.compose import OPERATOR
from app.terminal import emit_json, fail, out
from schemas.errors import SohoaError
from storage.duplicates import Pair
from workers.review import BadField
from workers.services import Services

if TYPE_CHECKING:
    from workers.duplicates import SeenPair

# workers.duplicates is imported by the functions that use it: its page fingerprints bring
# OpenCV to every `sohoa` start otherwise.

DUPLICATE_ACTIONS = ("duplicates", "merge", "dismiss")


def duplicates_command(
    services: Services, action: str, ids: list[str], as_json: bool, editor: str
) -> None:
    from workers.duplicates import dismiss, merge, open_duplicates, seen_pair

    try:
        if action == "duplicates":
            if ids:
                raise BadField("`sohoa review duplicates` takes no document ids")
            found = open_duplicates(services, OPERATOR)
        else:
            if len(ids) != 2:
                raise BadField(f"`sohoa review {action}` takes two document ids")
            decide = merge if action == "merge" else dismiss
            pair = decide(services, OPERATOR, ids[0], ids[1], editor)
            found = [seen_pair(services, OPERATOR, pair.new, pair.existing)]
    except SohoaError as e:
        raise fail(e) from e
    if as_json:
        from app.duplicates_api import pair_json  # here: it brings fastapi to every `sohoa` start

        for seen in found:
            emit_json(pair_json(seen))
        return
    if action != "duplicates":
        out.print(_decision(found[0].pair))
        return
    print_pairs(found)


def _decision(pair: Pair) -> str:
    if pair.state == "merged":
        other = pair.existing if pair.kept == pair.new else pair.new
        return f"merged: {other[:12]} is a rescan of {pair.kept[:12]}; search shows the latter"
    return f"dismissed: {pair.new[:12]} and {pair.existing[:12]} are not duplicates"


def print_waiting_pairs(services: Services) -> None:
    """Below the documents to review: how many probable duplicates wait, and the way to them."""
    from workers.duplicates import open_duplicates

    waiting = len(open_duplicates(services, OPERATOR))
    if waiting:
        out.print(f"{waiting} probable duplicate pair(s) wait too: sohoa review duplicates")


def print_pairs(found: list[SeenPair]) -> None:
    """One pair a line, its evidence on the next: ids and names never cut by a narrow terminal."""
    from app.duplicates_api import evidence  # here: it brings fastapi to every `sohoa` start

    if not found:
        out.print("No probable duplicate to review.")
        return
    out.print(f"{len(found)} probable duplicate(s): sohoa review merge KEEP OTHER | dismiss A B")
    for seen in found:
        line = Text(f"{seen.new.id[:12]} {seen.new.source_name}  ~  ")
        line.append(f"{seen.existing.id[:12]} {seen.existing.source_name}")
        out.print(line, soft_wrap=True)
        out.print(Text(f"    {evidence(seen.pair)}"), soft_wrap=True)
