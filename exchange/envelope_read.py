"""Read edXML envelopes and Status messages (QCVN 102:2016/BTTTT) with a hardened XML parser;
envelope_write.py builds them. The limits and layout names here are shared by both.

Layout (as the published samples lay it out)::

    <edXML xmlns="…QCVN_102_2016">
      <edXML:edXMLEnvelope xmlns:edXML="…QCVN_102_2016" Id="edXMLEnvelope">
        <edXML:edXMLHeader>
          <edXML:MessageHeader> From, To, ResponseFor, DocumentId, Code, PromulgationInfo,
             DocumentType, Subject, Content, SignerInfo, DueDate, ToPlaces, OtherInfo,
             SteeringType </edXML:MessageHeader>
          <edXML:TraceHeaderList id="<message id>"> TraceHeader…, Bussiness </…>
          <ds:Signature/>     (enveloped XML-DSig over edXMLEnvelope, see signing.py)
        </edXML:edXMLHeader>
        <edXML:edXMLBody><edXML:edXMLManifest> Reference xlink:href="cid:<uuid>" …
            ds:DigestMethod ds:DigestValue (SHA-256 of the attachment) </…>
      </edXML:edXMLEnvelope>
      <AttachmentEncoded><Attachment> ContentType ContentId Description
         ContentTransferEncoded (base64) AttachmentName </Attachment></AttachmentEncoded>
    </edXML>

A Status message has `edXML:Status` in place of MessageHeader/TraceHeaderList and no body.

Attachments can be as large as the message limit (256 MiB), so they are never a text node in
memory: envelope_write.write_envelope streams each one's base64 from its file into the output,
and read_xml decodes it from the input into a file while the rest becomes a small tree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
from exchange.options import MAX_BYTES

XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
# What any message may make of a tree in memory, whatever its size in bytes (a header has a
# few hundred elements; 100,000 `<a/>` are 400 KB of XML but ~50 MB of tree): parsing stops
# with EnvelopeError at the first element, attribute or character past these.
MAX_DEPTH = 64
MAX_NODES = 100_000  # elements, comments and processing instructions
MAX_ATTRIBUTES = 32  # on one element
MAX_ATTRIBUTE_CHARS = 64 * 1024  # one attribute's value
MAX_TREE_CHARS = 32 * 1024 * 1024  # all text and attribute values kept in the tree (attachments'
# base64 is decoded to files and not counted when spooled)
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"
# The Id of edXMLEnvelope: what a sohoa signature references (header and Manifest; each
# attachment is bound by the SHA-256 its Manifest Reference carries).
ENVELOPE_ID = "edXMLEnvelope"

ORGAN_FIELDS = (
    ("OrganId", "organ_id"),
    ("OrganizationInCharge", "organization_in_charge"),
    ("OrganName", "organ_name"),
    ("OrganAdd", "organ_add"),
    ("Email", "email"),
    ("Telephone", "telephone"),
    ("Fax", "fax"),
    ("Website", "website"),
)


def qname(tag: str) -> str:
    return f"{{{NS}}}{tag}"


# ------------------------------------------------------------------------------ parsing

CHUNK = 1024 * 1024
# Where the attachments' base64 lives: edXML/AttachmentEncoded/Attachment/ContentTransferEncoded.
_ENCODED_PATH = ["edXML", "AttachmentEncoded", "Attachment", "ContentTransferEncoded"]
_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_WHITESPACE = str.maketrans("", "", " \t\r\n")
_NO_DTD = "DTDs and entity declarations are not allowed in edXML messages"
# Outside the signed edXMLEnvelope nothing is signed, so only what QCVN 102 puts there is
# accepted (by local name): a parent path -> the children it may have. Anything else is
# refused, not carried. ds:Signature: where some whole-document signers put it.
_UNSIGNED_LAYOUT: dict[tuple[str, ...], frozenset[str]] = {
    ("edXML",): frozenset({"edXMLEnvelope", "AttachmentEncoded", "Signature"}),
    ("edXML", "AttachmentEncoded"): frozenset({"Attachment"}),
    ("edXML", "AttachmentEncoded", "Attachment"): frozenset(
        {"ContentType", "ContentId", "Description", "ContentTransferEncoded", "AttachmentName"}
    ),
}


def xml_parser(**kw: object) -> etree.XMLParser:
    """The one hardened parser configuration (a new parser each time: lxml parsers are not
    thread-safe). huge_tree: a legitimate header or a legacy whole-document signature can
    hold text nodes above libxml2's 10 MB default; size is bounded by MAX_BYTES instead."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_blank_text=False,
        collect_ids=False,
        **kw,
    )


