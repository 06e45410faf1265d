"""Reports over ratings that came the real way: signed kiosk logs, pushed through the server's ingest, on SQLite
and PostgreSQL. The kiosks' clocks are set, so every rating's time is known and the numbers are worked by hand.

Kiosk A (HK/Q01), Vietnam time:
  r1 10/11/2025 09:00     level 2, officer CB002, access 2, feedback 1
  r2 30/11/2025 23:30     level 5, officer CB001, procedure 1.001193 chosen after, access 5, officer 4, result 3,
                          harassment no, a comment with a phone number
  r3 30/11/2025 23:30:05  level 5: five seconds later, a suspected repeat
  r4 01/12/2025 00:15     level 1, officer CB002, harassment YES (December)
Kiosk B (HK/Q01): three ratings of level 4 on 20/11/2025; its second was changed in the kiosk's file before it
was sent, so the server keeps only the first and marks the chain broken.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, case, func, select, text

from kiosk.db import prepare
from kiosk.domain.keys import DeviceKey
from kiosk.ratings import RatingLog
from sync import protocol
from sync.server import db, registry
from sync.server.devices import enrolment, ingest
from sync.server.devices.review import review_device
from sync.server.models import RATING
from sync.server.results import reports
from sync.server.results.comments import latest_comments
from sync.server.results.figures import Figures, ReportQuery
from sync.server.results.periods import Period
from sync.server.settings import ServerSettings
from tests.sync_harness import Device
from tests.test_server_reports import VN, fig, vn
from tests.test_server_reports_totals import assert_totals_exact

SETTINGS = ServerSettings()
NOVEMBER = Period.of("month", date(2025, 11, 1))


@dataclass
class Clock:
    """A kiosk's wall clock and its monotonic clock, moved by the test."""

    now: datetime
    mono: float = 1000.0

    def at(self, moment: datetime) -> None:
        """Jump to `moment`, the monotonic clock moving by as much."""
        self.mono += max((moment - self.now).total_seconds(), 0)
        self.now = moment


def kiosk(directory: Path, clock: Clock) -> Device:
    """A real kiosk log whose clocks the test sets (repeats within 20 s are flagged, as on a real kiosk)."""
    directory.mkdir(parents=True)
    key = DeviceKey.load_or_create(directory / "device_key.pem")
    database = prepare(directory / "kiosk.db")
    log = RatingLog(database, key, repeat_window_s=20, clock=lambda: clock.now.astimezone(UTC),
                    monotonic=lambda: clock.mono)
    return Device(directory, key, database, log)


def enrolled(engine: Engine, device: Device) -> str:
    """Register and enrol the kiosk at HK/Q01; its server id."""
    made = enrolment.add_device(engine, "HK", "Q01", timedelta(hours=1))
    request = protocol.EnrollRequest(code=made.code, public_key=device.public_key, device_uuid=device.local_uuid)
    enrolment.enrol(engine, request, db.utc_now())
    return made.device_id


def push_all(engine: Engine, device: Device, device_id: str) -> ingest.PushResult:
    """Push every record of the kiosk's log through the server's ingest."""
    return ingest.push(engine, device_id, [protocol.Record.model_validate(r) for r in device.records()])


@pytest.fixture
def engine(server_db_url: str) -> Iterator[Engine]:
    """A migrated server database with agency HK, its counter Q01 and two officers."""
    made = db.open_database(server_db_url)
    registry.add_agency(made, "HK", {"name": "Trung tâm Phục vụ hành chính công xã Hòa Khánh"})
    registry.add_counter(made, "HK", "Q01", "Quầy 1", [])
    registry.add_officer(made, "HK", "CB001", "Nguyễn Văn An")
    registry.add_officer(made, "HK", "CB002", "Trần Thị Bình")
    yield made
    made.dispose()


