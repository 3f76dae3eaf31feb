"""Failed logins per client address (POST /login): which client a request comes from, and the
bounded table that counts its failures (accounts/throttle.py).

The client is the connection's peer, unless the peer is one of the proxies the operator trusts
(`SOHOA_TRUSTED_PROXIES`): then it is the nearest address in `X-Forwarded-For` that is not a
trusted proxy, read from the right (the proxy appends what it saw; anything to the left of it
was written by the client and may be forged). Without trusted proxies the header is ignored:
anyone could send it and get a fresh count with every request.

IPv6 clients are counted per /64 network: one host is routinely given a whole /64, and counting
each of its 2^64 addresses apart would be no limit at all.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from accounts.throttle import Window
from schemas.errors import LoginLocked

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Client addresses whose failures are remembered (per API process): ~200 bytes each
CLIENTS = 10_000
IPV6_CLIENT_PREFIX = 64
_WITH_PORT = re.compile(r"\[([0-9A-Fa-f:.%\w]+)\]:\d{1,5}|([0-9.]+):\d{1,5}")


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.1, 172.16.0.0/12, ::1` -> networks; ValueError names a wrong entry."""
    found = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            try:
                found.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is no IP address or network") from None
    return tuple(found)


def _address(text: str) -> Address | None:
    """An address as a peer or a proxy writes it: `1.2.3.4`, `::1`, `[::1]`, or with the
    client's port (`1.2.3.4:5678`, `[2001:db8::7]:443`, as some proxies append it); else None."""
    text = text.strip()
    with_port = _WITH_PORT.fullmatch(text)
    if with_port:
        text = with_port[1] or with_port[2]
    try:
        found = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


class ClientAddress:
    """A request's scope -> the key its failed logins are counted under."""

    def __init__(self, trusted: Iterable[Network]) -> None:
        self.trusted = tuple(trusted)

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    def __call__(self, scope: dict) -> str:
        peer = _address((scope.get("client") or ("",))[0] or "")
        if peer is None:  # no peer (a test client, a Unix socket): one shared count
            return "unknown"
        client = peer
        if self._is_trusted(peer):
            for hop in reversed(_forwarded_for(scope)):
                hop_address = _address(hop)
                if hop_address is None:  # garbage from the client side: stop at the last proxy
                    break
                client = hop_address
                if not self._is_trusted(hop_address):
                    break
        return _key(client)


def _forwarded_for(scope: dict) -> list[str]:
    """Every X-Forwarded-For header's entries, in order (several headers are one list)."""
    entries: list[str] = []
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-forwarded-for":
            entries.extend(value.decode("latin-1").split(","))
    return entries


def _key(address: Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


class ClientLimit:
    """At most `failures` failed logins per client address in `window_s`; what a success
    counted is given back, so only failures add up. A success does not clear the address's
    earlier failures: one's own account would then wipe the count of guesses at others'."""

    def __init__(self, failures: int, window_s: float, trusted: Iterable[Network]) -> None:
        self.window = Window(failures, window_s, CLIENTS)
        self.client_of = ClientAddress(trusted)

    def take(self, scope: dict) -> str:
        """Count this attempt for its client (the key, for `give_back`); LoginLocked when the
        client's failures are used up."""
        client = self.client_of(scope)
        wait_s = self.window.take(client)
        if wait_s is not None:
            message = f"too many failed logins from this address: try again in {wait_s} s"
            raise LoginLocked(message, wait_s)
        return client

    def give_back(self, client: str) -> None:
        self.window.give_back(client)
