"""The rating log: appends signed, chained ratings and follow-up answers, and reads counts back out."""

from __future__ import annotations

import csv
import hashlib
import itertools
import sqlite3
import threading
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import IO, Any

from kiosk import state
from kiosk.db import Database
from kiosk.domain import chain
from kiosk.domain.errors import BilingualError
from kiosk.domain.keys import DeviceKey, public_key_b64
from kiosk.domain.levels import (
    CALLBACK_KEY,
    COMMENT_KEY,
    HARASSMENT_KEY,
    PROCEDURE_KEY,
    QUESTION_KEYS,
    SCALE_KEYS,
    answer_problem,
    level,
    rating_problem,
)

_INSERT_COLUMNS = (*chain.SIGNED_FIELDS, "hash", "signature")
_INSERT_SQL = (f"INSERT INTO log ({', '.join(_INSERT_COLUMNS)}) "
               f"VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})")
_HEAD_SQL = "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1"
_RATING_EXISTS_SQL = "SELECT 1 FROM log WHERE uuid = ? AND kind = 'rating'"
_COMMENT_OR_CALLBACK_SQL = "SELECT question FROM log WHERE rating_uuid = ? AND kind = 'answer' AND question IN (?, ?)"
_HEAD_STATE_SQL = ("INSERT INTO device_state (key, value) VALUES (?, ?), (?, ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


class InvalidRecord(BilingualError):
    """A rating or answer that does not fit the log; nothing is written."""


def _check_callback(cursor: sqlite3.Cursor, rating_uuid: str) -> None:
    """Refuse a callback request for a rating without a comment, or a second one (inside the write)."""
    given = {row[0] for row in cursor.execute(_COMMENT_OR_CALLBACK_SQL, (rating_uuid, COMMENT_KEY, CALLBACK_KEY))}
    if COMMENT_KEY not in given:
        # The phone number or e-mail is in the comment: a request without one gives nobody to call.
        raise InvalidRecord(f"Đánh giá {rating_uuid} chưa có góp ý: yêu cầu liên hệ lại chỉ được ghi kèm góp ý",
                            f"Rating {rating_uuid} has no comment: a callback request is stored only with a comment")
    if CALLBACK_KEY in given:
        raise InvalidRecord(f"Đánh giá {rating_uuid} đã có yêu cầu liên hệ lại",
                            f"Rating {rating_uuid} already has a callback request")


def _refuse(problem: tuple[str, str] | None) -> None:
    if problem is not None:
        vi, en = problem
        raise InvalidRecord(vi[:1].upper() + vi[1:], en[:1].upper() + en[1:])


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and a Z, the form stored and signed."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Receipt:
    """What the citizen's tap produced: the stored rating's identity."""

    uuid: str
    seq: int
    level: int
    reference: str
    suspected_repeat: bool
    recorded_at: str = ""  # UTC, as stored and signed

    def local_time(self) -> datetime:
        """When the rating was recorded, in the device's local time (for slips and screens)."""
        return datetime.fromisoformat(self.recorded_at).astimezone()


@dataclass
class Stats:
    """Counts per level today and in all, and what is still waiting to be synced."""

    today: Counter[int] = field(default_factory=Counter)
    total: Counter[int] = field(default_factory=Counter)
    repeats_today: int = 0
    repeats_total: int = 0
    test_total: int = 0
    head_seq: int = 0
    acked_seq: int = 0

    @property
    def queue(self) -> int:
        """Records not yet acknowledged by the central server."""
        return max(self.head_seq - self.acked_seq, 0)


class RatingLog:
    """Appends to and reads from the device's rating log."""

    def __init__(self, database: Database, key: DeviceKey, *, repeat_window_s: float = 20,
                 clock: Callable[[], datetime] = utc_now,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.database = database
        self.key = key
        self.repeat_window_s = repeat_window_s
        self._clock = clock
        self._monotonic = monotonic
        self._last_rating_at: float | None = None
        self._writer: Any = None
        self._write_lock = threading.Lock()
        self.device_uuid = self._init_device()

    def _init_device(self) -> str:
        with self.database.writing() as conn:
            device = state.get(conn, state.DEVICE_UUID)
            stored_key = state.get(conn, state.PUBLIC_KEY)
            mine = public_key_b64(self.key.public_key)
            if stored_key is not None and stored_key != mine:
                raise BilingualError(
                    "Khoá thiết bị không khớp với khoá đã ký các đánh giá trong cơ sở dữ liệu; "
                    "không ghi thêm để chuỗi không bị lẫn. Hãy khôi phục đúng tệp khoá.",
                    "The device key does not match the key that signed the stored ratings; refusing to "
                    "write so the chain is not mixed. Restore the right key file.")
            if device is None:
                device = str(uuidlib.uuid4())
                state.put(conn, state.DEVICE_UUID, device)
            if stored_key is None:
                state.put(conn, state.PUBLIC_KEY, mine)
            row = conn.execute("SELECT recorded_at FROM log WHERE kind = 'rating' "
                               "ORDER BY seq DESC LIMIT 1").fetchone()
            last = None if row is None else str(row[0])
        if last is not None:
            age = (self._clock() - datetime.fromisoformat(last)).total_seconds()
            if 0 <= age < self.repeat_window_s:
                self._last_rating_at = self._monotonic() - age
        return device

    def _write(self, fields: dict[str, Any], *, answers_rating: str | None = None,
               needs_comment: bool = False) -> dict[str, Any]:
        """Append one record at the chain head in its own immediate transaction, committed and fsynced."""
        # One long-lived connection: this runs on every tap, and opening a connection costs as much as
        # the fsync itself.
        with self._write_lock:
            if self._writer is None:
                self._writer = self.database.connect()
            cursor = self._writer.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                exists = answers_rating is None or cursor.execute(_RATING_EXISTS_SQL, (answers_rating,)).fetchone()
                if not exists:
                    raise InvalidRecord(f"Không có đánh giá {answers_rating}", f"No rating {answers_rating}")
                if needs_comment and answers_rating is not None:
                    _check_callback(cursor, answers_rating)
                head = cursor.execute(_HEAD_SQL).fetchone()
                seq, prev_hash = (head[0] + 1, head[1]) if head else (1, chain.GENESIS_HASH)
                record: dict[str, Any] = dict.fromkeys(chain.SIGNED_FIELDS)
                record.update(suspected_repeat=False, is_test=False)
                record.update(fields)
                record.update(seq=seq, uuid=str(uuidlib.uuid4()), recorded_at=iso_utc(self._clock()),
                              prev_hash=prev_hash)
                body = chain.canonical(record)
                record["hash"] = hashlib.sha256(body).hexdigest()
                record["signature"] = self.key.sign(body)
                cursor.execute(_INSERT_SQL, [record[name] for name in _INSERT_COLUMNS])
                cursor.execute(_HEAD_STATE_SQL, (state.HEAD_SEQ, str(seq), state.HEAD_HASH, record["hash"]))
                cursor.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.close()
        return record

    def close(self) -> None:
        """Give back the writer connection."""
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def record_rating(self, value: int, *, counter_id: str, officer_id: str | None, language: str,
                      procedure_code: str | None = None, is_test: bool = False) -> Receipt:
        """Store a rating durably (committed and fsynced) and return its receipt."""
        _refuse(rating_problem(value, language, procedure_code))
        now = self._monotonic()
        repeat = self._last_rating_at is not None and now - self._last_rating_at < self.repeat_window_s
        record = self._write({
            "kind": "rating", "level": value, "counter_id": counter_id, "officer_id": officer_id,
            "procedure_code": procedure_code, "language": language,
            "suspected_repeat": repeat, "is_test": is_test,
        })
        if not is_test:  # self-test ratings must not make the next citizen's rating look like a repeat
            self._last_rating_at = now
        return Receipt(record["uuid"], record["seq"], value, f"{counter_id}-{record['seq']:06d}", repeat,
                       record["recorded_at"])

    def record_answer(self, rating_uuid: str, question: str, value: int) -> int:
        """Store one follow-up answer (1–5, or 1/0 for yes/no) as its own record; return its seq."""
        if question not in QUESTION_KEYS:  # comments, callbacks and procedures have their own methods
            raise InvalidRecord(f"Câu hỏi không tồn tại: {question!r}", f"No such question: {question!r}")
        return self._add_answer(rating_uuid, {"question": question, "value": value})

    def record_procedure(self, rating_uuid: str, code: str) -> int:
        """Store the procedure the citizen came for (chosen after the rating) as its own record."""
        return self._add_answer(rating_uuid, {"question": PROCEDURE_KEY, "text": code.strip()})

    def record_comment(self, rating_uuid: str, text: str) -> int:
        """Store the citizen's free-text comment as its own record; return its seq."""
        return self._add_answer(rating_uuid, {"question": COMMENT_KEY, "text": text.strip()})

    def record_callback(self, rating_uuid: str) -> int:
        """Store that the citizen asked to be contacted about the comment just sent; return its seq.

        Only after a comment to the same rating (the contact is in the comment), and once per rating.
        """
        return self._add_answer(rating_uuid, {"question": CALLBACK_KEY, "value": 1}, needs_comment=True)

    def _add_answer(self, rating_uuid: str, fields: dict[str, Any], *, needs_comment: bool = False) -> int:
        # The one domain of every answer (kiosk.domain.levels), which the server checks again.
        _refuse(answer_problem(fields["question"], fields.get("value"), fields.get("text")))
        record = self._write({"kind": "answer", "rating_uuid": rating_uuid, **fields}, answers_rating=rating_uuid,
                             needs_comment=needs_comment)
        return int(record["seq"])

    def records(self, conn: sqlite3.Connection, after_seq: int = 0) -> Iterator[dict[str, Any]]:
        """Every record after `after_seq`, in sequence order, as dicts (flags as bools)."""
        for row in conn.execute("SELECT * FROM log WHERE seq > ? ORDER BY seq", (after_seq,)):
            record = dict(row)
            record["suspected_repeat"] = bool(record["suspected_repeat"])
            record["is_test"] = bool(record["is_test"])
            yield record

    def records_after(self, after_seq: int, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` records after `after_seq`, in sequence order, read in one transaction."""
        with self.database.reading() as conn:
            return list(itertools.islice(self.records(conn, after_seq), limit))

    def verify(self) -> chain.ChainReport:
        """Walk the whole chain against this device's own key and the stored head."""
        # The device's key, not the public key stored beside the log: whoever can rewrite the log can
        # rewrite that row too. (Opening refuses a database whose stored key differs from this one.)
        with self.database.reading() as conn:
            head_seq, head_hash = state.get(conn, state.HEAD_SEQ), state.get(conn, state.HEAD_HASH)
            expected = (int(head_seq), head_hash) if head_seq and head_hash else None
            return chain.verify(self.records(conn), self.key.public_key, expected)

    def stats(self, local_tz: tzinfo | None = None) -> Stats:
        """Counts per level for today (device-local day) and overall, excluding test ratings."""
        now = self._clock().astimezone(local_tz) if local_tz else self._clock().astimezone()
        start = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo)
        today_from, today_to = iso_utc(start), iso_utc(start + timedelta(days=1))
        stats = Stats()
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT level, suspected_repeat, is_test, recorded_at >= ? AND recorded_at < ? AS today, "
                "count(*) FROM log WHERE kind = 'rating' GROUP BY 1, 2, 3, 4", (today_from, today_to))
            for row in rows:
                value, repeat, is_test, is_today, count = int(row[0]), row[1], row[2], row[3], int(row[4])
                if is_test:
                    stats.test_total += count
                elif repeat:
                    stats.repeats_total += count
                    stats.repeats_today += count if is_today else 0
                else:
                    stats.total[value] += count
                    if is_today:
                        stats.today[value] += count
            stats.head_seq = int(state.get(conn, state.HEAD_SEQ) or 0)
            stats.acked_seq = int(state.get(conn, state.ACKED_SEQ) or 0)
        return stats

    def export_csv(self, out: IO[str], *, include_tests: bool = False) -> int:
        """Write one CSV row per rating with its follow-up answers; return the number of rows."""
        from kiosk.domain import spreadsheet

        columns = ["seq", "uuid", "recorded_at", "level", "label", "counter_id", "officer_id",
                   "procedure_code", "language", "suspected_repeat", "is_test",
                   *SCALE_KEYS, HARASSMENT_KEY, COMMENT_KEY, CALLBACK_KEY]
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        ratings: dict[str, dict[str, Any]] = {}
        with self.database.reading() as conn:
            for rec in self.records(conn):
                if rec["kind"] == "rating":
                    if rec["is_test"] and not include_tests:
                        continue
                    row = {c: rec.get(c) for c in columns if c in rec}
                    row["label"] = level(rec["level"]).label_vi
                    ratings[rec["uuid"]] = row
                elif rec["rating_uuid"] in ratings:
                    row = ratings[rec["rating_uuid"]]
                    if rec["question"] == PROCEDURE_KEY:
                        row[PROCEDURE_KEY] = row.get(PROCEDURE_KEY) or rec["text"]
                    else:
                        row[rec["question"]] = rec["text"] if rec["question"] == COMMENT_KEY else rec["value"]
        for row in ratings.values():
            # Codes and the comment may hold any text: one that looks like a formula must not run in Excel.
            writer.writerow({column: spreadsheet.csv_cell(value) for column, value in row.items()})
        return len(ratings)

