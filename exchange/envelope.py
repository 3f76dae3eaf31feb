"""Build and parse edXML envelopes (QCVN 102:2016/BTTTT) with a hardened XML parser.

Layout (as the published samples lay it out)::

    <edXML xmlns="…QCVN_102_2016">
      <edXML:edXMLEnvelope xmlns:edXML="…QCVN_102_2016">
        <edXML:edXMLHeader>
          <edXML:MessageHeader> From, To, ResponseFor, DocumentId, Code, PromulgationInfo,
             DocumentType, Subject, Content, SignerInfo, DueDate, ToPlaces, OtherInfo,
             SteeringType </edXML:MessageHeader>
          <edXML:TraceHeaderList id="<message id>"> TraceHeader…, Bussiness </…>
          <ds:Signature/>                      (enveloped XML-DSig, see signing.py)
        </edXML:edXMLHeader>
        <edXML:edXMLBody><edXML:edXMLManifest> Reference xlink:href="cid:<uuid>" … </…>
      </edXML:edXMLEnvelope>
      <AttachmentEncoded><Attachment> ContentType ContentId Description
         ContentTransferEncoded (base64) AttachmentName </Attachment></AttachmentEncoded>
    </edXML>

A Status message has `edXML:Status` in place of MessageHeader/TraceHeaderList and no body.
"""

from __future__ import annotations

import base64
import binascii
import re

from lxml import etree

from exchange.models import (
    NS,
    Attachment,
    Business,
    Envelope,
    EnvelopeError,
    Kind,
    OrganInfo,
    ResponseFor,
    Status,
    StatusMessage,
    TraceHeader,
)

XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64

_ORGAN_FIELDS = (
    ("OrganId", "organ_id"),
    ("OrganizationInCharge", "organization_in_charge"),
    ("OrganName", "organ_name"),
    ("OrganAdd", "organ_add"),
    ("Email", "email"),
    ("Telephone", "telephone"),
    ("Fax", "fax"),
    ("Website", "website"),
)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


# ------------------------------------------------------------------------------ parsing


