"""What every part of the exchange shares: the store, its options, organs, keys and audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from exchange.audit import AuditLog
from exchange.messages import Book
from exchange.models import OrganInfo
from exchange.options import ExchangeOptions
from exchange.pki import Authority
from exchange.pki_verify import Trust, TrustPolicy
from exchange.signing import KeyStore
from organs.registry import OrganRegistry
from schemas.models import Organ
from storage.base import ObjectStore


def now() -> datetime:
    return datetime.now(UTC)


def timestamp(at: datetime | None = None) -> str:
    """A TraceHeader or Status timestamp as QCVN 102 writes it (UTC)."""
    return (at or now()).strftime("%Y/%m/%d %H:%M:%S")


@dataclass(frozen=True)
class ExchangeContext:
    store: ObjectStore
    book: Book
    options: ExchangeOptions
    registry_of: Callable[[], OrganRegistry]
    keys: KeyStore
    audit: AuditLog
    pki: Authority
    trust: Trust

    @classmethod
    def build(
        cls,
        store: ObjectStore,
        options: ExchangeOptions,
        registry: OrganRegistry | Callable[[], OrganRegistry] | None,
    ) -> ExchangeContext:
        """`registry` None: the shipped sample (app.compose.build_registry passes the one the
        settings name); a function: called when an organ is first looked up (the national
        registry, 61k organs, is not loaded by a server that starts or a page that needs none)."""
        if isinstance(registry, OrganRegistry):
            registry_of: Callable[[], OrganRegistry] = _given(registry)
        else:
            registry_of = cache(registry or OrganRegistry.default)  # loaded once, when asked
        keys = KeyStore(store, options.keys_dir)
        audit = AuditLog.for_options(store, options)
        pki = Authority(store, options.keys_dir / "ca", options.crl_url, options.public_url)
        policy = TrustPolicy(options.revocation_hard_fail, options.trust_registered, options.ocsp)
        return cls(
            store=store,
            book=Book(store),
            options=options,
            registry_of=registry_of,
            keys=keys,
            audit=audit,
            pki=pki,
            trust=Trust(pki, keys.cert, policy, audit.append),
        )

    @property
    def registry(self) -> OrganRegistry:
        return self.registry_of()

    def organ(self, organ_id: str) -> Organ:
        """The organ, or NotFound when the registry does not know it."""
        return self.registry.require(organ_id)

    def recipient(self, organ_id: str) -> Organ:
        """The organ to send to: NotFound when unknown, OrganAbolished (naming its successor)
        when it no longer exists."""
        return self.registry.require_current(organ_id, now().date())

    def organ_info(self, organ_id: str) -> OrganInfo:
        organ = self.registry.get(organ_id)
        return OrganInfo(organ_id=organ_id, organ_name=organ.name if organ else "")


def _given(registry: OrganRegistry) -> Callable[[], OrganRegistry]:
    return lambda: registry
