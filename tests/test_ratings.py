"""The rating log: numbering, durability, repeat flag, validation, stats, CSV export and the device key."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import sqlite3
import stat
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk import cli, paths, state
from kiosk.domain import chain
from kiosk.domain.errors import BilingualError
from kiosk.domain.keys import DeviceKey, public_key_b64
from kiosk.domain.levels import CALLBACK_KEY, COMMENT_MAX_CHARS, QUESTION_KEYS, QUESTIONS
from kiosk.flow import RatingSession
from kiosk.ratings import InvalidRecord, RatingLog, iso_utc
from kiosk.services import Services
from kiosk.settings import Settings
from tests import hostile_data
from tests.conftest import EXAMPLE_CONFIG

ICT = timezone(timedelta(hours=7), "ICT")  # Vietnam's time zone
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class FakeTime:
    """A wall clock and a monotonic clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.mono = 1000.0

    def clock(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


def make_log(services: Services, fake: FakeTime, window: float = 20) -> RatingLog:
    return RatingLog(services.database, services.key, repeat_window_s=window, clock=fake.clock,
                     monotonic=fake.monotonic)


def rate(log: RatingLog, value: Any, **kw: Any) -> Any:
    kw.setdefault("counter_id", "Q01")
    kw.setdefault("officer_id", "CB001")
    kw.setdefault("language", "vi")
    return log.record_rating(value, **kw)


def db_rows(services: Services) -> list[dict[str, Any]]:
    """The log as a second, independent connection sees it."""
    con = sqlite3.connect(services.data_dir / paths.DB_NAME)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM log ORDER BY seq")]
    finally:
        con.close()


# --- numbering and linking --------------------------------------------------------------------------------


def test_seq_numbers_have_no_gaps_across_ratings_and_answers(services: Services) -> None:
    log = services.ratings
    r1 = rate(log, 5)
    assert (r1.seq, r1.level, r1.reference) == (1, 5, "Q01-000001")
    assert log.record_answer(r1.uuid, "access", 4) == 2
    assert log.record_answer(r1.uuid, "harassment", 0) == 3
    r2 = rate(log, 3)
    assert r2.seq == 4 and r2.reference == "Q01-000004"
    assert log.record_comment(r2.uuid, "  Nhanh chóng  ") == 5
    records = db_rows(services)
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert [r["kind"] for r in records] == ["rating", "answer", "answer", "rating", "answer"]
    assert records[4]["text"] == "Nhanh chóng" and records[4]["question"] == "comment"
    assert records[1]["rating_uuid"] == r1.uuid and records[4]["rating_uuid"] == r2.uuid


def test_each_record_has_uuid_utc_time_and_links_to_the_previous(services: Services) -> None:
    log = services.ratings
    before = datetime.now(UTC)
    r1 = rate(log, 4)
    log.record_answer(r1.uuid, "officer", 5)
    rate(log, 2)
    after = datetime.now(UTC)
    records = db_rows(services)
    assert len({r["uuid"] for r in records}) == 3
    prev = chain.GENESIS_HASH
    for record in records:
        assert uuid.UUID(record["uuid"]).version == 4
        assert UTC_Z.match(record["recorded_at"]), record["recorded_at"]
        moment = datetime.fromisoformat(record["recorded_at"])
        assert moment.utcoffset() == timedelta(0)
        assert before - timedelta(milliseconds=1) <= moment <= after
        assert record["prev_hash"] == prev
        assert record["hash"] == chain.record_hash(record)
        prev = record["hash"]
    assert records[0]["uuid"] == r1.uuid
    assert services.state.get(state.HEAD_SEQ) == "3"
    assert services.state.get(state.HEAD_HASH) == prev
    assert services.ratings.verify().ok


def test_local_clock_is_stored_as_utc(services: Services) -> None:
    fake = FakeTime(datetime(2025, 7, 1, 9, 3, 4, 5678, tzinfo=ICT))
    rate(make_log(services, fake), 5)
    assert db_rows(services)[0]["recorded_at"] == "2025-07-01T02:03:04.005Z"
    assert iso_utc(datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == "2025-12-31T23:59:59.999Z"


def test_rating_fields_are_stored(services: Services) -> None:
    rate(services.ratings, 1, officer_id="CB002", language="en", procedure_code="1.012753.H19", is_test=True)
    row = db_rows(services)[0]
    assert row["level"] == 1 and row["officer_id"] == "CB002" and row["language"] == "en"
    assert row["procedure_code"] == "1.012753.H19" and row["counter_id"] == "Q01"
    assert row["is_test"] == 1 and row["suspected_repeat"] == 0


# --- durability -------------------------------------------------------------------------------------------


def test_rating_is_committed_before_record_rating_returns(services: Services) -> None:
    receipt = rate(services.ratings, 5)
    # A second, independent connection opened right now sees the row: it is committed, not pending.
    con = sqlite3.connect(services.data_dir / paths.DB_NAME, timeout=0)
    try:
        row = con.execute("SELECT seq, level FROM log WHERE uuid = ?", (receipt.uuid,)).fetchone()
        assert row == (1, 5)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # No transaction was left open: the write lock is free at once.
        con.execute("BEGIN IMMEDIATE")
        con.rollback()
    finally:
        con.close()


def test_every_connection_uses_wal_and_synchronous_full(services: Services) -> None:
    for con in (services.database.connect(), services.database.connect()):
        try:
            assert con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert con.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        finally:
            con.close()
    # The SQLAlchemy engine made for tools gets the same settings on each new pooled connection.
    engine = services.database.engine()
    engine.dispose()
    raw = engine.raw_connection()
    try:
        assert raw.cursor().execute("PRAGMA synchronous").fetchone()[0] == 2
    finally:
        raw.close()


def test_ratings_survive_a_restart(settings: Settings, data_dir: Path) -> None:
    first = Services.open(settings, data_dir)
    receipt = rate(first.ratings, 4)
    first.close()
    second = Services.open(settings, data_dir)
    try:
        assert rate(second.ratings, 3).seq == 2
        assert second.ratings.device_uuid == first.ratings.device_uuid
        assert db_rows(second)[0]["uuid"] == receipt.uuid
        assert second.ratings.verify().ok
    finally:
        second.close()


# --- the repeat flag --------------------------------------------------------------------------------------


def test_repeat_within_window_is_stored_but_flagged(services: Services) -> None:
    fake = FakeTime(datetime(2025, 7, 1, 2, 0, tzinfo=UTC))
    log = make_log(services, fake, window=20)
    assert rate(log, 5).suspected_repeat is False
    fake.advance(5)
    second = rate(log, 1)
    assert second.suspected_repeat is True and second.seq == 2
    fake.advance(19.9)  # measured from the last rating, flagged or not
    assert rate(log, 1).suspected_repeat is True
    fake.advance(20)  # exactly the window: no longer a repeat
    assert rate(log, 4).suspected_repeat is False
    fake.advance(300)
    assert rate(log, 4).suspected_repeat is False
    assert [r["suspected_repeat"] for r in db_rows(services)] == [0, 1, 1, 0, 0]
    assert log.verify().ok


def test_answers_do_not_count_as_ratings_for_the_repeat_flag(services: Services) -> None:
    fake = FakeTime(datetime(2025, 7, 1, 2, 0, tzinfo=UTC))
    log = make_log(services, fake, window=20)
    first = rate(log, 5)
    fake.advance(15)
    log.record_answer(first.uuid, "access", 5)
    fake.advance(10)  # 25 s after the rating, 10 s after the answer
    assert rate(log, 5).suspected_repeat is False


def test_zero_window_never_flags(services: Services) -> None:
    fake = FakeTime(datetime(2025, 7, 1, 2, 0, tzinfo=UTC))
    log = make_log(services, fake, window=0)
    rate(log, 5)
    assert rate(log, 5).suspected_repeat is False


@pytest.mark.parametrize(("gap", "flagged"),
                         [(5, True), (19, True), (21, False), (3600, False), (-30, False)])
def test_repeat_flag_across_a_restart(services: Services, gap: float, flagged: bool) -> None:
    start = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
    rate(make_log(services, FakeTime(start), window=20), 5)
    # The app restarts: a new RatingLog, whose monotonic clock has nothing to do with the old one.
    later = FakeTime(start + timedelta(seconds=gap))
    later.mono = 7.0
    assert rate(make_log(services, later, window=20), 5).suspected_repeat is flagged


# --- invalid ratings and answers --------------------------------------------------------------------------


def _nothing_written(services: Services, count: int = 0) -> None:
    assert len(db_rows(services)) == count
    head = services.state.get(state.HEAD_SEQ)
    assert (int(head) if head else 0) == count


@pytest.mark.parametrize("value", [0, 6, -1, "5", True, False, 5.0, 3.5, None])
def test_invalid_level_writes_nothing(services: Services, value: Any) -> None:
    with pytest.raises(InvalidRecord) as info:
        rate(services.ratings, value)
    assert info.value.vi and info.value.en and repr(value) in info.value.en
    _nothing_written(services)
    assert services.ratings.verify().ok


def test_float_level_does_not_poison_the_chain(services: Services) -> None:
    """5.0 used to be stored as 5 but signed as 5.0, leaving a chain that could never verify again."""
    with pytest.raises(InvalidRecord):
        rate(services.ratings, 5.0)
    rate(services.ratings, 5)
    assert services.ratings.verify().ok


@pytest.mark.parametrize(("question", "value"), [
    ("unknown", 3), ("ACCESS", 3), ("", 3), ("comment", 3),
    ("access", 0), ("access", 6), ("procedure", -1), ("officer", True), ("result", "4"), ("feedback", 4.0),
    ("feedback", None), ("harassment", 2), ("harassment", -1), ("harassment", True), ("harassment", 5),
])
def test_invalid_answer_writes_nothing(services: Services, question: str, value: Any) -> None:
    receipt = rate(services.ratings, 4)
    with pytest.raises(InvalidRecord):
        services.ratings.record_answer(receipt.uuid, question, value)
    _nothing_written(services, 1)


def test_every_question_accepts_its_whole_range(services: Services) -> None:
    receipt = rate(services.ratings, 4)
    written = 1
    for question in QUESTIONS:
        for value in (range(1, 6) if question.kind == "scale" else (0, 1)):
            services.ratings.record_answer(receipt.uuid, question.key, value)
            written += 1
    _nothing_written(services, written)
    assert services.ratings.verify().ok


def test_answer_to_an_unknown_rating_is_rejected(services: Services) -> None:
    receipt = rate(services.ratings, 4)
    answer_seq = services.ratings.record_answer(receipt.uuid, "access", 5)
    answer_uuid = db_rows(services)[answer_seq - 1]["uuid"]
    for target in (str(uuid.uuid4()), "", answer_uuid):  # an answer is not a rating either
        with pytest.raises(InvalidRecord):
            services.ratings.record_answer(target, "officer", 5)
        with pytest.raises(InvalidRecord):
            services.ratings.record_comment(target, "Tốt")
    _nothing_written(services, 2)


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "x" * (COMMENT_MAX_CHARS + 1), "ư" * 1001])
def test_empty_or_oversized_comment_is_rejected(services: Services, text: str) -> None:
    receipt = rate(services.ratings, 2)
    with pytest.raises(InvalidRecord) as info:
        services.ratings.record_comment(receipt.uuid, text)
    assert str(COMMENT_MAX_CHARS) in info.value.en
    _nothing_written(services, 1)


