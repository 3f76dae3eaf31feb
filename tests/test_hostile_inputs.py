"""One bad path never takes down the batch: each is its own failed row, the rest is ingested.

Run as a user runs `sohoa ingest`. Permission cases drop privileges (CI runs as root, and root
reads anything): the CLI runs as `nobody` on a tree under /tmp that `nobody` can reach.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
import redis
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from corpus.batch import make_documents, scan_pages
from corpus.formats import write_pdf_digital
from schemas.text import fold
from tests.conftest import (
    NO_TESSERACT,
    ROOT,
    api_headers,
    cli_with_env,
    run_cli,
    search_hits,
    unprivileged,
    without_tesseract,
    worker_process,
)

NON_UTF8 = b"c\xf4ng v\xe3n s\xe8 12.pdf"  # "công văn số 12" as a legacy (TCVN3-like) name


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[bytes, str]]:
    """Three small born-digital PDFs: (bytes, a phrase of their text to search for)."""
    out = tmp_path_factory.mktemp("pdfs")
    made = []
    for seed in range(3):
        (doc,) = make_documents(1, seed + 70, pages=1)
        path = write_pdf_digital(out / f"{seed}.pdf", doc.pages)
        made.append((path.read_bytes(), doc.metadata["subject"]))
    return made


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder under /tmp that any user can reach (pytest's own tmp dirs are mode 700)."""
    top = Path(tempfile.mkdtemp(prefix="sohoa-hostile-", dir="/tmp"))
    top.chmod(0o777)
    yield top
    for folder, dirs, _ in os.walk(top):  # give back what the tests took away, then remove
        for d in dirs:
            (Path(folder) / d).chmod(0o755)
    shutil.rmtree(top)


def _cli_as_nobody(top: Path, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    data = top / "data"
    data.mkdir(exist_ok=True)
    data.chmod(0o777)
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "HOME": str(top)}
    return subprocess.run(
        [*unprivileged(), sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout_s,
    )


def _rows(result: subprocess.CompletedProcess) -> dict[str, dict]:
    assert "Traceback" not in result.stderr, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {row["path"]: row for row in rows}


def _unescaped(shown: str) -> bytes:
    """The documented escape form read back: `\\xNN` is a byte, `\\\\` a backslash."""
    return re.sub(
        rb"\\x([0-9a-f]{2})|\\\\",
        lambda m: bytes.fromhex(m[1].decode()) if m[1] else b"\\",
        shown.encode(),
    )


def _write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


def _search_hit(data_dir: Path, phrase: str, doc_id: str) -> dict | None:
    hits = search_hits(run_cli(data_dir, "search", fold(phrase), "--json", "--limit", "50"))
    return next((hit for hit in hits if hit["document_id"] == doc_id), None)


def test_each_unreachable_path_is_its_own_row_and_the_rest_is_ingested(
    scratch: Path, pdfs: list[tuple[bytes, str]]
) -> None:
    good, phrase = pdfs[0]
    inputs = scratch / "in"
    inputs.mkdir(mode=0o755)
    good_file = _write(inputs / "good.pdf", good)
    tree = inputs / "tree"  # a folder walked: a readable file beside an unreadable subfolder
    (tree / "secret").mkdir(parents=True)
    _write(tree / "secret" / "hidden.pdf", pdfs[1][0])
    _write(tree / "ok.pdf", pdfs[2][0])
    os.mkfifo(tree / "pipe.pdf")  # opening a FIFO for reading blocks until a writer comes
    (tree / "secret").chmod(0o000)
    locked = inputs / "locked"  # a folder argument that cannot be listed
    locked.mkdir()
    _write(locked / "a.pdf", good)
    locked.chmod(0o000)
    noexec = inputs / "noexec"  # listable (r) but not enterable (no x)
    noexec.mkdir()
    _write(noexec / "inside.pdf", good)
    noexec.chmod(0o644)
    noexec_walked = inputs / "noexec_walked"
    noexec_walked.mkdir()
    _write(noexec_walked / "w.pdf", good)
    noexec_walked.chmod(0o644)
    unreadable = _write(inputs / "unreadable.pdf", good, mode=0o000)
    fifo = inputs / "named_pipe.pdf"
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(inputs / "sock.pdf"))
    (inputs / "dangling.pdf").symlink_to(inputs / "gone.pdf")
    (inputs / "loop.pdf").symlink_to(inputs / "loop.pdf")
    (inputs / "empty").mkdir()
    named = {
        "locked": (locked, "permission_denied", f"permission denied: cannot list folder {locked}"),
        "noexec file": (
            noexec / "inside.pdf",
            "permission_denied",
            f"permission denied: cannot reach {noexec}/inside.pdf",
        ),
        "unreadable": (
            unreadable,
            "permission_denied",
            f"permission denied: cannot read file {unreadable}",
        ),
        "fifo": (fifo, "not_regular_file", f"not a regular file: {fifo} is a FIFO (named pipe)"),
        "socket": (inputs / "sock.pdf", "not_regular_file", "is a socket"),
        "device": (Path("/dev/null"), "not_regular_file", "/dev/null is a character device"),
        "dangling": (inputs / "dangling.pdf", "not_found", "broken symlink:"),
        "loop": (inputs / "loop.pdf", "unreadable", f"symlink loop: {inputs}/loop.pdf"),
        "missing": (inputs / "nope.pdf", "not_found", f"no such file or folder: {inputs}/nope"),
        "no match": (inputs / "*.tiff", "not_found", "no match: no file to ingest matches"),
        "empty": (inputs / "empty", "no_files", "no PDF, TIFF, JPEG or PNG file in folder"),
    }
    try:
        result = _cli_as_nobody(
            scratch,
            "ingest",
            "--json",
            str(good_file),
            str(tree),
            str(noexec_walked),
            *(str(path) for path, _, _ in named.values()),
        )
    finally:
        sock.close()
    rows = _rows(result)
    assert result.returncode == 1, result.stdout + result.stderr
    for case, (path, code, reason) in named.items():
        row = rows.get(str(path))
        assert row is not None, f"{case}: no row for {path} in {list(rows)}"
        assert row["status"] == "failed", case
        assert row["error"]["code"] == code, (case, row["error"])
        assert reason in row["error"]["message"], (case, row["error"])
    walked = {
        tree / "secret": f"permission denied: cannot list folder {tree}/secret",
        tree / "pipe.pdf": "is a FIFO (named pipe)",
        noexec_walked / "w.pdf": f"permission denied: cannot reach {noexec_walked}/w.pdf",
    }
    for path, reason in walked.items():
        assert reason in rows[str(path)]["error"]["message"], rows[str(path)]
    for ok_file in (good_file, tree / "ok.pdf"):
        assert rows[str(ok_file)]["status"] == "ok", rows[str(ok_file)]
    assert len(rows) == len(named) + len(walked) + 2
    assert _search_hit(scratch / "data", phrase, rows[str(good_file)]["document_id"])


