"""How a message reaches its recipient: one small interface, two implementations.

`SharedStoreTransport` hands the envelope to the receiving organ on this installation (same
object store); `HttpTransport` posts it to a peer installation's API (`POST /exchange/receive`
with a token the peer issued). Either way the receiver verifies, deduplicates and answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol

from exchange.models import Receipt, StatusEntry, TransportError


class Receiver(Protocol):
    """What takes in envelopes and statuses on this installation (exchange.service.Exchange)."""

    def receive(self, data: bytes | Path, as_organ: str) -> Receipt: ...

    def receive_status(self, data: bytes, to_organ: str | None = None) -> StatusEntry: ...


class Transport(Protocol):
    def deliver(self, recipient: str, envelope: Path) -> Receipt:
        """Hand over a signed envelope (a file: it can be as large as the exchange limit);
        raise TransportError when the peer cannot be reached."""
        ...

    def send_status(self, recipient: str, status: bytes) -> None:
        """Hand a signed Status message back to the organ that sent the message."""
        ...


class SharedStoreTransport:
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def deliver(self, recipient: str, envelope: Path) -> Receipt:
        return self.receiver.receive(envelope, as_organ=recipient)

    def send_status(self, recipient: str, status: bytes) -> None:
        self.receiver.receive_status(status)


class HttpTransport:
    """Peers by OrganId: base URL of their sohoa API and the token they issued to us."""

    def __init__(self, peers: dict[str, tuple[str, str]], timeout_s: float = 60.0) -> None:
        self.peers = peers
        self.timeout_s = timeout_s
        self._client = None  # one pooled client (keep-alive, one TLS context), made on first use

    def _post(self, recipient: str, path: str, body: bytes | BinaryIO):  # noqa: ANN202
        import httpx

        if recipient not in self.peers:
            raise TransportError(f"no peer address for organ {recipient}")
        url, token = self.peers[recipient]
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout_s)
        try:
            response = self._client.post(
                url.rstrip("/") + path,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
            )
        except httpx.HTTPError as e:
            raise TransportError(f"peer {recipient} at {url} unreachable: {e}") from e
        if response.status_code >= 500:
            raise TransportError(f"peer {recipient} answered HTTP {response.status_code}")
        return response

    def deliver(self, recipient: str, envelope: Path) -> Receipt:
        with envelope.open("rb") as body:  # streamed, with its Content-Length
            response = self._post(recipient, f"/exchange/receive?organ={recipient}", body)
        if response.status_code not in (200, 422):
            raise TransportError(f"peer {recipient} refused: HTTP {response.status_code}")
        return Receipt.model_validate(response.json())

    def send_status(self, recipient: str, status: bytes) -> None:
        self._post(recipient, "/exchange/status-in", status)


class RoutedTransport:
    """Organs hosted on a peer installation go over HTTP; every other organ is local."""

    def __init__(self, local: Transport, remote: HttpTransport) -> None:
        self.local, self.remote = local, remote

    def _pick(self, organ_id: str) -> Transport:
        return self.remote if organ_id in self.remote.peers else self.local

    def deliver(self, recipient: str, envelope: Path) -> Receipt:
        return self._pick(recipient).deliver(recipient, envelope)

    def send_status(self, recipient: str, status: bytes) -> None:
        self._pick(recipient).send_status(recipient, status)


def parse_peers(text: str) -> dict[str, tuple[str, str]]:
    """`ORGAN=URL|TOKEN;ORGAN=URL|TOKEN` (SOHOA_EXCHANGE_PEERS) -> {organ: (url, token)}."""
    peers = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        organ, _, rest = item.partition("=")
        url, _, token = rest.partition("|")
        if not organ.strip() or not url.strip():
            raise ValueError(f"SOHOA_EXCHANGE_PEERS item {item!r}: use ORGAN=URL|TOKEN")
        peers[organ.strip()] = (url.strip(), token.strip())
    return peers