def test_comment_of_exactly_the_limit_is_kept_whole(services: Services) -> None:
    receipt = rate(services.ratings, 2)
    text = "Đ" * COMMENT_MAX_CHARS
    services.ratings.record_comment(receipt.uuid, f"  {text}  ")
    assert db_rows(services)[1]["text"] == text
    assert services.ratings.verify().ok


# --- callback requests ------------------------------------------------------------------------------------


def test_a_callback_request_is_a_signed_chained_answer_after_the_comment(services: Services) -> None:
    receipt = rate(services.ratings, 2)
    comment_seq = services.ratings.record_comment(receipt.uuid, "Xin gọi lại: 0912 345 678, an@example.vn")
    callback_seq = services.ratings.record_callback(receipt.uuid)
    assert callback_seq == comment_seq + 1
    row = db_rows(services)[callback_seq - 1]
    assert (row["kind"], row["rating_uuid"], row["question"], row["value"], row["text"]) == \
        ("answer", receipt.uuid, CALLBACK_KEY, 1, None)
    assert row["prev_hash"] == db_rows(services)[comment_seq - 1]["hash"]
    report = services.ratings.verify()
    assert report.ok and report.head_seq == callback_seq


def test_callback_is_not_a_followup_question(services: Services) -> None:
    assert CALLBACK_KEY not in QUESTION_KEYS
    assert CALLBACK_KEY not in RatingSession(services).followup_steps()
    receipt = rate(services.ratings, 3)
    services.ratings.record_comment(receipt.uuid, "Gọi tôi 0912 345 678")
    with pytest.raises(InvalidRecord) as info:  # only record_callback may write it, and only as value 1
        services.ratings.record_answer(receipt.uuid, CALLBACK_KEY, 1)
    assert CALLBACK_KEY in info.value.vi and CALLBACK_KEY in info.value.en
    _nothing_written(services, 2)


