"""Certificates with a chain and revocation (issue 19, docs/exchange.md "Trust"): real keys,
real CRLs, real envelopes received by the exchange; the `sohoa pki` and `keys` commands as a
user runs them."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.compose import build_services
from app.config import Settings
from exchange import envelope_write as writer
from exchange import messages
from exchange.models import Attachment, Envelope, OrganInfo, TraceHeader
from exchange.pki import Authority, crl_name_of
from exchange.pki_verify import Trust, TrustPolicy
from exchange.service import Exchange
from exchange.signing import KeyStore, OrganKeys, sign_tree
from exchange.statuses import Status
from tests.conftest import cli_with_env
from tests.pki_support import PASSPHRASE, init_ca
from workers.exchange_setup import build_exchange

SENDER, RECEIVER, OTHER = "001.00.52.H34", "000.00.52.H34", "000.00.00.H34"


def stamp(at: dt.datetime | None = None) -> str:
    return (at or dt.datetime.now(dt.UTC)).strftime("%Y/%m/%d %H:%M:%S")


def make_exchange(data: Path, **settings: object) -> Exchange:
    return build_exchange(build_services(Settings(data_dir=data, workers=1, **settings)))


def envelope(sender: str, keys: OrganKeys, signed_at: str | None = None) -> bytes:
    """A signed message from `sender` to RECEIVER with one small attachment (a new id each)."""
    env = Envelope(
        message_id=uuid.uuid4().hex,
        sender=OrganInfo(organ_id=sender),
        recipients=[OrganInfo(organ_id=RECEIVER)],
        trace=[TraceHeader(organ_id=sender, timestamp=signed_at or stamp())],
        attachments=[
            Attachment(content_id="c-1", name="a.txt", data=uuid.uuid4().hex.encode() * 4)
        ],
    )
    return writer.envelope_bytes(env, lambda root: sign_tree(root, keys))


def reason_of(ex: Exchange, data: bytes) -> str:
    receipt = ex.receive(data, RECEIVER)
    return "accepted" if receipt.status == Status.accepted else receipt.reason


def audit_actions(ex: Exchange, action: str) -> list:
    """The audit entries of `action` about SENDER's certificate (the receiver's own statuses
    are checked too, and audited of their own)."""
    return [
        e for e in ex.audit.entries() if e.action == action and e.detail.get("sender") == SENDER
    ]


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Exchange:
    ex = make_exchange(tmp_path_factory.mktemp("pki") / "data")
    init_ca(ex)
    for organ in (SENDER, RECEIVER, OTHER):
        ex.create_keys(organ)
    return ex


def issue_dated(ca: Authority, keys: KeyStore, organ: str, start: dt.datetime, end: dt.datetime):
    """A certificate from `ca` for the organ's key with the given validity (an expired one)."""
    ca_cert, ca_key = ca.issuing_cert(), ca._issuing_key()
    public = keys.keys(organ).private_key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, organ)]))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM) + ca.chain()


# ---------------------------------------------------------------------------- verification


def test_a_certificate_chained_to_the_installation_root_verifies(install: Exchange) -> None:
    data = envelope(SENDER, install.keys.keys(SENDER))
    assert reason_of(install, data) == "accepted"
    cert = install.keys.keys(SENDER).certificate
    assert cert.issuer != cert.subject  # issued by the CA, not self-issued
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value.endswith(f"{crl_name_of(cert)}.crl")


def test_a_certificate_from_a_root_not_trusted_here_is_rejected(install, tmp_path) -> None:
    elsewhere = make_exchange(tmp_path / "other")
    init_ca(elsewhere, "another installation")
    elsewhere.create_keys(SENDER)
    reason = reason_of(install, envelope(SENDER, elsewhere.keys.keys(SENDER)))
    assert "does not chain to a root trusted here" in reason


def test_a_certificate_naming_another_organ_is_rejected(install: Exchange) -> None:
    # OTHER's genuine certificate, used to sign a message claiming to come from SENDER
    reason = reason_of(install, envelope(SENDER, install.keys.keys(OTHER)))
    assert f"certificate names organ {OTHER}, not the sender {SENDER}" in reason


