"""No page is lost in silence: every page of every document succeeds, or the document says
which pages failed and why (`partial` / `failed`, exit 1), and the same ingest retries exactly
those pages."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pikepdf
import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image

from app.api import create_app
from app.config import Settings
from corpus import make_documents, write_pdf_digital, write_pdf_scanned
from corpus.bad_inputs import write_png_bomb
from corpus.batch import scan_pages
from pipeline.detect import PDF
from pipeline.load import PageInfo, load_scanned_page, plan_pages
from schemas.errors import ImageTooLarge
from tests.conftest import (
    NO_TESSERACT,
    ROOT,
    api_headers,
    cli_with_env,
    run_cli,
    search_hits,
    without_tesseract,
    worker_process,
)

A4_PT = (595, 842)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def blank_pdf(path: Path, pages: int, title: str) -> Path:
    with pikepdf.new() as pdf:
        for _ in range(pages):
            pdf.add_blank_page(page_size=A4_PT)
        pdf.docinfo["/Title"] = title  # two files, two hashes
        pdf.save(path)
    return path


@pytest.mark.slow  # ~33 s
def test_several_workers_reading_two_pdfs_at_once_lose_no_page(tmp_path: Path) -> None:
    """PDFium is not thread-safe: two worker threads inside it at once failed pages at random
    ('PDF is damaged: Data format error'), and the documents were still reported ok."""
    files = [blank_pdf(tmp_path / f"blank-{n}.pdf", 150, f"blank {n}") for n in (1, 2)]
    result = run_cli(tmp_path / "data", "--workers", "4", "ingest", *map(str, files), "--json")
    rows = json_lines(result.stdout)
    assert [r["status"] for r in rows] == ["ok", "ok"], result.stdout[-2000:]
    for row in rows:
        failed = [(p["page_no"], p["reason"]) for p in row["pages"] if p["status"] == "failed"]
        assert failed == []
        assert row["page_count"] == len(row["pages"]) == 150
        assert {p["reason"] for p in row["pages"]} == {"blank page"}
    assert result.returncode == 0, result.stderr[-2000:]


def _read_at_once(files: list[Path]) -> list[str]:
    """One planner and six page readers on two files at once; returns what went wrong."""
    errors: list[str] = []

    def plan(rounds: int) -> None:
        for n in range(rounds):
            try:
                assert len(plan_pages(files[n % 2], PDF)) == 150
            except Exception as e:  # noqa: BLE001 - every failure is reported
                errors.append(f"plan: {e!r}")

    def load(k: int) -> None:
        for n in range(1, 151):
            try:
                page = load_scanned_page(files[k % 2], PDF, PageInfo(n, False, 72))
                assert page.image.size == (595, 842)
            except Exception as e:  # noqa: BLE001
                errors.append(f"page {n}: {e!r}")

    threads = [threading.Thread(target=plan, args=(8,))]
    threads += [threading.Thread(target=load, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_pdf_pages_read_from_several_threads_at_once_all_load(tmp_path: Path) -> None:
    """The readers the workers call, from several threads at once: every page loads. Small
    renders keep the threads inside PDFium most of the time; unguarded, PDFium failed pages
    ('Failed to load page', 'Data format error') in about 3 rounds of 4, so 5 rounds are run."""
    files = [blank_pdf(tmp_path / f"blank-{n}.pdf", 150, f"blank {n}") for n in (1, 2)]
    for _ in range(5):
        assert _read_at_once(files) == []


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One 4-page document: pages 1-2 born-digital (text layer), pages 3-4 scanned; and a PNG
    scan of page 3 cut in half."""
    folder = tmp_path_factory.mktemp("mixed")
    (doc,) = make_documents(1, seed=5, pages=4)
    digital = write_pdf_digital(folder / "digital.pdf", doc.pages[:2])
    images = [scan.image for scan in scan_pages([doc], "clean", 5)][2:]
    scanned = write_pdf_scanned(folder / "scanned.pdf", images, lossless=True)
    mixed = folder / "mixed.pdf"
    with pikepdf.new() as pdf, pikepdf.open(digital) as a, pikepdf.open(scanned) as b:
        pdf.pages.extend(a.pages)
        pdf.pages.extend(b.pages)
        pdf.save(mixed)
    png = io.BytesIO()
    images[0].save(png, format="PNG")
    truncated = folder / "truncated.png"
    truncated.write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    return mixed, truncated


def _without_tesseract(data: Path, tmp_path: Path) -> dict[str, str]:
    """The CLI's environment with no Tesseract: OCR fails, text layers do not."""
    return {**os.environ, "SOHOA_DATA_DIR": str(data), **without_tesseract(tmp_path)}


