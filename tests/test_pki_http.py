"""Revocation data over HTTP (issue 19, docs/exchange.md "Trust"): an installation's API serves
its CRL and OCSP responder at the URLs its certificates name (SOHOA_PKI_PUBLIC_URL); another
installation that trusts its root asks that responder (SOHOA_PKI_OCSP) or fetches that CRL
instead of importing it. Real servers on free ports: the issuing installation's API (uvicorn),
a dead port, and a forger's responder."""

from __future__ import annotations

import base64
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp

from app.api import create_app
from app.config import Settings
from exchange import messages
from exchange.pki import Authority, crl_name_of
from exchange.service import Exchange
from exchange.signing import OrganKeys
from exchange.statuses import Status
from tests.pki_support import init_ca
from tests.test_pki import OTHER, RECEIVER, SENDER, audit_actions, envelope, make_exchange


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Issuer:
    """The installation whose CA issued the senders' certificates, its API on `url`."""

    ex: Exchange
    url: str
    good: bytes  # SENDER, never revoked
    before: bytes  # OTHER, signed before its certificate was revoked
    after: bytes  # OTHER, signed after


def _serve(app: object, port: int) -> Iterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the API did not start"
        time.sleep(0.05)
    yield
    server.should_exit = True
    thread.join(15)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issuer]:
    data = tmp_path_factory.mktemp("pki-http") / "issuer"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    ex = make_exchange(data, pki_public_url=url)
    init_ca(ex)
    for organ in (SENDER, OTHER):
        ex.create_keys(organ)
    good = envelope(SENDER, ex.keys.keys(SENDER))
    before = envelope(OTHER, ex.keys.keys(OTHER))
    time.sleep(1.1)  # timestamps have seconds
    ex.ctx.pki.revoke(OTHER, "keyCompromise")
    time.sleep(1.1)
    after = envelope(OTHER, ex.keys.keys(OTHER))
    app = create_app(Settings(data_dir=data, workers=1, pki_public_url=url))
    yield from (Issuer(ex, url, good, before, after) for _ in _serve(app, port))


def receiver(issuer: Issuer, data: Path, **settings: object) -> Exchange:
    """Another installation that trusts the issuer's root (nothing else of it: no CRL)."""
    ex = make_exchange(data, **settings)
    init_ca(ex, "receiver")
    ex.create_keys(RECEIVER)
    ex.ctx.pki.trust(issuer.ex.ctx.pki.root().public_bytes(serialization.Encoding.PEM))
    return ex


def outcome(ex: Exchange, data: bytes) -> str:
    receipt = ex.receive(data, RECEIVER)
    if receipt.status == Status.accepted:
        return "accepted"
    assert receipt.status == Status.rejected  # status 02
    return receipt.reason


def keys_naming(issuer: Issuer, organ: str, public_url: str) -> OrganKeys:
    """The organ's key with a new certificate from the issuer's CA that names `public_url`'s
    CRL and OCSP responder."""
    pki = issuer.ex.ctx.pki
    elsewhere = Authority(pki.store, pki.ca_dir, public_url=public_url)
    own = issuer.ex.keys.keys(organ)
    cert = elsewhere.issue(organ, "", own.private_key.public_key())
    pem = cert.public_bytes(serialization.Encoding.PEM) + pki.chain()
    return OrganKeys(organ, own.key_pem, pem)


# ---------------------------------------------------------------------------- the routes


