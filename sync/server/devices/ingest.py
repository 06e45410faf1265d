"""The push: check a batch of signed records against the device's chain and store each record exactly once.

One transaction per batch, one lock on the device row (SELECT … FOR UPDATE on PostgreSQL; SQLite has one
writer at a time), one query for what is already stored, and bulk inserts (sync.server.bulk). Hashes are checked before
the lock is taken; signatures are checked on worker threads while the batch is walked and inserted, and the
transaction commits only if every signature it assumed good is (otherwise the batch is judged again).

Everything up to the device's `acked_seq` is stored and verified. A record at or below it must be identical to
the stored one (a duplicate, counted); a different one means the device's log was changed after it was synced.
New records must continue the chain: the next number, linked to the previous hash, hashed and signed right.
The good prefix is stored; at the first bad record the chain is marked broken and nothing from it on is kept,
now or in any later push.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, bindparam, exc, func, select, update

from kiosk.domain import chain
from kiosk.domain.keys import load_public_key, verify_signature
from kiosk.domain.levels import CALLBACK_KEY, COMMENT_KEY, PROCEDURE_KEY, YESNO_KEYS, answer_problem, rating_problem
from sync import protocol
from sync.server import bulk
from sync.server.db import reading, utc_now, writing
from sync.server.devices import clock
from sync.server.errors import ApiError
from sync.server.models import ANSWER_COLUMNS, DEVICE, RATING, RECORD
from sync.server.results import totals

log = logging.getLogger(__name__)
_VERIFY_CHUNK = 64  # signatures per verifier task: a few milliseconds of work against a ~50 µs hand-off


@dataclass(frozen=True)
class PushResult:
    """What the server holds after a batch; `error` is the refusal to answer with, if any (state already saved)."""

    acked_seq: int
    acked_hash: str
    stored: int
    duplicates: int
    error: ApiError | None = None

    def response(self) -> protocol.PushResponse:
        """The success answer."""
        return protocol.PushResponse(acked_seq=self.acked_seq, acked_hash=self.acked_hash, stored=self.stored,
                                     duplicates=self.duplicates)


@dataclass(frozen=True)
class _Checked:
    """One record with what could be checked without the database."""

    record: protocol.Record
    fields: dict[str, Any]  # the record as a dict, made once: it is hashed, checked and then inserted
    moment: datetime | None  # the instant its recorded_at names, None when it names none
    hash_ok: bool
    signature_ok: bool


@dataclass(frozen=True)
class _Break:
    seq: int
    vi: str
    en: str


class _Verdicts:
    """The signature checks of one batch, running on the verifier threads while the database work goes on."""

    def __init__(self, key: Ed25519PublicKey, records: Sequence[protocol.Record], bodies: list[bytes],
                 hashes_ok: list[bool]) -> None:
        self._hashes_ok = hashes_ok
        items = [(record.signature, body) for record, body, ok in zip(records, bodies, hashes_ok, strict=True)
                 if ok]
        chunks = [items[i:i + _VERIFY_CHUNK] for i in range(0, len(items), _VERIFY_CHUNK)]
        self._futures = [_verifiers().submit(_verify_chunk, key, chunk) for chunk in chunks]
        self._known: list[bool] | None = None

    def result(self) -> list[bool]:
        """Each record's verdict, in order (False where its hash was already wrong); waits for the threads."""
        if self._known is None:
            verdicts = iter([v for future in self._futures for v in future.result()])
            self._known = [ok and next(verdicts) for ok in self._hashes_ok]
        return self._known


def _verify_chunk(key: Ed25519PublicKey, chunk: list[tuple[str, bytes]]) -> list[bool]:
    return [verify_signature(key, signature, body) for signature, body in chunk]


@functools.cache
def _verifiers() -> ThreadPoolExecutor:
    # libsodium lets go of the GIL while it checks, and the checks are most of a push's CPU time.
    return ThreadPoolExecutor(max_workers=max(2, min(os.cpu_count() or 2, 8)), thread_name_prefix="verify")


