"""The shipped national registry, `national.tsv.gz` (written by organs/build.py), read fast.

One organ a line, tab-separated: the columns of `COLUMNS`, lists `|`-separated, `keys` being
the organ's index keys (organs/match.key of its name and header forms) so that loading folds
nothing. Reading it is the registry's start-up cost (bench/registry.py measures it).
"""

from __future__ import annotations

import gzip
import sys
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


def read(path: Path = DATA) -> tuple[list[Organ], dict[str, list[str]]]:
    """The organs and each one's index keys."""
    organs, keys = [], {}
    dates = _Dates()
    intern, levels, fields_set, make = sys.intern, _LEVELS, _FIELDS_SET, Organ.__new__
    put = object.__setattr__
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    for line in text.splitlines():
        c = line.split("\t")
        organ_id = intern(c[0])
        organ = make(Organ)
        put(organ, "__dict__", {
            "organ_id": organ_id,
            "name": c[1],
            "level": levels[c[2]],
            "parent": intern(c[3]) if c[3] else None,  # the same string as its parent's id
            "valid_from": dates[c[4]],
            "valid_to": dates[c[5]],
            "aliases": c[6].split("|") if c[6] else [],
            "code_kind": intern(c[7]),
            "generated": c[8] == "1",
            "predecessors": c[9].split("|") if c[9] else [],
            "successors": c[10].split("|") if c[10] else [],
        })  # fmt: skip
        # Built as pydantic's model_construct would, without its per-field default handling
        # (every field is given): four times faster for 38,000 organs.
        put(organ, "__pydantic_fields_set__", fields_set)
        put(organ, "__pydantic_extra__", None)
        put(organ, "__pydantic_private__", None)
        organs.append(organ)
        keys[organ_id] = c[11].split("|")
    return organs, keys


class _Dates(dict):
    """ISO date text → date, each parsed once ("" → None)."""

    def __missing__(self, text: str) -> date | None:
        self[text] = value = date.fromisoformat(text) if text else None
        return value
