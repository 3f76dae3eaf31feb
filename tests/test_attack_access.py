"""Attacks on issue 15's access model (review r5/attack): each test states the right behaviour
and fails on the code as it stands.

One installation: organ A (000.00.00.G09) owns three records, two in dossier HS-SECRET and one
in HS-TARGET; organ B (000.00.00.G20) has an archivist, an officer and a clerk, and one record
of its own uploaded through the API; A's clerk sent A's first record to organ C.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from accounts.service import MAX_FAILURES, Accounts
from app.api import create_app
from app.compose import build_services, build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from search.sqlite import document_terms
from storage.dossiers import DossierStore
from tests.conftest import TEST_PASSWORD
from tests.pki_support import init_ca
from workers.exchange_setup import build_exchange
from workers.jobs import ingest_batch

# C: UBND tỉnh Phú Thọ, an organ that exists today (an exchange to one abolished is refused)
A, B, C = "000.00.00.G09", "000.00.00.G20", "000.00.00.H46"
SECRET_TITLE = "Hồ sơ mật của A"
TARGET_TITLE = "Hồ sơ đích của A"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("attack-access")
    # Every login of this module comes from one test client: the per-address limit (20 by
    # default, app/login_limits.py) would lock its later logins out after the parallel test.
    settings = Settings(data_dir=tmp / "data", workers=1, organ=A, login_client_failures=100)
    services = build_services(settings)
    docs = make_documents(4, seed=77, pages=1)
    paths = [write_pdf_digital(tmp / f"d{i}.pdf", list(d.pages)) for i, d in enumerate(docs)]
    secret = ingest_batch(
        services, [str(p) for p in paths[:2]], threads=1, dossier="HS-SECRET", title=SECRET_TITLE
    ).rows
    target = ingest_batch(
        services, [str(paths[2])], threads=1, dossier="HS-TARGET", title=TARGET_TITLE
    ).rows
    assert all(r.result == "ok" for r in [*secret, *target])
    accounts = Accounts(build_store(settings))
    users = {}
    for login, role, organ in [
        ("arch-a", "archivist", A),
        ("off-a", "officer", A),
        ("clk-a", "clerk", A),
        ("arch-b", "archivist", B),
        ("off-b", "officer", B),
        ("clk-b", "clerk", B),
        ("lock-target", "officer", A),
        ("passwd-target", "officer", A),
    ]:
        accounts.add_user(login, role, organ, TEST_PASSWORD)
        users[login] = {"Authorization": f"Bearer {accounts.issue_token(login)}"}
    exchange = build_exchange(services)
    init_ca(exchange)
    for organ in (A, B, C):
        exchange.create_keys(organ)
    with TestClient(create_app(settings)) as client:
        with paths[3].open("rb") as f:
            up = client.post(
                "/documents",
                headers=users["arch-b"],
                files={"file": ("b.pdf", f, "application/pdf")},
            )
        assert up.status_code == 202, up.text
        b_doc = up.json()["document_id"]
        for _ in range(200):
            state = client.get(f"/documents/{b_doc}/progress", headers=users["arch-b"]).json()
            if state["status"] in ("done", "partial", "failed"):
                break
            time.sleep(0.2)
        assert state["status"] == "done", state
        a_ids = [r.doc.id for r in [*secret, *target]]
        sent = client.post(
            "/exchange/send", headers=users["clk-a"], json={"documents": [a_ids[0]], "to": [C]}
        )
        assert sent.status_code == 202, sent.text
        yield {
            "client": client,
            "settings": settings,
            "services": services,
            "accounts": accounts,
            "users": users,
            "a_ids": a_ids,
            "b_doc": b_doc,
            "message": sent.json()["message_id"],
            "tmp": tmp,
        }


def _admin(site: dict) -> dict[str, str]:
    if "admin" not in site["users"]:
        site["accounts"].add_user("admin-x", "admin", A, TEST_PASSWORD)
        site["users"]["admin"] = {
            "Authorization": f"Bearer {site['accounts'].issue_token('admin-x')}"
        }
    return site["users"]["admin"]


def _get(site: dict, who: str, url: str, **kw):  # noqa: ANN003, ANN202
    return site["client"].get(url, headers=site["users"][who], **kw)


# ------------------------------------------------------------------ dossiers


def test_dossier_list_hides_dossiers_of_which_the_caller_sees_no_document(site: dict) -> None:
    """GET /dossiers/HS-SECRET is 404 for B (it sees none of its documents), but GET /dossiers
    listed it with its code and title (and doc_total 0): docs/access.md says such a dossier
    answers as one that does not exist."""
    assert _get(site, "off-b", "/dossiers/HS-SECRET").status_code == 404
    listed = _get(site, "off-b", "/dossiers").json()["dossiers"]
    assert "HS-SECRET" not in {d["file_code"] for d in listed}, listed
    assert SECRET_TITLE not in str(listed)


def test_another_organ_cannot_file_into_or_retitle_a_dossier_it_sees_nothing_of(
    site: dict,
) -> None:
    """B's archivist filed B's own record into A's dossier HS-TARGET with a new title: 200,
    and A's officers now see the title B chose. A dossier B sees nothing of must be as missing
    to B (refused, not changed)."""
    client, b_doc = site["client"], site["b_doc"]
    body = {"documents": [b_doc], "title": "Pwned by B"}
    filed = client.post("/dossiers/HS-TARGET/documents", headers=site["users"]["arch-b"], json=body)
    assert filed.status_code in (403, 404, 409), filed.text
    seen_by_a = _get(site, "off-a", "/dossiers/HS-TARGET").json()
    assert seen_by_a["title"] == TARGET_TITLE
    stored = DossierStore(site["services"].store).require("HS-TARGET")
    assert b_doc not in stored.documents


# ------------------------------------------------------------------ search


def test_search_scores_do_not_count_invisible_documents(site: dict) -> None:
    """BM25 takes document frequency over the whole index, invisible records too, so the score
    B gets for its own record tells whether (and how many) invisible records hold a word: a
    word B puts in a record of its own (a person's name, a case number) becomes an oracle over
    every organ's records. Two words that B's record holds once each, and that no other record
    B sees holds, must score the same for B, whether or not A's records hold one of them."""
    records, b_doc = site["services"].records, site["b_doc"]
    folded, exact, _ = document_terms(records.require(b_doc))
    a_terms: set[str] = set()
    for doc_id in site["a_ids"]:
        a_terms |= set(document_terms(records.require(doc_id))[0])
    once = sorted(
        t
        for t, n in folded.items()
        if n == 1 and exact.get(t) == 1 and t.isascii() and t.isalpha() and len(t) > 2
    )
    shared = [t for t in once if t in a_terms]
    alone = [t for t in once if t not in a_terms]
    assert shared and alone, (shared, alone)
    for word in (shared[0], alone[0]):
        got = _get(site, "off-b", "/search", params={"q": word}).json()
        assert got["total"] == 1 and got["hits"][0]["document_id"] == b_doc, got
        # no score at all for a restricted caller (OpenSearch's would still count A's words);
        # that SQLite's ranking ignores them: tests/contract/test_search_access.py
        assert got["hits"][0]["score"] is None, got
    admin = site["client"].get("/search", params={"q": alone[0]}, headers=_admin(site)).json()
    assert admin["hits"][0]["score"] > 0  # the unrestricted keep theirs


# ------------------------------------------------------------------ exchange


def test_message_prefixes_and_refusals_tell_nothing_of_other_organs_messages(site: dict) -> None:
    """B's clerk names a message A sent to C by any prefix (even one character): the 403 gives
    back its full id, and recall/public name its sender. A prefix must be resolved among the
    messages the organ may see (else as a missing one), and no refusal names the sender."""
    client, mid = site["client"], site["message"]
    clerk = site["users"]["clk-b"]
    prefix = mid[:4]
    shown = client.get(f"/exchange/messages/{prefix}", headers=clerk)
    missing = client.get("/exchange/messages/ffff", headers=clerk)
    assert missing.status_code == 404
    assert shown.status_code == 404, shown.text
    assert mid not in shown.text
    for action in ("recall", "public"):
        refused = client.post(f"/exchange/messages/{mid}/{action}", headers=clerk, json={})
        assert refused.status_code in (403, 404)
        assert A not in refused.text, refused.text


# ------------------------------------------------------------------ login


def test_parallel_wrong_logins_are_locked_after_max_failures(site: dict) -> None:
    """Failures are counted read-then-write with the lock checked before the (slow) argon2
    check: 30 wrong passwords sent at once were all tried (30 x 401, no 429), so the lock does
    not bound a brute force done in parallel."""
    client = site["client"]

    def wrong(i: int) -> int:
        body = {"login": "lock-target", "password": f"wrong-password-{i}"}
        return client.post("/login", json=body).status_code

    with ThreadPoolExecutor(30) as pool:
        codes = list(pool.map(wrong, range(30)))
    assert codes.count(401) <= MAX_FAILURES, sorted(codes)
    assert codes.count(429) >= 30 - MAX_FAILURES


def test_a_cross_site_login_form_is_refused(site: dict) -> None:
    """Login CSRF: a page of another site posts the login form with the attacker's
    credentials; the victim's browser is logged in as the attacker (303 and a session cookie),
    and what it then uploads or reads lands in the attacker's account."""
    client = site["client"]
    answer = client.post(
        "/login",
        data={"login": "off-a", "password": TEST_PASSWORD, "next": "/"},
        headers={
            "Accept": "text/html",
            "Origin": "https://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
        follow_redirects=False,
    )
    client.cookies.clear()
    assert answer.status_code == 403, answer.status_code
    assert "sohoa_session" not in answer.headers.get("set-cookie", "")


def test_changing_a_password_ends_the_users_sessions(site: dict) -> None:
    """`sohoa users passwd` (a password thought stolen) leaves every session open with the old
    password working on: a stolen session cookie keeps working for up to SESSION_HOURS."""
    client = site["client"]
    login = client.post("/login", json={"login": "passwd-target", "password": TEST_PASSWORD})
    assert login.status_code == 200
    session = login.cookies.get("sohoa_session")
    client.cookies.clear()
    site["accounts"].set_password("passwd-target", "a-brand-new-password")
    after = client.get("/search", cookies={"sohoa_session": session})
    client.cookies.clear()
    assert after.status_code == 401, after.status_code


# ------------------------------------------------------------------ upload


def test_an_uploads_history_names_the_file_not_a_server_path(site: dict) -> None:
    """The record history of an API upload said `original stored from
    /tmp/sohoa-upload-…/upload`: a path of the server's file system, shown to every reader."""
    doc = _get(site, "off-b", f"/documents/{site['b_doc']}").json()
    notes = " ".join(h.get("note") or "" for h in doc["history"])
    assert "original stored from b.pdf" in notes, doc["history"]
    assert "sohoa-upload-" not in str(doc) and "/tmp" not in str(doc)
