"""Who sees a record, on the API and the CLI (issue 15; docs/access.md): the owner organ's
archivists share a record with another organ, take the share back and make it public; another
organ's users see it only then; dossiers show only what the caller sees; `sohoa share`,
`sohoa ingest --owner` and `sohoa migrate` do the same as the operator.

Born-digital PDFs (no OCR) keep these tests fast.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.compose import build_services
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from schemas.text import fold
from tests.conftest import TEST_ORGAN, api_headers, cli_with_env
from workers.jobs import ingest_batch

OWNER = TEST_ORGAN  # Bộ Nội vụ: owns the records
OTHER = "000.00.00.G20"  # Bộ Khoa học và Công nghệ: sees them only when shared
THIRD = "000.00.00.H34"
DOSSIER = "HS-ACCESS"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two records of OWNER filed in one dossier (the second needs review), and users of both
    organs."""
    tmp = tmp_path_factory.mktemp("access")
    settings = Settings(data_dir=tmp / "data", workers=1, organ=OWNER)
    docs = make_documents(2, seed=21, pages=1)
    layouts = [list(d.pages) for d in docs]
    # The second without its header (organ, number, date): its metadata needs a person's look.
    layouts[1][0] = replace(layouts[1][0], lines=layouts[1][0].lines[9:])
    paths = [str(write_pdf_digital(tmp / f"d{i}.pdf", p)) for i, p in enumerate(layouts)]
    rows = ingest_batch(build_services(settings), paths, threads=1, dossier=DOSSIER).rows
    assert [r.result for r in rows] == ["ok", "ok"], rows
    users = {
        "archivist": api_headers(settings, "archivist", OWNER),
        "officer": api_headers(settings, "officer", OWNER),
        "admin": api_headers(settings, "admin", OWNER),
    }
    for role in ("archivist", "officer"):  # of the other organ: logins other-archivist, …
        users[f"other-{role}"] = _user(settings, f"other-{role}", role, OTHER)
    return {
        "settings": settings,
        "client": TestClient(create_app(settings)),
        "users": users,
        "ids": [r.doc.id for r in rows],
        "words": [fold(d.pages[0].lines[-1].runs[0].text) for d in docs],  # signer names
    }


def _user(settings: Settings, login: str, role: str, organ: str) -> dict[str, str]:
    from accounts.service import Accounts
    from app.compose import build_store

    accounts = Accounts(build_store(settings))
    accounts.add_user(login, role, organ, "password-for-tests")
    return {"Authorization": f"Bearer {accounts.issue_token(login)}"}


def _call(site: dict, who: str, method: str, url: str, **kw):  # noqa: ANN003, ANN202
    return site["client"].request(method, url, headers=site["users"][who], **kw)


def test_a_share_lets_the_other_organ_read_the_record_until_it_is_revoked(site: dict) -> None:
    doc = site["ids"][0]
    assert _call(site, "other-officer", "GET", f"/documents/{doc}").status_code == 404
    shared = _call(
        site, "archivist", "POST", f"/documents/{doc[:12]}/shares", json={"organ": OTHER}
    )
    assert shared.status_code == 201, shared.text
    body = shared.json()
    assert (body["document_id"], body["owner"], body["public"]) == (doc, OWNER, False)
    assert [(g["organ"], g["via"], g["by"]) for g in body["organs"]] == [
        (OTHER, "share", "test-archivist")
    ]
    assert body["organs"][0]["at"]
    seen = _call(site, "other-officer", "GET", f"/documents/{doc}")
    assert seen.status_code == 200 and seen.json()["document_id"] == doc
    listed = _call(site, "other-officer", "GET", f"/documents/{doc}/shares")
    assert listed.status_code == 200 and listed.json()["organs"][0]["organ"] == OTHER
    again = _call(site, "archivist", "POST", f"/documents/{doc}/shares", json={"organ": OTHER})
    assert again.status_code == 200 and again.json()["changed"] is False
    revoked = _call(site, "archivist", "DELETE", f"/documents/{doc}/shares/{OTHER}")
    assert revoked.status_code == 200 and revoked.json()["organs"] == []
    assert _call(site, "other-officer", "GET", f"/documents/{doc}").status_code == 404
    assert _call(site, "other-officer", "GET", f"/documents/{doc}/pdf").status_code == 404


