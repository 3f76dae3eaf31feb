"""What a newcomer meets first (issue 14): the version and shell completion, `export` to a bad
path or to stdout, `search` without the store, a search server that is down, one filter syntax
for the CLI and the API, uploads judged by their bytes, the API's docs pages offline, the
servers script's output for `eval`, and no secret in what is shown."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from corpus import generate_batch
from tests.conftest import ROOT, api_headers, cli_with_env, run_cli
from tests.pki_support import PASSPHRASE


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One born-digital page (no OCR: about a second) in a fresh data folder."""
    folder = tmp_path_factory.mktemp("in")
    generate_batch(folder, pages=1, seed=3, formats=("pdf_digital",), levels=("clean",))
    data = tmp_path_factory.mktemp("data")
    result = run_cli(data, "ingest", str(folder), "--json", "--no-progress")
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    return data, row["document_id"]


@pytest.fixture(scope="module")
def api(ingested: tuple[Path, str]):
    data, _ = ingested
    app = create_app(Settings(data_dir=data, workers=1))
    with TestClient(app, headers=api_headers(data)) as client:
        yield client


def _free_port() -> int:
    """A loopback port nothing listens on: a server that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    return {**env, "SOHOA_DATA_DIR": str(data), **settings}


def test_version_comes_from_the_package(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--version")
    assert (result.returncode, result.stdout) == (0, f"sohoa {version('sohoa')}\n")


def test_shell_completion_is_offered(tmp_path: Path) -> None:
    # typer finds the shell among the parent processes: bash here, whoever runs the tests
    shown = subprocess.run(
        ["bash", "-c", f"{shlex.quote(sys.executable)} -m app.cli --show-completion; exit $?"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert shown.returncode == 0 and "complete " in shown.stdout, shown.stderr
    assert "--install-completion" in run_cli(tmp_path, "--help").stdout


def test_export_to_a_missing_folder_is_one_clear_line(ingested: tuple[Path, str]) -> None:
    data, doc_id = ingested
    result = run_cli(data, "export", doc_id[:12], "-o", "/nonexistent/dir/x.pdf")
    assert result.returncode == 1
    assert (
        result.stderr == "error: cannot write /nonexistent/dir/x.pdf: No such file or directory\n"
    )


def test_every_pki_file_written_fails_as_one_clear_line(tmp_path: Path) -> None:
    """`pki export`, `pki crl -o`, `keys export` and `keys csr` write through the one helper: a
    folder that is not there, or a full disk, is `error: cannot write PATH: <reason>` and exit 1,
    never a traceback (one CA made for all: each `sohoa` start costs seconds)."""
    organ = "000.00.00.H17"
    env = {**os.environ, "SOHOA_DATA_DIR": str(tmp_path), "SOHOA_PKI_PASSPHRASE": PASSPHRASE}
    assert cli_with_env(env, "pki", "init").returncode == 0
    assert run_cli(tmp_path, "exchange", "keys", "create", organ).returncode == 0
    for command, target, reason in [
        (("pki", "export"), "/nonexistent/dir/root.pem", "No such file or directory"),
        (("pki", "crl"), "/nonexistent/dir/ca.crl", "No such file or directory"),
        (
            ("exchange", "keys", "export", organ),
            "/nonexistent/dir/c.pem",
            "No such file or directory",
        ),
        (("exchange", "keys", "csr", organ), "/dev/full", "No space left on device"),
    ]:
        result = cli_with_env(env, *command, "-o", target)
        assert (result.returncode, result.stderr) == (
            1,
            f"error: cannot write {target}: {reason}\n",
        )
    written = tmp_path / "ca.crl"
    assert cli_with_env(env, "pki", "crl", "-o", str(written)).returncode == 0
    assert written.read_bytes()[:1] == b"\x30"  # a DER SEQUENCE: the CRL itself


def test_exchange_errors_are_one_line_as_written(tmp_path: Path) -> None:
    """An exchange command's error is the message itself: brackets kept, never wrapped."""
    organ = "000.00.00.H99-[bold]an-organ-id-that-nobody-has-registered-anywhere[/bold]"
    result = run_cli(tmp_path, "exchange", "token", organ)
    assert result.returncode == 3
    assert result.stderr == f"error: no organ '{organ}' in the organ registry\n"


