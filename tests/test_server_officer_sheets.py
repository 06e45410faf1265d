"""An officer's monthly sheet for the head of unit, and the monthly digest of flagged officers, on SQLite and
PostgreSQL: ratings pushed by real kiosks through the real ingest, figures read back off the sheet against numbers
worked out by hand, the flag at its boundaries, contacts masked, sign-in required, bad input refused in both
languages, the digest received by a real SMTP server, and the sheet printed by headless Chromium on one A4 page.

The data set (Vietnam time), agency HK, [reports] flag_share 0.25 and flag_min_ratings 4 on the server:
- counter Q01 (kiosk 1): CB001 (registered at Q01) in October 5, 5, 1; in November 5 (access 5), 4 (officer 4,
  harassment yes), 4, 2 (access 3, comment with a phone number and an e-mail address).
  CB002 (registered at Q01) in October 5, 4, 4, 5, 3; in November 5, 5, 4, 3 (comment), 3, 2 (comment with a phone
  number, callback asked), 1 (comment).
- counter Q02 (kiosk 2): CB003 (no registered counter) in November 1, 1, 5.
Agency TX (kiosk 3, counter Q01): CB009 in November eight ratings at 4 with long comments (nobody flagged).

Worked by hand for November:
- CB001: 4 ratings, levels 1..5 = 0, 1, 0, 2, 1; index 75,0%; dissatisfied 25,0% (exactly the threshold: not
  flagged); access 1 of 2 satisfied = 50,0%; officer 1 of 1 = 100,0%; 1 harassment report. October: 3 ratings,
  index 66,7%. Rank 1 of 3.
- CB002: 7 ratings, levels 1, 1, 2, 1, 2; index 42,9%; dissatisfied 28,6% (just over: flagged). October: 5 ratings,
  index 80,0%, so 37,1 points down.
- CB003: 3 ratings, levels 2, 0, 0, 0, 1; dissatisfied 66,7% but 3 < 4 ratings: too few, not flagged.
- Q01: 11 ratings, levels 1, 2, 2, 3, 3; index 54,5%; dissatisfied 27,3%.
- HK: 14 ratings, levels 3, 2, 2, 3, 4; index 50,0%; dissatisfied 35,7%.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import Engine, func, select

from kiosk.db import prepare
from kiosk.domain.keys import DeviceKey, public_key_b64
from kiosk.domain.settings_file import SettingsError
from kiosk.ratings import RatingLog
from sync import protocol
from sync.server import db, registry
from sync.server.admin import accounts
from sync.server.cli import main as server_cli
from sync.server.devices import enrolment, ingest
from sync.server.models import OFFICER, RATING
from sync.server.results import officer_sheet, reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.settings import Reports, ServerSettings, parse
from tests import browser
from tests.sync_harness import ServerHandle, start_server
from tests.test_server_alerts_helpers import MailCatcher, mail_settings

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOVEMBER = Period.of("month", date(2026, 11, 1))
USER, PASSWORD = "truong.phong", "mật khẩu thủ trưởng đủ dài"
PUBLIC = "https://motcua.hoankiem.example.vn"
SETTINGS = dataclasses.replace(ServerSettings(), reports=Reports(flag_share=0.25, flag_min_ratings=4))
CONFIG = f"""
[server]
public_url = "{PUBLIC}"
[reports]
flag_share = 0.25
flag_min_ratings = 4
"""
PHONE_TEXT = "Hướng dẫn chưa rõ, gọi lại cho tôi 0912 345 678 hoặc dan.nguyen@example.com"
CALLBACK_TEXT = "Xin gọi lại số 0987.654.321 để giải thích"
LONG = ("Cán bộ nhiệt tình, hướng dẫn đầy đủ các bước, nhưng phòng chờ đông và thiếu ghế ngồi vào buổi sáng; "
        "đề nghị bố trí thêm ghế và quạt. ")


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2026 in Vietnam, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=VN).astimezone(UTC)


# (moment, level, officer, follow-up answers, comment, callback), one kiosk's ratings in order.
Rated = tuple[datetime, int, str, dict[str, int], str, bool]
KIOSK_1: list[Rated] = [
    (at(10, 20, 9), 5, "CB001", {}, "", False), (at(10, 21, 9), 5, "CB001", {}, "", False),
    (at(10, 22, 9), 1, "CB001", {}, "", False),
    *((at(10, 23 + i, 9), level, "CB002", {}, "", False) for i, level in enumerate((5, 4, 4, 5, 3))),
    (at(11, 3, 8), 5, "CB001", {"access": 5}, "", False),
    (at(11, 3, 9), 4, "CB001", {"officer": 4, "harassment": 1}, "", False),
    (at(11, 4, 9), 4, "CB001", {}, "", False),
    (at(11, 5, 10), 2, "CB001", {"access": 3}, PHONE_TEXT, False),
    (at(11, 6, 8), 5, "CB002", {}, "", False), (at(11, 6, 9), 5, "CB002", {}, "", False),
    (at(11, 7, 9), 4, "CB002", {}, "", False),
    (at(11, 10, 9), 3, "CB002", {}, "Phải chờ lâu mới đến lượt", False),
    (at(11, 11, 9), 3, "CB002", {}, "", False),
    (at(11, 12, 9), 2, "CB002", {}, CALLBACK_TEXT, True),
    (at(11, 13, 9), 1, "CB002", {}, "Thái độ chưa tốt khi tôi hỏi lại", False),
]
KIOSK_2: list[Rated] = [(at(11, 14, 9), 1, "CB003", {}, "", False), (at(11, 15, 9), 1, "CB003", {}, "", False),
                        (at(11, 16, 9), 5, "CB003", {}, "", False)]
KIOSK_3: list[Rated] = [(at(11, 2 + i, 9), 4, "CB009", {}, f"{i + 1}. {LONG * 2}", False) for i in range(8)]


def push_kiosk(engine: Engine, directory: Path, agency: str, counter: str, rated: list[Rated]) -> None:
    """A real kiosk's signed rating log with its clock at each rating, pushed through the real ingest."""
    directory.mkdir(parents=True)
    key = DeviceKey.load_or_create(directory / "key.pem")
    database = prepare(directory / "kiosk.db")
    now = [rated[0][0]]
    log = RatingLog(database, key, repeat_window_s=0, clock=lambda: now[0])
    for moment, level, officer, answers, comment, callback in rated:
        now[0] = moment   # the kiosk's clock at this rating and its follow-ups
        receipt = log.record_rating(level, counter_id=counter, officer_id=officer, language="vi")
        for question, value in answers.items():
            log.record_answer(receipt.uuid, question, value)
        if comment:
            log.record_comment(receipt.uuid, comment)
        if callback:
            log.record_callback(receipt.uuid)
    made = enrolment.add_device(engine, agency, counter, timedelta(hours=1))
    enrolment.enrol(engine, protocol.EnrollRequest(code=made.code, public_key=public_key_b64(key.public_key),
                                                   device_uuid=log.device_uuid), db.utc_now())
    with database.reading() as conn:
        records = [protocol.Record.model_validate({n: r[n] for n in protocol.Record.model_fields})
                   for r in log.records(conn)]
    assert ingest.push(engine, made.device_id, records).error is None
    log.close()
    database.close()