def test_ratings_pushed_from_a_real_kiosk_log_are_counted_as_worked_out(engine: Engine, tmp_path: Path) -> None:
    clock = Clock(vn(11, 10, 9))
    device = kiosk(tmp_path / "a", clock)
    device_id = enrolled(engine, device)
    log = device.log
    r1 = log.record_rating(2, counter_id="Q01", officer_id="CB002", language="vi")
    log.record_answer(r1.uuid, "access", 2)
    log.record_answer(r1.uuid, "feedback", 1)
    clock.at(vn(11, 30, 23, 30))
    r2 = log.record_rating(5, counter_id="Q01", officer_id="CB001", language="vi")
    log.record_procedure(r2.uuid, "1.001193")
    for question, value in (("access", 5), ("officer", 4), ("result", 3), ("harassment", 0)):
        log.record_answer(r2.uuid, question, value)
    log.record_comment(r2.uuid, "Cán bộ nhiệt tình. Cần gì gọi tôi 0905 123 456")
    clock.at(vn(11, 30, 23, 30, 5))
    r3 = log.record_rating(5, counter_id="Q01", officer_id="CB001", language="vi")
    clock.at(vn(12, 1, 0, 15))
    r4 = log.record_rating(1, counter_id="Q01", officer_id="CB002", language="vi")
    log.record_answer(r4.uuid, "harassment", 1)
    assert (r1.suspected_repeat, r2.suspected_repeat, r3.suspected_repeat) == (False, False, True)
    result = push_all(engine, device, device_id)
    assert result.error is None and result.acked_seq == 13

    report = reports.build(engine, ReportQuery(NOVEMBER, "officer", "HK"), SETTINGS)
    assert report.total == fig(2, (0, 1, 0, 0, 1), access=(2, 1), officer=(1, 1), result=(1, 0), feedback=(1, 0))
    assert report.excluded_repeats == 1 and report.unverified == Figures.empty()
    assert [(r.key, r.figures.ratings, r.figures.satisfaction_index) for r in report.rows] == [
        ("CB001", 1, 1.0), ("CB002", 1, 0.0)]
    with_repeats = reports.build(engine, ReportQuery(NOVEMBER, "procedure", "HK", include_repeats=True), SETTINGS)
    assert [(r.key, r.figures.ratings) for r in with_repeats.rows] == [("1.001193", 1), ("", 2)]
    # 23:30 on the 30th is that day; 00:15 on 1 December is the next.
    last_day = reports.build(engine, ReportQuery(Period.of("day", date(2025, 11, 30)), "agency", "HK"), SETTINGS)
    assert last_day.total.levels == (0, 0, 0, 0, 1)
    december = reports.build(engine, ReportQuery(Period.of("month", date(2025, 12, 1)), "agency", "HK"), SETTINGS)
    assert december.total == fig(1, (1, 0, 0, 0, 0), 1) and december.previous_total.ratings == 2
    (comment,) = latest_comments(engine, ReportQuery(NOVEMBER, "agency", "HK"), SETTINGS)
    assert comment.text == "Cán bộ nhiệt tình. Cần gì gọi tôi •••"
    assert (comment.recorded_at_local, comment.officer, comment.level) == ("30/11/2025 23:30", "Nguyễn Văn An", 5)
    device.close()


def test_a_tampered_kiosk_is_shown_apart_until_it_is_reviewed(engine: Engine, tmp_path: Path) -> None:
    clock = Clock(vn(11, 20, 8))
    honest, tampered = kiosk(tmp_path / "honest", clock), kiosk(tmp_path / "tampered", clock)
    honest_id, tampered_id = enrolled(engine, honest), enrolled(engine, tampered)
    honest.log.record_rating(5, counter_id="Q01", officer_id="CB001", language="vi")
    for minute in (0, 1, 2):
        clock.at(vn(11, 20, 9, minute))
        tampered.log.record_rating(4, counter_id="Q01", officer_id="CB001", language="vi")
    con = sqlite3.connect(tampered.database.path)   # someone edits the kiosk's file before it is sent
    with con:
        con.execute("DROP TRIGGER log_append_only_update")
        con.execute("UPDATE log SET level = 1 WHERE seq = 2")
    con.close()
    assert push_all(engine, honest, honest_id).error is None
    refused = push_all(engine, tampered, tampered_id)
    assert refused.error is not None and refused.error.body.code == protocol.E_CHAIN and refused.acked_seq == 1

    query = ReportQuery(NOVEMBER, "agency", "HK")
    before = reports.build(engine, query, SETTINGS)
    assert before.total == fig(1, (0, 0, 0, 0, 1))            # only the honest kiosk's rating
    assert before.unverified == fig(1, (0, 0, 0, 1, 0))       # the tampered kiosk's first, good record
    assert reports.trend(engine, query, SETTINGS, "week")[3].figures.ratings == 1  # 17–23 Nov: the honest one

    review_device(engine, tampered_id, "it.tinh")
    after = reports.build(engine, query, SETTINGS)
    assert after.total == fig(2, (0, 0, 0, 1, 1)) and after.unverified == Figures.empty()
    # The device stays broken: a later push stores nothing, and the figures do not move.
    assert push_all(engine, tampered, tampered_id).error is not None
    assert reports.build(engine, query, SETTINGS) == after
    honest.close()
    tampered.close()


