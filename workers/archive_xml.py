"""The XML of an archival package: METS (E-ARK CSIP/SIP profile), PREMIS 3 events and the
descriptive metadata of a document or dossier (docs/preservation.md).

Written with lxml from what the package writer hands over (records, file facts, events);
nothing here reads a store. Element order and content follow the published METS 1.12 (with
the E-ARK CSIP/SIP extension attributes) and PREMIS 3.0 schemas; tests/test_archive.py
validates every file an export writes against them (vendored in tests/schemas/).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from schemas.models import Document, Dossier, is_local_organ, utcnow
from workers.archive_fields import DOCUMENT_FIELDS, DOSSIER_FIELDS, ArchiveField

METS = "http://www.loc.gov/METS/"
PREMIS = "http://www.loc.gov/premis/v3"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CSIP = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
ND30 = "urn:sohoa:archive:nd30"  # our descriptive record: field names from ND30 (fields table)
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
ID_TYPE = "sohoa"  # identifier type of objects, events and agents we name


@dataclass(frozen=True)
class PackedFile:
    """One file of the package: where it is (relative to the package root) and its facts."""

    path: str
    size: int
    sha256: str
    mime: str
    doc_id: str = ""  # the document it belongs to ("" for the dossier's own files)
    use: str = ""  # original | pdfa | pages | record | access | descriptive | preservation


@dataclass(frozen=True)
class Event:
    """One PREMIS event of a document's life."""

    kind: str  # PREMIS eventType (id.loc.gov preservation vocabulary)
    at: datetime
    detail: str
    outcome: str  # success | failure | a short word
    outcome_note: str = ""
    objects: tuple[str, ...] = ()  # object identifiers it concerns
    agents: tuple[str, ...] = ()


@dataclass
class Agent:
    ident: str
    name: str
    kind: str  # software | organization | person
    version: str = ""


@dataclass
class PremisInput:
    doc: Document
    files: list[PackedFile]  # of this document: original, searchable PDF
    events: list[Event]
    agents: list[Agent] = field(default_factory=list)


def _sub(parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str):  # noqa: ANN202
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


# ------------------------------------------------------------------ descriptive (ND30)


def _value_text(value: Any) -> list[str]:
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _field(parent: etree._Element, spec: ArchiveField, value: Any, confidence: float | None):
    for text in _value_text(value):
        attrs = {"name": spec.name, "vi": spec.vi, "rule": spec.rule}
        if confidence is not None:
            attrs["confidence"] = f"{confidence:.2f}"
        _sub(parent, ND30, "field", text, **attrs)


def document_description(doc: Document, order: int | None) -> bytes:
    """`<document>` with one `<field>` per known value, named as the ND30 rules name it."""
    root = etree.Element(f"{{{ND30}}}document", nsmap={None: ND30}, id=doc.id)
    _sub(root, ND30, "sourceName", doc.source_name)
    fields = doc.metadata.fields()
    for spec in DOCUMENT_FIELDS:
        if spec.name == "dossier":
            _field(root, spec, doc.dossier, None)
        elif spec.name == "order_in_dossier":
            _field(root, spec, order, None)
        elif spec.name == "page_amount":
            value = fields[spec.name].value or doc.page_count or None
            _field(root, spec, value, fields[spec.name].confidence if value else None)
        else:
            value = fields[spec.name].value
            _field(root, _local_spec(spec, value), value, fields[spec.name].confidence)
    return _serialise(root)


# A local organ's code (pipeline/local_organ.py) must not pass for a QCVN 102 identifier.
LOCAL_CODE_VI = "Mã cơ quan cục bộ của sohoa, không phải mã định danh theo QCVN 102"


def _local_spec(spec: ArchiveField, value: Any) -> ArchiveField:
    """The field as it is named for a local organ's code (or a DocumentId made with one)."""
    if spec.name in ("organ_id", "document_id") and is_local_organ(value):
        return ArchiveField(spec.name, LOCAL_CODE_VI, spec.rule)
    return spec


def dossier_description(dossier: Dossier) -> bytes:
    root = etree.Element(f"{{{ND30}}}dossier", nsmap={None: ND30}, fileCode=dossier.file_code)
    for spec in DOSSIER_FIELDS:
        _field(root, spec, getattr(dossier, spec.name), None)
    for n, doc_id in enumerate(dossier.documents, start=1):
        _sub(root, ND30, "member", doc_id, order=str(n))
    return _serialise(root)


# ------------------------------------------------------------------ PREMIS