def test_a_store_that_cannot_be_written_stops_the_batch_clearly_and_the_next_run_recovers(
    scratch: Path, pdfs: list[tuple[bytes, str]]
) -> None:
    first = _write(scratch / "first.pdf", pdfs[0][0])
    second = _write(scratch / "second.pdf", pdfs[1][0])
    assert _cli_as_nobody(scratch, "ingest", "--json", str(first)).returncode == 0
    records = scratch / "data" / "store" / "records"
    records.chmod(0o555)  # the records cannot be written; the originals still can
    result = _cli_as_nobody(scratch, "ingest", "--json", str(second), str(first))
    # Not a fault of the file: nothing can be stored, so the batch stops with one clear line.
    assert result.returncode == 5, result.stdout + result.stderr
    assert "is read-only: cannot" in result.stderr and "Traceback" not in result.stderr
    records.chmod(0o755)
    again = _rows(_cli_as_nobody(scratch, "ingest", "--json", str(second)))
    assert again[str(second)]["status"] == "ok"
    doc_id = again[str(second)]["document_id"]
    assert (scratch / "data" / "store" / "originals" / doc_id).is_file()
    assert _search_hit(scratch / "data", pdfs[1][1], doc_id)


def test_a_damaged_record_is_made_again_from_its_original(
    tmp_path: Path, pdfs: list[tuple[bytes, str]]
) -> None:
    damaged = _write(tmp_path / "damaged.pdf", pdfs[0][0])
    fresh = _write(tmp_path / "fresh.pdf", pdfs[1][0])
    data = tmp_path / "data"
    doc_id = _rows(run_cli(data, "ingest", "--json", str(damaged)))[str(damaged)]["document_id"]
    for suffix in (".json", ".status"):
        (data / "store" / "records" / f"{doc_id}{suffix}").write_text('{"status": "do')
    result = run_cli(data, "ingest", "--json", str(damaged), str(fresh))
    rows = _rows(result)
    # The original is the source of truth: the damaged record is made again from it.
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows[str(damaged)]["status"] == "ok"
    assert "its record was damaged" in rows[str(damaged)]["notes"][0]
    assert rows[str(fresh)]["status"] == "ok"
    assert _search_hit(data, pdfs[0][1], doc_id)