def test_the_local_day_of_a_kiosk_rating_is_its_vietnam_day(engine: Engine, tmp_path: Path) -> None:
    clock = Clock(datetime(2025, 11, 30, 16, 59, 30, tzinfo=UTC))   # 23:59:30 on the 30th in Vietnam
    device = kiosk(tmp_path / "k", clock)
    device_id = enrolled(engine, device)
    device.log.record_rating(3, counter_id="Q01", officer_id=None, language="vi")
    clock.at(datetime(2025, 11, 30, 17, 0, tzinfo=UTC))              # 00:00 on 1 December
    device.log.record_rating(4, counter_id="Q01", officer_id=None, language="vi")
    assert push_all(engine, device, device_id).error is None
    span = Period.between(date(2025, 11, 29), date(2025, 12, 2))
    days = reports.trend(engine, ReportQuery(span, "agency", "HK"), SETTINGS, "day")
    assert [(p.first, p.figures.levels) for p in days if p.figures.ratings] == [
        (date(2025, 11, 30), (0, 0, 1, 0, 0)), (date(2025, 12, 1), (0, 0, 0, 1, 0))]
    assert clock.now.astimezone(VN).day == 1
    device.close()


def test_pushes_in_small_batches_keep_the_totals_exact(engine: Engine, tmp_path: Path) -> None:
    """Answers arrive in later batches than their ratings, tests and repeats mixed in, across days and months."""
    clock = Clock(vn(11, 29, 16, 40))
    device = kiosk(tmp_path / "a", clock)
    device_id = enrolled(engine, device)
    log = device.log
    for i in range(60):
        # Every tenth rating follows the one before within seconds: a suspected repeat.
        clock.at(clock.now + (timedelta(seconds=5) if i % 10 == 5 else timedelta(minutes=37, seconds=11 * (i % 3))))
        rating = log.record_rating(1 + i % 5, counter_id="Q01", officer_id=("CB001", "CB002", None)[i % 3],
                                   language="vi", is_test=i % 13 == 0)
        if i % 2:
            log.record_answer(rating.uuid, "access", 1 + i % 5)
            log.record_answer(rating.uuid, "harassment", int(i % 4 == 1))
        if i % 7 == 0:
            log.record_procedure(rating.uuid, "1.001193")
    records = [protocol.Record.model_validate(r) for r in device.records()]
    for first in range(0, len(records), 7):
        assert ingest.push(engine, device_id, records[first:first + 7]).error is None
    assert_totals_exact(engine)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count(), func.sum(case((RATING.c.suspected_repeat, 1), else_=0)))
                              .select_from(RATING)).one()
    assert tuple(stored) == (60, 6)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:   # the push's flag never outlives its transaction
            assert conn.execute(text("SELECT count(*) FROM rating_totals_deferred")).scalar() == 0
    device.close()


def test_a_spoiled_signature_deep_in_a_large_batch_stops_the_chain_there(engine: Engine, tmp_path: Path) -> None:
    """Signatures are checked on several threads while the batch is stored; the first bad one still decides."""
    clock = Clock(vn(11, 3, 8))
    device = kiosk(tmp_path / "a", clock)
    device_id = enrolled(engine, device)
    for i in range(300):
        clock.at(clock.now + timedelta(minutes=1))
        device.log.record_rating(1 + i % 5, counter_id="Q01", officer_id="CB001", language="vi")
    records = [protocol.Record.model_validate(r) for r in device.records()]
    for seq in (200, 140):   # content and hash untouched, the signature of another record put in its place
        records[seq - 1] = records[seq - 1].model_copy(update={"signature": records[seq].signature})
    result = ingest.push(engine, device_id, records)
    assert result.error is not None and result.error.body.first_bad_seq == 140
    assert (result.acked_seq, result.stored) == (139, 139)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RATING)).scalar() == 139
    assert_totals_exact(engine)   # the rolled-back first attempt left nothing in the totals either
    device.close()