def test_validity_is_checked_at_the_signing_time(tmp_path) -> None:
    ex = make_exchange(tmp_path / "data")
    init_ca(ex)
    for organ in (SENDER, RECEIVER):
        ex.create_keys(organ)
    now = dt.datetime.now(dt.UTC)
    # the CA itself is valid from a day ago (pki.NOT_BEFORE_SLACK): the window is inside
    start, end = now - dt.timedelta(hours=20), now - dt.timedelta(hours=1)
    expired = issue_dated(ex.ctx.pki, ex.keys, SENDER, start, end)
    ex.keys.install(SENDER, expired)
    keys = ex.keys.keys(SENDER)
    reason = reason_of(ex, envelope(SENDER, keys))  # signed now: after it expired
    assert "certificate was not valid when the message was signed" in reason
    # signed while it was valid (an archived message read today): accepted
    assert reason_of(ex, envelope(SENDER, keys, stamp(now - dt.timedelta(hours=5)))) == "accepted"


def test_revocation_rejects_what_was_signed_after_it_only(tmp_path) -> None:
    ex = make_exchange(tmp_path / "data")
    init_ca(ex)
    for organ in (SENDER, RECEIVER):
        ex.create_keys(organ)
    keys = ex.keys.keys(SENDER)
    before = envelope(SENDER, keys)
    time.sleep(1.1)  # timestamps have seconds
    [revocation] = ex.ctx.pki.revoke(SENDER, "keyCompromise")
    assert revocation.serial == keys.serial
    time.sleep(1.1)
    after = envelope(SENDER, keys)
    assert reason_of(ex, before) == "accepted"
    reason = reason_of(ex, after)
    assert reason.startswith("certificate revoked") and "key_compromise" in reason
    crl = x509.load_der_x509_crl(ex.store.get_bytes(messages.crl(crl_name_of(keys.certificate))))
    entry = crl.get_revoked_certificate_by_serial_number(keys.certificate.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name == (
        "key_compromise"
    )


@dataclass
class Broken:
    ex: Exchange
    soft: Exchange
    keys: OrganKeys
    crl_key: str


@pytest.fixture
def broken(tmp_path) -> Broken:
    """One store seen with hard fail (the default) and soft fail; the sender's certificate
    revoked, so only a good CRL can tell."""
    ex = make_exchange(tmp_path / "data")
    init_ca(ex)
    for organ in (SENDER, RECEIVER):
        ex.create_keys(organ)
    soft = make_exchange(tmp_path / "data", pki_revocation="soft")
    keys = ex.keys.keys(SENDER)
    return Broken(ex, soft, keys, messages.crl(crl_name_of(keys.certificate)))


@pytest.mark.parametrize("hard", [True, False])
def test_a_missing_crl_fails_hard_or_soft_and_is_audited(broken: Broken, hard: bool) -> None:
    broken.ex.store.delete(broken.crl_key)
    ex = broken.ex if hard else broken.soft
    reason = reason_of(ex, envelope(SENDER, broken.keys))
    if hard:
        assert reason.startswith("revocation data unavailable") and "no CRL of" in reason
    else:
        assert reason == "accepted"
    [entry] = audit_actions(ex, "revocation-unavailable")
    assert entry.detail["mode"] == ("hard" if hard else "soft")
    assert entry.detail["sender"] == SENDER


@pytest.mark.parametrize("hard", [True, False])
def test_a_crl_signed_by_someone_else_is_not_used(broken: Broken, hard: bool, tmp_path) -> None:
    """A CRL with the issuer's name but another key: never believed — a forged empty one must
    not clear a revoked certificate, a forged full one must not revoke."""
    ca = broken.ex.ctx.pki
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    forged = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.issuing_cert().subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(broken.keys.certificate.serial_number)
            .revocation_date(now - dt.timedelta(days=1))
            .build()
        )
        .sign(forger, hashes.SHA256())
    )
    der = forged.public_bytes(serialization.Encoding.DER)
    (tmp_path / "forged.crl").write_bytes(der)
    with pytest.raises(Exception, match="not signed by a CA known here"):
        ca.import_crl(der)
    broken.ex.store.put_bytes(broken.crl_key, der)  # written into the store behind our back
    ex = broken.ex if hard else broken.soft
    reason = reason_of(ex, envelope(SENDER, broken.keys))
    if hard:
        assert "revocation data unavailable" in reason and "not signed by that CA" in reason
    else:  # not revoked by a forgery: accepted, and the forgery is in the audit
        assert reason == "accepted"
    [entry] = audit_actions(ex, "revocation-unavailable")
    assert "not signed by that CA" in entry.detail["reason"]


