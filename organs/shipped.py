"""The shipped national registry, `national.tsv.gz` (written by organs/build.py), read fast.

One organ a line, tab-separated: the columns of `COLUMNS`, lists `|`-separated, `keys` being
the organ's index keys (organs/match.key of its name and header forms) so that loading folds
nothing. Reading it is the registry's start-up cost (bench/registry.py measures it).
"""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

from schemas.models import Organ, OrganLevel

DATA = Path(__file__).with_name("national.tsv.gz")
COLUMNS = (
    *("organ_id", "name", "level", "parent", "valid_from", "valid_to", "aliases"),
    *("code_kind", "generated", "predecessors", "successors", "keys"),
)
_LEVELS = {level.value: level for level in OrganLevel}
# Every field is set on every organ read: one set for all (pydantic only adds to it on
# assignment, and its names are all in it already).
_FIELDS_SET = set(Organ.model_fields)


def organ_row(organ: Organ, keys: list[str]) -> str:
    cells = [
        organ.organ_id,
        organ.name,
        organ.level.value,
        organ.parent or "",
        organ.valid_from.isoformat() if organ.valid_from else "",
        organ.valid_to.isoformat() if organ.valid_to else "",
        "|".join(organ.aliases),
        organ.code_kind,
        "1" if organ.generated else "",
        "|".join(organ.predecessors),
        "|".join(organ.successors),
        "|".join(keys),
    ]
    return "\t".join(cells) + "\n"


def lines(path: Path = DATA) -> list[str]:
    """The shipped organs, one line each (cells: `COLUMNS`), none made into an `Organ` yet:
    the registry makes each on first use (organs/registry.py)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def read(path: Path = DATA) -> tuple[list[Organ], dict[str, list[str]]]:
    """The organs and each one's index keys, all made at once."""
    cells = [line.split("\t") for line in lines(path)]
    return [make(c) for c in cells], {c[0]: c[11].split("|") for c in cells}


def make(c: list[str]) -> Organ:
    """The organ of one shipped row."""
    organ = _new(Organ)
    _put(organ, "__dict__", {
        "organ_id": c[0],
        "name": c[1],
        "level": _LEVELS[c[2]],
        "parent": c[3] or None,
        "valid_from": _dates[c[4]],
        "valid_to": _dates[c[5]],
        "aliases": c[6].split("|") if c[6] else [],
        "code_kind": c[7],
        "generated": c[8] == "1",
        "predecessors": c[9].split("|") if c[9] else [],
        "successors": c[10].split("|") if c[10] else [],
    })  # fmt: skip
    # Built as pydantic's model_construct would, without its per-field default handling
    # (every field is given): four times faster.
    _put(organ, "__pydantic_fields_set__", _FIELDS_SET)
    _put(organ, "__pydantic_extra__", None)
    _put(organ, "__pydantic_private__", None)
    return organ


class _Dates(dict):
    """ISO date text → date, each parsed once ("" → None)."""

    def __missing__(self, text: str) -> date | None:
        self[text] = value = date.fromisoformat(text) if text else None
        return value


_dates = _Dates()
_new, _put = Organ.__new__, object.__setattr__
