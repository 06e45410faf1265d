"""Satisfaction results from the stored ratings, on SQLite and PostgreSQL, checked against numbers worked out by hand.

The data set (`seed`) is small enough to count on paper. Times are Vietnam time (UTC+7) unless said otherwise.
November 2025 is the period most tests ask for; October 2025 is its previous period.

  #   device (agency/counter)   local time          level officer procedure  notes
  1   D1 (HK/Q01)               03/11 09:00         5     CB001   1.001193   access 5, officer 5, harassment no
  2   D1                        03/11 09:30         4     CB001   1.001193   access 4, procedure 3
  3   D1                        04/11 10:00         1     CB001   1.000894   access 2, officer 1, harassment YES,
                                                                             comment with a phone number
  4   D1                        04/11 10:00:10      1     CB001   1.000894   suspected repeat
  5   D1                        30/11 23:30         2     CB002   2.000111   (procedure not in the catalog)
  6   D1                        01/12 00:10         5     CB002   2.000111   December (still 30/11 in UTC)
  7   D1                        05/11 08:00         5     CB001   1.001193   test rating: never counts
  8   D1                        01/11 00:00         3     —       —          first instant of November
  9   D2 (HK/Q02)               10/11 14:00         3     CB009   1.003003   result 4, feedback 2 (CB009 unknown)
  10  D2                        10/11 15:00         4     CB002   1.003003   result 5, comment with an e-mail
  11  D4 (HK/Q01, chain broken) 12/11 09:00         1     CB001   1.001193   unverified
  12  D4                        12/11 09:05         2     CB001   1.001193   unverified
  13  D3 (LC/Q01)               15/11 10:00         5     CB001   1.001193   the other agency
  14  D1                        31/10 23:59         4     CB001   1.001193   October
  15  D1                        15/10 10:00         1     CB002   1.000894   October
  16  D3                        20/10 10:00         2     CB001   —          October, other agency
  17  D2                        30/09 10:00         5     CB002   1.003003   September: in no period asked
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, delete, func, insert, select, update

from kiosk.domain.catalog_import import load_file
from kiosk.domain.levels import SCALE_KEYS
from kiosk.domain.settings_file import SettingsError
from sync.server import db, registry
from sync.server.catalog import store as catalog
from sync.server.devices import enrolment
from sync.server.devices.review import review_device
from sync.server.errors import ReportError
from sync.server.models import CATALOG, DEVICE, PROCEDURE_INFO, RATING
from sync.server.results import reports
from sync.server.results.comments import harassment_reports, latest_comments, mask
from sync.server.results.figures import (
    NO_OFFICER,
    NO_PROCEDURE,
    OTHER_FIELD,
    Element,
    Figures,
    Report,
    ReportQuery,
    add_figures,
)
from sync.server.results.periods import Period, default_bucket
from sync.server.settings import Reports, ServerSettings, load, parse, report_timezone

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOVEMBER = Period.of("month", date(2025, 11, 1))
SETTINGS = ServerSettings()
HK_NAME = "Trung tâm Phục vụ hành chính công xã Hòa Khánh"
LC_NAME = "Trung tâm Phục vụ hành chính công phường Liên Chiểu"
PROCEDURES = {
    "1.001193": ("Đăng ký khai sinh", "HT", "Hộ tịch"),
    "1.000894": ("Đăng ký kết hôn", "HT", "Hộ tịch"),
    "1.003003": ("Cấp Giấy chứng nhận quyền sử dụng đất lần đầu", "DD", "Đất đai"),
}


def vn(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0, year: int = 2025) -> datetime:
    """A moment given in Vietnam time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=VN)


@dataclass
class Seeded:
    """The seeded database and its devices' ids."""

    engine: Engine
    url: str
    device: dict[str, str]


def add_rating(engine: Engine, device_id: str, at: datetime, level: int, officer: str | None = None,
               procedure: str | None = None, *, received_at: datetime | None = None, **columns: Any) -> None:
    """Insert one rating row the way ingest folds it (agency and counter taken from the device)."""
    with db.writing(engine) as conn:
        owner = conn.execute(select(DEVICE.c.agency_id, DEVICE.c.counter_id).where(DEVICE.c.id == device_id)).one()
        seq = conn.execute(select(func.count()).select_from(RATING).where(RATING.c.device_id == device_id)).scalar_one()
        values: dict[str, Any] = {
            "device_id": device_id, "uuid": str(uuid.uuid4()), "seq": seq + 1, "agency_id": owner.agency_id,
            "counter_id": owner.counter_id, "counter_code": None, "officer_code": officer,
            "procedure_code": procedure, "language": "vi", "level": level, "recorded_at": at,
            "received_at": received_at or at + timedelta(hours=1), "suspected_repeat": False, "is_test": False,
        }
        values.update(columns)
        conn.execute(insert(RATING).values(**values))


