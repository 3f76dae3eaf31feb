"""The organ fields of the pages: GET /organs?q=… finds at most 20 organs for a field's
datalist (app/web/static/organs.js), and what a field sent is read back as an OrganId. The
national registry holds 38,000 organs: no page lists them all."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import Depends, FastAPI, Request

from app.auth import allow
from app.compose import Context
from app.web.i18n import STRINGS, language
from organs.registry import OrganRegistry
from schemas.accounts import Role
from schemas.models import Organ
from schemas.text import fold

FOUND = 20  # organs a search gives a field
_ID_AT_END = re.compile(r"\(([0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[0-9A-Z]{3})\)\s*$")


def register_organ_search(api: FastAPI, context: Context) -> None:
    signed_in = [Depends(allow(*Role))]

    @api.get("/organs", dependencies=signed_in, tags=["web"])
    def find_organs(request: Request, q: str = "") -> dict[str, Any]:
        """Organs named by the words typed (the last maybe unfinished) or whose id starts with
        `q`, those existing today first; two characters at least."""
        found = context.registry.search(q, FOUND) if len(q.strip()) >= 2 else []
        t, today = STRINGS[language(request)], date.today()
        return {"organs": [organ_option(o, today, t) for o in found]}


def organ_option(organ: Organ, today: date, t: dict[str, str]) -> dict[str, Any]:
    """An organ as a field offers it: its id, and a label that says when it did not exist."""
    label = f"{organ.name} ({organ.organ_id})"
    if organ.valid_to and organ.valid_to < today:
        label += f" – {t['organ_until']} {organ.valid_to.isoformat()}"
    elif organ.valid_from and organ.valid_from > today:
        label += f" – {t['organ_from']} {organ.valid_from.isoformat()}"
    return {"id": organ.organ_id, "name": organ.name, "label": label, "level": organ.level.value}


def organ_id_of(registry: OrganRegistry, text: str) -> str:
    """The OrganId a field sent: the id itself, a label's `Name (ID)`, or the exact name of the
    one organ existing today that bears it; else the text as sent, for the use case to refuse
    as it refuses any unknown organ."""
    text = text.strip()
    if registry.get(text) is not None:
        return text
    labelled = _ID_AT_END.search(text)
    if labelled and registry.get(labelled.group(1)) is not None:
        return labelled.group(1)
    named = [
        o for o in registry.search(text, FOUND) if o.active_on(date.today()) and _same(o, text)
    ]
    return named[0].organ_id if len(named) == 1 else text


def _same(organ: Organ, text: str) -> bool:
    return any(fold(form) == fold(text) for form in (organ.name, *organ.aliases))