def test_a_callback_without_a_comment_writes_nothing(services: Services) -> None:
    receipt = rate(services.ratings, 4)
    services.ratings.record_answer(receipt.uuid, "access", 5)
    with pytest.raises(InvalidRecord) as info:
        services.ratings.record_callback(receipt.uuid)
    assert "góp ý" in info.value.vi and "comment" in info.value.en
    assert info.value.vi != info.value.en
    _nothing_written(services, 2)
    assert services.ratings.verify().ok


def test_a_comment_to_another_rating_does_not_allow_a_callback(services: Services) -> None:
    first = rate(services.ratings, 4)
    services.ratings.record_comment(first.uuid, "Gọi tôi 0912 345 678")
    second = rate(services.ratings, 5)
    with pytest.raises(InvalidRecord):
        services.ratings.record_callback(second.uuid)
    _nothing_written(services, 3)


def test_a_second_callback_request_writes_nothing(services: Services) -> None:
    receipt = rate(services.ratings, 1)
    services.ratings.record_comment(receipt.uuid, "Email: an@example.vn")
    services.ratings.record_callback(receipt.uuid)
    with pytest.raises(InvalidRecord) as info:
        services.ratings.record_callback(receipt.uuid)
    assert "đã có" in info.value.vi and "already" in info.value.en
    _nothing_written(services, 3)