def seed(engine: Engine, url: str) -> Seeded:
    """The data set in this module's docstring."""
    registry.add_agency(engine, "HK", {"name": HK_NAME, "parent": "Thành phố Đà Nẵng"})
    registry.add_agency(engine, "LC", {"name": LC_NAME, "parent": "Thành phố Đà Nẵng"})
    registry.add_counter(engine, "HK", "Q01", "Quầy 1 — Tư pháp, hộ tịch", [])
    registry.add_counter(engine, "HK", "Q02", "Quầy 2 — Đất đai", [])
    registry.add_counter(engine, "LC", "Q01", "Quầy 1 — Một cửa", [])
    registry.add_officer(engine, "HK", "CB001", "Nguyễn Văn An", "Công chức Tư pháp - Hộ tịch", "Q01")
    registry.add_officer(engine, "HK", "CB002", "Trần Thị Bình")
    registry.add_officer(engine, "LC", "CB001", "Lê Văn Cường")
    lifetime = timedelta(hours=1)
    made = {"D1": enrolment.add_device(engine, "HK", "Q01", lifetime).device_id,
            "D2": enrolment.add_device(engine, "HK", "Q02", lifetime).device_id,
            "D3": enrolment.add_device(engine, "LC", "Q01", lifetime).device_id,
            "D4": enrolment.add_device(engine, "HK", "Q01", lifetime).device_id}
    with db.writing(engine) as conn:
        conn.execute(update(DEVICE).where(DEVICE.c.id == made["D4"]).values(
            chain_state="broken", first_bad_seq=3, problem_vi="nội dung bản ghi đã bị sửa",
            problem_en="the record's content was changed"))
        conn.execute(insert(PROCEDURE_INFO), [{"code": code, "name": name, "field_code": fc, "field_name": fn}
                                              for code, (name, fc, fn) in PROCEDURES.items()])
    d1, d2, d3, d4 = made["D1"], made["D2"], made["D3"], made["D4"]
    add_rating(engine, d1, vn(11, 3, 9), 5, "CB001", "1.001193", q_access=5, q_officer=5, harassment=False)
    add_rating(engine, d1, vn(11, 3, 9, 30), 4, "CB001", "1.001193", q_access=4, q_procedure=3)
    add_rating(engine, d1, vn(11, 4, 10), 1, "CB001", "1.000894", q_access=2, q_officer=1, harassment=True,
               comment="Bị đòi 200.000 đồng ngoài quy định. Gọi lại cho tôi: 0912 345 678")
    add_rating(engine, d1, vn(11, 4, 10, 0, 10), 1, "CB001", "1.000894", suspected_repeat=True)
    add_rating(engine, d1, vn(11, 30, 23, 30), 2, "CB002", "2.000111", comment="Chờ quá lâu")
    add_rating(engine, d1, vn(12, 1, 0, 10), 5, "CB002", "2.000111")
    add_rating(engine, d1, vn(11, 5, 8), 5, "CB001", "1.001193", is_test=True, comment="thử máy")
    add_rating(engine, d1, vn(11, 1, 0, 0), 3)
    add_rating(engine, d2, vn(11, 10, 14), 3, "CB009", "1.003003", q_result=4, q_feedback=2)
    add_rating(engine, d2, vn(11, 10, 15), 4, "CB002", "1.003003", q_result=5,
               comment="Cán bộ tận tình. Email tôi: an.nguyen@example.com")
    add_rating(engine, d4, vn(11, 12, 9), 1, "CB001", "1.001193")
    add_rating(engine, d4, vn(11, 12, 9, 5), 2, "CB001", "1.001193", harassment=True, comment="máy bị sửa?")
    add_rating(engine, d3, vn(11, 15, 10), 5, "CB001", "1.001193", q_access=5)
    add_rating(engine, d1, vn(10, 31, 23, 59), 4, "CB001", "1.001193")
    add_rating(engine, d1, vn(10, 15, 10), 1, "CB002", "1.000894")
    add_rating(engine, d3, vn(10, 20, 10), 2, "CB001")
    add_rating(engine, d2, vn(9, 30, 10), 5, "CB002", "1.003003")
    return Seeded(engine, url, made)


@pytest.fixture(scope="module")
def seeded(module_db_url: str) -> Iterator[Seeded]:
    """The data set, seeded once per module and backend; tests here only read it."""
    engine = db.open_database(module_db_url)
    yield seed(engine, module_db_url)
    engine.dispose()


@pytest.fixture
def fresh(server_db_url: str) -> Iterator[Seeded]:
    """The data set in a database of this test's own (for tests that change it)."""
    engine = db.open_database(server_db_url)
    yield seed(engine, server_db_url)
    engine.dispose()


def build(target: Seeded, group_by: str = "agency", agency: str | None = "HK", *, period: Period = NOVEMBER,
          settings: ServerSettings = SETTINGS, **options: Any) -> Report:
    """The report for one query over the seeded data."""
    return reports.build(target.engine, ReportQuery(period, group_by, agency, **options), settings)


def fig(ratings: int, levels: tuple[int, int, int, int, int], harassment: int = 0,
        **elements: tuple[int, int]) -> Figures:
    """Figures as worked out by hand: elements as (answered, answers at 4–5), the rest none answered."""
    return Figures(ratings, levels, {key: Element.of(*elements.get(key, (0, 0)))
                                     for key in SCALE_KEYS}, harassment)