def test_the_crl_and_the_responder_are_public_routes(issuer: Issuer) -> None:
    pki = issuer.ex.ctx.pki
    revoked = issuer.ex.keys.keys(OTHER).certificate
    [point] = revoked.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    crl_url = point.full_name[0].value
    assert crl_url.startswith(f"{issuer.url}/pki/crl/")
    answer = httpx.get(crl_url)  # no credential
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(answer.content)
    assert crl.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None
    assert httpx.get(f"{issuer.url}/pki/crl/{'0' * 32}.crl").status_code == 404
    assert httpx.get(f"{issuer.url}/pki/crl/..%2Fanchors.crl").status_code == 404

    request = ocsp.OCSPRequestBuilder().add_certificate(
        revoked, pki.issuing_cert(), hashes.SHA256()
    )
    der = request.build().public_bytes(serialization.Encoding.DER)
    access = revoked.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert access[0].access_location.value == f"{issuer.url}/pki/ocsp"
    posted = httpx.post(
        f"{issuer.url}/pki/ocsp", content=der, headers={"Content-Type": "application/ocsp-request"}
    )
    assert posted.headers["content-type"] == "application/ocsp-response"
    said = ocsp.load_der_ocsp_response(posted.content)
    assert said.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert said.revocation_reason == x509.ReasonFlags.key_compromise
    pki.issuing_cert().public_key().verify(  # signed by the issuing CA (raises if not)
        said.signature, said.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256()
    )
    got = httpx.get(f"{issuer.url}/pki/ocsp/{base64.b64encode(der).decode()}")
    assert ocsp.load_der_ocsp_response(got.content).certificate_status == (
        ocsp.OCSPCertStatus.REVOKED
    )
    junk = ocsp.load_der_ocsp_response(httpx.post(f"{issuer.url}/pki/ocsp", content=b"x").content)
    assert junk.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    # a serial this CA never issued: unknown; a certificate of another CA: unauthorized
    unknown = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        said.issuer_name_hash, said.issuer_key_hash, 12345, hashes.SHA256()
    )
    der = unknown.build().public_bytes(serialization.Encoding.DER)
    said = ocsp.load_der_ocsp_response(httpx.post(f"{issuer.url}/pki/ocsp", content=der).content)
    assert said.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    stranger = ocsp.OCSPRequestBuilder().add_certificate(
        pki.issuing_cert(), pki.root(), hashes.SHA256()
    )
    der = stranger.build().public_bytes(serialization.Encoding.DER)
    said = ocsp.load_der_ocsp_response(httpx.post(f"{issuer.url}/pki/ocsp", content=der).content)
    assert said.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


# ---------------------------------------------------------------------------- OCSP


def test_ocsp_rejects_what_was_signed_after_the_revocation(issuer: Issuer, tmp_path) -> None:
    # required: the receiver holds no CRL of the issuer, so only the responder can tell
    ex = receiver(issuer, tmp_path / "r", pki_ocsp="require")
    assert outcome(ex, issuer.good) == "accepted"
    assert outcome(ex, issuer.before) == "accepted"
    reason = outcome(ex, issuer.after)
    assert reason.startswith("certificate revoked") and "keyCompromise" in reason
    assert "OCSP responder" in reason
    assert not ex.store.exists(messages.crl(crl_name_of(issuer.ex.keys.keys(SENDER).certificate)))
    assert audit_actions(ex, "revocation-unavailable") == []


@pytest.mark.parametrize("hard", [True, False])
def test_a_responder_that_is_down_fails_hard_or_soft(issuer: Issuer, tmp_path, hard) -> None:
    down = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    keys = keys_naming(issuer, SENDER, down)
    ex = receiver(
        issuer, tmp_path / "r", pki_ocsp="require", pki_revocation="hard" if hard else "soft"
    )
    reason = outcome(ex, envelope(SENDER, keys))
    if hard:
        assert reason.startswith("revocation data unavailable") and "unreachable" in reason
    else:
        assert reason == "accepted"
    [entry] = audit_actions(ex, "revocation-unavailable")
    assert entry.detail["mode"] == ("hard" if hard else "soft")
    assert down in entry.detail["reason"]


def test_prefer_falls_back_to_the_crl_when_the_responder_is_down(issuer, tmp_path) -> None:
    down = f"http://127.0.0.1:{_free_port()}"
    ex = receiver(issuer, tmp_path / "r", pki_ocsp="prefer")
    # the CRL kept here (imported as before there was fetching) answers instead
    crl = issuer.ex.ctx.pki.publish_crl()
    ex.ctx.pki.keep_crl(crl, [issuer.ex.ctx.pki.issuing_cert()])
    assert outcome(ex, envelope(SENDER, keys_naming(issuer, SENDER, down))) == "accepted"
    assert audit_actions(ex, "revocation-unavailable") == []


