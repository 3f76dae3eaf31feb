"""OCSP (RFC 6960, docs/exchange.md "Trust"): the installation's responder, answering from the
CA's own revocation records and signed by the issuing CA, and the client the verifier asks a
certificate's responder with (the URL in its Authority Information Access).

The client trusts an answer only when it is signed by the certificate's issuer (or by a
responder certificate that issuer made for OCSP signing), names the certificate asked about,
and is fresh: it echoes the request's nonce, or was made within MAX_AGE and is not past its
nextUpdate. Anything else is a problem the verifier reports by name (pki_verify.py).

A trusted answer is kept (OcspCache, one per verifier) until its nextUpdate, per responder,
issuer and serial: a receiver checking many messages from one organ asks its responder once
per answer period, not once per message (RFC 5019 §2.2.1 lets a client reuse an answer until
then). Answers without a nextUpdate are never kept; the oldest go first beyond CACHE_SIZE.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from exchange.pki import REASONS, Authority, serial_hex
from exchange.pki_fetch import MAX_OCSP_BYTES, Fetch, FetchError

REQUEST_TYPE = "application/ocsp-request"
RESPONSE_TYPE = "application/ocsp-response"
ANSWER_HOURS = 1  # nextUpdate of the responder's answers: asked again after that
MAX_AGE = dt.timedelta(days=1)  # an answer without our nonce is fresh this long
CLOCK_SKEW = dt.timedelta(minutes=5)
CACHE_SIZE = 4096  # answers kept per verifier (one per certificate asked about)
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}
_REASON_NAMES = {flag: name for name, flag in REASONS.items()}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def responder_url(cert: x509.Certificate) -> str:
    """The OCSP responder its Authority Information Access names ("" when none)."""
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return ""
    for description in access:
        if description.access_method == AuthorityInformationAccessOID.OCSP:
            return str(description.access_location.value)
    return ""


def _issuer_hashes(ca: x509.Certificate, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    """CertID's issuerNameHash and issuerKeyHash of `ca` (hash of its DER subject and of its
    public key's bit string) with the request's hash."""
    info = asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))
    if algorithm.name == "sha1":
        return info.subject.sha1, info.public_key.sha1
    return info.subject.sha256, info.public_key.sha256


# ---------------------------------------------------------------------------- the responder


def respond(authority: Authority, request_der: bytes) -> bytes:
    """The DER OCSPResponse to a DER OCSPRequest about a certificate this CA issued: good,
    revoked (with its time and reason) or unknown; unauthorized when the CA named is not ours."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
    except ValueError:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if request.hash_algorithm.name not in _HASHES or not authority.has_ca():
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    ca, key = authority.issuing_cert(), authority.issuing_key()
    name_hash, key_hash = _issuer_hashes(ca, request.hash_algorithm)
    if (request.issuer_name_hash, request.issuer_key_hash) != (name_hash, key_hash):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    serial = serial_hex(request.serial_number)
    revoked = authority.revocation(serial)
    if revoked is not None:
        status = ocsp.OCSPCertStatus.REVOKED
    elif authority.issued_serial(serial):
        status = ocsp.OCSPCertStatus.GOOD
    else:
        status = ocsp.OCSPCertStatus.UNKNOWN
    now = _now()
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        name_hash,
        key_hash,
        request.serial_number,
        request.hash_algorithm,
        status,
        this_update=now,
        next_update=now + dt.timedelta(hours=ANSWER_HOURS),
        revocation_time=dt.datetime.fromisoformat(revoked.revoked_at) if revoked else None,
        revocation_reason=REASONS[revoked.reason] if revoked else None,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, ca)
    try:
        nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
    except x509.ExtensionNotFound:
        nonce = None
    if nonce is not None:
        builder = builder.add_extension(nonce, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


# ---------------------------------------------------------------------------- the client


class OcspProblem(Exception):
    """No answer that can be trusted: unreachable, refused, forged, stale or unknown."""


@dataclass(frozen=True)
class OcspAnswer:
    revoked_at: dt.datetime | None  # None: good
    reason: str = ""  # an RFC 5280 name when revoked
    next_update: dt.datetime | None = None  # reusable until then (`_keep_until`)


class OcspCache:
    """Trusted answers until their nextUpdate, by (responder, issuer key, serial); at most
    `size`, the least recently used dropped first. Shared by the threads of one process."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._answers: OrderedDict[tuple[str, bytes, int], OcspAnswer] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(cert: x509.Certificate, issuer: x509.Certificate, url: str) -> tuple[str, bytes, int]:
        return url, _issuer_hashes(issuer, hashes.SHA256())[1], cert.serial_number

    def get(self, key: tuple[str, bytes, int]) -> OcspAnswer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                return None
            if answer.next_update is None or answer.next_update <= _now():
                del self._answers[key]  # its period is over: ask again
                return None
            self._answers.move_to_end(key)
            return answer

    def put(self, key: tuple[str, bytes, int], answer: OcspAnswer) -> None:
        if answer.next_update is None or answer.next_update <= _now():
            return
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)


def ask_cached(
    cache: OcspCache, cert: x509.Certificate, issuer: x509.Certificate, fetch: Fetch, url: str
) -> OcspAnswer:
    """`ask`, unless `cache` holds an answer about `cert` from `url` still before its
    nextUpdate; a new trusted answer is kept."""
    key = cache.key(cert, issuer, url)
    answer = cache.get(key)
    if answer is None:
        answer = ask(cert, issuer, fetch, url)
        cache.put(key, answer)
    return answer


def ask(
    cert: x509.Certificate, issuer: x509.Certificate, fetch: Fetch, url: str = ""
) -> OcspAnswer:
    """The status of `cert` now, from its responder (`url` or its AIA), checked as the module
    says; OcspProblem naming what is wrong otherwise."""
    url = url or responder_url(cert)
    nonce = os.urandom(16)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, issuer, hashes.SHA256())
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    try:
        data = fetch(
            url, request.public_bytes(serialization.Encoding.DER), REQUEST_TYPE, MAX_OCSP_BYTES
        )
    except FetchError as e:
        raise OcspProblem(f"the OCSP responder {e}") from e
    try:
        answer = ocsp.load_der_ocsp_response(data)
    except ValueError as e:
        raise OcspProblem(f"the OCSP responder at {url} answered no OCSP response") from e
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspProblem(
            f"the OCSP responder at {url} answered {answer.response_status.name.lower()}"
        )
    _check_signed_by(answer, issuer, url)
    single = _single_for(answer, request)
    if single is None:
        raise OcspProblem(f"the OCSP response from {url} is not about the certificate asked")
    _check_fresh(answer, single, nonce, url)
    if single.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
        raise OcspProblem(f"the OCSP responder at {url} does not know the certificate")
    until = _keep_until(single, answer)
    if single.certificate_status == ocsp.OCSPCertStatus.GOOD:
        return OcspAnswer(None, next_update=until)
    reason = single.revocation_reason or x509.ReasonFlags.unspecified
    name = _REASON_NAMES.get(reason, reason.name)
    return OcspAnswer(single.revocation_time_utc, name, next_update=until)


def _keep_until(single, answer: ocsp.OCSPResponse) -> dt.datetime | None:  # noqa: ANN001
    """Until when the answer may be reused: its nextUpdate, and no later than MAX_AGE after it
    was made — a reused answer echoes no nonce of that check, and `_check_fresh` trusts such
    an answer only that long (a nextUpdate a year away must not stretch it)."""
    until = single.next_update_utc
    if until is None:
        return None
    return min(until, single.this_update_utc + MAX_AGE)


def _check_signed_by(answer: ocsp.OCSPResponse, issuer: x509.Certificate, url: str) -> None:
    """Signed by the issuer, or by a certificate in the answer the issuer made for OCSP."""
    signer = issuer
    for cert in answer.certificates:
        if cert == issuer:
            continue
        try:
            cert.verify_directly_issued_by(issuer)
            purposes = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in purposes:
            signer = cert
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(
                answer.signature,
                answer.tbs_response_bytes,
                padding.PKCS1v15(),
                answer.signature_hash_algorithm,  # type: ignore[arg-type]
            )
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(
                answer.signature,
                answer.tbs_response_bytes,
                ec.ECDSA(answer.signature_hash_algorithm),  # type: ignore[arg-type]
            )
        else:
            raise InvalidSignature
    except (InvalidSignature, ValueError, TypeError) as e:
        raise OcspProblem(
            f"the OCSP response from {url} is not signed by {issuer.subject.rfc4514_string()}"
        ) from e


def _single_for(answer: ocsp.OCSPResponse, request: ocsp.OCSPRequest) -> object | None:
    for single in answer.responses:
        if (
            single.serial_number == request.serial_number
            and single.issuer_key_hash == request.issuer_key_hash
            and single.issuer_name_hash == request.issuer_name_hash
        ):
            return single
    return None


def _check_fresh(answer: ocsp.OCSPResponse, single, nonce: bytes, url: str) -> None:  # noqa: ANN001
    """Our nonce echoed, or made lately; never past its nextUpdate nor from the future."""
    now = _now()
    try:
        echoed = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        echoed = None
    if echoed is not None and echoed != nonce:
        raise OcspProblem(f"the OCSP response from {url} answers another request (nonce)")
    if single.this_update_utc > now + CLOCK_SKEW:
        raise OcspProblem(f"the OCSP response from {url} is dated in the future")
    if echoed is None and single.this_update_utc < now - MAX_AGE:
        raise OcspProblem(f"the OCSP response from {url} is old ({single.this_update_utc})")
    if single.next_update_utc is not None and single.next_update_utc < now - CLOCK_SKEW:
        raise OcspProblem(f"the OCSP response from {url} is past its next update")