# The hand-worked figures of agency HK, November, repeats left out: #1 #2 #3 #5 #8 #9 #10.
HK_NOVEMBER = fig(7, (1, 1, 2, 2, 1), 1, access=(3, 2), procedure=(1, 0), officer=(2, 1), result=(2, 2),
                  feedback=(1, 0))
# October: #14 (4) and #15 (1).
HK_OCTOBER = fig(2, (1, 0, 0, 1, 0))


# ---- periods ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "anchor", "first", "last"), [
    ("day", date(2026, 11, 30), date(2026, 11, 30), date(2026, 11, 30)),
    ("week", date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 29)),   # a Monday
    ("week", date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 29)),   # a Sunday
    ("week", date(2026, 1, 1), date(2025, 12, 29), date(2026, 1, 4)),       # across the new year
    ("month", date(2026, 11, 15), date(2026, 11, 1), date(2026, 11, 30)),
    ("month", date(2024, 2, 10), date(2024, 2, 1), date(2024, 2, 29)),      # leap year
    ("month", date(2023, 2, 10), date(2023, 2, 1), date(2023, 2, 28)),
    ("month", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
    ("quarter", date(2026, 11, 23), date(2026, 10, 1), date(2026, 12, 31)),
    ("quarter", date(2026, 2, 14), date(2026, 1, 1), date(2026, 3, 31)),
    ("quarter", date(2026, 6, 30), date(2026, 4, 1), date(2026, 6, 30)),
    ("year", date(2024, 2, 29), date(2024, 1, 1), date(2024, 12, 31)),
])
def test_period_of_covers_the_whole_day_week_month_quarter_or_year(kind: str, anchor: date, first: date,
                                                                  last: date) -> None:
    period = Period.of(kind, anchor)
    assert (period.kind, period.first, period.last) == (kind, first, last)
    assert Period.of(kind, first) == Period.of(kind, last) == period


@pytest.mark.parametrize(("period", "first", "last"), [
    (Period.of("day", date(2024, 3, 1)), date(2024, 2, 29), date(2024, 2, 29)),
    (Period.of("week", date(2026, 1, 1)), date(2025, 12, 22), date(2025, 12, 28)),
    (Period.of("month", date(2024, 3, 31)), date(2024, 2, 1), date(2024, 2, 29)),
    (Period.of("month", date(2026, 1, 5)), date(2025, 12, 1), date(2025, 12, 31)),
    (Period.of("quarter", date(2026, 2, 1)), date(2025, 10, 1), date(2025, 12, 31)),
    (Period.of("quarter", date(2026, 11, 1)), date(2026, 7, 1), date(2026, 9, 30)),
    (Period.of("year", date(2025, 1, 1)), date(2024, 1, 1), date(2024, 12, 31)),
    # A range: the same number of days just before (here 3 days over a leap day).
    (Period.between(date(2024, 2, 28), date(2024, 3, 1)), date(2024, 2, 25), date(2024, 2, 27)),
    (Period.between(date(2026, 11, 1), date(2026, 11, 15)), date(2026, 10, 17), date(2026, 10, 31)),
])
def test_previous_period_is_the_same_kind_just_before(period: Period, first: date, last: date) -> None:
    before = period.previous()
    assert (before.kind, before.first, before.last) == (period.kind, first, last)
    assert before.last + timedelta(days=1) == period.first


def test_period_labels_in_vietnamese_and_english() -> None:
    assert Period.of("month", date(2026, 11, 5)).label() == "Tháng 11/2026"
    assert Period.of("month", date(2026, 3, 5)).label("en") == "March 2026"
    assert Period.of("quarter", date(2026, 11, 5)).label() == "Quý 4/2026"
    assert Period.of("quarter", date(2026, 11, 5)).label("en") == "Q4 2026"
    assert Period.of("year", date(2026, 11, 5)).label() == "Năm 2026"
    assert Period.of("week", date(2026, 11, 25)).label() == "Tuần 23/11–29/11/2026"
    assert Period.of("week", date(2026, 1, 1)).label() == "Tuần 29/12/2025–04/01/2026"
    assert Period.of("day", date(2026, 11, 30)).label() == "Ngày 30/11/2026"
    assert Period.between(date(2026, 11, 1), date(2026, 11, 15)).label() == "01/11/2026 – 15/11/2026"


def test_bad_periods_are_refused_in_both_languages() -> None:
    with pytest.raises(ValueError) as backwards:
        Period.between(date(2026, 11, 15), date(2026, 11, 1))
    assert isinstance(backwards.value, ReportError)
    assert "15/11/2026" in backwards.value.vi and "2026-11-15" in backwards.value.en
    with pytest.raises(ReportError) as unknown:
        Period.of("fortnight", date(2026, 11, 15))
    assert "fortnight" in unknown.value.vi and "fortnight" in unknown.value.en
    with pytest.raises(ReportError):
        Period.between(date(2000, 1, 1), date(2026, 1, 1))   # longer than ten years