def _precheck(records: Sequence[protocol.Record], key: Ed25519PublicKey) -> tuple[list[_Checked], _Verdicts]:
    """Each record hashed, its signature assumed good where the hash is, and the real checks under way."""
    bodies, fields, hashes_ok = [], [], []
    for record in records:
        dumped = record.model_dump()
        body = chain.canonical(dumped)
        fields.append(dumped)
        bodies.append(body)
        hashes_ok.append(hashlib.sha256(body).hexdigest() == record.hash)
    optimistic = [_Checked(record, dumped, _recorded_at(record.recorded_at), ok, ok)
                  for record, dumped, ok in zip(records, fields, hashes_ok, strict=True)]
    return optimistic, _Verdicts(key, records, bodies, hashes_ok)


class _Unconfirmed(Exception):
    """A signature assumed good was not: the transaction is rolled back and the batch judged again."""


_TIMESTAMP = re.compile(protocol.TIMESTAMP_PATTERN)


def _recorded_at(text: str) -> datetime | None:
    """The instant a record's time names, in UTC; None when it is not one (not RFC 3339, or not a real date)."""
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class _Clock:
    """What this push tells of the device's clock: its own time when it made the batch, and the tolerance."""

    device_time: datetime | None
    tolerance_s: float
    as_written: bool = False   # the server's own records (web and paper answers): their times are its own


def push(engine: Engine, device_id: str, records: Sequence[protocol.Record], *,
         public_key: Ed25519PublicKey | None = None, now: datetime | None = None,
         device_time: datetime | None = None,
         clock_tolerance_s: float = protocol.CLOCK_DRIFT_FLAG_S) -> PushResult:
    """Ingest one batch of consecutive records from an active device (the request was authenticated already).

    `device_time` is the device's own clock when it made the batch (PushRequest.device_time), if it said.
    """
    if not records:
        raise ApiError(422, protocol.E_MALFORMED, "Lô bản ghi rỗng", "the batch holds no records")
    if public_key is None:
        with reading(engine) as conn:
            stored_key = conn.execute(select(DEVICE.c.public_key).where(DEVICE.c.id == device_id)).scalar()
        if stored_key is None:
            raise ApiError(401, protocol.E_UNKNOWN_DEVICE, f"Không có thiết bị đã đăng ký {device_id}",
                           f"no enrolled device {device_id}")
        public_key = load_public_key(stored_key)
    optimistic, verdicts = _precheck(records, public_key)
    moment = now or utc_now()
    try:
        told = _Clock(None if device_time is None else _aware(device_time), clock_tolerance_s)
    except (OverflowError, ValueError):
        raise ApiError(422, protocol.E_MALFORMED, "device_time nằm ngoài khoảng thời gian đọc được",
                       "device_time is outside the range of readable times") from None
    # The database work runs while the signatures are checked; it commits only if every one it assumed good is.
    # Nearly every batch is: one that is not (a forged or corrupted record) is judged again with every verdict.
    try:
        return _ingest_retrying(engine, device_id, optimistic, moment, told, verdicts)
    except _Unconfirmed:
        known = verdicts.result()
        checked = [_Checked(c.record, c.fields, c.moment, c.hash_ok, ok)
                   for c, ok in zip(optimistic, known, strict=True)]
        return _ingest_retrying(engine, device_id, checked, moment, told, None)


def store_own(conn: Connection, device_id: str, records: Sequence[protocol.Record], now: datetime) -> PushResult:
    """Records the server made and signed itself (web and paper answers), in the caller's transaction: walked,
    checked against their domains and stored exactly as a kiosk's push is, their times taken as written."""
    checked = [_Checked(record, record.model_dump(), _recorded_at(record.recorded_at), True, True)
               for record in records]
    return _ingest_on(conn, device_id, checked, now, _Clock(None, protocol.CLOCK_DRIFT_FLAG_S, as_written=True))