def secure_parse(data: bytes, max_bytes: int = MAX_BYTES) -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network, bounded size and depth."""
    if not data or not data.strip():
        raise EnvelopeError("empty message: no XML at all")
    if len(data) > max_bytes:
        raise EnvelopeError(f"message is {len(data):,} bytes, above the limit of {max_bytes:,}")
    head = data[:4096].lstrip()
    if re.search(rb"<!DOCTYPE|<!ENTITY", data, re.IGNORECASE):
        raise EnvelopeError("DTDs and entity declarations are not allowed in edXML messages")
    if not head.startswith(b"<"):
        raise EnvelopeError("not XML: the message does not start with '<'")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,  # base64 attachments exceed libxml2's 10 MB text node limit
        remove_blank_text=False,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line, col = e.position if e.position else (0, 0)
        raise EnvelopeError(f"malformed XML at line {line}, column {col}: {e.msg}") from e
    _check_depth(root)
    return root


def _check_depth(root: etree._Element) -> None:
    for el in root.iter():
        depth = 0
        node = el
        while node is not None and depth <= MAX_DEPTH:
            node = node.getparent()
            depth += 1
        if depth > MAX_DEPTH:
            raise EnvelopeError(f"XML nested deeper than {MAX_DEPTH} levels")


def _child(el: etree._Element | None, tag: str) -> etree._Element | None:
    if el is None:
        return None
    found = el.find(_q(tag))
    return found if found is not None else el.find(tag)


def _children(el: etree._Element | None, tag: str) -> list[etree._Element]:
    if el is None:
        return []
    return el.findall(_q(tag)) + el.findall(tag)


def _text(el: etree._Element | None, tag: str) -> str:
    found = _child(el, tag)
    return (found.text or "").strip() if found is not None else ""


def _organ(el: etree._Element | None) -> OrganInfo:
    return OrganInfo(**{attr: _text(el, tag) for tag, attr in _ORGAN_FIELDS})


def _response_for(el: etree._Element) -> ResponseFor:
    return ResponseFor(
        organ_id=_text(el, "OrganId"),
        code=_text(el, "Code"),
        promulgation_date=_text(el, "PromulgationDate"),
        document_id=_text(el, "DocumentId"),
        message_id=_text(el, "MessageId"),
    )


def _header(root: etree._Element) -> etree._Element:
    if etree.QName(root).localname != "edXML":
        raise EnvelopeError(f"not an edXML message: the root element is <{root.tag}>")
    if etree.QName(root).namespace not in (NS, None):
        raise EnvelopeError(f"root element in namespace {etree.QName(root).namespace}, not {NS}")
    envelope = _child(root, "edXMLEnvelope")
    if envelope is None:
        raise EnvelopeError("no edXMLEnvelope element under edXML")
    header = _child(envelope, "edXMLHeader")
    if header is None:
        raise EnvelopeError("no edXMLHeader element in the edXMLEnvelope")
    return header


def envelope_from_tree(root: etree._Element) -> Envelope:
    header = _header(root)
    mh = _child(header, "MessageHeader")
    if mh is None:
        raise EnvelopeError("no MessageHeader in the edXMLHeader (a Status message?)")
    sender = _organ(_child(mh, "From"))
    if not sender.organ_id:
        raise EnvelopeError("MessageHeader/From/OrganId is missing")
    recipients = [_organ(t) for t in _children(mh, "To")]
    if not recipients or not all(r.organ_id for r in recipients):
        raise EnvelopeError("MessageHeader/To/OrganId is missing")
    code, prom, dtype = (
        _child(mh, "Code"),
        _child(mh, "PromulgationInfo"),
        _child(mh, "DocumentType"),
    )
    signer, other = _child(mh, "SignerInfo"), _child(mh, "OtherInfo")
    traces = _child(header, "TraceHeaderList")
    business = _child(traces, "Bussiness")
    env = Envelope(
        message_id=(traces.get("id") or "").strip() if traces is not None else "",
        sender=sender,
        recipients=recipients,
        response_for=[_response_for(r) for r in _children(mh, "ResponseFor")],
        document_id=_text(mh, "DocumentId"),
        code_number=_text(code, "CodeNumber"),
        code_notation=_text(code, "CodeNotation"),
        place=_text(prom, "Place"),
        promulgation_date=_text(prom, "PromulgationDate"),
        doc_type=_text(dtype, "Type"),
        type_name=_text(dtype, "TypeName"),
        subject=_text(mh, "Subject"),
        content=_text(mh, "Content"),
        signer_competence=_text(signer, "Competence"),
        signer_position=_text(signer, "Position"),
        signer_name=_text(signer, "FullName"),
        due_date=_text(mh, "DueDate"),
        to_places=[(p.text or "").strip() for p in _children(_child(mh, "ToPlaces"), "Place")],
        priority=_text(other, "Priority"),
        sphere_of_promulgation=_text(other, "SphereOfPromulgation"),
        typer_notation=_text(other, "TyperNotation"),
        promulgation_amount=_text(other, "PromulgationAmount"),
        page_amount=_text(other, "PageAmount"),
        appendixes=[
            (a.text or "").strip()
            for a in _children(_child(other, "Appendixes"), "Appendix")
            if (a.text or "").strip()
        ],
        steering_type=_text(mh, "SteeringType"),
        trace=[
            TraceHeader(organ_id=_text(t, "OrganId"), timestamp=_text(t, "Timestamp"))
            for t in _children(traces, "TraceHeader")
        ],
        business=_business(business),
        attachments=_attachments(root, envelope=_child(root, "edXMLEnvelope")),
    )
    return env


def _business(el: etree._Element | None) -> Business:
    if el is None:
        return Business()
    kind = _text(el, "BussinessDocType") or "0"
    try:
        doc_type = Kind(kind)
    except ValueError as e:
        raise EnvelopeError(f"Bussiness/BussinessDocType {kind!r} is not 0, 1, 2 or 3") from e
    replaces = [
        _text(info, "DocumentId")
        for info in _children(_child(el, "ReplacementInfoList"), "ReplacementInfo")
        if _text(info, "DocumentId")
    ]
    return Business(
        doc_type=doc_type,
        reason=_text(el, "BussinessDocReason"),
        paper=_text(el, "Paper") or "0",
        replaces=replaces,
    )


def _attachments(root: etree._Element, envelope: etree._Element) -> list[Attachment]:
    manifest = _child(_child(envelope, "edXMLBody"), "edXMLManifest")
    if manifest is None:
        manifest = _child(_child(envelope, "edXMLBody"), "Manifest")
    listed: dict[str, dict[str, str]] = {}
    for ref in _children(manifest, "Reference"):
        cid = _text(ref, "ContentId") or ref.get(f"{{{XLINK}}}href", "")
        cid = cid.removeprefix("cid:").strip()
        if not cid:
            raise EnvelopeError("a Manifest Reference has no ContentId")
        listed[cid] = {
            "name": _text(ref, "AttachmentName"),
            "content_type": _text(ref, "ContentType"),
            "description": _text(ref, "Description"),
        }
    encoded = _child(root, "AttachmentEncoded")
    found: list[Attachment] = []
    for att in _children(encoded, "Attachment"):
        cid = _text(att, "ContentId").removeprefix("cid:").strip()
        if cid not in listed:
            raise EnvelopeError(f"attachment cid:{cid} is not listed in the Manifest")
        raw = _text(att, "ContentTransferEncoded")
        try:
            data = base64.b64decode("".join(raw.split()), validate=True)
        except (binascii.Error, ValueError) as e:
            raise EnvelopeError(f"attachment cid:{cid}: content is not valid base64") from e
        ref = listed[cid]
        found.append(
            Attachment(
                content_id=cid,
                name=ref["name"] or _text(att, "AttachmentName") or cid,
                content_type=ref["content_type"]
                or _text(att, "ContentType")
                or "application/octet-stream",
                description=ref["description"] or _text(att, "Description"),
                data=data,
            )
        )
    missing = set(listed) - {a.content_id for a in found}
    if missing:
        raise EnvelopeError(
            "attachment(s) listed in the Manifest but not included: "
            + ", ".join(f"cid:{c}" for c in sorted(missing))
        )
    return found


def parse_envelope(data: bytes, max_bytes: int = MAX_BYTES) -> Envelope:
    return envelope_from_tree(secure_parse(data, max_bytes))


def status_from_tree(root: etree._Element) -> StatusMessage:
    header = _header(root)
    st = _child(header, "Status")
    if st is None:
        raise EnvelopeError("no Status element in the edXMLHeader")
    code = _text(st, "StatusCode")
    try:
        status = Status(code)
    except ValueError as e:
        raise EnvelopeError(f"StatusCode {code!r} is not a QCVN 102 status code") from e
    rf = _child(st, "ResponseFor")
    staff = _child(st, "StaffInfo")
    sender = _organ(_child(st, "From"))
    if not sender.organ_id:
        raise EnvelopeError("Status/From/OrganId is missing")
    return StatusMessage(
        response_for=_response_for(rf) if rf is not None else ResponseFor(),
        sender=sender,
        code=status,
        description=_text(st, "Description"),
        timestamp=_text(st, "Timestamp"),
        staff=_text(staff, "Staff"),
        department=_text(staff, "Department"),
    )


def parse_status(data: bytes, max_bytes: int = 1024 * 1024) -> StatusMessage:
    return status_from_tree(secure_parse(data, max_bytes))


def is_status(root: etree._Element) -> bool:
    return _child(_header(root), "Status") is not None


# ------------------------------------------------------------------------------ building


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(tag))
    if text is not None:
        el.text = text
    return el


def _organ_el(parent: etree._Element, tag: str, organ: OrganInfo) -> None:
    el = _sub(parent, tag)
    for xml_tag, attr in _ORGAN_FIELDS:
        _sub(el, xml_tag, getattr(organ, attr))


def _response_for_el(parent: etree._Element, rf: ResponseFor) -> None:
    el = _sub(parent, "ResponseFor")
    _sub(el, "OrganId", rf.organ_id)
    _sub(el, "Code", rf.code)
    _sub(el, "PromulgationDate", rf.promulgation_date)
    _sub(el, "DocumentId", rf.document_id)
    if rf.message_id:
        _sub(el, "MessageId", rf.message_id)


def _skeleton() -> tuple[etree._Element, etree._Element, etree._Element]:
    root = etree.Element(_q("edXML"), nsmap={None: NS, "xsi": XSI, "xsd": XSD})
    envelope = etree.SubElement(root, _q("edXMLEnvelope"), nsmap={"edXML": NS})
    header = _sub(envelope, "edXMLHeader")
    return root, envelope, header


def signature_placeholder(header: etree._Element) -> None:
    """Where signing.sign puts ds:Signature: the last child of edXMLHeader."""
    etree.SubElement(header, f"{{{DSIG}}}Signature", nsmap={"ds": DSIG}, Id="placeholder")


def envelope_tree(env: Envelope) -> etree._Element:
    root, envelope, header = _skeleton()
    mh = _sub(header, "MessageHeader")
    _organ_el(mh, "From", env.sender)
    for recipient in env.recipients:
        _organ_el(mh, "To", recipient)
    for rf in env.response_for:
        _response_for_el(mh, rf)
    _sub(mh, "DocumentId", env.document_id)
    code = _sub(mh, "Code")
    _sub(code, "CodeNumber", env.code_number)
    _sub(code, "CodeNotation", env.code_notation)
    prom = _sub(mh, "PromulgationInfo")
    _sub(prom, "Place", env.place)
    _sub(prom, "PromulgationDate", env.promulgation_date)
    dtype = _sub(mh, "DocumentType")
    _sub(dtype, "Type", env.doc_type)
    _sub(dtype, "TypeName", env.type_name)
    _sub(mh, "Subject", env.subject)
    _sub(mh, "Content", env.content)
    signer = _sub(mh, "SignerInfo")
    _sub(signer, "Competence", env.signer_competence)
    _sub(signer, "Position", env.signer_position)
    _sub(signer, "FullName", env.signer_name)
    _sub(mh, "DueDate", env.due_date)
    places = _sub(mh, "ToPlaces")
    for place in env.to_places:
        _sub(places, "Place", place)
    other = _sub(mh, "OtherInfo")
    _sub(other, "Priority", env.priority)
    _sub(other, "SphereOfPromulgation", env.sphere_of_promulgation)
    _sub(other, "TyperNotation", env.typer_notation)
    _sub(other, "PromulgationAmount", env.promulgation_amount)
    _sub(other, "PageAmount", env.page_amount)
    appendixes = _sub(other, "Appendixes")
    for appendix in env.appendixes:
        _sub(appendixes, "Appendix", appendix)
    _sub(mh, "SteeringType", env.steering_type)
    traces = _sub(header, "TraceHeaderList")
    traces.set("id", env.message_id)
    traces.set("version", "1.0")
    for trace in env.trace:
        th = _sub(traces, "TraceHeader")
        _sub(th, "OrganId", trace.organ_id)
        _sub(th, "Timestamp", trace.timestamp)
    business = _sub(traces, "Bussiness")
    _sub(business, "BussinessDocType", env.business.doc_type.value)
    _sub(business, "BussinessDocReason", env.business.reason)
    _sub(business, "Paper", env.business.paper)
    if env.business.replaces:
        infos = _sub(business, "ReplacementInfoList")
        for doc_id in env.business.replaces:
            info = _sub(infos, "ReplacementInfo")
            _sub(info, "DocumentId", doc_id)
    signature_placeholder(header)
    body = _sub(envelope, "edXMLBody")
    manifest = _sub(body, "edXMLManifest")
    manifest.set("version", "1.0")
    for att in env.attachments:
        ref = etree.SubElement(manifest, _q("Reference"), nsmap={"xlink": XLINK})
        ref.set(f"{{{XLINK}}}href", f"cid:{att.content_id}")
        ref.set(f"{{{XLINK}}}type", "simple")
        _sub(ref, "Description", att.description)
        _sub(ref, "AttachmentName", att.name)
        _sub(ref, "ContentType", att.content_type)
        _sub(ref, "ContentId", f"cid:{att.content_id}")
    if env.attachments:
        encoded = _sub(root, "AttachmentEncoded")
        for att in env.attachments:
            el = _sub(encoded, "Attachment")
            _sub(el, "ContentType", att.content_type)
            _sub(el, "ContentId", att.content_id)
            _sub(el, "Description", att.description)
            _sub(el, "ContentTransferEncoded", base64.b64encode(att.data).decode("ascii"))
            _sub(el, "AttachmentName", att.name)
    return root


def status_tree(msg: StatusMessage) -> etree._Element:
    root, _envelope, header = _skeleton()
    st = _sub(header, "Status")
    _response_for_el(st, msg.response_for)
    _organ_el(st, "From", msg.sender)
    _sub(st, "StatusCode", msg.code.value)
    _sub(st, "Description", msg.description)
    _sub(st, "Timestamp", msg.timestamp)
    staff = _sub(st, "StaffInfo")
    _sub(staff, "Department", msg.department)
    _sub(staff, "Staff", msg.staff)
    signature_placeholder(header)
    return root


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def strip_placeholder(root: etree._Element) -> etree._Element:
    """An unsigned message has no ds:Signature at all (not an empty placeholder)."""
    for el in root.iter(f"{{{DSIG}}}Signature"):
        if el.get("Id") == "placeholder":
            el.getparent().remove(el)
    return root
