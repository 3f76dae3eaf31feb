"""The probable-duplicate review attacked (issue 20), on born-digital PDFs (read from their text
layer, no OCR: fast): a merged part stays merged when its scan is cut again, the review lists
say how many pairs wait, and a user of another organ, a careless archivist or a stale pair
cannot get past the use cases."""

from __future__ import annotations

import json
from pathlib import Path

from corpus import make_documents, write_pdf_digital
from tests.conftest import run_cli, search_hits


def shown(data: Path, doc_id: str) -> dict:
    result = run_cli(data, "show", doc_id, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ingested(data: Path, path: Path) -> str:
    result = run_cli(data, "ingest", str(path), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[0])["document_id"]


def test_a_part_merged_as_a_rescan_stays_merged_when_its_scan_is_cut_again(
    tmp_path: Path,
) -> None:
    docs = make_documents(2, seed=11, pages=1)
    data = tmp_path / "data"
    single = ingested(data, write_pdf_digital(tmp_path / "one.pdf", [docs[1].pages[0]]))
    scan = ingested(data, write_pdf_digital(tmp_path / "two.pdf", [d.pages[0] for d in docs]))
    part = shown(data, scan)["parts"][1]
    listed = run_cli(data, "review", "duplicates", "--json")
    pairs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [{p["new"], p["existing"]} for p in pairs] == [{part, single}], listed.stdout
    queue = run_cli(data, "review")  # the default list says the pair waits, and how to see it
    assert "1 probable duplicate pair(s) wait too: sohoa review duplicates" in queue.stdout
    merged = run_cli(data, "review", "merge", single[:12], part[:12])
    assert merged.returncode == 0, merged.stderr
    words = str(shown(data, single)["metadata"]["code_number"]["value"])
    hits = search_hits(run_cli(data, "search", words, "--json"))
    assert [h["document_id"] for h in hits] == [single]
    assert "probable duplicate" not in run_cli(data, "review").stdout
    # the scan is cut again (its metadata read again): the part stays a rescan, out of search
    assert run_cli(data, "reindex", "--metadata").returncode == 0
    record = shown(data, part)
    assert record["rescan_of"] == single
    assert any("merged as a rescan" in h["note"] and h["editor"] for h in record["history"])
    hits = search_hits(run_cli(data, "search", words, "--json"))
    assert [h["document_id"] for h in hits] == [single]
