"""What checking a signer's certificate costs (issue 19): exchange.pki_verify.Trust.check on a
root → issuing CA → organ chain with its CRL, against the signature check it follows
(exchange.signing.verify of a small signed status). With OCSP required, the same check asking
the issuer's responder (exchange.pki_ocsp.respond behind a plain HTTP server in a child
process, so its signing CPU is not counted as the receiver's) every time — an empty answer
cache before each check, as before the cache — and with the answer cache kept (one request,
then answers until their nextUpdate). CPU time of this process, so a loaded machine still
compares; hand-run, prints one Markdown table.

    .venv/bin/python bench/pki_bench.py [--n 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ORGAN = "001.00.52.H34"
RESPONDER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from exchange.pki import Authority
from exchange.pki_ocsp import respond
from storage.local import LocalStore
ca = Authority(LocalStore(Path(sys.argv[1])), Path(sys.argv[2]))
class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = respond(ca, self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), Handler)
print("ready", flush=True)
server.serve_forever()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    from exchange.pki_ocsp import OcspCache
    from exchange.pki_verify import Trust, TrustPolicy
    from exchange.signing import KeyStore, sign, verify
    from exchange.statuses import Status
    from storage.local import LocalStore

    parser = argparse.ArgumentParser(description="Cost of the certificate check.")
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="sohoa-pki-bench-"))
    store = LocalStore(tmp / "store")
    port = _free_port()
    ca = Authority(store, tmp / "ca", public_url=f"http://127.0.0.1:{port}")
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

    responder = subprocess.Popen(
        [sys.executable, "-c", RESPONDER, str(tmp / "store"), str(tmp / "ca"), str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert responder.stdout is not None and responder.stdout.readline().strip() == "ready"
    asking = Trust(ca, keys.cert, TrustPolicy(ocsp="require"), lambda *a, **k: None)

    def check_asking_each_time() -> None:
        asking.ocsp_answers = OcspCache()  # as before the cache: every check asks
        asking.check(pair.certificate, [], sender=ORGAN, signed_at=at, acting="", target="")

    cached = Trust(ca, keys.cert, TrustPolicy(ocsp="require"), lambda *a, **k: None)

    def check_cached() -> None:
        cached.check(pair.certificate, [], sender=ORGAN, signed_at=at, acting="", target="")

    try:
        ocsp_rows = [
            (
                "certificate, OCSP asked every message (no cache)",
                cpu_ms(check_asking_each_time, args.n),
            ),
            ("certificate, OCSP answer cached until nextUpdate", cpu_ms(check_cached, args.n)),
        ]
    finally:
        responder.terminate()
        responder.wait(10)
    rows = [
        (
            "signature (signxml verify of a signed status)",
            cpu_ms(lambda: verify(signed, pair.cert_pem, ORGAN), args.n),
        ),
        ("certificate (path + CRL at the signing time)", cpu_ms(check, args.n)),
        *ocsp_rows,
    ]
    load = os.getloadavg()[0]
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load {load:.1f}, {os.cpu_count()} cores")
    print("| check | wall ms | CPU ms |\n| --- | ---: | ---: |")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