def test_a_callback_for_an_unknown_rating_or_an_answer_writes_nothing(services: Services) -> None:
    receipt = rate(services.ratings, 4)
    comment_seq = services.ratings.record_comment(receipt.uuid, "Gọi tôi 0912 345 678")
    comment_uuid = db_rows(services)[comment_seq - 1]["uuid"]
    for target in (str(uuid.uuid4()), "", comment_uuid):
        with pytest.raises(InvalidRecord):
            services.ratings.record_callback(target)
    _nothing_written(services, 2)


def test_csv_has_the_callback_only_where_it_was_asked(services: Services) -> None:
    fake = FakeTime(datetime(2025, 7, 1, 2, 0, tzinfo=UTC))
    log = make_log(services, fake)
    asked = rate(log, 2)
    log.record_comment(asked.uuid, "Gọi tôi 0912 345 678")
    log.record_callback(asked.uuid)
    fake.advance(60)
    not_asked = rate(log, 4)
    log.record_comment(not_asked.uuid, "Tốt")
    count, rows, columns = _export(log)
    assert count == 2 and CALLBACK_KEY in columns
    assert [(r["uuid"], r["comment"], r[CALLBACK_KEY]) for r in rows] == [
        (asked.uuid, "Gọi tôi 0912 345 678", "1"), (not_asked.uuid, "Tốt", "")]