def _ingest_retrying(engine: Engine, device_id: str, checked: list[_Checked], now: datetime, told: _Clock,
                     verdicts: _Verdicts | None) -> PushResult:
    try:
        return _ingest(engine, device_id, checked, now, told, verdicts)
    except exc.IntegrityError:
        # Another server process stored some of these records between our read and our insert (possible only
        # where the row lock does not cover it); what it stored is now visible, so the batch is re-judged.
        log.info("push from %s raced another process; answering from what is stored", device_id)
    try:
        return _ingest(engine, device_id, checked, now, told, verdicts)
    except exc.IntegrityError:
        # Still refused with nothing racing: a record repeats the uuid of another (a device fault, not a race).
        raise ApiError(422, protocol.E_MALFORMED, "Một bản ghi trùng mã uuid với bản ghi khác của thiết bị",
                       "a record repeats the uuid of another record of this device") from None


def _ingest(engine: Engine, device_id: str, checked: list[_Checked], now: datetime, told: _Clock,
            verdicts: _Verdicts | None) -> PushResult:
    """One transaction; with `verdicts`, it commits only if every signature `checked` assumes good is good."""
    with writing(engine) as conn:
        result = _ingest_on(conn, device_id, checked, now, told)
        if verdicts is not None and not all(ok for c, ok in zip(checked, verdicts.result(), strict=True)
                                            if c.signature_ok):
            raise _Unconfirmed   # leaving the block rolls the transaction back
        return result


def _ingest_on(conn: Connection, device_id: str, checked: list[_Checked], now: datetime,
               told: _Clock) -> PushResult:
    device = conn.execute(
        select(DEVICE.c.acked_seq, DEVICE.c.acked_hash, DEVICE.c.chain_state, DEVICE.c.first_bad_seq,
               DEVICE.c.agency_id, DEVICE.c.counter_id, DEVICE.c.clock_drift_s, DEVICE.c.last_record_at)
        .where(DEVICE.c.id == device_id).with_for_update()).one()
    acked, head = int(device.acked_seq), str(device.acked_hash)
    if device.chain_state == "broken":
        return _refuse_broken(acked, head, int(device.first_bad_seq or 0))
    first = checked[0].record.seq
    if first > acked + 1:
        return _gap(conn, device_id, acked, head, first, already=device.chain_state == "gap"
                    and device.first_bad_seq == acked + 1)
    bad, good, duplicates = _walk(conn, device_id, checked, acked, head)
    outside = _out_of_domain(conn, device_id, good)
    if outside is not None:
        good = [c for c in good if c.record.seq < outside.seq]
        refusal = ApiError(422, protocol.E_OUT_OF_DOMAIN,
                           f"Bản ghi số {outside.seq} nằm ngoài miền giá trị: {outside.vi}. Máy chủ không nhận từ "
                           "bản ghi này trở đi; cán bộ CNTT cần kiểm tra thiết bị",
                           f"record {outside.seq} is outside its domain: {outside.en}. The server accepts nothing "
                           "from this record on; IT must inspect the device", first_bad_seq=outside.seq)
        return _store(conn, device_id, device, good, duplicates, now, told, None, refusal)
    return _store(conn, device_id, device, good, duplicates, now, told, bad, None)