def _identifier(parent: etree._Element, tag: str, value: str) -> None:
    ident = _sub(parent, PREMIS, tag)
    _sub(ident, PREMIS, f"{tag}Type", ID_TYPE)
    _sub(ident, PREMIS, f"{tag}Value", value)


def _premis_object(root: etree._Element, packed: PackedFile, original_name: str) -> None:
    obj = _sub(root, PREMIS, "object", **{f"{{{XSI}}}type": "premis:file"})
    _identifier(obj, "objectIdentifier", packed.path)
    chars = _sub(obj, PREMIS, "objectCharacteristics")
    _sub(chars, PREMIS, "compositionLevel", "0")
    fixity = _sub(chars, PREMIS, "fixity")
    _sub(fixity, PREMIS, "messageDigestAlgorithm", "SHA-256")
    _sub(fixity, PREMIS, "messageDigest", packed.sha256)
    _sub(chars, PREMIS, "size", str(packed.size))
    designation = _sub(_sub(chars, PREMIS, "format"), PREMIS, "formatDesignation")
    _sub(designation, PREMIS, "formatName", packed.mime)
    if original_name:
        _sub(obj, PREMIS, "originalName", original_name)


def _premis_event(root: etree._Element, n: int, doc_id: str, event: Event) -> None:
    element = _sub(root, PREMIS, "event")
    _identifier(element, "eventIdentifier", f"{doc_id}/event/{n}")
    _sub(element, PREMIS, "eventType", event.kind)
    _sub(element, PREMIS, "eventDateTime", _iso(event.at))
    _sub(_sub(element, PREMIS, "eventDetailInformation"), PREMIS, "eventDetail", event.detail)
    outcome = _sub(element, PREMIS, "eventOutcomeInformation")
    _sub(outcome, PREMIS, "eventOutcome", event.outcome)
    if event.outcome_note:
        detail = _sub(outcome, PREMIS, "eventOutcomeDetail")
        _sub(detail, PREMIS, "eventOutcomeDetailNote", event.outcome_note)
    for agent in event.agents:
        _identifier(element, "linkingAgentIdentifier", agent)
    for obj in event.objects:
        _identifier(element, "linkingObjectIdentifier", obj)


def _premis_entity(root: etree._Element, doc: Document) -> None:
    """The document itself as an intellectual entity: PREMIS 3 requires at least one object,
    and a document whose files are missing from the store still has its events told."""
    obj = _sub(root, PREMIS, "object", **{f"{{{XSI}}}type": "premis:intellectualEntity"})
    _identifier(obj, "objectIdentifier", doc.id)
    _sub(obj, PREMIS, "originalName", doc.source_name)


def premis(data: PremisInput) -> bytes:
    """PREMIS 3: the document (an intellectual entity) and its files (objects), what happened
    to them (events), by whom."""
    root = etree.Element(f"{{{PREMIS}}}premis", nsmap={"premis": PREMIS, "xsi": XSI}, version="3.0")
    _premis_entity(root, data.doc)
    for packed in data.files:
        _premis_object(root, packed, data.doc.source_name if packed.use == "original" else "")
    for n, event in enumerate(data.events, start=1):
        _premis_event(root, n, data.doc.id, event)
    for agent in data.agents:
        element = _sub(root, PREMIS, "agent")
        _identifier(element, "agentIdentifier", agent.ident)
        _sub(element, PREMIS, "agentName", agent.name)
        _sub(element, PREMIS, "agentType", agent.kind)
        if agent.version:
            _sub(element, PREMIS, "agentVersion", agent.version)
    return _serialise(root)


# ------------------------------------------------------------------ METS


@dataclass
class MetsInput:
    objid: str  # the package's id: the dossier code or the document id
    label: str
    creator: str  # "sohoa <version>"
    organ: str  # the owner organ(s), the submitting agent
    representations: list[tuple[str, str]]  # (rep name, document id), in order
    files: list[PackedFile]  # every file of the package but METS.xml itself


def _file_attrs(packed: PackedFile, ident: str) -> dict[str, str]:
    return {
        "ID": ident,
        "MIMETYPE": packed.mime,
        "SIZE": str(packed.size),
        "CREATED": _iso(utcnow()),
        "CHECKSUM": packed.sha256,
        "CHECKSUMTYPE": "SHA-256",
    }


def _md_ref(parent: etree._Element, packed: PackedFile, mdtype: str, other: str = "") -> None:
    attrs = {
        "LOCTYPE": "URL",
        f"{{{XLINK}}}type": "simple",
        f"{{{XLINK}}}href": packed.path,
        "MDTYPE": mdtype,
        "MIMETYPE": packed.mime,
        "SIZE": str(packed.size),
        "CHECKSUM": packed.sha256,
        "CHECKSUMTYPE": "SHA-256",
    }
    if other:
        attrs["OTHERMDTYPE"] = other
    _sub(parent, METS, "mdRef", **attrs)


