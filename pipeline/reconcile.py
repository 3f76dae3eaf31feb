"""The header's organ reconciled with the organ registry: the registry's spelling and id, the
parent line checked, the place confirmed by the organ's name, the edXML DocumentId."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from typing import Protocol

from pipeline import metadata_rules as rules
from pipeline.extracted import Extracted
from pipeline.lexicon import newer_placement
from pipeline.local_organ import local_code, organ_kind
from schemas.models import Organ, document_id_key
from schemas.text import fold


class OrganMatch(Protocol):
    """What the registry makes of an organ line (organs.match.Match): the organ when exactly
    one fits, else the candidates and why none was chosen; the reading of the line that
    matched (`name_read` under `parent_read`) when the header ran the two together."""

    @property
    def organ(self) -> Organ | None: ...
    @property
    def candidates(self) -> Sequence[Organ]: ...
    @property
    def confidence(self) -> float: ...
    @property
    def reason(self) -> str: ...
    @property
    def name_read(self) -> str: ...
    @property
    def parent_read(self) -> str | None: ...


# `find_organ(name, parent, on)`: the one organ the registry knows by that name, or None; or
# (OrganRegistry.match_header) an OrganMatch, which also lists the candidates when several fit.
FindOrgan = Callable[[str, str | None, date | None], "Organ | OrganMatch | None"]
UNKNOWN_ORGAN_CONFIDENCE = 0.7  # organ name the registry (when given) does not know
# Organ not in the registry, of a clear kind, under a parent line the registry knows: a local
# organ, trusted (0.8, over the key threshold 0.75) only when OCR read the whole name surely,
# KNOWN_PARENT_SURE or more (its weakest word about 87+ of Tesseract's 100). The weaker rule,
# min(OCR, 0.8), let a name with a word read at 70 through unflagged: no registry checks a
# name it does not list, so the OCR alone must be sure (tuning part of pages2: the names it
# trusts read 0.90–0.93).
KNOWN_PARENT_CONFIDENCE = 0.8
KNOWN_PARENT_SURE = 0.9
# The level words a unit's name ends with the locality of (`… TỈNH LÀO CAI`): the parent line
# `SỞ NÔNG NGHIỆP …` names one organ only with that locality.
# Compared as spelled (in capitals): folded, `QUẢN LÝ` would read as `QUẬN`.
_LOCALITY_WORDS = ("TỈNH", "THÀNH PHỐ", "HUYỆN", "QUẬN", "THỊ XÃ", "XÃ", "PHƯỜNG", "THỊ TRẤN")
CONFIRMED_PLACE = 0.9  # place that the organ's name (header or registry) spells


def read_registry(find_organ: FindOrgan | None, out: Extracted) -> Organ | None:
    name, parent = out.get("organ_name"), out.get("organ_parent")
    if find_organ is None or not name:
        return None
    issued = out.get("issued_date")
    organ, match = _find_respaced(find_organ, name, parent or None, issued)
    if organ is None and parent:
        organ, match = _one_name_over_lines(find_organ, out, name, parent, match)
        name = out.get("organ_name")
    if organ is None:
        _read_local(find_organ, out, name, match)
        return None
    conf = out.conf("organ_name")
    if match is not None and match.name_read and match.name_read != name:
        # The header ran the parent's line into the name: the organ's part is the name.
        name = match.name_read
        out.set("organ_name", name, conf)
        if match.parent_read and not parent:
            out.set("organ_parent", match.parent_read, conf)
    if match is not None:  # the registry alone fits: name, parent line and date agree
        conf = max(conf, match.confidence)
        out.set("organ_name", name, conf)
    _adopt_registry_form(out, "organ_name", name, organ)
    _check_parent(find_organ, out, organ)
    out.set("organ_id", organ.organ_id, max(conf, 0.9))
    out.set("organ_level", str(organ.level.value), max(conf, 0.9))
    return organ


def _one_name_over_lines(
    find_organ: FindOrgan, out: Extracted, name: str, parent: str, match: OrganMatch | None
) -> tuple[Organ | None, OrganMatch | None]:
    """The header's lines read as one organ's name, when the reading of the first as the
    parent found no organ and the whole names exactly one (`SỞ LAO ĐỘNG - THƯƠNG` / `BINH VÀ
    XÃ HỘI TỈNH` / `BÌNH ĐỊNH`: three lines, none opening an organ, are one department's
    name); the parent is then empty. Else the first reading's answer."""
    whole = f"{parent} {name}"
    organ, whole_match = _find_respaced(find_organ, whole, None, out.get("issued_date"))
    if organ is None:
        return None, match
    conf = min(out.conf("organ_name"), out.conf("organ_parent") or out.conf("organ_name"))
    out.set("organ_name", whole, conf)
    # no parent line: as sure as the registry is that the whole is one organ's name
    sure = whole_match.confidence if whole_match is not None else conf
    out.set("organ_parent", "", max(conf, sure), empty_ok=True)
    return organ, whole_match


