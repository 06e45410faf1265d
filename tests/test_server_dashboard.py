"""The results pages over real HTTP on a real server process, on SQLite and PostgreSQL.

Every number read off a page is checked against reports.build (or the publication's frozen snapshot) for the
same query on the same database: the page must show what the reports compute, never something of its own.
Also: sign-in and CSRF on every staff route, bad choices refused in words, downloads that hold the page's
numbers, publishing that freezes a report, and a public page that shows only what was published.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from kiosk.domain.levels import LEVELS, SCALE_KEYS
from sync.server.admin import accounts
from sync.server.alerts import checker
from sync.server.models import AGENCY, ALERT_EVENT, ALERT_RULE, DEVICE, PUBLICATION, RATING
from sync.server.results import exports, publications, reports
from sync.server.results.comments import harassment_reports, latest_comments
from sync.server.results.figures import Report, ReportQuery, Row
from sync.server.results.periods import Period
from sync.server.results.report_view import RANKING_PAGE_ROWS
from sync.server.settings import ServerSettings
from tests.dashboard_data import MAIN, OTHER, ZONE, Seeded, seed
from tests.page_reader import Node, close, number, parse, share
from tests.sync_harness import ServerHandle, push

PASSWORD = "mật khẩu xem kết quả"
TODAY = datetime.now(UTC).astimezone(ZONE).date()
LAST_MONTH = TODAY.replace(day=1) - timedelta(days=1)
SETTINGS = ServerSettings()  # what the server process runs with: no settings file


# ---- fixtures and helpers ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeded(module_server: ServerHandle) -> Seeded:
    """The shared data set (see tests/dashboard_data.py) in this module's server database."""
    return seed(module_server.engine(), TODAY)


@pytest.fixture(scope="module")
def staff(module_server: ServerHandle, seeded: Seeded) -> Iterator[requests.Session]:
    """A browser session signed in as an IT user."""
    accounts.add_user(module_server.engine(), "ket.qua", PASSWORD)
    session = requests.Session()
    page = session.get(module_server.url + "/login", timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = session.post(module_server.url + "/login", data={"csrf": token.group(1), "username": "ket.qua",
                                                                "password": PASSWORD, "next": "/dashboard"},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    yield session
    session.close()


def query(kind: str, anchor: date, group: str, agency: str | None = None, repeats: bool = False,
          last: date | None = None) -> tuple[dict[str, str], ReportQuery]:
    """The URL parameters a person's choices make, written by hand, and the same query for reports.build."""
    params = {"period": kind, "group": group}
    if kind == "range":
        assert last is not None
        params |= {"from": anchor.isoformat(), "to": last.isoformat()}
        period = Period.between(anchor, last)
    else:
        params["date"] = anchor.isoformat()
        period = Period.of(kind, anchor)
    if agency:
        params["agency"] = agency
    if repeats:
        params["repeats"] = "1"
    return params, ReportQuery(period, group, agency, None, repeats)


# A month long ago in which the other agency's counter was served by many officers: a ranking of several pages.
PAGED_MONTH = date(2016, 3, 1)
PAGED_OFFICERS = 2 * RANKING_PAGE_ROWS + 5


def add_many_officers(engine: Any, device_id: str) -> ReportQuery:
    """Ratings of PAGED_OFFICERS officers at the device's counter in PAGED_MONTH (a few flagged, most with too
    few ratings to judge); the query of that month's ranking by officer."""
    pick = random.Random(2016)
    with engine.begin() as conn:
        device = conn.execute(select(DEVICE.c.agency_id, DEVICE.c.counter_id).where(DEVICE.c.id == device_id)).one()
        rows: list[dict[str, object]] = []
        for n in range(PAGED_OFFICERS):
            flagged = n % 20 == 7   # every twentieth officer is one citizens complain about, often enough to flag
            for i in range(31 if flagged or n % 10 == 0 else 2 + n % 4):
                level = (1 if i % 3 else 4) if flagged else 2 + (n * 7 + i) % 4
                moment = datetime.combine(PAGED_MONTH + timedelta(days=i % 28), time(8), ZONE) + timedelta(minutes=n)
                rows.append({
                    "device_id": device_id, "uuid": str(uuid.UUID(int=pick.getrandbits(128), version=4)),
                    "seq": 1_000_000 + len(rows), "agency_id": device.agency_id, "counter_id": device.counter_id,
                    "counter_code": "Q01", "officer_code": f"P{n:03d}", "procedure_code": None, "language": "vi",
                    "level": level, "recorded_at": moment.astimezone(UTC),
                    "received_at": moment.astimezone(UTC) + timedelta(minutes=5), "suspected_repeat": False,
                    "is_test": False, "q_access": None, "q_procedure": None, "q_officer": None, "q_result": None,
                    "q_feedback": None, "harassment": None, "comment": None})
        conn.execute(insert(RATING), rows)
    return ReportQuery(Period.of("month", PAGED_MONTH), "officer", OTHER)


def get_page(session: requests.Session, server: ServerHandle, params: dict[str, str]) -> Node:
    answer = session.get(server.url + "/dashboard", params=params, timeout=30)
    assert answer.status_code == 200, answer.text[:2000]
    return parse(answer.text)


def csrf_of(session: requests.Session, server: ServerHandle) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', session.get(server.url + "/dashboard", timeout=30).text)
    assert found
    return found.group(1)


def publications_count(server: ServerHandle) -> int:
    with server.engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PUBLICATION)).scalar_one())


def kpi(page: Node, name: str) -> str:
    return page.one(data_kpi=name).one("div", **{"class": "kpi-value"}).text()


def expected_flag(row: Row) -> str:
    if row.figures.ratings == 0:
        return "empty"
    return "too_few" if row.too_few else "flagged" if row.flagged else "ok"