def test_only_the_owner_organ_may_change_who_sees_a_record(site: dict) -> None:
    doc = site["ids"][1]
    share = {"json": {"organ": THIRD}}
    # Invisible to the other organ's archivist: as if it did not exist.
    refused = _call(site, "other-archivist", "POST", f"/documents/{doc}/shares", **share)
    assert refused.status_code == 404 and refused.json()["error"] == "unknown_id"
    assert _call(
        site, "admin", "POST", f"/documents/{doc}/shares", json={"organ": OTHER}
    ).is_success
    # Visible now, but not its own: 403, and nothing changes.
    refused = _call(site, "other-archivist", "POST", f"/documents/{doc}/shares", **share)
    assert refused.status_code == 403, refused.text
    assert OWNER in refused.json()["message"]
    public = {"json": {"public": True}}
    assert (
        _call(site, "other-archivist", "PUT", f"/documents/{doc}/public", **public).status_code
        == 403
    )
    revoke = _call(site, "other-archivist", "DELETE", f"/documents/{doc}/shares/{OTHER}")
    assert revoke.status_code == 403
    organs = _call(site, "admin", "GET", f"/documents/{doc}/shares").json()["organs"]
    assert [(g["organ"], g["by"]) for g in organs] == [(OTHER, "test-admin")]
    # An officer of the owner organ reads but does not share.
    assert _call(site, "officer", "POST", f"/documents/{doc}/shares", **share).status_code == 403
    assert _call(site, "admin", "DELETE", f"/documents/{doc}/shares/{OTHER}").is_success


def test_a_share_names_an_organ_of_the_registry_and_the_owner_is_no_share(site: dict) -> None:
    doc = site["ids"][0]
    unknown = _call(site, "archivist", "POST", f"/documents/{doc}/shares", json={"organ": "9.9.9"})
    assert unknown.status_code == 422
    assert unknown.json() == {
        "error": "unknown_organ",
        "message": "no organ '9.9.9' in the organ registry (sohoa organs list)",
    }
    itself = _call(site, "archivist", "POST", f"/documents/{doc}/shares", json={"organ": OWNER})
    assert itself.status_code == 200 and itself.json()["changed"] is False
    assert itself.json()["organs"] == []


def test_a_public_record_is_seen_by_every_organ_until_made_private(site: dict) -> None:
    doc = site["ids"][0]
    made = _call(site, "archivist", "PUT", f"/documents/{doc}/public", json={"public": True})
    assert made.status_code == 200 and made.json()["public"] is True
    assert _call(site, "other-officer", "GET", f"/documents/{doc}").status_code == 200
    private = _call(site, "archivist", "PUT", f"/documents/{doc}/public", json={"public": False})
    assert private.status_code == 200 and private.json()["public"] is False
    assert _call(site, "other-officer", "GET", f"/documents/{doc}").status_code == 404


def test_a_share_shows_in_the_other_organs_search_at_once(site: dict) -> None:
    """Needs the search backends' viewer filter (another engineer's branch) to pass."""
    doc, words = site["ids"][1], site["words"][1]

    def total() -> int:
        found = _call(site, "other-officer", "GET", "/search", params={"q": words})
        return found.json()["total"]

    assert total() == 0
    _call(site, "archivist", "POST", f"/documents/{doc}/shares", json={"organ": OTHER})
    assert total() == 1
    _call(site, "archivist", "DELETE", f"/documents/{doc}/shares/{OTHER}")
    assert total() == 0


def test_a_dossier_shows_and_counts_only_the_documents_the_caller_sees(site: dict) -> None:
    first, second = site["ids"]
    url = f"/dossiers/{DOSSIER}"
    whole = _call(site, "officer", "GET", url).json()
    assert whole["doc_total"] == 2
    hidden = _call(site, "other-officer", "GET", url)
    missing = _call(site, "other-officer", "GET", "/dossiers/HS-NONE")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json()["message"] == f"no dossier '{DOSSIER}'"
    _call(site, "archivist", "POST", f"/documents/{second}/shares", json={"organ": OTHER})
    try:
        part = _call(site, "other-officer", "GET", url)
        assert part.status_code == 200
        body = part.json()
        assert [d["document_id"] for d in body["documents"]] == [second]
        assert body["doc_total"] == 1
        assert body["page_total"] == 1
        assert first not in part.text
    finally:
        _call(site, "archivist", "DELETE", f"/documents/{second}/shares/{OTHER}")


def test_review_lists_nothing_of_another_organ(site: dict) -> None:
    """The `total` needs the search backends' viewer filter (another engineer's branch)."""
    own = _call(site, "officer", "GET", "/review").json()
    assert [d["document_id"] for d in own["documents"]] == [site["ids"][1]]
    review = _call(site, "other-officer", "GET", "/review", params={"limit": 500}).json()
    assert review == {"total": 0, "documents": []}