def test_period_bounds_are_local_midnights_in_utc() -> None:
    start, end = NOVEMBER.bounds(VN)
    assert start == datetime(2025, 10, 31, 17, tzinfo=UTC) and end == datetime(2025, 11, 30, 17, tzinfo=UTC)


def test_empty_figures_have_no_shares_at_all() -> None:
    empty = Figures.empty()
    assert (empty.satisfaction_index, empty.dissatisfied_share, empty.share(3)) == (None, None, None)
    assert all(e.index is None and e.answered == 0 for e in empty.elements.values())
    with pytest.raises(ValueError):
        HK_NOVEMBER.share(6)


# ---- masking ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "masked"), [
    ("Gọi lại cho tôi: 0912 345 678", "Gọi lại cho tôi: •••"),
    ("sđt 0912.345.678 nhé", "sđt ••• nhé"),
    ("SDT0912345678", "SDT•••"),
    ("+84 912 345 678", "•••"),
    ("(+84) 912345678 hoặc 84912345678", "••• hoặc •••"),
    ("+84 (0) 912-345-678", "•••"),
    ("máy bàn 024 3825 1234, 0236.3822.123", "máy bàn •••, •••"),
    ("thư: nguyen.van_an+hs@dichvucong.gov.vn.", "thư: •••."),
    ("Email tôi: An.Nguyen@Example.COM", "Email tôi: •••"),
    # Not contact details: money, procedure codes, dates, a public hotline, a dossier code.
    ("Bị đòi 2.000.000 đồng", "Bị đòi 2.000.000 đồng"),
    ("thủ tục 1.001193 ngày 30/11/2025", "thủ tục 1.001193 ngày 30/11/2025"),
    ("đường dây nóng 1900 1234", "đường dây nóng 1900 1234"),
    ("hồ sơ 000.00.22.H19-251110-0001", "hồ sơ 000.00.22.H19-251110-0001"),
])
def test_comments_have_phone_numbers_and_email_addresses_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


# ---- the numbers --------------------------------------------------------------------------------------------

def test_one_agency_for_a_month_every_number(seeded: Seeded) -> None:
    report = build(seeded)
    assert report.total == HK_NOVEMBER
    assert report.total.satisfaction_index == pytest.approx(3 / 7)
    assert report.total.dissatisfied_share == pytest.approx(2 / 7)
    assert [report.total.share(v) for v in range(1, 6)] == pytest.approx([1 / 7, 1 / 7, 2 / 7, 2 / 7, 1 / 7])
    elements = report.total.elements
    assert [(elements[k].answered, elements[k].index) for k in SCALE_KEYS] == [
        (3, pytest.approx(2 / 3)), (1, 0.0), (2, 0.5), (2, 1.0), (1, 0.0)]
    assert report.total.harassment_reports == 1
    assert report.previous_total == HK_OCTOBER and report.previous_total.satisfaction_index == 0.5
    assert report.excluded_repeats == 1
    assert report.unverified == fig(2, (1, 1, 0, 0, 0), 1)       # #11 and #12, from the broken device
    assert [r.key for r in report.rows] == ["HK"] and report.rows[0].label == HK_NAME
    assert report.rows[0].figures == report.total and report.rows[0].previous == report.previous_total
    assert (report.flag_share, report.flag_min_ratings) == (0.25, 30)
    assert (report.agency_name, report.timezone) == (HK_NAME, "Asia/Ho_Chi_Minh")


def test_suspected_repeats_are_left_out_unless_included(seeded: Seeded) -> None:
    included = build(seeded, include_repeats=True)
    assert included.total == fig(8, (2, 1, 2, 2, 1), 1, access=(3, 2), procedure=(1, 0), officer=(2, 1),
                                 result=(2, 2), feedback=(1, 0))
    assert included.excluded_repeats == 0
    assert included.total.dissatisfied_share == pytest.approx(3 / 8)


def test_by_counter_best_first_with_the_previous_period(seeded: Seeded) -> None:
    report = build(seeded, "counter")
    assert [(r.key, r.label) for r in report.rows] == [("Q02", "Quầy 2 — Đất đai"),
                                                       ("Q01", "Quầy 1 — Tư pháp, hộ tịch")]
    q02, q01 = report.rows
    assert q02.figures == fig(2, (0, 0, 1, 1, 0), result=(2, 2), feedback=(1, 0))
    assert q02.figures.satisfaction_index == 0.5 and q02.previous.ratings == 0
    assert q02.previous.satisfaction_index is None                 # September's #17 is in no period here
    assert q01.figures == fig(5, (1, 1, 1, 1, 1), 1, access=(3, 2), procedure=(1, 0), officer=(2, 1))
    assert q01.figures.satisfaction_index == 0.4 and q01.figures.dissatisfied_share == 0.4
    assert q01.previous == HK_OCTOBER
    # Five and two ratings are under the default minimum of 30: no flag either way.
    assert [(r.flagged, r.too_few) for r in report.rows] == [(False, True), (False, True)]
    assert add_figures(r.figures for r in report.rows) == report.total == HK_NOVEMBER