def assert_figures_shown(page: Node, report: Report, *, staff_view: bool = True) -> None:
    """The key figures, the five levels, the elements and the ranking on the page are the report's."""
    total, before = report.total, report.previous_total
    assert number(kpi(page, "ratings")) == total.ratings
    assert close(share(kpi(page, "index")), total.satisfaction_index)
    assert close(share(kpi(page, "dissatisfied")), total.dissatisfied_share)
    assert number(kpi(page, "harassment")) == total.harassment_reports
    levels = page.one("table", data_table="levels")
    for value in range(1, 6):
        row = levels.one("tr", data_level=str(value))
        assert number(row.one(data_col="ratings").text()) == total.levels[value - 1]
        assert close(share(row.one(data_col="share").text()), total.share(value))
        if staff_view:
            assert close(share(row.one(data_col="previous").text()), before.share(value))
    elements = page.one("table", data_table="elements").all("tr")[1:]
    assert len(elements) == len(SCALE_KEYS)
    for key, row in zip(SCALE_KEYS, elements, strict=True):
        assert number(row.one(data_col="answered").text()) == total.elements[key].answered
        assert close(share(row.one(data_col="index").text()), total.elements[key].index)
        if staff_view:
            assert close(share(row.one(data_col="previous").text()), before.elements[key].index)
    ranking = page.one("table", data_table="ranking").all("tr", data_key="*")
    first_page = report.rows[:RANKING_PAGE_ROWS]  # the ranking is shown a page at a time, best first
    assert [r.attrs["data-key"] for r in ranking] == [r.key for r in first_page]
    for position, (shown, row) in enumerate(zip(ranking, first_page, strict=True), start=1):
        assert number(shown.one(data_col="position").text()) == position
        assert shown.one(data_col="label").text().startswith(row.label)
        assert number(shown.one(data_col="ratings").text()) == row.figures.ratings
        assert close(share(shown.one(data_col="index").text()), row.figures.satisfaction_index)
        assert close(share(shown.one(data_col="dissatisfied").text()), row.figures.dissatisfied_share)
        if staff_view:
            assert number(shown.one(data_col="harassment").text()) == row.figures.harassment_reports
            assert close(share(shown.one(data_col="previous").text()), row.previous.satisfaction_index)
            assert shown.one(data_flag="*").attrs["data-flag"] == expected_flag(row)
        else:  # harassment reports are published only as the agency's total (the headline figure)
            assert not shown.all(data_flag="*") and not shown.all(data_col="harassment")


# ---- sign-in, and every choice of the dashboard ----------------------------------------------------------------

STAFF_ROUTES = ["/dashboard", "/dashboard?period=year&group=field", "/dashboard/export/groups.csv",
                "/dashboard/export/trend.xlsx", "/dashboard/export/comments.csv"]


@pytest.mark.parametrize("path", STAFF_ROUTES)
def test_staff_pages_need_a_sign_in(module_server: ServerHandle, seeded: Seeded, path: str) -> None:
    for cookies in ({}, {"kiosk_session": "a-guess"}):
        answer = requests.get(module_server.url + path, cookies=cookies, allow_redirects=False, timeout=10)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=%2Fdashboard")
        assert "Chỉ số hài lòng" not in answer.text


def test_publishing_and_withdrawing_need_a_sign_in(module_server: ServerHandle, seeded: Seeded) -> None:
    before = publications_count(module_server)
    for path in ("/dashboard/publish", "/dashboard/withdraw"):
        answer = requests.post(module_server.url + path, data={"agency": MAIN, "title": "x", "publication": "1"},
                               allow_redirects=False, timeout=10)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert publications_count(module_server) == before


CHOICES = [
    pytest.param(("month", TODAY, "counter", MAIN), id="this-month-by-counter"),
    pytest.param(("month", LAST_MONTH, "officer", MAIN), id="last-month-by-officer"),
    pytest.param(("quarter", TODAY, "procedure", MAIN, True), id="quarter-by-procedure-with-repeats"),
    pytest.param(("year", TODAY, "field", None), id="year-by-field-every-agency"),
    pytest.param(("week", TODAY - timedelta(days=7), "agency", None), id="last-week-by-agency"),
    pytest.param(("day", TODAY - timedelta(days=2), "officer", MAIN), id="one-day-by-officer"),
    pytest.param(("range", TODAY - timedelta(days=45), "counter", None, True, TODAY - timedelta(days=10)),
                 id="range-by-counter-every-agency"),
]


@pytest.mark.parametrize("choice", CHOICES)
def test_the_dashboard_shows_what_reports_build_computes(module_server: ServerHandle, staff: requests.Session,
                                                         choice: tuple[Any, ...]) -> None:
    params, q = query(*choice)
    page = get_page(staff, module_server, params)
    report = reports.build(module_server.engine(), q, SETTINGS)
    assert report.total.ratings > 0  # the data set covers every choice: the comparison is not vacuous
    assert page.one(id="period-label").text() == q.period.label()
    assert_figures_shown(page, report)
    scope = page.one("p", **{"class": "scope"}).text()
    assert q.period.previous().label() in scope
    if q.include_repeats:
        assert "tính cả lượt nghi bấm lặp" in scope
    else:
        assert f"không tính {report.excluded_repeats} lượt nghi bấm lặp" in scope
    # The form shows the choices back, so the next change starts from them.
    assert page.one("select", id="f-group").one("option", selected="").attrs["value"] == q.group_by
    assert page.one("select", id="f-period").one("option", selected="").attrs["value"] == q.period.kind


def test_the_default_is_this_month_by_counter_for_every_agency(module_server: ServerHandle,
                                                               staff: requests.Session) -> None:
    page = get_page(staff, module_server, {})
    _, q = query("month", TODAY, "counter")
    assert page.one(id="period-label").text() == q.period.label()
    assert_figures_shown(page, reports.build(module_server.engine(), q, SETTINGS))


