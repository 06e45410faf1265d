"""Cases: made from the ratings, listed, moved through their statuses, and counted.

Made lazily and idempotently by `sync_from_ratings` (run when the staff open the cases pages, by `kiosk-server
cases sync` and by each alert check), not at ingest: a push stays as fast as it was. A rating gives at most one
`harassment` case (harassment answer yes) and one `comment` case (a comment that is not a harassment report; a
callback request is a comment case with the contact the citizen left). UNIQUE(device_id, rating_uuid, kind) with
INSERT … ON CONFLICT DO NOTHING makes two workers making cases at once make each once.

Statuses: new → assigned → answered → closed (a case may also be answered or closed straight from new, and
reassigned while assigned). Every change is one UPDATE … WHERE status = <the status the staff saw> AND version =
<the version they saw>: a change made by someone else in between is refused, never overwritten.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, exists, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kiosk.domain.levels import CALLBACK_KEY, CHANNELS_BY_KEY, HARASSMENT_KEY, LEVELS
from sync.server.cases import workdays
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import AGENCY, CASE_EVENT, COMMENTED, COUNTER, DEVICE, FEEDBACK_CASE, RATING
from sync.server.results.comments import contacts_in, mask
from sync.server.settings import ServerSettings, report_timezone

KINDS = ("comment", HARASSMENT_KEY)
KIND_LABELS = {"comment": ("Góp ý", "Comment"), HARASSMENT_KEY: ("Phản ánh phiền hà, sách nhiễu", "Harassment report")}
STATUSES = ("new", "assigned", "answered", "closed")
STATUS_LABELS = {"new": ("Mới", "New"), "assigned": ("Đã giao", "Assigned"), "answered": ("Đã trả lời", "Answered"),
                 "closed": ("Đã đóng", "Closed")}
OPEN = ("new", "assigned")
# What each action may start from and where it leads.
TRANSITIONS = {"assign": (OPEN, "assigned"), "answer": (OPEN, "answered"), "close": (("new", "assigned", "answered"),
                                                                                     "closed")}
ACTION_LABELS = {"create": ("Tạo từ đánh giá", "Made from the rating"), "assign": ("Giao xử lý", "Assigned"),
                 "answer": ("Trả lời", "Answered"), "close": ("Đóng", "Closed"),
                 "mail": ("Gửi thư trả lời", "Reply e-mailed"), "publish": ("Công khai", "Published"),
                 "withdraw": ("Gỡ công khai", "Withdrawn"),
                 "requeue": ("Cho gửi lại thư trả lời", "Reply e-mail queued again")}
MAX_REPLY = 10_000
MAX_ASSIGNEE = 200
MAX_NOTE = 2_000
BATCH = 500


class CaseError(ServerError):
    """A change to a case that was refused, and why (Vietnamese first, English second)."""


class CaseConflict(CaseError):
    """The case changed since the page showing it was loaded."""


@dataclass(frozen=True)
class CaseEvent:
    """One line of a case's history."""

    at: datetime
    actor: str
    action: str
    from_status: str
    to_status: str
    note: str


@dataclass(frozen=True)
class Case:
    """A case as the pages and commands show it."""

    id: int
    agency_code: str
    agency_name: str
    counter_name: str
    kind: str
    channel: str
    level: int
    text: str
    contact_phone: str
    contact_email: str
    recorded_at: datetime
    due_on: date
    status: str
    assignee: str
    reply: str
    replied_at: datetime | None
    mail_status: str
    mail_error: str
    published_question: str | None
    published_reply: str | None
    published_at: datetime | None
    version: int
    rating_uuid: str
    events: tuple[CaseEvent, ...] = field(default=())

    def overdue(self, today: date) -> bool:
        """Not answered or closed, and past the last working day to answer on."""
        return self.status in OPEN and today > self.due_on

    def level_label(self) -> tuple[str, str]:
        """The satisfaction level in words."""
        level = next(lv for lv in LEVELS if lv.value == self.level)
        return level.label_vi, level.label_en

    def channel_label(self) -> tuple[str, str]:
        """The channel in words."""
        channel = CHANNELS_BY_KEY.get(self.channel)
        return (channel.label_vi, channel.label_en) if channel else (self.channel, self.channel)

    def masked_text(self) -> str:
        """The citizen's text with phone numbers and e-mail addresses masked (for publishing)."""
        return mask(self.text)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, without the history."""
        return {"id": self.id, "agency": self.agency_code, "counter": self.counter_name, "kind": self.kind,
                "channel": self.channel, "level": self.level, "text": self.text, "phone": self.contact_phone,
                "email": self.contact_email, "recorded_at": self.recorded_at.isoformat(),
                "due_on": self.due_on.isoformat(), "status": self.status, "assignee": self.assignee,
                "reply": self.reply, "replied_at": self.replied_at.isoformat() if self.replied_at else None,
                "mail_status": self.mail_status, "published": self.published_at is not None}


def _zone(settings: ServerSettings) -> ZoneInfo:
    return ZoneInfo(report_timezone(settings))


def today(settings: ServerSettings, now: datetime | None = None) -> date:
    """Today's date in the report time zone."""
    return (now or utc_now()).astimezone(_zone(settings)).date()