@pytest.mark.parametrize(("flag_share", "minimum", "q01"), [
    (0.25, 5, (True, False)),      # 40 % dissatisfied of 5 ratings: flagged
    (0.4, 5, (False, False)),      # exactly at the threshold is not over it
    (0.25, 6, (False, True)),      # one rating short of the minimum: too few, not flagged
])
def test_the_flag_needs_a_share_over_the_threshold_and_enough_ratings(seeded: Seeded, flag_share: float,
                                                                       minimum: int, q01: tuple[bool, bool]) -> None:
    settings = replace(SETTINGS, reports=Reports(flag_share=flag_share, flag_min_ratings=minimum))
    report = build(seeded, "counter", settings=settings)
    rows = {r.key: r for r in report.rows}
    assert (rows["Q01"].flagged, rows["Q01"].too_few) == q01
    assert (rows["Q02"].flagged, rows["Q02"].too_few) == (False, True)  # 2 ratings, none dissatisfied
    assert (report.flag_share, report.flag_min_ratings) == (flag_share, minimum)


def test_by_officer_names_from_the_register_and_codes_it_does_not_know(seeded: Seeded) -> None:
    report = build(seeded, "officer")
    got = [(r.key, r.label, r.figures.ratings, r.figures.satisfaction_index, r.previous.ratings)
           for r in report.rows]
    assert got == [
        ("CB001", "Nguyễn Văn An", 3, pytest.approx(2 / 3), 1),
        ("CB002", "Trần Thị Bình", 2, 0.5, 1),
        ("", NO_OFFICER, 1, 0.0, 0),           # #8: no officer on duty was set
        ("CB009", "CB009", 1, 0.0, 0),                 # #9: a code the server has no officer for
    ]


def test_by_procedure_and_by_field_through_the_catalog(seeded: Seeded) -> None:
    by_procedure = build(seeded, "procedure")
    assert [(r.key, r.label, r.figures.ratings, r.figures.satisfaction_index) for r in by_procedure.rows] == [
        ("1.001193", "Đăng ký khai sinh", 2, 1.0),
        ("1.003003", "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu", 2, 0.5),
        ("", NO_PROCEDURE, 1, 0.0),
        ("1.000894", "Đăng ký kết hôn", 1, 0.0),
        ("2.000111", "2.000111", 1, 0.0),              # not in the catalog: its code
    ]
    assert {r.key: r.previous.ratings for r in by_procedure.rows} == {
        "1.001193": 1, "1.003003": 0, "": 0, "1.000894": 1, "2.000111": 0}
    by_field = build(seeded, "field")
    assert [(r.key, r.figures.levels, r.previous.ratings) for r in by_field.rows] == [
        ("Hộ tịch", (1, 0, 0, 1, 1), 2),
        ("Đất đai", (0, 0, 1, 1, 0), 0),
        (OTHER_FIELD, (0, 1, 1, 0, 0), 0),      # #5 (unknown procedure) and #8 (none)
    ]
    assert by_field.total == by_procedure.total == HK_NOVEMBER


def test_every_agency_keys_stay_unique(seeded: Seeded) -> None:
    by_agency = build(seeded, "agency", None)
    assert [(r.key, r.figures.ratings, r.previous.ratings) for r in by_agency.rows] == [("LC", 1, 1), ("HK", 7, 2)]
    assert by_agency.total.ratings == 8 and by_agency.previous_total.levels == (1, 1, 0, 1, 0)
    assert by_agency.agency_name == ""
    by_counter = build(seeded, "counter", None)
    assert [r.key for r in by_counter.rows] == ["LC/Q01", "HK/Q02", "HK/Q01"]
    assert by_counter.rows[0].label == f"Quầy 1 — Một cửa — {LC_NAME}"
    by_officer = build(seeded, "officer", None)
    labels = {r.key: r.label for r in by_officer.rows}
    assert labels["LC/CB001"] == f"Lê Văn Cường — {LC_NAME}" and labels["HK/CB001"] == f"Nguyễn Văn An — {HK_NAME}"


def test_one_counter_of_one_agency(seeded: Seeded) -> None:
    report = build(seeded, "officer", counter_code="Q02")
    assert report.total == fig(2, (0, 0, 1, 1, 0), result=(2, 2), feedback=(1, 0))
    assert [r.key for r in report.rows] == ["CB002", "CB009"] and report.counter_name == "Quầy 2 — Đất đai"
    assert report.unverified.ratings == 0 and report.excluded_repeats == 0


def test_a_group_with_one_rating(seeded: Seeded) -> None:
    report = build(seeded, "counter", "LC")
    (row,) = report.rows
    assert row.figures == fig(1, (0, 0, 0, 0, 1), access=(1, 1))
    assert (row.figures.satisfaction_index, row.figures.dissatisfied_share, row.figures.share(5)) == (1.0, 0.0, 1.0)
    assert row.previous == fig(1, (0, 1, 0, 0, 0)) and row.too_few and not row.flagged