def test_a_setting_sohoa_cannot_use_is_named_in_one_line(tmp_path: Path) -> None:
    by_option = run_cli(tmp_path, "--workers", "0", "status")
    assert by_option.returncode == 2
    assert by_option.stderr == (
        "error: bad setting SOHOA_WORKERS=0: Input should be greater than or equal to 1\n"
    )
    by_variable = cli_with_env(_env(tmp_path, SOHOA_EXCHANGE_RETRIES="-1"), "status")
    assert by_variable.returncode == 2
    assert by_variable.stderr == (
        "error: bad setting SOHOA_EXCHANGE_RETRIES=-1: Input should be greater than or equal to 0\n"
    )


def test_export_dash_writes_the_pdf_to_stdout(ingested: tuple[Path, str], tmp_path: Path) -> None:
    data, doc_id = ingested
    to_file = run_cli(data, "export", doc_id[:12], "-o", str(tmp_path / "x.pdf"))
    assert to_file.returncode == 0, to_file.stderr
    piped = subprocess.run(
        [sys.executable, "-m", "app.cli", "export", doc_id[:12], "-o", "-"],
        capture_output=True,
        env=_env(data),
        cwd=ROOT,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == (tmp_path / "x.pdf").read_bytes()
    assert piped.stdout.startswith(b"%PDF")


def test_search_json_carries_total_and_facets(ingested: tuple[Path, str]) -> None:
    data, doc_id = ingested
    body = json.loads(run_cli(data, "search", "", "--json").stdout)
    assert body["total"] == 1 and body["facets"]["status"] == {"done": 1}
    assert [hit["document_id"] for hit in body["hits"]] == [doc_id]


def test_search_reads_the_index_only_and_never_needs_the_store(
    ingested: tuple[Path, str],
) -> None:
    data, doc_id = ingested
    down = f"minio://sohoa:hush-hush@127.0.0.1:{_free_port()}/sohoa"
    result = cli_with_env(_env(data, SOHOA_STORAGE=down), "search", "", "--json")
    assert result.returncode == 0, result.stderr
    assert [hit["document_id"] for hit in json.loads(result.stdout)["hits"]] == [doc_id]


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["quiet", "verbose"])
def test_a_search_server_that_is_down_is_one_line(tmp_path: Path, verbose: list[str]) -> None:
    port = _free_port()
    env = _env(
        tmp_path,
        SOHOA_SEARCH=f"http://127.0.0.1:{port}",
        SOHOA_STORAGE=f"minio://sohoa:hush-hush@127.0.0.1:{_free_port()}/sohoa",
    )
    result = cli_with_env(env, *verbose, "search", "quyet dinh")
    assert result.returncode != 0
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: search server at http://127.0.0.1:{port} cannot be reached")
    assert "hush-hush" not in result.stdout + result.stderr


def test_cli_takes_field_equals_value_filters_and_refuses_the_rest(
    ingested: tuple[Path, str],
) -> None:
    data, _ = ingested
    for item, total in (("status=done", 1), ("status=failed", 0)):
        body = json.loads(run_cli(data, "search", "", "-f", item, "--json").stdout)
        assert body["total"] == total, item
    for item, said in (
        ("status:done", "error: filter 'status:done' must look like field=value"),
        ("colour=red", "error: unknown filter field 'colour' in 'colour=red'"),
        ("status=", "error: filter 'status=' must look like field=value"),
    ):
        refused = run_cli(data, "search", "", "-f", item)
        assert refused.returncode == 2, item
        assert refused.stderr.startswith(said), refused.stderr


def test_api_takes_the_cli_filter_syntax_and_refuses_the_rest(api: TestClient) -> None:
    for item, total in (("status=done", 1), ("status=failed", 0)):
        found = api.get("/search", params={"filter": item})
        assert (found.status_code, found.json()["total"]) == (200, total), item
    for item in ("status:done", "colour=red", "status"):
        refused = api.get("/search", params={"filter": item})
        assert refused.status_code == 422, item
        assert refused.json()["error"] == "bad_filter", refused.json()


def test_upload_of_text_named_pdf_is_refused_for_its_bytes(api: TestClient) -> None:
    before = api.get("/search").json()["total"]
    answer = api.post("/documents", files={"file": ("x.pdf", b"not a pdf at all")})
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "unsupported_type",
        "message": "x.pdf: named .pdf but not a PDF, TIFF, JPEG or PNG (starts with b'not a pd')",
    }
    assert api.get("/search").json()["total"] == before  # nothing was stored


