"""`sohoa archive export|import` between an installation on the servers (S3 object store and
OpenSearch, the `servers` fixture) and one on the embedded default (folder store, SQLite):
both directions restore what users see (docs/preservation.md)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from corpus import make_documents, write_pdf_digital
from tests.conftest import TEST_ORGAN, cli_with_env

DOSSIER = "2024.HS-17"
QUERIES = ("quyết định", "uy ban nhan dan")


def on_servers(servers: dict[str, str], data: Path) -> dict[str, str]:
    """An installation of its own on the servers: a new bucket and a new search alias."""
    name = uuid.uuid4().hex[:10]
    return {
        **os.environ,
        **servers,
        "SOHOA_DATA_DIR": str(data),
        "SOHOA_ORGAN": TEST_ORGAN,
        "SOHOA_STORAGE": servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + f"/archive-{name}",
        "SOHOA_SEARCH_INDEX": f"archive-{name}",
        "SOHOA_BROKER": "",  # the CLI ingests in process
    }


def embedded(data: Path) -> dict[str, str]:
    servers = ("SOHOA_STORAGE", "SOHOA_SEARCH", "SOHOA_SEARCH_INDEX", "SOHOA_BROKER")
    env = {k: v for k, v in os.environ.items() if k not in servers}
    return {**env, "SOHOA_DATA_DIR": str(data), "SOHOA_ORGAN": TEST_ORGAN}


def ok(env: dict[str, str], *args: str) -> str:
    result = cli_with_env(env, *args)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


def what_users_see(env: dict[str, str], ids: list[str]) -> dict:
    shown = {i: json.loads(ok(env, "show", i, "--json")) for i in ids}
    dossier = json.loads(ok(env, "dossier", "show", DOSSIER, "--json"))
    found = {}
    for query in QUERIES:  # scores differ between SQLite and OpenSearch: the documents found
        hits = json.loads(ok(env, "search", query, "--json", "--limit", "20"))["hits"]
        found[query] = sorted(h["document_id"] for h in hits)
    return {"show": shown, "dossier": dossier, "found": found}


def test_servers_to_embedded_and_back_restores_what_users_see(servers, tmp_path) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    docs = make_documents(3, seed=29, pages=1)
    paths = [str(write_pdf_digital(folder / f"vb{i}.pdf", d.pages)) for i, d in enumerate(docs)]
    source = on_servers(servers, tmp_path / "source")
    filed = ok(source, "ingest", *paths[:2], "--dossier", DOSSIER, "--json", "--no-progress")
    alone = ok(source, "ingest", paths[2], "--json", "--no-progress")
    rows = [json.loads(line) for line in (filed + alone).splitlines() if line.strip()]
    ids = [row["document_id"] for row in rows if "document_id" in row]
    assert len(ids) == 3
    seen = what_users_see(source, ids)
    assert all(seen["found"][q] for q in QUERIES)  # the searches find something

    out = tmp_path / "from-servers"
    assert "2 bag(s), 3 document(s)" in ok(
        source, "archive", "export", "--all", "-o", str(out), "--no-progress"
    )
    target = embedded(tmp_path / "embedded")
    assert ok(target, "archive", "import", str(out)).count("restored ") == 2
    assert what_users_see(target, ids) == seen

    back = tmp_path / "from-embedded.zip"
    ok(target, "archive", "export", "--all", "-o", str(back), "--no-progress")
    again = on_servers(servers, tmp_path / "again")
    assert ok(again, "archive", "import", str(back)).count("restored ") == 2
    assert what_users_see(again, ids) == seen