def test_an_empty_period_shows_none_never_zero(seeded: Seeded) -> None:
    report = build(seeded, period=Period.of("month", date(2025, 6, 1)))
    assert report.rows == [] and report.total == Figures.empty() == report.previous_total
    assert report.total.satisfaction_index is None and report.total.dissatisfied_share is None
    assert report.unverified.ratings == 0 and report.excluded_repeats == 0
    # January 2026 is empty, December held #6: the group is listed with no index this period, last.
    january = build(seeded, "officer", period=Period.of("month", date(2026, 1, 15)))
    (row,) = january.rows
    assert (row.key, row.figures.ratings, row.figures.satisfaction_index, row.previous.ratings) == ("CB002", 0, None, 1)
    assert row.too_few and not row.flagged and january.total.satisfaction_index is None


def test_the_day_boundary_is_local_midnight(seeded: Seeded) -> None:
    # 23:30 on the 30th (16:30 UTC) is the 30th; 00:10 on 1 December (17:10 UTC on the 30th) is not.
    last_day = build(seeded, "officer", period=Period.of("day", date(2025, 11, 30)))
    assert last_day.total == fig(1, (0, 1, 0, 0, 0))
    first_of_december = build(seeded, "officer", period=Period.of("day", date(2025, 12, 1)))
    assert first_of_december.total == fig(1, (0, 0, 0, 0, 1))
    # 00:00 on 1 November belongs to November; 23:59 on 31 October to October.
    assert build(seeded, period=Period.of("day", date(2025, 11, 1))).total.levels == (0, 0, 1, 0, 0)
    assert build(seeded, period=Period.of("day", date(2025, 10, 31))).total.levels == (0, 0, 0, 1, 0)
    # The same ratings counted in UTC days move: #6 joins November, #8 leaves it.
    in_utc = replace(SETTINGS, reports=Reports(timezone="UTC"))
    utc_report = build(seeded, settings=in_utc)
    assert utc_report.total.levels == (1, 1, 1, 2, 2) and utc_report.timezone == "UTC"


def test_week_quarter_year_and_range(seeded: Seeded) -> None:
    week = build(seeded, period=Period.of("week", date(2025, 11, 5)))       # 3–9 November: #1 #2 #3
    assert week.total.levels == (1, 0, 0, 1, 1) and week.excluded_repeats == 1
    assert week.previous_total.levels == (0, 0, 1, 1, 0)                      # 27 Oct – 2 Nov: #8 and #14
    quarter = build(seeded, period=Period.of("quarter", date(2025, 11, 5)))   # Oct–Dec: #1–#6 #8–#10 #14 #15
    assert quarter.total.ratings == 10 and quarter.total.levels == (2, 1, 2, 3, 2)
    assert quarter.previous_total.ratings == 1                                # #17 on 30 September
    year = build(seeded, "agency", None, period=Period.of("year", date(2025, 1, 1)))
    assert year.total.ratings == 13 and year.unverified.ratings == 2 and year.excluded_repeats == 1
    ranged = build(seeded, period=Period.between(date(2025, 11, 3), date(2025, 11, 10)))
    assert ranged.total.levels == (1, 0, 1, 2, 1)                             # #1 #2 #3 #9 #10
    assert ranged.previous_total.levels == (0, 0, 1, 1, 0)                    # 27 Oct – 2 Nov: #14 #8


def test_trend_by_day_week_and_month(seeded: Seeded) -> None:
    query = ReportQuery(NOVEMBER, "agency", "HK")
    days = reports.trend(seeded.engine, query, SETTINGS, "day")
    assert [p.first for p in days] == [date(2025, 11, d) for d in range(1, 31)]
    assert {p.first.day: p.figures.ratings for p in days if p.figures.ratings} == {1: 1, 3: 2, 4: 1, 10: 2, 30: 1}
    assert days[29].figures.levels == (0, 1, 0, 0, 0) and days[1].figures.satisfaction_index is None
    weeks = reports.trend(seeded.engine, query, SETTINGS, "week")
    assert [(p.first, p.figures.ratings) for p in weeks] == [
        (date(2025, 11, 1), 1), (date(2025, 11, 3), 3), (date(2025, 11, 10), 2), (date(2025, 11, 17), 0),
        (date(2025, 11, 24), 1)]
    assert add_figures(p.figures for p in weeks) == HK_NOVEMBER
    year = ReportQuery(Period.of("year", date(2025, 6, 1)), "agency", "HK", include_repeats=True)
    months = reports.trend(seeded.engine, year, SETTINGS, "month")
    assert [p.first.month for p in months] == list(range(1, 13))
    assert [p.figures.ratings for p in months][8:] == [1, 2, 8, 1]
    with pytest.raises(ReportError):
        reports.trend(seeded.engine, query, SETTINGS, "hour")


