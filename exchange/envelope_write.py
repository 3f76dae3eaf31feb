"""Write edXML envelopes and Status messages (QCVN 102:2016/BTTTT); the layout is drawn in
envelope_read.py, which reads them back.

Attachments can be as large as the message limit, so they are never a text node in memory:
write_envelope streams each one's base64 from its file into the output.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
from collections.abc import Callable, Iterator
from typing import BinaryIO

from lxml import etree

from exchange.envelope_read import (
    CHUNK,
    DSIG,
    ENVELOPE_ID,
    ORGAN_FIELDS,
    SHA256_URI,
    XLINK,
    XSD,
    XSI,
    qname,
)
from exchange.models import (
    NS,
    Attachment,
    Envelope,
    EnvelopeError,
    OrganInfo,
    ResponseFor,
    StatusMessage,
)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, qname(tag))
    if text is not None:
        el.text = text
    return el


def _organ_el(parent: etree._Element, tag: str, organ: OrganInfo) -> None:
    el = _sub(parent, tag)
    for xml_tag, attr in ORGAN_FIELDS:
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
    root = etree.Element(qname("edXML"), nsmap={None: NS, "xsi": XSI, "xsd": XSD})
    envelope = etree.SubElement(root, qname("edXMLEnvelope"), nsmap={"edXML": NS}, Id=ENVELOPE_ID)
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
        ref = etree.SubElement(manifest, qname("Reference"), nsmap={"xlink": XLINK})
        ref.set(f"{{{XLINK}}}href", f"cid:{att.content_id}")
        ref.set(f"{{{XLINK}}}type", "simple")
        _sub(ref, "Description", att.description)
        _sub(ref, "AttachmentName", att.name)
        _sub(ref, "ContentType", att.content_type)
        _sub(ref, "ContentId", f"cid:{att.content_id}")
        etree.SubElement(ref, f"{{{DSIG}}}DigestMethod", nsmap={"ds": DSIG}, Algorithm=SHA256_URI)
        value = etree.SubElement(ref, f"{{{DSIG}}}DigestValue", nsmap={"ds": DSIG})
        value.text = base64.b64encode(bytes.fromhex(content_sha256(att))).decode("ascii")
    if env.attachments:
        encoded = _sub(root, "AttachmentEncoded")
        for i, att in enumerate(env.attachments):
            el = _sub(encoded, "Attachment")
            _sub(el, "ContentType", att.content_type)
            _sub(el, "ContentId", att.content_id)
            _sub(el, "Description", att.description)
            _sub(el, "ContentTransferEncoded", _marker(i))  # write_envelope streams the base64
            _sub(el, "AttachmentName", att.name)
    return root


# Stands in for an attachment's base64 in the tree until write_envelope streams it out; random
# per process, so no header text can imitate it.
_MARK = secrets.token_hex(16)


def _marker(index: int) -> str:
    return f"{_MARK}-{index}-"


def content_sha256(att: Attachment) -> str:
    sha = hashlib.sha256()
    for chunk in att.chunks():
        sha.update(chunk)
    return sha.hexdigest()


def _base64_blocks(att: Attachment) -> Iterator[bytes]:
    carry = b""
    for chunk in att.chunks(CHUNK):
        chunk = carry + chunk
        cut = len(chunk) - len(chunk) % 3  # whole 3-byte groups: no padding mid-stream
        carry = chunk[cut:]
        if cut:
            yield base64.b64encode(chunk[:cut])
    if carry:
        yield base64.b64encode(carry)


def write_envelope(
    env: Envelope,
    out: BinaryIO,
    sign: Callable[[etree._Element], etree._Element] | None = None,
) -> int:
    """Write the edXML message to `out`, signed by `sign` (None: unsigned); returns its size.

    Only the header and Manifest are ever a tree in memory: each attachment's base64 is
    encoded from its file in blocks straight into `out`."""
    root = envelope_tree(env)
    head = to_bytes(sign(root) if sign is not None else strip_placeholder(root))
    written = 0
    for i, att in enumerate(env.attachments):
        before, found, head = head.partition(_marker(i).encode())
        if not found:
            raise EnvelopeError(f"attachment {att.name}: its place in the message was lost")
        written += out.write(before)
        for block in _base64_blocks(att):
            written += out.write(block)
    return written + out.write(head)


def envelope_bytes(
    env: Envelope, sign: Callable[[etree._Element], etree._Element] | None = None
) -> bytes:
    """The whole message in memory: for small messages and for tests."""
    out = io.BytesIO()
    write_envelope(env, out, sign)
    return out.getvalue()


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
