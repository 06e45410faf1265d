"""IT staff accounts for the server's pages: scrypt password hashes, sessions, CSRF tokens, slowed-down guessing.

A session cookie holds a random token; the database keeps only its SHA-256, so a copy of the database does not
let anyone sign in. Each session has its own CSRF token, which every form must send back. After a few failed
sign-ins in a row for one name, each further try must wait (1 s, then doubling up to a limit) and is refused
without checking the password until then; the count is taken before a password is checked, so tries sent all at
once, to one server process or several, are held to the same limit. A password hashed with older scrypt
settings is hashed again with today's at its next correct sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, delete, exc, insert, select, update

from kiosk.domain.scrypt_hash import hash_secret, needs_rehash, verify_secret
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import ADMIN_SESSION, ADMIN_USER, LOGIN_THROTTLE

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,63}")
MIN_PASSWORD = 10


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The stored form: scrypt$N$r$p$salt$hash (base64), with a random salt."""
    return hash_secret(password, salt)


def verify_password(password: str, stored: str) -> bool:
    """True when the password matches the stored hash; a malformed hash matches nothing."""
    return verify_secret(password, stored)


# A real hash to check against when the name is unknown, so both cases take the same time.
_DUMMY_HASH = hash_password("not a password", b"\0" * 16)


def add_user(engine: Engine, username: str, password: str) -> None:
    """Create an IT account (or refuse a malformed or repeated name, or a short password)."""
    if not USERNAME.fullmatch(username):
        raise ServerError(f"Tên đăng nhập {username!r} không hợp lệ: 2–64 chữ, số hoặc . _ @ -",
                          f"invalid username {username!r}: 2–64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise ServerError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự",
                          f"the password needs at least {MIN_PASSWORD} characters")
    stored = hash_password(password)
    try:
        with writing(engine) as conn:
            conn.execute(insert(ADMIN_USER).values(username=username, password_hash=stored, created_at=utc_now()))
    except exc.IntegrityError:
        raise ServerError(f"Đã có tài khoản {username!r}", f"an account {username!r} already exists") from None


@dataclass(frozen=True)
class Session:
    """A signed-in IT user."""

    user_id: int
    username: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a sign-in: a new session token, or why not and how long to wait before trying again."""

    token: str | None = None
    wait_s: int = 0             # seconds before the next try is looked at (0: at once)
    throttled: bool = False     # True: refused without looking at the password (too many failures in a row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _delay(failures: int, free: int, max_delay: int) -> int:
    return 0 if failures < free else min(2 ** (failures - free), max_delay)


# Tries at claiming an attempt when other requests for the same name keep changing its row first.
_CLAIM_TRIES = 20


def _claim(engine: Engine, name: str, free_attempts: int, max_delay_s: int) -> tuple[int, int]:
    """Count this try as a failure before its password is looked at: (failures counted, seconds to wait).

    A wait above 0 means the try is refused unchecked. Counting first, in one compare-and-set on the name's
    row, is what makes the limit hold when many tries arrive at once, in one process or in several: each try
    that gets to check a password has moved the count, so the next one sees it (SQLite: one writer at a time;
    PostgreSQL: the UPDATE matches only the row version it read, else it is tried again). A correct password
    then clears the row.
    """
    for _ in range(_CLAIM_TRIES):
        now = utc_now()
        with writing(engine) as conn:
            row = conn.execute(select(LOGIN_THROTTLE).where(LOGIN_THROTTLE.c.username == name)).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(LOGIN_THROTTLE).values(username=name, failures=1, last_failure_at=now))
                except exc.IntegrityError:
                    continue  # another try for this name made the row first: read it
                return 1, 0
            ready = row.last_failure_at + timedelta(seconds=_delay(row.failures, free_attempts, max_delay_s))
            if ready > now:
                return row.failures, max(1, math.ceil((ready - now).total_seconds()))
            claimed = conn.execute(
                update(LOGIN_THROTTLE)
                .where(LOGIN_THROTTLE.c.username == name, LOGIN_THROTTLE.c.failures == row.failures,
                       LOGIN_THROTTLE.c.last_failure_at == row.last_failure_at)
                .values(failures=row.failures + 1, last_failure_at=now)).rowcount
            if claimed == 1:
                return row.failures + 1, 0
    # Still contended after every try: a burst is going on for this name, so this one waits too.
    return 0, 1


def login(engine: Engine, username: str, password: str, lifetime: timedelta, *, free_attempts: int,
          max_delay_s: int) -> LoginResult:
    """Check a sign-in; on success make a session and return its token (shown only to the browser)."""
    name = username.strip()[:64]
    failures, wait_s = _claim(engine, name, free_attempts, max_delay_s)
    if wait_s:
        return LoginResult(wait_s=wait_s, throttled=True)
    with reading(engine) as conn:
        user = conn.execute(select(ADMIN_USER).where(ADMIN_USER.c.username == name)).first()
    # An unknown name is checked against a real hash too, so both cases take the same time.
    ok = verify_password(password, user.password_hash if user is not None else _DUMMY_HASH)
    if not ok or user is None:
        return LoginResult(wait_s=_delay(failures, free_attempts, max_delay_s))
    # A hash made with weaker settings is replaced now, while the password is at hand (hashed outside the
    # write transaction: it takes a fifth of a second).
    rehashed = hash_password(password) if needs_rehash(user.password_hash) else None
    now = utc_now()
    with writing(engine) as conn:
        conn.execute(delete(LOGIN_THROTTLE).where(LOGIN_THROTTLE.c.username == name))
        if rehashed is not None:
            # Only over the hash just checked: a password changed meanwhile is not undone.
            conn.execute(update(ADMIN_USER).where(ADMIN_USER.c.id == user.id,
                                                  ADMIN_USER.c.password_hash == user.password_hash)
                         .values(password_hash=rehashed))
        conn.execute(delete(ADMIN_SESSION).where(ADMIN_SESSION.c.expires_at < now))
        token = secrets.token_urlsafe(32)
        conn.execute(insert(ADMIN_SESSION).values(token_hash=_token_hash(token), user_id=user.id,
                                                  csrf_token=secrets.token_urlsafe(24), created_at=now,
                                                  expires_at=now + lifetime))
    return LoginResult(token=token)


def session(engine: Engine, token: str | None) -> Session | None:
    """The live session for a cookie's token, or None."""
    if not token or len(token) > 200:
        return None
    with reading(engine) as conn:
        return session_on(conn, token)


# Built once: the statement is the same for every request, only the token's hash changes.
_SESSION_BY_HASH = (
    select(ADMIN_SESSION.c.user_id, ADMIN_SESSION.c.csrf_token, ADMIN_SESSION.c.expires_at, ADMIN_USER.c.username)
    .select_from(ADMIN_SESSION.join(ADMIN_USER, ADMIN_USER.c.id == ADMIN_SESSION.c.user_id))
    .where(ADMIN_SESSION.c.token_hash == bindparam("token_hash")))


def session_on(conn: Connection, token: str | None) -> Session | None:
    """The live session for a cookie's token, read on an open connection (a page's one read transaction)."""
    if not token or len(token) > 200:
        return None
    row = conn.execute(_SESSION_BY_HASH, {"token_hash": _token_hash(token)}).first()
    if row is None or row.expires_at <= utc_now():
        return None
    return Session(row.user_id, row.username, row.csrf_token, row.expires_at)


def logout(engine: Engine, token: str) -> None:
    """End the session with this token."""
    with writing(engine) as conn:
        conn.execute(delete(ADMIN_SESSION).where(ADMIN_SESSION.c.token_hash == _token_hash(token)))


def csrf_ok(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
