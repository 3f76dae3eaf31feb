"""The exchange pages (issue 16) through the app's own routes: a clerk sends a record with the
form, the receiving organ's clerk finds it in the inbox and sets 06 with the form, the sender
sees it; a third organ's clerk neither lists nor opens it; a hostile subject is text; a clerk
lands on the exchange, not on the search it may not use; scripts still get the JSON API."""

from __future__ import annotations

import random
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_services, build_store
from app.config import Settings
from corpus import SyntheticDocument, write_pdf_digital
from corpus.content import random_spec
from corpus.nd30 import layout_document
from exchange.models import Delivery
from tests.conftest import TEST_PASSWORD
from tests.pki_support import init_ca
from workers.batch import wait_for
from workers.exchange_setup import build_exchange
from workers.runtime import WorkerPool
from workers.submit import accept

A = "001.00.52.H34"  # Ủy ban nhân dân xã Đắk Mar: owns the record, sends it
B = "000.00.00.H55"  # Ủy ban nhân dân tỉnh Quảng Ngãi: receives it
C = "000.00.00.G20"  # Bộ Khoa học và Công nghệ: neither
ABOLISHED = "000.00.52.H34"  # Ủy ban nhân dân huyện Đắk Hà, a district: gone since 2025-07-01
HTML = {"Accept": "text/html"}
HOSTILE_SUBJECT = "Về việc số hóa <script>alert(1)</script> hồ sơ lưu trữ"


def hostile_record_pdf(path: Path) -> Path:
    """A born-digital ND30 page (no OCR) whose trích yếu, hence the envelope's Subject,
    holds markup."""
    spec = replace(random_spec(random.Random(3)), subject=HOSTILE_SUBJECT)
    return write_pdf_digital(
        path, SyntheticDocument(spec, tuple(layout_document(spec, 1, 0.6))).pages
    )


def add_clerks(settings: Settings) -> None:
    accounts = Accounts(build_store(settings))
    for login, organ in (("clerk-a", A), ("clerk-b", B), ("clerk-c", C)):
        accounts.add_user(login, "clerk", organ, TEST_PASSWORD)


def own_record(settings: Settings, pdf: Path) -> str:
    """`pdf` ingested as a record of A (born-digital: no OCR); every organ gets its keys."""
    services = build_services(settings)
    with WorkerPool(services, "", 1) as pool:
        sub = accept(services, pdf, owner=A)
        pool.actors.ingest.send(sub.doc_id)
        wait_for(services, pool, [sub], None)
    ex = build_exchange(services)
    init_ca(ex)
    for organ in (A, B, C):
        ex.create_keys(organ)
    return sub.doc_id