@dataclass
class Decoded:
    """One attachment's content, decoded from base64 while the XML streamed past."""

    path: Path | None  # spooled to this file; None: `data` holds it
    data: bytes
    sha256: str
    size_bytes: int
    error: str = ""  # why the text was not valid base64 (reported with the attachment's cid)


class _Base64Sink:
    """Decodes base64 text fed in pieces of any length to a file (or memory), hashing it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.out = path.open("wb") if path is not None else io.BytesIO()
        self.pending = ""
        self.padded = False
        self.error = ""
        self.sha = hashlib.sha256()
        self.size = 0

    def feed(self, text: str) -> None:
        if self.error:
            return
        piece = self.pending + text.translate(_WHITESPACE)
        if piece and self.padded:
            self.error = "data after the base64 padding"
            return
        cut = len(piece) - len(piece) % 4
        block, self.pending = piece[:cut], piece[cut:]
        if not block:
            return
        try:
            raw = binascii.a2b_base64(block.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError) as e:
            self.error = str(e) or "bad character"
            return
        self.padded = block.endswith("=")
        self.sha.update(raw)
        self.size += len(raw)
        self.out.write(raw)

    def close(self) -> Decoded:
        if self.pending and not self.error:
            self.error = "truncated (length not a multiple of 4)"
        data = b"" if self.path is not None else self.out.getvalue()
        self.out.close()
        return Decoded(self.path, data, self.sha.hexdigest(), self.size, self.error)


class _Reader:
    """lxml parser target: builds the tree, except that with a spool folder each attachment's
    base64 goes through a decoder to a file instead of into a text node, so memory stays
    bounded whatever the attachment's size. Also refuses DTDs and deep nesting as it goes."""

    def __init__(self, spool_dir: Path | None, max_chars: int) -> None:
        self.builder = etree.TreeBuilder()
        self.spool_dir = spool_dir
        self.stack: list[str] = []
        self.sink: _Base64Sink | None = None
        self.decoded: list[Decoded] = []
        self.error: EnvelopeError | None = None
        self.nodes = 0
        self.chars = 0
        self.max_chars = max_chars

    def _fail(self, message: str) -> None:
        self.error = self.error or EnvelopeError(message)
        raise self.error

    def _count(self, chars: int, nodes: int = 0) -> None:
        self.nodes += nodes
        self.chars += chars
        if self.nodes > MAX_NODES:
            self._fail(f"message has more than {MAX_NODES:,} XML elements")
        if self.chars > self.max_chars:
            self._fail(f"message holds more than {self.max_chars:,} characters of header text")

    def _check_layout(self, name: str) -> None:
        if not self.stack or self.stack[0] != "edXML":
            return  # not edXML at all: refused by its root once parsed (bounded until then)
        allowed = _UNSIGNED_LAYOUT.get(tuple(self.stack))
        if allowed is not None and name not in allowed:
            where = "/".join(self.stack)
            self._fail(f"unknown element <{name}> in {where}, outside the signed envelope")
        if len(self.stack) == 4 and self.stack[1] == "AttachmentEncoded":
            self._fail(f"{'/'.join(self.stack)} holds an element <{name}>, not text")

    def start(self, tag: str, attrib: dict, nsmap: dict) -> etree._Element:
        if len(self.stack) >= MAX_DEPTH:
            self._fail(f"XML nested deeper than {MAX_DEPTH} levels")
        if self.sink is not None:
            self._fail("an attachment's ContentTransferEncoded holds elements, not base64")
        if len(attrib) > MAX_ATTRIBUTES:
            self._fail(f"an element has more than {MAX_ATTRIBUTES} attributes")
        longest = max((len(v) for v in attrib.values()), default=0)
        if longest > MAX_ATTRIBUTE_CHARS:
            self._fail(f"an attribute value is longer than {MAX_ATTRIBUTE_CHARS:,} characters")
        self._count(sum(len(v) for v in attrib.values()), nodes=1)
        name = etree.QName(tag).localname
        self._check_layout(name)
        self.stack.append(name)
        if self.spool_dir is not None and self.stack == _ENCODED_PATH:
            self.sink = _Base64Sink(self.spool_dir / f"attachment-{len(self.decoded)}")
        # lxml names the default namespace '' here and None when building
        return self.builder.start(tag, attrib, {(k or None): v for k, v in nsmap.items()})

    def end(self, tag: str) -> etree._Element:
        if self.sink is not None:
            self.decoded.append(self.sink.close())
            self.sink = None
        self.stack.pop()
        return self.builder.end(tag)

    def data(self, text: str) -> None:
        if self.sink is not None:
            self.sink.feed(text)
        else:
            self._count(len(text))
            self.builder.data(text)

    def comment(self, text: str) -> etree._Element:
        self._count(len(text), nodes=1)
        return self.builder.comment(text)

    def pi(self, target: str, data: str | None = None) -> etree._Element:
        self._count(len(target) + len(data or ""), nodes=1)
        return self.builder.pi(target, data)

    def doctype(self, *_: object) -> None:
        self._fail(_NO_DTD)

    def close(self) -> etree._Element | None:
        # lxml calls this after a syntax error too; the builder's own complaint ("missing end
        # tags") would then hide libxml2's precise one, so it is left to read_xml to report.
        try:
            return self.builder.close()
        except AssertionError:
            return None