def test_a_legacy_self_issued_certificate_verifies_only_when_trusted(tmp_path) -> None:
    ex = make_exchange(tmp_path / "data")
    init_ca(ex)
    ex.create_keys(RECEIVER)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, SENDER)])
    now = dt.datetime.now(dt.UTC)
    legacy = (  # as `keys create` made them before there was a CA
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=100))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    pem = legacy.public_bytes(serialization.Encoding.PEM)
    ex.keys.register_cert(SENDER, pem)  # registered (`keys import`) is no longer trusted
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    keys = OrganKeys(SENDER, key_pem, pem)
    assert "self-issued and does not chain to a root trusted here" in reason_of(
        ex, envelope(SENDER, keys)
    )
    by_setting = make_exchange(tmp_path / "data", pki_trust_registered=True)
    assert reason_of(by_setting, envelope(SENDER, keys)) == "accepted"
    ex.ctx.pki.trust(pem)  # `sohoa pki trust legacy.pem`
    assert reason_of(ex, envelope(SENDER, keys)) == "accepted"


# ---------------------------------------------------------------------------- the commands


def run(env: dict[str, str], *args: str):  # noqa: ANN201
    result = cli_with_env(env, *args, timeout_s=120)
    return result.returncode, result.stdout, " ".join(result.stderr.split())


