"""The organ registry: who exists (or existed), at which level, under whom (DESIGN §2, §6).

OrganId does not encode the level, and organs merge and are abolished (the district level
went in 2025), so the registry is data the operator edits: a CSV file with one organ per row
(`organs/organs.csv` is the shipped sample; the setting `organs`, `SOHOA_ORGANS`, names another:
`app.compose.build_registry`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from organs import match as m
from organs import shipped
from organs.match import Match
from schemas.errors import NotFound, SohoaError
from schemas.models import Organ
from schemas.text import fold

SAMPLE = Path(__file__).with_name("organs.csv")
NATIONAL = "national"  # the setting `organs` naming the shipped national registry
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


class OrganRegistry:
    def __init__(self, organs: Iterable[Organ], keys: dict[str, list[str]] | None = None) -> None:
        """`keys`: each organ's index keys when known (the shipped registry carries them)."""
        self._by_id: dict[str, Organ] = {}
        for organ in organs:
            if organ.organ_id in self._by_id:
                raise RegistryError(f"organ id {organ.organ_id} appears twice in the registry")
            self._by_id[organ.organ_id] = organ
        for organ in self._by_id.values():
            if organ.parent and organ.parent not in self._by_id:
                raise RegistryError(
                    f"organ {organ.organ_id} names parent {organ.parent}, which is not listed"
                )
        self._by_key: dict[str, list[Organ]] = {}  # folded, abbreviations out, spaces out
        self._children: dict[str, list[Organ]] = {}
        self._keys: dict[str, list[str]] = {}
        for organ in self._by_id.values():
            found = keys.get(organ.organ_id) if keys else None
            self._keys[organ.organ_id] = found = found or index_keys(organ)
            for key in found:
                self._by_key.setdefault(key, []).append(organ)
            if organ.parent:
                self._children.setdefault(organ.parent, []).append(organ)
        self._tokens: dict[str, set[str]] | None = None  # for lookup(), built on first use

    @classmethod
    def load(cls, path: str | Path) -> OrganRegistry:
        path = Path(path)
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                rows = list(csv.DictReader(f))
        except OSError as e:
            raise RegistryError(f"cannot read the organ registry {path}: {e.strerror}") from e
        organs = []
        for line_no, row in enumerate(rows, start=2):
            try:
                organs.append(_organ_from_row(row))
            except (ValueError, KeyError) as e:
                raise RegistryError(f"{path}, line {line_no}: {e}") from e
        return cls(organs)

    @classmethod
    def cached(cls, path: str | Path) -> OrganRegistry:
        """The registry at `path`, read once per process."""
        return _load_cached(str(path))

    @classmethod
    def default(cls) -> OrganRegistry:
        """The shipped sample registry (`organs/organs.csv`): the tests' organs."""
        return cls.cached(SAMPLE)

    @classmethod
    def national(cls) -> OrganRegistry:
        """The shipped national registry (organs/build.py, docs/registry.md), the sample's
        organs in it under their official codes, read once per process."""
        return _load_cached(NATIONAL)

    def __len__(self) -> int:
        return len(self._by_id)

    def all(self) -> list[Organ]:
        return sorted(self._by_id.values(), key=lambda o: (_LEVEL_ORDER[o.level], o.organ_id))

    def get(self, organ_id: str) -> Organ | None:
        return self._by_id.get(organ_id.strip())

    def require(self, organ_id: str) -> Organ:
        organ = self.get(organ_id)
        if organ is None:
            raise NotFound(f"no organ {organ_id!r} in the organ registry")
        return organ

    def children(self, organ_id: str) -> list[Organ]:
        return sorted(self._children.get(organ_id, []), key=lambda o: o.organ_id)

    def ancestors(self, organ_id: str) -> list[Organ]:
        chain, organ = [], self.get(organ_id)
        while organ is not None and organ.parent:
            organ = self.get(organ.parent)
            if organ is not None:
                chain.append(organ)
        return chain

    def lookup(self, text: str) -> list[Organ]:
        """Organs whose id, name or alias contains `text` (folded), for people searching."""
        key = name_key(text)
        exact = self.get(text.strip().upper())
        found = [exact] if exact else []
        for organ in self._sharing_words(key):
            forms = [organ.name, *organ.aliases]
            if organ not in found and any(key in name_key(f) for f in forms):
                found.append(organ)
        return found

    def _sharing_words(self, key: str) -> list[Organ]:
        """Organs whose names hold every whole word of `key` (all organs for a part-word)."""
        if self._tokens is None:
            self._tokens = {}
            for organ in self._by_id.values():
                for form in (organ.name, *organ.aliases):
                    for word in name_key(form).split():
                        self._tokens.setdefault(word, set()).add(organ.organ_id)
        sets = [self._tokens.get(w, set()) for w in key.split()]
        if not sets:
            return []
        ids = set.intersection(*sets) if all(sets) else set()
        if not ids:  # a part of a word ("dak h"): read every name, as before
            return self.all()
        return sorted(
            (self._by_id[i] for i in ids), key=lambda o: (_LEVEL_ORDER[o.level], o.organ_id)
        )

    def find(self, name: str, parent: str | None = None, on: date | None = None) -> Organ | None:
        """The one organ a document header names (issuing organ line, parent line), or None.

        Several organs share a name ("Sở Nội vụ" exists in every province): the parent line
        decides; when it cannot, the answer is None, never a guess.
        """
        candidates = self._by_key.get(m.key(name), [])
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
        fits = self._by_key.get(m.key(name), [])
        if not fits:
            return Match(None, reason=f"no organ named {name!r} in the registry")
        if parent:
            parent_key = m.key(parent)
            fits = [c for c in fits if not c.parent or self._under(c, parent_key)] or []
            if not fits:
                found = self._by_key[m.key(name)]
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


def _organ_from_row(row: dict[str, str]) -> Organ:
    organ_id = row["organ_id"].strip()
    if not ORGAN_ID.match(organ_id):
        raise ValueError(f"organ id {organ_id!r} is not of the form 000.00.00.H41")
    return Organ(
        organ_id=organ_id,
        name=row["name"].strip(),
        level=row["level"].strip(),
        parent=(row.get("parent") or "").strip() or None,
        valid_from=_date(row.get("valid_from")),
        valid_to=_date(row.get("valid_to")),
        aliases=[a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()],
    )


def _date(text: str | None) -> date | None:
    text = (text or "").strip()
    return date.fromisoformat(text) if text else None


def _none_valid(name: str, on: date, fits: list[Organ]) -> str:
    spans = "; ".join(f"{c.name} {c.valid_from or '…'} – {c.valid_to or 'now'}" for c in fits[:3])
    return f"no organ named {name!r} existed on {on}: {spans}"


@lru_cache(maxsize=4)
def _load_cached(path: str) -> OrganRegistry:
    if path == NATIONAL:
        return OrganRegistry(*shipped.read())
    return OrganRegistry.load(path)
