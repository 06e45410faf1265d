"""The month totals (migration 0004) against the ratings they count, on SQLite and PostgreSQL.

The totals are kept by triggers, so every test writes `rating` the plain way (insert, update, delete) and then
checks two things: that each totals table holds exactly what counting the stored rows in Python gives, and
that every report and trend made from the totals is equal, field for field, to the same one aggregated from
the ratings alone (from_totals=False). The data set has ratings on the instants where Vietnam's months begin
and end, suspected repeats, test ratings, ratings without an officer or procedure (NULL and ''), a procedure
not in the catalog, a kiosk whose chain broke and was never reviewed, and one reviewed while ratings kept
arriving.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, delete, event, insert, inspect, select, text, update

from sync.server import db, registry
from sync.server.devices import enrolment
from sync.server.devices.review import review_device
from sync.server.errors import ReportError
from sync.server.models import (
    DAY_TOTALS,
    DEVICE,
    MONTH_BY_OFFICER,
    MONTH_BY_PROCEDURE,
    PROCEDURE_INFO,
    RATING,
    TOTAL_COUNTS,
)
from sync.server.results import report_view, reports, totals
from sync.server.results.comments import harassment_reports, latest_comments
from sync.server.results.figures import GROUPINGS, ReportQuery
from sync.server.results.periods import Period
from sync.server.settings import ServerSettings, parse
from tests.sync_harness import times_as_before_0006
from tests.test_server_reports import PROCEDURES, VN, vn

SETTINGS = ServerSettings()
SEVEN_HOURS = timedelta(hours=7)
T = TypeVar("T")
# Periods that mix whole months and loose days in every way the dashboard can ask for.
PERIODS = {
    "month": Period.of("month", date(2025, 11, 1)),
    "month-after-edges": Period.of("month", date(2025, 12, 1)),
    "quarter": Period.of("quarter", date(2025, 11, 1)),
    "year": Period.of("year", date(2025, 6, 1)),
    "week-across-months": Period.of("week", date(2025, 12, 1)),
    "day-first-of-month": Period.of("day", date(2025, 11, 1)),
    "range-with-loose-ends": Period.between(date(2025, 10, 15), date(2026, 1, 20)),
    "range-of-whole-months": Period.between(date(2025, 11, 1), date(2025, 12, 31)),
}
WITH_WHOLE_MONTHS = {"month", "month-after-edges", "quarter", "year", "range-with-loose-ends",
                     "range-of-whole-months"}


@dataclass
class Data:
    """A seeded database: its engine and URL, and its devices by name (D4 never reviewed, D5 reviewed)."""

    engine: Engine
    url: str
    device: dict[str, str]


def _rating(rng: random.Random, owner: Any, device_id: str, seq: int, at: datetime) -> dict[str, Any]:
    level = rng.choices((1, 2, 3, 4, 5), weights=(8, 8, 14, 35, 35))[0]
    answered = rng.random() < 0.6

    def answer() -> int | None:
        return max(1, min(5, level + rng.choice((-1, 0, 0, 1)))) if answered and rng.random() < 0.85 else None

    return {
        "device_id": device_id, "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "seq": seq,
        "agency_id": owner.agency_id, "counter_id": owner.counter_id, "counter_code": None,
        "officer_code": rng.choice(("CB001", "CB001", "CB002", None, "")),
        "procedure_code": rng.choice((*PROCEDURES, "2.000111", None, "")), "language": "vi", "level": level,
        "recorded_at": at, "received_at": at + timedelta(hours=rng.uniform(1, 30)),
        "suspected_repeat": rng.random() < 0.06, "is_test": rng.random() < 0.03,
        "q_access": answer(), "q_procedure": answer(), "q_officer": answer(), "q_result": answer(),
        "q_feedback": answer(), "harassment": (rng.random() < 0.1) if answered else None,
        "comment": "Chờ lâu" if rng.random() < 0.1 else None,
    }


def _edges() -> list[datetime]:
    """The first and the last instant of every local month of the data, and UTC midnights (07:00 in Vietnam)."""
    moments = []
    for year, month in ((2025, 9), (2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2)):
        start = vn(month, 1, 0, 0, 0, year=year)
        moments += [start, start - timedelta(microseconds=1), datetime(year, month, 1, tzinfo=UTC)]
    return moments


def seed(engine: Engine, url: str) -> Data:
    """Two agencies, three counters, five kiosks (D4 broken, D5 broken and reviewed) and about 900 ratings."""
    registry.add_agency(engine, "HK", {"name": "Trung tâm Phục vụ hành chính công xã Hòa Khánh"})
    registry.add_agency(engine, "LC", {"name": "Trung tâm Phục vụ hành chính công phường Liên Chiểu"})
    for agency, counter in (("HK", "Q01"), ("HK", "Q02"), ("LC", "Q01")):
        registry.add_counter(engine, agency, counter, f"Quầy {counter}", [])
    registry.add_officer(engine, "HK", "CB001", "Nguyễn Văn An", "", "Q01")
    registry.add_officer(engine, "HK", "CB002", "Trần Thị Bình")
    places = {"D1": ("HK", "Q01"), "D2": ("HK", "Q02"), "D3": ("LC", "Q01"), "D4": ("HK", "Q01"),
              "D5": ("HK", "Q02")}
    made = {name: enrolment.add_device(engine, *place, timedelta(hours=1)).device_id for name, place in places.items()}
    rng = random.Random(2026)
    rows: list[dict[str, Any]] = []
    with db.writing(engine) as conn:
        conn.execute(insert(PROCEDURE_INFO), [{"code": code, "name": name, "field_code": fc, "field_name": fn}
                                              for code, (name, fc, fn) in PROCEDURES.items()])
        conn.execute(update(DEVICE).where(DEVICE.c.id.in_([made["D4"], made["D5"]])).values(
            chain_state="broken", first_bad_seq=999, problem_vi="mã băm sai", problem_en="hash mismatch"))
        owners = {name: conn.execute(select(DEVICE.c.agency_id, DEVICE.c.counter_id)
                                     .where(DEVICE.c.id == made[name])).one() for name in made}
        start = vn(9, 1, 0)
        for name in made:
            moments = sorted([start + timedelta(seconds=rng.uniform(0, 165 * 86400)) for _ in range(170)]
                             + _edges())
            rows += [_rating(rng, owners[name], made[name], seq, at) for seq, at in enumerate(moments, 1)]
        conn.execute(insert(RATING), rows)
    return Data(engine, url, made)


@pytest.fixture(scope="module")
def shared(module_db_url: str) -> Iterator[Data]:
    """The data set, once per backend; the tests using it only read."""
    engine = db.open_database(module_db_url)
    yield seed(engine, module_db_url)
    engine.dispose()


@pytest.fixture
def fresh(server_db_url: str) -> Iterator[Data]:
    """The data set in a database of this test's own (for tests that change it)."""
    engine = db.open_database(server_db_url)
    yield seed(engine, server_db_url)
    engine.dispose()