def _read_local(find_organ: FindOrgan, out: Extracted, name: str, match: OrganMatch | None) -> None:
    """An organ the registry does not list: a new organ, or a misread name. A person looks,
    unless it is a local organ (pipeline/local_organ.py): a name of a clear kind (a school,
    a Chi cục, a Ban Quản lý …), no registry organ of that name in doubt, a parent line the
    registry resolves to one organ on the document's date, and the name read surely. Such an
    organ gets a local code under that parent and the parent's level, never an official id."""
    conf = out.conf("organ_name")
    kind = organ_kind(name)
    upper = _known_parent(find_organ, out)
    sure = conf >= KNOWN_PARENT_SURE
    in_doubt = match is not None and bool(match.candidates)
    if kind and upper is not None and sure and not in_doubt:
        conf = min(conf, KNOWN_PARENT_CONFIDENCE)
        out.set("organ_name", name, conf)
        out.set("organ_id", local_code(upper.organ_id, name), conf)
        out.set("organ_level", str(upper.level.value), conf)
        _check_parent(find_organ, out, upper, as_parent=True)
        return
    out.set("organ_name", name, min(conf, UNKNOWN_ORGAN_CONFIDENCE))
    why = [match.reason] if match is not None and match.reason else []
    if not in_doubt:  # what kept it from being a local organ, for the person who looks
        if not kind:
            why.append("no organ kind in the name")
        if upper is None:
            why.append("the parent line names no one registry organ")
        if not sure:
            why.append("the name not read surely")
    if why:
        out.notes["organ_name"] = "; ".join(why)


def _found(result: Organ | OrganMatch | None) -> tuple[Organ | None, OrganMatch | None]:
    if result is None or isinstance(result, Organ):
        return result, None
    return result.organ, result


def confirm_place(out: Extracted, organ: Organ | None) -> None:
    """The place (địa danh) is usually the locality the organ's own name ends with (`ỦY BAN
    NHÂN DÂN XÃ ĐẮK MAR` → `Đắk Mar`; the registry: `Sở Nội vụ tỉnh Kon Tum` → `Kon Tum`).
    A place that reads as such a locality up to diacritics takes the registry's spelling; the
    header's organ line, itself OCR, wins only when it was read more surely than the place
    (`Can Thơ` in the organ line must not replace a well-read `Cần Thơ`)."""
    place = out.get("issued_place")
    if not place:
        return
    if organ is not None and _respell_place(out, place, organ.name, CONFIRMED_PLACE):
        return
    for name in ("organ_name", "organ_parent"):
        read = out.get(name)
        if not read:
            continue
        spelled = _locality_in(read.title(), place)
        if spelled is None:
            continue
        if spelled == place.title() or out.conf(name) > out.conf("issued_place"):
            conf = max(out.conf("issued_place"), CONFIRMED_PLACE)
            out.set("issued_place", spelled if spelled != place.title() else place, conf)
        return


def _respell_place(out: Extracted, place: str, name: str, conf: float) -> bool:
    spelled = _locality_in(name, place)
    if spelled is None:
        return False
    if newer_placement(spelled) == newer_placement(place):
        spelled = place  # `Thanh Hoá` as printed: the older tone placement is no slip
    out.set("issued_place", spelled, max(out.conf("issued_place"), conf))
    return True


def _locality_in(name: str, place: str) -> str | None:
    """The words of `name` that read as `place` up to case and diacritics, as `name` spells
    them; None when it holds no such words."""
    want = fold(place).split()
    words = name.split()
    folded = [fold(w) for w in words]
    for i in range(len(words) - len(want) + 1):
        if folded[i : i + len(want)] == want:
            return " ".join(words[i : i + len(want)])
    return None


def _known_parent(find_organ: FindOrgan, out: Extracted) -> Organ | None:
    """The one organ the parent line names on the document's date, by itself or with the
    locality the organ's own name ends with (`SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN` over
    `TRƯỜNG TRUNG CẤP NÔNG LÂM TỈNH LÀO CAI`: the Sở of Lào Cai); None when it names none."""
    parent = out.get("organ_parent")
    if not parent:
        return None
    issued = out.get("issued_date")
    upper, _ = _find_respaced(find_organ, parent, None, issued)
    if upper is not None:
        return upper
    locality = _locality_tail(out.get("organ_name") or "")
    if not locality or fold(locality) in fold(parent):
        return None
    upper, _ = _find_respaced(find_organ, f"{parent} {locality}", None, issued)
    return upper