def test_api_unknown_ids_answer_in_one_error_shape(api: TestClient) -> None:
    """A client reads `error` and `message` from every 404, whatever kind of id it named."""
    for path in ("/documents/0000dead", "/documents/0000dead/pdf", "/dossiers/2099.HS-0"):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "unknown_id", (path, answer.json())
        assert answer.json()["message"]


def test_docs_pages_and_their_assets_are_served_without_internet(api: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = api.get(page)
        assert html.status_code == 200
        assets = re.findall(r"""(?:src|href)\s*[=:]\s*['"]([^'"]+\.(?:js|css))['"]""", html.text)
        assert assets, html.text
        for url in assets:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            fetched = api.get(url)
            assert fetched.status_code == 200 and len(fetched.content) > 10_000, url


def test_services_up_exports_for_eval_and_status_hides_the_keys(servers: dict) -> None:
    shell = 'eval "$(bash scripts/services.sh up 2>/dev/null)" && env'
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    seen = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    )
    exported = dict(line.split("=", 1) for line in seen.stdout.splitlines() if "=" in line)
    for key in ("SOHOA_SEARCH", "SOHOA_STORAGE", "SOHOA_BROKER"):
        assert exported.get(key) == servers[key], key
    secret = urlsplit(servers["SOHOA_STORAGE"]).password
    status = subprocess.run(
        ["bash", "scripts/services.sh", "status"], capture_output=True, text=True, cwd=ROOT
    )
    assert secret and secret not in status.stdout + status.stderr
    assert "minio://sohoa:***@" in status.stdout


def test_reindex_names_the_store_without_its_keys(servers: dict, tmp_path: Path) -> None:
    storage = servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + "/sohoa-test-no-keys-shown"
    result = cli_with_env(_env(tmp_path, SOHOA_STORAGE=storage), "reindex")
    assert result.returncode == 0, result.stderr
    secret = urlsplit(storage).password
    assert secret and secret not in result.stdout + result.stderr
    assert "reindexed 0 document(s) from minio://sohoa:***@" in result.stderr


def test_an_unknown_organ_answers_in_the_one_error_shape(api: TestClient, ingested) -> None:
    """The registry's 404 reads like every other error of the API and of the CLI."""
    answer = api.get("/exchange/organs/không có cơ quan này")
    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_id" and "no organ matches" in answer.json()["message"]
    data, _ = ingested
    shown = run_cli(data, "organs", "show", "không có cơ quan này")
    assert shown.returncode == 3 and shown.stderr.startswith("error: no organ matches")
    missing = run_cli(
        data, "exchange", "receive", str(data / "absent.edxml"), "--as", "000.00.00.H41"
    )
    assert missing.returncode == 3 and "no such file" in missing.stderr


def test_the_organ_list_comes_in_pages_with_its_total(api: TestClient) -> None:
    """All ~38,000 organs in one answer were ~14 MB: a bounded page, the total, and paging on."""
    first = api.get("/exchange/organs")
    assert first.status_code == 200
    body = first.json()
    assert body["total"] > 30_000 and (body["limit"], body["offset"]) == (100, 0)
    assert len(body["organs"]) == 100 and len(first.content) < 200_000
    then = api.get("/exchange/organs", params={"offset": 100, "limit": 5}).json()
    assert then["total"] == body["total"]
    ids = [o["organ_id"] for o in body["organs"]]
    assert [o["organ_id"] for o in then["organs"]][0] not in ids and len(then["organs"]) == 5
    central = api.get("/exchange/organs", params={"level": "central", "limit": 1000}).json()
    assert 0 < central["total"] < body["total"]
    assert {o["level"] for o in central["organs"]} == {"central"}
    past = api.get("/exchange/organs", params={"offset": body["total"]}).json()
    assert past["organs"] == [] and past["total"] == body["total"]
    assert api.get("/exchange/organs", params={"limit": 100_000}).status_code == 422


@pytest.mark.parametrize(
    ("storage", "named"),
    [("minio://sohoa:s3cr3t@127.0.0.1:1/x", "invalid bucket name x"), ("ftp://u:s3cr3t@h/x", "")],
)
def test_a_storage_url_sohoa_cannot_use_is_one_line(tmp_path: Path, storage: str, named: str):
    """A bad SOHOA_STORAGE is a setting to fix (exit 2), said in one line that hides the key."""
    result = cli_with_env(_env(tmp_path, SOHOA_STORAGE=storage), "status")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: SOHOA_STORAGE") and result.stderr.count("\n") == 1
    assert named in result.stderr and "s3cr3t" not in result.stderr
