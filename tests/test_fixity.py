"""`sohoa fixity` and the workers' schedule: stored bytes compared with their content address
or recorded hash, on the folder store and on the S3 server (docs/preservation.md)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from storage.minio import MinioStore
from tests.conftest import TEST_ORGAN, TEST_PASSWORD, cli_with_env
from tests.test_web import HTML


def env_for(data: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_ORGAN": TEST_ORGAN, **extra}


def ingest_two(env: dict[str, str], folder: Path) -> list[str]:
    docs = make_documents(2, seed=41, pages=1)
    paths = [str(write_pdf_digital(folder / f"f{i}.pdf", d.pages)) for i, d in enumerate(docs)]
    result = cli_with_env(env, "ingest", *paths, "--json", "--no-progress")
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["document_id"] for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    data = tmp_path_factory.mktemp("fixity-data")
    ids = ingest_two(env_for(data), tmp_path_factory.mktemp("fixity-in"))
    return data, ids


@pytest.fixture
def data(stored, tmp_path) -> tuple[Path, list[str]]:
    """A copy of the installation each test may damage."""
    source, ids = stored
    shutil.copytree(source, tmp_path / "data")
    return tmp_path / "data", ids


def flip_one_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0x20
    path.write_bytes(bytes(raw))


def test_a_clean_store_passes(data) -> None:
    folder, _ = data
    result = cli_with_env(env_for(folder), "fixity")
    assert result.returncode == 0, result.stderr
    assert "2 document(s)" in result.stdout and "all match" in result.stdout
    status = cli_with_env(env_for(folder), "status")
    assert re.search(
        r"fixity \(all, .*\): 2 document\(s\), \d+ object\(s\).*all match", status.stdout
    )


def test_a_flipped_byte_of_an_original_is_named_audited_and_marked(data) -> None:
    folder, ids = data
    env = env_for(folder)
    assert cli_with_env(env, "fixity").returncode == 0
    original = folder / "store" / "originals" / ids[1]
    flip_one_byte(original)
    result = cli_with_env(env, "fixity")
    assert result.returncode == 1
    assert f"FAILED {ids[1]}: originals/{ids[1]}: mismatch" in result.stderr
    assert ids[0] not in result.stderr
    assert "1 document(s) FAILED" in result.stdout
    shown = json.loads(cli_with_env(env, "show", ids[1], "--json").stdout)
    assert shown["fixity_failed"] and shown["fixity_failed"][0].startswith(f"originals/{ids[1]}")
    audit = cli_with_env(env, "audit", "list").stdout
    assert "fixity_failed" in audit and ids[1] in audit
    assert "1 document(s) FAILED" in cli_with_env(env, "status").stdout
    flip_one_byte(original)  # the same byte back: repaired
    assert cli_with_env(env, "fixity").returncode == 0
    assert json.loads(cli_with_env(env, "show", ids[1], "--json").stdout)["fixity_failed"] == []


def test_a_changed_or_deleted_derived_file_is_found(data) -> None:
    folder, ids = data
    env = env_for(folder)
    assert cli_with_env(env, "fixity").returncode == 0  # records the derived files' hashes
    pages = sorted((folder / "store" / "derived" / ids[0] / "pages").glob("*.json"))
    flip_one_byte(pages[0])
    (folder / "store" / "derived" / ids[1] / "searchable.pdf").unlink()
    result = cli_with_env(env, "fixity", "--json")
    assert result.returncode == 1
    found = {(p["doc_id"], p["key"], p["kind"]) for p in json.loads(result.stdout)["problems"]}
    assert found == {
        (ids[0], f"derived/{ids[0]}/pages/{pages[0].name}", "mismatch"),
        (ids[1], f"derived/{ids[1]}/searchable.pdf", "missing"),
    }


def test_on_a_terminal_fixity_all_draws_a_bar_and_json_stays_one_stable_object(data) -> None:
    """TTY_COMPATIBLE=1 is rich's own switch for "this is a terminal"."""
    folder, ids = data
    terminal = env_for(folder, TTY_COMPATIBLE="1", COLUMNS="160")
    flip_one_byte(folder / "store" / "originals" / ids[0])
    shown = cli_with_env(terminal, "fixity", "--all")
    assert shown.returncode == 1
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.stderr)  # the colours and cursor moves
    assert re.search(r"fixity ━+ 2/2 documents [\d.]+ MB [\d.]+ MB/s 1 FAILED", drawn), drawn
    assert f"FAILED {ids[0]}: originals/{ids[0]}: mismatch" in drawn
    assert "1 document(s) FAILED" in shown.stdout
    assert "documents" not in cli_with_env(env_for(folder), "fixity", "--all").stderr  # a pipe
    as_json = cli_with_env(terminal, "fixity", "--all", "--json")
    assert as_json.returncode == 1 and "documents" not in as_json.stderr  # no bar, no lines
    (line,) = as_json.stdout.splitlines()
    result = json.loads(line)
    assert list(result) == [
        "scope", "started_at", "finished_at", "documents", "objects", "bytes", "cpu_s", "ok",
        "failed_documents", "problems",
    ]  # fmt: skip
    assert result["scope"] == "all" and result["documents"] == 2 and result["ok"] is False
    assert result["failed_documents"] == [ids[0]]
    assert result["problems"] == [
        {"doc_id": ids[0], "key": f"originals/{ids[0]}", "kind": "mismatch",
         "detail": result["problems"][0]["detail"]}
    ]  # fmt: skip
    assert result["problems"][0]["detail"].startswith("SHA-256 ")


