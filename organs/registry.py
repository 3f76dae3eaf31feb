"""The organ registry: who exists (or existed), at which level, under whom (DESIGN §2, §6).

OrganId does not encode the level, and organs merge and are abolished (the district level
went in 2025), so the registry is data the operator edits: a CSV file with one organ per row
(`organs/organs.csv` is the shipped sample; the setting `organs`, `SOHOA_ORGANS`, names another:
`app.compose.build_registry`).
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from organs import match as m
from organs import overlay, search, shipped
from organs.match import Match
from schemas.errors import NotFound, SohoaError
from schemas.models import Organ
from schemas.text import fold

SAMPLE = Path(__file__).with_name("organs.csv")
NATIONAL = "national"  # the setting `organs` naming the shipped national registry
SMALL = "small"  # a registry of CSV files alone, no national registry under it
UNIQUE = 0.97  # confidence of an organ the registry alone fits (name, parent line, date)
ORGAN_ID = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9A-Z]{2}$")

# Abbreviations printed in ND30 headers, expanded before names are compared.
_ABBREVIATIONS = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "tp": "thanh pho",
    "tp.": "thanh pho",
}


class RegistryError(SohoaError):
    code = "registry"


class OrganAbolished(RegistryError):
    """An organ that no longer exists, named as a recipient: its successor is to be used."""

    code = "organ_abolished"


def name_key(text: str) -> str:
    """Compare organ names ignoring case, diacritics, punctuation and ND30 abbreviations."""
    words = re.sub(r"[^\w\s.]", " ", fold(text)).split()
    return " ".join(_ABBREVIATIONS.get(w, w.rstrip(".")) for w in words)


def index_keys(organ: Organ) -> list[str]:
    """The keys (organs/match.key) the registry finds the organ by: its name's and its
    header forms' (the name in capitals folds to the name's key: not folded again)."""
    upper = organ.name.upper()
    forms = (organ.name, *(a for a in organ.aliases if a != upper))
    return list(dict.fromkeys(m.key(form) for form in forms))


Entry = Organ | str  # an organ, or its shipped line not yet made into one (shipped.make)


class OrganRegistry:
    def __init__(self, organs: Iterable[Organ], keys: dict[str, list[str]] | None = None) -> None:
        """`keys`: each organ's index keys when known (the shipped registry carries them)."""
        entries: dict[str, Entry] = {}
        for organ in organs:
            if organ.organ_id in entries:
                raise RegistryError(f"organ id {organ.organ_id} appears twice in the registry")
            entries[organ.organ_id] = organ
        self._index(entries, keys or {})

    @classmethod
    def of_lines(cls, lines: list[str]) -> OrganRegistry:
        """The registry of the shipped file's lines (organs/shipped.py), each made an `Organ`
        on first use: loading pays for the key index only (the id and the keys, the first and
        last cells, are all a header match needs), and holds one string an organ. Which organs
        each one heads is worked out on first need (`children`, an overlay): half the load's
        CPU (~0.2 → ~0.1 s a process, measured on the 38k organs). The shipped file's parents
        are checked when it is built (organs/build.py loads it through `OrganRegistry`)."""
        registry = cls.__new__(cls)
        by_id: dict[str, Entry] = {}
        by_key: dict[str, list[str]] = {}
        keys_of: dict[str, list[str]] = {}
        for line in lines:
            organ_id = line[: line.index("\t")]
            by_id[organ_id] = line
            keys_of[organ_id] = found = line[line.rindex("\t") + 1 :].split("|")
            for key in found:
                ids = by_key.get(key)
                if ids is None:
                    by_key[key] = [organ_id]
                else:
                    ids.append(organ_id)
        if len(by_id) != len(lines):
            raise RegistryError("an organ id appears twice in the shipped registry")
        registry._by_id, registry._by_key, registry._keys = by_id, by_key, keys_of
        registry._children_of = None
        registry._search = None
        return registry

    def _index(self, entries: dict[str, Entry], keys: dict[str, list[str]]) -> None:
        self._by_id = entries
        self._by_key: dict[str, list[str]] = {}  # folded, abbreviations out, spaces out → ids
        self._keys: dict[str, list[str]] = {}
        for organ_id, entry in entries.items():
            found = keys.get(organ_id) or index_keys(entry)
            self._keys[organ_id] = found
            for key in found:
                self._by_key.setdefault(key, []).append(organ_id)
        self._children_of: dict[str, list[str]] | None = None
        self._children  # noqa: B018 - built now: an unlisted parent is an error at load
        self._search: search.Index | None = None  # for search(), built on first use

    @property
    def _children(self) -> dict[str, list[str]]:
        """parent id → its organs' ids, built on first use from the organs' parents."""
        if self._children_of is None:
            children: dict[str, list[str]] = {}
            for organ_id, entry in self._by_id.items():
                parent = entry.split("\t", 4)[3] if type(entry) is str else entry.parent
                if parent:
                    if parent not in self._by_id:
                        raise RegistryError(
                            f"organ {organ_id} names parent {parent}, which is not listed"
                        )
                    children.setdefault(parent, []).append(organ_id)
            self._children_of = children
        return self._children_of

    @classmethod
    def load(cls, path: str | Path) -> OrganRegistry:
        """The registry of one CSV file alone."""
        return cls(o for o, _ in read_csv(path))

    @classmethod
    def from_setting(cls, value: str) -> OrganRegistry:
        """The registry the setting `organs` (`SOHOA_ORGANS`) names, read once per process:
        empty or `national`: the shipped national registry; a CSV path: the national registry
        with that file laid over it; `sample`: the 25-organ sample alone; `+` joins them, the
        first naming the base (`national+sample`: the sample over the national registry, the
        tests' registry; `sample+PATH`; `only+PATH`: the file alone). docs/registry.md."""
        parts = [p.strip() for p in value.split("+") if p.strip()]
        base = parts.pop(0) if parts and parts[0] in (NATIONAL, "sample", "only") else NATIONAL
        files = tuple(str(SAMPLE) if p == "sample" else p for p in parts)
        if base == "sample":
            return _load_cached(SMALL, (str(SAMPLE), *files))
        if base == "only":
            if not files:
                raise RegistryError("SOHOA_ORGANS=only+PATH: name the registry file after `only+`")
            return _load_cached(SMALL, files)
        return _load_cached(NATIONAL, files)

    @classmethod
    def cached(cls, path: str | Path) -> OrganRegistry:
        """The registry at `path` alone (no national registry under it), read once per process."""
        return _load_cached(SMALL, (str(path),))

    @classmethod
    def default(cls) -> OrganRegistry:
        """The 25-organ sample registry alone (`organs/organs.csv`): the organs of the tests
        that need a small registry (`sample()`). An installation's default is `national()`
        (app.compose.build_registry)."""
        return cls.sample()

    @classmethod
    def sample(cls) -> OrganRegistry:
        """The 25-organ sample registry alone (`organs/organs.csv`)."""
        return _load_cached(SMALL, (str(SAMPLE),))

    @classmethod
    def national(cls, *overlays: str | Path) -> OrganRegistry:
        """The shipped national registry (organs/build.py, docs/registry.md) with the organs
        of each overlay file laid over it (organs/overlay.py), read once per process."""
        return _load_cached(NATIONAL, tuple(str(p) for p in overlays))

    def __len__(self) -> int:
        return len(self._by_id)

    def all(self) -> list[Organ]:
        """Every organ (a national registry makes all 38,000: for listings, not for lookups)."""
        organs = [self._organ(i) for i in self._by_id]
        return sorted(organs, key=lambda o: (_LEVEL_ORDER[o.level], o.organ_id))

    def get(self, organ_id: str) -> Organ | None:
        organ_id = organ_id.strip()
        return self._organ(organ_id) if organ_id in self._by_id else None

    def _organ(self, organ_id: str) -> Organ:
        entry = self._by_id[organ_id]
        if type(entry) is str:
            entry = self._by_id[organ_id] = shipped.make(entry.split("\t"))
        return entry

    def _organs(self, ids: Iterable[str]) -> list[Organ]:
        return [self._organ(i) for i in ids]

    def require(self, organ_id: str) -> Organ:
        organ = self.get(organ_id)
        if organ is None:
            raise NotFound(f"no organ {organ_id!r} in the organ registry")
        return organ

    def children(self, organ_id: str) -> list[Organ]:
        return self._organs(sorted(self._children.get(organ_id, [])))

    # ------------------------------------------------------------------ overlay

    def _lay_over(self, organs: list[tuple[Organ, str]], source: str) -> None:
        """The organs of an operator's file (`source`) laid over the registry, parents first:
        an organ the registry holds under the same id, or under the id its `same_as` names,
        or exactly one organ of the same name, level, parent and a validity that overlaps
        (a generated twin under a local code) takes the file's id, name and dates, the
        registry's history kept; several such twins are an error, never a silent duplicate;
        none: the organ is added (organs/overlay.py)."""
        self._children  # noqa: B018 - built from the registry as it was, before the changes
        claimed: set[str] = set()
        for organ, same_as in overlay.parents_first(organs):
            twin = self._twin(organ, same_as, claimed, source)
            if twin is None:
                self._put(overlay.added(organ))
            else:
                self._rename(twin, overlay.merged(organ, self._organ(twin)))
            claimed.add(organ.organ_id)
        for organ, _ in organs:
            parent = self._organ(organ.organ_id).parent
            if parent and parent not in self._by_id:
                raise RegistryError(
                    f"{source}: organ {organ.organ_id} names parent {parent}, which is not listed"
                )
        self._search = None

    def _twin(self, organ: Organ, same: str, claimed: set[str], source: str) -> str | None:
        for known in (organ.organ_id, same):
            if known and known in self._by_id:
                return known
        if same:
            raise RegistryError(f"{source}: organ {organ.organ_id} is the same as {same}, unknown")
        fits = [self._organ(i) for i in self._by_key.get(m.key(organ.name), []) if i not in claimed]
        fits = [f for f in fits if overlay.same_organ(organ, f)]
        if len(fits) > 1:
            listed = "; ".join(
                f"{f.organ_id} {f.name} ({f.valid_from} – {f.valid_to})" for f in fits
            )
            raise RegistryError(
                f"{source}: organ {organ.organ_id} {organ.name} fits several organs of the"
                f" registry ({listed}): give its parent, its dates or `same_as` the one it is"
            )
        return fits[0].organ_id if fits else None

    def _put(self, organ: Organ) -> None:
        """Index a new organ (its parent may come later in the file: checked at the end)."""
        self._by_id[organ.organ_id] = organ
        self._keys[organ.organ_id] = keys = index_keys(organ)
        for key in keys:
            self._by_key.setdefault(key, []).append(organ.organ_id)
        if organ.parent:
            self._children.setdefault(organ.parent, []).append(organ.organ_id)

    def _drop(self, organ_id: str) -> Organ:
        organ = self._organ(organ_id)
        del self._by_id[organ_id]
        for key in self._keys.pop(organ_id):
            self._by_key[key].remove(organ_id)
        if organ.parent:
            self._children[organ.parent].remove(organ_id)
        return organ

    def _rename(self, old_id: str, organ: Organ) -> None:
        """`organ` in the place of `old_id`: its children and history point to the new id."""
        old_keys = self._keys[old_id]
        self._drop(old_id)
        self._put(organ)
        merged = list(dict.fromkeys([*self._keys[organ.organ_id], *old_keys]))
        for key in merged[len(self._keys[organ.organ_id]) :]:
            self._by_key.setdefault(key, []).append(organ.organ_id)
        self._keys[organ.organ_id] = merged
        if old_id == organ.organ_id:
            return
        children = self._children.pop(old_id, [])
        self._children.setdefault(organ.organ_id, []).extend(children)
        for child in children:
            self._by_id[child] = self._organ(child).model_copy(update={"parent": organ.organ_id})
        for linked in {*organ.predecessors, *organ.successors}:
            if linked in self._by_id:
                self._by_id[linked] = overlay.relinked(self._organ(linked), old_id, organ.organ_id)

    def ancestors(self, organ_id: str) -> list[Organ]:
        chain, organ = [], self.get(organ_id)
        while organ is not None and organ.parent:
            organ = self.get(organ.parent)
            if organ is not None:
                chain.append(organ)
        return chain

    def lookup(self, text: str) -> list[Organ]:
        """Organs whose id, name or alias contains `text` (folded), for people searching."""
        exact = self.get(text.strip().upper())
        index, typed = self._search_index(), " ".join(m.words(text))
        ids = [i for i in index.find(text) if typed in index.folded[i]]  # as typed, in order
        found = ([exact] if exact else []) + [o for o in self._organs(ids) if o is not exact]
        return sorted(found, key=lambda o: (o is not exact, _LEVEL_ORDER[o.level], o.organ_id))

    def search(self, text: str, limit: int = 20, on: date | None = None) -> list[Organ]:
        """At most `limit` organs named by the words typed (the last maybe unfinished) or whose
        id starts with `text`: the ones valid on `on` (today) first, then by level and name."""
        day, typed, asked = on or date.today(), " ".join(m.words(text)), text.strip().upper()
        index = self._search_index()

        # Ranked without making the organs: the id asked, then names holding the words as
        # typed, in that order, those opening with them first (`ubnd xa dak mar`: the commune's
        # committee before its office, `Văn phòng HĐND và UBND xã Đăk Mar`); then the first
        # few hundred made, ranked by validity and level.
        # (not holding the words as typed, not opening with them) of each organ found, worked
        # out once: both rankings use it
        typed_rank = {
            i: (typed not in index.folded[i], not index.folded[i].startswith(typed))
            for i in index.find(text)
        }
        ids = sorted(typed_rank, key=lambda i: (i != asked, *typed_rank[i], i))
        found = self._organs(ids[: max(limit * 20, 400)])
        # The words as typed outrank validity: `dak ha` lists the district of Đắk Hà (abolished,
        # shown so the clerk sees why it cannot be chosen) before active organs that only hold
        # `dak` and a word starting with `ha` (`… Hạ tầng … phường Đăk Bla`); organs a source
        # lists before the standard units made by rule under them.
        found.sort(
            key=lambda o: (
                o.organ_id != asked,
                typed_rank[o.organ_id][0],
                not o.active_on(day),
                typed_rank[o.organ_id][1],
                o.generated,  # a committee before the units made by rule under it
                _LEVEL_ORDER[o.level],
                o.name,
                o.organ_id,
            )
        )
        return found[:limit]

    def _search_index(self) -> search.Index:
        if self._search is None:
            self._search = search.Index((i, _forms(e)) for i, e in self._by_id.items())
        return self._search

    def find(self, name: str, parent: str | None = None, on: date | None = None) -> Organ | None:
        """The one organ a document header names (issuing organ line, parent line), or None.

        Several organs share a name ("Sở Nội vụ" exists in every province): the parent line
        decides; when it cannot, the answer is None, never a guess.
        """
        candidates = self._organs(self._by_key.get(m.key(name), []))
        if parent:
            parent_key = name_key(parent)
            # A registry parent that the header contradicts rules the candidate out.
            candidates = [
                c for c in candidates if not c.parent or self._parent_named(c, parent_key)
            ]
        if on is not None and len(candidates) > 1:
            candidates = [c for c in candidates if c.active_on(on)] or candidates
        return candidates[0] if len(candidates) == 1 else None

    def match(self, text: str, on: date | None = None, parent: str | None = None) -> Match:
        """The organ an OCR'd header names, tolerant of tone slips, Đ/Ð, lost spaces, line
        breaks and the parent's line above (`UBND HUYỆN VIỆT YÊN` / `UBND THỊ TRẤN NẾNH`),
        and valid on `on` (the document's date) when given. Never a guess: when several
        organs fit, `organ` is None and they are the candidates."""
        readings = [(text, parent)] if parent else m.split_header(text)
        first: Match | None = None
        for name, above in readings:
            found = self._match_one(name, above, on)
            if found.organ is not None:
                return replace(found, name_read=name, parent_read=above)
            if first is None or (found.candidates and not first.candidates):
                first = found
        return first or Match(None, reason="no organ name")

    def match_header(self, name: str, parent: str | None = None, on: date | None = None) -> Match:
        """The organ line `name` under the parent line `parent` (pipeline.reconcile's
        `find_organ(name, parent, on)`); a name that holds its parent's line too (`UBND
        HUYỆN VIỆT YÊN UBND THỊ TRẤN NẾNH`) is split."""
        if parent or m.key(name) in self._by_key:
            return replace(self._match_one(name, parent, on), name_read=name)
        return self.match(name, on)

    def _match_one(self, name: str, parent: str | None, on: date | None) -> Match:
        fits = self._organs(self._by_key.get(m.key(name), []))
        if not fits:
            return Match(None, reason=f"no organ named {name!r} in the registry")
        if parent:
            parent_key = m.key(parent)
            fits = [c for c in fits if not c.parent or self._under(c, parent_key)] or []
            if not fits:
                found = self._organs(self._by_key[m.key(name)][:10])
                return Match(None, tuple(found[:10]), 0.5, f"no {name!r} under {parent!r}")
        if on is not None:
            valid = [c for c in fits if c.active_on(on)]
            if not valid:
                return Match(None, tuple(fits[:10]), 0.5, _none_valid(name, on, fits))
            fits = valid
        if len(fits) > 1:  # names that differ only in tones: the one spelled as read
            spelled = m.spelled(name)
            exact = [c for c in fits if any(m.spelled(f) == spelled for f in (c.name, *c.aliases))]
            fits = exact if len(exact) == 1 else fits
        if len(fits) == 1:
            return Match(fits[0], (fits[0],), UNIQUE)
        listed = "; ".join(f"{c.name} ({c.organ_id})" for c in fits[:5])
        more = f" and {len(fits) - 5} more" if len(fits) > 5 else ""
        return Match(None, tuple(fits), 0.5, f"several organs fit: {listed}{more}")

    def _under(self, organ: Organ, parent_key: str) -> bool:
        """The parent line names one of the organ's ancestors (`UBND HUYỆN ĐẮK HÀ`, or the
        place alone: `HUYỆN ĐẮK HÀ`)."""
        for above in self.ancestors(organ.organ_id):
            for k in self._keys[above.organ_id]:
                if k == parent_key or (len(parent_key) > 6 and k.endswith(parent_key)):
                    return True
        return False

    def require_current(self, organ_id: str, on: date | None = None) -> Organ:
        """The organ, valid on `on` (today); OrganAbolished naming who took it over when the
        registry knows (an abolished organ it names no successor for stays reachable)."""
        organ = self.require(organ_id)
        day = on or date.today()
        holders = [h for h in self.successors_now(organ.organ_id, day) if h.organ_id != organ_id]
        if organ.active_on(day) or not holders:
            return organ
        names = "; ".join(f"{h.organ_id} {h.name}" for h in holders)
        raise OrganAbolished(
            f"organ {organ.organ_id} {organ.name} no longer exists (valid to {organ.valid_to});"
            f" its successor: {names}"
        )

    def successors_now(self, organ_id: str, on: date | None = None) -> list[Organ]:
        """Who holds the organ's records on `on` (today): itself while it is valid, else its
        successors followed to the ones valid then, else its parent's holders."""
        day = on or date.today()
        seen: set[str] = set()
        todo, found = [organ_id], []
        while todo:
            organ = self.get(todo.pop(0))
            if organ is None or organ.organ_id in seen:
                continue
            seen.add(organ.organ_id)
            if organ.active_on(day):
                found.append(organ)
            elif organ.successors:
                todo.extend(organ.successors)
            elif organ.parent:
                todo.append(organ.parent)
        return list({o.organ_id: o for o in found}.values())

    def _parent_named(self, organ: Organ, parent_key: str) -> bool:
        parent = self.get(organ.parent) if organ.parent else None
        return parent is not None and any(
            name_key(form) == parent_key for form in (parent.name, *parent.aliases)
        )