@dataclass
class Parsed:
    root: etree._Element
    decoded: list[Decoded] | None = None  # spooled attachments, in document order


def _chunks_of(source: bytes | Path) -> Iterator[bytes]:
    if isinstance(source, bytes):
        for start in range(0, len(source), CHUNK):
            yield source[start : start + CHUNK]
        return
    with source.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def read_xml(
    source: bytes | Path, max_bytes: int = MAX_BYTES, spool_dir: Path | None = None
) -> Parsed:
    """Parse untrusted XML from bytes or a file: no DTD, no entities, no network, bounded size,
    depth, element count and text (MAX_*), nothing unknown outside the signed envelope. With
    `spool_dir`, attachments are decoded into files there as the XML streams; without, their
    base64 is tree text, bounded by `max_bytes`."""
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    if size > max_bytes:
        raise EnvelopeError(f"message is {size:,} bytes, above the limit of {max_bytes:,}")
    reader = _Reader(spool_dir, MAX_TREE_CHARS if spool_dir is not None else max_bytes)
    parser = xml_parser(target=reader)
    tail, first = b"", True
    try:
        for chunk in _chunks_of(source):
            if first:
                head = chunk.lstrip()
                if head and not head.startswith(b"<"):
                    raise EnvelopeError("not XML: the message does not start with '<'")
                first = not head  # leading whitespace only so far
            if _FORBIDDEN.search(tail + chunk):  # a keyword split across two chunks too
                raise EnvelopeError(_NO_DTD)
            tail = chunk[-16:]
            parser.feed(chunk)
        if first:
            raise EnvelopeError("empty message: no XML at all")
        root = parser.close()
        if root is None:
            raise EnvelopeError("malformed XML: the document is incomplete")
    except etree.XMLSyntaxError as e:
        if reader.error is not None:
            raise reader.error from e
        line, col = e.position if e.position else (0, 0)
        raise EnvelopeError(f"malformed XML at line {line}, column {col}: {e.msg}") from e
    except EnvelopeError:
        raise
    except Exception as e:  # lxml re-raises a target's error, sometimes wrapped
        if reader.error is not None:
            raise reader.error from e
        raise
    return Parsed(root, reader.decoded if spool_dir is not None else None)


def secure_parse(data: bytes, max_bytes: int = MAX_BYTES) -> etree._Element:
    """The whole tree in memory (small messages: statuses, tests)."""
    return read_xml(data, max_bytes).root


def _child(el: etree._Element | None, tag: str) -> etree._Element | None:
    if el is None:
        return None
    found = el.find(qname(tag))
    return found if found is not None else el.find(tag)


def _children(el: etree._Element | None, tag: str) -> list[etree._Element]:
    if el is None:
        return []
    return el.findall(qname(tag)) + el.findall(tag)


def _text(el: etree._Element | None, tag: str) -> str:
    found = _child(el, tag)
    return (found.text or "").strip() if found is not None else ""


def _organ(el: etree._Element | None) -> OrganInfo:
    return OrganInfo(**{attr: _text(el, tag) for tag, attr in ORGAN_FIELDS})


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


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def envelope_from_tree(
    tree: etree._Element, parsed: Parsed | None = None, *, signed_manifest: bool = False
) -> Envelope:
    """The envelope in `tree`: a whole edXML document, or (what a signature covers) its
    edXMLEnvelope element alone, whose attachments are then read from `parsed`.

    `signed_manifest`: the attachments are outside the signed element, so each one must match
    the SHA-256 its signed Manifest Reference carries."""
    if _local(tree) == "edXMLEnvelope":
        envelope, header = tree, _child(tree, "edXMLHeader")
        if header is None or parsed is None:
            raise EnvelopeError("no edXMLHeader element in the edXMLEnvelope")
        doc_root = parsed.root
    else:
        header, envelope, doc_root = _header(tree), _child(tree, "edXMLEnvelope"), tree
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
        attachments=_attachments(
            doc_root, envelope, parsed.decoded if parsed is not None else None, signed_manifest
        ),
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