def _page_files(data: Path, doc_id: str) -> dict[str, tuple[bytes, int]]:
    folder = data / "store" / "derived" / doc_id / "pages"
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_failed_pages_make_a_partial_document_that_the_same_ingest_completes(
    mixed: tuple[Path, Path], tmp_path: Path
) -> None:
    path, _ = mixed
    data = tmp_path / "data"
    first = cli_with_env(_without_tesseract(data, tmp_path), "ingest", str(path), "--json")
    assert first.returncode == 1, first.stdout[-2000:]
    (row,) = json_lines(first.stdout)
    assert row["status"] == row["document_status"] == "partial"
    assert [p["page_no"] for p in row["failed_pages"]] == [3, 4]
    assert all(NO_TESSERACT.search(p["reason"]) for p in row["failed_pages"]), row["failed_pages"]
    assert "pages 3-4" in row["error"]["message"]
    assert [p["status"] for p in row["pages"]] == ["done", "done", "failed", "failed"]
    assert "Traceback" not in first.stderr
    doc_id = row["document_id"]

    # Indexed for its good pages, and marked: status and failed pages, and a filter finds it.
    (hit,) = search_hits(run_cli(data, "search", "ngay thang nam", "--json"))
    assert (hit["document_id"], hit["status"], hit["failed_pages"]) == (doc_id, "partial", [3, 4])
    listed = search_hits(run_cli(data, "search", "", "-f", "status=partial", "--json"))
    assert [h["document_id"] for h in listed] == [doc_id]
    assert "partial: page(s) 3-4 failed" in run_cli(data, "search", "ngay thang nam").stdout
    shown = run_cli(data, "show", doc_id[:12]).stdout
    assert re.search(f"failed pages 3-4: ({NO_TESSERACT.pattern})", " ".join(shown.split()))
    assert "partial: 1" in run_cli(data, "status").stdout
    app = create_app(Settings(data_dir=data, workers=1))
    with TestClient(app, headers=api_headers(data)) as api:
        found = api.get("/search", params={"filter": "status=partial"}).json()
        assert [(h["document_id"], h["failed_pages"]) for h in found["hits"]] == [(doc_id, [3, 4])]
        record = api.get(f"/documents/{doc_id}").json()
        assert [p["page_no"] for p in record["failed_pages"]] == [3, 4]
        pdf = api.get(f"/documents/{doc_id}/pdf")  # the good pages' text, every page in place
        assert pdf.status_code == 200
        assert len(pikepdf.open(io.BytesIO(pdf.content)).pages) == 4
    good_pages = {
        name: v for name, v in _page_files(data, doc_id).items() if name[:4] in ("0001", "0002")
    }

    # Tesseract back: the same command redoes pages 3-4 only.
    second = run_cli(data, "ingest", str(path))
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert " ok " in second.stdout
    after = _page_files(data, doc_id)
    assert {name: after[name] for name in good_pages} == good_pages  # same bytes, same mtime
    assert {"0003.pdf", "0004.pdf"} <= set(after)
    record = json.loads(run_cli(data, "show", doc_id, "--json").stdout)
    assert record["status"] == "done" and record["failed_pages"] == []
    assert all(p["status"] == "done" and p["text"].strip() for p in record["pages"])
    history = [(h["status"], h["note"]) for h in record["history"]]
    assert [s for s, _ in history] == [
        "received", "processing", "partial", "received", "processing", "done"
    ]  # fmt: skip
    assert "retrying failed pages 3-4" in history[4][1]
    (hit,) = search_hits(run_cli(data, "search", "ngay thang nam", "--json"))
    assert (hit["status"], hit["failed_pages"]) == ("done", [])
    assert search_hits(run_cli(data, "search", "", "-f", "status=partial", "--json")) == []

    third = run_cli(data, "ingest", str(path), "--json")
    assert third.returncode == 0
    assert [r["status"] for r in json_lines(third.stdout)] == ["reused"]


def test_a_truncated_png_fails_with_its_reason_and_is_never_ok(
    mixed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, truncated = mixed
    data = tmp_path / "data"
    for _ in range(2):  # and ingesting it again tries again, and says the same
        result = run_cli(data, "ingest", str(truncated), "--json")
        assert result.returncode == 1
        (row,) = json_lines(result.stdout)
        assert (row["status"], row["document_status"]) == ("failed", "failed")
        assert row["error"]["code"] == "pages_failed"
        message = row["error"]["message"]
        assert "page 1: page image cannot be read: image file is truncated" in message
        assert row["failed_pages"][0]["page_no"] == 1
        assert "Traceback" not in result.stderr
    assert "indexed: 0" in run_cli(data, "status").stdout


def test_dramatiq_workers_leave_a_partial_document_that_the_same_ingest_completes(
    mixed: tuple[Path, Path], servers: dict[str, str], tmp_path: Path
) -> None:
    """The same on the production backends, the pages OCRed by `sohoa worker` processes on
    the Redis broker: first by workers that cannot run Tesseract, then by workers that can."""
    path, _ = mixed
    run_id = uuid.uuid4().hex[:10]
    broker = servers["SOHOA_BROKER"].rsplit("/", 1)[0] + "/8"
    redis.Redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_STORAGE": servers["SOHOA_STORAGE"].rsplit("/", 1)[0] + f"/pages-{run_id}",
        "SOHOA_SEARCH": servers["SOHOA_SEARCH"],
        "SOHOA_SEARCH_INDEX": f"pages-{run_id}",
        "SOHOA_BROKER": broker,
        "SOHOA_WORKERS": "2",
    }
    blind = {**env, **without_tesseract(tmp_path)}
    with worker_process(blind, tmp_path / "blind-worker.log"):
        first = cli_with_env(env, "ingest", str(path), "--json")
    assert first.returncode == 1, first.stdout[-2000:] + first.stderr[-2000:]
    (row,) = json_lines(first.stdout)
    assert row["status"] == "partial"
    assert [p["page_no"] for p in row["failed_pages"]] == [3, 4]
    (hit,) = search_hits(cli_with_env(env, "search", "", "-f", "status=partial", "--json"))
    assert (hit["document_id"], hit["failed_pages"]) == (row["document_id"], [3, 4])

    with worker_process(env, tmp_path / "worker.log"):
        second = cli_with_env(env, "ingest", str(path), "--json")
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    (row,) = json_lines(second.stdout)
    assert (row["status"], row["failed_pages"]) == ("ok", [])
    assert [p["source"] for p in row["pages"]] == ["text_layer"] * 2 + ["ocr"] * 2
    assert all(p["status"] == "done" and p["text"].strip() for p in row["pages"])
    history = [h["status"] for h in row["history"]]
    assert history == ["received", "processing", "partial", "received", "processing", "done"]
    (hit,) = search_hits(cli_with_env(env, "search", "ngay thang nam", "--json"))
    assert (hit["status"], hit["failed_pages"]) == ("done", [])
    third = cli_with_env(env, "ingest", str(path), "--json")
    assert [r["status"] for r in json_lines(third.stdout)] == ["reused"]


