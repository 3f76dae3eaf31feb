"""The probable-duplicate review attacked (issue 20), on born-digital PDFs (read from their text
layer, no OCR: fast): a merged part stays merged when its scan is cut again, the review lists
say how many pairs wait, and a user of another organ, a careless archivist or a stale pair
cannot get past the use cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from tests.conftest import TEST_ORGAN, api_headers, run_cli, search_hits
from tests.test_review_edit import OTHER_ORGAN, headers_of, upload_and_wait
from tests.test_web import log_in


def shown(data: Path, doc_id: str) -> dict:
    result = run_cli(data, "show", doc_id, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ingested(data: Path, path: Path) -> str:
    result = run_cli(data, "ingest", str(path), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[0])["document_id"]


@pytest.mark.slow  # eleven `sohoa` processes (~80 s on the shared machine)
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


@pytest.fixture(scope="module")
def two_organs(tmp_path_factory: pytest.TempPathFactory):
    """One paper uploaded by an archivist of each of two organs (other bytes): a pair only the
    admin sees at first."""
    tmp = tmp_path_factory.mktemp("dup-organs")
    paper = make_documents(1, seed=5, pages=1)[0].pages
    settings = Settings(data_dir=tmp / "data", workers=1)
    with TestClient(create_app(settings)) as client:
        ours = headers_of(settings, "ours", "archivist", TEST_ORGAN)
        theirs = headers_of(settings, "theirs", "archivist", OTHER_ORGAN)
        ids = {
            "ours": upload_and_wait(
                client, write_pdf_digital(tmp / "a.pdf", paper, title="a"), ours
            ),
            "theirs": upload_and_wait(
                client, write_pdf_digital(tmp / "b.pdf", paper, title="b"), theirs
            ),
        }
        admin = api_headers(settings, "admin")
        code = client.get(f"/documents/{ids['ours']}", headers=admin).json()["metadata"]
        yield {
            "client": client,
            "settings": settings,
            "ids": ids,
            "ours": ours,
            "theirs": theirs,
            "admin": admin,
            "code": str(code["code_number"]["value"]),
        }


def _merge(site: dict, who: str, keep: str, other: str):  # noqa: ANN202
    body = {"keep": site["ids"][keep], "other": site["ids"][other]}
    return site["client"].post("/review/duplicates/merge", json=body, headers=site[who])


def _found(site: dict, who: str, query: str) -> set[str]:
    answer = site["client"].get("/search", params={"q": query}, headers=site[who])
    assert answer.status_code == 200, answer.text
    return {hit["document_id"] for hit in answer.json()["hits"]}


def test_a_merge_never_hides_a_paper_from_an_organ_or_names_a_record_it_cannot_see(
    two_organs: dict,
) -> None:
    site, client, ids = two_organs, two_organs["client"], two_organs["ids"]
    pairs = client.get("/review/duplicates", headers=site["admin"]).json()["pairs"]
    assert [{p["new"], p["existing"]} for p in pairs] == [set(ids.values())]
    # each organ sees only its own record: keeping either would take the paper out of the
    # other's search with nothing it can see in its place
    for keep, other in (("ours", "theirs"), ("theirs", "ours")):
        refused = _merge(site, "admin", keep, other)
        assert refused.status_code == 409 and refused.json()["error"] == "merge_hides"
    assert _found(site, "theirs", site["code"]) == {ids["theirs"]}
    # shared: the other organ sees both, but manages only its own, so decides nothing
    shared = client.post(
        f"/documents/{ids['ours']}/shares", json={"organ": OTHER_ORGAN}, headers=site["ours"]
    )
    assert shared.status_code == 201, shared.text
    assert len(client.get("/review/duplicates", headers=site["theirs"]).json()["pairs"]) == 1
    for keep, other in (("ours", "theirs"), ("theirs", "ours")):
        assert _merge(site, "theirs", keep, other).status_code == 403
    merged = _merge(site, "admin", "ours", "theirs")
    assert merged.status_code == 200, merged.text
    assert _found(site, "theirs", site["code"]) == {ids["ours"]}
    # the share taken back: their rescan no longer names the record they cannot see
    client.delete(f"/documents/{ids['ours']}/shares/{OTHER_ORGAN}", headers=site["ours"])
    shown = client.get(f"/documents/{ids['theirs']}", headers=site["theirs"])
    assert shown.status_code == 200 and shown.json()["rescan_of"] is None
    assert ids["ours"][:12] not in shown.text
    assert (
        client.get(f"/documents/{ids['theirs']}", headers=site["admin"]).json()["rescan_of"]
        == ids["ours"]
    )
    # the other way round afterwards is refused: no cycle
    assert _merge(site, "admin", "theirs", "ours").status_code == 409


def test_a_merged_rescan_stays_out_of_search_when_it_is_corrected(two_organs: dict) -> None:
    site, client, ids = two_organs, two_organs["client"], two_organs["ids"]
    doc = client.get(f"/documents/{ids['theirs']}", headers=site["admin"]).json()
    assert doc["rescan_of"] == ids["ours"], "needs the merge of the test above"
    subject = "Về việc kiểm kê bản quét lại plugh"
    edit = {"field": "subject", "value": subject}
    answer = client.patch(f"/documents/{ids['theirs']}/metadata", json=edit, headers=site["admin"])
    assert answer.status_code == 200, answer.text
    assert _found(site, "admin", "plugh") == set()
    assert _found(site, "admin", site["code"]) == {ids["ours"]}


def test_the_web_forms_need_the_sessions_csrf_token(two_organs: dict) -> None:
    site, ids = two_organs, two_organs["ids"]
    browser = TestClient(site["client"].app, headers={"Accept": "text/html"})
    token = log_in(browser, "test-admin")  # sees and manages both
    form = {"a": ids["ours"], "b": ids["theirs"], "action": "dismiss"}
    forged = browser.post("/review/pairs", data=form, follow_redirects=False)
    assert forged.status_code == 403
    decided = browser.post("/review/pairs", data={**form, "csrf_token": token})
    assert decided.status_code == 409  # let through, and the pair was merged already


def test_a_record_merged_twice_over_points_to_the_last_kept_one(tmp_path: Path) -> None:
    """A merged into B, then B into C: A is C's rescan too (no chain); keeping A after that is
    refused (no cycle), and the search shows C alone."""
    paper = make_documents(1, seed=7, pages=1)[0].pages
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    with TestClient(create_app(settings)) as client:
        ours = headers_of(settings, "ours", "archivist", TEST_ORGAN)
        a, b, c = (
            upload_and_wait(client, write_pdf_digital(tmp_path / f"{n}.pdf", paper, title=n), ours)
            for n in "abc"
        )

        def merge(keep: str, other: str):  # noqa: ANN202
            body = {"keep": keep, "other": other}
            return client.post("/review/duplicates/merge", json=body, headers=ours)

        def rescan_of(doc_id: str) -> str | None:
            return client.get(f"/documents/{doc_id}", headers=ours).json()["rescan_of"]

        pairs = client.get("/review/duplicates", headers=ours).json()["pairs"]
        assert len(pairs) == 3, pairs  # each of the three is a rescan of the others
        for keep, other in ((b, a), (c, b)):
            answer = merge(keep, other)
            assert answer.status_code == 200, answer.text
        assert (rescan_of(a), rescan_of(b), rescan_of(c)) == (c, c, None)
        history = client.get(f"/documents/{a}", headers=ours).json()["history"]
        assert "merged into another: follows it" in history[-1]["note"]
        refused = merge(a, c)
        assert refused.status_code == 409 and refused.json()["error"] == "not_ready"
        assert rescan_of(c) is None
        assert client.get("/review/duplicates", headers=ours).json()["total"] == 0
        code = client.get(f"/documents/{c}", headers=ours).json()["metadata"]["code_number"]
        hits = client.get("/search", params={"q": str(code["value"])}, headers=ours).json()
        assert [h["document_id"] for h in hits["hits"]] == [c]


def test_a_refused_merge_does_not_name_who_sees_a_record_the_caller_may_not_see() -> None:
    """Keeping A would hide C, merged earlier into the rescan, from the organ that sees C: the
    refusal says so without naming that organ (the caller may see neither C nor who holds it)."""
    from types import SimpleNamespace

    from schemas.access import Visibility
    from workers.duplicates import MergeHides, _refuse_hiding_earlier

    kept = SimpleNamespace(id="a" * 64, visibility=Visibility(owner="000.00.00.H01"))
    rescan = SimpleNamespace(id="b" * 64, visibility=Visibility(owner="000.00.00.H01"))
    earlier = SimpleNamespace(
        id="c" * 64, visibility=Visibility(owner="000.00.00.H01", organs=frozenset({"SECRET.01"}))
    )
    with pytest.raises(MergeHides) as refused:
        _refuse_hiding_earlier(kept, rescan, earlier)  # type: ignore[arg-type]
    assert "SECRET.01" not in str(refused.value) and "c" * 12 not in str(refused.value)
    assert "would hide a record merged earlier" in str(refused.value)
