"""The public results page publishes harassment reports only as the agency's total, never per officer, counter
or any other group (unverified allegations are not published against named people); the signed-in dashboard
keeps the counts per group. Read over real HTTP from a real server process, on SQLite and PostgreSQL.

The publications here are stored as publishing has always stored them (the snapshot holds the counts per
group), so the same holds for publications made before the rule.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from sync.server.admin import accounts
from sync.server.results import publications, reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.settings import ServerSettings
from tests.page_reader import Node, number, parse
from tests.sync_harness import ServerHandle
from tests.test_server_alerts_helpers import make_place

AGENCY = "PHX"
MONTH = date(2025, 3, 1)
PASSWORD = "mật khẩu xem kết quả"


def at(day: int) -> datetime:
    """Ten in the morning, Vietnam time, of a day of MONTH."""
    return datetime(MONTH.year, MONTH.month, day, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded(module_server: ServerHandle) -> dict[str, int]:
    """One agency's month: three harassment reports against officer CB001 at Q01, none against CB002 at Q02;
    the number of each group's reports."""
    place = make_place(module_server.engine(), AGENCY)
    place.rate("Q01", [1, 2, 1], at=at(3), officer="CB001", harassment=True)
    place.rate("Q01", [5, 4, 4, 5, 3], at=at(4), officer="CB001", harassment=False)
    place.rate("Q02", [5, 5, 4, 4], at=at(5), officer="CB002", harassment=False)
    return {"CB001": 3, "CB002": 0, "Q01": 3, "Q02": 0}


def query(group: str) -> ReportQuery:
    """MONTH of the agency, grouped by `group`."""
    return ReportQuery(Period.of("month", MONTH), group, AGENCY)


def publish(server: ServerHandle, group: str) -> int:
    """Publish MONTH grouped by `group` the way the dashboard does; the publication's number."""
    engine = server.engine()
    report = reports.build(engine, query(group), ServerSettings())
    made = publications.publish(engine, report, f"Kết quả tháng 3/2025 theo {group}", "noi.vu")
    return made.id


def public(server: ServerHandle, path: str) -> Node:
    """A public page as a citizen's browser gets it (no sign-in)."""
    answer = requests.get(server.url + path, timeout=30)
    assert answer.status_code == 200, answer.text[:1000]
    return parse(answer.text)


def assert_only_the_agency_total(page: Node, groups: dict[str, int]) -> None:
    """The headline says the agency's total; the ranking names every group and says nothing of harassment."""
    assert number(page.one(data_kpi="harassment").one("div", **{"class": "kpi-value"}).text()) == 3
    ranking = page.one("table", data_table="ranking")
    shown = {row.attrs["data-key"]: row for row in ranking.all("tr", data_key="*")}
    assert set(shown) == set(groups)  # the groups are still named, with their ratings
    assert not ranking.all(data_col="harassment")
    assert "Sách nhiễu" not in ranking.text() and "Harassment" not in ranking.text()
    for row in shown.values():
        assert len(row.all("td")) == 5  # #, name, ratings, index, dissatisfied


@pytest.mark.parametrize("group", ["officer", "counter"])
def test_the_public_page_and_its_variants_show_harassment_only_as_the_agency_total(
        module_server: ServerHandle, seeded: dict[str, int], group: str) -> None:
    made = publish(module_server, group)
    groups = {key: n for key, n in seeded.items() if key.startswith("CB" if group == "officer" else "Q")}
    # What is stored holds the office's per-group counts, as every publication made so far does …
    snapshot = json.loads(publications.find(module_server.engine(), AGENCY, made).snapshot)  # type: ignore[union-attr]
    assert {row["key"]: row["figures"]["harassment_reports"] for row in snapshot["rows"]} == groups
    # … and none of them reaches the public: the page, its embeddable and its latest-publication forms (the
    # printed notice is the same page through the print stylesheet).
    for path in (f"/ket-qua/{AGENCY}/{made}", f"/ket-qua/{AGENCY}/{made}?embed=1", f"/ket-qua/{AGENCY}"):
        page = public(module_server, path)
        assert page.one("article", data_publication="*").attrs["data-publication"] == str(made)
        assert_only_the_agency_total(page, groups)
        assert "chỉ công bố tổng số của cơ quan" in page.text()
    withdrawn = publications.withdraw(module_server.engine(), made)
    assert withdrawn.withdrawn_at is not None


def test_the_signed_in_dashboard_keeps_the_counts_per_officer(module_server: ServerHandle,
                                                              seeded: dict[str, int]) -> None:
    accounts.add_user(module_server.engine(), "noi.vu", PASSWORD)
    with requests.Session() as staff:
        form = staff.get(module_server.url + "/login", timeout=10)
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token
        signed_in = staff.post(module_server.url + "/login", allow_redirects=False, timeout=30, data={
            "csrf": token.group(1), "username": "noi.vu", "password": PASSWORD, "next": "/dashboard"})
        assert signed_in.status_code == 303
        answer = staff.get(module_server.url + "/dashboard", timeout=30, params={
            "period": "month", "date": (MONTH + timedelta(days=14)).isoformat(), "group": "officer",
            "agency": AGENCY})
    assert answer.status_code == 200
    ranking = parse(answer.text).one("table", data_table="ranking")
    for key, reported in (("CB001", 3), ("CB002", 0)):
        assert number(ranking.one("tr", data_key=key).one(data_col="harassment").text()) == reported