def test_previous_and_next_lead_to_the_neighbouring_periods(module_server: ServerHandle,
                                                            staff: requests.Session) -> None:
    params, q = query("month", LAST_MONTH, "counter", MAIN)
    page = get_page(staff, module_server, params)
    for rel, expected in (("prev", q.period.previous()), ("next", Period.of("month", TODAY))):
        link = page.one("a", rel=rel).attrs["href"]
        neighbour = staff.get(module_server.url + link, timeout=30)
        assert neighbour.status_code == 200
        shown = parse(neighbour.text)
        assert shown.one(id="period-label").text() == expected.label()
        assert shown.one("select", id="f-agency").one("option", selected="").attrs["value"] == MAIN


def test_flags_say_the_threshold_and_too_few_ratings_is_said_as_such(module_server: ServerHandle,
                                                                     staff: requests.Session) -> None:
    params, q = query("month", LAST_MONTH, "counter", MAIN)
    report = reports.build(module_server.engine(), q, SETTINGS)
    # The data set makes one counter clearly worse and one too small to judge; check both really happen.
    assert any(r.flagged for r in report.rows) and any(r.too_few for r in report.rows)
    page = get_page(staff, module_server, params)
    rule = page.one("p", **{"class": "rule"}).text()
    assert "trên 25%" in rule and "ít nhất 30 lượt" in rule and "over 25%" in rule
    for row in report.rows:
        shown = page.one("tr", data_key=row.key)
        flag = shown.one(data_flag="*").text()
        if row.flagged:
            assert shown.has_class("flag-flagged")  # colour …
            assert "CẢNH BÁO" in flag and "> 25%" in flag and "FLAGGED" in flag  # … and words, with the threshold
        elif row.too_few:
            assert not shown.has_class("flag-flagged")
            assert f"chưa đủ số lượt đánh giá ({row.figures.ratings} < 30)" in flag and "too few ratings" in flag
        else:
            assert "Đạt" in flag and "≤ 25%" in flag


def test_ratings_of_a_broken_chain_are_shown_apart(module_server: ServerHandle, staff: requests.Session) -> None:
    params, q = query("month", TODAY, "counter", MAIN)
    report = reports.build(module_server.engine(), q, SETTINGS)
    assert report.unverified.ratings > 0
    text = get_page(staff, module_server, params).one("section", id="unverified").text()
    assert f"{report.unverified.ratings} lượt đánh giá" in text and "không tính" in text and "not counted" in text


def test_ratings_whose_time_is_unknown_are_shown_apart_under_the_day_they_arrived(
        module_server: ServerHandle, staff: requests.Session) -> None:
    params, q = query("day", TODAY, "agency", MAIN)
    report = reports.build(module_server.engine(), q, SETTINGS)
    assert report.untimed.ratings == 2 and report.untimed.levels == (0, 0, 2, 0, 0)
    text = get_page(staff, module_server, params).one("section", id="untimed").text()
    assert "2 lượt đánh giá" in text and "không tính" in text and "no period" in text
    for period in ("month", "year"):   # in no period's figures: the year 2000 holds nothing either
        params, q = query(period, date(2000, 1, 1), "agency", MAIN)
        assert reports.build(module_server.engine(), q, SETTINGS).total.ratings == 0
    params, q = query("day", TODAY - timedelta(days=1), "agency", MAIN)
    assert get_page(staff, module_server, params).all("section", id="untimed") == []


def test_comments_and_harassment_reports_are_listed_masked(module_server: ServerHandle,
                                                           staff: requests.Session) -> None:
    # The last 60 days, not "this quarter": on a quarter's first days that would hold a day or two of ratings.
    params, q = query("range", TODAY - timedelta(days=60), "counter", MAIN, last=TODAY)
    engine = module_server.engine()
    comments = latest_comments(engine, q, SETTINGS, limit=20)
    harassment = harassment_reports(engine, q, SETTINGS, limit=50)
    assert comments and harassment
    page = get_page(staff, module_server, params)
    shown = page.one("table", data_table="comments").all("tr")[1:]
    assert [r.one(data_col="text").text() for r in shown] == [c.text or "–" for c in comments]
    assert [r.one(data_col="recorded_at").text() for r in shown] == [c.recorded_at_local for c in comments]
    html = page.one("section", id="comments").text()
    assert "•••" in html and "0912" not in html and "@example.vn" not in html
    assert len(page.one("table", data_table="harassment").all("tr")[1:]) == len(harassment)


def test_active_alerts_are_shown(module_server: ServerHandle, staff: requests.Session) -> None:
    engine = module_server.engine()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        agency_id = conn.execute(select(AGENCY.c.id).where(AGENCY.c.code == MAIN)).scalar_one()
        rule = conn.execute(insert(ALERT_RULE).values(agency_id=agency_id, kind="dissatisfied", share=0.5,
                                                      window_h=24, min_ratings=4, email_to="noi.vu@example.vn",
                                                      active=False, created_at=now)
                            .returning(ALERT_RULE.c.id)).scalar_one()
        conn.execute(insert(ALERT_EVENT).values(rule_id=rule, occurrence="test:1", created_at=now,
                                                subject="Tỷ lệ không hài lòng 60% trong 24 giờ", body="…"))
    raised = checker.active_alerts(engine, agency_code=MAIN)
    page = get_page(staff, module_server, {"agency": MAIN})
    items = page.one("section", id="alerts").all("li", data_alert="*")
    assert len(items) == len(raised) >= 1
    assert any("Tỷ lệ không hài lòng 60% trong 24 giờ" in item.text() for item in items)


