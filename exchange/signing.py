"""Organ key pairs, X.509 certificates and enveloped XML-DSig signatures (signxml).

Each organ has an RSA key and a certificate naming its OrganId, issued by the installation CA
(pki.py) or by another one (`keys csr` / `keys install`). Certificates (with their chain) are
public and live in the object store (`exchange/certs/<OrganId>.pem`) so every node can verify;
private keys stay in the data folder (`<data dir>/exchange-keys/<OrganId>.key.pem`, mode 0600).
The signature is enveloped in the header and covers the edXMLEnvelope element (Reference
URI="#edXMLEnvelope"): header, trace, and the Manifest, where each attachment's SHA-256 is
listed, so every attachment is bound without its base64 ever being a tree node. Messages signed
over the whole document (URI="") are verified too. SHA-256 by default; RSA-SHA1 when a peer
needs it; both verified.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, XMLVerifier, methods
from signxml.exceptions import InvalidDigest, InvalidInput, SignXMLException
from signxml.verifier import SignatureConfiguration

from exchange import messages
from exchange.envelope_read import DSIG, ENVELOPE_ID, xml_parser
from exchange.models import SignatureError
from exchange.pki import Authority, load_pem_certs, organ_named
from schemas.errors import NotFound, SohoaError
from storage.base import ObjectStore
from storage.local import write_once

C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ALGORITHMS = {
    "rsa-sha256": (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256),
    "rsa-sha1": (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1),
}
# What a receiver accepts: SHA-256 family, and SHA-1 from peers that still use it.
_ACCEPT = SignatureConfiguration(
    require_x509=True,
    signature_methods=frozenset(
        {SignatureMethod.RSA_SHA1, SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA512}
    ),
    digest_algorithms=frozenset({DigestAlgorithm.SHA1, DigestAlgorithm.SHA256}),
)


class _Signer(XMLSigner):
    """signxml refuses SHA-1 by default; QCVN 102 peers may need it, so it is a setting."""

    def check_deprecated_methods(self) -> None:
        return None

    @property
    def parser(self) -> etree.XMLParser:
        # signxml re-parses what it signs with its own parser, without huge_tree (its signer
        # takes no parser argument; its verifier does): ours, a new one per use (thread safety).
        return xml_parser()


@dataclass
class OrganKeys:
    organ_id: str
    key_pem: bytes
    cert_pem: bytes
    _key: rsa.RSAPrivateKey | None = None

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @property
    def serial(self) -> str:
        return format(self.certificate.serial_number, "x")

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        """Loaded once: loading checks the RSA key, which costs ~100 ms each time."""
        if self._key is None:
            self._key = serialization.load_pem_private_key(self.key_pem, password=None)
        return self._key


class KeyStore:
    """Private keys in a local folder, certificates in the shared object store."""

    def __init__(self, store: ObjectStore, keys_dir: Path) -> None:
        self.store = store
        self.keys_dir = Path(keys_dir)
        self._certs: dict[str, bytes] = {}
        self._keys: dict[str, bytes] = {}
        self._pairs: dict[str, OrganKeys] = {}

    def key_path(self, organ_id: str) -> Path:
        return self.keys_dir / f"{organ_id}.key.pem"

    def create(
        self,
        organ_id: str,
        organ_name: str,
        ca: Authority,
        *,
        reissue: bool = False,
        new_key: bool = False,
    ) -> OrganKeys:
        """A new RSA-2048 key and a certificate the installation CA issues for it; an existing
        pair is kept (never replaced). `reissue`: a new certificate from the CA for the key the
        organ already has (e.g. in place of a self-issued one, docs/exchange.md migration);
        `new_key`: a new key too (the old one kept aside as `.key.pem.old`)."""
        has_cert = self.store.exists(messages.cert(organ_id))
        if self.key_path(organ_id).exists() and has_cert and not (reissue or new_key):
            return self.keys(organ_id)
        if new_key and self.key_path(organ_id).exists():  # e.g. after a keyCompromise
            self.key_path(organ_id).replace(self.key_path(organ_id).with_suffix(".pem.old"))
            self._keys.pop(organ_id, None)
        key = self._key_or_new(organ_id)
        cert = ca.issue(organ_id, organ_name, key.public_key())
        bundle = cert.public_bytes(serialization.Encoding.PEM) + ca.chain()
        self.store.put_bytes(messages.cert(organ_id), bundle)
        self._certs[organ_id] = bundle
        self._pairs.pop(organ_id, None)
        return self.keys(organ_id)

    def _key_or_new(self, organ_id: str) -> rsa.RSAPrivateKey:
        """The organ's private key; a new RSA-2048 one (mode 0600) when it has none."""
        path = self.key_path(organ_id)
        if path.is_file():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise SignatureError(f"{path} is not an RSA key")
            return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        self._keys[organ_id] = key_pem
        return key

    def csr(self, organ_id: str, organ_name: str) -> bytes:
        """A certificate signing request for the organ's key (made if it has none), for a CA
        elsewhere (e.g. a national one) to issue its certificate: `keys install` takes it."""
        key = self._key_or_new(organ_id)
        request = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organ_name),
                        x509.NameAttribute(NameOID.COMMON_NAME, organ_id),
                    ]
                )
            )
            .sign(key, hashes.SHA256())
        )
        return request.public_bytes(serialization.Encoding.PEM)

    def install(self, organ_id: str, pem: bytes) -> x509.Certificate:
        """The organ's certificate issued elsewhere (its chain may follow it in the file): it
        must be for the organ's own key and name the organ. Replaces the one registered."""
        certs = load_pem_certs(pem)
        if not certs:
            raise SignatureError("no certificate in the file")
        leaf = certs[0]
        key = self._key_or_new(organ_id) if self.has_key(organ_id) else None
        if key is None:
            raise SignatureError(f"organ {organ_id} has no key here: run `keys csr` first")
        if leaf.public_key() != key.public_key():
            raise SignatureError(
                f"the certificate is not for {organ_id}'s key on this installation"
            )
        named = organ_named(leaf) or "no organ"
        if named != organ_id:
            raise SignatureError(f"the certificate is for {named}, not for organ {organ_id}")
        self.store.put_bytes(messages.cert(organ_id), pem)
        self._certs[organ_id] = pem
        self._pairs.pop(organ_id, None)
        return leaf

    def register_cert(self, organ_id: str, pem: bytes) -> str:
        """Trust a peer organ's certificate (received out of band); returns its SHA-256.

        The certificate must name the organ (CN = OrganId). A different certificate already
        registered for the organ is refused, so a swapped file cannot silently take over an organ.
        """
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError as e:
            raise SignatureError(f"not a PEM X.509 certificate: {e}") from e
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != organ_id:
            found = names[0].value if names else "no common name"
            raise SignatureError(f"the certificate is for {found}, not for organ {organ_id}")
        if self.store.exists(messages.cert(organ_id)):
            if self.store.get_bytes(messages.cert(organ_id)) != pem:
                raise SignatureError(
                    f"organ {organ_id} already has another registered certificate; "
                    "remove it first if the organ really changed its key"
                )
        else:
            self.store.put_bytes(messages.cert(organ_id), pem)
        self._certs[organ_id] = pem
        return cert.fingerprint(hashes.SHA256()).hex()

    def cert(self, organ_id: str) -> bytes:
        if organ_id not in self._certs:
            try:
                self._certs[organ_id] = self.store.get_bytes(messages.cert(organ_id))
            except NotFound as e:
                raise SignatureError(
                    f"no registered certificate for organ {organ_id}: "
                    f"run `sohoa exchange keys create {organ_id}`"
                ) from e
        return self._certs[organ_id]

    def keys(self, organ_id: str) -> OrganKeys:
        if organ_id not in self._pairs:
            if organ_id not in self._keys:
                path = self.key_path(organ_id)
                if not path.is_file():
                    raise SignatureError(
                        f"no private key for organ {organ_id} in {self.keys_dir}: "
                        f"run `sohoa exchange keys create {organ_id}`"
                    )
                self._keys[organ_id] = path.read_bytes()
            self._pairs[organ_id] = OrganKeys(organ_id, self._keys[organ_id], self.cert(organ_id))
        return self._pairs[organ_id]

    def has_key(self, organ_id: str) -> bool:
        return organ_id in self._keys or self.key_path(organ_id).is_file()