# --- the rating session -----------------------------------------------------------------------------------


def test_session_ignores_a_second_answer_to_the_same_question(services: Services) -> None:
    session = RatingSession(services)
    session.rate(4)
    session.answer("access", 5)
    session.answer("access", 1)  # a double tap or a back-and-forth: the first answer stands
    session.answer("harassment", 0)
    assert session.comment("Thủ tục nhanh")
    assert not session.comment("Thủ tục chậm")
    assert not session.comment("   ")
    answers = [r for r in db_rows(services) if r["kind"] == "answer"]
    assert [(a["question"], a["value"], a["text"]) for a in answers] == [
        ("access", 5, None), ("harassment", 0, None), ("comment", None, "Thủ tục nhanh")]
    assert session.answers == {"access": 5, "harassment": 0, "comment": "Thủ tục nhanh"}


def test_session_next_citizen_may_answer_again(services: Services) -> None:
    session = RatingSession(services)
    first = session.rate(5)
    session.answer("access", 5)
    session.reset()
    second = session.rate(3)
    session.answer("access", 2)
    answers = [(r["rating_uuid"], r["value"]) for r in db_rows(services) if r["kind"] == "answer"]
    assert answers == [(first.uuid, 5), (second.uuid, 2)]


def test_session_answer_before_rating_is_refused(services: Services) -> None:
    session = RatingSession(services)
    with pytest.raises(RuntimeError):
        session.answer("access", 5)
    _nothing_written(services)


def test_session_carries_counter_officer_and_language(services: Services) -> None:
    session = RatingSession(services)
    session.rate(5)
    services.set_officer_on_duty("CB002")
    session.reset()
    session.language = "en"
    session.procedure_code = "1.001193"
    session.rate(4)
    session.reset()
    assert session.language == "vi" and session.procedure_code is None
    session.rate(3)
    rows = db_rows(services)
    assert [(r["officer_id"], r["language"], r["procedure_code"]) for r in rows] == [
        ("CB001", "vi", None), ("CB002", "en", "1.001193"), ("CB002", "vi", None)]
    assert {r["counter_id"] for r in rows} == {"Q01"}
    with pytest.raises(ValueError):
        services.set_officer_on_duty("CB999")


def test_followup_steps_cover_sipas_and_comment(settings: Settings, data_dir: Path) -> None:
    counter = dataclasses.replace(settings.counter, procedures=[])
    services = Services.open(dataclasses.replace(settings, counter=counter), data_dir)
    try:
        assert RatingSession(services).followup_steps() == [
            "access", "procedure", "officer", "result", "feedback", "harassment", "comment"]
    finally:
        services.close()


def test_the_procedure_step_comes_first_when_the_counter_lists_procedures(settings: Settings, data_dir: Path) -> None:
    counter = dataclasses.replace(settings.counter, procedures=["1.001193", "2.000908"])
    services = Services.open(dataclasses.replace(settings, counter=counter), data_dir)
    try:
        session = RatingSession(services)
        assert session.followup_steps()[0] == "procedure_code"
        session.rate(4)
        session.choose_procedure("1.001193")
        session.choose_procedure("2.000908")  # a second choice is ignored
        with pytest.raises(InvalidRecord):
            services.ratings.record_procedure(session.receipt.uuid if session.receipt else "", "not a code")
        buffer = io.StringIO()
        services.ratings.export_csv(buffer)
        row = next(csv.DictReader(io.StringIO(buffer.getvalue())))
        assert row["procedure_code"] == "1.001193"
    finally:
        services.close()


