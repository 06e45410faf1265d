"""The public web form (/y-kien/…) through the real server over HTTP, on SQLite and PostgreSQL, and in Debian's
headless Chromium at 390×844 with JavaScript off and on, by mouse and by keyboard alone.

Each test files its answers under an agency of its own, so the figures it reads back (reports.build, channel
web) are its own. Addresses are told apart with X-Forwarded-For, which the server (uvicorn, proxy headers)
trusts from 127.0.0.1 exactly as it trusts a local reverse proxy.

For the README's screenshots run `python -m tests.test_server_web_form --screenshots docs/screenshots` (never
done by the test run itself).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import Engine, func, select

from kiosk.domain.levels import COMMENT_MAX_CHARS, QUESTIONS
from sync.server import registry
from sync.server.channels import posters, web_form
from sync.server.cli import main as server_cli
from sync.server.errors import ServerError
from sync.server.models import AGENCY, RATE_WINDOW, RATING, SURVEY_RESPONSE, SURVEY_TOKEN, metadata
from sync.server.results import reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.secret import ServerSecret
from sync.server.settings import ServerSettings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, chromium, chromium_or_skip
from tests.sync_harness import ServerHandle, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SETTINGS = ServerSettings()
ZONE = ZoneInfo(SETTINGS.fleet.timezone)
AGENCY_NAME = "Trung tâm Phục vụ hành chính công xã Đắk Song"
USER_AGENT = "WebFormTest/1.0 (browser-marker-7f3a)"
_addresses = itertools.count(1)
_agencies = itertools.count(1)


def new_address() -> str:
    """An address of its own for one test (TEST-NET-3), as a proxy would pass it on."""
    number = next(_addresses)
    return f"203.0.{113 + number // 250}.{number % 250 + 1}"


@dataclass
class Site:
    """The running server and a way to make a fresh agency with a counter on it."""

    server: ServerHandle
    engine: Engine

    def agency(self, procedures: list[str] | None = None) -> str:
        """A new agency (with counter Q01) for one test; its code."""
        code = f"WF{next(_agencies):03d}"
        registry.add_agency(self.engine, code, {"name": AGENCY_NAME, "parent": "Tỉnh Lâm Đồng",
                                                "hotline": "1900 1234", "complaint_address": "Số 1 Hùng Vương"})
        registry.add_counter(self.engine, code, "Q01", "Quầy 1 — Tư pháp", procedures or [])
        return code


def start_site(db_url: str, directory: Path, config: Path | None = None) -> Site:
    """A real server on `db_url` (with the settings file `config`, if given)."""
    server = start_server(db_url, directory / "data", config=config)
    return Site(server, server.engine())


@pytest.fixture(scope="module")
def site(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    made = start_site(module_db_url, tmp_path_factory.mktemp("web-form"))
    yield made
    made.server.stop()


def counted(engine: Engine, agency: str) -> tuple[int, int, tuple[int, ...]]:
    """(answers counted, answers left out as repeats, counts of levels 1..5) on the web channel this month."""
    today = datetime.now(UTC).astimezone(ZONE).date()
    report = reports.build(engine, ReportQuery(Period.of("month", today), "counter", agency, channel="web"),
                           SETTINGS)
    return report.total.ratings, report.excluded_repeats, tuple(report.total.levels)


def flags(engine: Engine, agency: str) -> list[str | None]:
    """The flag of each stored web answer of the agency, in the order received."""
    with engine.connect() as conn:
        agency_id = conn.execute(select(AGENCY.c.id).where(AGENCY.c.code == agency)).scalar_one()
        return list(conn.execute(select(SURVEY_RESPONSE.c.flag_reason)
                                 .where(SURVEY_RESPONSE.c.agency_id == agency_id)
                                 .order_by(SURVEY_RESPONSE.c.received_at)).scalars())


def stored_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(SURVEY_RESPONSE)).scalar_one())


def post(site: Site, path: str, data: dict[str, str], address: str, session: requests.Session | None = None,
         **kw: Any) -> requests.Response:
    """POST the form as a browser without JavaScript would, from `address`."""
    sender = session or requests
    return sender.post(site.server.url + path, data=data, allow_redirects=False, timeout=30,
                       headers={"X-Forwarded-For": address, "User-Agent": USER_AGENT}, **kw)


# ---- the page ------------------------------------------------------------------------------------------------

def test_the_form_asks_the_kiosks_questions_in_vietnamese_then_english(site: Site) -> None:
    agency = site.agency(["1.001193"])
    page = requests.get(f"{site.server.url}/y-kien/{agency}/Q01", timeout=30)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert '<html lang="vi">' in html and "Rất không hài lòng" in html and AGENCY_NAME in html
    for question in QUESTIONS:
        assert question.text_vi in html and f'name="{question.key}"' in html
        assert f"<fieldset class=\"wf-q\" id=\"f-{question.key}\">" in html
    assert html.count('name="level"') == 5 and '<option value="1.001193">' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")   # nothing from elsewhere
    english = requests.get(f"{site.server.url}/y-kien/{agency}/Q01?lang=en", timeout=30).text
    assert '<html lang="en">' in english and "Very dissatisfied" in english and QUESTIONS[0].text_en in english
    assert 'name="lang" value="en"' in english and 'hreflang="vi"' in english
    plain = requests.get(f"{site.server.url}/y-kien/{agency}", timeout=30).text
    assert 'type="text" name="procedure_code"' in plain   # no counter list: a code typed, checked by the domain


def test_the_short_link_leads_to_the_form_keeping_a_token(site: Site) -> None:
    agency = site.agency()
    answer = requests.get(f"{site.server.url}/f/{agency}/Q01?t=" + "A" * 22, allow_redirects=False, timeout=30)
    assert answer.status_code == 302 and answer.headers["location"] == f"/y-kien/{agency}/Q01?t=" + "A" * 22
    assert requests.get(f"{site.server.url}/f/{agency}", allow_redirects=False,
                        timeout=30).headers["location"] == f"/y-kien/{agency}"
    assert requests.get(f"{site.server.url}/f/{agency}/Q99", allow_redirects=False, timeout=30).status_code == 404


@pytest.mark.parametrize("path", ["/y-kien/KHONGCO", "/y-kien/{agency}/Q99", "/y-kien/{agency}/Q99/cam-on",
                                  "/y-kien/{agency}/_", "/y-kien/{agency}/Q99/poster"])
def test_an_unknown_agency_or_counter_is_a_bilingual_404_and_stores_nothing(site: Site, path: str) -> None:
    agency = site.agency()
    before = stored_count(site.engine)
    url = site.server.url + path.format(agency=agency)
    for answer in (requests.get(url, timeout=30), requests.post(url, data={"level": "5"}, timeout=30)):
        assert answer.status_code in (404, 405)
    shown = requests.get(url, timeout=30)
    assert shown.status_code == 404 and "Không tìm thấy" in shown.text and "Not found" in shown.text
    if "cam-on" not in path and "poster" not in path:
        posted = requests.post(url, data={"level": "5"}, timeout=30)
        assert posted.status_code == 404 and "There is no form" in posted.text
    assert stored_count(site.engine) == before


FORGED = {
    "a level the form does not offer": {"level": "6"},
    "a level that is not a number": {"level": "năm"},
    "an unknown question": {"level": "5", "toilets": "3"},
    "a SIPAS answer out of range": {"level": "5", "access": "0"},
    "a yes/no answer out of range": {"level": "5", "harassment": "2"},
    "an unknown language": {"level": "5", "lang": "fr"},
    "a malformed token": {"level": "5", "t": "short"},
}


@pytest.mark.parametrize("fields", FORGED.values(), ids=FORGED.keys())
def test_a_forged_post_is_a_bilingual_422_and_stores_nothing(site: Site, fields: dict[str, str]) -> None:
    agency = site.agency()
    before = stored_count(site.engine)
    answer = post(site, f"/y-kien/{agency}/Q01", fields, new_address())
    assert answer.status_code == 422
    assert "không ghi nhận" in answer.text.lower() and "nothing was recorded" in answer.text
    assert stored_count(site.engine) == before


def test_an_oversized_post_is_refused_before_it_is_read_and_stores_nothing(site: Site) -> None:
    agency = site.agency()
    before = stored_count(site.engine)
    answer = post(site, f"/y-kien/{agency}/Q01", {"level": "5", "comment": "x" * 40_000}, new_address())
    assert answer.status_code == 413 and "vượt quá giới hạn" in answer.text and "exceeds the limit" in answer.text
    assert stored_count(site.engine) == before


MISTAKES = {
    "no level chosen": ({"access": "4", "comment": "Chỗ ngồi chờ hơi chật"}, "level", "Xin chọn một mức"),
    "a comment too long": ({"level": "4", "comment": "ư" * (COMMENT_MAX_CHARS + 1)}, "comment", "Góp ý dài quá"),
    "a procedure code not in the national form": ({"level": "4", "procedure_code": "12345"}, "procedure_code",
                                                  "Mã thủ tục không đúng dạng"),
}


@pytest.mark.parametrize(("fields", "field", "message"), MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_shows_the_form_again_with_the_values_kept_and_stores_nothing(
        site: Site, fields: dict[str, str], field: str, message: str) -> None:
    agency = site.agency()
    before = stored_count(site.engine)
    answer = post(site, f"/y-kien/{agency}", fields | {"lang": "vi"}, new_address())
    assert answer.status_code == 422 and 'role="alert"' in answer.text
    assert message in answer.text and "Please correct the following" in answer.text
    assert f'href="#f-{field}"' in answer.text
    if "access" in fields:
        assert 'id="access-4" value="4" checked' in answer.text
    if fields.get("comment", "").startswith("Chỗ"):
        assert ">Chỗ ngồi chờ hơi chật</textarea>" in answer.text
    if "procedure_code" in fields:
        assert 'value="12345"' in answer.text
    assert stored_count(site.engine) == before


# ---- storing and counting ------------------------------------------------------------------------------------

def test_an_answer_is_stored_redirected_to_thanks_and_counted_as_web(site: Site) -> None:
    agency = site.agency(["1.001193"])
    session = requests.Session()
    answer = post(site, f"/y-kien/{agency}/Q01", {"level": "5", "access": "4", "harassment": "0",
                                                   "procedure_code": "1.001193", "comment": " Rất nhanh ",
                                                   "lang": "en", "website": ""}, new_address(), session)
    assert answer.status_code == 303 and answer.headers["location"] == f"/y-kien/{agency}/Q01/cam-on?lang=en"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/y-kien" in cookie
    assert "Secure" not in cookie   # plain http here; https (X-Forwarded-Proto from the proxy) makes it Secure
    thanks = session.get(site.server.url + answer.headers["location"], timeout=30)
    assert thanks.status_code == 200 and "Thank you" in thanks.text and "1900 1234" in thanks.text
    assert counted(site.engine, agency) == (1, 0, (0, 0, 0, 0, 1))
    assert flags(site.engine, agency) == [None]


def test_the_cookie_is_secure_behind_https(site: Site) -> None:
    agency = site.agency()
    answer = requests.post(f"{site.server.url}/y-kien/{agency}", data={"level": "4"}, allow_redirects=False,
                           timeout=30, headers={"X-Forwarded-For": new_address(), "X-Forwarded-Proto": "https"})
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_a_second_answer_from_the_same_browser_is_kept_but_flagged(site: Site) -> None:
    agency, other = site.agency(), site.agency()
    session = requests.Session()
    assert post(site, f"/y-kien/{agency}/Q01", {"level": "5"}, new_address(), session).status_code == 303
    assert post(site, f"/y-kien/{agency}", {"level": "1"}, new_address(), session).status_code == 303
    assert post(site, f"/y-kien/{other}", {"level": "2"}, new_address(), session).status_code == 303
    assert flags(site.engine, agency) == [None, "repeat_browser"]
    assert counted(site.engine, agency) == (1, 1, (0, 0, 0, 0, 1))
    assert flags(site.engine, other) == [None]   # the cookie remembers each agency on its own
    forged = session.cookies.get(web_form.COOKIE, path="/y-kien")
    assert forged is not None
    tampered = requests.Session()
    tampered.cookies.set(web_form.COOKIE, forged[:-1] + ("0" if forged[-1] != "0" else "1"), path="/y-kien")
    assert post(site, f"/y-kien/{other}", {"level": "3"}, new_address(), tampered).status_code == 303
    assert flags(site.engine, other) == [None, None]   # a cookie the server did not sign says nothing


def test_a_filled_honeypot_is_kept_but_flagged(site: Site) -> None:
    agency = site.agency()
    assert post(site, f"/y-kien/{agency}", {"level": "1", "website": "http://spam.example"},
                new_address()).status_code == 303
    assert flags(site.engine, agency) == ["honeypot"]
    assert counted(site.engine, agency)[:2] == (0, 1)


def test_a_token_counts_once_and_an_unknown_one_counts_as_none(site: Site) -> None:
    agency = site.agency()
    token, other_agency_token = (web_form.make_tokens(site.engine, agency, "Q01", 1, "đợt 1")[0],
                                 web_form.make_tokens(site.engine, site.agency(), None, 1, "khác")[0])
    for level in (5, 4):
        assert post(site, f"/y-kien/{agency}/Q01", {"level": str(level), "t": token}, new_address()).status_code == 303
    assert post(site, f"/y-kien/{agency}/Q01", {"level": "3", "t": "Z" * 22}, new_address()).status_code == 303
    assert post(site, f"/y-kien/{agency}/Q01", {"level": "2", "t": other_agency_token},
                new_address()).status_code == 303
    assert flags(site.engine, agency) == [None, "token_reused", None, None]
    assert counted(site.engine, agency) == (3, 1, (0, 1, 1, 0, 1))
    with site.engine.connect() as conn:
        row = conn.execute(select(SURVEY_TOKEN).where(
            SURVEY_TOKEN.c.token_hash == hashlib.sha256(token.encode()).hexdigest())).one()
        tokens = list(conn.execute(select(SURVEY_TOKEN.c.token_hash)).scalars())
    assert row.used_at is not None and row.rating_uuid is not None and row.batch == "đợt 1"
    assert token not in tokens   # only the hash is kept


def _token_used(engine: Engine, token: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(SURVEY_TOKEN.c.used_at).where(
            SURVEY_TOKEN.c.token_hash == web_form.token_hash(token))).scalar_one() is not None


def test_a_robot_or_a_failed_store_leaves_the_citizen_s_card_unused(site: Site) -> None:
    agency = site.agency()
    token = web_form.make_tokens(site.engine, agency, None, 1, "thẻ")[0]
    assert post(site, f"/y-kien/{agency}", {"level": "1", "t": token, "website": "x"}, new_address()).status_code == 303
    assert not _token_used(site.engine, token)
    # An answer the store refuses (a level no form offers, as a fault in the reading would let through) stores
    # nothing and gives the card back.
    place = web_form.find_place(site.engine, agency, None)
    assert place is not None
    broken = web_form.Reading(values={}, language="vi", answers=web_form.Answers(9), token=token)
    secret = ServerSecret.load_or_create(site.server.data_dir)
    with pytest.raises(ServerError):
        web_form.submit(site.engine, secret, ServerSettings().webform, place, broken, address=new_address(),
                        cookie=None)
    assert not _token_used(site.engine, token)
    assert post(site, f"/y-kien/{agency}", {"level": "5", "t": token}, new_address()).status_code == 303
    assert _token_used(site.engine, token) and flags(site.engine, agency) == ["honeypot", None]


def test_two_answers_posted_at_once_with_one_token_count_once(site: Site) -> None:
    agency = site.agency()
    tokens = web_form.make_tokens(site.engine, agency, None, 4, "song song")
    for token in tokens:
        start = threading.Barrier(2)
        answers: list[int] = []

        def send(token: str = token, start: threading.Barrier = start, answers: list[int] = answers) -> None:
            start.wait()
            answers.append(post(site, f"/y-kien/{agency}", {"level": "4", "t": token}, new_address()).status_code)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [303, 303]
    found = flags(site.engine, agency)
    assert sorted(found, key=str) == sorted([None, "token_reused"] * 4, key=str)
    assert counted(site.engine, agency)[:2] == (4, 4)


def test_fifty_answers_from_one_address_in_a_minute_count_only_up_to_the_limit(site: Site) -> None:
    agency = site.agency()
    address = new_address()
    if datetime.now(UTC).second > 45:   # keep the burst inside one minute where the machine allows
        threading.Event().wait(61 - datetime.now(UTC).second)
    for _ in range(50):
        assert post(site, f"/y-kien/{agency}", {"level": "5"}, address).status_code == 303
    with site.engine.connect() as conn:
        windows = list(conn.execute(select(RATE_WINDOW.c.count).where(
            RATE_WINDOW.c.key_hash == web_form.address_key(_secret(site), address))).scalars())
    limit = SETTINGS.webform.rate_limit_per_min
    assert sum(windows) == 50
    expected = sum(min(count, limit) for count in windows)   # 10 unless the burst crossed a minute
    found = flags(site.engine, agency)
    assert found[:limit] == [None] * limit and found.count("rate_limited") == 50 - expected
    assert counted(site.engine, agency)[:2] == (expected, 50 - expected)
    # Another address is not held back by this one.
    assert post(site, f"/y-kien/{agency}", {"level": "5"}, new_address()).status_code == 303
    assert flags(site.engine, agency)[-1] is None


def _secret(site: Site) -> Any:
    from sync.server.secret import ServerSecret

    return ServerSecret.load_or_create(site.server.data_dir)


def test_nothing_identifying_is_stored(site: Site) -> None:
    agency = site.agency()
    address = "198.51.100.77"
    session = requests.Session()
    for level in ("5", "4"):
        assert post(site, f"/y-kien/{agency}", {"level": level, "comment": "Ổn"}, address, session).status_code == 303
    found: list[str] = []
    with site.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                found.extend(str(value) for value in row if value is not None)
    everything = "\n".join(found)
    assert "Ổn" in everything   # the scan sees the answers themselves …
    for secret_thing in (address, USER_AGENT, "WebFormTest", "198.51.100"):
        assert secret_thing not in everything   # … but not the address or the browser
    if site.server.db_url.startswith("sqlite"):
        path = Path(site.server.db_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert address.encode() not in raw and b"WebFormTest" not in raw


# ---- posters and tokens --------------------------------------------------------------------------------------

def test_the_poster_carries_the_short_link_as_a_qr(site: Site) -> None:
    agency = site.agency()
    page = requests.get(f"{site.server.url}/y-kien/{agency}/Q01/poster", timeout=30)
    assert page.status_code == 200 and "@page" not in page.text   # the A4 rule lives in the stylesheet
    url = f"{site.server.url}/f/{agency}/Q01"
    assert url.split("://")[1] in page.text and "camera" in page.text
    path = re.search(r'<path fill="#000" d="([^"]+)"', page.text)
    assert path
    modules = _modules(path.group(1))
    assert modules == posters.qr_matrix(url) and modules != posters.qr_matrix(url + "x")


def _modules(d: str) -> list[list[bool]]:
    """The QR modules back from the SVG path (runs "M x y h w v1 h-w z", offset by the 4-module quiet zone)."""
    runs = [tuple(int(n) for n in m) for m in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", d)]
    size = max(x + w for x, _y, w in runs) - 4
    grid = [[False] * size for _ in range(size)]
    for x, y, w in runs:
        for i in range(w):
            grid[y - 4][x - 4 + i] = True
    return grid


def test_the_survey_commands_make_a_poster_and_token_cards(site: Site, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    agency = site.agency()
    config = tmp_path / "server.toml"
    config.write_text('[server]\npublic_url = "https://kiosk.lamdong.gov.vn/"\n', encoding="utf-8")
    common = ["--config", str(config), "--db", site.server.db_url, "--data-dir", str(site.server.data_dir)]
    poster = tmp_path / "poster.html"
    assert server_cli([*common, "survey", "poster", "--agency", agency, "--counter", "Q01", "--out",
                       str(poster)]) == 0
    text = poster.read_text(encoding="utf-8")
    assert f"kiosk.lamdong.gov.vn/f/{agency}/Q01" in text and "@page" in text and "<svg" in text
    cards = tmp_path / "cards.csv"
    assert server_cli([*common, "survey", "tokens", "--agency", agency, "--count", "3", "--batch", "quý 4",
                       "--out", str(cards)]) == 0
    lines = cards.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "agency,counter,batch,url" and len(lines) == 4
    token = lines[1].rsplit("?t=", 1)[1]
    assert lines[1].startswith(f"{agency},,quý 4,https://kiosk.lamdong.gov.vn/f/{agency}?t=")
    html = tmp_path / "cards.html"
    assert server_cli([*common, "survey", "tokens", "--agency", agency, "--counter", "Q01", "--count", "2",
                       "--out", str(html)]) == 0
    shown = html.read_text(encoding="utf-8")
    assert shown.count('class="card-qr"') == 2 and "Quầy Quầy" not in shown and "Quầy 1 — Tư pháp" in shown
    assert post(site, f"/y-kien/{agency}", {"level": "5", "t": token}, new_address()).status_code == 303
    assert post(site, f"/y-kien/{agency}", {"level": "5", "t": token}, new_address()).status_code == 303
    assert flags(site.engine, agency) == [None, "token_reused"]
    capsys.readouterr()
    assert server_cli([*common, "survey", "tokens", "--agency", "KHONGCO", "--count", "2", "--out",
                       str(tmp_path / "x.csv")]) == 2
    assert "KHONGCO" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()
    assert server_cli([*common, "survey", "tokens", "--agency", agency, "--count", "0", "--out",
                       str(tmp_path / "y.csv")]) == 2
    # Without [server] public_url the link would be the address the server listens on: refused, nothing made.
    bare = ["--db", site.server.db_url, "--data-dir", str(site.server.data_dir)]
    capsys.readouterr()
    assert server_cli([*bare, "survey", "poster", "--agency", agency, "--out", str(tmp_path / "p.html")]) == 2
    assert "public_url" in capsys.readouterr().err and not (tmp_path / "p.html").exists()
    before = _tokens(site.engine)
    assert server_cli([*bare, "survey", "tokens", "--agency", agency, "--count", "5", "--out",
                       str(tmp_path / "z.csv")]) == 2
    assert _tokens(site.engine) == before and not (tmp_path / "z.csv").exists()
    # Into a folder that does not exist: refused before any token is made, and nothing is left half-written.
    missing = tmp_path / "khong-co" / "the.html"
    assert server_cli([*common, "survey", "tokens", "--agency", agency, "--count", "5", "--out", str(missing)]) == 2
    assert f"there is no folder {missing.parent}" in capsys.readouterr().err and _tokens(site.engine) == before
    assert server_cli([*common, "survey", "poster", "--agency", agency, "--out", str(missing)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


def _tokens(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(SURVEY_TOKEN)).scalar_one())


# ---- in a real browser ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A SQLite server of its own for the browser (the page is the same on either database)."""
    chromium_or_skip()
    directory = tmp_path_factory.mktemp("web-form-browser")
    made = start_site(f"sqlite:///{directory / 'server.db'}", directory)
    yield made
    made.server.stop()


