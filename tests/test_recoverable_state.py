"""Recoverable state: a damaged or missing index, a damaged record, a read-only data folder.

The records are the source of truth: whatever state the index file is in, commands say what is
wrong in one line (never a traceback), commands that do not need it still work, and
`sohoa reindex` sets the damaged file aside and rebuilds the index from the records. Real
files, real CLI processes; the read-only case runs the CLI as `nobody` (root ignores
permissions, and CI runs as root).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from corpus import make_documents, write_pdf_digital
from tests.conftest import ROOT, api_headers, cli_with_env, run_cli, search_hits, unprivileged

INDEX = "index.sqlite3"


@dataclass
class Base:
    data: Path  # a data folder holding two ingested born-digital documents
    ids: list[str]
    word: str  # a word of the subject of both documents' first one
    work: Path  # a folder under /tmp that `nobody` can reach


@pytest.fixture(scope="module")
def base() -> Iterator[Base]:
    # Our own folder under /tmp, reachable by `nobody` (pytest's are mode 700).
    work = Path(tempfile.mkdtemp(prefix="sohoa-state-", dir="/tmp"))
    work.chmod(0o755)
    try:
        docs = make_documents(3, seed=11, pages=1)  # the third is never ingested
        paths = [write_pdf_digital(work / f"doc{i}.pdf", d.pages) for i, d in enumerate(docs)]
        data = work / "base"
        result = run_cli(data, "ingest", "--json", "--no-progress", *map(str, paths[:2]))
        assert result.returncode == 0, result.stderr
        ids = [json.loads(line)["document_id"] for line in result.stdout.splitlines()]
        word = next(w for w in docs[0].metadata["subject"].split() if len(w) > 4)
        yield Base(data, ids, word, work)
    finally:
        _make_writable(work)
        shutil.rmtree(work, ignore_errors=True)


def _copy(base: Base, name: str) -> Path:
    data = base.work / name
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(base.data, data)
    return data


def _found(data: Path, word: str) -> list[str]:
    return [hit["document_id"] for hit in search_hits(run_cli(data, "search", word, "--json"))]


def _clear_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """A non-zero exit and one error line naming the cause, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert "error:" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


# ------------------------------------------------------------------------- a damaged index


