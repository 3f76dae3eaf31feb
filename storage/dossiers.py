"""Dossiers (hồ sơ) as JSON objects beside the records."""

from __future__ import annotations

import re
from collections.abc import Iterator

from schemas.errors import NotFound, SohoaError
from schemas.models import Dossier
from storage.base import ObjectStore
from storage.keys import dossier_key

FILE_CODE = re.compile(r"^[\w.\-]{1,80}$")


class BadFileCode(SohoaError):
    code = "bad_file_code"


def check_file_code(file_code: str) -> str:
    """File codes become object keys: letters, digits, '.', '-', '_' only (e.g. 2023.01.HS-12)."""
    if not FILE_CODE.match(file_code) or file_code.startswith("."):
        raise BadFileCode(f"dossier code {file_code!r}: use 1-80 letters, digits, '.', '-' or '_'")
    return file_code


class DossierStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def get(self, file_code: str) -> Dossier | None:
        try:
            raw = self.store.get_bytes(dossier_key(check_file_code(file_code)))
        except NotFound:
            return None
        return Dossier.model_validate_json(raw)

    def require(self, file_code: str) -> Dossier:
        dossier = self.get(file_code)
        if dossier is None:
            raise NotFound(f"no dossier {file_code!r}")
        return dossier

    def put(self, dossier: Dossier) -> None:
        key = dossier_key(check_file_code(dossier.file_code))
        self.store.put_bytes(key, dossier.model_dump_json().encode())

    def all(self) -> Iterator[Dossier]:
        for key in self.store.list("dossiers/"):
            if key.endswith(".json"):
                dossier = self.get(key.rsplit("/", 1)[-1].removesuffix(".json"))
                if dossier is not None:
                    yield dossier
