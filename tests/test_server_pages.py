"""The IT pages over real HTTP, on SQLite and PostgreSQL: sign-in, the fleet page and its JSON twin.

The fleet page must make a silent device, a broken chain and a wrong clock stand out by a word, not only by
colour; the HTML is fetched and read as a browser would get it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from kiosk.domain.scrypt_hash import needs_rehash, verify_secret
from sync import protocol
from sync.server.admin import accounts
from sync.server.models import ADMIN_USER, DEVICE
from tests.sync_harness import ServerHandle, push, signed_request

PASSWORD = "một mật khẩu đủ dài"


@pytest.fixture(scope="module")
def it_user(module_server: ServerHandle) -> str:
    """An IT account on the shared server."""
    accounts.add_user(module_server.engine(), "it.tinh", PASSWORD)
    return "it.tinh"


def login_form(session: requests.Session, base: str, path: str = "/login") -> dict[str, str]:
    """The sign-in form's hidden fields, as the browser receives them."""
    page = session.get(base + path, timeout=10)
    assert page.status_code == 200
    return {name: unescape(value) for name, value in re.findall(r'name="(csrf|next)" value="([^"]*)"', page.text)}


def sign_in(base: str, username: str, password: str = PASSWORD, **extra: str) -> tuple[requests.Session,
                                                                                       requests.Response]:
    """A browser session that filled in and sent the sign-in form."""
    session = requests.Session()
    fields = login_form(session, base) | {"username": username, "password": password} | extra
    return session, session.post(base + "/login", data=fields, allow_redirects=False, timeout=10)


def page_text(html: str) -> str:
    """What a person reads: the page without tags."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def row_of(html: str, device_id: str) -> tuple[set[str], str]:
    """The fleet table row of one device: its CSS classes and its text."""
    match = re.search(rf'<tr class="([^"]*)" data-device="{device_id}">(.*?)</tr>', html, re.DOTALL)
    assert match, f"no row for {device_id}"
    return set(match.group(1).split()), page_text(match.group(2))


@pytest.fixture
def fleet_devices(module_server: ServerHandle, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Three enrolled devices: one healthy, one silent for two days, one whose chain broke at record 3."""
    engine = module_server.engine()
    made = {}
    kiosks = []
    for name in ("healthy", "silent", "broken"):
        device, device_id = module_server.enrolled_device(tmp_path / name, "FL", "Q01")
        device.rate(4)
        kiosks.append(device)
        made[name] = device_id
        if name == "broken":  # someone changed a rating in the kiosk's file before it was sent
            con = sqlite3.connect(device.database.path)
            with con:
                con.execute("DROP TRIGGER log_append_only_update")
                con.execute("UPDATE log SET level = 5 WHERE seq = 3")
            con.close()
        answer = push(module_server.url, device, device_id, device.records())
        assert answer.status_code == (409 if name == "broken" else 200)
    with engine.begin() as conn:  # two days pass without a word from the silent one
        conn.execute(update(DEVICE).where(DEVICE.c.id == made["silent"]).values(
            last_contact_at=datetime.now(UTC) - timedelta(days=2)))
    yield made
    for device in kiosks:
        device.close()


