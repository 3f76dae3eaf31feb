"""The whole pipeline on the production backends: S3 server, search server, Redis broker,
with `sohoa worker` running real Dramatiq worker processes."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pdfplumber
import pytest
import redis

from corpus import generate_batch
from corpus.metrics import word_error
from schemas.text import fold
from tests.conftest import cli_with_env as cli
from tests.conftest import search_hits, worker_process


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def production_env(servers, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    run_id = uuid.uuid4().hex[:10]
    broker = servers["SOHOA_BROKER"].rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(broker).flushdb()
    return {
        **os.environ,
        "SOHOA_DATA_DIR": str(tmp_path_factory.mktemp("prod-data")),
        "SOHOA_STORAGE": servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + f"/prod-{run_id}",
        "SOHOA_SEARCH": servers["SOHOA_SEARCH"],
        "SOHOA_SEARCH_INDEX": f"prod-{run_id}",
        "SOHOA_BROKER": broker,
        "SOHOA_WORKERS": "2",
    }


@pytest.fixture(scope="module")
def worker(production_env, tmp_path_factory):
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with worker_process(production_env, log) as proc:
        yield proc


@pytest.fixture(scope="module")
def ingested(production_env, worker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("prod-batch")
    manifest = generate_batch(folder, pages=6, seed=31)
    result = cli(production_env, "ingest", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    return manifest, {Path(r["path"]).name: r for r in json_lines(result.stdout)}


def test_worker_processes_do_the_ocr(ingested, worker) -> None:
    manifest, results = ingested
    assert worker.poll() is None, "the worker should still be running"
    for entry in manifest.files:
        record = results[entry.file]
        assert record["status"] == "ok"
        assert record["page_count"] == len(entry.pages)
        text = "\n\n".join(p["text"] for p in record["pages"])
        assert word_error(entry.text, text) < (0.05 if entry.level == "heavy" else 0.02)


def test_search_show_export_on_the_servers(ingested, production_env, tmp_path: Path) -> None:
    manifest, results = ingested
    entry = next(e for e in manifest.files if e.level == "clean" and not e.born_digital)
    doc_id = results[entry.file]["document_id"]
    query = fold(" ".join(entry.metadata["subject"].split()[:6]))
    hits = search_hits(cli(production_env, "search", query, "--json"))
    assert hits[0]["document_id"] == doc_id
    assert hits[0]["pages"][0]["highlights"]
    shown = json.loads(cli(production_env, "show", doc_id[:12], "--json").stdout)
    assert shown["status"] == "done"
    out = tmp_path / "export.pdf"
    assert cli(production_env, "export", doc_id, "-o", str(out)).returncode == 0
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == len(entry.pages)


def test_reindex_swaps_in_a_rebuilt_index(ingested, production_env) -> None:
    manifest, _ = ingested
    query = "ngay thang nam"
    before = {
        h["document_id"]
        for h in search_hits(cli(production_env, "search", query, "--json", "--limit", "50"))
    }
    result = cli(production_env, "reindex")
    assert result.returncode == 0, result.stderr
    assert f"reindexed {len(manifest.files)} document(s)" in result.stderr
    after = {
        h["document_id"]
        for h in search_hits(cli(production_env, "search", query, "--json", "--limit", "50"))
    }
    assert after == before and len(after) == len(manifest.files)


def test_reingest_reuses_records_on_the_servers(ingested, production_env, tmp_path_factory) -> None:
    manifest, results = ingested
    folder = Path(tmp_path_factory.getbasetemp()) / "prod-batch0"
    result = cli(production_env, "ingest", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    assert {r["status"] for r in json_lines(result.stdout)} == {"reused"}