# ---- what the totals must hold ------------------------------------------------------------------------------

TABLES = ((MONTH_BY_OFFICER, "month", "officer_code"), (MONTH_BY_PROCEDURE, "month", "procedure_code"),
          (DAY_TOTALS, "day", None))


def counted(engine: Engine, grain: str, code: str | None) -> dict[tuple[Any, ...], list[int]]:
    """The totals worked out in Python from the stored ratings: local day or month in UTC+7, tests and ratings whose
    time is not trusted left out (the columns of an older revision, when the database was taken back to one)."""
    found: dict[tuple[Any, ...], list[int]] = {}
    with engine.connect() as conn:
        present = {column["name"] for column in inspect(conn).get_columns("rating")}
        rows = conn.execute(select(*(c for c in RATING.columns if c.name in present))).all()
    for r in rows:
        if r.is_test or not getattr(r, "time_trusted", True):
            continue
        day = (r.recorded_at.astimezone(UTC) + SEVEN_HOURS).date()
        key = (day.replace(day=1) if grain == "month" else day, r.agency_id, r.counter_id, r.device_id,
               *([getattr(r, code) or ""] if code else []), bool(r.suspected_repeat))
        answers = [r.q_access, r.q_procedure, r.q_officer, r.q_result, r.q_feedback]
        counts = [1, *(int(r.level == v) for v in range(1, 6)),
                  *(n for a in answers for n in (int(a is not None), int(a is not None and a >= 4))),
                  int(r.harassment is True)]
        total = found.setdefault(key, [0] * len(counts))
        for i, value in enumerate(counts):
            total[i] += value
    return found