class Forger(BaseHTTPRequestHandler):
    """Answers every OCSP request "good", signed with a key of its own."""

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def do_POST(self) -> None:  # noqa: N802
        request = ocsp.load_der_ocsp_request(self.rfile.read(int(self.headers["Content-Length"])))
        now = dt.datetime.now(dt.UTC)
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            request.issuer_name_hash, request.issuer_key_hash, request.serial_number,
            request.hash_algorithm, ocsp.OCSPCertStatus.GOOD, now, now + dt.timedelta(hours=1),
            None, None,
        )  # fmt: skip
        for ext in request.extensions:
            builder = builder.add_extension(ext.value, critical=False)  # the nonce, echoed
        name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "forger")])
        me = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        body = (
            builder.responder_id(ocsp.OCSPResponderEncoding.HASH, me)
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.DER)
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_forged_ocsp_response_is_not_believed_and_is_audited(issuer, tmp_path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Forger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        keys = keys_naming(issuer, OTHER, f"http://127.0.0.1:{server.server_port}")
        issuer.ex.ctx.pki.revoke(keys.serial, "keyCompromise")  # the forger says "good"
        time.sleep(1.1)
        ex = receiver(issuer, tmp_path / "r", pki_ocsp="require")
        reason = outcome(ex, envelope(OTHER, keys))
    finally:
        server.shutdown()
        server.server_close()
    assert reason.startswith("revocation data unavailable")
    assert "is not signed by" in reason
    [entry] = [
        e for e in ex.audit.entries()
        if e.action == "revocation-unavailable" and e.detail.get("sender") == OTHER
    ]  # fmt: skip
    assert entry.detail["mode"] == "hard" and "is not signed by" in entry.detail["reason"]


# ---------------------------------------------------------------------------- CRL over HTTP


def test_the_crl_is_fetched_from_its_distribution_point(issuer: Issuer, tmp_path) -> None:
    ex = receiver(issuer, tmp_path / "r")  # OCSP off, hard fail, no CRL of the issuer kept
    key = messages.crl(crl_name_of(issuer.ex.keys.keys(SENDER).certificate))
    assert not ex.store.exists(key)
    assert outcome(ex, issuer.good) == "accepted"
    assert ex.store.exists(key)  # fetched and kept until its nextUpdate
    assert outcome(ex, issuer.before) == "accepted"
    reason = outcome(ex, issuer.after)
    assert reason.startswith("certificate revoked") and "key_compromise" in reason
    assert audit_actions(ex, "revocation-unavailable") == []


def test_without_a_reachable_distribution_point_the_crl_is_missing(issuer, tmp_path) -> None:
    down = f"http://127.0.0.1:{_free_port()}"
    ex = receiver(issuer, tmp_path / "r")
    reason = outcome(ex, envelope(SENDER, keys_naming(issuer, SENDER, down)))
    assert reason.startswith("revocation data unavailable")
    assert "could not be fetched" in reason and "no CRL of" in reason


class Relay(BaseHTTPRequestHandler):
    """Passes OCSP requests on to the issuer's responder, counting them."""

    target = ""
    asked: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).asked.append(self.path)
        answer = httpx.post(
            f"{self.target}{self.path}",
            content=body,
            headers={"Content-Type": "application/ocsp-request"},
        )
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers["content-type"])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args: object) -> None:
        pass


def test_one_ocsp_answer_serves_many_messages_until_its_next_update(issuer, tmp_path) -> None:
    Relay.target, Relay.asked = issuer.url, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        keys = keys_naming(issuer, SENDER, f"http://127.0.0.1:{server.server_port}")
        ex = receiver(issuer, tmp_path / "r", pki_ocsp="require")
        outcomes = [outcome(ex, envelope(SENDER, keys)) for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()
    assert outcomes == ["accepted"] * 3
    assert Relay.asked == ["/pki/ocsp"]  # asked once: the answer holds for an hour
    # a new receiver (another process) asks again
    other = receiver(issuer, tmp_path / "r2", pki_ocsp="require")
    reason = outcome(other, envelope(SENDER, keys))
    assert reason.startswith("revocation data unavailable")  # the relay is gone: not cached
