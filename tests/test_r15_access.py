"""Access hardening, round 15: failed logins counted per client address (429 + Retry-After,
X-Forwarded-For only from trusted proxies, bounded memory), names that are no user leave
nothing on disk and answer as a user's name does, /health tells only ok/not ok to anyone,
`sohoa search --offset` has the API's cap."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accounts import keys
from accounts.service import LOCK_S, MAX_FAILURES, Accounts
from accounts.throttle import InARow, Window
from app.api import create_app
from app.compose import build_store
from app.config import Settings, load_settings
from schemas.errors import BadSetting, LoginLocked, Unauthenticated
from storage.local import LocalStore
from tests.conftest import TEST_ORGAN, TEST_PASSWORD, api_headers, run_cli

CLIENT_A, CLIENT_B = ("203.0.113.5", 40000), ("198.51.100.9", 40000)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder with four officers: each test its own (the account locks must not carry)."""
    folder = tmp_path / "data"
    accounts = Accounts(build_store(Settings(data_dir=folder)))
    for login in ("alice", "bob", "carol", "dave"):
        accounts.add_user(login, "officer", TEST_ORGAN, TEST_PASSWORD)
    return folder


def _app(data: Path, **settings: object):  # noqa: ANN202
    return create_app(Settings(data_dir=data, workers=1, **settings))


def _login(client: TestClient, login: str, password: str = "wrong-guess", **kw: object):  # noqa: ANN202
    return client.post("/login", json={"login": login, "password": password}, **kw)


# ------------------------------------------------------------------ per client address


def test_failures_from_one_address_answer_429_with_retry_after_whatever_the_names(
    data: Path,
) -> None:
    app = _app(data, login_client_failures=3, login_client_window_s=600)
    attacker, other = TestClient(app, client=CLIENT_A), TestClient(app, client=CLIENT_B)
    for name in ("alice", "nobody-1", "bob"):  # one guess per name: no account lock helps
        assert _login(attacker, name).status_code == 401
    refused = _login(attacker, "carol", TEST_PASSWORD)  # even the right password: not checked
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "login_locked"
    assert "from this address" in refused.json()["message"]
    assert 0 < int(refused.headers["retry-after"]) <= 600
    assert _login(other, "carol", TEST_PASSWORD).status_code == 200  # another address logs in