def stored(engine: Engine, table: Any, grain: str, code: str | None) -> dict[tuple[Any, ...], list[int]]:
    """The totals table as it is, rows whose counts all went back to zero left out (they count for nothing)."""
    with engine.connect() as conn:
        rows = conn.execute(select(table)).all()
    found = {}
    for row in rows:
        counts = [int(getattr(row, name)) for name in TOTAL_COUNTS]
        if any(counts):
            key = (getattr(row, grain), row.agency_id, row.counter_id, row.device_id,
                   *([getattr(row, code)] if code else []), bool(row.suspected_repeat))
            found[key] = counts
    return found


def assert_totals_exact(engine: Engine) -> None:
    """Every totals table holds exactly the counts of the stored ratings."""
    for table, grain, code in TABLES:
        expected = counted(engine, grain, code)
        assert expected, "the data set has ratings to count"
        assert stored(engine, table, grain, code) == expected, table.name


def statements_of(engine: Engine, action: Callable[[], T]) -> tuple[T, list[str]]:
    """What `action` returns and the SQL statements it sent."""
    sent: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        return action(), sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def reads_totals(statements: list[str], table: str = "rating_month_") -> bool:
    return any(table in s for s in statements)


def assert_same_reports(data: Data, period: Period, *, settings: ServerSettings = SETTINGS,
                        totals_expected: bool | None = None) -> None:
    """Every grouping, every agency and one, repeats in and out: the fast report equals the slow one."""
    for group in GROUPINGS:
        for agency in (None, "HK"):
            for repeats in (False, True):
                query = ReportQuery(period, group, agency, include_repeats=repeats)
                fast, sent = statements_of(data.engine, lambda q=query: reports.build(data.engine, q, settings))
                slow = reports.build(data.engine, query, settings, from_totals=False)
                assert fast == slow, (group, agency, repeats)
                if totals_expected is not None:
                    assert reads_totals(sent) is totals_expected
    scoped = ReportQuery(period, "officer", "HK", "Q01")
    assert reports.build(data.engine, scoped, settings) == reports.build(data.engine, scoped, settings,
                                                                         from_totals=False)


# ---- the totals themselves ----------------------------------------------------------------------------------

def test_the_totals_hold_exactly_the_counts_of_the_stored_ratings(shared: Data) -> None:
    assert_totals_exact(shared.engine)
    with shared.engine.connect() as conn:
        months = set(conn.execute(select(MONTH_BY_OFFICER.c.month)).scalars())
    # The first instant of each local month is in that month, the instant before it in the previous one.
    assert min(months) == date(2025, 8, 1) and max(months) == date(2026, 2, 1)


def test_the_totals_follow_every_change_to_the_ratings(fresh: Data) -> None:
    engine, device = fresh.engine, fresh.device
    with db.writing(engine) as conn:
        some = list(conn.execute(select(RATING.c.device_id, RATING.c.uuid).where(RATING.c.device_id == device["D1"])
                                 .order_by(RATING.c.seq).limit(40)))
        # Answers folded in later, as ingest does; a procedure chosen after the rating; a level corrected.
        for i, (device_id, rating) in enumerate(some[:10]):
            conn.execute(update(RATING).where(RATING.c.device_id == device_id, RATING.c.uuid == rating).values(
                q_access=1 + i % 5, harassment=i % 2 == 0, comment="Được hướng dẫn tận tình"))
        conn.execute(update(RATING).where(RATING.c.uuid.in_([r.uuid for r in some[10:15]]),
                                          RATING.c.procedure_code.is_(None)).values(procedure_code="1.001193"))
        conn.execute(update(RATING).where(RATING.c.uuid.in_([r.uuid for r in some[15:20]])).values(level=1))
        # A rating moved across a month's first instant, test flags turned on and off, one officer renamed.
        conn.execute(update(RATING).where(RATING.c.uuid == some[20].uuid).values(recorded_at=vn(12, 1, 0, 0, 0)))
        conn.execute(update(RATING).where(RATING.c.uuid.in_([r.uuid for r in some[21:25]])).values(is_test=True))
        conn.execute(update(RATING).where(RATING.c.device_id == device["D2"], RATING.c.is_test.is_(True))
                     .values(is_test=False))
        conn.execute(update(RATING).where(RATING.c.officer_code == "CB002").values(officer_code="CB003"))
        conn.execute(delete(RATING).where(RATING.c.uuid.in_([r.uuid for r in some[25:40]])))
    assert_totals_exact(engine)
    with db.writing(engine) as conn:
        conn.execute(delete(RATING).where(RATING.c.device_id == device["D3"]))
    assert_totals_exact(engine)
    assert_same_reports(fresh, PERIODS["year"], totals_expected=True)
    with db.writing(engine) as conn:
        conn.execute(delete(RATING))
    with engine.connect() as conn:
        left = [row for table, _, _ in TABLES for row in conn.execute(select(table))]
    assert left and all(all(getattr(row, name) == 0 for name in TOTAL_COUNTS) for row in left)