_LEVEL_ORDER = {"central": 0, "province": 1, "district": 2, "commune": 3}


def read_csv(path: str | Path) -> list[tuple[Organ, str]]:
    """The organs of a registry CSV file (organs/organs.csv's columns), each with the id of
    the registry's organ it is (the optional column `same_as`: a local code it replaces)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise RegistryError(f"cannot read the organ registry {path}: {e.strerror}") from e
    organs = []
    for line_no, row in enumerate(rows, start=2):
        try:
            organs.append((_organ_from_row(row), (row.get("same_as") or "").strip()))
        except (ValueError, KeyError) as e:
            raise RegistryError(f"{path}, line {line_no}: {e}") from e
    return organs


def _organ_from_row(row: dict[str, str]) -> Organ:
    organ_id = row["organ_id"].strip()
    if not ORGAN_ID.match(organ_id):
        raise ValueError(f"organ id {organ_id!r} is not of the form 000.00.00.H41")
    return Organ(
        code_kind=overlay.code_kind(organ_id),
        organ_id=organ_id,
        name=row["name"].strip(),
        level=row["level"].strip(),
        parent=(row.get("parent") or "").strip() or None,
        valid_from=_date(row.get("valid_from")),
        valid_to=_date(row.get("valid_to")),
        aliases=[a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()],
    )


def _forms(entry: Entry) -> list[str]:
    """The names an organ is written by: its name and header forms."""
    if type(entry) is str:
        c = entry.split("\t", 7)
        return [c[1], *c[6].split("|")] if c[6] else [c[1]]
    return [entry.name, *entry.aliases]


def _date(text: str | None) -> date | None:
    text = (text or "").strip()
    return date.fromisoformat(text) if text else None


def _none_valid(name: str, on: date, fits: list[Organ]) -> str:
    spans = "; ".join(f"{c.name} {c.valid_from or '…'} – {c.valid_to or 'now'}" for c in fits[:3])
    return f"no organ named {name!r} existed on {on}: {spans}"


_LOADING = threading.Lock()


def _load_cached(base: str, files: tuple[str, ...]) -> OrganRegistry:
    """One load per process: lru_cache alone lets every worker thread that asks before the
    first load ends build its own registry (~0.2 s CPU each, measured twice per pool start on
    the born-digital bench); the others wait for it here."""
    with _LOADING:
        return _load_once(base, files)


@lru_cache(maxsize=8)
def _load_once(base: str, files: tuple[str, ...]) -> OrganRegistry:
    """`base` NATIONAL: the shipped registry with `files` laid over it, in order; SMALL: the
    first file alone with the others laid over it."""
    if base == NATIONAL:
        registry = OrganRegistry.of_lines(shipped.lines())
    else:
        registry, files = OrganRegistry.load(files[0]), files[1:]
    for path in files:
        registry._lay_over(read_csv(path), path)
    return registry