def _insert(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(FEEDBACK_CASE)


def sync_from_ratings(engine: Engine, settings: ServerSettings, *, limit: int = 20_000) -> int:
    """Make the cases of every rating that has a comment or a harassment report and no case yet; how many were made.

    Test ratings make none. Safe to run from several processes at once (each case is made once)."""
    zone = _zone(settings)
    holidays, working = workdays.calendar(settings)
    days = settings.cases.answer_within_days
    made = 0
    for kind, wanted in ((HARASSMENT_KEY, RATING.c[HARASSMENT_KEY].is_(True)),
                         ("comment", and_(COMMENTED, or_(RATING.c[HARASSMENT_KEY].is_(None),
                                                         RATING.c[HARASSMENT_KEY].is_(False))))):
        has_case = exists().where(FEEDBACK_CASE.c.device_id == RATING.c.device_id,
                                  FEEDBACK_CASE.c.rating_uuid == RATING.c.uuid, FEEDBACK_CASE.c.kind == kind)
        while made < limit:
            with reading(engine) as conn:
                rows = conn.execute(
                    select(RATING.c.device_id, RATING.c.uuid, RATING.c.agency_id, RATING.c.counter_id,
                           RATING.c.level, RATING.c.comment, RATING.c[CALLBACK_KEY].label("callback"),
                           RATING.c.recorded_at, RATING.c.received_at, DEVICE.c.channel)
                    .select_from(RATING.join(DEVICE, DEVICE.c.id == RATING.c.device_id))
                    .where(wanted, RATING.c.is_test.is_(False), ~has_case)
                    .order_by(RATING.c.recorded_at, RATING.c.uuid).limit(BATCH)).all()
            if not rows:
                break
            values = []
            for r in rows:
                text = r.comment or ""
                phone, email = contacts_in(text) if r.callback else ("", "")
                values.append({
                    "agency_id": r.agency_id, "counter_id": r.counter_id, "device_id": r.device_id,
                    "rating_uuid": r.uuid, "kind": kind, "channel": r.channel or "kiosk", "level": r.level,
                    "text": text, "contact_phone": phone[:40], "contact_email": email[:200],
                    "recorded_at": r.recorded_at, "received_at": r.received_at,
                    "due_on": workdays.due_date(r.recorded_at.astimezone(zone).date(), days, holidays, working),
                    "status": "new"})
            with writing(engine) as conn:
                for value in values:
                    statement = _insert(conn).values(**value).on_conflict_do_nothing(
                        index_elements=["device_id", "rating_uuid", "kind"]).returning(FEEDBACK_CASE.c.id)
                    case_id = conn.execute(statement).scalar()
                    if case_id is not None:
                        conn.execute(insert(CASE_EVENT).values(case_id=case_id, at=value["received_at"],
                                                               actor="", action="create", to_status="new"))
                        made += 1
            if len(rows) < BATCH:
                break
    _refresh_new(engine)
    return made


def _refresh_new(engine: Engine) -> None:
    """Bring cases nobody has touched yet up to date with their rating: a comment or a callback request that
    arrived in a later push than the rating (the kiosk pushes between the comment and the callback screens)."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(FEEDBACK_CASE.c.id, FEEDBACK_CASE.c.version, FEEDBACK_CASE.c.text, FEEDBACK_CASE.c.contact_phone,
                   FEEDBACK_CASE.c.contact_email, RATING.c.comment, RATING.c[CALLBACK_KEY].label("callback"))
            .select_from(FEEDBACK_CASE.join(RATING, and_(RATING.c.device_id == FEEDBACK_CASE.c.device_id,
                                                         RATING.c.uuid == FEEDBACK_CASE.c.rating_uuid)))
            .where(FEEDBACK_CASE.c.status == "new",
                   or_(func.coalesce(RATING.c.comment, "") != FEEDBACK_CASE.c.text,
                       and_(RATING.c[CALLBACK_KEY].is_(True), FEEDBACK_CASE.c.contact_phone == "",
                            FEEDBACK_CASE.c.contact_email == "")))
            .limit(BATCH)).all()
    for r in rows:
        text = r.comment or ""
        phone, email = contacts_in(text) if r.callback else ("", "")
        if (text, phone[:40], email[:200]) == (r.text, r.contact_phone, r.contact_email):
            continue
        with writing(engine) as conn:   # only if still untouched: an officer's change always wins
            conn.execute(update(FEEDBACK_CASE).where(
                FEEDBACK_CASE.c.id == r.id, FEEDBACK_CASE.c.status == "new", FEEDBACK_CASE.c.version == r.version)
                .values(text=text, contact_phone=phone[:40], contact_email=email[:200],
                        version=FEEDBACK_CASE.c.version + 1))


def _select() -> Any:
    return (select(FEEDBACK_CASE, AGENCY.c.code.label("agency_code"), AGENCY.c.name.label("agency_name"),
                   COUNTER.c.name.label("counter_name"))
            .select_from(FEEDBACK_CASE.join(AGENCY, AGENCY.c.id == FEEDBACK_CASE.c.agency_id)
                         .join(COUNTER, COUNTER.c.id == FEEDBACK_CASE.c.counter_id)))


def _case(row: Any, events: Sequence[CaseEvent] = ()) -> Case:
    return Case(row.id, row.agency_code, row.agency_name, row.counter_name, row.kind, row.channel, int(row.level),
                row.text, row.contact_phone, row.contact_email, row.recorded_at, row.due_on, row.status,
                row.assignee, row.reply, row.replied_at, row.mail_status, row.mail_error, row.published_question,
                row.published_reply, row.published_at, int(row.version), row.rating_uuid, tuple(events))


def list_cases(engine: Engine, settings: ServerSettings, *, status: str = "", agency: str = "",
               overdue: bool = False, now: datetime | None = None, limit: int = 500) -> list[Case]:
    """Cases newest first, of one status and agency if given; `overdue`: only open cases past their due date."""
    if status and status not in STATUSES:
        raise CaseError(f"Trạng thái {status!r} không có; dùng {', '.join(STATUSES)}",
                        f"no status {status!r}; use {', '.join(STATUSES)}")
    query = _select()
    if status:
        query = query.where(FEEDBACK_CASE.c.status == status)
    if agency:
        query = query.where(AGENCY.c.code == agency)
    if overdue:
        query = query.where(FEEDBACK_CASE.c.status.in_(OPEN), FEEDBACK_CASE.c.due_on < today(settings, now))
    with reading(engine) as conn:
        rows = conn.execute(query.order_by(FEEDBACK_CASE.c.recorded_at.desc(), FEEDBACK_CASE.c.id.desc())
                            .limit(limit)).all()
    return [_case(row) for row in rows]


def get_case(engine: Engine, case_id: int) -> Case:
    """One case with its history (oldest first); a CaseError when there is none."""
    with reading(engine) as conn:
        row = conn.execute(_select().where(FEEDBACK_CASE.c.id == case_id)).first()
        if row is None:
            raise CaseError(f"Không có phản ánh số {case_id}", f"no case number {case_id}")
        events = [CaseEvent(e.at, e.actor, e.action, e.from_status, e.to_status, e.note) for e in conn.execute(
            select(CASE_EVENT).where(CASE_EVENT.c.case_id == case_id).order_by(CASE_EVENT.c.id))]
    return _case(row, events)


def _text(value: str, limit: int, what: tuple[str, str], *, required: bool) -> str:
    value = value.replace("\r\n", "\n").strip()
    if required and not value:
        raise CaseError(f"Cần nhập {what[0]}", f"{what[1]} is needed")
    if len(value) > limit:
        raise CaseError(f"{what[0].capitalize()} dài quá {limit} ký tự", f"{what[1]} is longer than {limit} characters")
    return value


def _change(engine: Engine, case_id: int, action: str, actor: str, version: int, values: dict[str, Any],
            note: str, *, allowed: Sequence[str], to_status: str | None, now: datetime) -> Case:
    """Apply one change in a single conditional UPDATE, with its history line; refused if the case moved on."""
    current = get_case(engine, case_id)
    if current.status not in allowed:
        label = STATUS_LABELS[current.status]
        verb = ACTION_LABELS[action]
        raise CaseError(f"Không thể «{verb[0].lower()}» phản ánh số {case_id} đang ở trạng thái «{label[0]}»",
                        f"case {case_id} cannot be {verb[1].lower()} while it is '{label[1]}'")
    new_status = to_status or current.status
    with writing(engine) as conn:
        done = conn.execute(update(FEEDBACK_CASE).where(
            FEEDBACK_CASE.c.id == case_id, FEEDBACK_CASE.c.status == current.status,
            FEEDBACK_CASE.c.version == version).values(**values, status=new_status,
                                                       version=FEEDBACK_CASE.c.version + 1)).rowcount
        if done != 1:
            raise CaseConflict(f"Phản ánh số {case_id} vừa được người khác thay đổi; hãy tải lại trang và làm lại",
                               f"case {case_id} was just changed by someone else; reload the page and try again")
        conn.execute(insert(CASE_EVENT).values(case_id=case_id, at=now, actor=actor, action=action,
                                               from_status=current.status, to_status=new_status, note=note))
    return get_case(engine, case_id)


def assign(engine: Engine, case_id: int, *, assignee: str, actor: str, version: int,
           now: datetime | None = None) -> Case:
    """Give the case to a unit or person (free text, e.g. 'Bộ phận Một cửa — chị Lan')."""
    who = _text(assignee, MAX_ASSIGNEE, ("người hoặc bộ phận được giao", "the unit or person to assign to"),
                required=True)
    allowed, to_status = TRANSITIONS["assign"]
    return _change(engine, case_id, "assign", actor, version, {"assignee": who}, who, allowed=allowed,
                   to_status=to_status, now=now or utc_now())


def answer(engine: Engine, case_id: int, *, reply: str, actor: str, version: int,
           now: datetime | None = None) -> Case:
    """Record the written reply; when the citizen left an e-mail address it is queued to be sent (once)."""
    text = _text(reply, MAX_REPLY, ("nội dung trả lời", "the reply"), required=True)
    moment = now or utc_now()
    current = get_case(engine, case_id)
    values = {"reply": text, "replied_at": moment, "replied_by": actor,
              "mail_status": "pending" if current.contact_email else ""}
    allowed, to_status = TRANSITIONS["answer"]
    return _change(engine, case_id, "answer", actor, version, values, "", allowed=allowed, to_status=to_status,
                   now=moment)


def close(engine: Engine, case_id: int, *, actor: str, version: int, note: str = "",
          now: datetime | None = None) -> Case:
    """Close the case: after it was answered, or without a reply with the reason why (e.g. not a request)."""
    current = get_case(engine, case_id)
    why = _text(note, MAX_NOTE, ("lý do đóng khi chưa trả lời", "the reason to close without a reply"),
                required=current.status in OPEN)
    moment = now or utc_now()
    allowed, to_status = TRANSITIONS["close"]
    return _change(engine, case_id, "close", actor, version, {"closed_at": moment}, why, allowed=allowed,
                   to_status=to_status, now=moment)


def publish(engine: Engine, case_id: int, *, question: str, actor: str, version: int, reply: str | None = None,
            now: datetime | None = None) -> Case:
    """Publish the question and the reply as the staff edited them (names taken out; contacts masked again; the
    reply as written when `reply` is None); frozen until withdrawn."""
    current = get_case(engine, case_id)
    if current.published_at is not None:
        raise CaseError(f"Phản ánh số {case_id} đã công khai; muốn sửa thì gỡ xuống rồi công khai lại",
                        f"case {case_id} is already published; withdraw it and publish again to change it")
    if not current.reply:
        raise CaseError("Chỉ công khai được phản ánh đã có trả lời", "only a case with a reply can be published")
    asked = mask(_text(question, MAX_REPLY, ("câu hỏi để công khai", "the question to publish"), required=True))
    moment = now or utc_now()
    answered = mask(_text(current.reply if reply is None else reply, MAX_REPLY,
                          ("câu trả lời để công khai", "the reply to publish"), required=True))
    values = {"published_question": asked, "published_reply": answered, "published_at": moment,
              "published_by": actor}
    return _change(engine, case_id, "publish", actor, version, values, "", allowed=("answered", "closed"),
                   to_status=None, now=moment)


def withdraw(engine: Engine, case_id: int, *, actor: str, version: int, now: datetime | None = None) -> Case:
    """Take a published case off the public page (it can be published again, edited)."""
    current = get_case(engine, case_id)
    if current.published_at is None:
        raise CaseError(f"Phản ánh số {case_id} chưa công khai", f"case {case_id} is not published")
    values = {"published_question": None, "published_reply": None, "published_at": None, "published_by": ""}
    return _change(engine, case_id, "withdraw", actor, version, values, "", allowed=STATUSES, to_status=None,
                   now=now or utc_now())


def published(engine: Engine, agency_code: str, limit: int = 50) -> list[tuple[str, str, datetime]]:
    """An agency's published questions and replies, newest first."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(FEEDBACK_CASE.c.published_question, FEEDBACK_CASE.c.published_reply, FEEDBACK_CASE.c.published_at)
            .select_from(FEEDBACK_CASE.join(AGENCY, AGENCY.c.id == FEEDBACK_CASE.c.agency_id))
            .where(AGENCY.c.code == agency_code, FEEDBACK_CASE.c.published_at.is_not(None))
            .order_by(FEEDBACK_CASE.c.published_at.desc()).limit(limit)).all()
    return [(str(r.published_question), str(r.published_reply), r.published_at) for r in rows]