@pytest.mark.postgres
def test_truncating_the_ratings_empties_the_totals(pg_url: str) -> None:
    engine = db.open_database(pg_url)
    try:
        seed(engine, pg_url)
        with db.writing(engine) as conn:
            conn.execute(text("TRUNCATE rating"))
        with engine.connect() as conn:
            assert [list(conn.execute(select(table))) for table, _, _ in TABLES] == [[], [], []]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_kiosks_at_one_counter_never_wait_for_each_other_on_the_totals(pg_url: str) -> None:
    engine = db.open_database(pg_url)
    try:
        data = seed(engine, pg_url)
        with engine.connect() as conn:
            template = dict(conn.execute(select(RATING).where(RATING.c.device_id == data.device["D1"])
                                         .limit(1)).one()._mapping)
            owner_d4 = conn.execute(select(DEVICE.c.agency_id, DEVICE.c.counter_id)
                                    .where(DEVICE.c.id == data.device["D4"])).one()
        first, second = engine.connect(), engine.connect()
        try:
            first.begin()
            first.execute(insert(RATING).values(template | {"uuid": str(uuid.uuid4()), "seq": 10_000}))
            # Same counter, month, officer and procedure, another kiosk: its totals rows are its own.
            second.begin()
            second.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            second.execute(insert(RATING).values(template | {
                "uuid": str(uuid.uuid4()), "seq": 10_000, "device_id": data.device["D4"],
                "agency_id": owner_d4.agency_id, "counter_id": owner_d4.counter_id}))
            second.commit()
            first.commit()
        finally:
            first.close()
            second.close()
        assert_totals_exact(engine)
    finally:
        engine.dispose()


def test_upgrading_from_0003_fills_the_totals_from_the_ratings_already_stored(server_db_url: str) -> None:
    engine = db.make_engine(server_db_url)
    config = Config()
    config.set_main_option("script_location", "sync.server:migrations")
    try:
        with db.writing(engine) as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
        seed(engine, server_db_url)   # written before the totals existed: no trigger counted these
        times_as_before_0006(engine)
    finally:
        engine.dispose()
    upgraded = db.open_database(server_db_url)
    try:
        assert db.schema_version(upgraded) == db.SCHEMA_HEAD
        assert_totals_exact(upgraded)
        assert_same_reports(Data(upgraded, server_db_url, {}), PERIODS["quarter"], totals_expected=True)
        with db.writing(upgraded) as conn:   # back to 0004's row trigger (PostgreSQL), which must still count
            config.attributes["connection"] = conn
            command.downgrade(config, "0004")
        with db.writing(upgraded) as conn:
            conn.execute(update(RATING).where(RATING.c.seq <= 20).values(level=2, q_access=5))
            conn.execute(delete(RATING).where(RATING.c.seq.between(21, 30)))
        assert_totals_exact(upgraded)
        with db.writing(upgraded) as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        with upgraded.connect() as conn:
            if upgraded.dialect.name == "postgresql":
                left = set(conn.execute(text(
                    "SELECT relname FROM pg_class WHERE relname LIKE 'rating\\_%' OR relname LIKE "
                    "'ix\\_rating\\_%recorded\\_at\\_%' UNION "
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal UNION "
                    "SELECT proname FROM pg_proc WHERE proname LIKE 'rating\\_%'")).scalars())
            else:
                left = set(conn.execute(text(
                    "SELECT name FROM sqlite_master WHERE name LIKE 'rating\\_%' ESCAPE '\\' "
                    "OR name LIKE 'ix\\_rating\\_%recorded\\_at\\_%' ESCAPE '\\'")).scalars())
        assert left == set()   # no totals table, trigger, function or partial index is left
        with db.writing(upgraded) as conn:   # no trigger is left writing into tables that are gone
            conn.execute(delete(RATING).where(RATING.c.seq == 1))
    finally:
        upgraded.dispose()


