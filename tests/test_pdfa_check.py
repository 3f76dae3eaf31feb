"""`sohoa pdfa check`: the operator's veraPDF validation of searchable PDFs, kept per document
and exported as a PREMIS `validation` event (docs/preservation.md). veraPDF is installed and
run by scripts/verapdf.sh (an external program, never linked)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lxml import etree

from corpus import make_documents, write_pdf_digital
from tests.conftest import TEST_ORGAN, cli_with_env
from tests.test_archive import PREMIS, assert_valid_against_published_schemas


def sohoa(data: Path, *args: str):
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_ORGAN": TEST_ORGAN}
    return cli_with_env(env, *args)


def _events(premis_file: Path) -> list[dict]:
    root = etree.parse(str(premis_file)).getroot()
    found = []
    for event in root.iter(f"{PREMIS}event"):
        found.append(
            {
                "type": event.findtext(f"{PREMIS}eventType"),
                "detail": event.findtext(f".//{PREMIS}eventDetail") or "",
                "outcome": event.findtext(f".//{PREMIS}eventOutcome"),
                "note": event.findtext(f".//{PREMIS}eventOutcomeDetailNote") or "",
                "agents": [
                    a.findtext(f"{PREMIS}linkingAgentIdentifierValue")
                    for a in event.iter(f"{PREMIS}linkingAgentIdentifier")
                ],
            }  # fmt: skip
        )
    agents = {
        a.findtext(f".//{PREMIS}agentIdentifierValue"): a.findtext(f"{PREMIS}agentVersion")
        for a in root.iter(f"{PREMIS}agent")
    }
    return found, agents


def test_checked_documents_carry_verapdf_validation_events_in_their_packages(tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    docs = make_documents(2, seed=31, pages=1)
    paths = [str(write_pdf_digital(folder / f"p{i}.pdf", d.pages)) for i, d in enumerate(docs)]
    data = tmp_path / "data"
    ingested = sohoa(data, "ingest", *paths, "--json", "--no-progress")
    assert ingested.returncode == 0, ingested.stderr
    ids = [json.loads(x)["document_id"] for x in ingested.stdout.splitlines() if x.strip()]

    clean = sohoa(data, "pdfa", "check", "--all")
    assert clean.returncode == 0, clean.stderr
    for doc_id in ids:
        assert f"PASS {doc_id}  (PDF/A-2b, veraPDF " in clean.stdout
    assert "checked 2 document(s): 2 pass, 0 not" in clean.stdout

    # the searchable PDF of one replaced by a plain PDF (its original): not PDF/A
    store = data / "store"
    bad = store / "derived" / ids[1] / "searchable.pdf"
    bad.write_bytes((store / "originals" / ids[1]).read_bytes())
    checked = sohoa(data, "pdfa", "check", ids[1], "--json")
    assert checked.returncode == 1
    [row] = [json.loads(x) for x in checked.stdout.splitlines() if x.strip()]
    assert row["outcome"] == "fail" and row["profile"] == "PDF/A-2b"
    assert row["tool"] == "veraPDF" and row["version"][0].isdigit()
    assert row["failed_rules"] and all(r[0].isdigit() for r in row["failed_rules"])

    out = tmp_path / "bags"
    exported = sohoa(data, "archive", "export", "--all", "-o", str(out), "--no-progress")
    assert exported.returncode == 0, exported.stderr
    assert assert_valid_against_published_schemas(out) == 2 + 2
    outcomes = {}
    for doc_id in ids:
        premis_file = out / f"document-{doc_id[:16]}" / "data" / "metadata" / "preservation"
        events, agents = _events(premis_file / f"{doc_id}.premis.xml")
        [vera] = [e for e in events if "veraPDF" in e["detail"]]
        assert vera["type"] == "validation" and vera["agents"] == ["agent/verapdf"]
        assert agents["agent/verapdf"] == row["version"]
        outcomes[doc_id] = (vera["outcome"], vera["note"])
    assert outcomes[ids[0]] == ("pass", "PDF/A-2b")
    assert outcomes[ids[1]][0] == "fail"
    assert row["failed_rules"][0] in outcomes[ids[1]][1]
