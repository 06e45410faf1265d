"""Wrong passwords for one account sent all at once, to two server processes on one database (SQLite and
PostgreSQL): no more of them get their password checked than the throttle allows one by one.

Each answer says which it was: 401 (checked, wrong) or 429 (refused before the password was looked at). The
database's count of failures for the name must agree, since every checked try is counted before it is checked.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import insert, select

from sync.server.admin import accounts
from sync.server.db import utc_now
from sync.server.models import LOGIN_THROTTLE
from sync.server.settings import Admin
from tests.sync_harness import ServerHandle, start_server
from tests.test_server_pages import PASSWORD, login_form

BURST = 50
FREE = Admin().free_attempts  # the servers run with the built-in settings


def burst(servers: list[ServerHandle], username: str, password: str) -> tuple[list[requests.Response], float]:
    """BURST sign-ins, each from its own browser session with its own form, sent at the same instant and
    spread over the servers; the answers, and the seconds from sending to the last answer."""
    barrier = threading.Barrier(BURST)
    sent: list[float] = []

    def one(index: int) -> requests.Response:
        base = servers[index % len(servers)].url
        with requests.Session() as session:
            fields = login_form(session, base) | {"username": username, "password": password}
            barrier.wait(timeout=120)
            sent.append(time.monotonic())
            return session.post(base + "/login", data=fields, allow_redirects=False, timeout=120)

    with ThreadPoolExecutor(BURST) as pool:
        answers = list(pool.map(one, range(BURST)))
    return answers, time.monotonic() - min(sent)


def allowed_checks(failures_before: int, seconds: float) -> int:
    """How many tries the throttle lets through when they come one by one over `seconds`, the wait after the
    failures before them being over: the first at once, then one after each wait (none for the free tries,
    then 1 s, 2 s, 4 s … up to max_delay_s)."""
    failures, clock = failures_before + 1, 0.0
    while True:
        wait = 0 if failures < FREE else min(2 ** (failures - FREE), Admin().max_delay_s)
        if clock + wait > seconds:
            return failures - failures_before
        clock += wait
        failures += 1


def failures_counted(server: ServerHandle, username: str) -> int:
    """The throttle's count of failed tries for the name."""
    with server.engine().connect() as conn:
        found = conn.execute(select(LOGIN_THROTTLE.c.failures).where(LOGIN_THROTTLE.c.username == username))
        return int(found.scalar_one())


def test_fifty_wrong_passwords_at_once_on_two_processes_get_only_the_free_tries_checked(
        server_db_url: str, tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        servers = list(pool.map(start_server, (server_db_url, server_db_url), (tmp_path / "1", tmp_path / "2")))
    try:
        accounts.add_user(servers[0].engine(), "it.tinh", PASSWORD)
        answers, seconds = burst(servers, "it.tinh", "một mật khẩu đoán sai")
        statuses = Counter(answer.status_code for answer in answers)
        assert set(statuses) <= {401, 429}, [a.text[:300] for a in answers if a.status_code not in (401, 429)]
        # Every try that got its password checked was counted first. The free tries at least (they are owed an
        # answer), and no more than one by one in the same time: the free ones, plus one more only if the burst
        # outlasted the first 1 s wait.
        checked = failures_counted(servers[0], "it.tinh")
        assert FREE <= checked <= allowed_checks(0, seconds), (checked, statuses, seconds)
        assert statuses[401] == checked
        for answer in answers:
            assert "kiosk_session=" not in answer.headers.get("set-cookie", "")
            if answer.status_code == 429:
                assert "chưa được kiểm tra" in answer.text and "not checked" in answer.text
                assert int(answer.headers["retry-after"]) >= 1
            else:
                assert "Sai tên đăng nhập hoặc mật khẩu" in answer.text

        # A name that does not exist is held to the same limit (nobody learns which names exist).
        unknown, seconds = burst(servers, "khong.co.ai", "một mật khẩu đoán sai")
        checked = failures_counted(servers[1], "khong.co.ai")
        assert FREE <= checked <= allowed_checks(0, seconds), (checked, seconds)
        assert Counter(a.status_code for a in unknown)[401] == checked

        # Long past its free tries, the account's wait after one more failure is a minute: of a burst, one
        # try is checked (unless the burst outlasts that minute).
        accounts.add_user(servers[0].engine(), "it.xa", PASSWORD)
        with servers[0].engine().begin() as conn:
            conn.execute(insert(LOGIN_THROTTLE).values(username="it.xa", failures=FREE + 6,
                                                       last_failure_at=utc_now() - timedelta(hours=1)))
        answers, seconds = burst(servers, "it.xa", "một mật khẩu đoán sai")
        checked = failures_counted(servers[1], "it.xa") - (FREE + 6)
        assert 1 <= checked <= allowed_checks(FREE + 6, seconds), (checked, seconds)
        assert Counter(a.status_code for a in answers)[401] == checked
    finally:
        for server in servers:
            server.stop()
