"""Why a document or a pair waits for a person, worded in the page's language.

The data carries the reason, the web layer words it (app/web/strings_review.py, keys `rv_r_` and
`rv_ev_`). A probable duplicate pair is data already (`storage.duplicates.Pair`: the same
DocumentId, each matching page and how alike by each kind): `pair_evidence` words it. A
metadata review reason is stored in the record as the pipeline's English sentence
(`pipeline.metadata.review_reasons`: `organ_name low confidence 0.70: no organ named … in the
registry`, `signer_name tone uncertain: Thuy (Thủy/Thúy)`, `pages 2-3: OCR text has few
Vietnamese diacritics …`): `review_reason` reads it back into a code and its parameters and
words that; a sentence it does not know is shown as stored. The API and the CLI keep the
English sentences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from storage.duplicates import PageMatch, Pair

Strings = Mapping[str, str]


@dataclass(frozen=True)
class Reason:
    code: str  # a key of the strings tables: rv_r_<code>
    params: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------ probable duplicates


def pair_evidence(pair: Pair, t: Strings) -> str:
    """`cùng mã văn bản …; trang 1 ~ trang 1 (hình 0.95, chữ 0.91)` (English as the API's)."""
    parts = [t["rv_ev_same_id"].format(id=pair.same_document_id)] if pair.same_document_id else []
    parts += [
        t["rv_ev_pages"].format(page=m.page_no, other=m.other_page_no, kinds=page_likeness(m, t))
        for m in pair.pages
    ]
    return "; ".join(parts) or t["rv_ev_none"]


def page_likeness(match: PageMatch, t: Strings) -> str:
    """How alike two pages are by each kind both have: `hình 0.95, chữ 0.91`."""
    kinds = (("rv_ev_image", match.image), ("rv_ev_text", match.text))
    return ", ".join(t[key].format(value=f"{v:.2f}") for key, v in kinds if v is not None)


# ------------------------------------------------------------------ metadata review reasons

_FIELD = r"(?P<name>[a-z_]+)"
_SENTENCES = (
    ("missing", re.compile(rf"{_FIELD} missing")),
    ("tone", re.compile(rf"{_FIELD} tone uncertain: (?P<words>.+)")),
    ("low", re.compile(rf"{_FIELD} low confidence (?P<confidence>[0-9.]+)(?:: (?P<note>.+))?")),
    (
        "diacritics",
        re.compile(r"(?P<word>pages?) (?P<pages>[0-9, -]+): OCR text has few Vietnamese .*"),
    ),
)
# What the pipeline and the organ registry say of why a value is unsure (the `note` above)
_NOTES = (
    ("note_tone_more", re.compile(r"tone uncertain: (?P<words>.+) and other words unsure")),
    ("note_tone", re.compile(r"tone uncertain: (?P<words>.+)")),
    ("note_not_listed", re.compile(r"no organ named (?P<name>'.+'|\".+\") in the registry")),
    (
        "note_not_then",
        re.compile(r"no organ named (?P<name>.+) existed on (?P<on>\S+): (?P<spans>.+)"),
    ),
    ("note_not_under", re.compile(r"no (?P<name>'.+'|\".+\") under (?P<parent>'.+'|\".+\")")),
    (
        "note_several",
        re.compile(r"several organs fit: (?P<organs>.+?)(?: and (?P<more>\d+) more)?"),
    ),
    ("note_no_name", re.compile(r"no organ name")),
    # why an organ the registry does not list is no local organ (pipeline/reconcile.py)
    ("note_no_kind", re.compile(r"no organ kind in the name")),
    ("note_no_parent", re.compile(r"the parent line names no one registry organ")),
    ("note_not_sure", re.compile(r"the name not read surely")),
)


def review_reason(text: str) -> Reason | None:
    """The stored sentence as a code and its parameters; None for one not known here."""
    for code, pattern in _SENTENCES:
        found = pattern.fullmatch(text)
        if found:
            return Reason(code, {k: v for k, v in found.groupdict().items() if v is not None})
    return None


def _note(note: str, t: Strings) -> str:
    """A note, part by part (the organ reading joins its reasons with "; "): a part not known
    here as stored, so a note no part of which is known reads exactly as stored."""
    return "; ".join(_note_part(part, t) for part in note.split("; "))


def _note_part(note: str, t: Strings) -> str:
    for code, pattern in _NOTES:
        found = pattern.fullmatch(note)
        if found:
            params = {k: v or "" for k, v in found.groupdict().items()}
            if code == "note_several" and params["more"]:
                params["organs"] += t["rv_r_more"].format(count=params["more"])
            if code == "note_not_then":
                params["spans"] = params["spans"].replace(" – now", t["rv_r_now"])
            return t[f"rv_r_{code}"].format(**params)
    return note


def shown_reason(text: str, t: Strings) -> str:
    """A stored review reason in the page's language (as stored when not known)."""
    reason = review_reason(text)
    if reason is None:
        return text
    params = dict(reason.params)
    if "name" in params:
        params["field"] = t.get(f"f_{params['name']}", params["name"])
    if "note" in params:
        params["note"] = _note(params["note"], t)
        return t["rv_r_low_note"].format(**params)
    return t[f"rv_r_{reason.code}"].format(**params)


# ------------------------------------------------------------------ a record's history

# The notes the workers leave in a record's history (workers/submit.py, tasks.py, review.py,
# duplicates.py), each part of a note ("; " between them) by itself
_HISTORY = (
    ("stored", re.compile(r"original stored from (?P<source>.+)")),
    ("again", re.compile(r"ingested again from (?P<source>.+): its failed pages are retried")),
    (
        "plan",
        re.compile(r"(?P<count>\d+) pages: (?P<text>\d+) with a text layer, (?P<ocr>\d+) to OCR"),
    ),
    ("retrying", re.compile(r"retrying failed pages (?P<pages>.+)")),
    ("indexed", re.compile(r"indexed")),
    ("skipped", re.compile(r"pages skipped: (?P<pages>.+)")),
    ("holds", re.compile(r"holds (?P<count>\d+) documents")),
    ("corrected", re.compile(rf"{_FIELD} corrected: (?P<change>.*)", re.DOTALL)),
    ("confirmed", re.compile(rf"{_FIELD} confirmed: (?P<value>.*)", re.DOTALL)),
    ("merged", re.compile(r"merged as a rescan of another record, searched instead")),
    ("follows", re.compile(r"the record it was merged into was merged into another: follows it")),
    ("not_duplicate", re.compile(r"not a duplicate of a look-alike")),
)


_KEPT = "kept; a rescan of it merged into it"


def shown_note(note: str, t: Strings) -> str:
    """A history note in the page's language, part by part (a part not known here as stored)."""
    if note == _KEPT:  # the one note that holds the separator itself
        return t["rv_h_kept"]
    return "; ".join(_history_part(part, t) for part in note.split("; "))


def _history_part(part: str, t: Strings) -> str:
    for code, pattern in _HISTORY:
        found = pattern.fullmatch(part)
        if found:
            params = found.groupdict()
            if "name" in params:
                params["field"] = t.get(f"f_{params['name']}", params["name"])
            return t[f"rv_h_{code}"].format(**params)
    return part