def test_comments_and_harassment_reports_newest_first_and_masked(seeded: Seeded) -> None:
    query = ReportQuery(NOVEMBER, "agency", "HK")
    comments = latest_comments(seeded.engine, query, SETTINGS)
    assert [(c.recorded_at_local, c.counter, c.officer, c.level, c.text) for c in comments] == [
        ("30/11/2025 23:30", "Quầy 1 — Tư pháp, hộ tịch", "Trần Thị Bình", 2, "Chờ quá lâu"),
        ("10/11/2025 15:00", "Quầy 2 — Đất đai", "Trần Thị Bình", 4, "Cán bộ tận tình. Email tôi: •••"),
        ("04/11/2025 10:00", "Quầy 1 — Tư pháp, hộ tịch", "Nguyễn Văn An", 1,
         "Bị đòi 200.000 đồng ngoài quy định. Gọi lại cho tôi: •••"),
    ]   # not the test rating's, nor the unverified device's
    assert comments[2].harassment and comments[0].agency == HK_NAME
    assert [c.text for c in latest_comments(seeded.engine, query, SETTINGS, limit=1)] == ["Chờ quá lâu"]
    (report,) = harassment_reports(seeded.engine, query, SETTINGS)
    assert (report.recorded_at_local, report.level, report.harassment) == ("04/11/2025 10:00", 1, True)
    assert "0912" not in report.text


def test_the_dashboard_puts_the_same_numbers_together(seeded: Seeded) -> None:
    query = ReportQuery(NOVEMBER, "counter", "HK")
    board = reports.dashboard(seeded.engine, query, SETTINGS)
    assert board.report == reports.build(seeded.engine, query, SETTINGS)
    assert len(board.trend) == 30 and add_figures(p.figures for p in board.trend) == board.report.total
    assert len(board.harassment) == 1 and len(board.comments) == 3
    assert default_bucket(Period.of("quarter", date(2025, 11, 1))) == "week"
    assert default_bucket(Period.of("year", date(2025, 11, 1))) == "month"


@pytest.mark.parametrize(("query", "words"), [
    (ReportQuery(NOVEMBER, "district", "HK"), ("district",)),
    (ReportQuery(NOVEMBER, "agency", "XX"), ("XX",)),
    (ReportQuery(NOVEMBER, "agency", "HK", "Q99"), ("Q99",)),
    (ReportQuery(NOVEMBER, "agency", None, "Q01"), ("quầy",)),
    (ReportQuery(Period("month", date(2025, 11, 30), date(2025, 11, 1)), "agency"), ("ngày",)),
])
def test_a_query_that_cannot_be_answered_is_refused_clearly(seeded: Seeded, query: ReportQuery,
                                                           words: tuple[str, ...]) -> None:
    with pytest.raises(ReportError) as refused:
        reports.build(seeded.engine, query, SETTINGS)
    assert refused.value.vi and refused.value.en and refused.value.vi != refused.value.en
    for word in words:
        assert word in refused.value.vi
    with pytest.raises(ReportError):
        reports.dashboard(seeded.engine, query, SETTINGS)


# ---- devices whose chain is broken, and IT's review ----------------------------------------------------------

def test_a_broken_device_counts_apart_until_reviewed_then_again(fresh: Seeded) -> None:
    broken = fresh.device["D4"]
    assert build(fresh).unverified.ratings == 2
    done = review_device(fresh.engine, broken, "it.tinh")
    assert (done.chain_state, done.reviewed_by) == ("broken", "it.tinh")
    after = build(fresh)
    assert after.unverified == Figures.empty()
    assert after.total == fig(9, (2, 2, 2, 2, 1), 2, access=(3, 2), procedure=(1, 0), officer=(2, 1),
                              result=(2, 2), feedback=(1, 0))
    assert {c.text for c in harassment_reports(fresh.engine, ReportQuery(NOVEMBER, "agency", "HK"),
                                                       SETTINGS)} >= {"máy bị sửa?"}
    # A rating received after the review waits for the next one.
    add_rating(fresh.engine, broken, vn(11, 20), 5, "CB001", received_at=done.reviewed_at + timedelta(seconds=1))
    assert build(fresh).unverified == fig(1, (0, 0, 0, 0, 1)) and build(fresh).total.ratings == 9
    with fresh.engine.connect() as conn:
        row = conn.execute(select(DEVICE.c.chain_reviewed_at, DEVICE.c.chain_reviewed_by)
                           .where(DEVICE.c.id == broken)).one()
    assert row.chain_reviewed_by == "it.tinh" and row.chain_reviewed_at == done.reviewed_at


def test_review_refuses_an_intact_or_unknown_device_and_changes_nothing(fresh: Seeded) -> None:
    for device_id, word in ((fresh.device["D1"], "nguyên vẹn"), (str(uuid.uuid4()), "Không có thiết bị")):
        with pytest.raises(ReportError) as refused:
            review_device(fresh.engine, device_id, "it.tinh")
        assert word in refused.value.vi
    with pytest.raises(ReportError):
        review_device(fresh.engine, fresh.device["D4"], "   ")
    with fresh.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(DEVICE)
                            .where(DEVICE.c.chain_reviewed_at.is_not(None))).scalar_one() == 0


# ---- time zones with daylight saving (the code must not assume Vietnam's fixed offset) ----------------------