def _walk(conn: Connection, device_id: str, checked: list[_Checked], acked: int,
          head: str) -> tuple[_Break | None, list[_Checked], int]:
    """The first bad record (or None), the new good records before it, and how many duplicates preceded."""
    old_last = min(checked[-1].record.seq, acked)
    stored: dict[int, str] = {}
    if checked[0].record.seq <= old_last:
        rows = conn.execute(select(RECORD.c.seq, RECORD.c.hash).where(
            RECORD.c.device_id == device_id, RECORD.c.seq.between(checked[0].record.seq, old_last)))
        stored = {int(row.seq): str(row.hash) for row in rows}
    expected, prev, duplicates = checked[0].record.seq, head, 0
    good: list[_Checked] = []
    for item in checked:
        record = item.record
        if record.seq != expected:
            return _Break(expected, f"thiếu bản ghi số {expected}: sau số {expected - 1} là số {record.seq}",
                          f"record {expected} is missing: {expected - 1} is followed by {record.seq}"), good, duplicates
        if record.seq <= acked:
            if stored.get(record.seq) != record.hash or not item.hash_ok:
                return _Break(record.seq, "bản ghi khác với bản máy chủ đã nhận trước đó (bị sửa sau khi đồng bộ)",
                              "the record differs from the copy the server received before (changed after sync)"), \
                    good, duplicates
            duplicates += 1
        else:
            link = head if record.seq == acked + 1 else prev
            if record.prev_hash != link:
                return _Break(record.seq, "liên kết tới bản ghi trước không khớp (bản ghi bị chèn, xoá hoặc thay)",
                              "the link to the previous record does not match (inserted, deleted or replaced)"), \
                    good, duplicates
            if not item.hash_ok:
                return _Break(record.seq, "nội dung bản ghi đã bị sửa (mã băm sai)",
                              "the record's content was changed (hash mismatch)"), good, duplicates
            if not item.signature_ok:
                return _Break(record.seq, "chữ ký số của bản ghi không hợp lệ",
                              "the record's signature is not valid"), good, duplicates
            good.append(item)
        prev, expected = record.hash, record.seq + 1
    return None, good, duplicates


# Answers of 1 (yes) or 0 (no), folded into Boolean columns.
_YES_NO = (*YESNO_KEYS, CALLBACK_KEY)
_RATING_ONLY = ("level", "counter_id", "officer_id", "procedure_code", "language")
_ANSWER_ONLY = ("rating_uuid", "question", "value", "text")


def _out_of_domain(conn: Connection, device_id: str, good: list[_Checked]) -> _Break | None:
    """The first genuinely signed record the server cannot file as what it says it is: a time that names no
    instant, a rating or an answer outside its domain (kiosk.domain.levels), an answer to no earlier rating."""
    in_batch = {c.record.uuid for c in good if c.record.kind == "rating"}
    asked = {c.record.rating_uuid for c in good if c.record.kind == "answer"} - in_batch - {None}
    earlier: set[str] = set()   # ratings recorded before the record being looked at
    if asked:
        stored = conn.execute(select(RATING.c.uuid).where(RATING.c.device_id == device_id,
                                                           RATING.c.uuid.in_(sorted(asked))))
        earlier = {str(row.uuid) for row in stored}
    for item in good:
        record = item.record
        problem = _problem(item, earlier)
        if problem is not None:
            return _Break(record.seq, *problem)
        if record.kind == "rating":
            earlier.add(record.uuid)
    return None


def _problem(item: _Checked, earlier_ratings: set[str]) -> tuple[str, str] | None:
    record, fields = item.record, item.fields
    if item.moment is None:
        return (f"thời điểm {record.recorded_at!r} không chỉ một thời điểm có múi giờ",
                f"the time {record.recorded_at!r} does not name an instant with an offset")
    if record.kind == "rating":
        stray = [name for name in _ANSWER_ONLY if fields[name] is not None]
        if stray:
            return f"đánh giá không được có {', '.join(stray)}", f"a rating cannot carry {', '.join(stray)}"
        return rating_problem(record.level, record.language, record.procedure_code)
    stray = [name for name in _RATING_ONLY if fields[name] is not None]
    if record.suspected_repeat or record.is_test:
        stray.append("suspected_repeat" if record.suspected_repeat else "is_test")
    if stray:
        return f"câu trả lời không được có {', '.join(stray)}", f"an answer cannot carry {', '.join(stray)}"
    if record.rating_uuid not in earlier_ratings:
        return (f"câu trả lời cho đánh giá {record.rating_uuid} không có trước nó trên thiết bị",
                f"an answer to rating {record.rating_uuid}, which the device did not record before it")
    return answer_problem(record.question, record.value, record.text)