def installation_key(keys_dir: Path, *, create: bool) -> ed25519.Ed25519PrivateKey | None:
    """The installation's own audit key (`<keys_dir>/audit.key.pem`, mode 0600): it signs the
    audit checkpoints. Made on first use when `create`; the private part never leaves the folder.

    Written aside and hard-linked into place, so processes racing to make it end up with one key.
    """
    path = Path(keys_dir) / "audit.key.pem"
    if not path.is_file():
        if not create:
            return None
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_once(path, pem)  # a process racing to make it first: theirs is used
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as e:
        raise SohoaError(f"{path} is not a readable audit key: {e}") from e
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SohoaError(f"{path} is not an Ed25519 audit key")
    return key


def sign_tree(
    root: etree._Element, keys: OrganKeys, algorithm: str = "rsa-sha256"
) -> etree._Element:
    """Enveloped signature at the ds:Signature placeholder over the edXMLEnvelope element
    (Reference URI="#edXMLEnvelope"): the header and the Manifest, whose References carry each
    attachment's SHA-256. The base64 outside it is checked against those digests."""
    if algorithm not in ALGORITHMS:
        raise SohoaError(f"unknown signature algorithm {algorithm!r}: use {sorted(ALGORITHMS)}")
    method, digest = ALGORITHMS[algorithm]
    signer = _Signer(
        method=methods.enveloped,
        signature_algorithm=method,
        digest_algorithm=digest,
        c14n_algorithm=C14N,
    )
    try:
        return signer.sign(
            root,
            key=keys.private_key,
            cert=keys.cert_pem.decode(),
            reference_uri=f"#{ENVELOPE_ID}",
        )
    except (InvalidInput, SignXMLException) as e:
        raise SignatureError(f"cannot sign as {keys.organ_id}: {e}") from e