@dataclass(frozen=True)
class Seeded:
    """The running server, its database, and the settings file it runs with."""

    server: ServerHandle
    engine: Engine
    config: Path
    url: str


def seed(db_url: str, directory: Path) -> Seeded:
    """The module docstring's data set, served by a real server process."""
    config = directory / "server.toml"
    config.write_text(CONFIG, encoding="utf-8")
    server = start_server(db_url, directory / "server-data", config=config)
    engine = server.engine()
    registry.add_agency(engine, "HK", {"name": "UBND phường Hoàn Kiếm", "parent": "Thành phố Hà Nội"})
    registry.add_counter(engine, "HK", "Q01", "Quầy 1 — Tư pháp, hộ tịch", [])
    registry.add_counter(engine, "HK", "Q02", "Quầy 2 — Đất đai", [])
    registry.add_officer(engine, "HK", "CB001", "Nguyễn Thị Lan", "Công chức Tư pháp – Hộ tịch", "Q01")
    registry.add_officer(engine, "HK", "CB002", "Trần Văn Bình", "Công chức Văn phòng – Thống kê", "Q01")
    registry.add_officer(engine, "HK", "CB003", "Lê Minh Đức", "Công chức Địa chính")
    registry.add_agency(engine, "TX", {"name": "UBND xã Tân Xuân"})
    registry.add_counter(engine, "TX", "Q01", "Quầy 1", [])
    registry.add_officer(engine, "TX", "CB009", "Phạm Thu Hằng", "Công chức Văn hoá – Xã hội", "Q01")
    accounts.add_user(engine, USER, PASSWORD)
    push_kiosk(engine, directory / "k1", "HK", "Q01", KIOSK_1)
    push_kiosk(engine, directory / "k2", "HK", "Q02", KIOSK_2)
    push_kiosk(engine, directory / "k3", "TX", "Q01", KIOSK_3)
    return Seeded(server, engine, config, db_url)


