"""edXML exchange on the embedded default: envelopes, signatures, delivery, reuse, access, audit.

Real parts throughout: signxml/lxml, the local store, Dramatiq's in-process broker with worker
threads, the pipeline on born-digital PDFs (no OCR needed, so these tests stay fast).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.compose import build_services
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from exchange import envelope_read as reader
from exchange import envelope_write as writer
from exchange.audit import AuditLog
from exchange.inbox import CLAIM_LEASE_S
from exchange.models import (
    AccessDenied,
    Attachment,
    Business,
    Envelope,
    EnvelopeError,
    Kind,
    OrganInfo,
    ResponseFor,
    SignatureError,
    StatusMessage,
    TraceHeader,
    TransportError,
)
from exchange.service import Exchange
from exchange.signing import sign, sign_tree, verify
from exchange.statuses import Status
from schemas.errors import SohoaError
from storage.local import LocalStore
from tests.conftest import api_headers, run_cli
from tests.pki_support import init_ca
from workers.batch import submit_all, wait_for
from workers.exchange_setup import build_exchange
from workers.runtime import WorkerPool
from workers.services import Services

# Organs that exist today (the district level is gone since 1 July 2025: the middle of the
# chain is a province department); the sample's QCVN 102 codes, laid over the national registry.
COMMUNE, DEPARTMENT, PROVINCE, MINISTRY = (
    "003.00.00.H55",  # UBND phường Kon Tum (since 2025-07-01)
    "000.00.02.H55",  # Sở Nội vụ tỉnh Quảng Ngãi
    "000.00.00.H55",  # UBND tỉnh Quảng Ngãi
    "000.00.00.G09",  # Bộ Nội vụ
)
OUTSIDER = "000.00.00.H17"  # UBND tỉnh Điện Biên: neither sends nor receives here


@dataclass
class World:
    tmp: Path
    settings: Settings
    services: Services
    pool: WorkerPool
    ex: Exchange
    report: str  # record ids (born-digital PDFs, already ingested)
    decision: str
    spare: Path  # a PDF nobody has ingested


def _deliver(world: World, message_id: str, timeout_s: float = 60) -> list:
    for entry in world.ex.outbox(message_id):
        world.pool.actors.exchange_deliver.send(message_id, entry.recipient)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        entries = world.ex.outbox(message_id)
        if all(e.state != "pending" for e in entries):
            return entries
        time.sleep(0.05)
    raise AssertionError(f"delivery of {message_id} did not settle: {world.ex.outbox(message_id)}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("exchange")
    settings = Settings(data_dir=tmp / "data", workers=2)
    services = build_services(settings)
    docs = make_documents(3, seed=5, pages=1)
    paths = [write_pdf_digital(tmp / f"doc{i}.pdf", d.pages) for i, d in enumerate(docs)]
    pool = WorkerPool(services, "", 2).start()
    subs = submit_all(services, pool, paths[:2])
    wait_for(services, pool, subs, None)
    ex = build_exchange(services, enqueue=pool.actors.ingest.send)
    init_ca(ex)
    for organ in (COMMUNE, DEPARTMENT, PROVINCE, MINISTRY, OUTSIDER):
        ex.create_keys(organ)
        for sub in subs:  # an organ sends only records it sees (tests/test_exchange_access.py)
            services.access.grant(sub.doc_id, organ, "share")
    yield World(tmp, settings, services, pool, ex, subs[0].doc_id, subs[1].doc_id, paths[2])
    pool.stop()


def _envelope(**kw) -> Envelope:
    base = {
        "message_id": "0123456789abcdef0123456789abcdef",
        "sender": OrganInfo(organ_id=COMMUNE, organ_name="Ủy ban nhân dân phường Kon Tum"),
        "recipients": [OrganInfo(organ_id=DEPARTMENT), OrganInfo(organ_id=PROVINCE)],
        "response_for": [ResponseFor(organ_id=PROVINCE, document_id="x", message_id="ab" * 16)],
        "document_id": f"{COMMUNE},2024/03/05,12/BC-UBND",
        "code_number": "12",
        "code_notation": "BC-UBND",
        "place": "Kon Tum",
        "promulgation_date": "2024/03/05",
        "type_name": "Báo cáo",
        "subject": "Báo cáo kết quả số hóa tài liệu lưu trữ năm 2023",
        "signer_competence": "TM.",
        "signer_position": "Chủ tịch",
        "signer_name": "Nguyễn Văn A",
        "to_places": ["Sở Nội vụ tỉnh Quảng Ngãi", "Lưu: VT"],
        "page_amount": "1",
        "appendixes": ["Phụ lục I"],
        "trace": [TraceHeader(organ_id=COMMUNE, timestamp="2024/03/05 08:00:00")],
        "business": Business(doc_type=Kind.update, reason="sửa số liệu", replaces=["a,b,c"]),
        "attachments": [
            Attachment(
                content_id="5f0c4e1e-8a43-4c55-9f1a-0b7e3c2d9a10",
                name="bao-cao.pdf",
                content_type="application/pdf",
                description="original",
                data=b"%PDF-1.7\n" + bytes(range(256)) * 40,
            )
        ],
    }
    return Envelope(**{**base, **kw})


# ---------------------------------------------------------------------------- envelopes


def test_envelope_round_trips_unsigned_and_signed(world: World) -> None:
    env = _envelope()
    unsigned = writer.envelope_bytes(env)
    assert reader.parse_envelope(unsigned) == env
    signed = writer.envelope_bytes(env, lambda root: sign_tree(root, world.ex.keys.keys(COMMUNE)))
    parsed = reader.read_xml(signed)
    covered, algorithm = verify(parsed.root, world.ex.keys.cert(COMMUNE), COMMUNE)
    assert algorithm == "rsa-sha256"
    assert reader.envelope_from_tree(covered, parsed, signed_manifest=True) == env
    status = StatusMessage(
        response_for=ResponseFor(organ_id=COMMUNE, message_id="cd" * 16),
        sender=OrganInfo(organ_id=DEPARTMENT),
        code=Status.done,
        description="đã xử lý",
        timestamp="2024/03/06 09:00:00",
    )
    assert reader.parse_status(writer.to_bytes(writer.status_tree(status))) == status


# Laid out as the published QCVN 102:2016 samples are: an `edXML` root in the default
# namespace, the `edXML:` prefix inside, TraceHeaderList with its SOAP-style attributes,
# the Bussiness block, an empty DigitalSignature, the Manifest with xlink references and
# the base64 attachments in AttachmentEncoded after the envelope. Written by hand.
SAMPLE = """<?xml version="1.0" encoding="utf-8"?>
<edXML xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xmlns:xsd="http://www.w3.org/2001/XMLSchema"
       xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">
  <edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From>
          <edXML:OrganId>000.00.00.G09</edXML:OrganId>
          <edXML:OrganizationInCharge>Văn phòng Bộ</edXML:OrganizationInCharge>
          <edXML:OrganName>Bộ Nội vụ</edXML:OrganName>
          <edXML:OrganAdd>Hà Nội</edXML:OrganAdd>
          <edXML:Email>vanthu@example.gov.vn</edXML:Email>
          <edXML:Telephone>024 0000 0000</edXML:Telephone>
          <edXML:Fax />
          <edXML:Website>https://example.gov.vn</edXML:Website>
        </edXML:From>
        <edXML:To>
          <edXML:OrganId>000.00.00.H34</edXML:OrganId>
          <edXML:OrganName>Ủy ban nhân dân tỉnh Kon Tum</edXML:OrganName>
        </edXML:To>
        <edXML:Code>
          <edXML:CodeNumber>1452</edXML:CodeNumber>
          <edXML:CodeNotation>QĐ-BNV</edXML:CodeNotation>
        </edXML:Code>
        <edXML:PromulgationInfo>
          <edXML:Place>Hà Nội</edXML:Place>
          <edXML:PromulgationDate>2023/11/14</edXML:PromulgationDate>
        </edXML:PromulgationInfo>
        <edXML:DocumentType>
          <edXML:Type>1</edXML:Type>
          <edXML:TypeName>Quyết định</edXML:TypeName>
        </edXML:DocumentType>
        <edXML:Subject>Về việc phê duyệt kế hoạch số hóa tài liệu lưu trữ</edXML:Subject>
        <edXML:Content />
        <edXML:SignerInfo>
          <edXML:Competence>KT.</edXML:Competence>
          <edXML:Position>Thứ trưởng</edXML:Position>
          <edXML:FullName>Trần Văn B</edXML:FullName>
        </edXML:SignerInfo>
        <edXML:DueDate>2023/12/31</edXML:DueDate>
        <edXML:ToPlaces>
          <edXML:Place>UBND tỉnh Kon Tum</edXML:Place>
        </edXML:ToPlaces>
        <edXML:OtherInfo>
          <edXML:Priority>0</edXML:Priority>
          <edXML:SphereOfPromulgation>Lien thong van ban quoc gia</edXML:SphereOfPromulgation>
          <edXML:TyperNotation>TVB</edXML:TyperNotation>
          <edXML:PromulgationAmount>1</edXML:PromulgationAmount>
          <edXML:PageAmount>2</edXML:PageAmount>
          <edXML:Appendixes>
            <edXML:Appendix></edXML:Appendix>
          </edXML:Appendixes>
        </edXML:OtherInfo>
        <edXML:SteeringType>0</edXML:SteeringType>
        <edXML:DocumentId>000.00.00.G09,2023/11/14,1452/QĐ-BNV</edXML:DocumentId>
      </edXML:MessageHeader>
      <edXML:TraceHeaderList id="9b2f6c1d" version="1.0" mustUnderstand="1"
                             actor="http://schemas.xmlsoap.org/soap/actor/next">
        <edXML:TraceHeader>
          <edXML:OrganId>000.00.00.G09</edXML:OrganId>
          <edXML:Timestamp>2023/11/14 15:30:00</edXML:Timestamp>
        </edXML:TraceHeader>
        <edXML:Bussiness>
          <edXML:BussinessDocType>0</edXML:BussinessDocType>
          <edXML:BussinessDocReason>Văn bản điện tử mới</edXML:BussinessDocReason>
          <edXML:Paper>0</edXML:Paper>
        </edXML:Bussiness>
      </edXML:TraceHeaderList>
      <edXML:DigitalSignature />
    </edXML:edXMLHeader>
    <edXML:edXMLBody>
      <edXML:edXMLManifest version="1.0">
        <edXML:Reference xmlns:xlink="http://www.w3.org/1999/xlink"
                         xlink:href="cid:3b8a0a8e-4a0e-4b9e-9d43-2a4f6a1c0e11"
                         xlink:role="XLinkRole" xlink:type="simple">
          <edXML:Description>File dinh kem 1</edXML:Description>
          <edXML:AttachmentName>1452-QD-BNV.pdf</edXML:AttachmentName>
          <edXML:ContentType>application/pdf</edXML:ContentType>
          <edXML:ContentId>cid:3b8a0a8e-4a0e-4b9e-9d43-2a4f6a1c0e11</edXML:ContentId>
        </edXML:Reference>
      </edXML:edXMLManifest>
    </edXML:edXMLBody>
  </edXML:edXMLEnvelope>
  <AttachmentEncoded>
    <Attachment>
      <ContentType>application/pdf</ContentType>
      <ContentId>3b8a0a8e-4a0e-4b9e-9d43-2a4f6a1c0e11</ContentId>
      <Description>File dinh kem 1</Description>
      <ContentTransferEncoded>JVBERi0xLjQKJcOkw7zDtsOfCg==</ContentTransferEncoded>
      <AttachmentName>1452-QD-BNV.pdf</AttachmentName>
    </Attachment>
  </AttachmentEncoded>