@pytest.fixture(scope="module")
def browser(browser_site: Site) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def phone_page(browser: Browser, javascript: bool, locale: str = "vi-VN") -> Page:
    """A 390×844 phone page from an address of its own."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, locale=locale,
                                  extra_http_headers={"X-Forwarded-For": new_address()})
    return context.new_page()


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_a_citizen_answers_on_a_phone(browser: Browser, browser_site: Site, javascript: bool,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    agency = browser_site.agency(["1.001193"])
    page = phone_page(browser, javascript)
    complaints: list[str] = []   # a CSP refusal, a missing file: the console says so (the 422 is meant)
    page.on("console", lambda message: complaints.append(message.text)
            if message.type == "error" and "status of 422" not in message.text else None)
    page.on("requestfailed", lambda request: complaints.append(request.url))
    page.goto(f"{browser_site.server.url}/f/{agency}/Q01")
    assert page.url.endswith(f"/y-kien/{agency}/Q01") and no_sideways_scroll(page)
    send = page.locator("button.wf-send")
    with page.expect_navigation():
        send.click()   # nothing chosen: the server says what is missing, in place
    assert "Xin chọn một mức hài lòng" in page.inner_text("#errors")
    if javascript:
        assert page.evaluate("document.activeElement.id") == "errors"
    for selector in ("label[for=level-4]", "label[for=access-5]", "label[for=officer-3]",
                     "label[for=harassment-0]"):
        box = page.locator(selector).bounding_box()
        assert box and box["height"] >= 48 and box["width"] >= 48, selector
        page.click(selector)
    page.select_option("#procedure", "1.001193")
    page.fill("#comment", "Cán bộ hướng dẫn tận tình, nhưng phải chờ lâu.")
    hidden = page.locator("#hp").bounding_box()
    assert hidden is None or hidden["x"] + hidden["width"] < 0   # off the screen, for robots only
    with page.expect_navigation():
        send.click()
    assert "/cam-on" in page.url and "Xin cảm ơn" in page.inner_text("h1")
    page.reload()   # a reload shows the thanks again and stores nothing more
    assert counted(browser_site.engine, agency) == (1, 0, (0, 0, 0, 1, 0))
    assert flags(browser_site.engine, agency) == [None]
    assert complaints == []
    page.context.close()
    if not javascript:   # and `kiosk-server report` says the same
        today = datetime.now(UTC).astimezone(ZONE).date()
        assert server_cli(["--db", browser_site.server.db_url, "--data-dir", str(browser_site.server.data_dir),
                           "report", "--agency", agency, "--from", today.replace(day=1).isoformat(), "--to",
                           today.isoformat(), "--group-by", "channel", "--format", "json"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert {row["key"]: row["figures"]["ratings"] for row in printed["rows"]} == {"web": 1}


def test_a_citizen_answers_in_english(browser: Browser, browser_site: Site) -> None:
    agency = browser_site.agency()
    page = phone_page(browser, False, "en-GB")
    page.goto(f"{browser_site.server.url}/y-kien/{agency}")
    with page.expect_navigation():
        page.click("a.wf-lang")
    assert page.evaluate("document.documentElement.lang") == "en" and "How satisfied" in page.inner_text("main")
    page.click("label[for=level-2]")
    with page.expect_navigation():
        page.click("button.wf-send")
    assert "Thank you" in page.inner_text("h1")
    with browser_site.engine.connect() as conn:
        language = conn.execute(select(RATING.c.language).join(AGENCY, AGENCY.c.id == RATING.c.agency_id)
                                .where(AGENCY.c.code == agency)).scalar_one()
    assert language == "en" and counted(browser_site.engine, agency)[2] == (0, 1, 0, 0, 0)
    page.context.close()


def test_the_form_can_be_answered_with_the_keyboard_alone(browser: Browser, browser_site: Site) -> None:
    agency = browser_site.agency()
    page = phone_page(browser, False)
    page.goto(f"{browser_site.server.url}/y-kien/{agency}/Q01")
    visited: list[str] = []

    def tab_to(element_id: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            focused = str(page.evaluate("document.activeElement.id"))
            visited.append(focused)
            if focused == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}: {visited}")

    tab_to("level-5")
    page.keyboard.press("ArrowDown")   # to "Hài lòng"
    page.keyboard.press("Space")
    assert page.is_checked("#level-4")
    outline = page.evaluate("getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert outline != "none"   # the focus is visible
    tab_to("access-skip")
    page.keyboard.press("ArrowUp")   # the last choice above "Bỏ qua": Rất không hài lòng
    assert page.is_checked("#access-1")
    tab_to("comment")
    page.keyboard.type("Gõ bằng bàn phím")
    tab_to("send")
    assert "hp" not in visited   # the honeypot is never in the way
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/cam-on" in page.url
    assert counted(browser_site.engine, agency) == (1, 0, (0, 0, 0, 1, 0))
    page.context.close()


def test_the_poster_prints_on_one_a4_page(browser: Browser, browser_site: Site, tmp_path: Path) -> None:
    agency = browser_site.agency()
    page = browser.new_page()
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text) if message.type == "error" else None)
    page.goto(f"{browser_site.server.url}/y-kien/{agency}/Q01/poster")
    pdf = page.pdf(prefer_css_page_size=True)
    page.close()
    assert complaints == []
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    size = re.search(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)", pdf)
    assert size and abs(float(size.group(1)) - 595.3) < 2 and abs(float(size.group(2)) - 841.9) < 2   # A4


# ---- screenshots for the README ------------------------------------------------------------------------------

def screenshots(browser: Browser, site: Site, directory: Path) -> list[Path]:
    """The form (vi, en, with an error), the thank-you page, and the A4 poster."""
    agency = site.agency(["1.001193", "2.000908"])
    made = []
    page = phone_page(browser, True)
    page.goto(f"{site.server.url}/y-kien/{agency}/Q01")
    page.click("label[for=level-4]")
    made.append(directory / "server-webform-390x844.png")
    page.screenshot(path=str(made[-1]))
    made.append(directory / "server-webform-full-390x844.png")
    page.screenshot(path=str(made[-1]), full_page=True)
    page.goto(f"{site.server.url}/y-kien/{agency}/Q01?lang=en")
    made.append(directory / "server-webform-en-390x844.png")
    page.screenshot(path=str(made[-1]))
    page.click("label[for=level-5]")
    with page.expect_navigation():
        page.click("button.wf-send")
    made.append(directory / "server-webform-thanks-390x844.png")
    page.screenshot(path=str(made[-1]))
    page.goto(f"{site.server.url}/y-kien/{agency}/Q01")
    page.fill("#comment", "Rất tốt")
    with page.expect_navigation():
        page.click("button.wf-send")
    made.append(directory / "server-webform-error-390x844.png")
    page.screenshot(path=str(made[-1]))
    page.context.close()
    a4 = browser.new_context(viewport={"width": 794, "height": 1123})   # A4 at 96 dpi
    poster = a4.new_page()
    poster.goto(f"{site.server.url}/y-kien/{agency}/Q01/poster")
    poster.emulate_media(media="print")
    made.append(directory / "server-poster-a4.png")
    poster.screenshot(path=str(made[-1]), full_page=False)
    a4.close()
    return made


def main(argv: list[str] | None = None) -> int:
    """Make the README's screenshots: python -m tests.test_server_web_form --screenshots docs/screenshots."""
    import tempfile

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "server.toml"   # the poster shows the address a province would publish
        config.write_text('[server]\npublic_url = "https://kiosk.lamdong.gov.vn"\n', encoding="utf-8")
        made = start_site(f"sqlite:///{Path(directory) / 'server.db'}", Path(directory), config)
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                paths = screenshots(chromium, made, args.screenshots)
                chromium.close()
        finally:
            made.server.stop()
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())