@pytest.fixture(scope="module")
def seeded(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    made = seed(module_db_url, tmp_path_factory.mktemp("sheets"))
    yield made
    made.server.stop()


def signed_in(server: ServerHandle) -> requests.Session:
    """An HTTP session signed in as the head's account."""
    return browser.signed_in(server.url, USER, PASSWORD)


def sheet_url(server: ServerHandle, officer: str, month: str = "2026-11", agency: str = "HK") -> str:
    return f"{server.url}/dashboard/can-bo/{agency}/{officer}?month={month}"


def figure_cells(html: str, figure: str) -> list[str]:
    """The cells of one row of the sheet's comparison table, as text, in column order."""
    row = re.search(rf'<tr data-figure="{figure}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, figure
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def flag_of(html: str) -> str:
    found = re.search(r'data-flag="(\w+)"', html)
    assert found
    return found.group(1)


# ---- the figures --------------------------------------------------------------------------------------------

def test_the_sheet_shows_the_hand_worked_figures_beside_the_previous_month_the_counter_and_the_agency(
        seeded: Seeded) -> None:
    html = signed_in(seeded.server).get(sheet_url(seeded.server, "CB001"), timeout=30).text
    # Columns: the officer, their October, counter Q01, the whole agency.
    assert figure_cells(html, "ratings") == ["4", "3", "11", "14"]
    assert figure_cells(html, "level5") == ["1 (25,0%)", "2 (66,7%)", "3 (27,3%)", "4 (28,6%)"]
    assert figure_cells(html, "level4") == ["2 (50,0%)", "0 (0,0%)", "3 (27,3%)", "3 (21,4%)"]
    assert figure_cells(html, "level3") == ["0 (0,0%)", "0 (0,0%)", "2 (18,2%)", "2 (14,3%)"]
    assert figure_cells(html, "level2") == ["1 (25,0%)", "0 (0,0%)", "2 (18,2%)", "2 (14,3%)"]
    assert figure_cells(html, "level1") == ["0 (0,0%)", "1 (33,3%)", "1 (9,1%)", "3 (21,4%)"]
    assert figure_cells(html, "index") == ["75,0%", "66,7%", "54,5%", "50,0%"]
    assert figure_cells(html, "dissatisfied") == ["25,0%", "33,3%", "27,3%", "35,7%"]
    assert figure_cells(html, "access") == ["50,0% (2)", "– (0)", "50,0% (2)", "50,0% (2)"]   # (answers)
    assert figure_cells(html, "officer") == ["100,0% (1)", "– (0)", "100,0% (1)", "100,0% (1)"]
    assert figure_cells(html, "harassment") == ["1", "0", "1", "1"]
    assert "Nguyễn Thị Lan" in html and 'data-officer-code>CB001<' in html
    assert "Quầy 1 — Tư pháp, hộ tịch (Q01)" in html and "UBND phường Hoàn Kiếm (HK)" in html
    assert "Tháng 11/2026" in html and "Thủ trưởng đơn vị" in html and "(ký, ghi rõ họ tên)" in html
    assert "▲ tăng 8,3 điểm % so với kỳ trước" in html and "data-rank>1/3<" in html


def test_the_dashboards_monthly_officer_ranking_links_each_officers_sheet(seeded: Seeded) -> None:
    page = signed_in(seeded.server).get(seeded.server.url + "/dashboard", params={
        "agency": "HK", "period": "month", "date": "2026-11-15", "group": "officer"}, timeout=30).text
    links = re.findall(r'class="sheet-link" href="([^"]+)"', page)
    assert sorted(links) == [f"/dashboard/can-bo/HK/{code}?month=2026-11" for code in ("CB001", "CB002", "CB003")]
    by_counter = signed_in(seeded.server).get(seeded.server.url + "/dashboard", params={
        "agency": "HK", "period": "month", "date": "2026-11-15", "group": "counter"}, timeout=30).text
    assert "sheet-link" not in by_counter


def test_the_sheet_figures_are_the_reports_own(seeded: Seeded) -> None:
    """No second aggregation: every column is a figure of reports.build."""
    sheet = officer_sheet.build_sheet(seeded.engine, SETTINGS, "HK", "CB002", NOVEMBER, db.utc_now())
    by_officer = reports.build(seeded.engine, ReportQuery(NOVEMBER, "officer", "HK"), SETTINGS)
    by_counter = reports.build(seeded.engine, ReportQuery(NOVEMBER, "counter", "HK"), SETTINGS)
    row = next(r for r in by_officer.rows if r.key == "CB002")
    assert sheet.row == row and sheet.report.total == by_officer.total
    assert sheet.counter == next(r for r in by_counter.rows if r.key == "Q01").figures
    assert (sheet.row.figures.ratings, sheet.row.figures.levels) == (7, (1, 1, 2, 1, 2))


def test_an_officer_without_a_registered_counter_is_compared_with_the_counter_they_served(seeded: Seeded) -> None:
    sheet = officer_sheet.build_sheet(seeded.engine, SETTINGS, "HK", "CB003", NOVEMBER, db.utc_now())
    assert (sheet.counter_code, sheet.counter_registered) == ("Q02", False)
    assert (sheet.counter.ratings, sheet.counter.levels) == (3, (2, 0, 0, 0, 1))


def test_an_officer_with_no_ratings_in_the_month_gets_a_sheet_that_says_so(seeded: Seeded) -> None:
    registry.add_officer(seeded.engine, "TX", "CB010", "Võ Thị Mai")
    html = signed_in(seeded.server).get(sheet_url(seeded.server, "CB010", agency="TX"), timeout=30).text
    assert flag_of(html) == "empty" and "Không có lượt đánh giá nào trong tháng." in html
    assert figure_cells(html, "ratings") == ["0", "0", "8"]   # no counter column: none registered or served
    assert "không có lượt đánh giá tại quầy nào" in html and "Không có ý kiến nào trong tháng." in html


# ---- the flag: the ranking's own rule and settings ------------------------------------------------------------

def test_exactly_the_threshold_is_not_flagged_just_over_is_and_too_few_ratings_are_not_judged(seeded: Seeded) -> None:
    session = signed_in(seeded.server)
    exactly = session.get(sheet_url(seeded.server, "CB001"), timeout=30).text
    over = session.get(sheet_url(seeded.server, "CB002"), timeout=30).text
    few = session.get(sheet_url(seeded.server, "CB003"), timeout=30).text
    assert flag_of(exactly) == "ok" and "CẢNH BÁO" not in exactly
    assert "Đạt: 25,0% đánh giá không hài lòng, không vượt 25%" in exactly
    assert flag_of(over) == "flagged"
    assert "CẢNH BÁO: 28,6% đánh giá không hài lòng (mức 1–2), trên 25% không hài lòng" in over
    assert "FLAGGED: 28,6% of ratings dissatisfied" in over
    assert figure_cells(over, "index")[:2] == ["42,9%", "80,0%"] and "▼ giảm 37,1 điểm % so với kỳ trước" in over
    assert flag_of(few) == "too_few" and "chưa đủ số lượt đánh giá (3 &lt; 4)" in few
    # The same verdicts as the ranking, which reads the same settings.
    ranking = reports.build(seeded.engine, ReportQuery(NOVEMBER, "officer", "HK"), SETTINGS)
    assert {r.key: (r.flagged, r.too_few) for r in ranking.rows} == {
        "CB001": (False, False), "CB002": (True, False), "CB003": (False, True)}
    # At the minimum number of ratings the share counts: three ratings with flag_min_ratings 3 is flagged.
    three = dataclasses.replace(SETTINGS, reports=Reports(flag_share=0.25, flag_min_ratings=3))
    assert officer_sheet.build_sheet(seeded.engine, three, "HK", "CB003", NOVEMBER, db.utc_now()).flag.code == \
        "flagged"


# ---- comments, masked -------------------------------------------------------------------------------------------

def test_comments_on_the_officers_ratings_are_shown_with_phone_numbers_and_emails_masked(seeded: Seeded) -> None:
    session = signed_in(seeded.server)
    own = session.get(sheet_url(seeded.server, "CB001"), timeout=30).text
    assert "Hướng dẫn chưa rõ, gọi lại cho tôi ••• hoặc •••" in own
    assert "0912" not in own and "345 678" not in own and "dan.nguyen" not in own and "example.com" not in own
    assert "Thái độ chưa tốt" not in own   # another officer's comment
    other = session.get(sheet_url(seeded.server, "CB002"), timeout=30).text
    # A callback's contact shows on the dashboard for whoever calls back; the filed sheet masks it too.
    assert "Xin gọi lại số ••• để giải thích" in other and "0987" not in other
    assert other.index("Thái độ chưa tốt") < other.index("Xin gọi lại") < other.index("Phải chờ lâu")  # newest first
    long = officer_sheet.build_sheet(seeded.engine, SETTINGS, "TX", "CB009", NOVEMBER, db.utc_now())
    assert len(long.comments) == officer_sheet.COMMENTS_SHOWN and long.comments_total == 8
    html = officer_sheet.render(long)
    assert "… và 3 ý kiến khác" in html and "… (rút gọn)" in html


# ---- sign-in and bad input ------------------------------------------------------------------------------------

def test_the_sheet_needs_a_signed_in_user(seeded: Seeded) -> None:
    answer = requests.get(sheet_url(seeded.server, "CB001"), allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=%2Fdashboard%2Fcan-bo%2FHK%2FCB001")
    assert "Nguyễn Thị Lan" not in answer.text


@pytest.mark.parametrize(("agency", "officer", "month", "status", "vi", "en"), [
    ("HK", "CB404", "2026-11", 404, "không có cán bộ mã 'CB404'", "has no officer 'CB404'"),
    ("ZZ", "CB001", "2026-11", 404, "Không có cơ quan mã 'ZZ'", "no agency with code 'ZZ'"),
    ("HK", "CB001", "2026-13", 400, "Tháng '2026-13' không hợp lệ", "invalid month '2026-13'"),
    ("HK", "CB001", "tháng 11", 400, "không hợp lệ; viết YYYY-MM", "write YYYY-MM"),
    ("HK", "CB001", "2099-01", 400, "chưa đến", "has not begun"),
], ids=["officer", "agency", "month-13", "words", "future"])
def test_an_unknown_officer_or_month_is_refused_in_both_languages_and_nothing_changes(
        seeded: Seeded, agency: str, officer: str, month: str, status: int, vi: str, en: str) -> None:
    def state() -> tuple[int, int]:
        with seeded.engine.connect() as conn:
            return (int(conn.execute(select(func.count()).select_from(RATING)).scalar_one()),
                    int(conn.execute(select(func.count()).select_from(OFFICER)).scalar_one()))

    before = state()
    answer = signed_in(seeded.server).get(sheet_url(seeded.server, officer, month, agency), timeout=30)
    assert answer.status_code == status
    assert vi in answer.text.replace("&#39;", "'") and en in answer.text.replace("&#39;", "'")
    assert state() == before


def test_the_command_writes_the_sheet_and_refuses_an_unknown_officer(seeded: Seeded, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sheet.html"
    base = ["--config", str(seeded.config), "--db", seeded.url, "--data-dir", str(tmp_path / "d")]
    assert server_cli([*base, "officer-sheet", "--agency", "HK", "--officer", "CB002", "--month", "2026-11",
                       "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert figure_cells(html, "dissatisfied")[0] == "28,6%" and flag_of(html) == "flagged"
    assert "<style>" in html and "@page { size: A4" in html   # self-contained: prints from the file alone
    missing = tmp_path / "missing.html"
    assert server_cli([*base, "officer-sheet", "--agency", "HK", "--officer", "CB404", "--month", "2026-11",
                       "--out", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "không có cán bộ mã 'CB404'" in err and "has no officer 'CB404'" in err and not missing.exists()
    assert server_cli([*base, "officer-sheet", "--agency", "HK", "--month", "2026-11"]) == 2
    assert "Thiếu --officer" in capsys.readouterr().err


# ---- the digest -------------------------------------------------------------------------------------------------

def digest_config(seeded: Seeded, directory: Path, catcher: MailCatcher, *, public_url: str = PUBLIC) -> Path:
    path = directory / "digest.toml"
    path.write_text(f"""
[server]
public_url = "{public_url}"
[reports]
flag_share = 0.25
flag_min_ratings = 4
[alerts]
smtp_host = "127.0.0.1"
smtp_port = {catcher.port}
smtp_tls = "none"
smtp_timeout_s = 5.0
mail_from = "Kiosk Một cửa <kiosk@hoankiem.example.vn>"
[[digest.heads]]
agency = "HK"
emails = ["truong@hoankiem.example.vn", "pho@hoankiem.example.vn"]
[[digest.heads]]
agency = "TX"
emails = ["truong@tanxuan.example.vn"]
""", encoding="utf-8")
    return path


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    made = MailCatcher().start()
    yield made
    made.stop()


def test_the_digest_reaches_each_agencys_heads_naming_only_the_flagged_officers(
        seeded: Seeded, tmp_path: Path, catcher: MailCatcher) -> None:
    config = digest_config(seeded, tmp_path, catcher)
    assert server_cli(["--config", str(config), "--db", seeded.url, "--data-dir", str(tmp_path / "d"),
                       "digest", "send", "--month", "2026-11"]) == 0
    messages = catcher.wait_for(2)
    assert len(messages) == 2
    (hk,) = catcher.to("truong@hoankiem.example.vn")
    assert sorted(hk.rcpt_tos) == ["pho@hoankiem.example.vn", "truong@hoankiem.example.vn"]
    body = hk.body
    assert "CẢNH BÁO: Trần Văn Bình (CB002): 7 lượt đánh giá, không hài lòng 28,6%" in body
    assert f"{PUBLIC}/dashboard/can-bo/HK/CB002?month=2026-11" in body
    assert "FLAGGED: Trần Văn Bình (CB002): 7 ratings, dissatisfied 28,6%" in body
    assert "CB001" not in body and "CB003" not in body and "Nguyễn Thị Lan" not in body
    assert body.index("Kính gửi") < body.index("— English —") < body.index("Satisfaction results")
    assert "Cán bộ cần lưu ý tháng 11/2026: 1" in hk.subject
    (tx,) = catcher.to("truong@tanxuan.example.vn")
    assert "không có cán bộ nào trên 25% đánh giá không hài lòng" in tx.body and "CB009" not in tx.body


@pytest.mark.parametrize("case", ["no-public-url", "unknown-agency", "not-listed"])
def test_a_digest_that_cannot_be_sent_as_asked_is_refused_and_nothing_is_sent(
        seeded: Seeded, tmp_path: Path, catcher: MailCatcher, capsys: pytest.CaptureFixture[str], case: str) -> None:
    config = digest_config(seeded, tmp_path, catcher, public_url="" if case == "no-public-url" else PUBLIC)
    extra = {"no-public-url": [], "unknown-agency": [], "not-listed": ["--agency", "QQ"]}[case]
    if case == "unknown-agency":
        config.write_text(config.read_text(encoding="utf-8").replace('agency = "TX"', 'agency = "ZZ"'),
                          encoding="utf-8")
    code = server_cli(["--config", str(config), "--db", seeded.url, "--data-dir", str(tmp_path / "d"),
                       "digest", "send", "--month", "2026-11", *extra])
    err = capsys.readouterr().err
    assert code == 2 and catcher.messages == []
    expected = {"no-public-url": ("Cần [server] public_url", "[server] public_url is needed"),
                "unknown-agency": ("Không có cơ quan mã 'ZZ'", "no agency with code 'ZZ'"),
                "not-listed": ("'QQ' không có trong [[digest.heads]]", "'QQ' is not in the settings file's")}[case]
    assert expected[0] in err and expected[1] in err


@pytest.mark.parametrize(("text", "key", "en"), [
    ('[[digest.heads]]\nagency = ""\nemails = ["a@b.vn"]', "digest.heads[0].agency", "an agency code is needed"),
    ('[[digest.heads]]\nagency = "HK"\nemails = []', "digest.heads[0].emails", "at least one head's e-mail"),
    ('[[digest.heads]]\nagency = "HK"\nemails = ["not an address"]', "digest.heads[0].emails",
     "not a valid e-mail address"),
    ('[[digest.heads]]\nagency = "HK"\nemails = ["a@b.vn"]\n[[digest.heads]]\nagency = "HK"\nemails = ["c@d.vn"]',
     "digest.heads[1].agency", "already listed above"),
    ('[[digest.heads]]\nagency = "HK"\nemail = ["a@b.vn"]', "digest.heads[0].email", "unknown key"),
    # Checked as a list once, sent item by item: c@d.vn would never have been mailed.
    ('[[digest.heads]]\nagency = "HK"\nemails = ["a@b.vn, c@d.vn"]', "digest.heads[0].emails[0]",
     "one address per item"),
    ('[[digest.heads]]\nagency = "HK"\nemails = ["a@b.vn\\r\\nBcc: x@y.vn"]', "digest.heads[0].emails",
     "not a valid e-mail address"),
])
def test_digest_settings_name_the_file_and_the_key(tmp_path: Path, text: str, key: str, en: str) -> None:
    path = tmp_path / "server.toml"
    with pytest.raises(SettingsError) as refused:
        parse(text, path)
    assert refused.value.key == key and str(path) in refused.value.en and en in refused.value.en


def test_the_digest_uses_the_alert_mail_settings(seeded: Seeded, catcher: MailCatcher) -> None:
    """Sent through alerts.mail: the [alerts] sender and a Message-ID naming the agency and month."""
    from sync.server.results import digest
    from sync.server.settings import Digest, DigestHeads, Server

    settings = dataclasses.replace(mail_settings(catcher), server=Server(public_url=PUBLIC),
                                   reports=SETTINGS.reports,
                                   digest=Digest([DigestHeads("HK", ["truong@hoankiem.example.vn"])]))
    sent = digest.send(seeded.engine, settings, NOVEMBER, db.utc_now(), "HK")
    assert [(s.agency_code, s.flagged, s.refused) for s in sent] == [("HK", ("CB002",), "")]
    (received,) = catcher.wait_for(1)
    assert "kiosk@tinh.gov.vn" in str(received.message["From"])
    assert "digest-HK-2026-11" in str(received.message["Message-ID"])


# ---- printed ------------------------------------------------------------------------------------------------------

def test_the_sheet_prints_on_exactly_one_a4_page_in_chromium(seeded: Seeded, tmp_path: Path) -> None:
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, chromium_or_skip
    from tests.test_browser_dashboard import pdf_pages

    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    session = signed_in(seeded.server)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(locale="vi-VN")
            context.add_cookies([{"name": c.name, "value": c.value or "", "url": seeded.server.url}
                                 for c in session.cookies])
            page = context.new_page()
            for agency, officer in (("HK", "CB002"), ("TX", "CB009")):   # the flagged one; the most comments
                page.goto(sheet_url(seeded.server, officer, agency=agency))
                printed = page.pdf(prefer_css_page_size=True, print_background=True)
                assert printed.startswith(b"%PDF") and pdf_pages(printed) == 1, officer
                box = re.search(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)", printed)
                assert box and (round(float(box.group(1))), round(float(box.group(2)))) == (595, 842)  # A4
        finally:
            chromium.close()


# ---- the README's screenshot --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Make the README's screenshot of a sheet: python -m tests.test_server_officer_sheets --screenshots DIR."""
    import argparse
    import tempfile

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        seeded = seed(f"sqlite:///{directory}/server.db", Path(directory))
        try:
            session = signed_in(seeded.server)
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                # The sheet is an A4 page on screen (210 mm = 794 px at 96 dpi): the page alone is shot.
                context = chromium.new_context(viewport={"width": 1000, "height": 1200}, locale="vi-VN",
                                               device_scale_factor=1.5)
                cookies: list[Any] = [{"name": c.name, "value": c.value or "", "url": seeded.server.url}
                                      for c in session.cookies]
                context.add_cookies(cookies)
                tab = context.new_page()
                tab.goto(sheet_url(seeded.server, "CB002"))
                made = args.screenshots / "server-officer-sheet-a4.png"
                tab.locator("main.a4").screenshot(path=str(made))
                chromium.close()
        finally:
            seeded.server.stop()
    print(made)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
