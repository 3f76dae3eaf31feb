"""Field values with their confidences while one document is being read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.models import Field


@dataclass
class Extracted:
    """Field values with confidences while a document is being read."""

    values: dict[str, Field]
    code_repaired: bool = False  # the số had digits put right (`8Ø` → `80`): never confirmed
    # Why a field is uncertain, for its review reason (the organs that fit an organ line).
    notes: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value: Any, confidence: float, *, empty_ok: bool = False) -> None:
        """Record a value; "" only where it is a reading (no parent line, head signs)."""
        if value is None or value == [] or (value == "" and not empty_ok):
            return
        self.values[name] = Field(value=value, confidence=round(min(max(confidence, 0), 1), 3))

    def get(self, name: str) -> Any:
        field = self.values.get(name)
        return field.value if field else None

    def conf(self, name: str) -> float:
        field = self.values.get(name)
        return field.confidence if field else 0.0

    def cap(self, name: str, ceiling: float) -> None:
        """The field's confidence no higher than `ceiling`."""
        if self.get(name) is not None:
            self.set(name, self.get(name), min(self.conf(name), ceiling))