</edXML>
"""


def test_hand_written_sample_in_the_published_layout_parses() -> None:
    env = reader.parse_envelope(SAMPLE.encode())
    assert env.message_id == "9b2f6c1d"
    assert env.sender.organ_id == MINISTRY and env.sender.organ_name == "Bộ Nội vụ"
    assert env.sender.organization_in_charge == "Văn phòng Bộ"
    assert [r.organ_id for r in env.recipients] == ["000.00.00.H34"]  # Kon Tum, in 2023
    assert env.document_id == "000.00.00.G09,2023/11/14,1452/QĐ-BNV"
    assert (env.code_number, env.code_notation) == ("1452", "QĐ-BNV")
    assert (env.place, env.promulgation_date) == ("Hà Nội", "2023/11/14")
    assert (env.doc_type, env.type_name) == ("1", "Quyết định")
    assert env.signer_competence == "KT." and env.signer_name == "Trần Văn B"
    assert (
        env.page_amount == "2" and env.appendixes == [] and env.to_places == ["UBND tỉnh Kon Tum"]
    )
    assert env.trace == [TraceHeader(organ_id=MINISTRY, timestamp="2023/11/14 15:30:00")]
    assert env.business.doc_type == Kind.new
    [att] = env.attachments
    assert att.name == "1452-QD-BNV.pdf" and att.content_type == "application/pdf"
    assert att.data == base64.b64decode("JVBERi0xLjQKJcOkw7zDtsOfCg==")


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><edXML>&lol3;</edXML>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&x;</edXML>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty message"),
        (b"%PDF-1.7 not xml", "not XML"),
        (b"<edXML><edXMLEnvelope><unclosed></edXMLEnvelope></edXML>", "malformed XML at line 1"),
        (BOMB, "DTDs and entity declarations are not allowed"),
        (XXE, "DTDs and entity declarations are not allowed"),
        (b"<Envelope/>", "not an edXML message: the root element is <Envelope>"),
        (SAMPLE.replace("JVBERi0x", "!!!!").encode(), "not valid base64"),
        (
            re.sub(r"<AttachmentEncoded>.*</AttachmentEncoded>", "", SAMPLE, flags=re.S).encode(),
            "listed in the Manifest but not included",
        ),
        # Outside the signed envelope only what QCVN 102 puts there: nothing else is carried.
        (
            SAMPLE.replace("<AttachmentEncoded>", "<X>")
            .replace("</AttachmentEncoded>", "</X>")
            .encode(),
            "unknown element <X> in edXML, outside the signed envelope",
        ),
        (
            SAMPLE.replace("<Description>File", "<Description><a/>File").encode(),
            "Attachment/Description holds an element <a>, not text",
        ),
        (
            SAMPLE.replace(
                "<edXML:OrganId>000.00.00.G09</edXML:OrganId>\n          <edXML:Org", "<edXML:Org"
            ).encode(),
            "From/OrganId is missing",
        ),
        (
            b"<edXML><edXMLEnvelope>" + b"<a>" * 100 + b"</a>" * 100 + b"</edXMLEnvelope></edXML>",
            "nested deeper",
        ),
        # Many small elements or attributes: refused at the limit, never a tree of millions.
        (
            SAMPLE.replace(
                "<edXML:Content />", "<edXML:Content>" + "<a/>" * 100_001 + "</edXML:Content>"
            ).encode(),
            "more than 100,000 XML elements",
        ),
        (
            SAMPLE.replace("<edXML:Content />", "<!--c-->" * 100_001).encode(),
            "more than 100,000 XML elements",
        ),
        (
            SAMPLE.replace(
                "<edXML:Content />",
                "<edXML:Content " + " ".join(f'a{i}="x"' for i in range(33)) + "/>",
            ).encode(),
            "more than 32 attributes",
        ),
        (
            SAMPLE.replace("<edXML:Content />", f'<edXML:Content a="{"x" * 70_000}"/>').encode(),
            "attribute value is longer than 65,536 characters",
        ),
    ],
)
def test_hostile_or_malformed_xml_gets_a_specific_error(data: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        reader.parse_envelope(data)


def test_size_limit_is_enforced() -> None:
    with pytest.raises(EnvelopeError, match="above the limit"):
        reader.parse_envelope(SAMPLE.encode(), max_bytes=1000)


def test_sha1_signatures_are_made_on_request_and_verified(world: World) -> None:
    keys = world.ex.keys.keys(MINISTRY)
    signed = writer.envelope_bytes(
        _envelope(sender=OrganInfo(organ_id=MINISTRY)),
        lambda root: sign_tree(root, keys, "rsa-sha1"),
    )
    assert b"xmldsig#rsa-sha1" in signed and b"xmldsig#sha1" in signed
    covered, algorithm = verify(signed, keys.cert_pem, MINISTRY)
    assert algorithm == "rsa-sha1"
    with pytest.raises(SignatureError, match="not made with its registered key"):
        verify(signed, world.ex.keys.cert(PROVINCE), PROVINCE)
    options = replace(world.services.exchange, sha1_peers=frozenset({PROVINCE}))
    assert options.algorithm_for(PROVINCE) == "rsa-sha1"
    assert options.algorithm_for(DEPARTMENT) == "rsa-sha256"


# ---------------------------------------------------------------------------- delivery


def test_send_up_two_levels_reuses_the_record_and_statuses_flow_back(world: World) -> None:
    ex, records_before = world.ex, set(world.services.records.ids())
    message_id = ex.send([world.report[:12]], COMMUNE, [DEPARTMENT, PROVINCE])
    entries = _deliver(world, message_id)
    assert {e.recipient: e.state for e in entries} == {
        DEPARTMENT: "delivered",
        PROVINCE: "delivered",
    }
    for e in entries:
        assert e.receipt.status == Status.accepted
        assert e.receipt.reuse_counts == {"reused": 1}
        assert e.receipt.attachments[0].record_id == world.report
    assert set(world.services.records.ids()) == records_before  # zero new records, zero OCR
    codes = [(s.organ_id, s.code) for s in ex.statuses(message_id)]
    for organ in (DEPARTMENT, PROVINCE):
        assert [c for o, c in codes if o == organ] == [Status.arrived, Status.accepted]
    ex.set_status(message_id, DEPARTMENT, Status.in_progress)
    ex.set_status(message_id, DEPARTMENT, Status.done, "đã tổng hợp")
    assert ex.latest_status(message_id, DEPARTMENT) == Status.done
    with pytest.raises(AccessDenied):
        ex.set_status(message_id, MINISTRY, Status.done)


def test_a_resent_message_is_accepted_once(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [PROVINCE])
    _deliver(world, message_id)
    again = ex.receive(ex.envelope_bytes(message_id), PROVINCE)
    assert again.duplicate and again.status == Status.accepted
    accepted = [s for s in ex.statuses(message_id) if s.code == Status.accepted]
    assert len(accepted) == 1
    assert sum(1 for m in ex.inbox(PROVINCE) if m.message_id == message_id) == 1


def test_one_message_delivered_by_several_workers_at_once_is_received_once(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [PROVINCE])
    data = ex.envelope_bytes(message_id)

    def receive() -> str:
        try:
            return "duplicate" if ex.receive(data, PROVINCE).duplicate else "received"
        except TransportError:
            return "retry later"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(lambda _: receive(), range(6)))
    assert outcomes.count("received") == 1, outcomes
    accepted = [s for s in ex.statuses(message_id) if s.code == Status.accepted]
    assert len(accepted) == 1
    received = [e for e in ex.audit.entries() if e.action == "receive" and e.target == message_id]
    assert len(received) == 1
    (entry,) = _deliver(world, message_id)  # the sender's own delivery: answered as a duplicate
    assert entry.state == "delivered" and entry.receipt.duplicate


def test_a_receipt_left_unfinished_is_retried_later_then_taken_over(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [PROVINCE])
    data = ex.envelope_bytes(message_id)
    claim = f"exchange/inbox/{PROVINCE}/{message_id}.claim"
    assert ex.store.create(claim, str(time.time()).encode())  # a receiver busy with it now
    with pytest.raises(TransportError, match="being received"):
        ex.receive(data, PROVINCE)
    ex.store.put_bytes(claim, str(time.time() - CLAIM_LEASE_S - 1).encode())  # it died
    receipt = ex.receive(data, PROVINCE)
    assert receipt.status == Status.accepted and not receipt.duplicate
    _deliver(world, message_id)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"<edXML:Subject>", b"<edXML:Subject>X", "digest mismatch"),
        (b"<ContentTransferEncoded>JVBER", b"<ContentTransferEncoded>JVBEQ", "digest mismatch"),
        (b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA", "not made with its registered key"),
    ],
)
def test_tampered_message_is_rejected_with_02(world: World, old, new, reason) -> None:  # noqa: ANN001
    ex = world.ex
    env = ex.build([world.report], COMMUNE, [DEPARTMENT])
    data = ex.envelope_bytes(env.message_id)
    assert old in data
    receipt = ex.receive(data.replace(old, new, 1), DEPARTMENT)
    assert receipt.status == Status.rejected and reason in receipt.reason
    assert ex.statuses(env.message_id) == []  # the rejection is of what arrived, not of the message
    assert (
        ex.receipt(env.message_id, DEPARTMENT) is None
    )  # not imported; the intact one still can be
    assert ex.receive(data, DEPARTMENT).status == Status.accepted


def test_unsigned_or_unknown_sender_is_rejected(world: World) -> None:
    ex = world.ex
    env = ex.envelope_for_records([world.report], COMMUNE, [DEPARTMENT])
    unsigned = ex.seal(env, sign_it=False)
    receipt = ex.receive(unsigned, DEPARTMENT)
    assert receipt.status == Status.rejected and "not signed" in receipt.reason
    stranger = ex.envelope_for_records(
        [world.report], "000.00.00.H46", [DEPARTMENT], unrestricted=True
    )
    stranger.message_id = ""
    signed = writer.envelope_bytes(  # a key, but not Phú Thọ's registered one
        stranger.model_copy(update={"message_id": "ef" * 16}),
        lambda root: sign_tree(root, ex.keys.keys(COMMUNE)),
    )
    receipt = ex.receive(signed, DEPARTMENT)
    assert receipt.status == Status.rejected
    assert f"certificate names organ {COMMUNE}, not the sender 000.00.00.H46" in receipt.reason


def test_update_and_replace_act_on_the_earlier_message(world: World) -> None:
    ex = world.ex
    first = ex.send([world.report], COMMUNE, [PROVINCE])
    _deliver(world, first)
    update = ex.send(
        [world.report],
        COMMUNE,
        [PROVINCE],
        kind=Kind.update,
        responds_to=first,
        reason="sửa trích yếu",
    )
    _deliver(world, update)
    parsed = reader.parse_envelope(ex.envelope_bytes(update))
    assert parsed.business.doc_type == Kind.update and parsed.business.reason == "sửa trích yếu"
    assert parsed.response_for[0].message_id == first
    assert ex.latest_status(update, PROVINCE) == Status.agree
    assert ex.latest_status(first, PROVINCE) == Status.agree
    replace_id = ex.send(
        [world.decision], COMMUNE, [PROVINCE], kind=Kind.replace, responds_to=first
    )
    _deliver(world, replace_id)
    assert ex.latest_status(replace_id, PROVINCE) == Status.accepted
    assert ex.latest_status(first, PROVINCE) == Status.recalled
    assert ex.statuses(first)[-1].description == f"replaced by message {replace_id}"


def test_forward_appends_each_hop_and_the_answer_goes_down(world: World) -> None:
    ex = world.ex
    up = ex.send([world.report], COMMUNE, [PROVINCE])
    _deliver(world, up)
    forward = ex.send([], PROVINCE, [MINISTRY], responds_to=up)
    [entry] = _deliver(world, forward)
    assert entry.receipt.reuse_counts == {"reused": 1}
    assert [t.organ_id for t in entry.receipt.trace] == [COMMUNE, PROVINCE, MINISTRY]
    answer = ex.send([world.decision], MINISTRY, [PROVINCE], responds_to=forward)
    [entry] = _deliver(world, answer)
    assert entry.receipt.reuse_counts == {"reused": 1}
    parsed = reader.parse_envelope(ex.envelope_bytes(answer))
    assert parsed.response_for[0].message_id == forward
    assert ex.state(answer).responds_to == forward


def test_recall_is_agreed_unless_the_recipient_is_done(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [DEPARTMENT, PROVINCE])
    _deliver(world, message_id)
    ex.set_status(message_id, DEPARTMENT, Status.done)
    recall_id = ex.recall(message_id, COMMUNE, "gửi nhầm")
    _deliver(world, recall_id)
    assert ex.latest_status(recall_id, PROVINCE) == Status.agree
    assert ex.latest_status(message_id, PROVINCE) == Status.recalled
    assert ex.latest_status(recall_id, DEPARTMENT) == Status.refuse
    assert ex.latest_status(message_id, DEPARTMENT) == Status.done
    with pytest.raises(AccessDenied):
        ex.recall(message_id, PROVINCE)


def test_unknown_attachment_is_processed_and_document_id_links_copies(world: World) -> None:
    ex = world.ex
    paper = f"{MINISTRY},2024/05/02,77/QĐ-BNV"
    first = ex.send([world.decision], MINISTRY, [PROVINCE])
    ex.links.link_copies(paper, [world.decision])  # the decision's metadata names this DocumentId
    _deliver(world, first)
    env = Envelope(
        sender=ex.organ_info(MINISTRY),
        recipients=[ex.organ_info(COMMUNE)],
        document_id=paper,
        subject="Quyết định (bản quét khác của cùng văn bản)",
        attachments=[
            Attachment(
                content_id="c1",
                name="scan.pdf",
                content_type="application/pdf",
                data=world.spare.read_bytes(),
            )
        ],
    )
    receipt = ex.receive(ex.seal(env), COMMUNE)
    assert receipt.status == Status.accepted and receipt.reuse_counts == {"new": 1}
    assert receipt.copies == [world.decision]
    new_id = receipt.attachments[0].record_id
    deadline = time.monotonic() + 60
    while (st := world.services.records.status(new_id)).status.value != "done":
        assert time.monotonic() < deadline, st
        time.sleep(0.1)


def test_an_organ_sees_only_its_own_or_public_messages(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [DEPARTMENT])
    _deliver(world, message_id)
    assert ex.show(message_id, COMMUNE)["message"]["message_id"] == message_id
    assert ex.show(message_id, DEPARTMENT)["receipt"]["status"] == "03"
    with pytest.raises(AccessDenied, match="neither sent nor received"):
        ex.show(message_id, OUTSIDER)
    assert message_id not in {m.message_id for m in ex.inbox(OUTSIDER)}
    with pytest.raises(AccessDenied):
        ex.make_public(message_id, DEPARTMENT)
    ex.make_public(message_id, COMMUNE)
    assert ex.show(message_id, OUTSIDER)["public"] is True
    denied = [e for e in ex.audit.entries() if e.action == "denied" and e.target == message_id]
    assert denied and denied[0].organ_id == OUTSIDER


def test_unreachable_peer_is_retried_with_backoff_then_marked_failed(world: World) -> None:
    options = replace(
        world.services.exchange,
        peers=f"{OUTSIDER}=http://127.0.0.1:9|token",
        max_retries=2,
        retry_min_backoff_ms=20,
        retry_max_backoff_ms=200,
    )
    services = replace(world.services, exchange=options)
    with WorkerPool(services, "", 1) as pool:
        ex = build_exchange(services, enqueue=pool.actors.ingest.send)
        message_id = ex.send([world.report], COMMUNE, [OUTSIDER])
        pool.actors.exchange_deliver.send(message_id, OUTSIDER)
        deadline = time.monotonic() + 30
        while (entry := ex.outbox(message_id)[0]).state == "pending":
            assert time.monotonic() < deadline, entry
            time.sleep(0.05)
    assert entry.state == "failed" and entry.attempts == 3
    assert "unreachable" in entry.last_error
    # The peer's organ moves to this installation; the sender queues the message again.
    assert world.ex.retry(message_id, COMMUNE) == [OUTSIDER]
    [entry] = _deliver(world, message_id)
    assert entry.state == "delivered" and entry.attempts == 4


def test_worker_delivers_what_a_stopped_sender_left_in_its_outbox(world: World) -> None:
    # The sender stored and signed the message, then stopped before any delivery ran.
    message_id = world.ex.send([world.decision], PROVINCE, [DEPARTMENT])
    assert [e.state for e in world.ex.outbox(message_id)] == ["pending"]
    result = run_cli(world.settings.data_dir, "worker")
    assert result.returncode == 0, result.stderr
    assert "1 undelivered exchange message(s) resumed" in " ".join(result.stderr.split())
    [entry] = world.ex.outbox(message_id)
    assert entry.state == "delivered" and entry.attempts == 1
    assert message_id in [m.message_id for m in world.ex.inbox(DEPARTMENT)]


# ---------------------------------------------------------------------------- audit


def test_audit_chain_verifies_and_names_the_first_forged_entry(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    log = AuditLog(store)
    for i in range(5):
        log.append(COMMUNE, "read", f"m{i}")
    assert log.verify() == (5, None)
    key = "exchange/audit/000000000003.json"
    entry = json.loads(store.get_bytes(key))
    entry["organ_id"] = OUTSIDER
    store.put_bytes(key, json.dumps(entry).encode())
    count, problem = log.verify()
    assert count == 2 and problem.startswith("entry 3 (read m2 by 000.00.00.H17) was altered")
    entry["hash"] = AuditLog(store).entries()[2].compute_hash()  # re-hash: the next link breaks
    store.put_bytes(key, json.dumps(entry).encode())
    assert "entry 4" in log.verify()[1] and "chain broken" in log.verify()[1]
    store.delete("exchange/audit/000000000002.json")
    assert "entry 2 is missing" in log.verify()[1]


def test_every_read_and_change_is_audited_and_the_chain_holds(world: World) -> None:
    actions = {e.action for e in world.ex.audit.entries()}
    assert {"keys", "send", "receive", "status", "read", "reject", "duplicate"} <= actions
    assert world.ex.audit.verify()[1] is None


# ---------------------------------------------------------------------------- CLI and API


def test_cli_build_then_receive_a_file(world: World, tmp_path: Path) -> None:
    data_dir = world.settings.data_dir
    out = tmp_path / "report.edxml"
    built = run_cli(
        data_dir,
        "exchange",
        "build",
        world.report[:10],
        "--from",
        COMMUNE,
        "--to",
        DEPARTMENT,
        "-o",
        str(out),
        "--json",
    )
    assert built.returncode == 0, built.stderr
    message_id = json.loads(built.stdout)["message_id"]
    plain = run_cli(  # without --json: it printed a summary from an undefined name, exit 1
        data_dir,
        "exchange",
        "build",
        world.report[:10],
        "--from",
        COMMUNE,
        "--to",
        DEPARTMENT,
        "-o",
        str(tmp_path / "plain.edxml"),
    )
    assert plain.returncode == 0, plain.stderr
    assert f"wrote {tmp_path / 'plain.edxml'}" in " ".join(plain.stderr.split())
    tampered = tmp_path / "tampered.edxml"
    tampered.write_bytes(out.read_bytes().replace(b"<edXML:Subject>", b"<edXML:Subject>X", 1))
    bad = run_cli(data_dir, "exchange", "receive", str(tampered), "--as", DEPARTMENT, "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["status"] == "02"
    assert "digest mismatch" in json.loads(bad.stdout)["reason"]
    good = run_cli(data_dir, "exchange", "receive", str(out), "--as", DEPARTMENT, "--json")
    assert good.returncode == 0, good.stderr
    receipt = json.loads(good.stdout)
    assert receipt["message_id"] == message_id and receipt["reuse"] == {"reused": 1}
    status = run_cli(data_dir, "exchange", "status", message_id[:10], "--as", OUTSIDER)
    assert status.returncode == 4 and "may not read" in status.stderr
    # The registry keeps the organs of before the reform: UBND huyện Đắk Hà and xã Đắk Mar.
    listed = run_cli(data_dir, "organs", "list", "--level", "district", "--json")
    assert "000.00.52.H34" in {json.loads(line)["organ_id"] for line in listed.stdout.splitlines()}
    shown = run_cli(data_dir, "organs", "show", "Đắk Hà", "--json")
    found = [json.loads(x) for x in shown.stdout.splitlines()]
    district = next(o for o in found if o["organ_id"] == "000.00.52.H34")
    assert district["valid_to"] == "2025-06-30" and "001.00.52.H34" in district["children"]
    verified = run_cli(data_dir, "audit", "verify", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"] is True


def test_http_api_with_organ_tokens(world: World) -> None:
    from app.api import create_app

    tokens = {o: world.ex.issue_token(o) for o in (COMMUNE, PROVINCE, OUTSIDER)}
    with TestClient(create_app(world.settings)) as client:

        def auth(organ: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[organ]}"}

        assert client.get("/exchange/inbox").status_code == 401
        assert (
            client.get("/exchange/inbox", headers={"Authorization": "Bearer x"}).status_code == 401
        )
        sent = client.post(
            "/exchange/send",
            headers=auth(COMMUNE),
            json={"documents": [world.report], "to": [PROVINCE]},
        )
        assert sent.status_code == 202, sent.text
        message_id = sent.json()["message_id"]
        deadline = time.monotonic() + 60
        while True:
            shown = client.get(f"/exchange/messages/{message_id}", headers=auth(PROVINCE))
            if shown.status_code == 200 and shown.json()["receipt"]:
                break
            assert time.monotonic() < deadline, shown.text
            time.sleep(0.1)
        assert shown.json()["receipt"]["attachments"][0]["outcome"] == "reused"
        assert message_id in {
            m["message_id"] for m in client.get("/exchange/inbox", headers=auth(PROVINCE)).json()
        }
        denied = client.get(f"/exchange/messages/{message_id}", headers=auth(OUTSIDER))
        assert denied.status_code == 404  # as a missing message
        assert (
            client.get(
                f"/exchange/messages/{message_id}/envelope", headers=auth(OUTSIDER)
            ).status_code
            == 404
        )
        done = client.post(
            f"/exchange/messages/{message_id}/status", headers=auth(PROVINCE), json={"code": "06"}
        )
        assert done.status_code == 200 and done.json()["statuses"][-1]["code"] == "06"
        envelope = client.get(f"/exchange/messages/{message_id}/envelope", headers=auth(COMMUNE))
        again = client.post("/exchange/receive", headers=auth(PROVINCE), content=envelope.content)
        assert again.status_code == 200 and again.json()["duplicate"] is True
        forged = envelope.content.replace(b"<edXML:Subject>", b"<edXML:Subject>X", 1)
        rejected = client.post("/exchange/receive", headers=auth(PROVINCE), content=forged)
        assert rejected.status_code == 422 and rejected.json()["status"] == "02"
        built = client.post(
            "/exchange/build",
            headers=auth(COMMUNE),
            json={"documents": [world.report], "to": [OUTSIDER]},
        )
        assert built.status_code == 200 and built.content.startswith(b"<?xml")
        received = client.post("/exchange/receive", headers=auth(OUTSIDER), content=built.content)
        assert received.json()["message_id"] == built.headers["X-Message-Id"]
        assert received.json()["reuse"] == {"reused": 1}
        assert client.get("/audit/verify", headers=auth(COMMUNE)).json()["ok"] is True


# ---------------------------------------------------------------------------- integrity (issue 13)


def _big_pdf(path: Path, size: int) -> Path:
    """A file the size of a scanned dossier (its bytes random: nothing compresses them)."""
    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        for _ in range(size // (1 << 20)):
            f.write(os.urandom(1 << 20))
    return path


def test_an_attachment_above_the_old_text_node_limit_round_trips(world: World) -> None:
    """12 MB: its base64 (16 MB) was one text node, above libxml2's 10 MB default, so signxml
    failed to sign and to verify. Build -> send -> receive -> reuse, then new at the receiver."""
    from workers.submit import accept

    ex = world.ex
    big = _big_pdf(world.tmp / "dossier.pdf", 12 << 20)
    sub = accept(
        world.services, big, owner=COMMUNE
    )  # stored, not processed: reuse needs only the record
    message_id = ex.send([sub.doc_id], COMMUNE, [PROVINCE])
    entry = ex.deliver(message_id, PROVINCE)
    assert entry.state == "delivered", entry.last_error
    assert entry.receipt.reuse_counts == {"reused": 1}
    assert entry.receipt.attachments[0].size_bytes == big.stat().st_size
    # The same file from an organ that has not got it: decoded to a new record, bit for bit.
    other = _big_pdf(world.tmp / "other.pdf", 12 << 20)
    env = Envelope(
        message_id="5a" * 16,
        sender=ex.organ_info(MINISTRY),
        recipients=[ex.organ_info(PROVINCE)],
        trace=[TraceHeader(organ_id=MINISTRY, timestamp=f"{datetime.now(UTC):%Y/%m/%d %H:%M:%S}")],
        attachments=[Attachment(content_id="c-1", name="hồ sơ.pdf", path=other)],
    )
    wire = world.tmp / "big.edxml"
    with wire.open("wb") as out:
        writer.write_envelope(env, out, lambda root: sign_tree(root, ex.keys.keys(MINISTRY)))
    receipt = ex.receive(wire, PROVINCE)
    assert receipt.status == Status.accepted, receipt.reason
    [att] = receipt.attachments
    assert att.outcome == "new" and att.name == "hồ sơ.pdf"
    stored = world.services.store.get_bytes(f"originals/{att.record_id}")
    assert stored == other.read_bytes()
    # Over HTTP: built by the API as a file to carry, posted back to the peer route.
    from app.api import create_app

    client = TestClient(create_app(world.settings))
    token = {"Authorization": f"Bearer {ex.issue_token(COMMUNE)}"}
    request = {"documents": [sub.doc_id], "to": [DEPARTMENT]}
    built = client.post("/exchange/build", headers=token, json=request)
    assert built.status_code == 200 and len(built.content) > (16 << 20)
    token = {"Authorization": f"Bearer {ex.issue_token(DEPARTMENT)}"}
    received = client.post("/exchange/receive", headers=token, content=built.content)
    assert received.status_code == 200, received.text
    assert received.json()["reuse"] == {"reused": 1}


def test_a_tampered_copy_leaves_the_real_message_as_it_was(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [DEPARTMENT])
    _deliver(world, message_id)
    ex.set_status(message_id, DEPARTMENT, Status.done)
    history = [(s.organ_id, s.code) for s in ex.statuses(message_id)]
    entries = len(list(ex.audit.entries()))
    forged = ex.envelope_bytes(message_id).replace(b"<edXML:Subject>", b"<edXML:Subject>X", 1)
    receipt = ex.receive(forged, DEPARTMENT)
    assert receipt.status == Status.rejected and "digest mismatch" in receipt.reason
    assert [(s.organ_id, s.code) for s in ex.statuses(message_id)] == history
    # Recorded as what arrived, with the reason; nothing about the real message changed.
    arrived = hashlib.sha256(forged).hexdigest()
    [audited] = list(ex.audit.entries())[entries:]
    assert audited.action == "reject" and audited.target == f"sha256:{arrived}"
    assert "digest mismatch" in audited.detail["reason"]
    assert receipt.envelope_sha256 == arrived
    assert ex.latest_status(message_id, DEPARTMENT) == Status.done
    # So a later recall is handled as for the untouched message: refused, it is done.
    recall_id = ex.recall(message_id, COMMUNE, "gửi nhầm")
    _deliver(world, recall_id)
    assert ex.latest_status(recall_id, DEPARTMENT) == Status.refuse
    assert ex.latest_status(message_id, DEPARTMENT) == Status.done


def test_a_message_fed_to_an_organ_it_is_not_for_stores_nothing(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [DEPARTMENT])
    _deliver(world, message_id)
    history = ex.statuses(message_id)
    receipt = ex.receive(ex.envelope_bytes(message_id), OUTSIDER)
    assert receipt.status == Status.rejected and f"not to {OUTSIDER}" in receipt.reason
    assert ex.statuses(message_id) == history
    assert ex.receipt(message_id, OUTSIDER) is None


def test_a_status_from_an_organ_that_is_not_a_recipient_is_refused(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [DEPARTMENT])
    _deliver(world, message_id)
    history = ex.statuses(message_id)
    status = StatusMessage(
        response_for=ResponseFor(organ_id=COMMUNE, message_id=message_id),
        sender=OrganInfo(organ_id=OUTSIDER),
        code=Status.rejected,
        description="not for us",
        timestamp=f"{datetime.now(UTC):%Y/%m/%d %H:%M:%S}",  # within its certificate's validity
    )
    signed = sign(writer.status_tree(status), ex.keys.keys(OUTSIDER))  # its own, valid signature
    with pytest.raises(AccessDenied, match=f"{OUTSIDER} is not a recipient"):
        ex.receive_status(signed)
    assert ex.statuses(message_id) == history


def test_only_the_sender_of_a_message_can_recall_it(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [DEPARTMENT])
    _deliver(world, message_id)
    recall = Envelope(  # the province, validly signed, recalls the commune's message
        message_id="7e" * 16,
        sender=ex.organ_info(PROVINCE),
        recipients=[ex.organ_info(DEPARTMENT)],
        response_for=[ResponseFor(organ_id=COMMUNE, message_id=message_id)],
        trace=[TraceHeader(organ_id=PROVINCE, timestamp=f"{datetime.now(UTC):%Y/%m/%d %H:%M:%S}")],
        business=Business(doc_type=Kind.revoke, reason="thu hồi"),
    )
    signed = writer.envelope_bytes(recall, lambda root: sign_tree(root, ex.keys.keys(PROVINCE)))
    assert ex.receive(signed, DEPARTMENT).status == Status.accepted
    assert ex.latest_status(recall.message_id, DEPARTMENT) == Status.refuse
    assert ex.latest_status(message_id, DEPARTMENT) == Status.accepted


async def _asgi_post(app, path: str, headers: dict, body: Iterable[bytes]) -> tuple:  # noqa: ANN001
    """One request straight into the ASGI app; returns (status, body, bytes the app read)."""
    chunks = list(body)
    read = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal read
        if not chunks:
            return {"type": "http.request", "body": b"", "more_body": False}
        chunk = chunks.pop(0)
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, payload, read


def test_upload_limits_refuse_early_and_leave_no_temporary_file(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import tempfile

    from app.api import create_app

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    limit = 1 << 20
    app = create_app(world.settings.model_copy(update={"exchange_max_bytes": limit}))
    token = world.ex.issue_token(PROVINCE)
    auth = {"Authorization": f"Bearer {token}"}
    user = api_headers(world.settings)  # uploads take a user's token, not an organ's
    mb = [b"<" * (256 << 10)] * 40  # 10 MB in 256 KiB chunks

    def post(path: str, headers: dict[str, str], body: Iterable[bytes]) -> tuple:
        return asyncio.run(_asgi_post(app, path, headers, body))

    # Declared too large: 413 before a byte of the body is read.
    status, body, read = post("/exchange/receive", {**auth, "Content-Length": "2200000000"}, mb)
    assert status == 413 and read == 0 and b"above the limit of 1,048,576 bytes" in body
    status, _, read = post("/documents", {**user, "Content-Length": str(3 << 30)}, mb)
    assert (status, read) == (413, 0)
    # No length, or a lying one: stopped once past the limit, not after the whole body.
    for headers in ({**auth}, {**auth, "Content-Length": "1000"}):
        status, body, read = post("/exchange/receive", headers, mb)
        assert status == 413 and read <= limit + (256 << 10), (headers, read)
    multipart = {**user, "Content-Type": "multipart/form-data; boundary=xyz"}
    head = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
    monkeypatch.setattr("app.uploads.MAX_UPLOAD_BYTES", limit)
    app = create_app(world.settings)
    status, body, read = post("/documents", multipart, [head, *mb])
    assert status == 413 and read <= limit + (512 << 10), read
    # An envelope within the limit is read through a temporary file, gone afterwards.
    small = world.ex.envelope_bytes(world.ex.send([world.report], COMMUNE, [PROVINCE]))
    status, body, _ = post("/exchange/receive", auth, [small[:1000], small[1000:]])
    assert status == 200 and json.loads(body)["status"] == "03", body
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("a\"; filename*=UTF-8''evil.exe; x=\".png", "a\"; filename*=UTF-8''evil.exe; x=\".pdf"),
        ("biên bản\r\nSet-Cookie: x=1.png", "biên bảnSet-Cookie: x=1.pdf"),
        ("hồ sơ.pdf", "hồ sơ.pdf"),
    ],
)
def test_pdf_download_names_are_encoded_not_echoed(world: World, stored: str, shown: str) -> None:
    from urllib.parse import unquote

    from app.api import create_app
    from storage.keys import pdf_key

    records, store = world.services.records, world.services.store
    doc = records.require(world.report)
    fake_id = hashlib.sha256(stored.encode()).hexdigest()
    copy = doc.model_copy(update={"id": fake_id, "source_name": stored})
    records.put(copy)
    store.put_bytes(pdf_key(copy.id), store.get_bytes(pdf_key(doc.id)))
    client = TestClient(create_app(world.settings), headers=api_headers(world.settings))
    response = client.get(f"/documents/{copy.id}/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    header = response.headers["content-disposition"]
    # RFC 6266 with nothing else in it: a fallback of safe characters, then the RFC 5987 name
    grammar = (
        r"attachment; filename=\"[A-Za-z0-9 ._()+-]+\"; "
        r"filename\*=UTF-8''([A-Za-z0-9%!#$&+.^_`|~-]+)"
    )
    match = re.fullmatch(grammar, header)
    assert match, header
    assert unquote(match.group(1)) == shown  # the name the browser saves it as


# ---------------------------------------------------------------------------- round 2 (issue 13)


@pytest.mark.parametrize(
    ("before", "junk", "reason"),
    [
        # Unsigned, after the attachments: refused by name, not carried into the store.
        (b"</edXML>", b"<Junk>" + b"<a/>" * 200_000 + b"</Junk>", "unknown element <Junk> in"),
        # Inside the signed header: refused at the 100,001st element, before any tree of them.
        (b"</edXML:edXMLHeader>", b"<a/>" * 200_000, "more than 100,000 XML elements"),
    ],
)
def test_a_message_of_many_tiny_elements_is_rejected_with_02(
    world: World, before: bytes, junk: bytes, reason: str
) -> None:
    ex = world.ex
    env = ex.build([world.report], COMMUNE, [PROVINCE])
    genuine = ex.envelope_bytes(env.message_id)
    at = genuine.rindex(before)
    bomb = genuine[:at] + junk + genuine[at:]
    started = time.monotonic()
    receipt = ex.receive(bomb, PROVINCE)
    assert receipt.status == Status.rejected and reason in receipt.reason, receipt.reason
    assert time.monotonic() - started < 10
    assert any(
        e.action == "reject" and e.target == f"sha256:{receipt.envelope_sha256}"
        for e in ex.audit.entries()[-5:]
    )
    assert ex.receipt(env.message_id, PROVINCE) is None  # nothing stored under its id
    assert ex.receive(genuine, PROVINCE).status == Status.accepted  # the intact one still is


def _status(
    ex: Exchange, message_id: str, code: str, at: datetime, organ: str = DEPARTMENT
) -> bytes:
    msg = StatusMessage(
        response_for=ResponseFor(organ_id=COMMUNE, message_id=message_id),
        sender=ex.organ_info(organ),
        code=Status(code),
        description=f"status {code}",
        timestamp=at.strftime("%Y/%m/%d %H:%M:%S"),
    )
    return sign(writer.status_tree(msg), ex.keys.keys(organ))


def test_a_status_is_stored_once_and_only_moves_forward(world: World) -> None:
    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [DEPARTMENT])
    _deliver(world, message_id)
    now = datetime.now(UTC)  # not before the 01 and 03 the delivery stored
    in_progress = _status(ex, message_id, "05", now)
    assert ex.receive_status(in_progress).code == Status.in_progress
    ex.set_status(message_id, DEPARTMENT, Status.done, "xong")
    history = ex.statuses(message_id)
    assert [s.code for s in history][-2:] == [Status.in_progress, Status.done]
    # The same signed 05 again, as sent and re-serialised: answered as before, nothing stored.
    again = ex.receive_status(in_progress)
    assert again.code == Status.in_progress and again.model_dump().get("replay") is True
    reserialised = in_progress.replace(b"?>", b"?>\n", 1)
    assert ex.receive_status(reserialised).model_dump().get("replay") is True
    # Genuine but older than what the district reported, or a code never stored: refused.
    refused = [
        (_status(ex, message_id, "04", now), "after 06 (done) from 000.00.02.H55: statuses only"),
        (_status(ex, message_id, "06", now - timedelta(hours=1)), "is older than 06 (done)"),
        (_status(ex, message_id, "02", now), "02 (rejected) is never stored"),
    ]
    for data, reason in refused:
        with pytest.raises(SohoaError, match=re.escape(reason)):
            ex.receive_status(data)
    with pytest.raises(SohoaError, match="only move forward"):
        ex.set_status(message_id, DEPARTMENT, Status.assigned)
    assert ex.statuses(message_id) == history
    mine = [e for e in ex.audit.entries() if e.target == message_id]
    assert sum(e.action == "replay" for e in mine) == 2
    assert sum(e.action == "status-refused" for e in mine) == 3


def test_status_in_over_http_needs_the_messages_sender_token(world: World) -> None:
    from app.api import create_app

    ex = world.ex
    message_id = ex.send([world.report], COMMUNE, [DEPARTMENT])
    _deliver(world, message_id)
    now = datetime.now(UTC).replace(microsecond=0)
    in_progress = _status(ex, message_id, "05", now)
    tokens = {o: ex.issue_token(o) for o in (COMMUNE, OUTSIDER)}
    with TestClient(create_app(world.settings)) as client:

        def post(organ: str, body: bytes):  # noqa: ANN202
            headers = {"Authorization": f"Bearer {tokens[organ]}"}
            return client.post("/exchange/status-in", headers=headers, content=body)

        other = post(OUTSIDER, in_progress)  # a genuine status, another organ's token
        assert other.status_code == 403, other.text
        assert ex.latest_status(message_id, DEPARTMENT) == Status.accepted
        first = post(COMMUNE, in_progress)
        assert first.status_code == 200 and first.json()["code"] == "05"
        replay = post(COMMUNE, in_progress)
        assert replay.status_code == 200 and replay.json()["replay"] is True
        older = post(COMMUNE, _status(ex, message_id, "04", now))
        assert older.status_code == 409 and "only move forward" in older.json()["message"]
        rejected = post(COMMUNE, _status(ex, message_id, "02", now))
        assert rejected.status_code == 409
    assert [s.code for s in ex.statuses(message_id)][-1] == Status.in_progress
    assert len([s for s in ex.statuses(message_id) if s.code == Status.in_progress]) == 1


def test_every_route_limits_its_body_and_checks_the_token_before_reading_it(world: World) -> None:
    import asyncio

    from app.api import create_app

    app = create_app(world.settings)

    @app.post("/added-later")  # a route nobody listed: the default limit guards it too
    def added_later(payload: dict) -> dict:
        return payload

    auth = {"Authorization": f"Bearer {world.ex.issue_token(COMMUNE)}"}
    body = [b'{"documents": ["' + b"a" * (256 << 10)] + [b"a" * (256 << 10)] * 39  # 10 MB

    def post(path: str, headers: dict[str, str]) -> tuple:
        return asyncio.run(_asgi_post(app, path, headers, body))

    # No token or a wrong one: 401 before a byte of the body is read, on every exchange route.
    guarded = (
        "/exchange/send",
        "/exchange/build",
        "/exchange/receive",
        "/exchange/status-in",
        f"/exchange/messages/{'ab' * 16}/status",
        "/exchange/anything-added-later",
    )
    for path in guarded:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            status, _, read = post(path, {**headers, "Content-Type": "application/json"})
            assert (status, read) == (401, 0), (path, headers, status, read)
    # With a token, JSON routes (and any route not given a larger limit) stop at 1 MiB.
    user = api_headers(world.settings)  # a route outside /exchange/ takes no organ token
    for path in ("/exchange/send", f"/exchange/messages/{'ab' * 16}/recall", "/added-later"):
        headers = {**(user if path == "/added-later" else auth), "Content-Type": "application/json"}
        status, answer, read = post(path, headers)
        assert status == 413 and read <= (1 << 20) + (256 << 10), (path, status, read)
        assert b"above the limit of 1,048,576 bytes" in answer
        status, _, read = post(path, {**headers, "Content-Length": str(3 << 30)})
        assert (status, read) == (413, 0), path