def test_the_web_login_form_is_limited_alike_with_the_page_and_retry_after(data: Path) -> None:
    app = _app(data, login_client_failures=2)
    browser = TestClient(app, client=CLIENT_A, headers={"Accept": "text/html"})
    form = {"login": "alice", "password": "wrong-guess"}
    assert browser.post("/login", data=form).status_code == 401
    assert browser.post("/login", data={**form, "login": "bob"}).status_code == 401
    page = browser.post("/login", data={**form, "login": "carol", "password": TEST_PASSWORD})
    assert page.status_code == 429 and int(page.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in page.text or "quá nhiều lần" in page.text


def test_successes_do_not_count_and_do_not_wipe_the_addresses_failures(data: Path) -> None:
    client = TestClient(_app(data, login_client_failures=3), client=CLIENT_A)
    assert _login(client, "alice").status_code == 401
    assert _login(client, "bob").status_code == 401
    for _ in range(4):  # one's own account, again and again: never counted as a failure
        assert _login(client, "dave", TEST_PASSWORD).status_code == 200
    assert _login(client, "carol").status_code == 401  # the third failure
    assert _login(client, "dave", TEST_PASSWORD).status_code == 429  # and no wiping them


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(data: Path) -> None:
    proxy = ("10.0.0.2", 50000)
    # Without trusted proxies a client cannot get a fresh count by writing the header.
    direct = TestClient(_app(data, login_client_failures=2), client=CLIENT_A)
    for n in range(2):
        forged = {"X-Forwarded-For": f"192.0.2.{n}"}
        assert _login(direct, "alice", headers=forged).status_code == 401
    assert _login(direct, "bob", headers={"X-Forwarded-For": "192.0.2.99"}).status_code == 429
    # Behind a trusted proxy each client is counted apart; the entry the proxy appended
    # counts, not what the client wrote to the left of it.
    app = _app(data, login_client_failures=2, trusted_proxies="10.0.0.0/8")
    behind = TestClient(app, client=proxy)
    for n in range(2):
        sent = {"X-Forwarded-For": f"192.0.2.{n}, 198.51.100.20"}
        assert _login(behind, "alice", headers=sent).status_code == 401
    blocked = _login(behind, "bob", headers={"X-Forwarded-For": "198.51.100.20"})
    assert blocked.status_code == 429 and "from this address" in blocked.json()["message"]
    assert _login(behind, "bob", headers={"X-Forwarded-For": "198.51.100.21"}).status_code == 401


def test_an_ipv6_client_is_counted_per_64_network(data: Path) -> None:
    app = _app(data, login_client_failures=2)
    for host in ("2001:db8:1:2::a", "2001:db8:1:2::b"):
        assert _login(TestClient(app, client=(host, 1)), "alice").status_code == 401
    assert _login(TestClient(app, client=("2001:db8:1:2::c", 1)), "bob").status_code == 429
    assert _login(TestClient(app, client=("2001:db8:1:3::c", 1)), "bob").status_code == 401


def test_a_wrong_trusted_proxies_setting_names_the_entry() -> None:
    with pytest.raises(BadSetting, match="not-an-address"):
        load_settings(trusted_proxies="10.0.0.1, not-an-address")


def test_the_tables_stay_bounded_whatever_the_number_of_keys() -> None:
    now = [0.0]
    window = Window(limit=3, seconds=60, capacity=100, clock=lambda: now[0])
    in_a_row = InARow(limit=3, seconds=60, capacity=100, clock=lambda: now[0])
    for n in range(20_000):
        window.take(f"client-{n}")
        in_a_row.take(f"name-{n}")
    assert len(window) == 100 and len(in_a_row) == 100
    for _ in range(3):
        assert window.take("steady") is None
    assert window.take("steady") == 60  # the window's end, in whole seconds
    now[0] += 60
    assert window.take("steady") is None  # a new window


def test_a_new_login_ends_the_session_the_browser_held(data: Path) -> None:
    """Session ids are made by the server at each login (no fixation); a browser logging in
    again, as another user on a shared machine, leaves no older session of it alive."""
    client = TestClient(_app(data), client=CLIENT_A)
    assert _login(client, "alice", TEST_PASSWORD).status_code == 200
    first = client.cookies.get("sohoa_session")
    assert _login(client, "bob", TEST_PASSWORD).status_code == 200
    second = client.cookies.get("sohoa_session")
    assert first and second and first != second
    client.cookies.clear()
    assert client.get("/search", cookies={"sohoa_session": first}).status_code == 401
    assert client.get("/search", cookies={"sohoa_session": second}).status_code == 200


# ------------------------------------------------------------------ names that are no user


class CountingStore(LocalStore):
    """The real store, with each call's kind counted (what a failed login costs the store)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: Counter[str] = Counter()

    def get_bytes(self, key: str) -> bytes:
        self.calls["read"] += 1
        return super().get_bytes(key)

    def list(self, prefix: str):  # noqa: ANN201
        self.calls["list"] += 1
        return super().list(prefix)

    def create(self, key: str, data: bytes) -> bool:
        self.calls["write"] += 1
        return super().create(key, data)

    def put_bytes(self, key: str, data: bytes) -> None:
        self.calls["write"] += 1
        super().put_bytes(key, data)


def test_unknown_names_leave_nothing_on_disk_and_lock_like_a_users_name(tmp_path: Path) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = LocalStore(tmp_path / "store")
    accounts = Accounts(store, clock=lambda: now[0])
    accounts.add_user("alice", "officer", TEST_ORGAN, TEST_PASSWORD)
    answers: dict[str, list[str]] = {"alice": [], "ghost": []}
    for name in answers:
        for _ in range(MAX_FAILURES):
            with pytest.raises(Unauthenticated) as wrong:
                accounts.login(name, "wrong-guess")
            answers[name].append(str(wrong.value))
        with pytest.raises(LoginLocked) as locked:
            accounts.login(name, "wrong-guess")
        answers[name].append(str(locked.value).replace(name, "NAME"))
        assert locked.value.retry_after == LOCK_S + 1
    assert answers["alice"] == answers["ghost"]
    now[0] += timedelta(seconds=LOCK_S + 1)
    with pytest.raises(Unauthenticated):  # a new row, as for a user
        accounts.login("ghost", "wrong-guess")
    for n in range(30):  # names made up by an attacker: nothing of theirs is kept on disk
        with pytest.raises(Unauthenticated):
            accounts.login(f"made-up-{n}", "wrong-guess")
    stored = {key for key in store.list(keys.ROOT + "attempts/")}
    assert all(key.startswith(keys.attempts("alice")) for key in stored - {keys.DECOY_ATTEMPT})


def test_an_unknown_name_costs_the_store_what_a_users_wrong_password_costs(
    tmp_path: Path,
) -> None:
    store = CountingStore(tmp_path / "store")
    accounts = Accounts(store)
    accounts.add_user("alice", "officer", TEST_ORGAN, TEST_PASSWORD)
    costs, seconds = {}, {}
    for name in ("alice", "ghost"):
        store.calls.clear()
        start = time.process_time()
        with pytest.raises(Unauthenticated):
            accounts.login(name, "wrong-guess")
        seconds[name] = time.process_time() - start
        costs[name] = dict(store.calls)
    assert costs["alice"] == costs["ghost"], costs
    # one argon2 computation each (a hash for no user, a verify for a user): tens of ms of CPU
    assert 0.5 < seconds["ghost"] / seconds["alice"] < 2, seconds


def test_the_api_answers_an_unknown_name_exactly_as_a_users_wrong_password(data: Path) -> None:
    client = TestClient(_app(data), client=CLIENT_B)
    known, unknown = _login(client, "alice"), _login(client, "nobody-at-all")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.headers.get("set-cookie") == unknown.headers.get("set-cookie") is None


# ------------------------------------------------------------------ /health


def test_health_tells_anyone_only_ok_and_an_admin_the_details(data: Path) -> None:
    client = TestClient(_app(data))
    anyone = client.get("/health")
    assert anyone.status_code == 200 and anyone.json() == {"status": "ok"}
    officer = client.get("/health", headers=api_headers(data, "officer"))
    assert officer.json() == {"status": "ok"}
    admin = client.get("/health", headers=api_headers(data, "admin"))
    assert admin.json() == {"status": "ok", "indexed": 0}
    forged = client.get("/health", headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 200 and forged.json() == {"status": "ok"}


def test_health_says_not_ok_without_the_reason_when_the_index_is_damaged(
    tmp_path: Path,
) -> None:
    index = tmp_path / "index.sqlite3"
    settings = {"search": str(index)}
    TestClient(_app(tmp_path, **settings)).get("/health")  # made
    index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    client = TestClient(_app(tmp_path, **settings))
    anyone = client.get("/health")
    assert anyone.status_code == 503 and anyone.json() == {"status": "not ok"}
    admin = client.get("/health", headers=api_headers(tmp_path, "admin"))
    assert admin.status_code == 503 and "sohoa reindex" in admin.json()["message"]


# ------------------------------------------------------------------ sohoa search --offset


def test_cli_search_offset_has_the_apis_cap_with_a_clear_message(tmp_path: Path) -> None:
    refused = run_cli(tmp_path, "search", "quyết định", "--offset", "9801")
    assert refused.returncode == 2
    assert "--offset" in refused.stderr and "9800" in refused.stderr
    last_page = run_cli(tmp_path, "search", "quyết định", "--offset", "9800", "--limit", "1000")
    assert last_page.returncode == 0, last_page.stderr


def test_a_forwarded_address_with_its_port_is_the_client_not_the_proxy(data: Path) -> None:
    """Some proxies append `address:port` (IIS ARR, Azure's gateway): read as garbage, every
    client behind the proxy shared its count, and one attacker's guesses locked all out."""
    app = _app(data, login_client_failures=2, trusted_proxies="10.0.0.0/8")
    behind = TestClient(app, client=("10.0.0.2", 50000))
    for n in range(2):
        sent = {"X-Forwarded-For": f"198.51.100.20:{5000 + n}"}
        assert _login(behind, "alice", headers=sent).status_code == 401
    assert (
        _login(behind, "bob", headers={"X-Forwarded-For": "198.51.100.20:6000"}).status_code == 429
    )
    for other in ("198.51.100.21:443", "[2001:db8::7]:443"):  # other clients: their own counts
        sent = {"X-Forwarded-For": other}
        assert _login(behind, "carol", TEST_PASSWORD, headers=sent).status_code == 200
