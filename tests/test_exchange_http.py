"""Two sohoa installations (a commune's and its district's) exchanging over HTTP on loopback:
certificates swapped by file, an API token per organ, delivery by the sender's outbox, the
status answered back over HTTP to the sender's installation."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from corpus import make_documents, write_pdf_digital
from tests.conftest import ROOT, api_headers
from tests.pki_support import PASSPHRASE

# slow (pyproject): `pair` starts two installations' APIs (~14 s), then ~5 s a test
pytestmark = pytest.mark.slow

COMMUNE, DEPARTMENT = "003.00.00.H55", "000.00.02.H55"  # organs that exist today


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Installation:
    def __init__(self, root: Path, organ: str) -> None:
        self.root, self.organ, self.port = root, organ, _free_port()
        self.env = {**os.environ, "SOHOA_DATA_DIR": str(root / "data"), "SOHOA_WORKERS": "1"}
        self.server: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
        return result

    def json(self, *args: str) -> dict:
        return json.loads(self.cli(*args, "--json").stdout.splitlines()[-1])

    def serve(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("http-exchange")
    commune, district = Installation(tmp / "xa", COMMUNE), Installation(tmp / "huyen", DEPARTMENT)

    def own_ca(side: Installation) -> None:  # each its own CA; peers trust its root and CRL
        side.env["SOHOA_PKI_PASSPHRASE"] = PASSPHRASE
        side.cli("pki", "init", "--name", side.organ)
        side.cli("pki", "export", "-o", str(tmp / f"{side.organ}-root.pem"))
        side.cli("pki", "crl", "-o", str(tmp / f"{side.organ}.crl"))
        side.cli("exchange", "keys", "create", side.organ)
        side.cli("exchange", "keys", "export", side.organ, "-o", str(tmp / f"{side.organ}.pem"))

    def trust(side: Installation, peer: str) -> str:
        side.cli("pki", "trust", str(tmp / f"{peer}-root.pem"))
        side.cli("pki", "crl", "--import", str(tmp / f"{peer}.crl"))
        side.cli("exchange", "keys", "import", peer, str(tmp / f"{peer}.pem"))
        # Each side gives the other a token for the organ it hosts, and its address.
        return side.cli("exchange", "token", side.organ).stdout.strip()

    # The two installations are set up side by side (each `sohoa` start is seconds of imports:
    # two at a time on CI's two cores), each side's commands in order as an operator types them.
    with ThreadPoolExecutor(2) as both:
        list(both.map(own_ca, (commune, district)))
        commune_token, district_token = both.map(trust, (commune, district), (DEPARTMENT, COMMUNE))
    commune.env["SOHOA_EXCHANGE_PEERS"] = f"{DEPARTMENT}={district.url}|{district_token}"
    district.env["SOHOA_EXCHANGE_PEERS"] = f"{COMMUNE}={commune.url}|{commune_token}"
    [doc] = make_documents(1, seed=23, pages=1)
    report = write_pdf_digital(tmp / "bao-cao.pdf", doc.pages)
    doc_id = commune.json("ingest", str(report))["document_id"]
    commune.serve()
    district.serve()
    yield commune, district, doc_id, district_token
    commune.stop()
    district.stop()


def test_a_message_crosses_to_another_installation_and_its_status_comes_back(pair) -> None:
    commune, district, doc_id, _ = pair
    sent = commune.json("exchange", "send", doc_id[:16], "--from", COMMUNE, "--to", DEPARTMENT)
    [delivery] = sent["deliveries"]
    assert delivery["state"] == "delivered", delivery
    assert delivery["receipt"]["status"] in ("01", "03")
    message_id = sent["message_id"]
    inbox = json.loads(district.cli("exchange", "inbox", "--as", DEPARTMENT, "--json").stdout)
    assert message_id in json.dumps(inbox)
    # The district never had this paper: it was imported there as a new record, same bytes.
    auth = api_headers(district.root / "data")
    assert (
        httpx.get(f"{district.url}/documents/{doc_id}", headers=auth, timeout=10).status_code == 200
    )
    district.cli(
        "exchange", "status", message_id, "--as", DEPARTMENT, "--set", "06", "--note", "xong"
    )
    shown = commune.json("exchange", "status", message_id, "--as", COMMUNE)
    codes = {(s["organ_id"], s["code"]) for s in shown["statuses"]}
    assert (DEPARTMENT, "06") in codes


def test_the_peer_api_refuses_a_wrong_token_and_an_organ_it_does_not_host(pair) -> None:
    _, district, _, token = pair
    wrong = httpx.get(
        f"{district.url}/exchange/inbox", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert wrong.status_code == 401
    right = httpx.get(
        f"{district.url}/exchange/inbox", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert right.status_code == 200


def test_a_certificate_for_another_organ_is_not_registered(pair, tmp_path) -> None:
    commune, district, _, _ = pair
    pem = tmp_path / "district.pem"
    district.cli("exchange", "keys", "export", DEPARTMENT, "-o", str(pem))
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "exchange", "keys", "import", "000.00.00.H34", str(pem)],
        env=commune.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"for {DEPARTMENT}, not for organ 000.00.00.H34" in " ".join(result.stderr.split())