def test_an_empty_period_shows_dashes_not_zero(module_server: ServerHandle, staff: requests.Session) -> None:
    params, q = query("month", date(2015, 6, 1), "counter", MAIN)
    page = get_page(staff, module_server, params)
    assert reports.build(module_server.engine(), q, SETTINGS).total.ratings == 0
    assert kpi(page, "ratings") == "0" and kpi(page, "index") == "–" and kpi(page, "dissatisfied") == "–"
    assert "Không có lượt đánh giá nào trong kỳ này" in page.one("table", data_table="ranking").text()
    bar = page.one("section", id="levels").all("svg")[0]
    assert "Chưa có lượt đánh giá" in bar.attrs["aria-label"]  # the empty bar says so, to a screen reader too


# ---- the ranking, a page at a time ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def paged(module_server: ServerHandle, seeded: Seeded) -> Report:
    """A month whose ranking by officer runs to three pages (50, 50 and 5 rows), a few of them flagged."""
    q = add_many_officers(module_server.engine(), seeded.devices[(OTHER, "Q01")])
    report = reports.build(module_server.engine(), q, SETTINGS)
    assert len(report.rows) == PAGED_OFFICERS and 1 < sum(r.flagged for r in report.rows) < RANKING_PAGE_ROWS
    return report


def paged_params(**extra: str) -> dict[str, str]:
    return {"period": "month", "date": PAGED_MONTH.isoformat(), "group": "officer", "agency": OTHER} | extra


def ranking_rows(page: Node) -> list[tuple[int, str]]:
    """(position, key) of every ranking row on the page."""
    return [(number(r.one(data_col="position").text()), r.attrs["data-key"])
            for r in page.one("table", data_table="ranking").all("tr", data_key="*")]


def pager_links(page: Node) -> dict[str, str]:
    """The ranking pager's links by what they lead to: a page number, previous or next (the current: no link)."""
    pagers = page.all("nav", **{"class": "pager no-print"})
    assert len(pagers) == 2  # above and below the table, the same
    return {a.attrs["data-page-link"]: a.attrs["href"] for a in pagers[0].all("a", data_page_link="*")}


def test_the_ranking_is_shown_fifty_rows_a_page_and_page_two_holds_the_next_fifty(
        module_server: ServerHandle, staff: requests.Session, paged: Report) -> None:
    everyone = [(position, row.key) for position, row in enumerate(paged.rows, start=1)]
    first = get_page(staff, module_server, paged_params())
    assert ranking_rows(first) == everyone[:RANKING_PAGE_ROWS]
    summary = first.one(id="ranking-summary")
    assert summary.attrs["data-groups"] == str(PAGED_OFFICERS) and summary.attrs["data-pages"] == "3"
    assert summary.attrs["data-flagged"] == str(sum(r.flagged for r in paged.rows))
    assert "Trang 1/3: dòng 1–50" in summary.text() and "Page 1 of 3: rows 1–50" in summary.text()
    assert_figures_shown(first, paged)   # the key figures are the whole month's, whatever the page
    links = pager_links(first)
    assert set(links) == {"2", "3", "next"}  # no previous page, and page 1 is the current one (not a link)
    assert links["next"] == links["2"]
    # Page 2, reached by its link: the choices are kept, only the page changes, and the figures stay the month's.
    second_answer = staff.get(module_server.url + links["2"], timeout=30)
    assert second_answer.status_code == 200
    second = parse(second_answer.text)
    assert ranking_rows(second) == everyone[RANKING_PAGE_ROWS:2 * RANKING_PAGE_ROWS]
    assert second.one("select", id="f-agency").one("option", selected="").attrs["value"] == OTHER
    assert second.one("select", id="f-group").one("option", selected="").attrs["value"] == "officer"
    assert number(kpi(second, "ratings")) == paged.total.ratings
    assert set(pager_links(second)) == {"1", "3", "previous", "next"}
    third = get_page(staff, module_server, paged_params(page="3"))
    assert ranking_rows(third) == everyone[2 * RANKING_PAGE_ROWS:]
    assert "dòng 101–105" in third.one(id="ranking-summary").text()
    # The period arrows and the publish form start again from page 1.
    assert "page=" not in second.one("a", rel="next").attrs["href"]
    assert not second.one("form", **{"class": "publish-form"}).all("input", name="page")
    # The download still holds every row.
    download = staff.get(module_server.url + "/dashboard/export/groups.csv", params=paged_params(page="2"),
                         timeout=30)
    assert download.status_code == 200
    keys = [row[0] for row in csv.reader(io.StringIO(download.content.decode("utf-8")[1:]))][1:]
    assert [key for key in keys if key] == [row.key for row in paged.rows]


def test_the_flagged_ones_can_be_shown_alone_with_their_place_in_the_whole_ranking(
        module_server: ServerHandle, staff: requests.Session, paged: Report) -> None:
    page = get_page(staff, module_server, paged_params())
    views = page.one("nav", **{"class": "ranking-views no-print"})
    flagged_link = views.one("a", data_view="flagged").attrs["href"]
    assert "show=flagged" in flagged_link and f"agency={OTHER}" in flagged_link
    shown = parse(staff.get(module_server.url + flagged_link, timeout=30).text)
    expected = [(position, row.key) for position, row in enumerate(paged.rows, start=1) if row.flagged]
    assert ranking_rows(shown) == expected
    assert all(flag.attrs["data-flag"] == "flagged" for flag in shown.one("table", data_table="ranking")
               .all(data_flag="*"))
    assert not shown.all("nav", **{"class": "pager no-print"})  # one page: no pager
    assert shown.one("nav", **{"class": "ranking-views no-print"}).one(aria_current="page").attrs["data-view"] == \
        "flagged"
    # A month with nothing flagged says so in the flagged view. (The other agency's ratings are 3 to 5 only, so
    # nothing there is ever flagged; an officer of the worse counter gets 30 ratings in some months.)
    params, q = query("month", LAST_MONTH, "counter", OTHER)
    assert not any(r.flagged for r in reports.build(module_server.engine(), q, SETTINGS).rows)
    none = get_page(staff, module_server, params | {"show": "flagged"})
    assert "Không có nhóm nào bị gắn cờ" in none.one("table", data_table="ranking").text()