def _encoded_texts(root: etree._Element) -> list[etree._Element]:
    """ContentTransferEncoded elements where _Reader spools them, in document order."""
    if _local(root) != _ENCODED_PATH[0]:
        return []
    return [
        text
        for encoded in root.iterchildren(etree.Element)
        if _local(encoded) == _ENCODED_PATH[1]
        for att in encoded.iterchildren(etree.Element)
        if _local(att) == _ENCODED_PATH[2]
        for text in att.iterchildren(etree.Element)
        if _local(text) == _ENCODED_PATH[3]
    ]


def _decode_text(el: etree._Element | None) -> Decoded:
    sink = _Base64Sink(None)
    sink.feed((el.text or "") if el is not None else "")
    return sink.close()


def _listed_digest(ref: etree._Element) -> str | None:
    """Hex SHA-256 from a Manifest Reference's ds:DigestValue (sohoa puts one there, under the
    signature, for each attachment); None when the Reference has none."""
    value = ref.find(f"{{{DSIG}}}DigestValue")
    if value is None:
        return None
    method = ref.find(f"{{{DSIG}}}DigestMethod")
    if method is None or method.get("Algorithm") != SHA256_URI:
        raise EnvelopeError("a Manifest Reference digest is not SHA-256")
    try:
        return base64.b64decode((value.text or "").strip(), validate=True).hex()
    except (binascii.Error, ValueError) as e:
        raise EnvelopeError("a Manifest Reference digest is not valid base64") from e


def _attachments(
    root: etree._Element,
    envelope: etree._Element | None,
    decoded: list[Decoded] | None,
    signed_manifest: bool,
) -> list[Attachment]:
    manifest = _child(_child(envelope, "edXMLBody"), "edXMLManifest")
    if manifest is None:
        manifest = _child(_child(envelope, "edXMLBody"), "Manifest")
    listed: dict[str, dict[str, str | None]] = {}
    for ref in _children(manifest, "Reference"):
        cid = _text(ref, "ContentId") or ref.get(f"{{{XLINK}}}href", "")
        cid = cid.removeprefix("cid:").strip()
        if not cid:
            raise EnvelopeError("a Manifest Reference has no ContentId")
        listed[cid] = {
            "name": _text(ref, "AttachmentName"),
            "content_type": _text(ref, "ContentType"),
            "description": _text(ref, "Description"),
            "sha256": _listed_digest(ref),
        }
        if signed_manifest and listed[cid]["sha256"] is None:
            raise EnvelopeError(f"attachment cid:{cid} is not covered by the signature (no digest)")
    spooled = dict(zip(_encoded_texts(root), decoded, strict=True)) if decoded is not None else {}
    encoded = _child(root, "AttachmentEncoded")
    found: list[Attachment] = []
    for att in _children(encoded, "Attachment"):
        cid = _text(att, "ContentId").removeprefix("cid:").strip()
        if cid not in listed:
            raise EnvelopeError(f"attachment cid:{cid} is not listed in the Manifest")
        text = _child(att, "ContentTransferEncoded")
        content = spooled[text] if text in spooled else _decode_text(text)
        if content.error:
            raise EnvelopeError(f"attachment cid:{cid}: content is not valid base64")
        ref = listed[cid]
        if ref["sha256"] is not None and ref["sha256"] != content.sha256:
            raise EnvelopeError(
                f"attachment cid:{cid} is not the file that was signed (digest mismatch)"
            )
        # Name and type from the (signed) Manifest; the copies beside the base64 only unsigned.
        beside = (
            {}
            if signed_manifest
            else {t: _text(att, t) for t in ("AttachmentName", "ContentType", "Description")}
        )
        found.append(
            Attachment(
                content_id=cid,
                name=ref["name"] or beside.get("AttachmentName") or cid,
                content_type=ref["content_type"]
                or beside.get("ContentType")
                or "application/octet-stream",
                description=ref["description"] or beside.get("Description", ""),
                data=content.data,
                path=content.path,
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
    """Unverified, in memory: for small messages and for tests."""
    return envelope_from_tree(secure_parse(data, max_bytes))


def status_from_tree(tree: etree._Element) -> StatusMessage:
    """The Status in a whole document, or in its signed edXMLEnvelope element."""
    if _local(tree) == "edXMLEnvelope":
        header = _child(tree, "edXMLHeader")
        if header is None:
            raise EnvelopeError("no edXMLHeader element in the edXMLEnvelope")
    else:
        header = _header(tree)
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