@dataclass(frozen=True)
class CaseFigures:
    """One agency's cases received in a period: how many, answered, answered on time, median working days."""

    agency_code: str
    agency_name: str
    received: int
    answered: int
    on_time: int
    open_overdue: int
    median_days: float | None   # working days from the day received to the day answered, answered cases only

    def as_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"agency": self.agency_code, "received": self.received, "answered": self.answered,
                "on_time": self.on_time, "open_overdue": self.open_overdue, "median_working_days": self.median_days}


def report(engine: Engine, settings: ServerSettings, first: date, last: date, agency: str = "",
           now: datetime | None = None) -> list[CaseFigures]:
    """Per agency, the cases received between `first` and `last` (inclusive, report time zone) and their handling.

    Answered on time: replied on or before the due date. Days to answer are working days (the due dates' rule),
    counted from the day received to the day of the reply; the median is over the answered cases."""
    zone = _zone(settings)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last, datetime.min.time(), zone)
    from datetime import timedelta
    end += timedelta(days=1)
    holidays, working = workdays.calendar(settings)
    day_now = today(settings, now)
    query = (select(FEEDBACK_CASE.c.recorded_at, FEEDBACK_CASE.c.replied_at, FEEDBACK_CASE.c.due_on,
                    FEEDBACK_CASE.c.status, AGENCY.c.code, AGENCY.c.name)
             .select_from(FEEDBACK_CASE.join(AGENCY, AGENCY.c.id == FEEDBACK_CASE.c.agency_id))
             .where(FEEDBACK_CASE.c.recorded_at >= start, FEEDBACK_CASE.c.recorded_at < end))
    if agency:
        query = query.where(AGENCY.c.code == agency)
    with reading(engine) as conn:
        if agency and conn.execute(select(AGENCY.c.id).where(AGENCY.c.code == agency)).first() is None:
            raise CaseError(f"Không có cơ quan {agency!r}", f"no agency {agency!r}")
        rows = conn.execute(query).all()
    by_agency: dict[str, list[Any]] = {}
    names: dict[str, str] = {}
    for r in rows:
        by_agency.setdefault(r.code, []).append(r)
        names[r.code] = r.name
    figures = []
    for code in sorted(by_agency):
        cases = by_agency[code]
        answered = [c for c in cases if c.replied_at is not None]
        days = [workdays.working_days_between(c.recorded_at.astimezone(zone).date(),
                                              c.replied_at.astimezone(zone).date(), holidays, working)
                for c in answered]
        on_time = sum(1 for c in answered if c.replied_at.astimezone(zone).date() <= c.due_on)
        overdue = sum(1 for c in cases if c.status in OPEN and day_now > c.due_on)
        figures.append(CaseFigures(code, names[code], len(cases), len(answered), on_time, overdue,
                                   float(statistics.median(days)) if days else None))
    return figures