def _locality_tail(name: str) -> str | None:
    """`TỈNH LÀO CAI` of `CHI CỤC KIỂM LÂM TỈNH LÀO CAI`: the name from its last level word on,
    when a place follows it; None when the name ends with no locality."""
    words = name.split()
    spelled = [newer_placement(w.upper()) for w in words]
    for i in range(len(words) - 2, 0, -1):
        two = " ".join(spelled[i - 1 : i + 1]) in _LOCALITY_WORDS  # THỊ XÃ, THÀNH PHỐ
        if two or spelled[i] in _LOCALITY_WORDS:
            return " ".join(words[i - 1 if two else i :])
    return None


def _check_parent(
    find_organ: FindOrgan, out: Extracted, organ: Organ, as_parent: bool = False
) -> None:
    """The parent line as the registry spells it, when that is what was read (`organ` the
    organ under it, or with `as_parent` the parent itself)."""
    parent = out.get("organ_parent")
    if parent:
        upper, _ = _find_respaced(find_organ, parent, None, out.get("issued_date"))
        want = organ.organ_id if as_parent else organ.parent
        if upper is not None and upper.organ_id == want:
            _adopt_registry_form(out, "organ_parent", parent, upper)


def _find_respaced(
    find_organ: FindOrgan, name: str, parent: str | None, on: date | None
) -> tuple[Organ | None, OrganMatch | None]:
    """`find_organ`, and when it knows no such organ, the same names with words OCR ran
    together split again (`ĐẮKHÀ`, `KONTUM`, `TINVÀ`): the one organ some split finds."""
    organ, match = _found(find_organ(name, parent, on))
    if organ is not None:
        return organ, match
    found = {
        o.organ_id: (o, m)
        for n in dict.fromkeys([*rules.respacings(name), undoubled(name)])
        for p in (rules.respacings(parent) if parent else [None])
        if (n, p) != (name, parent)
        for o, m in [_found(find_organ(n, p, on))]
        if o is not None
    }
    return next(iter(found.values())) if len(found) == 1 else (None, match)


def undoubled(name: str) -> str:
    """`name` without a vowel OCR read twice with two tones (`QUÁẢN LÝ` → `QUẢN LÝ`, the
    second kept): a syllable carries one tone mark, so two tone-marked letters of one vowel
    side by side are a slip. The registry's spelling replaces the name when one organ fits it,
    so which tone stays does not matter."""
    letters = list(unicodedata.normalize("NFC", name))
    nexts = [*letters[1:], ""]
    return "".join(c for c, nxt in zip(letters, nexts, strict=True) if not _twice(c, nxt))


def _twice(c: str, nxt: str) -> bool:
    return bool(nxt) and _toned(c) and _toned(nxt) and fold(c) == fold(nxt)


_TONE_MARKS = set("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng


def _toned(c: str) -> bool:
    return any(m in _TONE_MARKS for m in unicodedata.normalize("NFD", c))


def _adopt_registry_form(out: Extracted, field: str, read: str, organ: Organ) -> None:
    """The registry's form of the name, when it is what was read up to OCR slips (diacritics,
    a lost space: `KONTUM`), in the case the page prints it (capitals, or the mixed-case parent
    line `Ủy ban nhân dân huyện …`). A name read in the older tone placement (`UỶ BAN`) is kept
    as printed: it is no slip."""
    # The name in capitals is a header form too (the national registry does not list it).
    forms = [organ.name.upper(), *organ.aliases] if read.isupper() else [organ.name]
    for form in dict.fromkeys(f for f in forms if f.isupper() == read.isupper()):
        if _letters(form) != _letters(read):
            continue
        out.set(field, _printed_placement(form, read), max(out.conf(field), 0.95))
        return


def _printed_placement(form: str, read: str) -> str:
    """The registry's `form`, each word in the tone placement it was read in where the two
    differ only by that (`UỶ BAN NHÂN DÂN THÀNH PHÔ CAN THƠ` read → `UỶ BAN NHÂN DÂN THÀNH PHỐ
    CẦN THƠ`): the older placement is a spelling the page printed, not an OCR slip. Word by
    word only when both have as many words (else OCR ran words together: the form as is)."""
    form_words, read_words = form.split(), read.split()
    if len(form_words) != len(read_words):
        return form
    return " ".join(
        r if r != f and newer_placement(r) == newer_placement(f) else f
        for f, r in zip(form_words, read_words, strict=True)
    )


def _letters(name: str) -> str:
    """The name folded, spaces and punctuation out: OCR drops and adds both (`LAO ĐỘNG
    THƯƠNG BINH` for `LAO ĐỘNG - THƯƠNG BINH`)."""
    return re.sub(r"[\W_]+", "", fold(name))


def read_document_id(out: Extracted) -> None:
    organ_id, issued = out.get("organ_id"), out.get("issued_date")
    number, notation = out.get("code_number"), out.get("code_notation")
    if organ_id and issued and number and notation:
        conf = min(out.conf(k) for k in ("organ_id", "issued_date", "code_number", "code_notation"))
        out.set("document_id", document_id_key(organ_id, issued, number, notation), conf)
