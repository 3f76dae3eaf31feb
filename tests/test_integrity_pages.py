"""No page is lost in silence: every page of every document succeeds, or the document says
which pages failed and why (`partial` / `failed`, exit 1), and the same ingest retries exactly
those pages."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pikepdf

from pipeline.detect import PDF
from pipeline.load import PageInfo, load_scanned_page, plan_pages
from tests.conftest import run_cli

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


def test_two_workers_reading_two_pdfs_at_once_lose_no_page(tmp_path: Path) -> None:
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