def test_pages_need_a_sign_in(module_server: ServerHandle) -> None:
    anonymous = requests.get(module_server.url + "/fleet", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert requests.get(module_server.url + "/fleet.json", timeout=10).status_code == 401
    forged = requests.get(module_server.url + "/fleet", cookies={"kiosk_session": "guess"}, allow_redirects=False,
                          timeout=10)
    assert forged.status_code == 303


def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it(module_server: ServerHandle,
                                                                     it_user: str) -> None:
    session, answer = sign_in(module_server.url, it_user)
    assert answer.status_code == 303 and answer.headers["location"] == "/fleet"
    cookie = answer.headers["set-cookie"]
    assert "kiosk_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1
    page = session.get(module_server.url + "/fleet", timeout=10)
    assert page.status_code == 200 and "Thiết bị" in page.text and it_user in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    # Sign-out without the form's token (another site posting to us) does nothing.
    session.post(module_server.url + "/logout", data={"csrf": "wrong"}, allow_redirects=False, timeout=10)
    assert session.get(module_server.url + "/fleet", allow_redirects=False, timeout=10).status_code == 200
    stolen = dict(session.cookies)
    session.post(module_server.url + "/logout", data={"csrf": csrf.group(1)}, allow_redirects=False, timeout=10)
    # The server forgot the session: even a copy of the old cookie no longer works.
    again = requests.get(module_server.url + "/fleet", cookies=stolen, allow_redirects=False, timeout=10)
    assert again.status_code == 303


def test_the_cookie_is_secure_behind_https(module_server: ServerHandle, it_user: str) -> None:
    session = requests.Session()
    fields = login_form(session, module_server.url) | {"username": it_user, "password": PASSWORD}
    # A reverse proxy on this machine terminated HTTPS and says so.
    answer = session.post(module_server.url + "/login", data=fields, headers={"X-Forwarded-Proto": "https"},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_or_a_missing_form_token_does_not_sign_in(module_server: ServerHandle,
                                                                   it_user: str) -> None:
    _, wrong = sign_in(module_server.url, "nobody.here", "whatever password")
    assert wrong.status_code == 401 and "Sai tên đăng nhập" in wrong.text and "kiosk_session" not in wrong.headers.get(
        "set-cookie", "")
    no_token = requests.post(module_server.url + "/login", data={"username": it_user, "password": PASSWORD},
                             allow_redirects=False, timeout=10)
    assert no_token.status_code == 403 and "kiosk_session=" not in no_token.headers.get("set-cookie", "")


def test_repeated_failures_slow_down_sign_in(module_server: ServerHandle) -> None:
    accounts.add_user(module_server.engine(), "it.cham", PASSWORD)
    answers = [sign_in(module_server.url, "it.cham", "sai mật khẩu rồi")[1] for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 401]  # each was checked, and was wrong
    assert "chờ" not in answers[1].text
    assert "Lần thử sau cần chờ 1 giây" in answers[2].text and "next try must wait 1 s" in answers[2].text
    # The next try waits, even with the right password: guessing becomes slow.
    _, waiting = sign_in(module_server.url, "it.cham")
    assert waiting.status_code == 429 and "chờ" in waiting.text and "chưa được kiểm tra" in waiting.text
    assert waiting.headers["retry-after"] == "1"
    # Once the wait is over the right password signs in (refused tries meanwhile do not add to the wait).
    deadline = time.monotonic() + 30
    while (ok := sign_in(module_server.url, "it.cham")[1]).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ok.status_code == 303


def old_scrypt_hash(password: str) -> str:
    """A password hash as the server made them before scrypt's settings were raised (N=2^14, r=8, p=1)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def stored_hash(server: ServerHandle, username: str) -> str:
    """The password hash the database holds for an IT account."""
    with server.engine().connect() as conn:
        return str(conn.execute(select(ADMIN_USER.c.password_hash).where(ADMIN_USER.c.username == username))
                   .scalar_one())


def test_a_hash_made_with_older_scrypt_settings_is_replaced_at_the_next_correct_sign_in(
        module_server: ServerHandle) -> None:
    engine = module_server.engine()
    accounts.add_user(engine, "it.cu", PASSWORD)
    assert stored_hash(module_server, "it.cu").startswith("scrypt$16384$8$5$")  # today's settings
    old = old_scrypt_hash(PASSWORD)
    with engine.begin() as conn:  # as an account made before the change holds it
        conn.execute(update(ADMIN_USER).where(ADMIN_USER.c.username == "it.cu").values(password_hash=old))
    # A wrong password changes nothing.
    assert sign_in(module_server.url, "it.cu", "không phải mật khẩu")[1].status_code == 401
    assert stored_hash(module_server, "it.cu") == old
    # The right one signs in with the old hash, which is then replaced by one with today's settings.
    session, answer = sign_in(module_server.url, "it.cu")
    assert answer.status_code == 303
    assert session.get(module_server.url + "/fleet", allow_redirects=False, timeout=10).status_code == 200
    new = stored_hash(module_server, "it.cu")
    assert new != old and new.startswith("scrypt$16384$8$5$") and not needs_rehash(new)
    assert verify_secret(PASSWORD, new) and not verify_secret("không phải mật khẩu", new)
    # It signs in with the new hash, which is kept as it is.
    assert sign_in(module_server.url, "it.cu")[1].status_code == 303
    assert stored_hash(module_server, "it.cu") == new
    # An unknown name is still checked against a hash of today's cost, so it answers no faster.
    assert not needs_rehash(accounts._DUMMY_HASH)


def test_the_fleet_page_makes_problems_stand_out_in_words(module_server: ServerHandle, it_user: str,
                                                          fleet_devices: dict[str, str]) -> None:
    session, _ = sign_in(module_server.url, it_user)
    page = session.get(module_server.url + "/fleet", timeout=10)
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and 'href="/static/style.css"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing loaded from the internet
    healthy = row_of(page.text, fleet_devices["healthy"])
    silent = row_of(page.text, fleet_devices["silent"])
    broken = row_of(page.text, fleet_devices["broken"])
    # Colour (the "attention" class) and words, never colour alone.
    assert "attention" not in healthy[0] and "Bình thường" in healthy[1] and "Nguyên vẹn" in healthy[1]
    assert "attention" in silent[0] and "IM LẶNG" in silent[1] and "SILENT" in silent[1]
    assert "attention" in broken[0] and "CHUỖI HỎNG từ số 3" in broken[1] and "CHAIN BROKEN at 3" in broken[1]
    assert "mã băm sai" in broken[1] and "hash mismatch" in broken[1]  # the problem, in words
    assert page.text.index(fleet_devices["silent"]) < page.text.index(fleet_devices["healthy"])
    assert page.text.index(fleet_devices["broken"]) < page.text.index(fleet_devices["healthy"])
    # Counter, agency, queue and the received count are all there for the healthy one.
    assert "(FL)" in healthy[1] and "(Q01)" in healthy[1] and "đã nhận received 4" in healthy[1]


def test_the_fleet_json_twin_says_the_same(module_server: ServerHandle, it_user: str,
                                           fleet_devices: dict[str, str]) -> None:
    session, _ = sign_in(module_server.url, it_user)
    rows = {d["device_id"]: d for d in session.get(module_server.url + "/fleet.json", timeout=10).json()}
    assert [a["code"] for a in rows[fleet_devices["silent"]]["alerts"]] == ["silent"]
    broken = rows[fleet_devices["broken"]]
    assert (broken["chain_state"], broken["first_bad_seq"], broken["acked_seq"]) == ("broken", 3, 2)
    assert rows[fleet_devices["healthy"]]["alerts"] == []
    assert rows[fleet_devices["healthy"]]["acked_seq"] == 4


def test_a_device_reporting_health_shows_its_state(module_server: ServerHandle, it_user: str,
                                                   tmp_path: Path) -> None:
    device, device_id = module_server.enrolled_device(tmp_path / "kiosk", "FL", "Q02")
    report = {"app_version": "0.1.0", "queue_depth": 42, "head_seq": 42, "head_hash": "b" * 64, "acked_seq": 0,
              "disk_free_bytes": 1, "printer_state": "fault", "printer_fault": "Hết giấy",
              "device_time": (datetime.now(UTC) + timedelta(minutes=5)).isoformat()}
    assert signed_request(module_server.url, device.key, device_id, "POST", protocol.HEALTH_PATH,
                          report).status_code == 200
    session, _ = sign_in(module_server.url, it_user)
    classes, row = row_of(session.get(module_server.url + "/fleet", timeout=10).text, device_id)
    assert "attention" in classes and "LỆCH GIỜ +300 giây CLOCK off by +300 s" in row
    assert "42" in row and "Lỗi Fault Hết giấy" in row and "0.1.0" in row
    device.close()


def test_the_stylesheet_is_served_locally(module_server: ServerHandle) -> None:
    css = requests.get(module_server.url + "/static/style.css", timeout=10)
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "@media (max-width" in css.text and "url(" not in css.text