# --- stats ------------------------------------------------------------------------------------------------


def _fill_for_stats(services: Services) -> tuple[RatingLog, FakeTime]:
    fake = FakeTime(datetime(2025, 7, 1, 10, 0, tzinfo=UTC))  # yesterday, seen from 2 July
    log = make_log(services, fake, window=20)
    rate(log, 5)
    fake.advance(60)
    rate(log, 1)
    fake.advance(5)
    rate(log, 1)  # a repeat, yesterday
    fake.now = datetime(2025, 7, 2, 8, 0, tzinfo=UTC)
    fake.advance(100)
    r = rate(log, 5)
    log.record_answer(r.uuid, "access", 5)  # answers are not ratings
    fake.advance(100)
    rate(log, 4)
    fake.advance(100)
    rate(log, 4)
    fake.advance(2)
    rate(log, 2)  # a repeat, today
    fake.advance(100)
    rate(log, 3, is_test=True)
    fake.advance(1)
    rate(log, 3, is_test=True)  # a test that is also a repeat counts only as a test
    return log, fake


def test_stats_today_and_all_time(services: Services) -> None:
    log, _ = _fill_for_stats(services)
    stats = log.stats(local_tz=UTC)
    assert dict(stats.today) == {5: 1, 4: 2}
    assert dict(stats.total) == {5: 2, 4: 2, 1: 1}
    assert stats.repeats_today == 1 and stats.repeats_total == 2
    assert stats.test_total == 2
    assert stats.today[3] == 0 and stats.total[3] == 0  # tests stay out of the level counts
    assert stats.head_seq == 10  # 9 ratings and 1 answer


def test_stats_today_follows_the_local_day(services: Services) -> None:
    fake = FakeTime(datetime(2025, 7, 1, 16, 30, tzinfo=UTC))  # 23:30 on 1 July in Vietnam
    log = make_log(services, fake)
    rate(log, 5)
    fake.advance(3600)  # 17:30 UTC = 00:30 on 2 July in Vietnam
    rate(log, 1)
    fake.now = datetime(2025, 7, 2, 3, 0, tzinfo=UTC)  # 10:00 on 2 July in Vietnam
    assert dict(log.stats(local_tz=ICT).today) == {1: 1}
    assert dict(log.stats(local_tz=UTC).today) == {}
    assert dict(log.stats(local_tz=ICT).total) == {5: 1, 1: 1}


def test_queue_depth_from_acked_seq(services: Services) -> None:
    log, _ = _fill_for_stats(services)
    assert log.stats(local_tz=UTC).queue == 10
    services.state.put(state.ACKED_SEQ, "4")
    stats = log.stats(local_tz=UTC)
    assert (stats.head_seq, stats.acked_seq, stats.queue) == (10, 4, 6)
    services.state.put(state.ACKED_SEQ, "10")
    assert log.stats(local_tz=UTC).queue == 0
    services.state.put(state.ACKED_SEQ, "20")  # never negative
    assert log.stats(local_tz=UTC).queue == 0


def test_stats_of_an_empty_log(services: Services) -> None:
    stats = services.ratings.stats()
    assert sum(stats.today.values()) == sum(stats.total.values()) == 0
    assert (stats.test_total, stats.repeats_total, stats.queue) == (0, 0, 0)


# --- CSV export -------------------------------------------------------------------------------------------


def _export(log: RatingLog, **kw: Any) -> tuple[int, list[dict[str, str]], list[str]]:
    out = io.StringIO()
    count = log.export_csv(out, **kw)
    out.seek(0)
    reader = csv.DictReader(out)
    rows = list(reader)
    return count, rows, list(reader.fieldnames or [])


