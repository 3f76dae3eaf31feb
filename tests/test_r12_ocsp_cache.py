"""The OCSP answer cache (exchange/pki_ocsp.py) keeps an answer no longer than `ask` would
trust it: an answer without our nonce is fresh MAX_AGE after it was made, whatever its
nextUpdate says."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from exchange import pki_ocsp
from exchange.pki_ocsp import OcspCache, OcspProblem, ask, ask_cached

URL = "http://ocsp.example/pki/ocsp"


def _cert(name: str, key, issuer_name: x509.Name, issuer_key, serial: int, ca: bool):  # noqa: ANN001
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=800))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _responder(made_ago: dt.timedelta, next_in: dt.timedelta):  # noqa: ANN202
    """An issuer, a certificate it made, and a responder answering 'good' without a nonce,
    made `made_ago` before now and valid until `next_in` after now."""
    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA")])
    issuer = _cert("CA", ca_key, ca_name, ca_key, 1, True)
    cert = _cert("organ", leaf_key, ca_name, ca_key, 4242, False)
    asked: list[str] = []

    def fetch(url: str, body: bytes | None, kind: str, limit: int) -> bytes:
        asked.append(url)
        now = dt.datetime.now(dt.UTC)
        answer = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=issuer,
                algorithm=hashes.SHA256(),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=now - made_ago,
                next_update=now + next_in,
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
            .sign(ca_key, hashes.SHA256())
        )
        return answer.public_bytes(Encoding.DER)

    return cert, issuer, fetch, asked


def test_an_answer_without_nonce_is_not_kept_past_max_age(monkeypatch) -> None:
    # Made 23 hours ago (fresh for one more hour by MAX_AGE), nextUpdate a year away.
    cert, issuer, fetch, asked = _responder(dt.timedelta(hours=23), dt.timedelta(days=365))
    cache = OcspCache()
    assert ask_cached(cache, cert, issuer, fetch, URL).revoked_at is None
    assert ask_cached(cache, cert, issuer, fetch, URL).revoked_at is None
    assert asked == [URL]  # kept while fresh

    later = pki_ocsp._now() + dt.timedelta(hours=2)
    monkeypatch.setattr(pki_ocsp, "_now", lambda: later)
    # The same bytes asked afresh are now too old: the kept answer must not outlive that.
    with pytest.raises(OcspProblem, match="is old"):
        ask(cert, issuer, fetch, URL)
    with pytest.raises(OcspProblem, match="is old"):  # not served from the cache
        ask_cached(cache, cert, issuer, fetch, URL)
    assert asked == [URL, URL, URL]  # asked again, not answered from the cache


def test_an_answer_is_kept_until_its_next_update_within_max_age(monkeypatch) -> None:
    cert, issuer, fetch, asked = _responder(dt.timedelta(minutes=1), dt.timedelta(hours=1))
    cache = OcspCache()
    ask_cached(cache, cert, issuer, fetch, URL)
    later = pki_ocsp._now() + dt.timedelta(minutes=30)
    monkeypatch.setattr(pki_ocsp, "_now", lambda: later)
    ask_cached(cache, cert, issuer, fetch, URL)
    assert asked == [URL]
    much_later = later + dt.timedelta(minutes=31)
    monkeypatch.setattr(pki_ocsp, "_now", lambda: much_later)
    ask_cached(cache, cert, issuer, fetch, URL)
    assert asked == [URL, URL]  # its nextUpdate passed: asked again
