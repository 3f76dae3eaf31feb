"""An operator's organ file laid over the national registry (`SOHOA_ORGANS=PATH`,
docs/registry.md): the rules by which one of its organs is an organ the registry already holds
(then it gives that organ its official code, name and dates, the registry's history kept) or a
new one. organs/registry.py applies them."""

from __future__ import annotations

from datetime import date

from schemas.models import Organ


def code_kind(organ_id: str) -> str:
    """`local` for the codes organs/national.py makes (last group opening with Z, which no
    QCVN 102 code does), else `official`."""
    return "local" if organ_id.rsplit(".", 1)[-1].startswith("Z") else "official"


def parents_first(organs: list[tuple[Organ, str]]) -> list[tuple[Organ, str]]:
    """The file's organs, each after the file's organs above it (so that a department's
    parent already carries the file's id when the department is matched)."""
    by_id = {o.organ_id: o for o, _ in organs}

    def depth(organ: Organ) -> int:
        n, parent = 0, organ.parent
        while parent in by_id and n < 10:
            n, parent = n + 1, by_id[parent].parent
        return n

    return sorted(organs, key=lambda pair: depth(pair[0]))


def same_organ(organ: Organ, known: Organ) -> bool:
    """`known` (an organ of the registry of the same folded name) is the file's `organ`: the
    same level, the same parent when the file names one, validity that overlaps."""
    if organ.level != known.level:
        return False
    if organ.parent and known.parent != organ.parent:
        return False
    return _overlaps(organ.valid_from, organ.valid_to, known.valid_from, known.valid_to)


def _overlaps(
    a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None
) -> bool:
    return (a_from is None or b_to is None or a_from <= b_to) and (
        b_from is None or a_to is None or b_from <= a_to
    )


def merged(organ: Organ, known: Organ) -> Organ:
    """The file's organ in the place of the registry's: the file's id, name, level and the
    fields it gives; the registry's for the ones it leaves empty, its history and header forms
    kept (the registry's name too, as a header form, when the file spells it otherwise)."""
    others = [known.name] if known.name != organ.name else []
    return organ.model_copy(
        update={
            "parent": organ.parent or known.parent,
            "valid_from": organ.valid_from or known.valid_from,
            "valid_to": organ.valid_to or known.valid_to,
            "aliases": list(dict.fromkeys([*organ.aliases, *others, *known.aliases])),
            "predecessors": organ.predecessors or known.predecessors,
            "successors": organ.successors or known.successors,
            "code_kind": code_kind(organ.organ_id),
            "generated": False,
        }
    )


def added(organ: Organ) -> Organ:
    return organ.model_copy(update={"code_kind": code_kind(organ.organ_id)})


def relinked(organ: Organ, old_id: str, new_id: str) -> Organ:
    """`organ` with its history links to `old_id` pointing to `new_id`."""
    return organ.model_copy(
        update={
            "predecessors": [new_id if i == old_id else i for i in organ.predecessors],
            "successors": [new_id if i == old_id else i for i in organ.successors],
        }
    )