def test_the_worker_checks_a_share_per_period_and_the_admin_page_shows_it(data) -> None:
    """Every 24 h over a 2-day period: a share of one record per run of `sohoa worker`."""
    folder, ids = data
    env = env_for(folder, SOHOA_FIXITY_EVERY_HOURS="24", SOHOA_FIXITY_PERIOD_DAYS="2")
    flip_one_byte(folder / "store" / "originals" / ids[0])
    worker = cli_with_env(env, "worker")
    assert worker.returncode == 0, worker.stderr
    status = cli_with_env(env, "status").stdout
    assert "fixity (share 1 of 2" in status and "1 document(s) FAILED" in status
    again = cli_with_env(env, "worker")  # the same day: this period's share is done
    assert again.returncode == 0 and "fixity (share 1 of 2" in cli_with_env(env, "status").stdout
    settings = Settings(data_dir=folder, organ=TEST_ORGAN)
    Accounts(build_store(settings)).add_user("root", "admin", TEST_ORGAN, TEST_PASSWORD)
    client = TestClient(create_app(settings), headers=HTML)
    client.post("/login", data={"login": "root", "password": TEST_PASSWORD})
    client.app.state.worker_pool = None
    page = re.sub(r"\s+", " ", client.get("/admin/status").text)
    assert "Kiểm tra tính toàn vẹn của tệp" in page
    assert "1 văn bản có tệp bị thay đổi hoặc bị mất" in page
    assert f'href="/documents/{ids[0]}/view">{ids[0][:12]}</a> originals/{ids[0]}: mismatch' in page


def test_on_the_s3_server_a_flipped_byte_and_a_deleted_object_are_found(servers, tmp_path) -> None:
    bucket = f"fixity-{uuid.uuid4().hex[:10]}"
    storage = servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + f"/{bucket}"
    env = env_for(tmp_path / "data", SOHOA_STORAGE=storage)
    (tmp_path / "in").mkdir()
    ids = ingest_two(env, tmp_path / "in")
    clean = cli_with_env(env, "fixity")
    assert clean.returncode == 0, clean.stderr
    s3 = MinioStore.from_url(storage)
    key = f"originals/{ids[0]}"
    raw = bytearray(s3.get_bytes(key))
    raw[len(raw) // 3] ^= 0x20  # on the server itself: the local cache of originals stays good
    s3.client.put_object(s3.bucket, key, io.BytesIO(bytes(raw)), len(raw))
    s3.delete(f"derived/{ids[1]}/searchable.pdf")
    result = cli_with_env(env, "fixity")
    assert result.returncode == 1
    assert f"FAILED {ids[0]}: originals/{ids[0]}: mismatch" in result.stderr
    assert f"FAILED {ids[1]}: derived/{ids[1]}/searchable.pdf: missing" in result.stderr
