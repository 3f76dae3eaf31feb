"""Four levels of government exchanging one digitized report on the production backends:
S3 server, search server, Redis broker and `sohoa worker` processes doing the deliveries.

A commune scans a report (the one OCR of this test) and sends it up to its district and its
province; the province forwards it to a ministry; the ministry answers down with a decision
that the province passes on to the district and the commune. Every hop is signed and verified,
statuses flow back, every attachment is reused with zero OCR, a tampered message is rejected,
a duplicate is accepted once, an outsider gets 404 and the audit chain verifies — and fails
after a forged edit.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from corpus import generate_batch, make_documents, write_pdf_digital
from tests.conftest import api_headers, cli_with_env, worker_process
from tests.pki_support import PASSPHRASE

cli = functools.partial(cli_with_env, timeout_s=300)

COMMUNE, DEPARTMENT, PROVINCE, MINISTRY = (
    "003.00.00.H55",
    "000.00.02.H55",
    "000.00.00.H55",
    "000.00.00.G09",
)
OUTSIDER = "000.00.00.H17"


def ok_json(env: dict[str, str], *args: str) -> dict:
    result = cli(env, *args, "--json")
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.splitlines()[-1])


def pages_stored(env: dict[str, str]) -> int:
    from storage.minio import MinioStore

    store = MinioStore.from_url(env["SOHOA_STORAGE"])
    return sum(1 for k in store.list("derived/") if "/pages/" in k and k.endswith(".json"))


@pytest.fixture(scope="module")
def env(servers, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    run_id = uuid.uuid4().hex[:10]
    broker = servers["SOHOA_BROKER"].rsplit("/", 1)[0] + "/9"
    redis.Redis.from_url(broker).flushdb()
    return {
        **os.environ,
        "SOHOA_DATA_DIR": str(tmp_path_factory.mktemp("exchange-prod")),
        "SOHOA_STORAGE": servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + f"/exch-{run_id}",
        "SOHOA_SEARCH": servers["SOHOA_SEARCH"],
        "SOHOA_SEARCH_INDEX": f"exch-{run_id}",
        "SOHOA_BROKER": broker,
        "SOHOA_WORKERS": "2",
        "SOHOA_EXCHANGE_RETRY_MIN_MS": "200",
    }


@pytest.fixture(scope="module")
def worker(env, tmp_path_factory):
    log = tmp_path_factory.mktemp("exchange-worker") / "worker.log"
    with worker_process(env, log) as proc:
        yield proc


@pytest.fixture(scope="module")
def scenario(env, worker, tmp_path_factory) -> dict:
    """Run the four-level exchange once; the tests below check what it left."""
    folder = tmp_path_factory.mktemp("exchange-scan")
    generate_batch(folder, pages=1, seed=71, formats=("png",), levels=("clean",))
    assert cli({**env, "SOHOA_PKI_PASSPHRASE": PASSPHRASE}, "pki", "init").returncode == 0
    created = cli(
        env, "exchange", "keys", "create", COMMUNE, DEPARTMENT, PROVINCE, MINISTRY, OUTSIDER
    )
    assert created.returncode == 0, created.stderr
    [scan] = [p for p in folder.iterdir() if p.suffix == ".png"]
    ingested = cli(env, "ingest", str(scan), "--json")
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)["document_id"]
    ocr_pages = pages_stored(env)
    assert ocr_pages == 1

    up = ok_json(
        env,
        "exchange",
        "send",
        report,
        "--from",
        COMMUNE,
        "--to",
        DEPARTMENT,
        "--to",
        PROVINCE,
        "--wait",
    )
    forward = ok_json(
        env,
        "exchange",
        "send",
        "--forward",
        up["message_id"],
        "--from",
        PROVINCE,
        "--to",
        MINISTRY,
        "--wait",
    )

    decision_pdf = write_pdf_digital(
        folder / "quyet-dinh.pdf", make_documents(1, seed=72, pages=1)[0].pages
    )
    decided = cli(env, "ingest", str(decision_pdf), "--json")
    assert decided.returncode == 0, decided.stderr
    decision = json.loads(decided.stdout)["document_id"]
    answer = ok_json(
        env,
        "exchange",
        "send",
        decision,
        "--from",
        MINISTRY,
        "--to",
        PROVINCE,
        "--responds-to",
        forward["message_id"],
        "--wait",
    )
    down = ok_json(
        env,
        "exchange",
        "send",
        "--forward",
        answer["message_id"],
        "--from",
        PROVINCE,
        "--to",
        DEPARTMENT,
        "--to",
        COMMUNE,
        "--wait",
    )
    return {
        "report": report,
        "decision": decision,
        "ocr_pages": ocr_pages,
        "sends": {"up": up, "forward": forward, "answer": answer, "down": down},
        "folder": folder,
    }


def test_every_hop_is_delivered_verified_and_reuses_the_record(scenario, env) -> None:
    for name, sent in scenario["sends"].items():
        for delivery in sent["deliveries"]:
            assert delivery["state"] == "delivered", (name, delivery)
            receipt = delivery["receipt"]
            assert receipt["status"] == "03"
            assert receipt["reuse"] == {"reused": 1}, (name, receipt)
    assert pages_stored(env) == scenario["ocr_pages"] + 1  # + the born-digital decision page
    forward = scenario["sends"]["forward"]["deliveries"][0]["receipt"]
    assert [t["organ_id"] for t in forward["trace"]] == [COMMUNE, PROVINCE, MINISTRY]
    down = scenario["sends"]["down"]["deliveries"][0]["receipt"]
    assert [t["organ_id"] for t in down["trace"]] == [MINISTRY, PROVINCE, DEPARTMENT]
    assert down["attachments"][0]["record_id"] == scenario["decision"]


def test_statuses_flow_back_to_the_sender(scenario, env) -> None:
    up = scenario["sends"]["up"]["message_id"]
    ok_json(env, "exchange", "status", up, "--as", DEPARTMENT, "--set", "05")
    ok_json(env, "exchange", "status", up, "--as", DEPARTMENT, "--set", "06", "--note", "đã xử lý")
    shown = ok_json(env, "exchange", "status", up, "--as", COMMUNE)
    by_organ: dict[str, list[str]] = {}
    for status in shown["statuses"]:
        by_organ.setdefault(status["organ_id"], []).append(status["code"])
    assert by_organ[DEPARTMENT] == ["01", "03", "05", "06"]
    assert by_organ[PROVINCE] == ["01", "03"]
    inbox = cli(env, "exchange", "inbox", "--as", MINISTRY, "--json")
    rows = [json.loads(line) for line in inbox.stdout.splitlines()]
    forward = scenario["sends"]["forward"]["message_id"]
    assert [r["message_id"] for r in rows] == [forward]


def test_tampered_file_is_rejected_and_a_duplicate_is_accepted_once(scenario, env) -> None:
    folder: Path = scenario["folder"]
    built = ok_json(
        env,
        "exchange",
        "build",
        scenario["report"],
        "--from",
        COMMUNE,
        "--to",
        PROVINCE,
        "-o",
        str(folder / "m.edxml"),
    )
    data = (folder / "m.edxml").read_bytes()
    (folder / "bad.edxml").write_bytes(data.replace(b"<edXML:Subject>", b"<edXML:Subject>!", 1))
    bad = cli(env, "exchange", "receive", str(folder / "bad.edxml"), "--as", PROVINCE, "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["status"] == "02"
    assert "changed after signing" in json.loads(bad.stdout)["reason"]
    first = ok_json(env, "exchange", "receive", str(folder / "m.edxml"), "--as", PROVINCE)
    second = ok_json(env, "exchange", "receive", str(folder / "m.edxml"), "--as", PROVINCE)
    assert first["duplicate"] is False and second["duplicate"] is True
    assert first["reuse"] == {"reused": 1}
    inbox = cli(env, "exchange", "inbox", "--as", PROVINCE, "--json").stdout
    assert sum(built["message_id"] in line for line in inbox.splitlines()) == 1


def test_an_unauthorised_organ_gets_404(scenario, env) -> None:
    from app.api import create_app
    from app.config import Settings

    up = scenario["sends"]["up"]["message_id"]
    tokens = {o: cli(env, "exchange", "token", o).stdout.strip() for o in (OUTSIDER, PROVINCE)}
    names = ("DATA_DIR", "STORAGE", "SEARCH", "SEARCH_INDEX", "BROKER")
    settings = Settings(**{n.lower(): env[f"SOHOA_{n}"] for n in names})
    with TestClient(create_app(settings)) as client:
        outsider = {"Authorization": f"Bearer {tokens[OUTSIDER]}"}
        assert client.get(f"/exchange/messages/{up}", headers=outsider).status_code == 404
        assert client.get(f"/exchange/messages/{up}/envelope", headers=outsider).status_code == 404
        province = {"Authorization": f"Bearer {tokens[PROVINCE]}"}
        shown = client.get(f"/exchange/messages/{up}", headers=province)
        assert shown.status_code == 200 and shown.json()["receipt"]["status"] == "03"
    denied = cli(env, "exchange", "status", up, "--as", OUTSIDER)
    assert denied.returncode == 4


def test_audit_chain_verifies_then_fails_after_a_forged_edit(scenario, env) -> None:
    from storage.minio import MinioStore

    assert ok_json(env, "audit", "verify")["ok"] is True
    store = MinioStore.from_url(env["SOHOA_STORAGE"])
    key = "exchange/audit/000000000007.json"
    entry = json.loads(store.get_bytes(key))
    entry["detail"]["forged"] = True
    store.put_bytes(key, json.dumps(entry).encode())
    broken = cli(env, "audit", "verify", "--json")
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["problem"].startswith("entry 7 (")
    assert "was altered" in report["problem"]


@pytest.fixture(scope="module")
def exchange(scenario, env):  # noqa: ANN201
    """This process's own Exchange on the same servers (S3 store, OpenSearch, data folder)."""
    from app.compose import build_services
    from app.config import Settings
    from workers.exchange_setup import build_exchange

    names = ("DATA_DIR", "STORAGE", "SEARCH", "SEARCH_INDEX", "BROKER")
    settings = Settings(**{n.lower(): env[f"SOHOA_{n}"] for n in names})
    services = build_services(settings)
    return settings, services, build_exchange(services)