def _store(conn: Connection, device_id: str, device: Any, good: list[_Checked], duplicates: int, now: datetime,
           told: _Clock, bad: _Break | None, refusal: ApiError | None) -> PushResult:
    acked, head = int(device.acked_seq), str(device.acked_hash)
    changes: dict[str, Any] = {}
    offset_now = None if told.device_time is None else clock.offset_of(told.device_time, now)
    if good:
        records = [c.record for c in good]
        if told.as_written:
            placed = [clock.Placed(c.moment or now, 0.0, c.moment is not None) for c in good]
        else:
            placed = clock.place([c.moment for c in good], received_at=now, offset_now=offset_now,
                                 offset_before=None if device.clock_drift_s is None else -float(device.clock_drift_s),
                                 last_at=device.last_record_at, tolerance_s=told.tolerance_s)
        bulk.insert_rows(conn, RECORD, [{**c.fields, "device_id": device_id, "received_at": now} for c in good])
        _fold_ratings(conn, device_id, device.agency_id, device.counter_id, records, placed, now)
        acked, head = records[-1].seq, records[-1].hash
        trusted = [p.at for p in placed if p.trusted]
        if trusted:
            changes["last_record_at"] = trusted[-1]
    if offset_now is not None:
        drift = -offset_now
        changes.update(clock_drift_s=drift, clock_drift_at=now, clock_flagged=abs(drift) > told.tolerance_s)
    changes.update(acked_seq=acked, acked_hash=head)
    if bad is not None:
        changes.update(chain_state="broken", first_bad_seq=bad.seq, problem_vi=bad.vi, problem_en=bad.en)
    elif refusal is None:
        changes.update(chain_state="intact", first_bad_seq=None, problem_vi="", problem_en="", last_push_at=now)
    conn.execute(update(DEVICE).where(DEVICE.c.id == device_id).values(**changes))
    if bad is not None:
        refusal = _chain_error(bad, acked)
    return PushResult(acked, head, len(good), duplicates, refusal)


def _chain_error(bad: _Break, acked: int) -> ApiError:
    return ApiError(409, protocol.E_CHAIN,
                    f"Chuỗi đánh giá bị hỏng tại bản ghi số {bad.seq}: {bad.vi}. Máy chủ không nhận từ bản ghi này "
                    "trở đi; cán bộ CNTT cần kiểm tra thiết bị",
                    f"the rating chain is broken at record {bad.seq}: {bad.en}. The server accepts nothing from "
                    "this record on; IT must inspect the device", acked_seq=acked, first_bad_seq=bad.seq)


def _refuse_broken(acked: int, head: str, first_bad: int) -> PushResult:
    error = ApiError(409, protocol.E_CHAIN,
                     f"Chuỗi đánh giá của thiết bị này đã hỏng tại bản ghi số {first_bad}; máy chủ không nhận thêm "
                     "cho đến khi cán bộ CNTT xử lý",
                     f"this device's rating chain is broken at record {first_bad}; the server accepts nothing more "
                     "until IT deals with it", acked_seq=acked, first_bad_seq=first_bad)
    return PushResult(acked, head, 0, 0, error)


