"""The national registry's organs, made by rule from the administrative units (organs/build.py
runs this once and ships the result, `national.tsv.gz`; organs/shipped.py reads it).

Each administrative unit gives its People's Committee (UBND) and People's Council (HĐND); each
province its standard departments, each district its offices (organs/rules.py). None of these
has a known QCVN 102 code, so each gets a local one, marked `code_kind="local"`:

    AAA.KK.DD.Zpp    pp   province code (NSO; a province that lived on past 2025 keeps its old)
                     DD   district code in base 36 ("00": province level; "ZZ": a commune
                          made on 2025-07-01, which has no district)
                     AAA  commune code in base 36 ("000" above the commune level); under a
                          department (DD "00"), which of its units (001…)
                     KK   which organ of the unit: 00 UBND, 01 HĐND, 02… departments/offices
                          (a commune's since 2025), 30… a district's units, 40… the units
                          under a province's People's Committee; under a department, the
                          department's KK
    000.00.nn.ZTW    the ministries (nn: their place in organs/rules.py)

The letter Z opens no QCVN 102 code, so a local code cannot pass for an official one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from organs import rules
from schemas.models import Organ, OrganLevel

_TYPES = ("thành phố", "thị trấn", "thị xã", "đặc khu", "tỉnh", "huyện", "quận", "xã", "phường")
_URBAN = ("quận", "thị xã", "thành phố")
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def b36(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
    return out.rjust(width, "0")


@dataclass
class _Unit:
    kind: str  # p, D, C, W (organs/build.py)
    code: str
    parent: str
    type: str  # "tỉnh", "huyện", "xã", …
    short: str  # "Kon Tum"
    successors: list[str]
    organs: dict[str, str] = field(default_factory=dict)  # organ name → OrganId

    @property
    def written(self) -> str:
        """As the unit is written inside an organ's name: `tỉnh Kon Tum`."""
        return f"{self.type} {self.short}"


def _split_type(name: str) -> tuple[str, str]:
    low = name.lower()
    for t in _TYPES:
        if low.startswith(t + " "):
            return t, name[len(t) + 1 :]
    raise ValueError(f"unit {name!r} has no known type")


def read_units(rows: Iterable[tuple[str, str, str, str, str]]) -> list[_Unit]:
    """Units from organs/build.py's rows: kind, code, parent code, name, successor codes."""
    units = []
    for kind, code, parent, name, succ in rows:
        t, short = _split_type(name)
        units.append(_Unit(kind, code, parent, t, short, [s for s in succ.split("|") if s]))
    return units


class _Maker:
    """Organs of the units, with their ids, parents and successor links."""

    def __init__(self) -> None:
        self.organs: dict[str, Organ] = {}
        self.links: list[tuple[str, str]] = []  # (organ, successor)
        self.units: dict[tuple[str, str], str] = {}  # (parent id, unit head) → unit id

    def add(
        self,
        organ_id: str,
        name: str,
        level: OrganLevel,
        parent: str | None,
        *,
        header: list[str],
        valid_from: date | None = None,
        valid_to: date | None = None,
        generated: bool = False,
    ) -> str:
        aliases = list(dict.fromkeys(header))  # the name in capitals is implied, not stored
        self.organs[organ_id] = Organ.model_construct(
            organ_id=organ_id,
            name=name,
            level=level,
            parent=parent,
            valid_from=valid_from,
            valid_to=valid_to,
            aliases=aliases,
            code_kind="local",
            generated=generated,
            predecessors=[],
            successors=[],
        )
        return organ_id


