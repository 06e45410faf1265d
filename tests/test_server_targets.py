"""Satisfaction targets per agency and year, on SQLite and PostgreSQL, with figures worked out by hand.

Agency HK (target 2026: index 83%, access 80%, procedure 90%) and agency TP (target 2026: 90%), ratings stored
through the web channel's own path (server-signed records), times in Vietnam time:

  HK September 2026, Q01: 10 ratings, 5 at levels 4–5                 -> 50.0%, too few (under 30) to alert
  HK October 2026, Q01: 40 ratings, 32 at 4–5 (the last at 23:30 on 31/10)  -> 80.0%: below 83% by 3 points
  HK November 2026: Q01 60 ratings, 51 at 4–5 (the first at 00:10 on 1/11) -> 85.0%: met
                    Q02 40 ratings, 32 at 4–5                          -> 80.0%: below by 3 points
                    together 100 ratings, 83 at 4–5                    -> 83.0%: met, exactly at the target
                    access: 50 answered, 40 at 4–5                     -> 80.0%: met (target 80%)
                    procedure: 50 answered, 40 at 4–5                  -> 80.0%: below 90% by 10 points
  TP November 2026, T01: 10 ratings, 8 at 4–5                         -> 80.0%: below 90% by 10 points

"Đạt" (met) means at least the target: 83.0% against 83% is met.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import Engine

from sync.server import registry
from sync.server.admin import accounts
from sync.server.alerts import checker, findings, rules
from sync.server.channels.store import Answers, Meta, store_in
from sync.server.cli import main as server_cli
from sync.server.db import open_database, writing
from sync.server.errors import ServerError
from sync.server.results import charts, publications, reports, targets
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.secret import ServerSecret
from sync.server.settings import ServerSettings
from tests import browser
from tests.sync_harness import ServerHandle, start_server
from tests.test_server_alerts_helpers import MailCatcher, mail_settings
from tests.test_server_alerts_helpers import smtp as smtp  # the fixture

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "mật khẩu chỉ tiêu đủ dài"
OFFICE = "phong.noivu@tinh.gov.vn"
NOVEMBER = date(2026, 11, 1)
OCTOBER = date(2026, 10, 1)
HK_GOAL = targets.Goal(2026, 830, {"access": 800, "procedure": 900})


def vn(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in Vietnam, as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN).astimezone(UTC)


def levels(**counts: int) -> list[int]:
    """levels(l5=3, l4=2, l2=5): that many ratings at each level, in a fixed shuffled order (as a day brings them)."""
    made = [value for value in (5, 4, 3, 2, 1) for _ in range(counts.get(f"l{value}", 0))]
    random.Random(len(made)).shuffle(made)
    return made


def moments(first: date, count: int, days: int = 28) -> list[datetime]:
    """`count` moments spread over `days` days from `first`, in office hours."""
    return [vn(first + timedelta(days=i * days // count), 8 + i % 9, 15) for i in range(count)]


@dataclass(frozen=True)
class Seeded:
    """The running server and its database."""

    server: ServerHandle
    engine: Engine
    url: str


def _store_all(engine: Engine, secret: ServerSecret, agency: str, counter: str,
               ratings: list[tuple[datetime, Answers]]) -> None:
    with writing(engine) as conn:
        for moment, answers in ratings:
            store_in(conn, secret, agency_code=agency, counter_code=counter, channel="web", answers=answers,
                     meta=Meta("web"), recorded_at=moment, now=moment + timedelta(minutes=1))


def seed(db_url: str, directory: Path) -> Seeded:
    """Start a server on db_url with the module docstring's agencies, ratings and targets."""
    server = start_server(db_url, directory / "server-data")
    engine = server.engine()
    registry.add_agency(engine, "HK", {"name": "UBND phường Hải Khê", "hotline": "1900 1234"})
    registry.add_counter(engine, "HK", "Q01", "Quầy 1", [])
    registry.add_counter(engine, "HK", "Q02", "Quầy 2", [])
    registry.add_agency(engine, "TP", {"name": "UBND xã Tuy Phước"})
    registry.add_counter(engine, "TP", "T01", "Quầy tiếp nhận", [])
    accounts.add_user(engine, "noi.vu", PASSWORD)
    secret = ServerSecret.load_or_create(server.data_dir)
    september = levels(l5=3, l4=2, l2=5)
    _store_all(engine, secret, "HK", "Q01",
               [(m, Answers(v)) for m, v in zip(moments(date(2026, 9, 1), 10), september, strict=True)])
    october = levels(l5=20, l4=12, l3=5, l2=2, l1=1)
    times = [*moments(OCTOBER, 39), vn(date(2026, 10, 31), 23, 30)]   # the last in the month's last hour
    _store_all(engine, secret, "HK", "Q01", [(m, Answers(v)) for m, v in zip(times, october, strict=True)])
    # Q01 in November: the 40 first answer access and procedure at 5, the next 10 at 2, the last 10 not at all.
    q01 = levels(l5=30, l4=21, l3=5, l2=3, l1=1)
    times = [vn(NOVEMBER, 0, 10), *moments(NOVEMBER + timedelta(days=1), 59, 27)]   # the first at 00:10 on 1/11
    elements = [{"access": 5 if i < 40 else 2, "procedure": 5 if i < 40 else 2} if i < 50 else {}
                for i in range(60)]
    _store_all(engine, secret, "HK", "Q01",
               [(m, Answers(v, e)) for m, v, e in zip(times, q01, elements, strict=True)])
    q02 = levels(l5=20, l4=12, l3=4, l2=2, l1=2)
    _store_all(engine, secret, "HK", "Q02",
               [(m, Answers(v)) for m, v in zip(moments(NOVEMBER, 40), q02, strict=True)])
    tp = levels(l5=5, l4=3, l1=2)
    _store_all(engine, secret, "TP", "T01", [(m, Answers(v)) for m, v in zip(moments(NOVEMBER, 10), tp, strict=True)])
    targets.set_target(engine, "HK", HK_GOAL, "Phòng Nội vụ")
    targets.set_target(engine, "TP", targets.Goal(2026, 900), "Phòng Nội vụ")
    return Seeded(server, engine, db_url)