def test_a_ranking_page_past_the_last_says_so_and_still_shows_the_figures(
        module_server: ServerHandle, staff: requests.Session, paged: Report) -> None:
    answer = staff.get(module_server.url + "/dashboard", params=paged_params(page="9"), timeout=30)
    assert answer.status_code == 404
    page = parse(answer.text)
    notice = page.one("p", role="alert").text()
    assert "không có trang 9" in notice and "chỉ có 3 trang" in notice and "has no page 9" in notice
    assert number(kpi(page, "ratings")) == paged.total.ratings
    assert ranking_rows(page) == []
    assert "Không có trang 9" in page.one("table", data_table="ranking").text()
    links = pager_links(page)
    assert "page=3" in links["3"] and "page=3" in links["previous"] and "next" not in links


@pytest.mark.parametrize(("extra", "field", "words"), [
    ({"page": "hai"}, "page", "phải là một số nguyên dương"),
    ({"page": "0"}, "page", "phải là một số nguyên dương"),
    ({"page": "-1"}, "page", "phải là một số nguyên dương"),
    ({"page": "9" * 40}, "page", "phải là một số nguyên dương"),
    ({"show": "worst"}, "show", "không có cách xem 'worst'"),
])
def test_a_malformed_ranking_page_is_refused_in_words(module_server: ServerHandle, staff: requests.Session,
                                                      paged: Report, extra: dict[str, str], field: str,
                                                      words: str) -> None:
    answer = staff.get(module_server.url + "/dashboard", params=paged_params(**extra), timeout=10)
    assert answer.status_code == 400
    notice = parse(answer.text).one("p", role="alert")
    assert words in notice.text() and notice.one("span", **{"class": "en"}).text()
    assert not parse(answer.text).all(data_kpi="*")


def test_every_page_of_a_small_ranking_is_one_page_without_a_pager(module_server: ServerHandle,
                                                                   staff: requests.Session) -> None:
    params, q = query("month", LAST_MONTH, "counter", MAIN)
    page = get_page(staff, module_server, params)
    assert not page.all("nav", **{"class": "pager no-print"})
    rows = reports.build(module_server.engine(), q, SETTINGS).rows
    assert page.one(id="ranking-summary").attrs["data-pages"] == "1"
    assert ranking_rows(page) == [(n, row.key) for n, row in enumerate(rows, start=1)]


BAD_CHOICES = [
    pytest.param({"period": "fortnight"}, "period", "Không có loại kỳ 'fortnight'", id="unknown-period"),
    pytest.param({"period": "month", "date": "2026-13-45"}, "date", "không phải một ngày hợp lệ", id="bad-date"),
    pytest.param({"period": "month", "date": "1999-12-31"}, "date", "phải trong khoảng", id="date-too-early"),
    pytest.param({"period": "range", "from": "2026-11-20", "to": "2026-11-01"}, "to", "đứng trước", id="reversed"),
    pytest.param({"period": "range", "from": "2010-01-01", "to": "2026-01-01"}, "to", "dài quá", id="too-long"),
    pytest.param({"period": "range", "from": "", "to": "2026-11-01"}, "from", "Từ ngày", id="missing-from"),
    pytest.param({"group": "street"}, "group", "Không có cách nhóm 'street'", id="unknown-grouping"),
    pytest.param({"agency": "NOPE"}, "agency", "Không có cơ quan mã 'NOPE'", id="unknown-agency"),
]


@pytest.mark.parametrize(("params", "field", "words"), BAD_CHOICES)
def test_bad_choices_are_refused_in_words(module_server: ServerHandle, staff: requests.Session,
                                          params: dict[str, str], field: str, words: str) -> None:
    answer = staff.get(module_server.url + "/dashboard", params=params, timeout=10)
    assert answer.status_code == 400
    page = parse(answer.text)
    notice = page.one("p", role="alert").text()
    assert words in notice
    english = page.one("p", role="alert").one("span", **{"class": "en"}).text()
    assert english and english != notice  # English follows, in its own words
    assert not page.all(data_kpi="*")  # no figures for a query that could not be made
    assert page.all(aria_invalid="true")[0].attrs.get("name") == field  # the wrong field is marked
    download = staff.get(module_server.url + "/dashboard/export/groups.csv", params=params, timeout=10)
    assert download.status_code == 400 and words in download.text


# ---- downloads ---------------------------------------------------------------------------------------------

def _csv_rows(answer: requests.Response) -> list[list[str]]:
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Vietnamese right
    return list(csv.reader(io.StringIO(text[1:])))