def test_csv_one_row_per_rating_with_answers_pivoted(services: Services) -> None:
    fake = FakeTime(datetime(2025, 7, 1, 2, 0, tzinfo=UTC))
    log = make_log(services, fake)
    r1 = rate(log, 5, procedure_code="1.001193")
    for question, value in [("access", 4), ("procedure", 5), ("officer", 5), ("result", 3),
                            ("feedback", 4), ("harassment", 0)]:
        log.record_answer(r1.uuid, question, value)
    log.record_comment(r1.uuid, "Cán bộ nhiệt tình, chu đáo")
    fake.advance(60)
    r2 = rate(log, 2, officer_id="CB002")
    log.record_answer(r2.uuid, "harassment", 1)
    fake.advance(60)
    rate(log, 3, is_test=True)
    fake.advance(60)
    rate(log, 1)  # no answers at all

    count, rows, columns = _export(log)
    assert count == 3 and len(rows) == 3
    assert columns[:5] == ["seq", "uuid", "recorded_at", "level", "label"]
    assert columns[-8:] == ["access", "procedure", "officer", "result", "feedback", "harassment", "comment",
                            "callback"]
    first, second, third = rows
    assert (first["seq"], first["uuid"], first["level"]) == ("1", r1.uuid, "5")
    assert first["label"] == "Rất hài lòng"
    assert first["recorded_at"] == "2025-07-01T02:00:00.000Z"
    assert first["procedure_code"] == "1.001193" and first["officer_id"] == "CB001"
    assert [first[q] for q in ("access", "procedure", "officer", "result", "feedback", "harassment")] == \
        ["4", "5", "5", "3", "4", "0"]
    assert first["comment"] == "Cán bộ nhiệt tình, chu đáo"
    assert (second["seq"], second["label"], second["harassment"], second["access"]) == \
        ("9", "Không hài lòng", "1", "")
    assert (third["level"], third["label"], third["comment"]) == ("1", "Rất không hài lòng", "")
    assert all(r["is_test"] == "False" for r in rows)


def test_csv_includes_tests_only_when_asked(services: Services) -> None:
    fake = FakeTime(datetime(2025, 7, 1, 2, 0, tzinfo=UTC))
    log = make_log(services, fake)
    rate(log, 4)
    fake.advance(60)
    test = rate(log, 3, is_test=True)
    log.record_answer(test.uuid, "access", 1)
    count, rows, _ = _export(log)
    assert count == 1 and [r["level"] for r in rows] == ["4"]
    count, rows, _ = _export(log, include_tests=True)
    assert count == 2
    assert (rows[1]["is_test"], rows[1]["label"], rows[1]["access"]) == ("True", "Bình thường", "1")


def test_csv_of_an_empty_log_has_only_the_header(services: Services) -> None:
    count, rows, columns = _export(services.ratings)
    assert count == 0 and rows == [] and "label" in columns


def test_csv_never_holds_a_live_formula(settings: Settings, data_dir: Path, tmp_path: Path) -> None:
    # Counter and officer codes come from settings and staff mode, and a comment is whatever the citizen typed:
    # each starts in every way a formula can. (A procedure code must be a national code, so it cannot.)
    services = Services.open(settings, data_dir)
    expected: list[str] = []
    try:
        fake = FakeTime(datetime(2025, 7, 1, 2, 0, tzinfo=UTC))
        log = make_log(services, fake)
        for n, lead in enumerate(hostile_data.LEADS.values()):
            texts = [hostile_data.payload(f"{what}{n}", lead, dde=n % 2 == 1)
                     for what in ("counter", "officer", "comment")]
            receipt = log.record_rating(1, counter_id=texts[0], officer_id=texts[1], language="vi")
            log.record_answer(receipt.uuid, "access", 2)
            log.record_comment(receipt.uuid, texts[2])
            expected += [*texts[:2], texts[2].strip()]  # a comment is stored without its outer whitespace
            fake.advance(60)
        out = io.StringIO()
        assert services.ratings.export_csv(out) == len(hostile_data.LEADS)
    finally:
        services.close()
    rows = hostile_data.csv_rows(out.getvalue())
    hostile_data.assert_csv_inert(rows, expected)
    header = rows[0]
    for row in rows[1:]:  # numbers stay plain numbers
        assert row[header.index("seq")].isdigit() and row[header.index("level")] == "1"
        assert row[header.index("access")] == "2"
    written = tmp_path / "danh-gia.csv"  # the same through `kiosk ratings export`, as Excel would open it
    assert cli.main(["--config", str(EXAMPLE_CONFIG), "--data-dir", str(data_dir), "ratings", "export",
                     "--out", str(written)]) == 0
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")
    assert hostile_data.csv_rows(written.read_bytes().decode("utf-8-sig")) == rows


