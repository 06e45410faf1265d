"""Every instant falls in exactly one period of every kind: ratings pushed at local midnights and a hair either
side, their times written with and without fractions and with any offset, counted on SQLite and PostgreSQL from
the month and day totals and from the stored ratings alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from kiosk.domain.keys import DeviceKey, public_key_b64
from sync import protocol
from sync.server import db, registry
from sync.server.devices import enrolment, ingest
from sync.server.models import RATING
from sync.server.results import reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period, bucket_start
from sync.server.settings import ServerSettings
from tests.sync_harness import signed_chain

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SETTINGS = ServerSettings()
# Local midnights that start a day, a week (Monday 30 November), a month, a quarter and a year.
MIDNIGHTS = (date(2026, 10, 1), date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1), date(2027, 1, 1))
KINDS = ("day", "week", "month", "quarter", "half", "nine_months", "year")


def spellings(day: date) -> list[str]:
    """The instant of `day`'s local midnight written every way the wire allows, and instants a hair either side."""
    midnight = datetime.combine(day, time(0), VN).astimezone(UTC)

    def z(moment: datetime, digits: int) -> str:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        fraction = f"{moment.microsecond:06d}"[:digits]
        return f"{text}.{fraction}Z" if digits else f"{text}Z"

    def offset(hours: int) -> str:
        local = midnight.astimezone(ZoneInfo("UTC")) + timedelta(hours=hours)
        sign = "+" if hours >= 0 else "-"
        return f"{local.strftime('%Y-%m-%dT%H:%M:%S')}{sign}{abs(hours):02d}:00"

    return [
        z(midnight - timedelta(milliseconds=1), 3),       # the day before's last millisecond
        z(midnight - timedelta(microseconds=1), 6),       # and its last microsecond
        z(midnight, 0),                                   # 17:00:00Z: no fraction at all
        z(midnight, 3),                                   # 17:00:00.000Z, as the kiosk writes it
        offset(7),                                        # 00:00:00+07:00, the local midnight itself
        offset(9),                                        # the same instant from Tokyo
        offset(-5),                                       # and from New York
        f"{midnight.strftime('%Y-%m-%dT%H:%M:%S')}.000000000Z",  # nanoseconds, all zero
        z(midnight + timedelta(milliseconds=1), 3),
    ]


@dataclass(frozen=True)
class Seeded:
    """A server database holding one kiosk's ratings at the instants of every spelling."""

    engine: Engine
    local_days: list[date]   # each rating's local day, worked out in Python