def test_the_pki_and_keys_commands(tmp_path) -> None:
    base = {**os.environ, "SOHOA_WORKERS": "1"}
    here = {**base, "SOHOA_DATA_DIR": str(tmp_path / "here")}
    there = {**base, "SOHOA_DATA_DIR": str(tmp_path / "there"), "SOHOA_PKI_PASSPHRASE": PASSPHRASE}

    code, _, err = run(here, "exchange", "keys", "create", SENDER)
    assert code == 1 and "no CA to issue the certificate: run `sohoa pki init`" in err
    code, _, err = run({**here, "SOHOA_PKI_PASSPHRASE": "short"}, "pki", "init")
    assert code == 1 and "8 characters or more" in err
    offline = tmp_path / "usb" / "root.key.pem"
    here_ca = {**here, "SOHOA_PKI_PASSPHRASE": PASSPHRASE}
    code, out, _ = run(here_ca, "pki", "init", "--root-key", str(offline))
    assert code == 0 and "(trusted here)" in out and str(offline) in out
    assert offline.stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in offline.read_bytes()
    assert not (tmp_path / "here" / "exchange-keys" / "ca" / "root.key.pem").exists()
    code, _, err = run(here_ca, "pki", "init")
    assert code == 1 and "already has a CA" in err
    code, out, _ = run(here, "exchange", "keys", "create", SENDER, RECEIVER)
    assert code == 0 and re.search(r"from CN=sohoa [0-9a-f]{8} Issuing CA", out)

    code, _, err = run(here, "pki", "revoke", SENDER, "--reason", "stolen")
    assert code == 1 and "unknown reason 'stolen'" in err and "keyCompromise" in err
    code, _, err = run(here, "pki", "revoke", OTHER)
    assert code == 1 and "issued no certificate" in err
    code, out, _ = run(here, "pki", "revoke", SENDER, "--reason", "superseded", "--json")
    assert code == 0 and '"reason": "superseded"' in out and SENDER in out
    revoked_serial = json.loads(out)["serial"]
    code, out, _ = run(here, "pki", "list")
    assert "revoked" in out and "superseded" in out
    old_key = (tmp_path / "here" / "exchange-keys" / f"{SENDER}.key.pem").read_bytes()
    code, out, _ = run(here, "exchange", "keys", "create", SENDER, "--new-key", "--json")
    assert code == 0 and json.loads(out)["serial"] != revoked_serial
    new_key = (tmp_path / "here" / "exchange-keys" / f"{SENDER}.key.pem").read_bytes()
    assert new_key != old_key

    # An organ whose certificate a CA elsewhere issues: csr there, install here.
    run(there, "pki", "init", "--name", "elsewhere")
    elsewhere = make_exchange(tmp_path / "there")
    csr = tmp_path / "other.csr"
    code, _, _ = run(here, "exchange", "keys", "csr", OTHER, "-o", str(csr))
    assert code == 0
    request = x509.load_pem_x509_csr(csr.read_bytes())
    cert = elsewhere.ctx.pki.issue(OTHER, "", request.public_key())
    issued = tmp_path / "other.pem"
    issued.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + elsewhere.ctx.pki.chain())
    code, _, err = run(here, "exchange", "keys", "install", OTHER, str(issued))
    assert code == 1 and "does not chain to a root trusted here" in err
    root = tmp_path / "elsewhere-root.pem"
    assert run(there, "pki", "export", "-o", str(root))[0] == 0
    code, _, err = run(here, "pki", "trust", str(issued))  # an organ certificate: not a root
    assert code == 1 and "not one root" in err
    code, out, _ = run(here, "pki", "trust", str(root))
    assert code == 0 and "CN=elsewhere Root CA" in out
    code, _, err = run(here, "exchange", "keys", "install", OTHER, str(issued))
    assert code == 1 and "no CRL of CN=elsewhere Issuing CA" in err  # hard fail by default
    crl = tmp_path / "elsewhere.crl"
    assert run(there, "pki", "crl", "-o", str(crl))[0] == 0
    code, out, _ = run(here, "pki", "crl", "--import", str(crl))
    assert code == 0 and "CN=elsewhere Issuing CA" in out
    code, out, _ = run(here, "exchange", "keys", "install", OTHER, str(issued))
    assert code == 0 and "installed" in out and "elsewhere Issuing CA" in out

    code, out, _ = run(here, "audit", "list", "--limit", "50")
    for action in ("pki-init", "pki-revoke", "pki-trust", "keys"):
        assert action in out


@pytest.mark.slow
def test_the_crl_is_published_and_read_on_the_s3_server(servers, tmp_path) -> None:
    from storage.minio import MinioStore

    url = servers["SOHOA_STORAGE"]
    bucket = f"test-pki-{uuid.uuid4().hex[:16]}"
    store = MinioStore.from_url(url.rsplit("/", 1)[0] + "/" + bucket)
    try:
        ca = Authority(store, tmp_path / "ca")
        ca.init("s3 test", PASSPHRASE.encode())
        keys = KeyStore(store, tmp_path / "keys")
        pair = keys.create(SENDER, "", ca)
        published = store.get_bytes(messages.crl(crl_name_of(pair.certificate)))
        assert len(list(x509.load_der_x509_crl(published))) == 0
        time.sleep(1.1)
        ca.revoke(SENDER, "cessationOfOperation")
        crl = x509.load_der_x509_crl(store.get_bytes(messages.crl(crl_name_of(pair.certificate))))
        assert crl.get_revoked_certificate_by_serial_number(pair.certificate.serial_number)
        # a verifier on another node reads anchors, CA and CRL from the server alone
        trust = Trust(Authority(store, tmp_path / "elsewhere"), keys.cert, TrustPolicy(), print)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        with pytest.raises(Exception, match="certificate revoked"):
            trust.check(pair.certificate, [], sender=SENDER, signed_at=later, acting="", target="")
        earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        trust.check(pair.certificate, [], sender=SENDER, signed_at=earlier, acting="", target="")
    finally:
        for key in list(store.list("")):
            store.delete(key)
        store.client.remove_bucket(bucket)