def log_in(client: TestClient, login: str) -> str:
    """Log in with the form as a browser does; the session's CSRF token (from the inbox)."""
    answer = client.post(
        "/login",
        data={"login": login, "password": TEST_PASSWORD, "next": "/exchange"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    inbox = client.get("/exchange")
    assert inbox.status_code == 200, inbox.text
    return re.search(r'name="csrf_token" value="([^"]+)"', inbox.text).group(1)


def wait_delivered(settings: Settings, message_id: str) -> None:
    ex = build_exchange(build_services(settings))
    deadline = time.monotonic() + 120
    while not all(e.state == Delivery.delivered for e in ex.outbox(message_id)):
        assert time.monotonic() < deadline, ex.outbox(message_id)
        time.sleep(0.2)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """A's clerk has sent A's record (whose subject holds `<script>`) to B with the form."""
    tmp = tmp_path_factory.mktemp("web-exchange")
    settings = Settings(data_dir=tmp / "data", workers=1)
    add_clerks(settings)
    record = own_record(settings, hostile_record_pdf(tmp / "hostile.pdf"))
    app = create_app(settings)
    with TestClient(app, headers=HTML) as sender:
        csrf = log_in(sender, "clerk-a")
        form = sender.get("/exchange/send", params={"doc": record})
        assert form.status_code == 200 and record in form.text
        sent = sender.post(
            "/exchange/send",
            data={"csrf_token": csrf, "doc": record, "to": [B]},
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
        message_id = sent.headers["location"].rsplit("/", 1)[-1]
        wait_delivered(settings, message_id)
        yield {"app": app, "settings": settings, "record": record, "message": message_id}


def browser(site: dict, login: str) -> tuple[TestClient, str]:
    client = TestClient(site["app"], headers=HTML)
    return client, log_in(client, login)


def test_the_receivers_clerk_lists_it_and_a_third_organs_clerk_does_not(site: dict) -> None:
    short = site["message"][:12]
    b, _ = browser(site, "clerk-b")
    inbox = b.get("/exchange")
    assert short in inbox.text and "Ủy ban nhân dân xã Đắk Mar" in inbox.text
    assert "03 · Đã tiếp nhận" in inbox.text  # accepted on arrival
    c, _ = browser(site, "clerk-c")
    assert short not in c.get("/exchange").text
    assert short not in c.get("/exchange/sent").text


def test_a_stranger_clerk_gets_404_as_for_a_missing_message(site: dict) -> None:
    c, csrf = browser(site, "clerk-c")
    for prefix in (site["message"], site["message"][:12]):
        page = c.get(f"/exchange/messages/{prefix}")
        assert page.status_code == 404, page.text
        assert f"no message {prefix}" in page.text
    missing = c.get("/exchange/messages/" + "f" * 32)
    assert missing.status_code == 404
    refused = c.post(
        f"/exchange/messages/{site['message']}/status",
        data={"csrf_token": csrf, "code": "06"},
        follow_redirects=False,
    )
    assert refused.status_code == 404


def test_the_receiver_sets_06_with_the_form_and_the_sender_sees_it(site: dict) -> None:
    b, csrf = browser(site, "clerk-b")
    url = f"/exchange/messages/{site['message']}"
    page = b.get(url)
    assert page.status_code == 200 and 'value="06"' in page.text
    done = b.post(url + "/status", data={"csrf_token": csrf, "code": "06", "note": "đã xử lý"})
    assert done.status_code == 200 and "06 · Đã hoàn thành" in done.text
    assert "đã xử lý" in done.text
    back = b.post(url + "/status", data={"csrf_token": csrf, "code": "04"})
    assert back.status_code == 409 and "only move forward" in back.text
    a, _ = browser(site, "clerk-a")
    sent = a.get("/exchange/sent")
    assert "Ủy ban nhân dân tỉnh Quảng Ngãi: <span" in sent.text
    assert "06 · Đã hoàn thành" in sent.text
    # The JSON API on the same paths is unchanged for scripts.
    token = Accounts(build_store(site["settings"])).issue_token("clerk-a")
    api = TestClient(site["app"]).get(url, headers={"Authorization": f"Bearer {token}"})
    assert api.headers["content-type"] == "application/json"
    assert "06" in {s["code"] for s in api.json()["statuses"]}


def test_a_hostile_subject_renders_as_text(site: dict) -> None:
    b, _ = browser(site, "clerk-b")
    for url in ("/exchange", f"/exchange/messages/{site['message']}"):
        page = b.get(url)
        assert "Về việc số hóa &lt;script&gt;alert(1)&lt;/script&gt; hồ sơ" in page.text, url
        assert "<script>alert" not in page.text


def test_the_send_form_offers_active_organs_and_refuses_an_abolished_one(site: dict) -> None:
    a, csrf = browser(site, "clerk-a")
    form = a.get("/exchange/send", params={"doc": site["record"], "find": "dak ha"})
    assert "Ủy ban nhân dân huyện Đắk Hà" in form.text and "Quảng Ngãi" not in form.text
    assert re.search(rf'value="{ABOLISHED}" id="to-\d+" disabled', form.text)
    assert "đã giải thể (hoạt động đến 2025-06-30)" in form.text
    refused = a.post(
        "/exchange/send", data={"csrf_token": csrf, "doc": site["record"], "to": [ABOLISHED]}
    )
    assert refused.status_code == 422 and "không còn hoạt động" in refused.text
    c, csrf_c = browser(site, "clerk-c")  # C may not see A's record: as if it did not exist
    hidden = c.post("/exchange/send", data={"csrf_token": csrf_c, "doc": site["record"], "to": [B]})
    assert hidden.status_code == 404 and f"no document with id {site['record']}" in hidden.text


def test_a_clerk_lands_on_the_exchange(site: dict) -> None:
    b, _ = browser(site, "clerk-b")
    landing = b.get("/", follow_redirects=False)
    assert (landing.status_code, landing.headers["location"]) == (303, "/exchange")