def national_organs(rows: Iterable[tuple[str, str, str, str, str]]) -> Iterator[Organ]:
    units = read_units(rows)
    make = _Maker()
    provinces = {u.code: u for u in units if u.kind == "p"}
    living = {u.successors[0][1:]: u for u in provinces.values() if u.successors[0][0] == "="}
    _ministries(make)
    for unit in provinces.values():
        ends = None if unit.successors[0].startswith("=") else rules.LAST_DAY_BEFORE_REFORM
        _province(make, unit, ends)
    for unit in provinces.values():  # merged away: each organ to the same one of the receiver
        if not unit.successors[0].startswith("="):
            receiver = living[unit.successors[0]]
            for name, organ_id in unit.organs.items():
                if make.organs[organ_id].valid_to != rules.LAST_DAY_BEFORE_REFORM:
                    continue  # merged away in March: its successor is in its own province
                same = name.replace(unit.written, receiver.written)
                make.links.append((organ_id, receiver.organs.get(same, receiver.organs["UBND"])))
    districts = {u.code: u for u in units if u.kind == "D"}
    for unit in districts.values():
        _district(
            make,
            unit,
            provinces[unit.parent],
            living[provinces[unit.parent].successors[0].lstrip("=")],
        )
    news = {}
    for unit in (u for u in units if u.kind == "W"):
        province = living[unit.parent]
        news[unit.code] = unit
        _commune(make, unit, "ZZ", province.code, province.organs, rules.REFORM, None)
    for unit in (u for u in units if u.kind == "C"):
        district = districts[unit.parent]
        pcode = district.parent
        _commune(
            make,
            unit,
            b36(int(district.code), 2),
            pcode,
            district.organs,
            None,
            rules.LAST_DAY_BEFORE_REFORM,
        )
        for code in unit.successors:
            for kind in ("UBND", "HĐND"):
                make.links.append((unit.organs[kind], news[code].organs[kind]))
    _link(make)
    _link_units(make)
    return iter(make.organs.values())


def _ministries(make: _Maker) -> None:
    ids = {}
    for i, body in enumerate(rules.MINISTRIES):
        ids[body.name] = make.add(
            f"000.00.{i:02d}.ZTW",
            body.name,
            OrganLevel.central,
            None,
            header=[body.name.upper()],
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            generated=True,
        )
    for body in rules.MINISTRIES:
        if body.successor:
            make.links.append((ids[body.name], ids[body.successor]))


def _province(make: _Maker, unit: _Unit, ends: date | None) -> None:
    tail = f".00.Z{unit.code}"
    _councils(make, unit, "000", tail, OrganLevel.province, None, None, ends)
    ubnd = unit.organs["UBND"]
    units = rules.department_units()
    for i, body in enumerate(rules.DEPARTMENTS, start=2):
        name = body.name.format(unit=unit.written)
        head = body.name.replace(" {unit}", "")
        header = [f"THANH TRA {unit.type.upper()}" if head == "Thanh tra" else head.upper()]
        header.append(body.name.format(unit=unit.short))
        valid_to = body.valid_to or ends
        unit.organs[name] = make.add(
            f"000.{i:02d}{tail}",
            name,
            OrganLevel.province,
            ubnd,
            header=header,
            valid_from=body.valid_from,
            valid_to=valid_to,
            generated=True,
        )
        if body.successor:
            make.links.append((unit.organs[name], body.successor.format(unit=unit.written)))
        dept = make.organs[unit.organs[name]]
        for k, sub in enumerate(units[body.name], start=1):
            _unit(make, f"{b36(k, 3)}.{i:02d}{tail}", sub, dept, unit)
    for k, head in enumerate(rules.PROVINCE_UNITS, start=40):
        _unit(make, f"000.{k:02d}{tail}", rules.Body(head), make.organs[ubnd], unit)


def _district(make: _Maker, unit: _Unit, province: _Unit, now: _Unit) -> None:
    tail = f".{b36(int(unit.code), 2)}.Z{province.code}"
    ends = rules.LAST_DAY_BEFORE_REFORM
    _councils(make, unit, "000", tail, OrganLevel.district, province.organs, None, ends)
    for kind in ("UBND", "HĐND"):  # the province took over what the district's councils held
        make.links.append((unit.organs[kind], now.organs[kind]))
    urban = unit.type in _URBAN
    offices = (*rules.OFFICES, *(rules.URBAN_OFFICES if urban else rules.RURAL_OFFICES))
    for i, office in enumerate(offices, start=2):
        name = office.format(unit=unit.written)
        head = office.replace(" {unit}", "")
        header = [f"THANH TRA {unit.type.upper()}" if head == "Thanh tra" else head.upper()]
        unit.organs[name] = make.add(
            f"000.{i:02d}{tail}",
            name,
            OrganLevel.district,
            unit.organs["UBND"],
            header=header,
            valid_to=ends,
            generated=True,
        )
    heads = (*rules.DISTRICT_UNITS, *(rules.URBAN_UNITS if urban else rules.RURAL_UNITS))
    for k, head in enumerate(heads, start=30):
        _unit(make, f"000.{k:02d}{tail}", rules.Body(head), make.organs[unit.organs["UBND"]], unit)
    health = make.organs[province.organs[f"Sở Y tế {province.written}"]]
    _unit(make, f"000.29{tail}", rules.Body(rules.DISTRICT_HEALTH), health, unit, ends)