# ---- the rules' parts, on both databases -----------------------------------------------------------------------

def test_old_rate_windows_are_pruned_when_a_new_minute_opens(site: Site) -> None:
    secret = _secret(site)
    later = datetime(2031, 1, 1, 8, 0, 30, tzinfo=UTC)
    keep = timedelta(hours=2)
    assert web_form.count_address(site.engine, secret, "192.0.2.1", later - timedelta(hours=3), keep) == 1
    assert web_form.count_address(site.engine, secret, "192.0.2.1", later - timedelta(minutes=30), keep) == 1
    assert web_form.count_address(site.engine, secret, "192.0.2.2", later, keep) == 1
    assert web_form.count_address(site.engine, secret, "192.0.2.2", later + timedelta(seconds=20), keep) == 2
    with site.engine.connect() as conn:
        starts = sorted(conn.execute(select(RATE_WINDOW.c.window_start).where(
            RATE_WINDOW.c.window_start >= later - timedelta(hours=4))).scalars())
    assert [s.replace(tzinfo=UTC) if s.tzinfo is None else s for s in starts] == [
        later.replace(second=0) - timedelta(minutes=30), later.replace(second=0)]


def test_a_cookie_the_server_did_not_sign_reads_as_none(site: Site) -> None:
    secret = _secret(site)
    made = web_form.make_cookie(secret, {"XA": 1_800_000_000})
    assert web_form.read_cookie(secret, made) == {"XA": 1_800_000_000}
    payload, _, mac = made.rpartition(".")
    for forged in (payload + "." + "0" * 64, "e30." + mac, "", "no-dot", made + "x", "%%%." + mac, "x" * 5000):
        assert web_form.read_cookie(secret, forged) == {}
    many = web_form.make_cookie(secret, {f"A{i}": i for i in range(40)})
    assert sorted(web_form.read_cookie(secret, many)) == sorted(f"A{i}" for i in range(20, 40))   # the latest 20