# --- the device key ---------------------------------------------------------------------------------------


def test_a_different_key_is_refused_and_the_chain_is_not_mixed(settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    rate(services.ratings, 5)
    stored_key = services.state.get(state.PUBLIC_KEY)
    services.close()
    key_path = data_dir / paths.KEY_NAME
    key_path.unlink()
    DeviceKey.load_or_create(key_path)  # someone "fixes" a lost key by making a new one
    with pytest.raises(BilingualError) as info:
        Services.open(settings, data_dir)
    assert "does not match" in info.value.en and "không khớp" in info.value.vi
    con = sqlite3.connect(data_dir / paths.DB_NAME)
    try:
        assert con.execute("SELECT count(*) FROM log").fetchone()[0] == 1
        kept = con.execute("SELECT value FROM device_state WHERE key = 'public_key'").fetchone()[0]
        assert kept == stored_key
    finally:
        con.close()


def test_the_public_key_is_stored_on_first_open(services: Services) -> None:
    assert services.state.get(state.PUBLIC_KEY) == public_key_b64(services.key.public_key)
    device = services.state.get(state.DEVICE_UUID)
    assert device is not None and uuid.UUID(device).version == 4


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_file_is_created_0600(services: Services) -> None:
    key_path = services.data_dir / paths.KEY_NAME
    assert _mode(key_path) == 0o600
    assert not key_path.with_suffix(".tmp").exists()
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert _mode(services.data_dir) == 0o700


def test_key_is_the_same_after_reload(tmp_path: Path) -> None:
    path = tmp_path / paths.KEY_NAME
    made = DeviceKey.load_or_create(path)
    loaded = DeviceKey.load_or_create(path)
    assert loaded.fingerprint == made.fingerprint
    assert re.fullmatch(r"([0-9A-F]{4}:){7}[0-9A-F]{4}", made.fingerprint)


@pytest.mark.parametrize("widened", [0o644, 0o666, 0o640, 0o604])
def test_widened_key_mode_is_narrowed_on_load(tmp_path: Path, widened: int) -> None:
    path = tmp_path / paths.KEY_NAME
    made = DeviceKey.load_or_create(path)
    os.chmod(path, widened)
    assert DeviceKey.load_or_create(path).fingerprint == made.fingerprint
    assert _mode(path) == 0o600


def _other_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _truncated_pem() -> bytes:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem[: len(pem) // 2]


@pytest.mark.parametrize(("content", "en_words"), [
    (lambda: b"", "damaged"),
    (lambda: b"not a key at all\n", "damaged"),
    (_truncated_pem, "damaged"),
    (_other_pem, "not an Ed25519 key"),
])
def test_damaged_key_file_gives_a_clear_error(settings: Settings, data_dir: Path,
                                              content: Callable[[], bytes], en_words: str) -> None:
    data_dir.mkdir(mode=0o700)
    key_path = data_dir / paths.KEY_NAME
    damaged = content()
    key_path.write_bytes(damaged)
    os.chmod(key_path, 0o600)
    with pytest.raises(BilingualError) as info:
        DeviceKey.load_or_create(key_path)
    assert str(key_path) in info.value.vi and str(key_path) in info.value.en
    assert en_words in info.value.en
    # Services.open reports the same error rather than a traceback, and does not replace the key.
    with pytest.raises(BilingualError):
        Services.open(settings, data_dir)
    assert key_path.read_bytes() == damaged