def test_a_name_that_is_not_utf8_is_ingested_under_a_safe_lossless_name(
    tmp_path: Path, pdfs: list[tuple[bytes, str]]
) -> None:
    legacy = os.fsdecode(NON_UTF8)
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder / legacy, pdfs[0][0])
    _write(folder / "control\nchar.pdf", pdfs[1][0])
    _write(folder / "plain.pdf", pdfs[2][0])
    data = tmp_path / "data"
    result = run_cli(data, "ingest", "--json", str(folder))
    rows = _rows(result)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = "c\\xf4ng v\\xe3n s\\xe8 12.pdf"
    row = rows[f"{folder}/{shown}"]
    assert row["status"] == "ok" and row["source_name"] == shown
    assert row["notes"] == ["file name not valid UTF-8: kept with \\xNN escapes"]
    assert _unescaped(row["source_name"]) == NON_UTF8  # the exact bytes can be had back
    control = rows[f"{folder}/control\\x0achar.pdf"]
    assert control["status"] == "ok" and "control characters" in control["notes"][0]
    assert rows[f"{folder}/plain.pdf"]["notes"] == []
    doc_id = row["document_id"]
    hit = _search_hit(data, pdfs[0][1], doc_id)
    assert hit is not None and hit["source_name"] == shown
    markup = tmp_path / "x[" / "b].pdf"  # the path reads "x[/b].pdf": a closing tag to rich
    markup.parent.mkdir()
    _write(markup, pdfs[1][0])
    wide = {**os.environ, "SOHOA_DATA_DIR": str(data), "COLUMNS": "300"}
    table = cli_with_env(wide, "ingest", str(folder / legacy), str(markup))  # the table too
    assert table.returncode == 0 and "Traceback" not in table.stderr, table.stderr
    assert f"{folder}/{shown}" in table.stdout and "not valid UTF-8" in table.stdout
    assert str(markup) in table.stdout
    out = tmp_path / "out.pdf"
    assert run_cli(data, "export", doc_id[:12], "-o", str(out)).returncode == 0
    with pikepdf.open(out) as pdf, pdf.open_metadata() as meta:
        assert meta["dc:title"] == shown
    app = create_app(Settings(data_dir=data, workers=1))
    with TestClient(app, headers=api_headers(data)) as client:
        download = client.get(f"/documents/{doc_id}/pdf")
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    # a backslash is a path separator to some browsers: the saved name has `_` in its place
    assert "filename*=UTF-8''c_xf4ng%20v_xe3n%20s_xe8%2012.pdf" in disposition


def _loop_tree(top: Path, pdfs: list[tuple[bytes, str]]) -> Path:
    """Two links back up at each level: the paths through them multiply without end."""
    root = top / "loops"
    (root / "a" / "b").mkdir(parents=True)
    _write(root / "top.pdf", pdfs[0][0])
    _write(root / "a" / "b" / "deep.pdf", pdfs[1][0])
    (root / "a" / "up").symlink_to("..")
    (root / "a" / "b" / "up").symlink_to("../..")
    (root / "a" / "b" / "up2").symlink_to("..")
    outside = top / "outside"  # a folder linked in from elsewhere is walked (once)
    outside.mkdir()
    _write(outside / "linked.pdf", pdfs[2][0])
    (root / "a" / "elsewhere").symlink_to(outside)
    return root


@pytest.mark.parametrize("form", ["glob", "folder"])
def test_symlink_loops_end_and_each_file_is_taken_once(
    tmp_path: Path, pdfs: list[tuple[bytes, str]], form: str
) -> None:
    root = _loop_tree(tmp_path, pdfs)
    arg = f"{root}/**/*.pdf" if form == "glob" else str(root)
    result = run_cli(tmp_path / "data", "ingest", "--json", arg, timeout_s=90)
    rows = _rows(result)
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(Path(path).name for path in rows)
    assert names == ["deep.pdf", "linked.pdf", "top.pdf"], list(rows)
    assert {row["status"] for row in rows.values()} == {"ok"}


def test_a_file_named_by_several_paths_gives_a_row_for_each_and_is_done_once(
    tmp_path: Path, pdfs: list[tuple[bytes, str]]
) -> None:
    """Every path named answers; a file met again in a folder walk or through a symlink inside
    one is still taken once, and nothing is processed twice."""
    folder = tmp_path / "in"
    folder.mkdir()
    first = _write(folder / "cd1.pdf", pdfs[0][0])
    (folder / "link.pdf").symlink_to("cd1.pdf")
    data = tmp_path / "data"
    env = {**os.environ, "SOHOA_DATA_DIR": str(data)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", "--json",
         "cd1.pdf", "./cd1.pdf", str(first), ".", str(folder / "link.pdf")],
        capture_output=True, text=True, env=env, cwd=folder, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in rows] == ["cd1.pdf", "cd1.pdf", str(first), str(folder / "link.pdf")]
    assert [r["status"] for r in rows] == ["ok", "reused", "reused", "reused"]
    assert len({r["document_id"] for r in rows}) == 1
    assert rows[0]["notes"] == []
    assert all(r["notes"] == ["same file as cd1.pdf: taken once"] for r in rows[1:])
    history = [h["status"] for h in rows[-1]["history"]]
    assert history == ["received", "processing", "done"]  # processed once
    table = run_cli(data, "ingest", str(first), str(first))  # the table says it too
    assert table.returncode == 0 and "2 file(s): 2 reused" in table.stdout
    assert "same file as" in " ".join(table.stdout.split())


