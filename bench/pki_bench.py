"""What checking a signer's certificate costs (issue 19): exchange.pki_verify.Trust.check on a
root → issuing CA → organ chain with its CRL, against the signature check it follows
(exchange.signing.verify of a small signed status). CPU time, so a loaded machine still
compares; hand-run, prints one Markdown table.

    .venv/bin/python bench/pki_bench.py [--n 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ORGAN = "001.00.52.H34"


def cpu_ms(fn, n: int) -> tuple[float, float]:  # noqa: ANN001
    """The mean (wall ms, CPU ms) per call over n calls, after one warm-up call."""
    fn()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - wall) / n * 1000, (time.process_time() - cpu) / n * 1000


def main(argv: list[str] | None = None) -> int:
    from exchange import envelope_write
    from exchange.models import OrganInfo, ResponseFor, StatusMessage
    from exchange.pki import Authority
    from exchange.pki_verify import Trust, TrustPolicy
    from exchange.signing import KeyStore, sign, verify
    from exchange.statuses import Status
    from storage.local import LocalStore

    parser = argparse.ArgumentParser(description="Cost of the certificate check.")
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="sohoa-pki-bench-"))
    store = LocalStore(tmp / "store")
    ca = Authority(store, tmp / "ca")
    ca.init("bench", b"bench passphrase")
    keys = KeyStore(store, tmp / "keys")
    pair = keys.create(ORGAN, "bench organ", ca)
    other = ca.issue("000.00.00.H34", "", pair.private_key.public_key())
    ca.revoke(format(other.serial_number, "x"))  # a CRL with one entry, as after a revocation
    status = StatusMessage(
        response_for=ResponseFor(message_id="ab" * 16),
        sender=OrganInfo(organ_id=ORGAN),
        code=Status.done,
        timestamp=f"{dt.datetime.now(dt.UTC):%Y/%m/%d %H:%M:%S}",
    )
    signed = sign(envelope_write.status_tree(status), pair)
    trust = Trust(ca, keys.cert, TrustPolicy(), lambda *a, **k: None)
    at = dt.datetime.now(dt.UTC)

    def check() -> None:
        trust.check(pair.certificate, [], sender=ORGAN, signed_at=at, acting="", target="")

    rows = [
        (
            "signature (signxml verify of a signed status)",
            cpu_ms(lambda: verify(signed, pair.cert_pem, ORGAN), args.n),
        ),
        ("certificate (path + CRL at the signing time)", cpu_ms(check, args.n)),
    ]
    load = os.getloadavg()[0]
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load {load:.1f}, {os.cpu_count()} cores")
    print("| check | wall ms | CPU ms |\n| --- | ---: | ---: |")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