# ---- reports from the totals equal reports from the ratings ------------------------------------------------

@pytest.mark.parametrize("name", list(PERIODS))
def test_a_report_from_the_totals_equals_the_report_from_the_ratings(shared: Data, name: str) -> None:
    assert_same_reports(shared, PERIODS[name], totals_expected=name in WITH_WHOLE_MONTHS)


@pytest.mark.parametrize("name", ["year", "quarter", "range-with-loose-ends", "month"])
def test_a_trend_by_month_from_the_totals_equals_the_trend_from_the_ratings(shared: Data, name: str) -> None:
    period = PERIODS[name]
    for agency in (None, "HK"):
        for repeats in (False, True):
            query = ReportQuery(period, "agency", agency, include_repeats=repeats)
            fast, sent = statements_of(shared.engine, lambda q=query: reports.trend(shared.engine, q, SETTINGS,
                                                                                     "month"))
            assert fast == reports.trend(shared.engine, query, SETTINGS, "month", from_totals=False)
            assert reads_totals(sent)
            assert sum(p.figures.ratings for p in fast) == reports.build(
                shared.engine, query, SETTINGS).total.ratings
    for bucket in ("day", "week"):
        for agency in (None, "HK"):
            by_day = ReportQuery(period, "agency", agency)
            trend, sent = statements_of(shared.engine, lambda q=by_day, b=bucket: reports.trend(  # type: ignore[misc]
                shared.engine, q, SETTINGS, b))
            assert reads_totals(sent, "rating_day") and not reads_totals(sent, "rating_month_")
            assert trend == reports.trend(shared.engine, by_day, SETTINGS, bucket, from_totals=False)