def _gap(conn: Connection, device_id: str, acked: int, head: str, first: int, *, already: bool) -> PushResult:
    missing = acked + 1
    if already:
        # Told where to resume, the device again sent records after it: the record is not on the device.
        bad = _Break(missing, f"thiết bị không gửi được bản ghi số {missing} (đã bị xoá trên thiết bị?)",
                     f"the device cannot send record {missing} (deleted on the device?)")
        conn.execute(update(DEVICE).where(DEVICE.c.id == device_id).values(
            chain_state="broken", first_bad_seq=missing, problem_vi=bad.vi, problem_en=bad.en))
        return PushResult(acked, head, 0, 0, _chain_error(bad, acked))
    vi = f"máy chủ chờ bản ghi số {missing}, thiết bị gửi từ số {first}"
    en = f"the server expects record {missing}, the device sent from {first}"
    conn.execute(update(DEVICE).where(DEVICE.c.id == device_id).values(
        chain_state="gap", first_bad_seq=missing, problem_vi=vi, problem_en=en))
    error = ApiError(409, protocol.E_GAP, f"Thiếu bản ghi: {vi}; hãy gửi lại từ số {missing}",
                     f"records are missing: {en}; send again from {missing}", acked_seq=acked,
                     first_bad_seq=missing)
    return PushResult(acked, head, 0, 0, error)


def _fold_ratings(conn: Connection, device_id: str, agency_id: int, counter_id: int,
                  records: list[protocol.Record], placed: list[clock.Placed], now: datetime) -> None:
    """One `rating` row per new rating, with every answer folded in (answers to older ratings update them)."""
    ratings: dict[str, dict[str, Any]] = {}
    later: dict[str, dict[str, Any]] = {}
    for r, where in zip(records, placed, strict=True):
        if r.kind == "rating":
            ratings[r.uuid] = {
                "device_id": device_id, "uuid": r.uuid, "seq": r.seq, "agency_id": agency_id,
                "counter_id": counter_id, "counter_code": r.counter_id, "officer_code": r.officer_id,
                "procedure_code": r.procedure_code, "language": r.language, "level": r.level,
                "recorded_at": where.at, "clock_offset_s": where.offset_s, "time_trusted": where.trusted,
                "received_at": now,
                "suspected_repeat": r.suspected_repeat, "is_test": r.is_test,
                **dict.fromkeys((*ANSWER_COLUMNS.values(), "comment")),
            }
            continue
        if r.rating_uuid is None or r.question is None:
            continue
        column, value = _answer(r)
        target = ratings.get(r.rating_uuid)
        if target is None:
            target = later.setdefault(r.rating_uuid, {})
            if column == "procedure_code" and column in target:
                continue  # the first choice stands, as on the device
        elif column == "procedure_code" and target["procedure_code"]:
            continue
        target[column] = value
    totals.insert_ratings(conn, list(ratings.values()))
    _update_answers(conn, device_id, later)


def _answer(record: protocol.Record) -> tuple[str, Any]:
    """The rating column an answer fills and its value (the answer was checked against its domain already)."""
    question = str(record.question)
    if question == COMMENT_KEY:
        return "comment", record.text
    if question == PROCEDURE_KEY:
        return "procedure_code", record.text
    column = ANSWER_COLUMNS[question]
    if question in _YES_NO:  # Boolean columns
        return column, None if record.value is None else bool(record.value)
    return column, record.value


def _update_answers(conn: Connection, device_id: str, later: dict[str, dict[str, Any]]) -> None:
    """Fold answers into ratings stored by earlier batches: one executemany per set of columns answered."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for rating_uuid, answers in later.items():
        columns = tuple(sorted(answers))
        groups.setdefault(columns, []).append(
            {"b_device": device_id, "b_uuid": rating_uuid, **{f"b_{c}": v for c, v in answers.items()}})
    for columns, params in groups.items():
        values: dict[str, Any] = {}
        for column in columns:
            bound: Any = bindparam(f"b_{column}")
            # A procedure given with the rating is kept; one chosen afterwards only fills an empty one.
            values[column] = func.coalesce(RATING.c.procedure_code, bound) if column == "procedure_code" else bound
        statement = (update(RATING).where(RATING.c.device_id == bindparam("b_device"),
                                          RATING.c.uuid == bindparam("b_uuid")).values(values))
        conn.execute(statement, params)