@pytest.mark.parametrize(("text", "key"), [
    ("[webform]\nrate_limit_per_min = 0\n", "webform.rate_limit_per_min"),
    ("[webform]\nrepeat_window_h = -1\n", "webform.repeat_window_h"),
    ("[webform]\nrate_keep_h = 0\n", "webform.rate_keep_h"),
    ("[webform]\nlimit = 3\n", "webform.limit"),
    ('[server]\npublic_url = "https://kiosk.gov.vn/?x=1"\n', "server.public_url"),
])
def test_bad_webform_settings_name_the_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    from kiosk.domain.settings_file import SettingsError
    from sync.server import settings as server_settings

    path = tmp_path / "server.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        server_settings.load(path)
    assert key in str(caught.value) and str(path) in str(caught.value)


def test_webform_settings_load_and_the_example_spells_out_the_defaults(tmp_path: Path) -> None:
    from sync.server import settings as server_settings

    path = tmp_path / "server.toml"
    path.write_text('[server]\npublic_url = "https://kiosk.lamdong.gov.vn/"\n[webform]\nrate_limit_per_min = 3\n'
                    'repeat_window_h = 0\n', encoding="utf-8")
    loaded = server_settings.load(path)
    assert (loaded.webform.rate_limit_per_min, loaded.webform.repeat_window_h) == (3, 0)
    assert server_settings.public_base(loaded) == "https://kiosk.lamdong.gov.vn"
    example = server_settings.load(Path(__file__).resolve().parent.parent / "config" / "server.toml")
    assert example.webform == server_settings.WebForm()
    assert server_settings.public_base(ServerSettings()) == "http://127.0.0.1:8080"
