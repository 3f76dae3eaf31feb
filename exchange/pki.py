"""The installation's certificate authority, its trust anchors and its CRL (docs/exchange.md,
"Trust").

`pki init` makes a root CA (its key encrypted with a passphrase, in the data folder or written
elsewhere so the root is offline) and an issuing CA under it (its key in the data folder,
mode 0600: it signs organ certificates and CRLs day to day). The root is a trust anchor; so is
any external root (a national CA) or legacy self-issued certificate given to `pki trust`.
Public parts live in the object store (messages.py: exchange/pki/…) so every node verifies with
the same anchors and CRLs; private keys never leave the data folder.

A revocation is one object per serial; the CRL is rebuilt from all of them, signed by the
issuing CA and published under the issuer's name hash, where verifiers look for it
(pki_verify.py). With a public URL (SOHOA_PKI_PUBLIC_URL) issued certificates name the API's
own routes as their CRL distribution point (`/pki/crl/<name>.crl`) and OCSP responder
(`/pki/ocsp`, pki_ocsp.py), so a peer installation fetches them instead of importing them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from exchange import messages
from schemas.errors import NotFound, SohoaError
from storage.base import ObjectStore

ROOT_DAYS = 20 * 365
ISSUING_DAYS = 10 * 365
ORGAN_DAYS = 3 * 365
# Certificates start a day before they are made: a message or status stamped shortly before
# its organ's certificate was (re)issued, or by a clock a little behind, still verifies (the
# same day of slack as a status may be ahead, ledger.py); expiry and revocation are exact.
NOT_BEFORE_SLACK = dt.timedelta(days=1)
CRL_DAYS = 30  # nextUpdate: `sohoa pki crl` publishes a fresh one before then
# RFC 5280 CRLReason names, as `pki revoke --reason` takes them
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "cACompromise": x509.ReasonFlags.ca_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "certificateHold": x509.ReasonFlags.certificate_hold,
    "privilegeWithdrawn": x509.ReasonFlags.privilege_withdrawn,
    "aACompromise": x509.ReasonFlags.aa_compromise,
}
_UID = x509.ObjectIdentifier("0.9.2342.19200300.100.1.1")
DEFAULT_CRL_URL = "sohoa:exchange/pki/crls/"  # the store's own key, when no public URL is set
CRL_ROUTE = "/pki/crl/"  # the API's routes (app/pki_api.py), under the public URL
OCSP_ROUTE = "/pki/ocsp"


class PkiError(SohoaError):
    """The CA cannot do what was asked (no CA yet, wrong passphrase, unknown serial…)."""

    code = "pki"


def _crl_id(issuer: x509.Name, key_id: bytes | None) -> str:
    """How a CRL is named in the store: the SHA-256 of its issuer's DER name and key
    identifier (two CAs may share a name — every default installation's does — not a key)."""
    return hashlib.sha256(issuer.public_bytes() + (key_id or b"")).hexdigest()[:32]


def _key_id(extensions: x509.Extensions, kind: type) -> bytes | None:
    try:
        value = extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    return value.key_identifier if kind is x509.AuthorityKeyIdentifier else value.digest


def crl_name_of(cert: x509.Certificate) -> str:
    """Where the CRL that covers `cert` is kept (its issuer's name and key identifier)."""
    return _crl_id(cert.issuer, _key_id(cert.extensions, x509.AuthorityKeyIdentifier))


def crl_name_for_ca(ca: x509.Certificate) -> str:
    """Where the CRL a CA signs is kept: the same name its certificates find it by."""
    return _crl_id(ca.subject, _key_id(ca.extensions, x509.SubjectKeyIdentifier))


def crl_name(crl: x509.CertificateRevocationList) -> str:
    return _crl_id(crl.issuer, _key_id(crl.extensions, x509.AuthorityKeyIdentifier))


def organ_named(cert: x509.Certificate) -> str:
    """The OrganId a certificate's subject names (CN, or UID when the CN is a name)."""
    for oid in (_UID, NameOID.COMMON_NAME):
        attrs = cert.subject.get_attributes_for_oid(oid)
        if attrs:
            return str(attrs[0].value)
    return ""


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _name(common_name: str, organisation: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _write_private(path: Path, pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_pem_certs(pem: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as e:
        raise PkiError(f"not a PEM X.509 certificate: {e}") from e


def parse_crl(data: bytes) -> x509.CertificateRevocationList:
    try:
        if data.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as e:
        raise PkiError(f"not a CRL (PEM or DER): {e}") from e


@dataclass(frozen=True)
class Revocation:
    serial: str  # hex
    organ_id: str
    reason: str  # an RFC 5280 name (REASONS)
    revoked_at: str  # ISO 8601, UTC


class Authority:
    """The installation CA: trust anchors, issuing, revoking, the CRL."""

    def __init__(
        self, store: ObjectStore, ca_dir: Path, crl_url: str = "", public_url: str = ""
    ) -> None:
        """`crl_url`: the base of the CRL distribution point written in issued certificates;
        `public_url`: where others reach this installation's API — its CRL route (unless
        `crl_url` says otherwise) and its OCSP responder go into issued certificates."""
        self.store = store
        self.ca_dir = Path(ca_dir)
        public = public_url.rstrip("/")
        self.crl_url = crl_url or (f"{public}{CRL_ROUTE}" if public else DEFAULT_CRL_URL)
        self.ocsp_url = f"{public}{OCSP_ROUTE}" if public else ""

    # ------------------------------------------------------------------ anchors

    def anchors(self) -> list[x509.Certificate]:
        found = []
        for key in sorted(self.store.list(messages.ANCHORS)):
            found.extend(load_pem_certs(self.store.get_bytes(key)))
        return found

    def trust(self, pem: bytes) -> x509.Certificate:
        """Make a root a trust anchor: a root CA, or a legacy self-issued organ certificate
        someone decided to trust (docs/exchange.md, migration). CA certificates after it in
        the file (as `pki export` writes them) are kept as its issuing CAs once each is
        checked to be issued by it."""
        certs = load_pem_certs(pem)
        roots = [c for c in certs if c.issuer == c.subject]
        if len(roots) != 1:
            first = certs[0].issuer.rfc4514_string() if certs else "nothing"
            raise PkiError(
                f"not one root: the file holds {len(roots)} self-issued certificates (the first "
                f"is issued by {first}); trust the root of its chain"
            )
        root = roots[0]
        below = [c for c in certs if c is not root]
        for cert in below:
            try:
                cert.verify_directly_issued_by(root)
            except (ValueError, TypeError, InvalidSignature) as e:
                raise PkiError(
                    f"{cert.subject.rfc4514_string()} is not issued by the root in the file"
                ) from e
        self.store.put_bytes(messages.anchor(fingerprint(root)), _pem(root))
        for cert in below:
            self.store.put_bytes(messages.ca_cert(fingerprint(cert)), _pem(cert))
        return root

    def intermediates(self) -> list[x509.Certificate]:
        """Issuing CAs known here: ours and those that came with a trusted root."""
        found = [self.issuing_cert()] if self.store.exists(messages.PKI_CA) else []
        for key in sorted(self.store.list(messages.CAS)):
            found.extend(load_pem_certs(self.store.get_bytes(key)))
        return found

    def untrust(self, sha256_prefix: str) -> x509.Certificate:
        matches = [c for c in self.anchors() if fingerprint(c).startswith(sha256_prefix.lower())]
        if len(matches) != 1 or len(sha256_prefix) < 8:
            raise PkiError(
                f"{len(matches)} trust anchors start with {sha256_prefix!r}: "
                "give 8 or more characters of exactly one"
            )
        self.store.delete(messages.anchor(fingerprint(matches[0])))
        return matches[0]

    # ------------------------------------------------------------------ the CA itself

    @property
    def root_key_path(self) -> Path:
        return self.ca_dir / "root.key.pem"

    @property
    def issuing_key_path(self) -> Path:
        return self.ca_dir / "issuing.key.pem"

    def has_ca(self) -> bool:
        return self.store.exists(messages.PKI_CA) and self.issuing_key_path.is_file()

    def issuing_cert(self) -> x509.Certificate:
        try:
            return load_pem_certs(self.store.get_bytes(messages.PKI_CA))[0]
        except NotFound as e:
            raise PkiError("this installation has no CA: run `sohoa pki init`") from e

    def issuing_key(self) -> rsa.RSAPrivateKey:
        return self._issuing_key()

    def _issuing_key(self) -> rsa.RSAPrivateKey:
        if not self.issuing_key_path.is_file():
            raise PkiError(
                f"no issuing CA key in {self.ca_dir}: run `sohoa pki init` on this machine"
            )
        key = serialization.load_pem_private_key(self.issuing_key_path.read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    def init(
        self, name: str, passphrase: bytes, *, root_key_out: Path | None = None
    ) -> tuple[x509.Certificate, x509.Certificate, Path]:
        """A root CA (key encrypted with `passphrase`, written to `root_key_out` or the data
        folder) and an issuing CA it signs; the root becomes a trust anchor and an empty CRL
        is published. Refused when the installation already has a CA."""
        if self.has_ca() or self.issuing_key_path.exists():
            raise PkiError(f"this installation already has a CA ({self.ca_dir})")
        if len(passphrase) < 8:
            raise PkiError("the root key passphrase must have 8 characters or more")
        now = _now()
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        root_name = _name(f"{name} Root CA", name)
        root = self._ca_cert(root_name, root_key, root_name, root_key, now, ROOT_DAYS, None)
        issuing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        issuing = self._ca_cert(
            _name(f"{name} Issuing CA", name), issuing_key, root_name, root_key, now,
            ISSUING_DAYS, 0,
        )  # fmt: skip
        key_path = root_key_out or self.root_key_path
        _write_private(
            key_path,
            root_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(passphrase),
            ),
        )
        _write_private(
            self.issuing_key_path,
            issuing_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        self.trust(root.public_bytes(serialization.Encoding.PEM))
        self.store.put_bytes(messages.PKI_CA, issuing.public_bytes(serialization.Encoding.PEM))
        self.publish_crl()
        return root, issuing, key_path

    @staticmethod
    def _ca_cert(
        subject: x509.Name,
        key: rsa.RSAPrivateKey,
        issuer: x509.Name,
        issuer_key: rsa.RSAPrivateKey,
        now: dt.datetime,
        days: int,
        path_length: int | None,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - NOT_BEFORE_SLACK)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(_usage(sign=False, ca=True), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        )
        return builder.sign(issuer_key, hashes.SHA256())

    # ------------------------------------------------------------------ organ certificates

    def issue(
        self, organ_id: str, organ_name: str, public_key: rsa.RSAPublicKey, days: int = ORGAN_DAYS
    ) -> x509.Certificate:
        """An organ's signing certificate: CN = OrganId, keyUsage digitalSignature and
        nonRepudiation, the CRL distribution point, the OCSP responder when there is a public
        URL. Recorded in issued/ (revoke by organ)."""
        ca, ca_key = self.issuing_cert(), self._issuing_key()
        now = _now()
        not_after = min(now + dt.timedelta(days=days), ca.not_valid_after_utc)
        crl_point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(f"{self.crl_url}{crl_name_for_ca(ca)}.crl")],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )  # fmt: skip
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(organ_id, organ_name))
            .issuer_name(ca.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - NOT_BEFORE_SLACK)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign=True, ca=False), critical=True)
            .add_extension(x509.CRLDistributionPoints([crl_point]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if self.ocsp_url:
            responder = x509.AccessDescription(
                x509.AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(self.ocsp_url),
            )
            builder = builder.add_extension(
                x509.AuthorityInformationAccess([responder]), critical=False
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        record = {
            "serial": serial_hex(cert.serial_number),
            "organ_id": organ_id,
            "sha256": fingerprint(cert),
            "not_after": not_after.isoformat(),
        }
        self.store.put_bytes(messages.issued(record["serial"]), json.dumps(record).encode())
        return cert

    def chain(self) -> bytes:
        """The issuing CA certificate, sent after an organ's own in every signature."""
        return self.issuing_cert().public_bytes(serialization.Encoding.PEM)

    # ------------------------------------------------------------------ revocation

    def _issued(self) -> list[dict[str, str]]:
        return [json.loads(self.store.get_bytes(k)) for k in self.store.list(messages.ISSUED)]

    def issued_serial(self, serial: str) -> bool:
        """Did this CA issue the certificate with this serial (hex)?"""
        return self.store.exists(messages.issued(serial))

    def revoke(self, organ_or_serial: str, reason: str = "unspecified") -> list[Revocation]:
        """Revoke one certificate (by serial, hex) or every unrevoked one issued to an organ;
        then publish the new CRL. The revocation time is now: messages signed before it stay
        valid, messages signed after it are rejected."""
        if reason not in REASONS:
            raise PkiError(f"unknown reason {reason!r}: use one of {', '.join(REASONS)}")
        wanted = organ_or_serial.lower().removeprefix("0x")
        issued = self._issued()
        targets = [r for r in issued if r["organ_id"] == organ_or_serial] or [
            r for r in issued if r["serial"] == wanted
        ]
        if not targets:
            raise PkiError(f"this CA issued no certificate to or with serial {organ_or_serial!r}")
        done = []
        at = _now().isoformat()
        for record in targets:
            rev = Revocation(record["serial"], record["organ_id"], reason, at)
            if self.store.create(messages.revoked(rev.serial), json.dumps(rev.__dict__).encode()):
                done.append(rev)
        if not done:
            raise PkiError(f"already revoked: {organ_or_serial}")
        self.publish_crl()
        return done

    def revocation(self, serial: str) -> Revocation | None:
        """The revocation of the certificate with this serial (hex), if it is revoked."""
        try:
            return Revocation(**json.loads(self.store.get_bytes(messages.revoked(serial))))
        except NotFound:
            return None

    def revocations(self) -> list[Revocation]:
        return [
            Revocation(**json.loads(self.store.get_bytes(k)))
            for k in sorted(self.store.list(messages.REVOKED))
        ]

    def publish_crl(self) -> x509.CertificateRevocationList:
        """Sign the CRL of every revocation (a higher CRL number each time) and put it where
        verifiers look: messages.crl(issuer hash of the issuing CA)."""
        ca, ca_key = self.issuing_cert(), self._issuing_key()
        key = messages.crl(crl_name_for_ca(ca))
        number = 1
        if self.store.exists(key):
            previous = x509.load_der_x509_crl(self.store.get_bytes(key))
            number = previous.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
            number += 1
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.subject)
            .last_update(now)
            .next_update(now + dt.timedelta(days=CRL_DAYS))
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        for rev in self.revocations():
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(rev.serial, 16))
                .revocation_date(dt.datetime.fromisoformat(rev.revoked_at))
                .add_extension(x509.CRLReason(REASONS[rev.reason]), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        crl = builder.sign(ca_key, hashes.SHA256())
        self.store.put_bytes(key, crl.public_bytes(serialization.Encoding.DER))
        return crl

    def import_crl(self, data: bytes) -> x509.CertificateRevocationList:
        """A CRL published by another CA (a peer installation, a national CA): kept only when
        signed by a CA certificate known here and not older than the one kept."""
        return self.keep_crl(parse_crl(data), self.known_cas())

    def keep_crl(
        self, crl: x509.CertificateRevocationList, cas: list[x509.Certificate]
    ) -> x509.CertificateRevocationList:
        """Keep `crl` where verifiers look for it when a CA among `cas` signed it and it is
        not older than the one kept (an import, or one fetched from its distribution point)."""
        issuers = [c for c in cas if crl_name_for_ca(c) == crl_name(crl)]
        if not any(crl.is_signature_valid(c.public_key()) for c in issuers):  # type: ignore[arg-type]
            raise PkiError(
                f"the CRL of {crl.issuer.rfc4514_string()} is not signed by a CA known here "
                "(`sohoa pki trust` its root first)"
            )
        key = messages.crl(crl_name(crl))
        if self.store.exists(key):
            kept = x509.load_der_x509_crl(self.store.get_bytes(key))
            if kept.last_update_utc > crl.last_update_utc:
                raise PkiError("the CRL kept here is newer than this one")
        self.store.put_bytes(key, crl.public_bytes(serialization.Encoding.DER))
        return crl

    def root(self) -> x509.Certificate:
        """The installation's root: the anchor that issued its issuing CA."""
        issuing = self.issuing_cert()
        for cert in self.anchors():
            try:  # by its key: a peer's root may bear the same name
                issuing.verify_directly_issued_by(cert)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return cert
        raise PkiError("the installation's root is no longer a trust anchor here")

    def known_cas(self) -> list[x509.Certificate]:
        """Anchors and the issuing CAs under them: who may sign a CRL kept here."""
        return [*self.anchors(), *self.intermediates()]
