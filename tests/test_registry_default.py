"""The national registry is every installation's registry (docs/registry.md): with no
SOHOA_ORGANS it finds the organs of today and of before the 2025 reform; an operator's file laid
over it gives organs their official codes without duplicating them; the web's organ fields
search it instead of listing its 38,000 organs."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from pipeline.extracted import Extracted
from pipeline.reconcile import read_registry
from tests.conftest import TEST_ORGAN, TEST_PASSWORD, cli_with_env

HEADER = "organ_id,name,level,parent,valid_from,valid_to,aliases"


def _cli(tmp_path: Path, organs: str | None, *args: str):
    env = {k: v for k, v in os.environ.items() if k != "SOHOA_ORGANS"}  # the default
    if organs is not None:
        env["SOHOA_ORGANS"] = organs
    return cli_with_env({**env, "SOHOA_DATA_DIR": str(tmp_path / "data")}, *args)


def test_the_default_installation_knows_a_commune_of_2026_and_a_district_of_2019(
    tmp_path: Path,
) -> None:
    commune = _cli(tmp_path, None, "organs", "show", "Ủy ban nhân dân phường Kon Tum", "--json")
    assert commune.returncode == 0, commune.stderr
    found = [json.loads(line) for line in commune.stdout.splitlines()]
    now = [o for o in found if o["name"] == "Ủy ban nhân dân phường Kon Tum"]
    assert len(now) == 1 and now[0]["valid_from"] == "2025-07-01" and now[0]["valid_to"] is None
    assert now[0]["code_kind"] == "local"  # no official code without an operator's file
    district = _cli(tmp_path, None, "organs", "show", "Ủy ban nhân dân huyện Bát Xát")
    assert district.returncode == 0, district.stderr
    assert "(abolished)" in district.stdout and "local, not official" in district.stdout
    assert "Ủy ban nhân dân tỉnh Lào Cai" in district.stdout  # who holds its records now


def _organ_read(settings: Settings, name: str, parent: str, issued: date) -> Extracted:
    from app.compose import build_registry

    out = Extracted({})
    out.set("organ_name", name, 0.8)
    out.set("organ_parent", parent, 0.8, empty_ok=True)
    out.set("issued_date", issued, 0.95)
    read_registry(build_registry(settings).match_header, out)
    return out


def test_the_default_registry_names_the_organ_of_a_document_by_its_date() -> None:
    default = Settings(organs="")
    old = _organ_read(default, "UBND HUYỆN BÁT XÁT", "UBND TỈNH LÀO CAI", date(2019, 4, 2))
    assert old.get("organ_name") == "UBND HUYỆN BÁT XÁT" and old.conf("organ_name") >= 0.95
    new = _organ_read(default, "UBND PHƯỜNG KON TUM", "UBND TỈNH QUẢNG NGÃI", date(2026, 2, 3))
    assert new.get("organ_id") is not None and new.conf("organ_name") >= 0.95
    gone = _organ_read(default, "UBND HUYỆN BÁT XÁT", "UBND TỈNH LÀO CAI", date(2026, 2, 3))
    assert gone.get("organ_id") is None  # no district exists in 2026


def test_an_operators_file_gives_official_codes_and_duplicates_nothing(tmp_path: Path) -> None:
    own = tmp_path / "organs.csv"
    own.write_text(
        f"{HEADER}\n"
        "000.00.00.H29,Ủy ban nhân dân tỉnh Lào Cai,province,,,,UBND TỈNH LÀO CAI\n"
        "000.00.05.H29,Sở Tài chính tỉnh Lào Cai,province,000.00.00.H29,,,SỞ TÀI CHÍNH\n"
        "000.00.90.H29,Ban Quản lý khu kinh tế tỉnh Lào Cai,province,000.00.00.H29,,,\n",
        encoding="utf-8",
    )
    shown = _cli(tmp_path, str(own), "organs", "show", "000.00.00.H29")
    assert shown.returncode == 0, shown.stderr
    assert "official (QCVN 102)" in shown.stdout
    assert "took over:" in shown.stdout and "Yên Bái" in shown.stdout  # the registry's history
    same = _cli(tmp_path, str(own), "organs", "show", "Ủy ban nhân dân tỉnh Lào Cai", "--json")
    named = [json.loads(x) for x in same.stdout.splitlines()]
    lao_cai = [o for o in named if o["name"] == "Ủy ban nhân dân tỉnh Lào Cai"]
    assert [o["organ_id"] for o in lao_cai] == ["000.00.00.H29"]  # not a twin beside it
    finance = json.loads(
        _cli(tmp_path, str(own), "organs", "show", "000.00.05.H29", "--json").stdout
    )
    assert finance["parent"] == "000.00.00.H29" and finance["code_kind"] == "official"
    # the departments the file does not name stay, under the committee's official code
    health = _cli(tmp_path, str(own), "organs", "show", "Sở Y tế tỉnh Lào Cai", "--json")
    assert json.loads(health.stdout.splitlines()[0])["parent"] == "000.00.00.H29"
    added = _cli(tmp_path, str(own), "organs", "show", "000.00.90.H29")
    assert added.returncode == 0 and "Ban Quản lý khu kinh tế tỉnh Lào Cai" in added.stdout


def test_an_operators_organ_that_fits_several_is_refused_naming_them(tmp_path: Path) -> None:
    own = tmp_path / "organs.csv"
    own.write_text(f"{HEADER}\n001.00.11.H37,Ủy ban nhân dân xã Phước Sơn,commune,,,,\n", "utf-8")
    shown = _cli(tmp_path, str(own), "organs", "show", "001.00.11.H37")
    assert shown.returncode != 0
    said = " ".join(shown.stderr.split())
    assert "fits several organs" in said and said.count("Ủy ban nhân dân xã Phước Sơn (") >= 2
    assert "same_as" in said
    # naming the one it is settles it
    one = _cli(tmp_path, None, "organs", "show", "Ủy ban nhân dân xã Phước Sơn", "--json")
    local = json.loads(one.stdout.splitlines()[0])["organ_id"]
    own.write_text(
        f"{HEADER},same_as\n001.00.11.H37,Ủy ban nhân dân xã Phước Sơn,commune,,,,,{local}\n",
        "utf-8",
    )
    again = _cli(tmp_path, str(own), "organs", "show", "001.00.11.H37")
    assert again.returncode == 0, again.stderr
    assert "official (QCVN 102)" in again.stdout
    assert _cli(tmp_path, str(own), "organs", "show", local).returncode != 0  # renamed, not kept


def test_a_small_registry_is_still_possible(tmp_path: Path) -> None:
    listed = _cli(tmp_path, "sample", "organs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 26  # organs/organs.csv alone


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory):
    from accounts.service import Accounts
    from app.api import create_app
    from app.compose import build_store

    data = tmp_path_factory.mktemp("organ-search")
    settings = Settings(data_dir=data, workers=1, organs="")  # the default: national alone
    Accounts(build_store(settings)).add_user("root", "admin", "000.00.00.ZTW", TEST_PASSWORD)
    app = create_app(settings)
    with TestClient(app):
        yield app


def _signed_in(app) -> tuple[TestClient, str]:
    client = TestClient(app, headers={"Accept": "text/html"})
    answer = client.post(
        "/login", data={"login": "root", "password": TEST_PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/admin/users")
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _find(client: TestClient, q: str) -> list[dict]:
    answer = client.get("/organs", params={"q": q}, headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()["organs"]


def test_the_organ_search_finds_at_most_twenty_by_folded_words_and_id(web) -> None:
    anonymous = TestClient(web).get("/organs", params={"q": "dak mar"}, follow_redirects=False)
    assert anonymous.status_code in (401, 303)
    client, _ = _signed_in(web)
    found = _find(client, "ubnd xa dak ma")
    assert 0 < len(found) <= 20
    assert found[0]["name"] == "Ủy ban nhân dân xã Đăk Mar"  # exists today: first
    # the commune of the same name before the reform, said to have ended
    assert any(o["name"].endswith("Đăk Mar") and "2025-06-30" in o["label"] for o in found)
    assert len(_find(client, "phường")) == 20
    assert _find(client, found[0]["id"])[0]["id"] == found[0]["id"]


def test_the_users_page_offers_a_search_not_38000_options(web) -> None:
    client, csrf = _signed_in(web)
    page = client.get("/admin/users")
    assert page.text.count("<option") < 10 and 'list="new-organ-list"' in page.text
    commune = _find(client, "ubnd phuong kon tum")[0]
    form = {"csrf_token": csrf, "role": "officer", "password": "mat-khau-moi-1"}
    form["password_again"] = form["password"]
    # what a datalist may leave in the field: the label, the id at its end
    added = client.post(
        "/admin/users",
        data={**form, "login": "can-bo-xa", "organ": commune["label"]},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text[-500:]
    shown = client.get("/admin/users/can-bo-xa")
    assert commune["id"] in shown.text and "Ủy ban nhân dân phường Kon Tum" in shown.text
    wrong = client.post("/admin/users", data={**form, "login": "khong-co", "organ": "no such"})
    assert wrong.status_code == 400


def test_the_test_organ_is_not_in_the_national_registry_alone() -> None:
    """The tests' organs (TEST_ORGAN…) are the sample's, laid over it (tests/conftest.py)."""
    from organs.registry import OrganRegistry

    assert OrganRegistry.from_setting("").get(TEST_ORGAN) is None
    assert OrganRegistry.from_setting("national+sample").get(TEST_ORGAN) is not None
