"""Who may see a record (`Visibility`) and who is looking (`Viewer`): one model for the API, the
web pages, exports and the exchange (docs/access.md).

A record is visible to its owner organ, to organs it was shared with or delivered to, to
everyone when public, and to unrestricted viewers (admins, the operator's CLI). Both search
backends index `Visibility.keys()` and filter by `Viewer.keys()` inside the query, so totals
and facets never count what the viewer may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC_KEY = "public"


def organ_key(organ_id: str) -> str:
    return f"organ:{organ_id}"


@dataclass(frozen=True)
class Visibility:
    """Who may see one record. `owner` "" is a record of no organ: only admins see it."""

    owner: str = ""
    organs: frozenset[str] = field(default_factory=frozenset)  # shared with, delivered to
    public: bool = False

    def keys(self) -> list[str]:
        """What the indexes store for the record; a viewer sees it if the two share a key."""
        seen = sorted({self.owner, *self.organs} - {""})
        return [organ_key(o) for o in seen] + ([PUBLIC_KEY] if self.public else [])


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the organs whose records it sees, or None for every record."""

    organs: frozenset[str] | None

    @classmethod
    def everything(cls) -> Viewer:
        """Admins, and the operator's CLI on the machine that holds the store."""
        return cls(None)

    @classmethod
    def of_organ(cls, organ_id: str) -> Viewer:
        return cls(frozenset({organ_id}))

    @property
    def unrestricted(self) -> bool:
        return self.organs is None

    def keys(self) -> list[str] | None:
        """Index keys any of which makes a record visible; None: no filter at all."""
        if self.organs is None:
            return None
        return sorted(organ_key(o) for o in self.organs) + [PUBLIC_KEY]

    def sees(self, visibility: Visibility | None) -> bool:
        if self.organs is None:
            return True
        if visibility is None:  # not known: fail closed
            return False
        return bool(set(self.keys() or ()) & set(visibility.keys()))