def test_a_tampered_copy_or_a_stranger_changes_nothing_on_the_servers(scenario, exchange) -> None:
    from exchange.envelope_write import status_tree
    from exchange.models import AccessDenied, OrganInfo, ResponseFor, StatusMessage
    from exchange.signing import sign
    from exchange.statuses import Status

    _, _, ex = exchange
    message_id = ex.send([scenario["report"]], COMMUNE, [DEPARTMENT], unrestricted=True)
    assert ex.deliver(message_id, DEPARTMENT).state == "delivered"
    ex.set_status(message_id, DEPARTMENT, Status.done)
    history = [(s.organ_id, s.code) for s in ex.statuses(message_id)]
    forged = ex.envelope_bytes(message_id).replace(b"<edXML:Subject>", b"<edXML:Subject>!", 1)
    assert ex.receive(forged, DEPARTMENT).status == Status.rejected
    assert ex.receive(ex.envelope_bytes(message_id), OUTSIDER).status == Status.rejected
    stranger = StatusMessage(
        response_for=ResponseFor(organ_id=COMMUNE, message_id=message_id),
        sender=OrganInfo(organ_id=OUTSIDER),
        code=Status.rejected,
    )
    with pytest.raises(AccessDenied):
        ex.receive_status(sign(status_tree(stranger), ex.keys.keys(OUTSIDER)))
    assert [(s.organ_id, s.code) for s in ex.statuses(message_id)] == history
    recall_id = ex.recall(message_id, COMMUNE)
    ex.deliver(recall_id, DEPARTMENT)
    assert ex.latest_status(recall_id, DEPARTMENT) == Status.refuse
    assert ex.latest_status(message_id, DEPARTMENT) == Status.done


