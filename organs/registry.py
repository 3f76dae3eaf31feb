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
from datetime import date
from functools import lru_cache
from pathlib import Path

from schemas.errors import NotFound, SohoaError
from schemas.models import Organ
from schemas.text import fold

SAMPLE = Path(__file__).with_name("organs.csv")
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


def name_key(text: str) -> str:
    """Compare organ names ignoring case, diacritics, punctuation and ND30 abbreviations."""
    words = re.sub(r"[^\w\s.]", " ", fold(text)).split()
    return " ".join(_ABBREVIATIONS.get(w, w.rstrip(".")) for w in words)


class OrganRegistry:
    def __init__(self, organs: Iterable[Organ]) -> None:
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
        self._by_name: dict[str, list[Organ]] = {}
        for organ in self._by_id.values():
            for key in {name_key(form) for form in (organ.name, *organ.aliases)}:
                self._by_name.setdefault(key, []).append(organ)

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
        """The shipped sample registry (`organs/organs.csv`)."""
        return cls.cached(SAMPLE)

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
        return [o for o in self.all() if o.parent == organ_id]

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
        for organ in self.all():
            forms = [organ.name, *organ.aliases]
            if organ not in found and any(key in name_key(f) for f in forms):
                found.append(organ)
        return found

    def find(self, name: str, parent: str | None = None, on: date | None = None) -> Organ | None:
        """The one organ a document header names (issuing organ line, parent line), or None.

        Several organs share a name ("Sở Nội vụ" exists in every province): the parent line
        decides; when it cannot, the answer is None, never a guess.
        """
        candidates = self._by_name.get(name_key(name), [])
        if parent:
            parent_key = name_key(parent)
            # A registry parent that the header contradicts rules the candidate out.
            candidates = [
                c for c in candidates if not c.parent or self._parent_named(c, parent_key)
            ]
        if on is not None and len(candidates) > 1:
            candidates = [c for c in candidates if c.active_on(on)] or candidates
        return candidates[0] if len(candidates) == 1 else None

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


@lru_cache(maxsize=4)
def _load_cached(path: str) -> OrganRegistry:
    return OrganRegistry.load(path)
