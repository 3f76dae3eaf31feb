"""Is the certificate a message was signed with one we trust, for its sender, at the time it
was signed? (docs/exchange.md, "Trust")

The signer's certificate comes from the message (ds:KeyInfo; other certificates there are
intermediates) or, when the message carries none, from the organ's registered certificate.
pyhanko-certvalidator (MIT) builds and validates the path to a trust anchor at the signing
time: validity of every certificate then, key usage digitalSignature, and revocation by the
CRLs this installation holds (exchange/pki/crls/) — a certificate revoked before the signing
time fails, one revoked after it does not. cryptography's own X.509 verifier was the other
candidate; it checks paths against the Web PKI profile only and has no CRL handling, which is
the part that matters here.

The library is run lenient about missing revocation data; the CRLs of the path it found are
then checked here (present, signed by their issuer, current at the signing time), so what is
missing or forged is known by name: it is logged in the audit, and refused (hard fail, the
default) or let through (soft fail).

Once the path is known (so only URLs a trusted CA wrote are ever fetched): with OCSP on
(SOHOA_PKI_OCSP prefer|require) each certificate naming a responder is asked about
(pki_ocsp.py) — revoked before the signing time refuses the message, good needs no CRL; a
responder that cannot be trusted or reached falls back to the CRL (prefer) or is missing
revocation data (require). A CRL the store lacks, or holds past its nextUpdate, is fetched from
an http(s) distribution point (pki_fetch.py), kept in the store as the cache until its
nextUpdate, and the path validated again with it.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID
from lxml import etree
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv

from exchange import messages
from exchange.envelope_read import DSIG
from exchange.models import SignatureError
from exchange.pki import (
    Authority,
    PkiError,
    crl_name,
    crl_name_for_ca,
    crl_name_of,
    organ_named,
    parse_crl,
)
from exchange.pki_fetch import MAX_CRL_BYTES, Fetch, FetchError, http_fetch, is_http
from exchange.pki_ocsp import OcspCache, OcspProblem, ask_cached, responder_url
from schemas.errors import NotFound

log = logging.getLogger("sohoa.exchange")

TIME_FORMAT = "%Y/%m/%d %H:%M:%S"  # TraceHeader and Status timestamps (UTC)
FUTURE_TOLERANCE = dt.timedelta(days=1)  # as statuses: a clock a little ahead, not a day


@dataclass(frozen=True)
class TrustPolicy:
    hard_fail: bool = True  # revocation data missing or forged: refuse (else: audit, accept)
    trust_registered: bool = False  # legacy: an organ's registered certificate is an anchor
    # OCSP for certificates naming a responder: off; prefer (else their CRL); require (no CRL)
    ocsp: str = "off"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def signing_time(text: str) -> dt.datetime:
    """A QCVN 102 timestamp (`yyyy/MM/dd HH:mm:ss`, UTC) as the moment the message was signed."""
    try:
        return dt.datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError as e:
        raise SignatureError(
            f"the message carries no signing time the certificate can be checked at ({text!r})"
        ) from e


def envelope_signed_at(trace: list[tuple[str, str]], sender: str) -> str:
    """When an envelope was signed: the timestamp of its sender's hop, the last in the trace
    (signed with the rest of the header); "" when there is none."""
    stamps = [stamp for organ_id, stamp in trace if organ_id == sender]
    return stamps[-1] if stamps else ""


def message_certs(root: etree._Element) -> list[x509.Certificate]:
    """The certificates in the message's ds:Signature/ds:KeyInfo, as sent (signer first)."""
    found = []
    for el in root.iterfind(f".//{{{DSIG}}}Signature/{{{DSIG}}}KeyInfo//{{{DSIG}}}X509Certificate"):
        try:
            found.append(x509.load_der_x509_certificate(base64.b64decode("".join(el.itertext()))))
        except ValueError as e:
            raise SignatureError(f"a certificate in the signature cannot be read: {e}") from e
    return found


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """pyhanko-certvalidator is async; the exchange is called from threads and from code that
    may already run an event loop (the API): a loop of our own, in a thread if need be."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _crl_points(cert: x509.Certificate) -> bool:
    try:
        cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS)
    except x509.ExtensionNotFound:
        return False
    return True


def _crl_urls(cert: x509.Certificate) -> list[str]:
    """The http(s) URLs of its CRL distribution points."""
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    names = [name for point in points for name in (point.full_name or [])]
    return [
        str(n.value)
        for n in names
        if isinstance(n, x509.UniformResourceIdentifier) and is_http(str(n.value))
    ]


def _pairs(chain: list[x509.Certificate]) -> list[tuple[x509.Certificate, x509.Certificate]]:
    """(issuer, certificate) down a path given root first."""
    return list(zip(chain, chain[1:], strict=False))


class Trust:
    """Checks signers against the anchors, CA certificates and CRLs in the store."""

    def __init__(
        self,
        authority: Authority,
        registered: Callable[[str], bytes],
        policy: TrustPolicy,
        audit: Callable[..., object],
        fetch: Fetch = http_fetch,
    ) -> None:
        self.authority = authority
        self.registered = registered  # OrganId -> its registered certificate (PEM)
        self.policy = policy
        self.audit = audit
        self.fetch = fetch  # revocation data over HTTP (pki_fetch.py)
        self.ocsp_answers = OcspCache()  # kept until their nextUpdate (pki_ocsp.py)

    def signer_of(
        self, root: etree._Element, sender: str
    ) -> tuple[x509.Certificate, list[x509.Certificate], bytes]:
        """The signer's certificate (also as PEM, to check the signature with) and every
        certificate the message carries."""
        certs = message_certs(root)
        cert = self.signer(certs, sender)
        return cert, certs, cert.public_bytes(serialization.Encoding.PEM)

    def signer(self, certs: list[x509.Certificate], sender: str) -> x509.Certificate:
        """The certificate to check the signature with: the message's own (the first that is
        no CA), or the sender's registered one when the message carries none."""
        for cert in certs:
            try:
                ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            except x509.ExtensionNotFound:
                ca = False
            if not ca:
                return cert
        return x509.load_pem_x509_certificate(self.registered(sender))

    def check(
        self,
        cert: x509.Certificate,
        others: list[x509.Certificate],
        *,
        sender: str,
        signed_at: str | dt.datetime,
        acting: str,
        target: str,
    ) -> None:
        """Raise SignatureError unless `cert` names `sender` and chains to a trust anchor,
        valid, fit for signing and not revoked at `signed_at` (a QCVN 102 timestamp or a
        time). `acting`/`target`: who checks what, for the audit entry when revocation data
        is missing."""
        named = organ_named(cert)
        if named != sender:
            raise SignatureError(
                f"the signing certificate names organ {named or '(none)'}, not the sender {sender}"
            )
        if isinstance(signed_at, str):  # none carried: checked as of now, the strictest time
            signed_at = signing_time(signed_at) if signed_at.strip() else _now()
        if signed_at > dt.datetime.now(dt.UTC) + FUTURE_TOLERANCE:
            raise SignatureError(f"the message says it was signed in the future ({signed_at})")
        anchors = self.authority.anchors()
        if self.policy.trust_registered:
            anchors.extend(self._registered_anchor(sender))
        if not anchors:
            raise SignatureError(
                "no trust anchor on this installation: `sohoa pki init` or `sohoa pki trust`"
            )
        if cert.issuer == cert.subject and cert not in anchors:
            raise SignatureError(
                f"{sender}'s certificate is self-issued and does not chain to a root trusted "
                "here (`sohoa pki trust` it to accept its messages)"
            )
        intermediates = [c for c in others if c != cert] + self.authority.intermediates()

        # One validation, with whatever CRLs the store has for these certificates, lenient
        # about missing ones (a revocation a good CRL shows is found either way); then the CRLs
        # of the path it found are checked here, so only a certificate that chains has missing
        # or forged revocation data audited, and refused when the policy is hard.
        def validate() -> list[x509.Certificate]:
            candidates = self._stored_crls([cert, *intermediates], [*anchors, *intermediates])
            path = self._validate(cert, anchors, intermediates, signed_at, sender, candidates)
            return [x509.load_der_x509_certificate(c.dump()) for c in path.iter_certs(True)]

        chain = validate()
        ocsp = self._ask_responders(chain, signed_at, sender)
        by_crl = [(i, c) for i, c in _pairs(chain) if self._needs_crl(c, ocsp)]
        fetched = {c: self._fetch_crl(i, c) for i, c in by_crl}
        if any(kept for kept, _ in fetched.values()):
            chain = validate()  # the fetched CRLs may show a revocation
        missing = []
        for issuer, c in _pairs(chain):
            if ocsp.get(c) == "":  # the responder answered: not revoked then
                continue
            if c in ocsp and self.policy.ocsp == "require":
                missing.append(ocsp[c])
                continue
            problem = self._crl_problem(issuer, c, signed_at)
            if problem:
                notes = [ocsp.get(c, ""), fetched.get(c, (False, ""))[1], problem]
                missing.append("; ".join(n for n in notes if n))
        if missing:
            self._unavailable(missing, acting, target, sender)

    def _needs_crl(self, cert: x509.Certificate, ocsp: dict[x509.Certificate, str]) -> bool:
        answered = ocsp.get(cert) == "" or (cert in ocsp and self.policy.ocsp == "require")
        return not answered and _crl_points(cert)

    def _ask_responders(
        self, chain: list[x509.Certificate], signed_at: dt.datetime, sender: str
    ) -> dict[x509.Certificate, str]:
        """With OCSP on, each certificate of the path naming a responder: "" when it answered
        (not revoked at the signing time), else why there is no answer to trust. Revoked
        before the signing time: SignatureError."""
        if self.policy.ocsp == "off":
            return {}
        found: dict[x509.Certificate, str] = {}
        for issuer, cert in _pairs(chain):
            url = responder_url(cert)
            if not url:
                continue
            try:
                answer = ask_cached(self.ocsp_answers, cert, issuer, self.fetch, url)
            except OcspProblem as e:
                found[cert] = str(e)
                continue
            if answer.revoked_at is not None and answer.revoked_at <= signed_at:
                whose = f"{sender}'s certificate" if cert is chain[-1] else "a CA of its chain"
                raise SignatureError(
                    f"certificate revoked: {whose} was revoked at "
                    f"{answer.revoked_at:%Y-%m-%d %H:%M:%S} UTC ({answer.reason}), before the "
                    f"message was signed ({signed_at:%Y-%m-%d %H:%M:%S}), says its OCSP "
                    "responder"
                )
            found[cert] = ""
        return found

    def _fetch_crl(self, issuer: x509.Certificate, cert: x509.Certificate) -> tuple[bool, str]:
        """When the store holds no CRL for `cert` before its nextUpdate and the certificate
        names an http(s) distribution point: fetch it and keep it if `issuer` signed it.
        (kept?, why nothing could be kept)."""
        urls = _crl_urls(cert)
        if not urls:
            return False, ""
        try:
            kept = x509.load_der_x509_crl(
                self.authority.store.get_bytes(messages.crl(crl_name_of(cert)))
            )
            if (kept.next_update_utc or kept.last_update_utc) > _now():
                return False, ""  # the cache is current
        except (NotFound, ValueError):
            pass
        problems = []
        for url in urls:
            try:
                crl = parse_crl(self.fetch(url, None, "application/pkix-crl", MAX_CRL_BYTES))
                if crl_name(crl) != crl_name_of(cert):
                    raise PkiError(f"it is the CRL of {crl.issuer.rfc4514_string()}")
                self.authority.keep_crl(crl, [issuer])
            except FetchError as e:
                problems.append(f"the CRL could not be fetched: {e}")
                continue
            except PkiError as e:
                problems.append(f"the CRL fetched from {url} was not kept: {e}")
                continue
            log.info("fetched the CRL of %s from %s", crl.issuer.rfc4514_string(), url)
            return True, ""
        return False, "; ".join(problems)

    def _stored_crls(
        self, certs: list[x509.Certificate], cas: list[x509.Certificate]
    ) -> list[x509.CertificateRevocationList]:
        """The CRLs in the store for `certs` that a CA among `cas` signed (the library takes a
        bad one as a failure even when lenient; Trust._crls names it)."""
        found: dict[str, x509.CertificateRevocationList] = {}
        for cert in certs:
            if cert.issuer == cert.subject or not _crl_points(cert):
                continue
            name = crl_name_of(cert)
            if name in found:
                continue
            try:
                crl = x509.load_der_x509_crl(self.authority.store.get_bytes(messages.crl(name)))
            except (NotFound, ValueError):
                continue
            signers = [ca for ca in cas if crl_name_for_ca(ca) == name]
            if any(crl.is_signature_valid(ca.public_key()) for ca in signers):  # type: ignore[arg-type]
                found[name] = crl
        return list(found.values())

    def _validate(
        self,
        cert: x509.Certificate,
        anchors: list[x509.Certificate],
        intermediates: list[x509.Certificate],
        signed_at: dt.datetime,
        sender: str,
        crls: list[x509.CertificateRevocationList],
    ) -> Any:
        """The validated path (pyhanko_certvalidator ValidationPath), revocation checked with
        `crls` where they are good (what is missing or bad: Trust._crls)."""
        context = ValidationContext(
            trust_roots=[_asn1(a) for a in anchors],
            other_certs=[_asn1(c) for c in intermediates],
            moment=signed_at,
            crls=[c.public_bytes(serialization.Encoding.DER) for c in crls],
            revocation_mode="soft-fail",
            # the CRL is read now, about a past signing time: its entries' dates decide
            retroactive_revinfo=True,
        )
        validator = CertificateValidator(_asn1(cert), validation_context=context)
        try:
            return _run(validator.async_validate_usage({"digital_signature"}))
        except cv.RevokedError as e:
            raise SignatureError(
                f"certificate revoked: {sender}'s certificate was revoked at "
                f"{e.revocation_dt:%Y-%m-%d %H:%M:%S} UTC ({e.reason.native}), before the "
                f"message was signed ({signed_at:%Y-%m-%d %H:%M:%S})"
            ) from e
        except (cv.ExpiredError, cv.NotYetValidError) as e:
            raise SignatureError(
                f"{sender}'s certificate was not valid when the message was signed "
                f"({signed_at:%Y-%m-%d %H:%M:%S} UTC; valid {cert.not_valid_before_utc:%Y-%m-%d}"
                f" to {cert.not_valid_after_utc:%Y-%m-%d})"
            ) from e
        except cv.InsufficientRevinfoError as e:
            raise SignatureError(
                f"revocation data unavailable for {sender}'s certificate: {e}"
            ) from e
        except cv.PathBuildingError as e:
            raise SignatureError(
                f"{sender}'s certificate ({cert.issuer.rfc4514_string()}) does not chain to a "
                "root trusted here"
            ) from e
        except cv.InvalidCertificateError as e:
            raise SignatureError(f"{sender}'s certificate is not for signing: {e}") from e
        except (cv.PathValidationError, cv.ValidationError) as e:
            raise SignatureError(f"{sender}'s certificate is not trusted: {e}") from e

    def _registered_anchor(self, sender: str) -> list[x509.Certificate]:
        try:
            cert = x509.load_pem_x509_certificate(self.registered(sender))
        except (SignatureError, NotFound):
            return []
        return [cert] if cert.issuer == cert.subject else []

    def _crl_problem(
        self, issuer: x509.Certificate, cert: x509.Certificate, signed_at: dt.datetime
    ) -> str:
        """What is wrong with the CRL of one certificate of the validated path ("" nothing):
        when it names a distribution point its CRL must be in the store, signed by its issuer
        in that path, and current at the signing time (issued after it, or not past its next
        update then)."""
        if not _crl_points(cert):
            return ""
        who = cert.issuer.rfc4514_string()
        try:
            crl = x509.load_der_x509_crl(
                self.authority.store.get_bytes(messages.crl(crl_name_of(cert)))
            )
        except NotFound:
            return f"no CRL of {who} in the store"
        except ValueError:
            return f"the CRL of {who} cannot be read"
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            return f"the CRL of {who} is not signed by that CA"
        if signed_at > crl.last_update_utc and signed_at > (
            crl.next_update_utc or crl.last_update_utc
        ):
            return f"the CRL of {who} is out of date (next update {crl.next_update_utc})"
        return ""

    def _unavailable(self, missing: list[str], acting: str, target: str, sender: str) -> None:
        mode = "hard" if self.policy.hard_fail else "soft"
        reason = "; ".join(missing)
        log.warning("revocation data unavailable (%s fail) for %s: %s", mode, sender, reason)
        self.audit(
            acting, "revocation-unavailable", target, sender=sender, mode=mode, reason=reason
        )
        if self.policy.hard_fail:
            raise SignatureError(
                f"revocation data unavailable for {sender}'s certificate: {reason}"
            )
