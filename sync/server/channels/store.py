"""Web and paper answers stored the way a kiosk's are: records of a device the server keeps for each counter and
channel, numbered, chained and signed by the server (sync.server.secret), then walked, checked against their
domains and folded into the ratings and their totals by the same ingest as a kiosk's push.

So every rating, whatever its channel, is one `rating` row with its `record`s behind it; reports tell the
channels apart by the device (`device.channel`). A flagged answer (a reused token, too many from one address, a
browser that already answered, a filled honeypot) is kept with `suspected_repeat` set, which leaves it out of the
counts exactly as a kiosk's double tap is, and the reason is in `survey_response`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, exc, insert, select

from kiosk.domain import chain
from kiosk.domain.keys import public_key_b64
from kiosk.domain.levels import CHANNEL_KEYS, COMMENT_KEY, PROCEDURE_KEY, QUESTION_KEYS, answer_problem, rating_problem
from sync import protocol
from sync.server import registry
from sync.server.db import utc_now, writing
from sync.server.devices import ingest
from sync.server.errors import ServerError
from sync.server.models import COUNTER, DEVICE, SURVEY_RESPONSE
from sync.server.secret import ServerSecret

# The counter a web or paper answer is filed under when it names none: made on demand per agency. Its code
# cannot be typed as a counter code (those start with a letter or digit), so it never clashes with a real one.
NO_COUNTER = "_"
NO_COUNTER_NAME = "Không ghi quầy / No counter given"
SERVER_CHANNELS = tuple(key for key in CHANNEL_KEYS if key != "kiosk")
FLAG_REASONS = ("token_reused", "rate_limited", "repeat_browser", "honeypot")
SOURCES = ("web", "entry", "import", "omr")


class FormConflict(ServerError):
    """A paper form that is already entered, or already waiting as a scan: nothing is stored (HTTP 409)."""


@dataclass(frozen=True)
class Answers:
    """One citizen's answers: the level, any SIPAS elements and the harassment answer (question key -> value), a
    comment, the procedure they came for, and the language they answered in."""

    level: int
    values: Mapping[str, int] = field(default_factory=dict)
    comment: str | None = None
    procedure_code: str | None = None
    language: str = "vi"

    def problem(self) -> tuple[str, str] | None:
        """Why these answers cannot be stored (Vietnamese, English), checked against the one domain of each."""
        found = rating_problem(self.level, self.language, None)
        for key, value in self.values.items():
            if key not in QUESTION_KEYS:
                return f"không có câu hỏi {key!r}", f"there is no question {key!r}"
            found = found or answer_problem(key, value, None)
        if self.comment is not None:
            found = found or answer_problem(COMMENT_KEY, None, self.comment)
        if self.procedure_code is not None:
            found = found or answer_problem(PROCEDURE_KEY, None, self.procedure_code)
        return found


@dataclass(frozen=True)
class Meta:
    """What the server keeps about an answer beyond its records."""

    source: str                      # SOURCES
    flag_reason: str | None = None   # FLAG_REASONS; None: it counts
    token_id: int | None = None
    form_number: int | None = None
    entered_by: str = ""
    image_path: str = ""


@dataclass(frozen=True)
class Stored:
    """A stored answer: its rating's uuid and sequence number on its channel device, and whether it counts."""

    rating_uuid: str
    seq: int
    device_id: str
    counted: bool


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def channel_device(conn: Connection, agency_code: str, counter_code: str | None, channel: str,
                   secret: ServerSecret, now: datetime) -> str:
    """The id of the server's device for this counter (or the agency's no-counter row) and channel, made the first
    time with the public half of its key; locked for the rest of the transaction."""
    if channel not in SERVER_CHANNELS:
        raise ServerError(f"Kênh {channel!r} không do máy chủ ghi; dùng {', '.join(SERVER_CHANNELS)}",
                          f"the server does not record channel {channel!r}; use {', '.join(SERVER_CHANNELS)}")
    owner = registry.agency(conn, agency_code)
    if counter_code is None:
        counter = conn.execute(select(COUNTER.c.id).where(COUNTER.c.agency_id == owner.id,
                                                          COUNTER.c.code == NO_COUNTER)).scalar()
        if counter is None:
            counter = conn.execute(insert(COUNTER).values(agency_id=owner.id, code=NO_COUNTER, name=NO_COUNTER_NAME)
                                   .returning(COUNTER.c.id)).scalar_one()
    else:
        counter = registry.counter_id(conn, owner, counter_code)
    found = conn.execute(select(DEVICE.c.id).where(DEVICE.c.agency_id == owner.id, DEVICE.c.counter_id == counter,
                                                   DEVICE.c.channel == channel).with_for_update()).scalar()
    if found is not None:
        return str(found)
    device_id = str(uuid.uuid4())
    key = secret.signing_key(device_id)
    conn.execute(insert(DEVICE).values(id=device_id, agency_id=owner.id, counter_id=counter, status="active",
                                       public_key=public_key_b64(key.public_key), channel=channel, created_at=now,
                                       enrolled_at=now, hostname=f"(máy chủ / server: {channel})"))
    conn.execute(select(DEVICE.c.id).where(DEVICE.c.id == device_id).with_for_update())
    return device_id


