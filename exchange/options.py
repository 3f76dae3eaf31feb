"""Exchange settings as every process sees them (filled from SOHOA_* by app/config.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# The largest edXML message accepted or sent (attachments are base64 inside it): the one place
# the default is written; SOHOA_EXCHANGE_MAX_BYTES changes it per installation.
MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class ExchangeOptions:
    keys_dir: Path = Path("exchange-keys")  # private keys (certificates are in the store)
    algorithm: str = "rsa-sha256"  # signature for every peer …
    sha1_peers: frozenset[str] = field(default_factory=frozenset)  # … except these: rsa-sha1
    sign: bool = True  # False only for benchmarks and tests of the unsigned path
    max_bytes: int = MAX_BYTES
    retry_min_backoff_ms: int = 1000
    retry_max_backoff_ms: int = 60000
    max_retries: int = 6
    peers: str = ""  # organs on other installations: ORGAN=URL|TOKEN;… (transport.parse_peers)
    audit_checkpoint_every: int = 20  # a signed audit checkpoint every this many entries …
    audit_checkpoint_minutes: float = 5.0  # … or this long after the last one (audit.py)
    # Trust (pki.py, pki_verify.py): revocation data missing or forged refuses the message
    # (hard) or is only audited (soft); the legacy trust of registered self-issued certificates;
    # the URL base written as CRL distribution point (empty: the store key, or public_url's)
    revocation_hard_fail: bool = True
    trust_registered: bool = False
    crl_url: str = ""
    public_url: str = ""  # the API's URL for peers: its CRL and OCSP routes in certificates
    ocsp: str = "off"  # off | prefer | require (pki_verify.TrustPolicy)

    def algorithm_for(self, recipient: str) -> str:
        return "rsa-sha1" if recipient in self.sha1_peers else self.algorithm