def test_downloads_hold_the_numbers_of_the_page(module_server: ServerHandle, staff: requests.Session) -> None:
    params, q = query("month", LAST_MONTH, "officer", MAIN)
    page = get_page(staff, module_server, params)
    links = {a.attrs["href"] for a in page.all("a", data_format="*")}
    assert len(links) == 12  # CSV and Excel for each of the six tables

    def fetch(name: str, fmt: str) -> requests.Response:
        href = next(h for h in links if f"/export/{name}.{fmt}?" in h)
        answer = staff.get(module_server.url + href, timeout=30)
        assert answer.status_code == 200, answer.text[:500]
        assert "attachment;" in answer.headers["content-disposition"]
        return answer

    ranking = {r.attrs["data-key"]: r for r in page.one("table", data_table="ranking").all("tr", data_key="*")}
    groups = _csv_rows(fetch("groups", "csv"))
    body = [row for row in groups[1:] if row[0]]  # the last line is the total, without a key
    assert {row[0] for row in body} == set(ranking)
    for row in body:
        shown = ranking[row[0]]
        assert int(row[2]) == number(shown.one(data_col="ratings").text())
        index = groups[0].index("Chỉ số hài lòng (4–5) (%)")
        assert close(float(row[index]) / 100 if row[index] else None, share(shown.one(data_col="index").text()))
    book = load_workbook(io.BytesIO(fetch("groups", "xlsx").content))
    sheet = book["Nhóm"]
    for key, _label, ratings, *_ in sheet.iter_rows(min_row=2, values_only=True):
        if key:
            assert ratings == number(ranking[key].one(data_col="ratings").text())
    levels_sheet = {row[0]: row for row in book["Mức độ"].iter_rows(min_row=2, values_only=True) if row[0]}
    for value in range(1, 6):
        shown = page.one("table", data_table="levels").one("tr", data_level=str(value))
        assert levels_sheet[value][2] == number(shown.one(data_col="ratings").text())
    trend_rows = page.one("table", data_table="trend").all("tr")[1:]
    trend_csv = _csv_rows(fetch("trend", "csv"))[1:]
    trend_book = load_workbook(io.BytesIO(fetch("trend", "xlsx").content)).active
    assert len(trend_csv) == len(trend_rows) == trend_book.max_row - 1
    for csv_row, shown, book_row in zip(trend_csv, trend_rows, trend_book.iter_rows(min_row=2, values_only=True),
                                        strict=True):
        assert int(csv_row[1]) == number(shown.one(data_col="ratings").text()) == book_row[1]
    comments = page.one("table", data_table="comments").all("tr")[1:]
    header, *comments_csv = _csv_rows(fetch("comments", "csv"))
    text_at = header.index("Ý kiến / Comment")
    assert [row[text_at] for row in comments_csv] == [r.one(data_col="text").text() for r in comments]
    harassment_book = load_workbook(io.BytesIO(fetch("harassment", "xlsx").content)).active
    assert harassment_book.max_row - 1 == len(page.one("table", data_table="harassment").all("tr")[1:])
    assert q.period.first.isoformat() in fetch("comments", "csv").headers["content-disposition"]


@pytest.mark.parametrize("path", ["/dashboard/export/secrets.csv", "/dashboard/export/groups.pdf",
                                  "/dashboard/export/..%2Fsettings.csv"])
def test_an_unknown_download_is_not_found(module_server: ServerHandle, staff: requests.Session, path: str) -> None:
    answer = staff.get(module_server.url + path, timeout=10)
    assert answer.status_code == 404 and "Không có" in answer.text  # a page, or the server's own 404


# ---- publishing and the public page -----------------------------------------------------------------------

def publish(session: requests.Session, server: ServerHandle, params: dict[str, str], title: str,
            csrf: str | None = None) -> requests.Response:
    form = params | {"title": title, "csrf": csrf if csrf is not None else csrf_of(session, server)}
    return session.post(server.url + "/dashboard/publish", data=form, allow_redirects=False, timeout=30)


def stored_publication(server: ServerHandle, number_: int) -> Any:
    with server.engine().connect() as conn:
        return conn.execute(select(PUBLICATION).where(PUBLICATION.c.id == number_)).one()


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_publishing_needs_the_form_token(module_server: ServerHandle, staff: requests.Session, token: str) -> None:
    params, _ = query("month", LAST_MONTH, "counter", MAIN)
    before = publications_count(module_server)
    answer = publish(staff, module_server, params, "Một công bố giả", csrf=token)
    assert answer.status_code == 403
    text = parse(answer.text).one("p", role="alert").text()
    assert "Biểu mẫu đã hết hạn" in text and "nothing changed" in text
    assert publications_count(module_server) == before


@pytest.mark.parametrize(("change", "words"), [
    ({"title": "   "}, "Tiêu đề không được để trống"),
    ({"title": "x" * 201}, "Tiêu đề dài quá 200 ký tự"),
    ({"agency": ""}, "hãy chọn cơ quan"),
    ({"agency": "NOPE"}, "Không có cơ quan mã 'NOPE'"),
    ({"date": "hôm qua"}, "không phải một ngày hợp lệ"),
])
def test_a_bad_publish_form_changes_nothing(module_server: ServerHandle, staff: requests.Session,
                                            change: dict[str, str], words: str) -> None:
    params, _ = query("month", LAST_MONTH, "counter", MAIN)
    before = publications_count(module_server)
    form = params | {"title": "Kết quả tháng trước"} | change
    answer = publish(staff, module_server, {k: v for k, v in form.items() if k != "title"}, form["title"])
    assert answer.status_code == 400
    text = parse(answer.text).one("p", role="alert").text()
    assert words in text and "Không có gì thay đổi" in text and "Nothing changed" in text
    assert publications_count(module_server) == before


def test_an_oversized_publish_form_is_refused(module_server: ServerHandle, staff: requests.Session) -> None:
    params, _ = query("month", LAST_MONTH, "counter", MAIN)
    before = publications_count(module_server)
    answer = publish(staff, module_server, params, "Kết quả " + "rất dài " * 4000)
    assert answer.status_code == 413
    assert "Biểu mẫu quá lớn" in parse(answer.text).one("p", role="alert").text()
    assert publications_count(module_server) == before


def test_a_title_with_markup_is_shown_as_text(module_server: ServerHandle, staff: requests.Session) -> None:
    params, _ = query("day", LAST_MONTH, "counter", MAIN)
    title = '<script>alert("x")</script> Kết quả <b>ngày</b>'
    answer = publish(staff, module_server, params, title)
    assert answer.status_code == 303
    made = re.search(r"published=(\d+)", answer.headers["location"]).group(1)  # type: ignore[union-attr]
    shown = public_page(module_server, f"/ket-qua/{MAIN}/{made}")
    assert "<script" not in shown.text and "<b>ngày" not in shown.text
    assert parse(shown.text).one("h1").text() == title  # the words exactly as typed, as text