def _records(secret: ServerSecret, device_id: str, after_seq: int, after_hash: str, answers: Answers,
             recorded_at: datetime, repeat: bool, counter_code: str) -> list[protocol.Record]:
    """The rating and its answers as signed records continuing the device's chain."""
    key = secret.signing_key(device_id)
    rating_uuid = str(uuid.uuid4())
    when = _iso(recorded_at)
    fields: list[dict[str, object]] = [{
        "kind": "rating", "uuid": rating_uuid, "level": answers.level, "counter_id": counter_code,
        "officer_id": None, "procedure_code": None, "language": answers.language, "suspected_repeat": repeat,
    }]
    shared = {"kind": "answer", "rating_uuid": rating_uuid}
    fields += [{**shared, "question": key_, "value": value} for key_, value in answers.values.items()]
    if answers.procedure_code is not None:
        fields.append({**shared, "question": PROCEDURE_KEY, "text": answers.procedure_code})
    if answers.comment is not None:
        fields.append({**shared, "question": COMMENT_KEY, "text": answers.comment.strip()})
    made, seq, previous = [], after_seq, after_hash
    for item in fields:
        seq += 1
        record: dict[str, object] = dict.fromkeys(chain.SIGNED_FIELDS)
        record.update(suspected_repeat=False, is_test=False, uuid=str(uuid.uuid4()))
        record.update(item)
        record.update(seq=seq, prev_hash=previous, recorded_at=when)
        body = chain.canonical(record)
        record["hash"] = chain.record_hash(record)
        record["signature"] = key.sign(body)
        previous = str(record["hash"])
        made.append(protocol.Record.model_validate(record))
    return made


def _check(answers: Answers, meta: Meta) -> None:
    problem = answers.problem()
    if problem is not None:
        raise ServerError(problem[0][:1].upper() + problem[0][1:], problem[1][:1].upper() + problem[1][1:])
    if meta.source not in SOURCES or (meta.flag_reason is not None and meta.flag_reason not in FLAG_REASONS):
        raise ServerError(f"Nguồn {meta.source!r} hoặc lý do {meta.flag_reason!r} không hợp lệ",
                          f"invalid source {meta.source!r} or flag reason {meta.flag_reason!r}")


def store(engine: Engine, secret: ServerSecret, *, agency_code: str, counter_code: str | None, channel: str,
          answers: Answers, meta: Meta, recorded_at: datetime | None = None, now: datetime | None = None) -> Stored:
    """Store one citizen's web or paper answers durably, in one transaction; a ServerError (bilingual) for answers
    outside their domain, a place that does not exist, or a paper form already entered (nothing is stored)."""
    _check(answers, meta)
    moment = now or utc_now()
    try:
        return _store(engine, secret, agency_code, counter_code, channel, answers, meta, recorded_at, moment)
    except exc.IntegrityError:
        # Another process made this counter's channel device (or its no-counter row) at the same moment, or
        # stored the same paper form: what it made is visible now, so the answer is judged again.
        return _store(engine, secret, agency_code, counter_code, channel, answers, meta, recorded_at, moment)


def _store(engine: Engine, secret: ServerSecret, agency_code: str, counter_code: str | None, channel: str,
           answers: Answers, meta: Meta, recorded_at: datetime | None, moment: datetime) -> Stored:
    with writing(engine) as conn:
        return store_in(conn, secret, agency_code=agency_code, counter_code=counter_code, channel=channel,
                        answers=answers, meta=meta, recorded_at=recorded_at, now=moment)


def store_in(conn: Connection, secret: ServerSecret, *, agency_code: str, counter_code: str | None, channel: str,
             answers: Answers, meta: Meta, recorded_at: datetime | None, now: datetime) -> Stored:
    """As store(), inside the caller's write transaction (several answers stored all or none: a spreadsheet)."""
    _check(answers, meta)
    device_id = channel_device(conn, agency_code, counter_code, channel, secret, now)
    head = conn.execute(select(DEVICE.c.acked_seq, DEVICE.c.acked_hash, DEVICE.c.agency_id)
                        .where(DEVICE.c.id == device_id)).one()
    if meta.form_number is not None and conn.execute(
            select(SURVEY_RESPONSE.c.rating_uuid).where(SURVEY_RESPONSE.c.agency_id == head.agency_id,
                                                        SURVEY_RESPONSE.c.form_number == meta.form_number)
    ).first() is not None:
        raise FormConflict(f"Phiếu số {meta.form_number} đã được nhập rồi; không nhập lần hai",
                          f"form number {meta.form_number} was entered already; it is not entered twice")
    records = _records(secret, device_id, int(head.acked_seq), str(head.acked_hash), answers,
                       recorded_at or now, meta.flag_reason is not None, counter_code or NO_COUNTER)
    result = ingest.store_own(conn, device_id, records, now)
    if result.error is not None:   # the server's own records: only a fault in this code could get here
        raise ServerError(result.error.body.message_vi, result.error.body.message_en)
    conn.execute(insert(SURVEY_RESPONSE).values(
        device_id=device_id, rating_uuid=records[0].uuid, agency_id=head.agency_id, channel=channel,
        source=meta.source, received_at=now, flag_reason=meta.flag_reason, token_id=meta.token_id,
        form_number=meta.form_number, entered_by=meta.entered_by, image_path=meta.image_path))
    return Stored(records[0].uuid, records[0].seq, device_id, meta.flag_reason is None)