def test_days_follow_the_zone_across_a_daylight_saving_change(fresh: Seeded) -> None:
    berlin = replace(SETTINGS, reports=Reports(timezone="Europe/Berlin"))
    device = fresh.device["D1"]
    # Both are on Sunday 26 October 2025 in Berlin: 00:30 summer time and 23:30 winter time. A fixed offset of
    # +2 puts the second on the 27th; +1 puts the first on the 25th.
    add_rating(fresh.engine, device, datetime(2025, 10, 25, 22, 30, tzinfo=UTC), 5)
    add_rating(fresh.engine, device, datetime(2025, 10, 26, 22, 30, tzinfo=UTC), 4)
    add_rating(fresh.engine, device, datetime(2025, 10, 26, 23, 30, tzinfo=UTC), 3)   # 00:30 on the 27th
    period = Period.between(date(2025, 10, 25), date(2025, 10, 27))
    days = reports.trend(fresh.engine, ReportQuery(period, "agency", "HK"), berlin, "day")
    assert [(p.first.day, p.figures.levels) for p in days] == [
        (25, (0, 0, 0, 0, 0)), (26, (0, 0, 0, 1, 1)), (27, (0, 0, 1, 0, 0))]
    sunday = build(fresh, period=Period.of("day", date(2025, 10, 26)), settings=berlin)
    assert sunday.total.levels == (0, 0, 0, 1, 1)


# ---- procedure_info: filled by catalog import and by the migration -------------------------------------------

SAMPLE = Path(__file__).resolve().parent.parent / "assets" / "catalog" / "sample-procedures.json"


def test_catalog_import_refreshes_procedure_names_and_fields(server_db_url: str) -> None:
    engine = db.open_database(server_db_url)
    try:
        with db.writing(engine) as conn:
            conn.execute(insert(PROCEDURE_INFO).values(code="9.999999", name="Thủ tục cũ", field_code="X",
                                                       field_name="Cũ"))
        stored = catalog.import_file(engine, SAMPLE)
        procedures = load_file(SAMPLE)
        with engine.connect() as conn:
            info = {r.code: (r.name, r.field_code, r.field_name) for r in conn.execute(select(PROCEDURE_INFO))}
        assert info == {p.code: (p.name, p.field_code, p.field_name) for p in procedures} | {
            "9.999999": ("Thủ tục cũ", "X", "Cũ")}   # a procedure no longer listed keeps its name
        assert stored.count == len(procedures) and all(field for _, _, field in info.values())
        with db.writing(engine) as conn:
            conn.execute(delete(PROCEDURE_INFO))
        assert not catalog.import_file(engine, SAMPLE).new   # the same catalog again still fills the table
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(PROCEDURE_INFO)).scalar_one() == len(procedures)
    finally:
        engine.dispose()


def test_upgrading_a_database_from_0001_fills_procedure_info_from_its_catalog(server_db_url: str) -> None:
    engine = db.make_engine(server_db_url)
    config = Config()
    config.set_main_option("script_location", "sync.server:migrations")
    with db.writing(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    procedures = load_file(SAMPLE)
    body = catalog.national_body(procedures, str(SAMPLE))
    with db.writing(engine) as conn:
        conn.execute(insert(CATALOG).values(version=1, sha256="x" * 64, body=body, body_gzip=body, source="sample",
                                            count=len(procedures), imported_at=db.utc_now()))
    engine.dispose()
    upgraded = db.open_database(server_db_url)
    try:
        assert db.schema_version(upgraded) == db.SCHEMA_HEAD
        with upgraded.connect() as conn:
            info = {r.code: (r.name, r.field_name) for r in conn.execute(select(PROCEDURE_INFO))}
        assert info == {p.code: (p.name, p.field_name) for p in procedures}
    finally:
        upgraded.dispose()


# ---- [reports] settings -------------------------------------------------------------------------------------

def test_reports_settings_default_to_the_plans_and_the_fleet_zone() -> None:
    defaults = parse("")
    assert (defaults.reports.flag_share, defaults.reports.flag_min_ratings) == (0.25, 30)
    assert report_timezone(defaults) == "Asia/Ho_Chi_Minh"
    own = parse('[fleet]\ntimezone = "Asia/Bangkok"\n[reports]\nflag_share = 0.3\nflag_min_ratings = 50\n')
    assert (own.reports.flag_share, own.reports.flag_min_ratings, report_timezone(own)) == (0.3, 50, "Asia/Bangkok")
    assert report_timezone(parse('[reports]\ntimezone = "UTC"\n')) == "UTC"


@pytest.mark.parametrize(("text", "key", "word"), [
    ("[reports]\nflag_share = 1.5\n", "reports.flag_share", "must be from 0 to 1"),
    ('[reports]\nflag_share = "25%"\n', "reports.flag_share", "number"),
    ("[reports]\nflag_min_ratings = 0\n", "reports.flag_min_ratings", "must be from 1"),
    ('[reports]\ntimezone = "Giờ Hà Nội"\n', "reports.timezone", "time zone"),
    ("[reports]\nflag_percent = 25\n", "reports.flag_percent", "unknown key"),
])
def test_a_wrong_reports_setting_names_the_file_and_key(tmp_path: Path, text: str, key: str, word: str) -> None:
    path = tmp_path / "server.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load(path)
    assert refused.value.key == key and str(path) in refused.value.vi and str(path) in refused.value.en
    assert word in refused.value.en and refused.value.vi != refused.value.en
