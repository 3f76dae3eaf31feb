"""Rescans of the same paper caught as probable duplicates (issue 20), through the API and the
CLI as a user sees them: the rescan lands in the review queue with its evidence, a document of
the same template does not, the same DocumentId links, merge leaves one in the search with
both originals retrievable, dismiss is remembered, and another organ learns nothing."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from corpus.content import seed_paragraphs
from corpus.degrade import degrade, jpeg_round_trip
from corpus.nd30 import SyntheticDocument, layout_document, make_document, render_page
from tests.conftest import api_headers, run_cli
from tests.test_review_edit import OTHER_ORGAN, headers_of, upload_and_wait

pytestmark = pytest.mark.slow  # six one-page documents OCRed (~1 min on a quiet machine)


def _other_body(doc: SyntheticDocument, rng: random.Random) -> tuple[str, ...]:
    paragraphs = seed_paragraphs()
    start = rng.randrange(len(paragraphs))
    return tuple(paragraphs[(start + i) % len(paragraphs)] for i in range(30))


def _laid_out(spec) -> SyntheticDocument:  # noqa: ANN001
    return SyntheticDocument(spec, tuple(layout_document(spec, 1)))


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One paper scanned, rescanned two other ways; a sibling of its template (another body
    and number); a paper with another body carrying the same number and date."""
    folder = tmp_path_factory.mktemp("dup-scans")
    rng = random.Random("test-duplicates")
    doc = make_document(rng, pages=1)
    clean = render_page(doc.pages[0])
    sibling = _laid_out(replace(doc.spec, body=_other_body(doc, rng), code_number="2417"))
    same_id = _laid_out(replace(doc.spec, body=_other_body(doc, rng)))
    images = {
        "original.png": degrade(clean, "light", 1).image,
        "rescan.jpg": jpeg_round_trip(degrade(clean, "heavy", 2).image, 40),
        "rescan2.png": degrade(clean, "light", 3).image,
        "sibling.png": degrade(render_page(sibling.pages[0]), "light", 4).image,
        "same_id.png": render_page(same_id.pages[0]),
    }
    for name, image in images.items():
        image.save(folder / name, dpi=(300, 300))
    return {name: folder / name for name in images}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, scans: dict[str, Path]):
    settings = Settings(data_dir=tmp_path_factory.mktemp("dup-data"), workers=2)
    with TestClient(create_app(settings)) as client:
        archivist = api_headers(settings, "archivist")
        ids = {
            name: upload_and_wait(client, scans[name], archivist)
            for name in ("original.png", "rescan.jpg", "sibling.png", "same_id.png")
        }
        yield {
            "client": client,
            "settings": settings,
            "ids": ids,
            "archivist": archivist,
            "admin": api_headers(settings, "admin"),
            "other": headers_of(settings, "other-archivist", "archivist", OTHER_ORGAN),
        }


def _pairs(site: dict, who: str = "archivist") -> list[dict]:
    answer = site["client"].get("/review/duplicates", headers=site[who])
    assert answer.status_code == 200, answer.text
    return answer.json()["pairs"]


def _pair_of(pairs: list[dict], a: str, b: str) -> dict | None:
    return next((p for p in pairs if {p["new"], p["existing"]} == {a, b}), None)


def test_a_rescan_is_in_the_review_queue_with_matching_pages(site: dict) -> None:
    ids = site["ids"]
    pair = _pair_of(_pairs(site), ids["rescan.jpg"], ids["original.png"])
    assert pair is not None, _pairs(site)
    assert pair["new"] == ids["rescan.jpg"] and pair["state"] == "open"
    assert [(m["page_no"], m["other_page_no"]) for m in pair["pages"]] == [(1, 1)]
    match = pair["pages"][0]
    assert 0.5 <= match["image"] <= 1 and 0.5 <= match["text"] <= 1  # both kinds, how closely


def test_a_document_of_the_same_template_is_not_proposed(site: dict) -> None:
    ids = site["ids"]
    for other in ("original.png", "rescan.jpg"):
        assert _pair_of(_pairs(site), ids["sibling.png"], ids[other]) is None


def test_the_same_document_id_links_documents_whose_pages_differ(site: dict) -> None:
    ids, client = site["ids"], site["client"]
    docs = [client.get(f"/documents/{ids[n]}", headers=site["admin"]).json() for n in ids]
    document_ids = {d["metadata"]["document_id"]["value"] for d in docs[:1] + docs[3:]}
    assert len(document_ids) == 1 and None not in document_ids, "metadata misread: no test"
    pair = _pair_of(_pairs(site), ids["same_id.png"], ids["original.png"])
    assert pair is not None
    assert pair["same_document_id"] == document_ids.pop()
    assert pair["pages"] == []  # other body: linked by the DocumentId alone