def test_a_large_attachment_round_trips_through_s3(scenario, exchange, tmp_path) -> None:
    from urllib.parse import unquote

    import httpx

    from app.api import create_app
    from storage.keys import pdf_key
    from workers.submit import accept

    settings, services, ex = exchange
    big = tmp_path / "hồ sơ lớn.pdf"
    with big.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        for _ in range(12):
            f.write(os.urandom(1 << 20))
    sub = accept(services, big, owner=COMMUNE)
    message_id = ex.send([sub.doc_id], COMMUNE, [PROVINCE])
    entry = ex.deliver(message_id, PROVINCE)
    assert entry.state == "delivered", entry.last_error
    assert entry.receipt.reuse_counts == {"reused": 1}
    assert entry.receipt.attachments[0].size_bytes == big.stat().st_size
    # The searchable PDF's download name, through S3's presigned link.
    records, store = services.records, services.store
    doc = records.require(scenario["report"])
    copy = doc.model_copy(update={"id": "ab" * 32, "source_name": 'hồ sơ";\r\nx.png'})
    records.put(copy)
    store.put_bytes(pdf_key(copy.id), store.get_bytes(pdf_key(doc.id)))
    redirect = TestClient(create_app(settings), headers=api_headers(settings)).get(
        f"/documents/{copy.id}/pdf", follow_redirects=False
    )
    assert redirect.status_code == 307
    served = httpx.get(redirect.headers["location"])
    assert served.status_code == 200 and served.content.startswith(b"%PDF")
    header = served.headers["content-disposition"]
    assert header.startswith('attachment; filename="ho so_x.pdf"; filename*=UTF-8'), header
    assert unquote(header.split("''", 1)[1]) == 'hồ sơ";x.pdf'
