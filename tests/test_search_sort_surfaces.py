"""Sorting by date where people and scripts ask for it: the search page's sort links (keeping
the words and filters, the pager keeping the sort), GET /search?sort=, `sohoa search --sort`;
an unknown sort is refused (422, exit 2), never ignored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from schemas.access import Visibility
from search import SqliteIndex
from tests.conftest import TEST_ORGAN, api_headers, run_cli
from tests.contract.test_search import make_doc
from tests.test_web import HTML, log_in

# id letter -> issued date; the officer's organ owns them all, "o" is another organ's
DATES = {"a": "2020-05-01", "b": None, "c": "2024-01-15", "d": "2022-09-30", "o": "2025-01-01"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("sort-data"), workers=1)
    docs = []
    for letter, issued in DATES.items():
        doc = make_doc(letter, f"Quyết định về lưu trữ {letter}", name=f"{letter}.pdf")
        doc.metadata.issued_date.value = issued
        doc.metadata.type_name.value = "Quyết định"
        doc.visibility = Visibility(owner="000.00.00.G20" if letter == "o" else TEST_ORGAN)
        docs.append(doc)
    index = SqliteIndex(settings.search_path)
    index.index(docs)
    index.close()
    api_headers(settings, "officer")  # the user test-officer of TEST_ORGAN
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "settings": settings}


def shown(page: str) -> str:
    """The documents of a result page, in their order."""
    return "".join(m[0] for m in re.findall(r'href="/documents/(\w)\w{63}/view', page))


def test_the_search_page_offers_the_sorts_and_orders_by_date(site: dict) -> None:
    client = TestClient(site["client"].app, headers=HTML)
    log_in(client, "test-officer")
    ranked = client.get("/", params={"q": "luu tru", "type": "Quyết định"}).text
    assert '<nav class="sort"' in ranked and "Liên quan nhất</strong>" in ranked
    newest = re.search(r'<a href="([^"]+)">Mới nhất</a>', ranked).group(1)
    assert newest == "/?q=luu+tru&amp;type=Quy%E1%BA%BFt+%C4%91%E1%BB%8Bnh&amp;sort=date"
    page = client.get(newest.replace("&amp;", "&")).text
    assert shown(page) == "cdab"  # undated last; another organ's "o" never shown
    assert 'aria-current="true">Mới nhất</strong>' in page
    assert '<input type="hidden" name="sort" value="date">' in page  # a new search keeps it
    assert shown(client.get("/", params={"sort": "date_asc"}).text) == "adcb"
    assert client.get("/", params={"sort": "size"}).status_code == 422


def test_the_pager_keeps_the_sort(site: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.web.pages.PAGE_SIZE", 2)
    client = TestClient(site["client"].app, headers=HTML)
    log_in(client, "test-officer")
    first = client.get("/", params={"q": "luu tru", "sort": "date"}).text
    following = re.search(r'<a href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "sort=date" in following
    assert shown(first) + shown(client.get(following).text) == "cdab"


def test_the_api_sorts_by_date_and_refuses_an_unknown_sort(site: dict) -> None:
    client, headers = site["client"], api_headers(site["settings"], "officer")
    answer = client.get("/search", params={"q": "luu tru", "sort": "date_asc"}, headers=headers)
    assert [h["document_id"][0] for h in answer.json()["hits"]] == list("adcb")
    bad = client.get("/search", params={"sort": "newest"}, headers=headers)
    assert (bad.status_code, bad.json()["error"]) == (422, "bad_sort")
    assert "date_asc" in bad.json()["message"]


def test_the_cli_sorts_by_date(site: dict) -> None:
    data: Path = site["settings"].data_dir
    listed = run_cli(data, "search", "", "--sort", "date", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [h["document_id"][0] for h in json.loads(listed.stdout)["hits"]] == list("ocdab")
    refused = run_cli(data, "search", "luu tru", "--sort", "newest")
    assert refused.returncode == 2 and "unknown sort 'newest'" in refused.stderr