def _truncate_half(index: Path) -> None:
    os.truncate(index, index.stat().st_size // 2)


def _overwrite_head(index: Path) -> None:
    with index.open("r+b") as f:
        f.write(os.urandom(4096))


def _empty(index: Path) -> None:
    index.write_bytes(b"")


def _folder(index: Path) -> None:
    index.unlink()
    index.mkdir()
    (index / "something").write_text("x")


def _not_sqlite(index: Path) -> None:
    index.write_text("%PDF-1.7 not an index at all\n" * 200)


def _foreign_sqlite(index: Path) -> None:
    index.unlink()
    db = sqlite3.connect(index)
    db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    db.commit()
    db.close()


def _other_version(index: Path) -> None:
    db = sqlite3.connect(index)
    db.execute("PRAGMA user_version = 2")
    db.close()


def _wal_folder(index: Path) -> None:
    (index.parent / (INDEX + "-wal")).mkdir()


def _garbage_beside(index: Path) -> None:
    _overwrite_head(index)
    (index.parent / (INDEX + "-wal")).write_bytes(os.urandom(40_000))
    (index.parent / (INDEX + "-shm")).write_bytes(os.urandom(32_768))


def _all_but_first_page(index: Path) -> None:
    with index.open("r+b") as f:
        f.seek(4096)
        f.write(os.urandom(index.stat().st_size - 4096))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated to half": _truncate_half,
    "first 4 KiB overwritten": _overwrite_head,
    "zero bytes": _empty,
    "a folder in its place": _folder,
    "not a SQLite file": _not_sqlite,
    "a SQLite file of something else": _foreign_sqlite,
    "another layout version": _other_version,
    "a folder in place of its -wal": _wal_folder,
    "garbage header, -wal and -shm": _garbage_beside,
    "every page but the first overwritten": _all_but_first_page,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_index_is_reported_and_reindex_rebuilds_it(base: Base, damage: str) -> None:
    data = _copy(base, "damaged")
    index = data / INDEX
    DAMAGE[damage](index)

    _clear_error(run_cli(data, "search", base.word), str(index), "sohoa reindex")
    # Commands that do not need the index are not stopped by it.
    shown = run_cli(data, "show", base.ids[0][:12], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["document_id"] == base.ids[0]

    rebuilt = run_cli(data, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "reindexed 2 document(s)" in rebuilt.stderr
    assert "Traceback" not in rebuilt.stderr
    names = sorted(p.name for p in data.iterdir())
    assert any(n.startswith(INDEX + ".damaged-") or ".outdated-" in n for n in names), names
    if damage.startswith("garbage"):  # its -wal and -shm go aside with it
        assert [n for n in names if n.startswith(INDEX + "-")] == [], names
    assert base.ids[0] in _found(data, base.word)


def test_every_command_needing_a_damaged_index_says_so(base: Base) -> None:
    data = _copy(base, "damaged-all")
    _truncate_half(data / INDEX)
    for command in (["status"], ["review"], ["search", base.word, "--json"]):
        _clear_error(run_cli(data, *command), "is damaged", "sohoa reindex")
    out = data.parent / "damaged-all.pdf"
    exported = run_cli(data, "export", base.ids[1][:12], "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert out.read_bytes().startswith(b"%PDF")


def test_api_answers_503_with_the_reason_for_a_damaged_index(base: Base) -> None:
    from fastapi.testclient import TestClient

    from app.api import create_app
    from app.config import Settings

    data = _copy(base, "damaged-api")
    _truncate_half(data / INDEX)
    client = TestClient(create_app(Settings(data_dir=data, workers=1)), headers=api_headers(data))
    for url in ("/health", f"/search?q={base.word}", "/review"):
        response = client.get(url)
        assert response.status_code == 503, (url, response.text)
        assert response.json()["error"] == "index_damaged"
        assert "sohoa reindex" in response.json()["message"]
    assert client.get(f"/documents/{base.ids[0]}").status_code == 200
    # Rebuilt by another process: the running server finds the new index, no restart needed.
    assert run_cli(data, "reindex").returncode == 0
    found = client.get(f"/search?q={base.word}")
    assert found.status_code == 200, found.text
    assert base.ids[0] in [hit["document_id"] for hit in found.json()["hits"]]


def test_deleted_index_is_made_again_and_search_says_to_reindex(base: Base) -> None:
    data = _copy(base, "deleted")
    (data / INDEX).unlink()
    result = run_cli(data, "search", base.word)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "sohoa reindex" in result.stderr
    assert run_cli(data, "reindex").returncode == 0
    assert base.ids[0] in _found(data, base.word)


@contextmanager
def _serving(data: Path, log: Path) -> Iterator[str]:
    """`sohoa serve` on `data` in its own process, as an administrator runs it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_WORKERS": "1"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            with suppress(httpx.HTTPError):
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        yield url
        assert server.poll() is None, f"the server died ({server.returncode}): {log.read_text()}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_survives_its_index_damaged_under_it_and_serves_the_rebuilt_one(
    base: Base,
) -> None:
    """A running server whose index file is written over, cut to nothing, or whose -shm is
    cut: each search answers 503 with the reason (never hits from a stale cache, never a dead
    process: a memory-mapped page of a cut file is SIGBUS), and `sohoa reindex` from another
    process is served at once."""
    data = _copy(base, "served")
    index = data / INDEX
    auth = api_headers(data)

    with _serving(data, base.work / "served.log") as url:

        def search() -> httpx.Response:
            return httpx.get(f"{url}/search", params={"q": base.word}, headers=auth, timeout=30)

        def damaged(reason: str = "") -> None:
            response = search()
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "index_damaged", response.text
            assert reason in response.json()["message"] and "sohoa reindex" in response.text

        # The server indexes a document itself: its connection has pages cached and mapped.
        with (base.work / "doc2.pdf").open("rb") as f:
            upload = httpx.post(f"{url}/documents", files={"file": f}, headers=auth, timeout=60)
        assert upload.status_code == 202, upload.text
        third = upload.json()["document_id"]
        deadline = time.monotonic() + 120
        while (
            httpx.get(f"{url}/documents/{third}", headers=auth, timeout=30).json()["status"]
            != "done"
        ):
            assert time.monotonic() < deadline, "the upload was not processed"
            time.sleep(0.2)

        def served() -> list[str]:
            response = search()
            assert response.status_code == 200, response.text
            return [h["document_id"] for h in response.json()["hits"]]

        assert base.ids[0] in served()
        os.truncate(index, 0)  # under its open connection
        damaged()  # empty, or what SQLite closing its -wal left in it
        assert run_cli(data, "reindex").returncode == 0
        assert {base.ids[0], third} <= set(served())
        with index.open("r+b") as f:  # SQLite's 100-byte header kept, its first page not
            f.seek(100)
            f.write(b"\xff" * 4000)
        damaged("malformed")
        assert run_cli(data, "reindex").returncode == 0
        assert base.ids[0] in served()
        os.truncate(data / f"{INDEX}-shm", 0)  # SQLite's own file, memory-mapped in WAL mode
        assert base.ids[0] in served()


def _damage_table(index: Path, table: str) -> None:
    """Write over the first page of one table: opening the index and counting its documents
    work, indexing a document does not."""
    with closing(sqlite3.connect(index)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = db.execute("PRAGMA page_size").fetchone()[0]
        sql = "SELECT rootpage FROM sqlite_master WHERE name = ?"
        page = db.execute(sql, (table,)).fetchone()[0]
    with index.open("r+b") as f:
        f.seek((page - 1) * size)
        f.write(b"\xff" * size)


def test_ingest_meeting_a_damaged_index_says_so_and_reindex_adds_the_document(base: Base) -> None:
    """The index fails under a running ingest: the document is finished and recorded, the row
    says it is not searchable and why (not a silent 'ok'), and `sohoa reindex` adds it."""
    data = _copy(base, "ingest-damaged")
    _damage_table(data / INDEX, "facet_codes")
    result = run_cli(data, "ingest", "--json", "--no-progress", str(base.work / "doc2.pdf"))
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    row = json.loads(result.stdout.splitlines()[-1])
    assert row["status"] == "not indexed" and row["document_status"] == "done", row
    assert row["error"]["code"] == "not_indexed", row
    assert "damaged" in row["error"]["message"] and "sohoa reindex" in row["error"]["message"]
    assert run_cli(data, "reindex").returncode == 0
    word = max(row["metadata"]["subject"]["value"].split(), key=len)
    assert row["document_id"] in _found(data, word)


# ------------------------------------------------------------------------- a damaged record


def test_damaged_record_is_reported_and_skipped_the_rest_proceed(base: Base) -> None:
    data = _copy(base, "damaged-record")
    bad, good = base.ids
    record = data / "store" / "records" / f"{bad}.json"
    record.write_bytes(record.read_bytes()[:300])

    status = run_cli(data, "status")
    assert status.returncode == 0, status.stderr
    assert bad in status.stderr and "damaged" in status.stderr
    assert "done: 1" in status.stdout

    rebuilt = run_cli(data, "reindex")
    assert "Traceback" not in rebuilt.stderr
    assert rebuilt.returncode != 0  # the index lacks a record: said, in the exit code too
    assert "reindexed 1 document(s)" in rebuilt.stderr and bad in rebuilt.stderr
    assert run_cli(data, "search", "", "--json").stdout.count(good) == 1

    _clear_error(run_cli(data, "show", bad[:12]), bad, "damaged")


# ------------------------------------------------------------------------- a read-only folder


def _chmod_all(path: Path, folders: int, files: int) -> None:
    for p in [path, *path.rglob("*")]:  # as root: modes do not stop the walk
        p.chmod(folders if p.is_dir() else files)


def _make_writable(path: Path) -> None:
    _chmod_all(path, 0o755, 0o644)


def _make_read_only(path: Path) -> None:
    _chmod_all(path, 0o555, 0o444)


def _as_nobody(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data.parent),
        "SOHOA_DATA_DIR": str(data),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [*unprivileged(), sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture
def read_only(base: Base) -> Iterator[Path]:
    data = _copy(base, "read-only")
    probe = _as_nobody(data, "--help")
    if probe.returncode != 0:
        pytest.fail(f"cannot run sohoa as nobody (checkout not reachable?):\n{probe.stderr}")
    _make_read_only(data)
    yield data
    _make_writable(data)


def _snapshot(data: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(data)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(data.rglob("*"))
    }


@pytest.mark.slow  # ~20 s
def test_read_only_data_folder_serves_reads_and_refuses_writes_clearly(
    base: Base, read_only: Path
) -> None:
    data = read_only
    before = _snapshot(data)
    out = base.work / "exports"
    out.mkdir(exist_ok=True)
    out.chmod(0o777)

    found = _as_nobody(data, "search", base.word, "--json")
    assert found.returncode == 0, found.stderr
    assert base.ids[0] in found.stdout
    for command in (
        ["status"],
        ["show", base.ids[0][:12]],
        ["review"],
        ["dossier", "list"],
        ["organs", "list"],
        ["export", base.ids[0][:12], "-o", str(out / "x.pdf")],
    ):
        result = _as_nobody(data, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stderr
    assert "indexed: 2" in _as_nobody(data, "status").stdout

    for command in (["reindex"], ["ingest", "--no-progress", str(base.work / "doc2.pdf")]):
        result = _as_nobody(data, *command)
        _clear_error(result, f"data folder {data}", "is read-only: cannot")
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert _snapshot(data) == before  # nothing written, not even a -wal or -shm


def test_read_only_index_with_a_damaged_file_says_damaged(base: Base, read_only: Path) -> None:
    _make_writable(read_only)
    _overwrite_head(read_only / INDEX)
    _make_read_only(read_only)
    _clear_error(_as_nobody(read_only, "search", base.word), "is damaged")
    _clear_error(_as_nobody(read_only, "reindex"), "is read-only: cannot")
    assert stat.S_IMODE((read_only / INDEX).stat().st_mode) == 0o444


# ------------------------------------------------------------------------- the safety net


def test_an_unforeseen_error_is_one_line_and_verbose_shows_where(base: Base) -> None:
    # A port no URL may have: nothing in sohoa foresees it, the search client's parser refuses it
    env = {**os.environ, "SOHOA_DATA_DIR": str(base.data), "SOHOA_SEARCH": "http://h:99999"}
    plain = cli_with_env(env, "status")
    _clear_error(plain, "Port out of range", "--verbose")
    assert len(plain.stderr.strip().splitlines()) == 1, plain.stderr
    verbose = cli_with_env(env, "--verbose", "status")
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr


# ------------------------------------------------------------------------- the server index


def test_lost_server_index_is_reported_and_reindex_makes_it_again(
    base: Base, servers: dict[str, str]
) -> None:
    from search.elastic import make_client

    url, alias = servers["SOHOA_SEARCH"], f"test-state-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "SOHOA_DATA_DIR": str(base.data), "SOHOA_SEARCH": url}
    env["SOHOA_SEARCH_INDEX"] = alias
    client = make_client(url)
    try:
        assert cli_with_env(env, "reindex").returncode == 0
        for name in client.indices.get(index=f"{alias}-v*"):  # lost: deleted on the server
            client.indices.delete(index=name)
        _clear_error(cli_with_env(env, "search", base.word), alias, "sohoa reindex")
        rebuilt = cli_with_env(env, "reindex")
        assert rebuilt.returncode == 0 and "reindexed 2 document(s)" in rebuilt.stderr
        found = cli_with_env(env, "search", base.word, "--json")
        assert base.ids[0] in found.stdout, found.stderr
    finally:
        for name in client.indices.get(index=f"{alias}*"):
            client.indices.delete(index=name)
        client.indices.delete_index_template(name=f"{alias}-template")