@pytest.fixture(scope="module")
def seeded(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    engine = db.open_database(module_db_url)
    registry.add_agency(engine, "HK", {"name": "Trung tâm Phục vụ hành chính công xã Hòa Khánh"})
    registry.add_counter(engine, "HK", "Q01", "Quầy 1", [])
    key = DeviceKey.load_or_create(tmp_path_factory.mktemp("kiosk") / "device_key.pem")
    made = enrolment.add_device(engine, "HK", "Q01", timedelta(hours=1))
    enrolment.enrol(engine, protocol.EnrollRequest(code=made.code, public_key=public_key_b64(key.public_key),
                                                 device_uuid="6f1d3a52-8c4e-4b7a-9d2f-0e5c1b7a3f90"), db.utc_now())
    texts = [text for day in MIDNIGHTS for text in spellings(day)]
    records = signed_chain(key, [{"kind": "rating", "recorded_at": text, "level": 1 + i % 5, "counter_id": "Q01",
                                  "language": "vi"} for i, text in enumerate(texts)])
    # Through the real ingest (the batch insert is where a midnight once lost its fraction), received after all.
    result = ingest.push(engine, made.device_id, [protocol.Record.model_validate(r) for r in records],
                         now=datetime(2027, 1, 2, tzinfo=UTC))
    assert result.error is None and result.stored == len(texts)
    days = [datetime.fromisoformat(text).astimezone(VN).date() for text in texts]
    yield Seeded(engine, days)
    engine.dispose()


def test_every_rating_is_stored_at_the_instant_its_text_names(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        stored = conn.execute(select(RATING.c.recorded_at, RATING.c.time_trusted).order_by(RATING.c.seq)).all()
    assert [row.recorded_at.astimezone(VN).date() for row in stored] == seeded.local_days
    assert all(row.time_trusted for row in stored)


def _periods(days: list[date]) -> list[Period]:
    """Every period of every kind holding one of the days, the one before it, and one-day and short ranges."""
    found: set[Period] = set()
    for day in days:
        for kind in KINDS:
            period = Period.of(kind, day)
            found |= {period, period.previous()}
        found |= {Period.between(day, day), Period.between(day - timedelta(days=2), day - timedelta(days=1)),
                  Period.between(day - timedelta(days=1), day + timedelta(days=1))}
    return sorted(found, key=lambda p: (p.kind, p.first, p.last))


@pytest.mark.parametrize("from_totals", [True, False], ids=["totals", "raw"])
def test_each_instant_counts_in_exactly_the_periods_holding_its_local_day(seeded: Seeded, from_totals: bool) -> None:
    wrong = []
    for period in _periods(seeded.local_days):
        expected = sum(1 for day in seeded.local_days if period.first <= day <= period.last)
        got = reports.build(seeded.engine, ReportQuery(period, "agency", "HK"), SETTINGS,
                            from_totals=from_totals).total.ratings
        if got != expected:
            wrong.append((period.kind, period.first.isoformat(), period.last.isoformat(), got, expected))
    assert wrong == []


@pytest.mark.parametrize("from_totals", [True, False], ids=["totals", "raw"])
@pytest.mark.parametrize("bucket", ["day", "week", "month"])
def test_the_trend_puts_each_rating_in_its_local_bucket(seeded: Seeded, from_totals: bool, bucket: str) -> None:
    span = Period.between(date(2026, 9, 1), date(2027, 1, 31))
    points = reports.trend(seeded.engine, ReportQuery(span, "agency", "HK"), SETTINGS, bucket,
                           from_totals=from_totals)
    got = {p.first: p.figures.ratings for p in points if p.figures.ratings}
    expected: dict[date, int] = {}
    for day in seeded.local_days:
        first = max(bucket_start(day, bucket), span.first)
        expected[first] = expected.get(first, 0) + 1
    assert got == expected


def test_a_time_without_an_offset_or_naming_no_instant_is_refused(module_db_url: str, tmp_path: Path) -> None:
    engine = db.open_database(module_db_url)
    registry.add_agency(engine, "NT", {"name": "Trung tâm thử"})
    registry.add_counter(engine, "NT", "Q01", "Quầy 1", [])
    try:
        for n, text in enumerate(("2026-12-01T00:00:00", "2026-12-01 00:00:00Z", "2026-13-01T00:00:00Z",
                                  "2026-12-01T24:00:00Z", "2026-12-01", "1795401000", "2026-12-01T00:00:00+0700",
                                  "2026-12-01T00:00:00Z\n")):
            (tmp_path / str(n)).mkdir()
            key = DeviceKey.load_or_create(tmp_path / str(n) / "key.pem")
            made = enrolment.add_device(engine, "NT", "Q01", timedelta(hours=1))
            enrolment.enrol(engine, protocol.EnrollRequest(code=made.code, public_key=public_key_b64(key.public_key),
                                                         device_uuid=str(uuid.uuid4())), db.utc_now())
            good = {"kind": "rating", "recorded_at": "2026-11-30T16:59:59.999Z", "level": 4, "language": "vi"}
            records = signed_chain(key, [good, good | {"recorded_at": text}])
            result = ingest.push(engine, made.device_id, [protocol.Record.model_validate(r) for r in records])
            assert result.error is not None, text
            assert (result.error.body.code, result.error.body.first_bad_seq) == (protocol.E_OUT_OF_DOMAIN, 2), text
            assert (result.stored, result.acked_seq) == (1, 1), text
    finally:
        engine.dispose()