def _ids(files: Iterable[PackedFile], prefix: str) -> list[tuple[str, PackedFile]]:
    return [(f"{prefix}-{n}", f) for n, f in enumerate(files, start=1)]


def mets(data: MetsInput) -> bytes:
    """The package's root METS.xml: header, one dmdSec per descriptive file, one amdSec
    holding the PREMIS files, the file section by representation, and the CSIP structMap."""
    nsmap = {"mets": METS, "xlink": XLINK, "xsi": XSI, "csip": CSIP, "sip": SIP}
    root = etree.Element(
        f"{{{METS}}}mets",
        nsmap=nsmap,
        OBJID=data.objid,
        LABEL=data.label,
        TYPE="Mixed",
        PROFILE=SIP_PROFILE,
        **{
            f"{{{CSIP}}}CONTENTINFORMATIONTYPE": "OTHER",
            f"{{{CSIP}}}OTHERCONTENTINFORMATIONTYPE": "ND30",
        },
    )
    header = _sub(root, METS, "metsHdr", CREATEDATE=_iso(utcnow()), RECORDSTATUS="NEW")
    header.set(f"{{{CSIP}}}OAISPACKAGETYPE", "SIP")
    creator = _sub(header, METS, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    _sub(creator, METS, "name", data.creator)
    if data.organ:
        submitter = _sub(header, METS, "agent", ROLE="ARCHIVIST", TYPE="ORGANIZATION")
        _sub(submitter, METS, "name", data.organ)
    by_use: dict[str, list[PackedFile]] = {}
    for packed in data.files:
        by_use.setdefault(packed.use, []).append(packed)
    dmd = _ids(by_use.get("descriptive", []), "dmd")
    for ident, packed in dmd:
        section = _sub(root, METS, "dmdSec", ID=ident, CREATED=_iso(utcnow()))
        _md_ref(section, packed, "OTHER", "ND30")
    amd_ids = []
    if by_use.get("preservation"):
        amd = _sub(root, METS, "amdSec", ID="amd-1")
        for ident, packed in _ids(by_use["preservation"], "premis"):
            _md_ref(_sub(amd, METS, "digiprovMD", ID=ident), packed, "PREMIS")
            amd_ids.append(ident)
    file_sec = _sub(root, METS, "fileSec", ID="filesec-1")
    other = [f for use in ("record", "access", "pages") for f in by_use.get(use, [])]
    if other:
        group = _sub(file_sec, METS, "fileGrp", ID="grp-other", USE="Metadata/Other")
        for ident, packed in _ids(other, "other"):
            _flocat(_sub(group, METS, "file", **_file_attrs(packed, ident)), packed)
    rep_groups = []
    for rep, doc_id in data.representations:
        files = [f for f in data.files if f.doc_id == doc_id and f.use in ("original", "pdfa")]
        group_id = f"grp-{rep}"
        group = _sub(file_sec, METS, "fileGrp", ID=group_id, USE=f"Representations/{rep}")
        for ident, packed in _ids(files, f"file-{rep}"):
            _flocat(_sub(group, METS, "file", **_file_attrs(packed, ident)), packed)
        rep_groups.append((rep, doc_id, group_id))
    struct = _sub(root, METS, "structMap", ID="struct-1", TYPE="PHYSICAL", LABEL="CSIP")
    top = _sub(struct, METS, "div", ID="div-root", LABEL=data.objid)
    metadata_div = _sub(top, METS, "div", ID="div-metadata", LABEL="Metadata")
    if dmd:
        metadata_div.set("DMDID", " ".join(ident for ident, _ in dmd))
    if amd_ids:
        metadata_div.set("ADMID", " ".join(amd_ids))
    if other:
        _sub(
            _sub(top, METS, "div", ID="div-other", LABEL="Metadata/Other"),
            METS,
            "fptr",
            FILEID="grp-other",
        )
    for rep, doc_id, group_id in rep_groups:
        div = _sub(top, METS, "div", ID=f"div-{rep}", LABEL=f"Representations/{rep}")
        div.set("ORDERLABEL", doc_id)
        _sub(div, METS, "fptr", FILEID=group_id)
    return _serialise(root)


def _flocat(file_element: etree._Element, packed: PackedFile) -> None:
    attrs = {"LOCTYPE": "URL", f"{{{XLINK}}}type": "simple", f"{{{XLINK}}}href": packed.path}
    _sub(file_element, METS, "FLocat", **attrs)