def public_page(server: ServerHandle, path: str) -> requests.Response:
    return requests.get(server.url + path, timeout=30)  # no session: a citizen


def test_publishing_freezes_the_report_and_the_public_page_shows_exactly_it(
        module_server: ServerHandle, staff: requests.Session, seeded: Seeded) -> None:
    engine = module_server.engine()
    params, q = query("month", LAST_MONTH, "counter", MAIN)
    # Nothing is published yet for the other agency, and nothing shows for it.
    nothing = public_page(module_server, f"/ket-qua/{OTHER}")
    assert nothing.status_code == 200 and "chưa công bố kết quả nào" in nothing.text
    assert not parse(nothing.text).all(data_kpi="*")

    title = f"Kết quả đánh giá sự hài lòng {q.period.label()}"
    answer = publish(staff, module_server, params, title)
    assert answer.status_code == 303, answer.text[:1000]
    made = int(re.search(r"published=(\d+)", answer.headers["location"]).group(1))  # type: ignore[union-attr]
    notice = staff.get(module_server.url + answer.headers["location"], timeout=30)
    assert f"Đã công bố (số {made})" in notice.text
    row = stored_publication(module_server, made)
    report = reports.build(engine, q, SETTINGS)
    by_channel = reports.build(engine, replace(q, group_by="channel"), SETTINGS)
    channels = {r.key: r.figures.ratings for r in by_channel.rows}
    assert channels == {"kiosk": report.total.ratings}   # this data set's ratings all come from kiosks
    # The report as it stood, frozen, with how many answers each channel gave.
    assert json.loads(row.snapshot) == exports.report_json(report) | {"channels": channels}
    assert (row.period_kind, row.first, row.last, row.group_by, row.title, row.published_by) == (
        "month", q.period.first, q.period.last, "counter", title, "ket.qua")

    shown = public_page(module_server, f"/ket-qua/{MAIN}/{made}")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-cache"
    page = parse(shown.text)
    assert page.one("h1").text() == title
    assert_figures_shown(page, report, staff_view=False)
    # What was not published stays off the public page: comments, harassment details, flags, sign-in links.
    text = page.text()
    for private in ("Ý kiến mới nhất", "CẢNH BÁO", "chưa đủ số lượt", "Đăng xuất", "/dashboard", "Chưa xác minh"):
        assert private not in shown.text, private
    assert "024 3825 3536" in text  # the hotline for complaints is posted with the results

    # New ratings arrive after publishing: the dashboard moves on, the publication does not.
    late = datetime.combine(q.period.last, datetime.min.time(), ZONE).astimezone(UTC) + timedelta(hours=9)
    with engine.begin() as conn:
        q02 = seeded.devices[(MAIN, "Q02")]
        template = conn.execute(select(RATING).where(RATING.c.device_id == q02).limit(1)).one()
        conn.execute(insert(RATING), [dict(template._mapping) | {
            "uuid": f"00000000-0000-4000-8000-{i:012d}", "seq": 100000 + i, "level": 1, "recorded_at": late,
            "received_at": late, "suspected_repeat": False, "is_test": False} for i in range(5)])
    moved = reports.build(engine, q, SETTINGS)
    assert moved.total.ratings == report.total.ratings + 5
    assert_figures_shown(get_page(staff, module_server, params), moved)
    assert_figures_shown(parse(public_page(module_server, f"/ket-qua/{MAIN}/{made}").text), report,
                         staff_view=False)
    newest = publications.published(engine, MAIN)[0].id  # the latest period published comes first
    latest = parse(public_page(module_server, f"/ket-qua/{MAIN}").text)
    assert latest.one("article", data_publication="*").attrs["data-publication"] == str(newest)


def test_publishing_twice_is_refused_until_withdrawn_and_withdrawn_ones_vanish(
        module_server: ServerHandle, staff: requests.Session) -> None:
    params, _ = query("quarter", LAST_MONTH, "officer", MAIN)
    first = publish(staff, module_server, params, "Kết quả quý theo cán bộ")
    assert first.status_code == 303
    made = int(re.search(r"published=(\d+)", first.headers["location"]).group(1))  # type: ignore[union-attr]
    before = publications_count(module_server)
    again = publish(staff, module_server, params, "Kết quả quý theo cán bộ (lần 2)")
    assert again.status_code == 409
    refusal = parse(again.text).one("p", role="alert").text()
    assert f"đã được công bố (số {made})" in refusal and "withdraw that one" in refusal
    assert publications_count(module_server) == before
    # The public list names it; then the office withdraws it, and it is gone from every public page.
    listed = public_page(module_server, f"/ket-qua/{MAIN}").text
    assert f'href="/ket-qua/{MAIN}/{made}"' in listed or f'data-publication="{made}"' in listed
    bad_token = staff.post(module_server.url + "/dashboard/withdraw", data={"publication": str(made), "csrf": "x"},
                           allow_redirects=False, timeout=10)
    assert bad_token.status_code == 403 and stored_publication(module_server, made).withdrawn_at is None
    gone = staff.post(module_server.url + "/dashboard/withdraw",
                      data=params | {"publication": str(made), "csrf": csrf_of(staff, module_server)},
                      allow_redirects=False, timeout=10)
    assert gone.status_code == 303 and "withdrawn=" in gone.headers["location"]
    assert stored_publication(module_server, made).withdrawn_at is not None
    missing = public_page(module_server, f"/ket-qua/{MAIN}/{made}")
    assert missing.status_code == 404 and "có thể đã được thu hồi" in missing.text
    assert f"/ket-qua/{MAIN}/{made}" not in public_page(module_server, f"/ket-qua/{MAIN}").text
    index = public_page(module_server, "/ket-qua").text
    assert f'href="/ket-qua/{OTHER}"' not in index  # never published anything
    # Withdrawn, it may be published again (the figures as they are now).
    assert publish(staff, module_server, params, "Kết quả quý theo cán bộ (sửa)").status_code == 303