def sign(root: etree._Element, keys: OrganKeys, algorithm: str = "rsa-sha256") -> bytes:
    """A signed message without attachments (a Status), as bytes."""
    return etree.tostring(sign_tree(root, keys, algorithm), xml_declaration=True, encoding="UTF-8")


def reference_uri(root: etree._Element) -> str | None:
    """What the message's signature references: "#edXMLEnvelope" (sohoa), "" (the whole
    document, as other QCVN 102 software signs), None when there is no signature."""
    ref = root.find(f".//{{{DSIG}}}Signature/{{{DSIG}}}SignedInfo/{{{DSIG}}}Reference")
    return ref.get("URI") if ref is not None else None


def verify(
    data: bytes | etree._Element,
    cert_pem: bytes,
    organ_id: str,
    at: dt.datetime | None = None,
) -> tuple[etree._Element, str]:
    """Check the signature with `organ_id`'s certificate, as valid at `at` (default now; the
    receiver passes a time inside the certificate's validity, since whether it may be trusted
    at the signing time is pki_verify.Trust.check's question).

    Returns what the signature covers (parse that, never the raw input): the edXMLEnvelope
    element (a sohoa signature) or the whole document; and the algorithm.
    """
    config = _ACCEPT if at is None else dataclasses.replace(_ACCEPT, verification_time=at)
    try:
        result = XMLVerifier().verify(
            data, x509_cert=cert_pem.decode(), expect_config=config, parser=xml_parser()
        )
    except InvalidInput as e:
        raise SignatureError(f"the message is not signed as QCVN 102 requires: {e}") from e
    except InvalidDigest as e:
        raise SignatureError(
            f"signature check failed for {organ_id}: the header or an attachment changed "
            "after signing (digest mismatch)"
        ) from e
    except SignXMLException as e:
        raise SignatureError(
            f"signature check failed for {organ_id}: not made with its registered key "
            f"({e or type(e).__name__})"
        ) from e
    except etree.XMLSyntaxError as e:
        raise SignatureError(f"the signed content cannot be read: {e.msg}") from e
    except etree.LxmlError as e:  # e.g. an XPath over a hostile tree: a refusal, not a crash
        raise SignatureError(f"the signature cannot be checked: {e}") from e
    algorithm = result.signature_xml.find(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}SignatureMethod").get(
        "Algorithm", ""
    )
    name = "rsa-sha1" if algorithm.endswith("rsa-sha1") else "rsa-sha256"
    return result.signed_xml, name