def test_reports_leave_a_broken_kiosk_apart_and_count_it_again_after_review(fresh: Data) -> None:
    engine, device = fresh.engine, fresh.device
    period = PERIODS["quarter"]
    start, end = period.bounds(VN)
    with engine.connect() as conn:
        d5 = conn.execute(select(RATING.c.received_at).where(
            RATING.c.device_id == device["D5"], RATING.c.recorded_at >= start, RATING.c.recorded_at < end,
            RATING.c.is_test.is_(False), RATING.c.suspected_repeat.is_(False)).order_by(RATING.c.received_at)).all()
        d4 = conn.execute(select(RATING.c.uuid).where(
            RATING.c.device_id == device["D4"], RATING.c.recorded_at >= start, RATING.c.recorded_at < end,
            RATING.c.is_test.is_(False), RATING.c.suspected_repeat.is_(False))).all()
    moment = d5[len(d5) // 2].received_at   # IT looks while D5's ratings are still arriving
    review_device(engine, device["D5"], "it01", now=moment)
    query = ReportQuery(period, "counter", "HK")
    report = reports.build(engine, query, SETTINGS)
    assert report == reports.build(engine, query, SETTINGS, from_totals=False)
    later = sum(1 for row in d5 if row.received_at > moment)
    assert 0 < later < len(d5)
    assert report.unverified.ratings == len(d4) + later
    review_device(engine, device["D4"], "it01")
    again = reports.build(engine, query, SETTINGS)
    assert again == reports.build(engine, query, SETTINGS, from_totals=False)
    assert again.unverified.ratings == later
    assert again.total.ratings == report.total.ratings + len(d4)
    assert_same_reports(fresh, PERIODS["year"], totals_expected=True)


def test_the_first_and_last_instant_of_a_month_count_in_their_own_month(fresh: Data) -> None:
    engine = fresh.engine
    november = ReportQuery(PERIODS["month"], "agency", "LC", include_repeats=True)
    before = reports.build(engine, november, SETTINGS)
    with db.writing(engine) as conn:
        owner = conn.execute(select(DEVICE.c.agency_id, DEVICE.c.counter_id)
                             .where(DEVICE.c.id == fresh.device["D3"])).one()
        edge = {"device_id": fresh.device["D3"], "agency_id": owner.agency_id, "counter_id": owner.counter_id,
                "level": 5, "suspected_repeat": False, "is_test": False}
        conn.execute(insert(RATING), [
            edge | {"uuid": str(uuid.uuid4()), "seq": 5001, "recorded_at": vn(11, 1, 0, 0, 0),
                    "received_at": vn(11, 2)},
            edge | {"uuid": str(uuid.uuid4()), "seq": 5002, "recorded_at": vn(11, 30, 23, 59, 59),
                    "received_at": vn(12, 1, 8)},
            edge | {"uuid": str(uuid.uuid4()), "seq": 5003, "recorded_at": vn(12, 1, 0, 0, 0),
                    "received_at": vn(12, 2)}])
    after = reports.build(engine, november, SETTINGS)
    assert after.total.ratings == before.total.ratings + 2
    assert after.total.levels[4] == before.total.levels[4] + 2
    assert after == reports.build(engine, november, SETTINGS, from_totals=False)
    assert_totals_exact(engine)


@pytest.mark.parametrize(("zone", "uses_totals"), [("Asia/Bangkok", True), ("UTC", False), ("Asia/Tokyo", False),
                                                   ("Europe/Berlin", False)])
def test_the_totals_serve_only_a_report_zone_at_their_offset(shared: Data, zone: str, uses_totals: bool) -> None:
    settings = parse(f'[reports]\ntimezone = "{zone}"\n')
    assert_same_reports(shared, PERIODS["quarter"], settings=settings, totals_expected=uses_totals)
    assert_same_reports(shared, PERIODS["range-with-loose-ends"], settings=settings, totals_expected=uses_totals)
    if not uses_totals:
        # Counted in its own days: the first instant of a Vietnamese November is still October in these zones.
        november = ReportQuery(PERIODS["month"], "agency", None, include_repeats=True)
        assert (reports.build(shared.engine, november, settings).total
                != reports.build(shared.engine, november, SETTINGS).total)


def test_a_period_is_cut_into_whole_months_and_loose_days() -> None:
    split = totals.split
    assert split(date(2025, 11, 1), date(2025, 11, 30)) == totals.Split(
        (date(2025, 11, 1), date(2025, 11, 1)), ())
    assert split(date(2025, 10, 15), date(2026, 1, 20)) == totals.Split(
        (date(2025, 11, 1), date(2025, 12, 1)), ((date(2025, 10, 15), date(2025, 10, 31)),
                                                 (date(2026, 1, 1), date(2026, 1, 20))))
    assert split(date(2025, 12, 1), date(2026, 12, 31)) == totals.Split(
        (date(2025, 12, 1), date(2026, 12, 1)), ())
    assert split(date(2025, 11, 24), date(2025, 11, 30)) == totals.Split(
        None, ((date(2025, 11, 24), date(2025, 11, 30)),))
    assert split(date(2025, 11, 2), date(2025, 12, 30)) == totals.Split(
        None, ((date(2025, 11, 2), date(2025, 12, 30)),))
    assert split(date(2024, 2, 1), date(2024, 2, 29)).months == (date(2024, 2, 1), date(2024, 2, 1))
    assert split(date(2024, 2, 1), date(2024, 2, 28)).months is None


@pytest.mark.parametrize("name", ["month", "day-first-of-month", "year", "range-with-loose-ends"])
def test_the_dashboard_read_in_one_transaction_equals_its_four_parts(shared: Data, name: str) -> None:
    engine, period = shared.engine, PERIODS[name]
    span, bucket = report_view.trend_span(period)
    for agency in (None, "HK"):
        query = ReportQuery(period, "counter", agency)
        found = reports.dashboard(engine, query, SETTINGS, trend_period=span, bucket=bucket, harassment_limit=4,
                                  comments_limit=6)
        assert found.report == reports.build(engine, query, SETTINGS)
        assert found.trend == reports.trend(engine, ReportQuery(span, "counter", agency), SETTINGS, bucket)
        assert found.harassment == harassment_reports(engine, query, SETTINGS, limit=4)
        assert found.comments == latest_comments(engine, query, SETTINGS, limit=6)
        if name != "day-first-of-month":
            assert (len(found.harassment), len(found.comments)) == (4, 6)


def test_the_dashboard_refuses_an_unknown_bucket_or_agency_in_words(shared: Data) -> None:
    query = ReportQuery(PERIODS["month"], "counter", "HK")
    with pytest.raises(ReportError) as bucket:
        reports.dashboard(shared.engine, query, SETTINGS, bucket="hour")
    assert "không hợp lệ" in bucket.value.vi and "invalid trend bucket" in bucket.value.en
    with pytest.raises(ReportError) as agency:
        reports.dashboard(shared.engine, ReportQuery(PERIODS["month"], "counter", "XX"), SETTINGS)
    assert "Không có cơ quan" in agency.value.vi and "no agency" in agency.value.en
