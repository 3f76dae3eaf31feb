"""The account store: users, their API tokens and browser sessions, and login throttling.

Everything is an object in the store (keys: accounts/keys.py), so every process of an
installation (the API, a second API, the operator's CLI) sees the same accounts at once: a
revoked token or a disabled user is refused on the next request, a login lock holds everywhere.

Login throttling counts each attempt BEFORE its (slow, argon2) password check, atomically: an
attempt takes one of the MAX_FAILURES slots of the login name's current round, each a
write-once object (`store.create`: exactly one of racing writers gets a slot). When every slot
of the round is taken, logins are refused until LOCK_S after the last one was; then the next
attempt opens the next round. A good password opens a new round (failures "in a row" start
again). No lock is held across the password check, and guesses sent in parallel cannot all be
tried: at most MAX_FAILURES per round, whatever the number of processes.

A login name that is no user gets the same rule, the same answers and the same store work
(a folder listed, one object written), but its count lives in this process's bounded memory
(accounts/throttle.py) and the object written is one fixed decoy: names an attacker makes up
leave nothing on disk, and neither the answers nor their timing tell a user's name from
another (issue: round 15, access hardening).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from accounts import keys
from accounts.models import (
    Attempt,
    Principal,
    Session,
    Token,
    User,
    valid_login,
    valid_password,
)
from accounts.throttle import InARow
from schemas.accounts import Role
from schemas.errors import BadAccount, LoginLocked, NotFound, SohoaError, Unauthenticated
from schemas.text import nfc
from storage.base import ObjectStore

SESSION_HOURS = 8.0
MAX_FAILURES = 5  # failed logins in a row for one login name …
LOCK_S = 60  # … lock it for this long (whoever tries, from wherever)
SLOT_TRIES = 50  # slots lost to racing attempts before one is refused as if locked
LAST_USED_EVERY = timedelta(minutes=1)  # a token's last use is written at most this often
WRONG = "wrong login or password"  # the same words whatever was wrong: no user enumeration
# Names that are no user whose failures are remembered (per process): ~150 bytes each
UNKNOWN_NAMES = 10_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Accounts:
    def __init__(
        self,
        store: ObjectStore,
        session_hours: float = SESSION_HOURS,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.session_ttl = timedelta(hours=session_hours)
        self.clock = clock
        self.hasher = PasswordHasher()  # argon2id with the library's memory-hard defaults
        self.unknown_names = InARow(
            MAX_FAILURES, LOCK_S, UNKNOWN_NAMES, clock=lambda: self.clock().timestamp()
        )

    # ------------------------------------------------------------------ users

    def add_user(self, login: str, role: Role | str, organ_id: str, password: str) -> User:
        user = User(
            login=valid_login(login),
            role=_role(role),
            organ_id=nfc(organ_id.strip()),
            password_hash=self.hasher.hash(valid_password(password)),
            created=self.clock(),
        )
        if not self.store.create(keys.user(user.login), user.model_dump_json().encode()):
            raise BadAccount(f"user {user.login!r} already exists")
        return user

    def user(self, login: str) -> User:
        try:
            data = self.store.get_bytes(keys.user(valid_login(login)))
        except NotFound:
            raise NotFound(f"no user {nfc(login)!r}") from None
        return User.model_validate_json(data)

    def users(self) -> list[User]:
        return [self.user(keys.login_of(key)) for key in self.store.list(keys.USERS)]

    def disable(self, login: str) -> None:
        """The user's tokens stop working at once (each request reads the user) and its
        sessions are deleted."""
        user = self.user(login)
        self._save(user.model_copy(update={"disabled": True}))
        self._end_sessions(user.login)

    def set_password(self, login: str, password: str) -> int:
        """The new password, and the user's sessions ended (the password may have been stolen,
        and a session opened with it); how many. Its API tokens stay (`revoke` them)."""
        user = self.user(login)
        self._save(
            user.model_copy(update={"password_hash": self.hasher.hash(valid_password(password))})
        )
        return self._end_sessions(user.login)

    def _end_sessions(self, login: str) -> int:
        ended = [key for key, session in self._sessions() if session.login == login]
        for key in ended:
            self.store.delete(key)
        return len(ended)

    def _save(self, user: User) -> None:
        self.store.put_bytes(keys.user(user.login), user.model_dump_json().encode())

    # ------------------------------------------------------------------ API tokens

    def issue_token(self, login: str, name: str = "") -> str:
        """A new token, returned once: only its SHA-256 is stored."""
        user = self.user(login)
        taken = {t.name for t in self.tokens(user.login)}
        name = nfc(name.strip()) or _next_name(taken)
        if name in taken:
            raise BadAccount(f"user {user.login!r} already has a token named {name!r}")
        secret = secrets.token_urlsafe(32)
        record = Token(login=user.login, name=name, created=self.clock())
        self.store.put_bytes(keys.token(secret), record.model_dump_json().encode())
        return secret

    def tokens(self, login: str) -> list[Token]:
        return [token for _, token in self._tokens() if token.login == login]

    def revoke(self, login: str, name: str) -> None:
        user = self.user(login)
        found = [key for key, t in self._tokens() if t.login == user.login and t.name == name]
        if not found:
            raise NotFound(f"user {user.login!r} has no token named {name!r}")
        for key in found:
            self.store.delete(key)

    def principal_for_token(self, secret: str) -> Principal | None:
        """The user a bearer token stands for, or None (unknown, revoked, user disabled)."""
        key = keys.token(secret)
        token = self._read(key, Token)
        user = self._active(token.login) if token else None
        if token is None or user is None:
            return None
        now = self.clock()
        if token.last_used is None or now - token.last_used > LAST_USED_EVERY:
            used = token.model_copy(update={"last_used": now}).model_dump_json().encode()
            # Only a note: a read-only data folder still serves reads with its tokens.
            with contextlib.suppress(SohoaError, OSError):
                self.store.put_bytes(key, used)
        return Principal(login=user.login, role=user.role, organ_id=user.organ_id, via="token")

    def _tokens(self) -> Iterator[tuple[str, Token]]:
        for key in self.store.list(keys.TOKENS):
            if (token := self._read(key, Token)) is not None:
                yield key, token

    # ------------------------------------------------------------------ sessions

    def login(self, login: str, password: str) -> tuple[str, Session]:
        """A new session (its id, returned once, and its CSRF token) for the right password;
        Unauthenticated otherwise, LoginLocked after MAX_FAILURES in a row."""
        try:
            login = valid_login(login)
        except BadAccount:
            raise Unauthenticated(WRONG) from None
        if self._read(keys.user(login), User) is None:  # no such user: see the docstring
            self._take_unknown(login)
            round_no = None
        else:
            round_no = self._take_attempt(login)  # counted before the check: see the docstring
        user = self._active(login)
        if not self._password_matches(user, nfc(password)) or round_no is None:
            raise Unauthenticated(WRONG)
        self.store.create(keys.attempt(login, round_no + 1, "open"), b"{}")  # failures reset
        session_id = secrets.token_urlsafe(32)
        session = Session(
            login=login,
            csrf_token=secrets.token_urlsafe(32),
            expires=self.clock() + self.session_ttl,
        )
        self.store.put_bytes(keys.session(session_id), session.model_dump_json().encode())
        return session_id, session

    def principal_for_session(self, session_id: str) -> Principal | None:
        key = keys.session(session_id)
        session = self._read(key, Session)
        if session is not None and session.expires <= self.clock():
            self.store.delete(key)
            return None
        user = self._active(session.login) if session else None
        if session is None or user is None:
            return None
        return Principal(
            login=user.login,
            role=user.role,
            organ_id=user.organ_id,
            via="session",
            csrf_token=session.csrf_token,
        )

    def logout(self, session_id: str) -> None:
        self.store.delete(keys.session(session_id))

    def _sessions(self) -> Iterator[tuple[str, Session]]:
        for key in self.store.list(keys.SESSIONS):
            if (session := self._read(key, Session)) is not None:
                yield key, session

    def _password_matches(self, user: User | None, password: str) -> bool:
        if user is None:  # hash anyway: an unknown login takes as long as a wrong password
            self.hasher.hash(password)
            return False
        try:
            self.hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if self.hasher.check_needs_rehash(user.password_hash):
            self._save(user.model_copy(update={"password_hash": self.hasher.hash(password)}))
        return True

    def _take_attempt(self, login: str) -> int:
        """Take a slot of the login's current round (its number); LoginLocked when the round
        is full and its last slot younger than LOCK_S."""
        for _ in range(SLOT_TRIES):
            rounds: dict[int, list[str]] = {}
            for key in self.store.list(keys.attempts(login)):
                round_no, slot = keys.attempt_round(key)
                rounds.setdefault(round_no, []).extend([] if slot == "open" else [slot])
            current = max(rounds, default=0)
            taken = len(rounds.get(current, []))
            now = self.clock()
            if taken >= MAX_FAILURES:
                last = self._read(keys.attempt(login, current, MAX_FAILURES - 1), Attempt)
                until = (last.at if last else now) + timedelta(seconds=LOCK_S)
                if until > now:
                    raise _locked(login, int((until - now).total_seconds()) + 1)
                current, taken = current + 1, 0
            mine = Attempt(at=now).model_dump_json().encode()
            if self.store.create(keys.attempt(login, current, taken), mine):
                for old in (r for r in rounds if r < current - 1):  # no longer read
                    for slot in [*rounds[old], "open"]:
                        self.store.delete(keys.attempt(login, old, slot))
                return current
        raise LoginLocked(f"too many logins for {login!r} at once: try again in 1 s", 1)

    def _take_unknown(self, login: str) -> None:
        """`_take_attempt` for a name that is no user: the same store work (its empty folder
        listed, one object written: the fixed decoy), the count in memory."""
        for _ in self.store.list(keys.attempts(login)):
            pass  # (a user deleted since its attempts: they are no longer read)
        wait = self.unknown_names.take(login)
        if wait is not None:
            raise _locked(login, wait)
        decoy = Attempt(at=self.clock()).model_dump_json().encode()
        self.store.put_bytes(keys.DECOY_ATTEMPT, decoy)

    # ------------------------------------------------------------------ reading

    def _active(self, login: str) -> User | None:
        user = self._read(keys.user(login), User)
        return None if user is None or user.disabled else user

    def _read(self, key: str, model: type):  # noqa: ANN202 - an instance of `model`, or None
        try:
            return model.model_validate_json(self.store.get_bytes(key))
        except NotFound:
            return None


def _locked(login: str, wait_s: int) -> LoginLocked:
    return LoginLocked(f"too many failed logins for {login!r}: try again in {wait_s} s", wait_s)


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise BadAccount(f"role {role!r}: use one of {roles}") from None


def _next_name(taken: set[str]) -> str:
    n = len(taken) + 1
    while f"token-{n}" in taken:
        n += 1
    return f"token-{n}"
