"""Exchange benchmark: edXML messages per second, end to end, signing on and off.

One run measures, on the same machine and the same attachment (a born-digital ND30 page,
already digitized at both ends, so every receipt is a reuse with zero OCR):

- **build + sign + verify + parse**: the envelope work alone, in memory (the peer's share);
- **shared store**: `Exchange.send` → outbox → Dramatiq delivery actor (in-process broker,
  worker threads) → receive (verify, dedupe, reuse, statuses signed back, audit) on one
  installation, signing on, then off;
- **HTTP loopback peer**: the same, but the recipient lives on a second installation whose
  sohoa API (uvicorn) listens on 127.0.0.1; the delivery actor posts each envelope to it.

Writes `bench/out/exchange/results.json` and the "## Exchange (bench/exchange_bench.py)" section of
docs/benchmarks.md (that section only).

    .venv/bin/python bench/exchange_bench.py [--messages 100] [--no-docs]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from importlib import metadata as pkg_metadata
from pathlib import Path

from cryptography.hazmat.primitives import serialization

REPO = Path(__file__).resolve().parent.parent
for _p in (str(REPO), str(REPO / "bench")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from ocr import machine_info  # noqa: E402  (bench/ocr.py helpers)
from report import write_section  # noqa: E402

SECTION_TITLE = "## Exchange (bench/exchange_bench.py)"
SENDER, RECIPIENT = "001.00.52.H34", "000.00.00.H34"  # commune → province
OUT = REPO / "bench" / "out" / "exchange"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def installation(root: Path, pdf: Path, *, sign: bool, peers: str = ""):  # noqa: ANN202
    """Services + worker pool + Exchange on a fresh data dir, with `pdf` already ingested."""
    from app.compose import build_services
    from app.config import Settings, one_thread_per_tesseract
    from workers.batch import submit_all, wait_for
    from workers.exchange_setup import build_exchange
    from workers.runtime import WorkerPool

    settings = Settings(
        data_dir=root, workers=2, exchange_sign=sign, exchange_peers=peers, organ=SENDER
    )  # the records are SENDER's: it may send them
    services = build_services(settings)
    one_thread_per_tesseract()  # as the `sohoa` entry point does
    pool = WorkerPool(services, "", 2).start()
    subs = submit_all(services, pool, [pdf])
    wait_for(services, pool, subs, None)
    ex = build_exchange(services, enqueue=pool.actors.ingest.send)
    ex.ctx.pki.init(f"bench {root.name}", b"bench passphrase")  # `sohoa pki init`
    for organ in (SENDER, RECIPIENT):
        ex.create_keys(organ)
    return settings, services, pool, ex, subs[0].doc_id


def cross_trust(a_ex, b_ex) -> None:  # noqa: ANN001
    """Each installation trusts the other's root and keeps its CRL (`pki export`, `pki
    trust`, `pki crl --import`), as two operators would."""
    for here, there in ((a_ex, b_ex), (b_ex, a_ex)):
        pki = there.ctx.pki
        here.ctx.pki.trust(pki.root().public_bytes(serialization.Encoding.PEM) + pki.chain())
        here.ctx.pki.import_crl(pki.publish_crl().public_bytes(serialization.Encoding.DER))


def run_messages(ex, pool, doc_id: str, n: int) -> dict:  # noqa: ANN001
    """Send n messages, deliver them through the actor, wait for every receipt."""
    started, cpu_started = time.perf_counter(), time.process_time()
    ids = []
    for _ in range(n):
        message_id = ex.send([doc_id], SENDER, [RECIPIENT])
        pool.actors.exchange_deliver.send(message_id, RECIPIENT)
        ids.append(message_id)
    sent_s = time.perf_counter() - started
    for message_id in ids:  # in sending order: one object read per poll, not one per message
        while (entry := ex.outbox(message_id)[0]).state == "pending":
            time.sleep(0.005)
        if entry.state != "delivered" or entry.receipt.reuse_counts != {"reused": 1}:
            raise RuntimeError(f"{message_id}: {entry}")
    total_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started  # every thread of this process: both ends
    size = ex.state(ids[0]).size_bytes
    return {
        "messages": n,
        "seconds": round(total_s, 3),
        "messages_per_s": round(n / total_s, 2),
        "send_phase_s": round(sent_s, 3),
        "cpu_ms_per_message": round(cpu_s / n * 1000, 1),
        "envelope_bytes": size,
    }


def bench_envelope_only(ex, doc_id: str, n: int) -> dict:  # noqa: ANN001
    from exchange import envelope_read as reader
    from exchange import envelope_write as writer
    from exchange.signing import sign_tree, verify

    keys, cert = ex.keys.keys(SENDER), ex.keys.cert(SENDER)
    env = ex.envelope_for_records([doc_id], SENDER, [RECIPIENT])
    env.message_id = "0" * 32
    timings: dict[str, list[float]] = {
        "build": [],
        "sign": [],
        "verify": [],
        "read": [],
        "unsigned_build": [],
        "unsigned_parse": [],
    }
    for _ in range(n):
        t0 = time.perf_counter()
        writer.envelope_tree(env)
        t1 = time.perf_counter()
        data = writer.envelope_bytes(env, lambda root: sign_tree(root, keys))  # build + sign
        t2 = time.perf_counter()
        parsed = reader.read_xml(data)
        covered, _ = verify(parsed.root, cert, SENDER)  # parse, digest, RSA
        t3 = time.perf_counter()
        reader.envelope_from_tree(covered, parsed, signed_manifest=True)  # + attachment digests
        t4 = time.perf_counter()
        plain = writer.envelope_bytes(env)
        t5 = time.perf_counter()
        reader.parse_envelope(plain)
        t6 = time.perf_counter()
        for name, seconds in (
            ("build", t1 - t0),
            ("sign", (t2 - t1) - (t1 - t0)),  # build + sign + write, less the build
            ("verify", t3 - t2),
            ("read", t4 - t3),
            ("unsigned_build", t5 - t4),
            ("unsigned_parse", t6 - t5),
        ):
            timings[name].append(seconds)
    per = {k: round(statistics.median(v) * 1000, 2) for k, v in timings.items()}
    signed_ms = per["build"] + per["sign"] + per["verify"] + per["read"]
    plain_ms = per["unsigned_build"] + per["unsigned_parse"]
    unsigned = plain
    return {
        "median_ms": per,
        "signed_round_trip_per_s": round(1000 / signed_ms, 1),
        "unsigned_build_parse_per_s": round(1000 / plain_ms, 1),
        "envelope_bytes": len(unsigned),
    }


def _write_random(path: Path, size_mb: int) -> Path:
    import os

    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        for _ in range(size_mb):
            f.write(os.urandom(1 << 20))
    return path


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def large_child(size_mb: int, over_http: bool, out: Path) -> None:
    """One large round trip in a fresh process (its peak RSS is its own): build -> send ->
    receive (parse, verify, decode to a file, SHA-256) -> reuse, both ends in this process."""
    import logging

    logging.getLogger("dramatiq").setLevel(logging.CRITICAL)
    from corpus import make_documents, write_pdf_digital
    from exchange.messages import cert as cert_key
    from workers.submit import accept

    with tempfile.TemporaryDirectory(prefix="sohoa-bench-large-") as tmp:
        work = Path(tmp)
        pdf = write_pdf_digital(work / "bao-cao.pdf", make_documents(1, seed=3, pages=1)[0].pages)
        big = _write_random(work / "ho-so.pdf", size_mb)
        server = thread = None
        if over_http:
            b_settings, b_services, b_pool, b_ex, _ = installation(work / "peer", pdf, sign=True)
            b_pool.stop()
            accept(b_services, big)  # the peer already holds the file: a reuse
            port = _free_port()
            peers = f"{RECIPIENT}=http://127.0.0.1:{port}|{b_ex.issue_token(RECIPIENT)}"
            _, a_services, a_pool, ex, _ = installation(work / "a", pdf, sign=True, peers=peers)
            b_services.store.put_bytes(cert_key(SENDER), ex.keys.cert(SENDER))
            a_services.store.put_bytes(cert_key(RECIPIENT), b_ex.keys.cert(RECIPIENT))
            cross_trust(ex, b_ex)
            server, thread = serve(b_settings, port)
        else:
            _, a_services, a_pool, ex, _ = installation(work / "a", pdf, sign=True)
        doc_id = accept(a_services, big).doc_id
        baseline = _peak_rss_mb()
        started = time.perf_counter()
        message_id = ex.send([doc_id], SENDER, [RECIPIENT])
        sent = time.perf_counter()
        entry = ex.deliver(message_id, RECIPIENT)
        done = time.perf_counter()
        peak = _peak_rss_mb()
        if entry.state != "delivered" or entry.receipt.reuse_counts != {"reused": 1}:
            raise RuntimeError(f"large round trip: {entry}")
        result = {
            "attachment_bytes": big.stat().st_size,
            "envelope_bytes": ex.state(message_id).size_bytes,
            "build_s": round(sent - started, 2),
            "deliver_s": round(done - sent, 2),
            "rss_before_mb": round(baseline, 1),
            "peak_rss_mb": round(peak, 1),
        }
        a_pool.stop()
        if server is not None:
            server.should_exit = True
            thread.join(timeout=10)
    out.write_text(json.dumps(result))


def bench_large(size_mb: int) -> list[dict]:
    import subprocess

    rows = []
    for over_http in (False, True):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            cmd = [sys.executable, __file__, "--large-child", str(size_mb), "--out", out.name]
            subprocess.run([*cmd, *(["--http"] if over_http else [])], check=True)
            result = json.loads(Path(out.name).read_text())
        result["path"] = "HTTP to a peer API on loopback" if over_http else "shared store"
        rows.append(result)
        print(f"  large, {result['path']}: peak RSS {result['peak_rss_mb']} MB", file=sys.stderr)
    return rows


def serve(settings, port: int):  # noqa: ANN001, ANN202
    import uvicorn

    from app.api import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("peer API did not start")
        time.sleep(0.05)
    return server, thread


def bench_http(work: Path, pdf: Path, n: int, sign: bool) -> dict:
    """Sender on installation A, recipient on installation B behind its API on loopback."""
    from exchange.messages import cert as cert_key

    b_settings, b_services, b_pool, b_ex, _ = installation(work / "peer", pdf, sign=sign)
    b_pool.stop()  # the peer's API runs its own pool
    token = b_ex.issue_token(RECIPIENT)
    port = _free_port()
    peers = f"{RECIPIENT}=http://127.0.0.1:{port}|{token}"
    _, a_services, a_pool, a_ex, doc_id = installation(work / "sender", pdf, sign=sign, peers=peers)
    # Each side registers the other's certificate, as an operator would.
    b_services.store.put_bytes(cert_key(SENDER), a_ex.keys.cert(SENDER))
    a_services.store.put_bytes(cert_key(RECIPIENT), b_ex.keys.cert(RECIPIENT))
    cross_trust(a_ex, b_ex)
    server, thread = serve(b_settings, port)
    try:
        run_messages(a_ex, a_pool, doc_id, min(5, n))  # warm-up: connections, caches
        return run_messages(a_ex, a_pool, doc_id, n)
    finally:
        a_pool.stop()
        server.should_exit = True
        thread.join(timeout=10)


def bench_shared(work: Path, pdf: Path, n: int, sign: bool) -> dict:
    _, _, pool, ex, doc_id = installation(work, pdf, sign=sign)
    try:
        run_messages(ex, pool, doc_id, min(5, n))
        result = run_messages(ex, pool, doc_id, n)
        result["audit_entries"] = len(ex.audit.entries())
        count, problem = ex.audit.verify()
        result["audit_verified"] = problem is None
        return result
    finally:
        pool.stop()


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def versions() -> dict:
    out = {}
    for name in ("lxml", "signxml", "cryptography", "dramatiq", "fastapi", "uvicorn", "httpx"):
        with contextlib.suppress(pkg_metadata.PackageNotFoundError):
            out[name] = pkg_metadata.version(name)
    return out


def render(r: dict) -> str:
    m, v, e = r["machine"], r["versions"], r["envelope"]
    lines = [
        SECTION_TITLE,
        "",
        f"_Written by `bench/exchange_bench.py` on {r['date']}. Do not edit these numbers by hand: "
        "rerun the command._",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores; RAM {m['ram']}; {m['os']}",
        f"- Versions: Python {m['python']}, sohoa git {m['git']}; "
        + ", ".join(f"{k} {x}" for k, x in v.items()),
        f"- Command: `{r['command']}` ({r['messages']} messages per row after 5 warm-up "
        f"messages; whole run {r['run_s']:.0f} s)",
        f"- Attachment: one born-digital ND30 page, {r['pdf_bytes']:,} bytes as PDF, "
        f"{e['envelope_bytes']:,} bytes as an edXML envelope; already digitized at the "
        "receiver, so every receipt is a reuse (zero OCR, zero new record)",
        "- Each message: build from the stored record, sign (RSA-2048, SHA-256), store, "
        "outbox entry, Dramatiq delivery actor (in-process broker, 2 worker threads), receive "
        "(hardened parse, signature check against the registered certificate, dedupe, reuse "
        "by SHA-256), statuses 01 and 03 signed and handed back, 5 audit entries.",
        f"- Load: 1-minute load average {r['load_before']} before, {r['load_after']} after "
        "(the 2 cores are shared with other work: wall-clock rates move with it; CPU ms per "
        "message, both ends counted, moves much less).",
        "- HTTP rows: the peer is a second installation (own data folder, store, keys) whose "
        "API runs under uvicorn in the same process, on 127.0.0.1; the sender's delivery "
        "actor posts each envelope with a pooled httpx client; statuses stay at the peer.",
        "",
        "| path | signing | messages/s | CPU ms/message | seconds | envelope bytes |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in r["rows"]:
        lines.append(
            f"| {row['path']} | {row['signing']} | {row['messages_per_s']:.1f} | "
            f"{row['cpu_ms_per_message']:.1f} | {row['seconds']:.2f} | "
            f"{row['envelope_bytes']:,} |"
        )
    per = e["median_ms"]
    lines += [
        "",
        "Envelope work alone, in memory (median per message, same envelope): build "
        f"{per['build']} ms, sign and write {per['sign']} ms, verify (parse + digest + RSA) "
        f"{per['verify']} ms, read the header from the signed tree and check the "
        f"attachment digests {per['read']} ms → "
        f"{e['signed_round_trip_per_s']} signed round trips/s; unsigned: build + serialise "
        f"{per['unsigned_build']} ms, hardened parse {per['unsigned_parse']} ms → "
        f"{e['unsigned_build_parse_per_s']} round trips/s.",
        "",
        reading(r),
        "",
        "Large attachment, one message, signed (a separate process per row, so its peak RSS is "
        "its own; both ends and, over HTTP, the peer's API run in it): the attachment's base64 "
        "is encoded from the stored file straight into the envelope file and decoded from the "
        "arriving stream into a temporary file, while the signature covers the header and the "
        "Manifest, which lists each attachment's SHA-256.",
        "",
        "| path | attachment bytes | envelope bytes | build + sign s | deliver + receive s "
        "| peak RSS before it, MB | peak RSS, MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in r["large"]:
        lines.append(
            f"| {row['path']} | {row['attachment_bytes']:,} | {row['envelope_bytes']:,} | "
            f"{row['build_s']} | {row['deliver_s']} | {row['rss_before_mb']} | "
            f"{row['peak_rss_mb']} |"
        )
    return "\n".join(lines) + "\n"


def reading(r: dict) -> str:
    rows = {(row["path"].split()[0], row["signing"]): row for row in r["rows"]}
    shared_on, shared_off = rows[("shared", "RSA-SHA256")], rows[("shared", "off")]
    sig_ms = shared_on["cpu_ms_per_message"] - shared_off["cpu_ms_per_message"]
    http_on = rows[("HTTP", "RSA-SHA256")]
    http_cpu = http_on["cpu_ms_per_message"] - shared_on["cpu_ms_per_message"]
    return (
        "Reading: signing costs about "
        f"{sig_ms:.0f} ms of CPU per message end to end (the envelope plus the two signed "
        "statuses: three RSA signatures and three verifications); the rest is the "
        "bookkeeping around the XML — state, outbox, inbox, statuses and audit entries, each "
        "an object written with fsync on the local store — and, over HTTP, the request and "
        f"the peer's API ({http_cpu:+.0f} ms CPU per signed message against one "
        "installation). "
        + (
            "On one installation the two delivery threads do both ends; over HTTP the peer's "
            "server threads take the receiving half, so more of the waiting overlaps and the "
            "rate is higher despite the extra CPU."
            if http_on["messages_per_s"] > shared_on["messages_per_s"]
            else "Over HTTP that extra work (request, response, the peer's own API stack in "
            "the same process) outweighs the overlap the peer's server threads give."
        )
    )


def write_docs(path: Path, section: str) -> None:
    write_section(path, SECTION_TITLE, section)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=100)
    p.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    p.add_argument("--large-mb", type=int, default=50, help="size of the large round trip")
    p.add_argument("--large-child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--http", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.large_child:
        large_child(args.large_child, args.http, args.out)
        return 0
    import logging

    logging.getLogger("dramatiq").setLevel(logging.CRITICAL)
    from corpus import make_documents, write_pdf_digital

    started = time.perf_counter()
    load_before = loadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-exchange-") as tmp:
        work = Path(tmp)
        pdf = write_pdf_digital(work / "bao-cao.pdf", make_documents(1, seed=3, pages=1)[0].pages)
        _, _, pool, ex, doc_id = installation(work / "envelope", pdf, sign=True)
        envelope = bench_envelope_only(ex, doc_id, max(20, args.messages // 2))
        pool.stop()
        for path, fn in (
            ("shared store (one installation)", bench_shared),
            ("HTTP to a peer API on loopback", bench_http),
        ):
            for sign in (True, False):
                print(f"{path}, signing {'on' if sign else 'off'} …", file=sys.stderr)
                folder = work / f"{fn.__name__}-{sign}"
                result = fn(folder, pdf, args.messages, sign)
                rows.append({"path": path, "signing": "RSA-SHA256" if sign else "off", **result})
                print(f"  {result['messages_per_s']} messages/s", file=sys.stderr)
        pdf_bytes = pdf.stat().st_size
    print(f"large attachment, {args.large_mb} MB …", file=sys.stderr)
    large = bench_large(args.large_mb)
    machine = machine_info()
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": ".venv/bin/python bench/exchange_bench.py"
        + (f" --messages {args.messages}" if args.messages != 100 else ""),
        "messages": args.messages,
        "machine": machine,
        "versions": versions(),
        "envelope": envelope,
        "rows": rows,
        "large": large,
        "pdf_bytes": pdf_bytes,
        "run_s": time.perf_counter() - started,
        "load_before": load_before,
        "load_after": loadavg(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(report, indent=2, default=str))
    section = render(report)
    print(section)
    if not args.no_docs:
        write_docs(REPO / "docs" / "benchmarks.md", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