def test_a_user_of_another_organ_learns_nothing_of_a_record_it_cannot_see(
    site: dict, scans: dict[str, Path]
) -> None:
    client, ids = site["client"], site["ids"]
    theirs = upload_and_wait(client, scans["rescan2.png"], site["other"])
    assert _pairs(site, "other") == []
    answer = client.get(f"/review/duplicates/{theirs}/{ids['original.png']}", headers=site["other"])
    assert answer.status_code == 404
    shown = client.get(f"/documents/{theirs}", headers=site["other"]).text
    assert ids["original.png"] not in shown and ids["original.png"][:12] not in shown
    # the admin sees the pair, with its evidence
    assert _pair_of(_pairs(site, "admin"), theirs, ids["original.png"]) is not None
    # the owner of the original does not see it either (it cannot see the other's record)
    assert _pair_of(_pairs(site), theirs, ids["original.png"]) is None


def test_the_web_review_shows_a_pair_side_by_side_with_its_evidence(site: dict) -> None:
    client, ids = site["client"], site["ids"]
    new, old = ids["rescan.jpg"], ids["original.png"]
    shown = client.get("/review/pairs", params={"a": new, "b": old}, headers=site["archivist"])
    assert shown.status_code == 200, shown.text
    assert "rescan.jpg" in shown.text and "original.png" in shown.text
    assert "trang 1 ~ trang 1 (hình ảnh" in shown.text  # a Vietnamese page (no lang asked)
    assert f"/documents/{new}/pages/1/image" in shown.text
    assert f"/documents/{old}/pages/1/image" in shown.text
    assert 'value="merge"' in shown.text and 'value="dismiss"' in shown.text
    hidden = client.get("/review/pairs", params={"a": new, "b": old}, headers=site["other"])
    assert hidden.status_code == 404 and "original.png" not in hidden.text


def test_dismiss_is_remembered_and_not_proposed_again(site: dict, scans: dict[str, Path]) -> None:
    client, ids = site["client"], site["ids"]
    a, b = ids["same_id.png"], ids["original.png"]
    answer = client.post(
        "/review/duplicates/dismiss", json={"documents": [a, b]}, headers=site["archivist"]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "dismissed"
    assert _pair_of(_pairs(site), a, b) is None
    # the same file ingested again (indexed again) proposes nothing again
    upload_and_wait(client, scans["same_id.png"], site["archivist"])
    assert _pair_of(_pairs(site), a, b) is None
    again = client.post(
        "/review/duplicates/dismiss", json={"documents": [a, b]}, headers=site["archivist"]
    )
    assert again.status_code == 409


def test_merge_leaves_the_kept_one_in_search_and_both_originals_retrievable(
    site: dict, scans: dict[str, Path]
) -> None:
    client, ids = site["client"], site["ids"]
    keep, other = ids["original.png"], ids["rescan.jpg"]
    word = client.get(f"/documents/{keep}", headers=site["archivist"]).json()["metadata"]
    query = str(word["code_number"]["value"])
    before = client.get("/search", params={"q": query}, headers=site["archivist"]).json()
    assert {keep, other} <= {h["document_id"] for h in before["hits"]}
    officer = api_headers(site["settings"], "officer")
    refused = client.post(
        "/review/duplicates/merge", json={"keep": keep, "other": other}, headers=officer
    )
    assert refused.status_code == 403
    answer = client.post(
        "/review/duplicates/merge", json={"keep": keep, "other": other}, headers=site["archivist"]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "merged" and answer.json()["kept"] == keep
    after = client.get("/search", params={"q": query}, headers=site["archivist"]).json()
    hits = {h["document_id"] for h in after["hits"]}
    assert keep in hits and other not in hits
    merged = client.get(f"/documents/{other}", headers=site["archivist"]).json()
    assert merged["rescan_of"] == keep
    assert any("merged as a rescan" in h["note"] for h in merged["history"])
    for doc_id, name in ((keep, "original.png"), (other, "rescan.jpg")):
        original = client.get(f"/documents/{doc_id}/original", headers=site["archivist"])
        assert original.status_code == 200
        assert original.content == scans[name].read_bytes()
    # audited
    audit = run_cli(site["settings"].data_dir, "audit", "list", "--json")
    assert "duplicate_merge" in audit.stdout, audit.stdout + audit.stderr


def test_the_cli_lists_and_decides_pairs(site: dict) -> None:
    data = site["settings"].data_dir
    listed = run_cli(data, "review", "duplicates")
    assert listed.returncode == 0, listed.stderr
    rows = [
        json.loads(line)
        for line in run_cli(data, "review", "duplicates", "--json").stdout.splitlines()
    ]
    assert rows, listed.stdout
    first = rows[0]
    assert first["new"][:12] in listed.stdout and "page 1 ~ page 1" in listed.stdout
    done = run_cli(data, "review", "dismiss", first["new"][:12], first["existing"][:12])
    assert done.returncode == 0, done.stderr
    assert "dismissed" in done.stdout
    assert run_cli(data, "review", "dismiss", first["new"][:12], first["existing"][:12]).returncode
    wrong = run_cli(data, "review", "merge", first["new"][:12])
    assert wrong.returncode == 2 and "two document ids" in (wrong.stdout + wrong.stderr)
