"""Who may use sohoa: the roles of a user account (accounts/ stores the accounts)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"  # everything, manages users
    archivist = "archivist"  # ingests, reviews and edits metadata for its organ
    officer = "officer"  # searches and reads what its organ may see
    clerk = "clerk"  # sends and receives exchange messages for its organ