@pytest.mark.parametrize("invisible", ["\u202e", "\u200b", "\u2066", "\u2069", "\ufeff", "\u2028"])
def test_bidi_and_invisible_characters_in_a_name_are_escaped_and_flagged(
    tmp_path: Path, pdfs: list[tuple[bytes, str]], invisible: str
) -> None:
    """`hoadon<U+202E>fdp.exe` shows as `hoadonexe.pdf`: such names are shown escaped."""
    name = f"hoadon{invisible}fdp.exe"
    path = _write(tmp_path / name, pdfs[0][0])
    data = tmp_path / "data"
    result = run_cli(data, "ingest", "--json", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = _rows(result).values()
    escaped = "".join(f"\\x{b:02x}" for b in invisible.encode())
    assert row["source_name"] == f"hoadon{escaped}fdp.exe"
    assert row["path"] == f"{tmp_path}/hoadon{escaped}fdp.exe"
    assert _unescaped(row["source_name"]) == name.encode()  # lossless, as for control chars
    assert row["notes"] == [
        "file name has invisible characters (bidi controls, zero-width or line separators): "
        "kept with \\xNN escapes"
    ]
    shown = run_cli(data, "show", row["document_id"][:12]).stdout
    table = cli_with_env({**os.environ, "SOHOA_DATA_DIR": str(data), "COLUMNS": "300"},
                         "ingest", str(path))  # fmt: skip
    for text in (result.stdout, shown, table.stdout):
        assert invisible not in text
    assert "invisible characters" in table.stdout


def _failing_scan(folder: Path) -> Path:
    """A one-page scan: OCR is its only way to text, so without tesseract its page fails."""
    (doc,) = make_documents(1, seed=91, pages=1)
    (scan,) = scan_pages([doc], "clean", 91)
    path = folder / "scan.png"
    scan.image.save(path)
    return path


def _ingest_in_process(tmp_path: Path, scan: Path, verbose: bool) -> str:
    """`sohoa ingest` of a failing scan, workers in process; its stderr."""
    env = {
        **os.environ,
        **without_tesseract(tmp_path),
        "SOHOA_DATA_DIR": str(tmp_path / f"data-{verbose}"),
    }
    result = cli_with_env(env, *(["--verbose"] if verbose else []), "ingest", "--json", str(scan))
    assert result.returncode == 1, result.stdout + result.stderr
    (row,) = (json.loads(line) for line in result.stdout.splitlines())
    assert NO_TESSERACT.search(row["error"]["message"]), row["error"]
    return result.stderr


def test_a_failed_page_is_one_line_on_stderr_and_its_traceback_only_with_verbose(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    """In `sohoa ingest` and in the Dramatiq processes of `sohoa worker` alike: the row says
    why, stderr has one line per problem, and --verbose adds the traceback."""
    scan = _failing_scan(tmp_path)
    lines = _ingest_in_process(tmp_path, scan, verbose=False).splitlines()
    assert [line.split(" ", 3)[2:3] for line in lines] == [["WARNING"]] * 2, lines
    assert "page 1 of" in lines[0] and NO_TESSERACT.search(lines[0]), lines
    loud = _ingest_in_process(tmp_path, scan, verbose=True)
    assert "Traceback" in loud and "ToolMissing" in loud

    run_id = uuid.uuid4().hex[:10]
    broker = servers["SOHOA_BROKER"].rsplit("/", 1)[0] + "/11"
    redis.Redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_STORAGE": servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + f"/logs-{run_id}",
        "SOHOA_SEARCH": servers["SOHOA_SEARCH"],
        "SOHOA_SEARCH_INDEX": f"logs-{run_id}",
        "SOHOA_BROKER": broker,
        "SOHOA_WORKERS": "1",
    }
    log = tmp_path / "worker.log"
    with worker_process({**env, **without_tesseract(tmp_path)}, log):
        result = cli_with_env(env, "ingest", "--json", str(scan), timeout_s=300)
    assert result.returncode == 1, result.stdout + result.stderr
    (row,) = (json.loads(line) for line in result.stdout.splitlines())
    assert NO_TESSERACT.search(row["error"]["message"]), row["error"]
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    failed = [line for line in text.splitlines() if "page 1 of" in line]
    assert len(failed) == 1 and NO_TESSERACT.search(failed[0]), text[-3000:]
