"""The header's organ reconciled with the organ registry: the registry's spelling and id, the
parent line checked, the place confirmed by the organ's name, the edXML DocumentId."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Protocol

from pipeline import metadata_rules as rules
from pipeline.extracted import Extracted
from schemas.models import Organ, document_id_key
from schemas.text import fold


class OrganMatch(Protocol):
    """What the registry makes of an organ line (organs.match.Match): the organ when exactly
    one fits, else the candidates and why none was chosen; the reading of the line that
    matched (`name_read` under `parent_read`) when the header ran the two together."""

    @property
    def organ(self) -> Organ | None: ...
    @property
    def candidates(self) -> Sequence[Organ]: ...
    @property
    def confidence(self) -> float: ...
    @property
    def reason(self) -> str: ...
    @property
    def name_read(self) -> str: ...
    @property
    def parent_read(self) -> str | None: ...


# `find_organ(name, parent, on)`: the one organ the registry knows by that name, or None; or
# (OrganRegistry.match_header) an OrganMatch, which also lists the candidates when several fit.
FindOrgan = Callable[[str, str | None, date | None], "Organ | OrganMatch | None"]
UNKNOWN_ORGAN_CONFIDENCE = 0.7  # organ name the registry (when given) does not know
CONFIRMED_PLACE = 0.9  # place that the organ's name (header or registry) spells


def read_registry(find_organ: FindOrgan | None, out: Extracted) -> Organ | None:
    name, parent = out.get("organ_name"), out.get("organ_parent")
    if find_organ is None or not name:
        return None
    issued = out.get("issued_date")
    organ, match = _find_respaced(find_organ, name, parent or None, issued)
    if organ is None:
        # Not in the registry: a new organ, or a misread name. Either way a person looks.
        out.set("organ_name", name, min(out.conf("organ_name"), UNKNOWN_ORGAN_CONFIDENCE))
        if match is not None and match.reason:
            out.notes["organ_name"] = match.reason
        return None
    conf = out.conf("organ_name")
    if match is not None and match.name_read and match.name_read != name:
        # The header ran the parent's line into the name: the organ's part is the name.
        name = match.name_read
        out.set("organ_name", name, conf)
        if match.parent_read and not parent:
            out.set("organ_parent", match.parent_read, conf)
    if match is not None:  # the registry alone fits: name, parent line and date agree
        conf = max(conf, match.confidence)
        out.set("organ_name", name, conf)
    _adopt_registry_form(out, "organ_name", name, organ)
    _check_parent(find_organ, out, organ)
    out.set("organ_id", organ.organ_id, max(conf, 0.9))
    out.set("organ_level", str(organ.level.value), max(conf, 0.9))
    return organ


def _found(result: Organ | OrganMatch | None) -> tuple[Organ | None, OrganMatch | None]:
    if result is None or isinstance(result, Organ):
        return result, None
    return result.organ, result


def confirm_place(out: Extracted, organ: Organ | None) -> None:
    """The place (địa danh) is usually the locality the organ's own name ends with (`ỦY BAN
    NHÂN DÂN XÃ ĐẮK MAR` → `Đắk Mar`; the registry: `Sở Nội vụ tỉnh Kon Tum` → `Kon Tum`).
    A place that reads as such a locality up to diacritics takes that spelling."""
    place = out.get("issued_place")
    if not place:
        return
    names = [organ.name] if organ is not None else []
    names += [n.title() for n in (out.get("organ_name"), out.get("organ_parent")) if n]
    want = fold(place).split()
    for name in names:
        words = name.split()
        folded = [fold(w) for w in words]
        for i in range(len(words) - len(want) + 1):
            if folded[i : i + len(want)] == want:
                spelled = " ".join(words[i : i + len(want)])
                out.set("issued_place", spelled, max(out.conf("issued_place"), CONFIRMED_PLACE))
                return


def _check_parent(find_organ: FindOrgan, out: Extracted, organ: Organ) -> None:
    """The parent line as the registry spells it, when that is what was read."""
    parent = out.get("organ_parent")
    if parent:
        upper, _ = _find_respaced(find_organ, parent, None, out.get("issued_date"))
        if upper is not None and upper.organ_id == organ.parent:
            _adopt_registry_form(out, "organ_parent", parent, upper)


def _find_respaced(
    find_organ: FindOrgan, name: str, parent: str | None, on: date | None
) -> tuple[Organ | None, OrganMatch | None]:
    """`find_organ`, and when it knows no such organ, the same names with words OCR ran
    together split again (`ĐẮKHÀ`, `KONTUM`, `TINVÀ`): the one organ some split finds."""
    organ, match = _found(find_organ(name, parent, on))
    if organ is not None:
        return organ, match
    found = {
        o.organ_id: (o, m)
        for n in rules.respacings(name)
        for p in (rules.respacings(parent) if parent else [None])
        if (n, p) != (name, parent)
        for o, m in [_found(find_organ(n, p, on))]
        if o is not None
    }
    return next(iter(found.values())) if len(found) == 1 else (None, match)


def _adopt_registry_form(out: Extracted, field: str, read: str, organ: Organ) -> None:
    """The registry's header form of the name, when it is what was read up to OCR slips
    (diacritics, a lost space: `KONTUM`)."""
    # The name in capitals is a header form too (the national registry does not list it).
    forms = list(dict.fromkeys(f for f in (organ.name.upper(), *organ.aliases) if f.isupper()))
    for form in forms:
        if fold(form).replace(" ", "") == fold(read).replace(" ", ""):
            out.set(field, form, max(out.conf(field), 0.95))
            return


def read_document_id(out: Extracted) -> None:
    organ_id, issued = out.get("organ_id"), out.get("issued_date")
    number, notation = out.get("code_number"), out.get("code_notation")
    if organ_id and issued and number and notation:
        conf = min(out.conf(k) for k in ("organ_id", "issued_date", "code_number", "code_notation"))
        out.set("document_id", document_id_key(organ_id, issued, number, notation), conf)