def _unit(
    make: _Maker,
    organ_id: str,
    body: rules.Body,
    parent: Organ,
    place: _Unit,
    ends: date | None = None,
) -> None:
    """A unit made by rule under `parent`, named by its head and `place` (a department's
    office and inspectorate by the department), valid while the parent is and, given `ends`,
    no longer (a district's health centre, under the province's department) (organs/rules.py).
    Its level is its place's."""
    head = body.name
    if head in rules.DEPARTMENT_STAFF and parent.name.startswith("Sở "):
        name, header = f"{head} {parent.name}", [f"{head} Sở".upper()]
    else:
        name, header = f"{head} {place.written}", [head.upper(), f"{head} {place.short}"]
    starts = max((d for d in (parent.valid_from, body.valid_from) if d), default=None)
    make.units[(parent.organ_id, head)] = make.add(
        organ_id,
        name,
        OrganLevel.district if place.kind == "D" else parent.level,
        parent.organ_id,
        header=header,
        valid_from=starts,
        valid_to=min((d for d in (parent.valid_to, ends) if d), default=None),
        generated=True,
    )


def _link_units(make: _Maker) -> None:
    """A unit's successor: the unit of the same head and level under its parent's successor
    (a district's units went to the communes, not to the province's units of that name)."""
    for (parent_id, head), unit_id in make.units.items():
        for successor in make.organs[parent_id].successors:
            target = make.units.get((successor, head))
            same_level = target and make.organs[target].level == make.organs[unit_id].level
            if target is not None and target != unit_id and same_level:
                make.organs[unit_id].successors.append(target)
                make.organs[target].predecessors.append(unit_id)


def _commune(
    make: _Maker,
    unit: _Unit,
    district: str,
    pcode: str,
    above: dict[str, str],
    valid_from: date | None,
    valid_to: date | None,
) -> None:
    tail = f".{district}.Z{pcode}"
    head = b36(int(unit.code), 3)
    _councils(make, unit, head, tail, OrganLevel.commune, above, valid_from, valid_to)
    if unit.kind != "W":
        return  # before 2025 a commune had civil servants, no offices
    economy = rules.WARD_ECONOMY if unit.type == "phường" else rules.COMMUNE_ECONOMY
    ubnd = make.organs[unit.organs["UBND"]]
    for k, office in enumerate((*rules.COMMUNE_UNITS, economy), start=2):
        _unit(make, f"{head}.{k:02d}{tail}", rules.Body(office), ubnd, unit)


def _councils(
    make: _Maker,
    unit: _Unit,
    head: str,
    tail: str,
    level: OrganLevel,
    above: dict[str, str] | None,
    valid_from: date | None,
    valid_to: date | None,
) -> None:
    """The unit's UBND and HĐND, each under the same organ of the unit above."""
    for k, (kind, spelled) in enumerate(
        (("UBND", "Ủy ban nhân dân"), ("HĐND", "Hội đồng nhân dân"))
    ):
        name = f"{spelled} {unit.written}"
        header = [f"{kind} {unit.written.upper()}"]
        parent = above[kind] if above else None
        unit.organs[kind] = make.add(
            f"{head}.{k:02d}{tail}",
            name,
            level,
            parent,
            header=header,
            valid_from=valid_from,
            valid_to=valid_to,
        )


def _link(make: _Maker) -> None:
    """Successor links by id (a department's names its successor by name, in its province)."""
    by_name = {}
    for organ in make.organs.values():
        if organ.level == OrganLevel.province and organ.generated:
            by_name[organ.name] = organ.organ_id
    for organ_id, successor in make.links:
        target = successor if successor in make.organs else by_name.get(successor)
        if target is None:
            continue
        make.organs[organ_id].successors.append(target)
        make.organs[target].predecessors.append(organ_id)