def test_an_organ_that_uploaded_the_same_file_keeps_it(site: dict, tmp_path: Path) -> None:
    (doc,) = make_documents(1, seed=23, pages=1)
    pdf = write_pdf_digital(tmp_path / "same.pdf", doc.pages).read_bytes()
    first = _call(site, "archivist", "POST", "/documents", files={"file": ("a.pdf", pdf)})
    assert first.status_code == 202, first.text
    doc_id = first.json()["document_id"]
    assert _call(site, "other-officer", "GET", f"/documents/{doc_id}").status_code == 404
    again = _call(site, "other-archivist", "POST", "/documents", files={"file": ("b.pdf", pdf)})
    assert again.status_code == 202 and again.json()["document_id"] == doc_id
    shares = _call(site, "other-officer", "GET", f"/documents/{doc_id}/shares").json()
    assert (shares["owner"], [g["via"] for g in shares["organs"]]) == (OWNER, ["upload"])
    refused = _call(site, "archivist", "DELETE", f"/documents/{doc_id}/shares/{OTHER}")
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "not_a_share",
        "message": f"organ '{OTHER}' sees document {doc_id[:12]} through its own upload of "
        "the same file, not a share: only shares can be revoked",
    }


# ------------------------------------------------------------------ the operator's CLI


def _env(data: Path, organ: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SOHOA_ORGAN"}
    env["SOHOA_DATA_DIR"] = str(data)
    if organ is not None:
        env["SOHOA_ORGAN"] = organ
    return env


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (doc,) = make_documents(1, seed=22, pages=1)
    return write_pdf_digital(tmp_path_factory.mktemp("cli") / "cong-van.pdf", doc.pages)


def test_cli_ingest_owner_and_share(tmp_path: Path, pdf: Path) -> None:
    env = _env(tmp_path / "data", OWNER)
    wrong = cli_with_env(env, "ingest", str(pdf), "--owner", "9.9.9", "--no-progress")
    assert wrong.returncode == 2
    assert "no organ '9.9.9' in the organ registry" in wrong.stderr
    ingested = cli_with_env(env, "ingest", str(pdf), "--owner", OTHER, "--json")
    assert ingested.returncode == 0, ingested.stderr
    doc = json.loads(ingested.stdout.splitlines()[0])["document_id"]

    shared = cli_with_env(env, "share", doc[:10], "--with", OWNER, "--with", THIRD, "--public")
    assert shared.returncode == 0, shared.stderr
    assert shared.stderr.splitlines() == [
        f"shared with {OWNER}",
        f"shared with {THIRD}",
        "made public",
    ]
    assert "public: yes" in shared.stdout and "│ share │ cli" in shared.stdout

    revoked = cli_with_env(env, "share", doc[:10], "--revoke", THIRD, "--private", "--json")
    assert revoked.returncode == 0, revoked.stderr
    body = json.loads(revoked.stdout)
    assert (body["document_id"], body["owner"], body["public"]) == (doc, OTHER, False)
    assert [(g["organ"], g["via"], g["by"]) for g in body["organs"]] == [(OWNER, "share", "cli")]

    unknown = cli_with_env(env, "share", doc[:10], "--with", "9.9.9")
    assert unknown.returncode == 2 and "no organ '9.9.9'" in unknown.stderr


def test_migrate_writes_the_installation_organ_as_owner_once(tmp_path: Path, pdf: Path) -> None:
    data = tmp_path / "data"
    # A record from before owners existed: ingested with no installation organ.
    assert cli_with_env(_env(data, None), "ingest", str(pdf), "--json").returncode == 0
    refused = cli_with_env(_env(data, None), "migrate")
    assert refused.returncode == 2
    assert "1 record(s) have no owner organ and SOHOA_ORGAN is not set" in refused.stderr
    migrated = cli_with_env(_env(data, OWNER), "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines() == [
        "owner organ written for 1 record(s)",
        "delivery grants written for 0 record(s)",
        "reindexed 1 document(s)",
    ]
    again = cli_with_env(_env(data, THIRD), "migrate")  # idempotent: the owner stays
    assert again.stdout.splitlines()[0] == "owner organ written for 0 record(s)"
    (owner,) = (data / "store" / "access").glob("*/owner")  # written down, not a default
    assert json.loads(owner.read_text())["organ"] == OWNER


def test_users_add_takes_the_installation_organ_unless_told(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args = ("users", "add", "chi-Lan", "--role", "officer", "--password-stdin")
    needs = _cli_input(_env(data, None), "password-for-tests\n", *args)
    assert needs.returncode == 2
    assert "say the user's organ with --organ ORGAN_ID (SOHOA_ORGAN is not set)" in needs.stderr
    added = _cli_input(_env(data, OWNER), "password-for-tests\n", *args)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"added chi-Lan (officer, {OWNER})"


def _cli_input(env: dict[str, str], stdin: str, *args: str):  # noqa: ANN202
    import subprocess
    import sys

    from tests.conftest import ROOT

    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