@pytest.mark.slow  # ~18 s
def test_a_retry_killed_halfway_finishes_on_the_next_run_without_duplicates(
    mixed: tuple[Path, Path], tmp_path: Path
) -> None:
    path, _ = mixed
    data = tmp_path / "data"
    first = cli_with_env(_without_tesseract(data, tmp_path), "ingest", str(path), "--json")
    (row,) = json_lines(first.stdout)
    assert row["status"] == "partial"
    doc_id = row["document_id"]
    pages = data / "store" / "derived" / doc_id / "pages"
    good = _page_files(data, doc_id)
    good = {name: v for name, v in good.items() if name[:4] in ("0001", "0002")}

    # The retry is killed once it has discarded a failed page's result, before it finishes.
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(path), "--json"],
        env={**os.environ, "SOHOA_DATA_DIR": str(data)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while (pages / "0003.json").exists() and (pages / "0004.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the retry should be killed"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert json.loads(run_cli(data, "show", doc_id, "--json").stdout)["status"] != "done"

    again = run_cli(data, "ingest", str(path), "--json")
    assert again.returncode == 0, again.stdout[-2000:]
    (row,) = json_lines(again.stdout)
    assert (row["status"], row["failed_pages"]) == ("ok", [])
    assert all(p["status"] == "done" and p["text"].strip() for p in row["pages"])
    assert [h["status"] for h in row["history"]].count("done") == 1
    after = _page_files(data, doc_id)
    assert {name: after[name] for name in good} == good
    hits = search_hits(run_cli(data, "search", "ngay thang nam", "--json"))
    assert [(h["document_id"], h["status"]) for h in hits] == [(doc_id, "done")]


def test_a_tiff_with_a_truncated_page_is_partial_and_its_pdf_keeps_the_page_numbers(
    tmp_path: Path,
) -> None:
    first, second = Image.new("L", (800, 1000), 255), Image.new("L", (800, 1000), 200)
    tiff = io.BytesIO()
    first.save(tiff, format="TIFF", save_all=True, append_images=[second], dpi=(300, 300))
    path = tmp_path / "two-pages.tif"
    path.write_bytes(tiff.getvalue()[:-1000])  # the second page's pixels end early
    data = tmp_path / "data"
    result = run_cli(data, "ingest", str(path), "--json")
    assert result.returncode == 1
    (row,) = json_lines(result.stdout)
    assert row["status"] == "partial"
    assert [p["status"] for p in row["pages"]] == ["skipped", "failed"]  # blank, then damaged
    assert "image file is truncated" in row["failed_pages"][0]["reason"]
    out = tmp_path / "out.pdf"
    assert run_cli(data, "export", row["document_id"], "-o", str(out)).returncode == 0
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2  # a blank page stands in for page 2: page 2 is still page 2


def test_an_image_past_the_bomb_threshold_is_refused_whichever_threads_open_images(
    tmp_path: Path,
) -> None:
    """Pillow's bomb check is a warning made an error inside warnings.catch_warnings(), which
    is process-wide: unguarded, threads restored each other's filters and the same image was
    now refused, now read (about 2 opens in 6,000 per round; up to 5 rounds are run)."""
    # 144 Mpx: past the pixel limit (140 Mpx), inside the band where Pillow only warns
    bomb = write_png_bomb(tmp_path / "144-megapixels.png", 12_000, 12_000)
    read: list[int] = []

    def open_many() -> None:
        for _ in range(1500):
            try:
                plan_pages(bomb, "image/png")
                read.append(1)
            except ImageTooLarge:
                pass

    for _ in range(5):
        threads = [threading.Thread(target=open_many) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert read == []