@pytest.mark.parametrize("number_", ["abc", "999999", "1e3"])
def test_withdrawing_something_that_is_not_there_changes_nothing(module_server: ServerHandle,
                                                                 staff: requests.Session, number_: str) -> None:
    answer = staff.post(module_server.url + "/dashboard/withdraw",
                        data={"publication": number_, "csrf": csrf_of(staff, module_server)},
                        allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and "Không có gì thay đổi" in parse(answer.text).one("p", role="alert").text()


def test_the_embeddable_variant_may_be_framed_and_has_no_header(module_server: ServerHandle,
                                                                staff: requests.Session) -> None:
    params, _ = query("week", LAST_MONTH, "counter", MAIN)
    answer = publish(staff, module_server, params, "Kết quả tuần")
    made = re.search(r"published=(\d+)", answer.headers["location"]).group(1)  # type: ignore[union-attr]
    embedded = public_page(module_server, f"/ket-qua/{MAIN}/{made}?embed=1")
    assert embedded.status_code == 200
    assert "frame-ancestors *" in embedded.headers["content-security-policy"]
    assert "x-frame-options" not in embedded.headers  # which would forbid what the CSP allows
    page = parse(embedded.text)
    assert not page.all("header") and not page.all("footer") and page.all(data_kpi="ratings")
    normal = public_page(module_server, f"/ket-qua/{MAIN}/{made}")
    assert "content-security-policy" not in normal.headers and normal.headers["x-frame-options"] == "DENY"
    assert parse(normal.text).all("header") and parse(normal.text).all("footer")
    dashboard = staff.get(module_server.url + "/dashboard", timeout=30)
    assert dashboard.headers["x-frame-options"] == "DENY" and "content-security-policy" not in dashboard.headers


@pytest.mark.parametrize(("path", "words"), [
    ("/ket-qua/KHONG-CO", "Không có cơ quan mã «KHONG-CO»"),
    (f"/ket-qua/{MAIN}/abc", "Số bản công bố không hợp lệ"),
    (f"/ket-qua/{MAIN}/987654", "Không có bản công bố này"),
])
def test_a_public_page_that_does_not_exist_says_so(module_server: ServerHandle, seeded: Seeded, path: str,
                                                   words: str) -> None:
    answer = public_page(module_server, path)
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert words in parse(answer.text).text() and '<html lang="vi">' in answer.text


def test_no_results_page_needs_the_internet(module_server: ServerHandle, staff: requests.Session) -> None:
    pages = [staff.get(module_server.url + "/dashboard", params={"agency": MAIN}, timeout=30).text,
             public_page(module_server, "/ket-qua").text, public_page(module_server, f"/ket-qua/{MAIN}").text]
    for html in pages:
        assert "http://" not in html and "https://" not in html
        assert "<script" not in html  # charts are inline SVG drawn by the server
        assert "Chỉ số hài lòng" in html or "Các cơ quan" in html  # diacritics intact, UTF-8
    for sheet in ("results.css", "print.css", "style.css"):
        css = requests.get(f"{module_server.url}/static/{sheet}", timeout=10)
        assert css.status_code == 200 and "url(" not in css.text and "@import" not in css.text
    assert "@page" in requests.get(module_server.url + "/static/print.css", timeout=10).text


def test_the_level_colours_come_from_their_one_owner(module_server: ServerHandle, staff: requests.Session) -> None:
    levels_css = requests.get(module_server.url + "/levels.css", timeout=10)
    assert levels_css.status_code == 200 and levels_css.headers["content-type"].startswith("text/css")
    assert "url(" not in levels_css.text and "@import" not in levels_css.text
    for level in LEVELS:
        assert f"--level-{level.value}: {level.colour};" in levels_css.text
    pages = [staff.get(module_server.url + "/dashboard", params={"agency": MAIN}, timeout=30).text,
             public_page(module_server, "/ket-qua").text, public_page(module_server, f"/ket-qua/{MAIN}").text,
             public_page(module_server, "/ket-qua/KHONG-CO").text]
    for html in pages:
        sheets = [n.attrs.get("href") for n in parse(html).all("link") if n.attrs.get("rel") == "stylesheet"]
        assert sheets.index("/levels.css") < sheets.index("/static/results.css")
    # No stylesheet keeps a copy of a level's colour: the results pages name them as var(--level-N).
    for sheet in ("results.css", "print.css", "style.css"):
        css = requests.get(f"{module_server.url}/static/{sheet}", timeout=10).text.upper()
        assert not [level.colour for level in LEVELS if level.colour.upper() in css], sheet
    results_css = requests.get(module_server.url + "/static/results.css", timeout=10).text
    assert "var(--level-4)" in results_css and "var(--level-1)" in results_css


def test_ratings_pushed_by_a_real_kiosk_appear_on_the_dashboard(module_server: ServerHandle,
                                                                staff: requests.Session, tmp_path: Path) -> None:
    device, device_id = module_server.enrolled_device(tmp_path / "kiosk", "KIOSK6", "Q01")
    device.rate(7, with_answers=True)
    assert push(module_server.url, device, device_id, device.records()).status_code == 200
    device.close()
    params, q = query("day", TODAY, "officer", "KIOSK6")
    page = get_page(staff, module_server, params)
    report = reports.build(module_server.engine(), q, SETTINGS)
    assert report.total.ratings == 7 and report.total.elements["access"].answered == 7
    assert_figures_shown(page, report)