@pytest.fixture(scope="module")
def seeded(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    made = seed(module_db_url, tmp_path_factory.mktemp("targets"))
    yield made
    made.server.stop()


def _signed_in(server: ServerHandle) -> requests.Session:
    """An HTTP session signed in on the staff pages."""
    return browser.signed_in(server.url, "noi.vu", PASSWORD)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _block(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.S)
    assert found, page[:3000]
    return _text(found.group(1))


# ---- the rule and the words ---------------------------------------------------------------------------------

def test_met_means_at_least_the_target_compared_exactly() -> None:
    assert targets.verdict(83, 100, 830).code == "met"   # 83.0% against 83%: met
    below = targets.verdict(829, 1000, 830)
    assert below is not None and below.code == "below"
    assert below.vi == "Chưa đạt chỉ tiêu 83% (thiếu 0,1 điểm)" and below.en == "Below the 83% target by 0.1 points"
    # 2/3 = 66.67% against 66.7%: below by 0.033 points, said as 0.1 (rounded up, never "0 points").
    thin = targets.verdict(2, 3, 667)
    assert thin is not None and thin.code == "below" and thin.gap_vi == "0,1"
    assert targets.verdict(32, 40, 830).vi == "Chưa đạt chỉ tiêu 83% (thiếu 3 điểm)"    # type: ignore[union-attr]
    assert targets.verdict(0, 0, 830) is None


@pytest.mark.parametrize(("typed", "permille", "shown_vi", "shown_en"), [
    ("83%", 830, "83%", "83%"), ("83,5%", 835, "83,5%", "83.5%"), ("83.5", 835, "83,5%", "83.5%"),
    ("0.9", 900, "90%", "90%"), ("100%", 1000, "100%", "100%"), ("0,1%", 1, "0,1%", "0.1%")])
def test_a_target_as_typed_round_trips(typed: str, permille: int, shown_vi: str, shown_en: str) -> None:
    assert targets.parse_share(typed) == permille
    assert targets.permille_text(permille) == shown_vi and targets.permille_text(permille, "en") == shown_en


def test_the_target_line_is_drawn_dashed_with_its_label() -> None:
    points = [charts.TrendValue("T10", 0.8, 40), charts.TrendValue("T11", 0.83, 100)]
    svg = str(charts.trend_chart(points, target=0.83, target_label="Chỉ tiêu năm 2026: 83% / 2026 target: 83%"))
    line = re.search(r'<g class="target-line" data-target="0.8300"><line x1="52" y1="([\d.]+)" x2="888" '
                     r'y2="([\d.]+)" stroke="#a33b00" stroke-width="2" stroke-dasharray="9 5"/>', svg)
    assert line, svg
    # The plot runs from y=14 (100%) to y=254 (0%): 83% is at 14 + 240 × 0.17 = 54.8.
    assert line.group(1) == line.group(2) == "54.8"
    assert 'class="target-label"' in svg and "Chỉ tiêu năm 2026: 83% / 2026 target: 83%</text>" in svg
    assert "target-line" not in str(charts.trend_chart(points))


# ---- storing, on both databases ---------------------------------------------------------------------------

def test_targets_are_stored_exactly_and_listed(seeded: Seeded) -> None:
    listed = {(t.agency_code, t.goal.year): t for t in targets.list_targets(seeded.engine)}
    assert listed[("HK", 2026)].goal == HK_GOAL and listed[("HK", 2026)].set_by == "Phòng Nội vụ"
    assert listed[("TP", 2026)].goal == targets.Goal(2026, 900)
    made = targets.set_target(seeded.engine, "HK", targets.Goal(2027, 835), "Lê Thị B")
    assert made.goal.index_permille == 835 and targets.list_targets(seeded.engine, "HK")[-1].goal.year == 2027
    gone = targets.remove_target(seeded.engine, "HK", 2027)
    assert gone.goal.index_permille == 835
    assert [t.goal.year for t in targets.list_targets(seeded.engine, "HK")] == [2026]


def _cli(seeded: Seeded, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = server_cli(["--db", seeded.url, "target", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_target_command_sets_lists_and_removes(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(seeded, capsys, "set", "--agency", "HK", "--year", "2028", "--index", "83,5%",
                        "--element", "officer=88%", "--by", "Trần Văn C")
    assert code == 0 and "chỉ số hài lòng 83,5%" in out and "Công chức tiếp nhận 88%" in out
    code, out, _ = _cli(seeded, capsys, "list", "--agency", "HK", "--json")
    listed = {t["year"]: t for t in json.loads(out)}
    assert code == 0 and listed[2028]["index_permille"] == 835 and listed[2028]["index"] == "83.5%"
    assert listed[2028]["elements"] == {"officer": 880} and listed[2028]["set_by"] == "Trần Văn C"
    code, out, _ = _cli(seeded, capsys, "remove", "--agency", "HK", "--year", "2028")
    assert code == 0 and "Đã gỡ chỉ tiêu" in out and "target removed" in out
    assert 2028 not in {t.goal.year for t in targets.list_targets(seeded.engine, "HK")}


@pytest.mark.parametrize(("args", "vi", "en"), [
    (["--year", "20x6", "--index", "83%"], "không phải một số nguyên", "is not a whole number"),
    (["--year", "1999", "--index", "83%"], "Năm phải từ 2000 đến 2100", "the year must be from 2000 to 2100"),
    (["--year", "2026", "--index", "0%"], "phải lớn hơn 0% và không quá 100%", "must be over 0% and at most 100%"),
    (["--year", "2026", "--index", "101%"], "không quá 100%", "at most 100%"),
    (["--year", "2026", "--index", "83.25%"], "chi tiết quá", "too fine"),
    (["--year", "2026", "--index", "nhiều"], "không phải một tỷ lệ", "is not a share"),
    (["--year", "2026", "--index", "1e9999999%"], "không quá 100%", "at most 100%"),
    (["--year", "2026"], "Thiếu --index", "--index is missing"),
    (["--year", "2026", "--index", "83%", "--element", "speed=80%"], "Không có yếu tố 'speed'",
     "no element 'speed'"),
    (["--year", "2026", "--index", "83%", "--element", "access80"], "cần dạng YẾU_TỐ=TỶ_LỆ",
     "needs the form ELEMENT=SHARE"),
    (["--year", "2026", "--index", "83%", "--element", "access=80%", "--element", "access=85%"], "hai lần",
     "given twice"),
    (["--year", "2026", "--index", "83%", "--element", "access=120%"], "Chỉ tiêu yếu tố access",
     "the target for element access"),
], ids=["year-text", "year-range", "zero", "over-100", "too-fine", "not-a-number", "huge-exponent", "no-index",
        "unknown-element", "element-form", "element-twice", "element-range"])
def test_bad_input_is_refused_in_both_languages_and_changes_nothing(
        seeded: Seeded, capsys: pytest.CaptureFixture[str], args: list[str], vi: str, en: str) -> None:
    before = targets.list_targets(seeded.engine)
    code, out, err = _cli(seeded, capsys, "set", "--agency", "HK", *args)
    assert code == 2 and out == ""
    assert "Lỗi:" in err and vi in err and "Error:" in err and en in err, err
    assert targets.list_targets(seeded.engine) == before


def test_an_unknown_agency_or_missing_target_is_refused(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    before = targets.list_targets(seeded.engine)
    code, _, err = _cli(seeded, capsys, "set", "--agency", "XX", "--year", "2026", "--index", "83%")
    assert code == 2 and "Không có cơ quan mã 'XX'" in err and "no agency with code 'XX'" in err
    code, _, err = _cli(seeded, capsys, "remove", "--agency", "HK", "--year", "2030")
    assert code == 2 and "chưa có chỉ tiêu năm 2030" in err and "has no target for 2030" in err
    assert targets.list_targets(seeded.engine) == before
    with pytest.raises(ServerError, match="dài quá"):
        targets.set_target(seeded.engine, "HK", targets.Goal(2026, 900), "x" * 65)
    assert targets.list_targets(seeded.engine) == before


# ---- the dashboard ----------------------------------------------------------------------------------------

def test_the_dashboard_says_met_or_below_in_words_for_the_headline_groups_and_elements(seeded: Seeded) -> None:
    session = _signed_in(seeded.server)
    base = {"agency": "HK", "period": "month", "date": NOVEMBER.isoformat(), "group": "counter"}
    page = session.get(seeded.server.url + "/dashboard", params=base, timeout=30).text
    index = _block(page, r'data-kpi="index">(.*?)</div>\s*</div>')
    assert "83,0%" in index and "✓ Đạt chỉ tiêu 83% Target 83% met" in index, index
    assert "Chỉ tiêu năm 2026: 83% 2026 target: 83%" in index
    assert 'data-target="met"' in page
    q01 = _block(page, r'<tr data-key="Q01"[^>]*>(.*?)</tr>')
    q02 = _block(page, r'<tr data-key="Q02"[^>]*>(.*?)</tr>')
    assert "85,0%" in q01 and "✓ Đạt chỉ tiêu 83% Target 83% met" in q01
    assert "80,0%" in q02 and "✗ Chưa đạt chỉ tiêu 83% (thiếu 3 điểm) Below the 83% target by 3 points" in q02
    elements = _block(page, r'data-table="elements">(.*?)</table>')
    assert "Tiếp cận dịch vụ Access to the service 50 80,0%" in elements
    assert "✓ Đạt chỉ tiêu 80% Target 80% met" in elements
    assert "✗ Chưa đạt chỉ tiêu 90% (thiếu 10 điểm) Below the 90% target by 10 points" in elements
    trend = re.search(r'<svg class="chart-trend".*?</svg>', page, re.S)
    assert trend and 'class="target-line"' in trend.group(0)
    assert "Chỉ tiêu năm 2026: 83% / 2026 target: 83%" in trend.group(0)
    october = session.get(seeded.server.url + "/dashboard", params=base | {"date": OCTOBER.isoformat()},
                          timeout=30).text
    assert "Chưa đạt chỉ tiêu 83% (thiếu 3 điểm)" in _block(october, r'data-kpi="index">(.*?)</div>\s*</div>')
    assert 'data-target="below"' in october
    # Every agency, ranked by agency: each against its own target.
    everyone = session.get(seeded.server.url + "/dashboard", params={
        "period": "month", "date": NOVEMBER.isoformat(), "group": "agency"}, timeout=30).text
    assert "✓ Đạt chỉ tiêu 83%" in _block(everyone, r'<tr data-key="HK"[^>]*>(.*?)</tr>')
    assert "✗ Chưa đạt chỉ tiêu 90% (thiếu 10 điểm)" in _block(everyone, r'<tr data-key="TP"[^>]*>(.*?)</tr>')
    assert 'data-kpi="index">' in everyone and "kpi-target" not in everyone   # no one target for all of them
    # A year without a target says nothing of one.
    earlier = session.get(seeded.server.url + "/dashboard", params=base | {"date": "2025-11-01"}, timeout=30).text
    assert "Chỉ tiêu năm" not in earlier and "target-line" not in earlier and "kpi-target" not in earlier
    session.close()


def test_the_figures_behind_the_words_are_the_hand_worked_ones(seeded: Seeded) -> None:
    report = reports.build(seeded.engine, ReportQuery(Period.of("month", NOVEMBER), "counter", "HK"),
                           ServerSettings())
    assert report.total.ratings == 100 and report.total.levels == (3, 5, 9, 33, 50)
    assert {row.key: (row.figures.ratings, row.figures.levels[3] + row.figures.levels[4]) for row in report.rows} \
        == {"Q01": (60, 51), "Q02": (40, 32)}
    access, procedure = report.total.elements["access"], report.total.elements["procedure"]
    assert (access.answered, access.satisfied, procedure.answered, procedure.satisfied) == (50, 40, 50, 40)


# ---- the public page: the target frozen at publishing --------------------------------------------------------

def test_the_public_page_shows_the_target_as_it_stood_when_published(seeded: Seeded) -> None:
    session = _signed_in(seeded.server)
    base = {"agency": "HK", "period": "month", "date": NOVEMBER.isoformat(), "group": "counter"}
    page = session.get(seeded.server.url + "/dashboard", params=base, timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    made = session.post(seeded.server.url + "/dashboard/publish",
                        data=base | {"csrf": csrf.group(1), "title": "Kết quả tháng 11/2026"},
                        allow_redirects=False, timeout=30)
    assert made.status_code == 303, made.text[:2000]
    number = re.search(r"published=(\d+)", made.headers["location"])
    assert number
    # The office raises the target afterwards: the publication keeps the one it was held to.
    targets.set_target(seeded.engine, "HK", targets.Goal(2026, 950), "Phòng Nội vụ")
    try:
        public = requests.get(f"{seeded.server.url}/ket-qua/HK/{number.group(1)}", timeout=30).text
        index = _block(public, r'data-kpi="index">(.*?)</div>\s*</div>')
        assert "✓ Đạt chỉ tiêu 83% Target 83% met" in index and "95%" not in index
        assert "Đạt chỉ tiêu khi chỉ số hài lòng bằng hoặc cao hơn chỉ tiêu năm 2026" in public
        dashboard = session.get(seeded.server.url + "/dashboard", params=base, timeout=30).text
        assert "Chưa đạt chỉ tiêu 95% (thiếu 12 điểm)" in dashboard   # the live page follows the new target
    finally:
        targets.set_target(seeded.engine, "HK", HK_GOAL, "Phòng Nội vụ")
    # A publication frozen without a target (before targets were kept) still renders, saying nothing of one.
    october = reports.build(seeded.engine, ReportQuery(Period.of("month", OCTOBER), "counter", "HK"),
                            ServerSettings())
    old = publications.publish(seeded.engine, october, "Kết quả tháng 10/2026", "noi.vu")
    assert old.goal() is None
    shown = requests.get(f"{seeded.server.url}/ket-qua/HK/{old.id}", timeout=30)
    assert shown.status_code == 200 and "Kết quả tháng 10/2026" in shown.text and "kpi-target" not in shown.text
    publications.withdraw(seeded.engine, old.id)
    session.close()


# ---- the alert --------------------------------------------------------------------------------------------

def test_a_month_below_target_is_mailed_once_and_no_other(seeded: Seeded, smtp: MailCatcher) -> None:
    rule = rules.add_rule(seeded.engine, "HK", None, "below_target", email_to=OFFICE)
    assert rule.min_ratings == 30 and "dưới chỉ tiêu năm" in rule.condition(ServerSettings())[0]
    settings = mail_settings(smtp)
    try:
        # In November: October (80.0%, 40 ratings) is below 83%.
        in_november = vn(date(2026, 11, 5), 9)
        result = checker.check(seeded.engine, settings, now=in_november)
        assert (result.raised, result.sent) == (1, 1)
        (received,) = smtp.messages
        assert "Tháng 10/2026 chưa đạt chỉ tiêu 83%: 80,0% tại UBND phường Hải Khê" in received.subject
        assert "10/2026 below the 83% target: 80.0%" in received.subject
        assert "là 80,0%, chưa đạt chỉ tiêu năm 2026 là 83% (thiếu 3 điểm)" in received.body
        assert "32/40 lượt" in received.body and "below the 2026 target of 83% by 3 points" in received.body
        assert "period=month&date=2026-10-01" in received.body
        # Checked again later in November: nothing new.
        again = checker.check(seeded.engine, settings, now=vn(date(2026, 11, 28), 9))
        assert (again.raised, again.sent) == (0, 0) and len(smtp.messages) == 1
        # In December: November is 83.0%, exactly at the target: met, no alert.
        assert findings.evaluate(seeded.engine, settings, rule.id, vn(date(2026, 12, 3), 9)) == []
        # In October: September (50%) is below, but 10 ratings are under the rule's 30.
        assert findings.evaluate(seeded.engine, settings, rule.id, vn(date(2026, 10, 2), 9)) == []
        # In January 2027: December 2026 has no ratings at all.
        assert findings.evaluate(seeded.engine, settings, rule.id, vn(date(2027, 1, 2), 9)) == []
    finally:
        rules.remove_rule(seeded.engine, rule.id)
    few = rules.add_rule(seeded.engine, "HK", None, "below_target", email_to=OFFICE, min_ratings=10)
    try:
        fired = findings.evaluate(seeded.engine, ServerSettings(), few.id, vn(date(2026, 10, 2), 9))
        assert len(fired) == 1 and fired[0].key == "month:2026-09" and "50,0%" in fired[0].subject
    finally:
        rules.remove_rule(seeded.engine, few.id)


def test_a_month_is_judged_in_vietnam_time_at_its_edges(seeded: Seeded) -> None:
    # 23:30 on 31/10 belongs to October, 00:10 on 1/11 to November (both 16:xx/17:xx UTC on 31/10).
    rule = rules.add_rule(seeded.engine, "HK", "Q01", "below_target", email_to=OFFICE, min_ratings=40)
    try:
        fired = findings.evaluate(seeded.engine, ServerSettings(), rule.id, vn(date(2026, 11, 1), 0, 5))
        assert len(fired) == 1 and "32/40" in fired[0].body and fired[0].key == "month:2026-10"
    finally:
        rules.remove_rule(seeded.engine, rule.id)


def test_a_below_target_rule_refuses_options_that_do_not_apply(seeded: Seeded) -> None:
    with pytest.raises(ServerError, match="below_target") as refused:
        rules.add_rule(seeded.engine, "HK", None, "below_target", email_to=OFFICE, share=0.5)
    assert "kiosk-server target set" in refused.value.en
    with pytest.raises(ServerError, match="--window-h"):
        rules.add_rule(seeded.engine, "HK", None, "below_target", email_to=OFFICE, window_h=24)
    assert all(r.kind != "below_target" for r in rules.list_rules(seeded.engine))


def test_the_alert_command_adds_a_below_target_rule(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    code = server_cli(["--db", seeded.url, "alert", "add", "--agency", "HK", "--kind", "below_target", "--share",
                       "50%", "--email", OFFICE])
    _, err = capsys.readouterr()
    assert code == 2 and "--share" in err and "kiosk-server target set" in err
    assert all(r.kind != "below_target" for r in rules.list_rules(seeded.engine))
    code = server_cli(["--db", seeded.url, "alert", "add", "--agency", "HK", "--kind", "below_target", "--email",
                       OFFICE])
    out, _ = capsys.readouterr()
    assert code == 0 and "dưới chỉ tiêu năm (ít nhất 30 lượt)" in out and "below the year's target" in out
    (rule,) = [r for r in rules.list_rules(seeded.engine) if r.kind == "below_target"]
    rules.remove_rule(seeded.engine, rule.id)


# ---- screenshots ------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Make the README's screenshots of targets: python -m tests.test_server_targets --screenshots DIR."""
    import argparse
    import tempfile

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, WIDE

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    with tempfile.TemporaryDirectory() as directory:
        seeded = seed(f"sqlite:///{directory}/server.db", Path(directory))
        try:
            session = _signed_in(seeded.server)
            base = {"agency": "HK", "period": "month", "date": NOVEMBER.isoformat(), "group": "counter"}
            page = session.get(seeded.server.url + "/dashboard", params=base, timeout=30).text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf
            published = session.post(seeded.server.url + "/dashboard/publish",
                                     data=base | {"csrf": csrf.group(1), "title": "Kết quả tháng 11/2026"},
                                     allow_redirects=False, timeout=30)
            number = re.search(r"published=(\d+)", published.headers["location"])
            assert number
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                context = chromium.new_context(viewport=WIDE, locale="vi-VN")
                context.add_cookies([{"name": c.name, "value": c.value or "", "url": seeded.server.url}
                                     for c in session.cookies])
                tab = context.new_page()
                tab.goto(seeded.server.url + "/dashboard?" + "&".join(f"{k}={v}" for k, v in base.items()))
                # The headline with its verdict, the elements' targets and the trend's target line in one view.
                tab.evaluate("window.scrollTo(0, document.querySelector('#headline').offsetTop - 12)")
                made.append(args.screenshots / "server-dashboard-target-1920x1080.png")
                tab.screenshot(path=str(made[-1]))
                tab.evaluate("window.scrollTo(0, document.querySelector('#trend').offsetTop - 12)")
                made.append(args.screenshots / "server-dashboard-target-ranking-1920x1080.png")
                tab.screenshot(path=str(made[-1]))
                context.close()
                phone = chromium.new_context(viewport=PHONE, locale="vi-VN")
                tab = phone.new_page()
                tab.goto(f"{seeded.server.url}/ket-qua/HK/{number.group(1)}")
                made.append(args.screenshots / "server-public-target-390x844.png")
                tab.screenshot(path=str(made[-1]))
                phone.close()
                chromium.close()
        finally:
            seeded.server.stop()
    for path in made:
        print(path)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())


def test_two_people_setting_the_same_target_at_once_both_succeed_and_one_stands(seeded: Seeded) -> None:
    # Delete-then-insert with no lock: on PostgreSQL the second insert hit the primary key (a traceback).
    engines = [open_database(seeded.url) for _ in range(2)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(engine: Engine, permille: int) -> None:
        barrier.wait()
        for _ in range(15):
            try:
                targets.set_target(engine, "HK", targets.goal(2031, permille), "noi.vu")
            except BaseException as error:  # any failure is the finding
                errors.append(error)

    threads = [threading.Thread(target=work, args=(e, p)) for e, p in zip(engines, (800, 850), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert errors == []
    stood = [t.goal.index_permille for t in targets.list_targets(seeded.engine, "HK") if t.goal.year == 2031]
    assert len(stood) == 1 and stood[0] in (800, 850)
    targets.remove_target(seeded.engine, "HK", 2031)
