"""Who may send what (issue 15, the exchange side): an organ builds, sends and forwards only
records it sees; a delivery lets the receiving organ see what it received; organ tokens are
listed and revoked. Real parts: the local store, the API in process, the CLI in its own
process, the pipeline on one born-digital PDF (no OCR)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_services, build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from exchange import messages
from exchange.models import Attachment, Envelope
from exchange.service import Exchange
from exchange.statuses import Status
from tests.conftest import TEST_PASSWORD, api_headers, run_cli
from tests.pki_support import init_ca
from workers.batch import wait_for
from workers.exchange_setup import build_exchange
from workers.runtime import WorkerPool
from workers.services import Services
from workers.submit import accept

A, B, C, D = (
    "003.00.00.H55",  # owns the record (UBND phường Kon Tum)
    "000.00.02.H55",  # the record was delivered to it (Sở Nội vụ tỉnh Quảng Ngãi)
    "000.00.00.H55",  # neither owns nor received it (UBND tỉnh Quảng Ngãi)
    "000.00.00.G09",  # where B forwards it (the admin's organ in api_headers)
)
MISSING = "f" * 64


@dataclass
class Setup:
    tmp: Path
    settings: Settings
    services: Services
    ex: Exchange
    record: str  # A's, delivered to B only
    message: str  # A -> B
    spare: Path  # a PDF nobody has ingested


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("exchange-access")
    settings = Settings(data_dir=tmp / "data", workers=1)
    services = build_services(settings)
    docs = make_documents(2, seed=31, pages=1)
    paths = [write_pdf_digital(tmp / f"doc{i}.pdf", d.pages) for i, d in enumerate(docs)]
    with WorkerPool(services, "", 1) as pool:
        sub = accept(services, paths[0], owner=A)
        pool.actors.ingest.send(sub.doc_id)
        wait_for(services, pool, [sub], None)
    ex = build_exchange(services)
    init_ca(ex)
    for organ in (A, B, C, D):
        ex.create_keys(organ)
    message = ex.send([sub.doc_id], A, [B])
    assert ex.deliver(message, B).state == "delivered"
    yield Setup(tmp, settings, services, ex, sub.doc_id, message, paths[1])


def _user(settings: Settings, login: str, role: str, organ: str) -> dict[str, str]:
    """A bearer token of user `login` (made on first use) with that role and organ."""
    accounts = Accounts(build_store(settings))
    if login not in {u.login for u in accounts.users()}:
        accounts.add_user(login, role, organ, TEST_PASSWORD)
    return {"Authorization": f"Bearer {accounts.issue_token(login)}"}


def _organ(ex: Exchange, organ: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ex.issue_token(organ)}"}


def test_an_organ_cannot_build_or_send_a_record_delivered_only_to_another(setup: Setup) -> None:
    """The issue's case: A's record went to B only; C's clerk and C's organ token get 404 on
    build and send, exactly as for a missing id, and nothing is built, stored or sent."""
    ex, record = setup.ex, setup.record
    callers = {
        "clerk": _user(setup.settings, "clerk-c", "clerk", C),
        "token": _organ(ex, C),
    }
    messages_before = set(setup.services.store.list(messages.message("")))
    with TestClient(create_app(setup.settings)) as client:
        for who, auth in callers.items():
            for route in ("/exchange/build", "/exchange/send"):
                for prefix in (record, record[:16]):
                    body = {"documents": [prefix], "to": [D]}
                    refused = client.post(route, headers=auth, json=body)
                    assert refused.status_code == 404, (who, route, refused.text)
                    missing = client.post(
                        route, headers=auth, json={**body, "documents": [MISSING]}
                    )
                    assert missing.status_code == 404
                    assert refused.json()["message"] == f"no document with id {prefix}"
                    assert missing.json()["message"] == f"no document with id {MISSING}"
        assert ex.sent(C) == []
        assert set(setup.services.store.list(messages.message(""))) == messages_before
        denied = [e for e in ex.audit.entries() if e.action == "denied" and e.organ_id == C]
        assert f"record:{record}" in {e.target for e in denied}
        # B received it, so B may send it on (by id) and forward the message; A, the owner, too.
        by_b = _user(setup.settings, "clerk-b", "clerk", B)
        sent = client.post("/exchange/send", headers=by_b, json={"documents": [record], "to": [D]})
        assert sent.status_code == 202, sent.text
        forward = {"to": [D], "responds_to": setup.message}
        assert client.post("/exchange/send", headers=by_b, json=forward).status_code == 202
        by_c = client.post("/exchange/send", headers=callers["token"], json=forward)
        # C neither sent nor received that message: to C it is as missing
        assert by_c.status_code == 404, by_c.text
        assert by_c.json()["message"] == f"no message {setup.message}"
        built = client.post(
            "/exchange/build", headers=_organ(ex, A), json={"documents": [record], "to": [C]}
        )
        assert built.status_code == 200 and built.content.startswith(b"<?xml")


def test_a_caller_acts_for_its_own_organ_and_only_an_admin_for_another(setup: Setup) -> None:
    ex, record = setup.ex, setup.record
    body = {"documents": [record], "to": [D], "from": A}
    with TestClient(create_app(setup.settings)) as client:
        for auth in (_user(setup.settings, "clerk-b", "clerk", B), _organ(ex, B)):
            refused = client.post("/exchange/send", headers=auth, json=body)
            assert refused.status_code == 403, refused.text
            assert f"acts only for organ {B}" in refused.json()["message"]
        admin = api_headers(setup.settings)  # an admin of D, which sees every record
        sent = client.post("/exchange/send", headers=admin, json=body)
        assert sent.status_code == 202 and sent.json()["from"] == A
        own = client.post("/exchange/send", headers=admin, json={**body, "from": None})
        assert own.status_code == 202 and own.json()["from"] == D
    assert ex.state(sent.json()["message_id"]).sender == A


def test_a_delivery_lets_the_receiving_organ_see_the_record(setup: Setup) -> None:
    ex, services, record = setup.ex, setup.services, setup.record
    assert B in services.access.visibility(record).organs
    [grant] = [g for g in services.access.grants(record) if g.organ == B]
    assert (grant.via, grant.ref) == ("delivery", setup.message)
    # The same message again changes nothing; a forged copy for C grants C nothing.
    envelope = ex.envelope_bytes(setup.message)
    assert ex.receive(envelope, B).duplicate is True
    to_c = ex.send([record], A, [C])
    forged = ex.envelope_bytes(to_c).replace(b"<edXML:Subject>", b"<edXML:Subject>X", 1)
    assert ex.receive(forged, C).status == Status.rejected
    assert C not in services.access.visibility(record).organs
    assert [g.organ for g in services.access.grants(record)].count(B) == 1
    with TestClient(create_app(setup.settings)) as client:
        officer_b = _user(setup.settings, "officer-b", "officer", B)
        officer_c = _user(setup.settings, "officer-c", "officer", C)
        assert client.get(f"/documents/{record}", headers=officer_b).status_code == 200
        assert client.get(f"/documents/{record}", headers=officer_c).status_code == 404
        found = client.get("/search", headers=officer_b).json()
        assert record in {h["document_id"] for h in found["hits"]}


def test_search_shows_a_delivered_record_to_its_receiver_only(setup: Setup) -> None:
    """Needs the index backends to filter by the viewer (the search branch of issue 15)."""
    with TestClient(create_app(setup.settings)) as client:
        officer_c = _user(setup.settings, "officer-c", "officer", C)
        found = client.get("/search", headers=officer_c).json()
        assert setup.record not in {h["document_id"] for h in found["hits"]}
        assert found["total"] == 0


def test_a_new_attachment_is_owned_by_the_organ_that_received_it(setup: Setup) -> None:
    ex, services = setup.ex, setup.services
    env = Envelope(
        sender=ex.organ_info(D),
        recipients=[ex.organ_info(B)],
        subject="Công văn mới",
        attachments=[
            Attachment(
                content_id="n1",
                name="cong-van.pdf",
                content_type="application/pdf",
                data=setup.spare.read_bytes(),
            )
        ],
    )
    receipt = ex.receive(ex.seal(env), B)
    assert receipt.status == Status.accepted and receipt.reuse_counts == {"new": 1}
    new_id = receipt.attachments[0].record_id
    assert services.access.owner(new_id) == B
    with TestClient(create_app(setup.settings)) as client:
        officer_b = _user(setup.settings, "officer-b", "officer", B)
        assert client.get(f"/documents/{new_id}", headers=officer_b).status_code == 200


def test_past_deliveries_become_grants_once(setup: Setup) -> None:
    """An installation from before delivery grants: its receipts are walked again."""
    from workers.exchange_jobs import grant_past_deliveries

    services, record = setup.services, setup.record
    message = setup.ex.send([record], A, [D])
    setup.ex.deliver(message, D)
    for organ in (B, D):
        services.access.revoke(record, organ)  # as it stood before grants existed
    assert not {B, D} & services.access.visibility(record).organs
    assert grant_past_deliveries(services, setup.ex) >= 2
    assert {B, D} <= services.access.visibility(record).organs
    assert grant_past_deliveries(services, setup.ex) == 0


def test_organ_tokens_are_named_listed_and_revoked_at_once(setup: Setup) -> None:
    data, store = setup.settings.data_dir, setup.services.store
    issued = run_cli(data, "exchange", "token", B, "--name", "peer-xa", "--json")
    assert issued.returncode == 0, issued.stderr
    value = json.loads(issued.stdout)["token"]
    kept = b"".join(store.get_bytes(k) for k in store.list(messages.tokens()))
    assert b"peer-xa" in kept and value.encode() not in kept  # only its hash names it
    # A token issued before tokens had names (only its organ, under its hash) still works.
    legacy = "legacy-token-value-" + "x" * 24
    store.put_bytes(messages.token(legacy), json.dumps({"organ_id": B}).encode())
    listed = run_cli(data, "exchange", "tokens", B, "--json")
    assert listed.returncode == 0, listed.stderr
    assert value not in listed.stdout and legacy not in listed.stdout
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert "peer-xa" in {r["name"] for r in rows}
    legacy_digest = messages.name_of(messages.token(legacy))
    assert legacy_digest[:12] in {r["sha256_prefix"] for r in rows}
    with TestClient(create_app(setup.settings)) as client:
        for secret in (value, legacy):
            auth = {"Authorization": f"Bearer {secret}"}
            assert client.get("/exchange/inbox", headers=auth).status_code == 200
        assert run_cli(data, "exchange", "revoke", B, "peer-xa").returncode == 0
        assert run_cli(data, "exchange", "revoke", B, legacy_digest[:10]).returncode == 0
        for secret in (value, legacy):
            auth = {"Authorization": f"Bearer {secret}"}
            assert client.get("/exchange/inbox", headers=auth).status_code == 401
