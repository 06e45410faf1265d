"""Checking the alert rules: the alerts they raise (too many dissatisfied citizens, a harassment report, a silent
kiosk), claimed once, e-mailed, and listed for the dashboard.

A rule belongs to an agency (or one of its counters). A check evaluates every active rule with SQL on `rating`
(test ratings and suspected repeats left out) and `device`, and claims each alert it finds by inserting an
`alert_event` row: UNIQUE(rule_id, occurrence) lets exactly one claim of an occurrence succeed, however many
server processes check at once. Only then is the e-mail sent; a failed send is retried at later checks (until
`[alerts] retry_for_h`) and a sent one (`sent_at` set) is never sent again.

Occurrences, so that each alert is raised once:
- dissatisfied: the share rated 1 or 2 over `share` within the last `window_h` hours, with at least
  `min_ratings` ratings. The key is the window's start bucket (`window:<start rounded down to window_h>`). After
  an alert the count starts afresh from it (`after:<event id>`): the same breach never sends twice, a new breach
  made of later ratings sends again.
- harassment: each rating whose citizen answered yes (key: the rating's uuid), for ratings received from a day
  before the rule was made on (a new rule does not mail the whole past).
- silent: an active device not heard from for more than `window_h` hours (else `[alerts] silent_after_h`, else
  `[fleet] silent_after_h`); key: the device and its last contact, so one silence sends once.

One checker works at a time (a PostgreSQL advisory lock, or a file lock beside a SQLite database), so a retry
is never sent by two processes at once; the UNIQUE claim makes a repeat harmless even without it.

The rules themselves are in rules.py, what they find and the e-mails' words in findings.py, the SMTP session in
mail.py; this module raises, sends and lists alerts.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy import exc as sa_exc

from sync.server.alerts import mail
from sync.server.alerts.findings import Occurrence, evaluate
from sync.server.alerts.rules import KIND_LABELS
from sync.server.cases import reply_mail
from sync.server.cases import store as cases
from sync.server.db import reading, utc_now, writing
from sync.server.models import AGENCY, ALERT_EVENT, ALERT_RULE, COUNTER
from sync.server.settings import ServerSettings

log = logging.getLogger(__name__)
_LOCK_KEY = 0x6B696F736B0A  # the PostgreSQL advisory lock of the checker (arbitrary, fixed)


# ---- what the dashboard shows ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActiveAlert:
    """One alert raised, for the dashboard: the rule's kind and place, the subject, when raised and sent."""

    event_id: int
    rule_id: int
    kind: str
    agency_code: str
    agency_name: str
    counter_code: str | None   # None: the rule watches the whole agency
    counter_name: str | None
    subject: str
    created_at: datetime
    sent_at: datetime | None   # None: not e-mailed (yet); last_error says why
    attempts: int
    last_error: str

    def kind_label(self, lang: str = "vi") -> str:
        """The kind in words."""
        vi, en = KIND_LABELS.get(self.kind, (self.kind, self.kind))
        return en if lang == "en" else vi

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        return data


def active_alerts(engine: Engine, agency_code: str | None = None, since: datetime | None = None, *,
                  limit: int = 50) -> list[ActiveAlert]:
    """Alerts raised since `since` (default: the last 7 days), newest first, for one agency or every one."""
    with reading(engine) as conn:
        return active_alerts_on(conn, agency_code, since, limit=limit)


def active_alerts_on(conn: Connection, agency_code: str | None = None, since: datetime | None = None, *,
                     limit: int = 50) -> list[ActiveAlert]:
    """As active_alerts, read on an open connection (a page's one read transaction)."""
    since = since or utc_now() - timedelta(days=7)
    query = (select(ALERT_EVENT.c.id, ALERT_EVENT.c.rule_id, ALERT_RULE.c.kind, AGENCY.c.code, AGENCY.c.name,
                    COUNTER.c.code.label("counter_code"), COUNTER.c.name.label("counter_name"),
                    ALERT_EVENT.c.subject, ALERT_EVENT.c.created_at, ALERT_EVENT.c.sent_at,
                    ALERT_EVENT.c.attempts, ALERT_EVENT.c.last_error)
             .select_from(ALERT_EVENT.join(ALERT_RULE, ALERT_RULE.c.id == ALERT_EVENT.c.rule_id)
                          .join(AGENCY, AGENCY.c.id == ALERT_RULE.c.agency_id)
                          .outerjoin(COUNTER, COUNTER.c.id == ALERT_RULE.c.counter_id))
             .where(ALERT_EVENT.c.created_at >= since)
             .order_by(ALERT_EVENT.c.created_at.desc(), ALERT_EVENT.c.id.desc()).limit(limit))
    if agency_code is not None:
        query = query.where(AGENCY.c.code == agency_code)
    return [ActiveAlert(r.id, r.rule_id, r.kind, r.code, r.name, r.counter_code, r.counter_name, r.subject,
                        r.created_at, r.sent_at, int(r.attempts), r.last_error) for r in conn.execute(query)]


# ---- raising --------------------------------------------------------------------------------------------------

def claim(engine: Engine, rule_id: int, found: list[Occurrence], now: datetime) -> int:
    """Insert one event per occurrence; one already claimed (by this or another process) is skipped."""
    claimed = 0
    with writing(engine) as conn:
        for occurrence in found:
            try:
                with conn.begin_nested():
                    conn.execute(insert(ALERT_EVENT).values(
                        rule_id=rule_id, occurrence=occurrence.key[:200], created_at=now,
                        subject=occurrence.subject, body=occurrence.body, attempts=0, last_error=""))
                claimed += 1
            except sa_exc.IntegrityError:
                log.info("alert %s of rule %s was already raised", occurrence.key, rule_id)
    return claimed


# ---- sending --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckResult:
    """What one check did: alerts newly raised, e-mails sent, e-mails that failed (and why), or busy."""

    raised: int = 0
    sent: int = 0
    failed: int = 0
    errors: tuple[tuple[str, str], ...] = ()  # (vi, en), one per distinct failure
    busy: bool = False


def _pending(engine: Engine, now: datetime, retry_for: timedelta) -> list[Any]:
    with reading(engine) as conn:
        return list(conn.execute(
            select(ALERT_EVENT.c.id, ALERT_EVENT.c.subject, ALERT_EVENT.c.body, ALERT_EVENT.c.last_error,
                   ALERT_RULE.c.email_to)
            .select_from(ALERT_EVENT.join(ALERT_RULE, ALERT_RULE.c.id == ALERT_EVENT.c.rule_id))
            .where(ALERT_EVENT.c.sent_at.is_(None), ALERT_RULE.c.active,
                   ALERT_EVENT.c.created_at >= now - retry_for)
            .order_by(ALERT_EVENT.c.id)).all())


def _failed(engine: Engine, event_ids: Sequence[int], error: mail.MailError, *, attempted: bool = True) -> None:
    """Record why these alerts were not sent; only attempts and last_error change."""
    message = f"{error.vi} / {error.en}"
    values: dict[str, Any] = {"last_error": message}
    if attempted:
        values["attempts"] = ALERT_EVENT.c.attempts + 1
    with writing(engine) as conn:
        conn.execute(update(ALERT_EVENT).where(ALERT_EVENT.c.id.in_(event_ids), ALERT_EVENT.c.sent_at.is_(None))
                     .values(**values))


def _sent(engine: Engine, event_id: int, now: datetime, refused: str) -> None:
    note = f"Một số địa chỉ từ chối nhận / some recipients refused: {refused}" if refused else ""
    with writing(engine) as conn:
        conn.execute(update(ALERT_EVENT).where(ALERT_EVENT.c.id == event_id, ALERT_EVENT.c.sent_at.is_(None))
                     .values(sent_at=now, attempts=ALERT_EVENT.c.attempts + 1, last_error=note))


def _send_pending(engine: Engine, settings: ServerSettings, now: datetime) -> tuple[int, int, list[tuple[str, str]]]:
    pending = _pending(engine, now, timedelta(hours=settings.alerts.retry_for_h))
    if not pending:
        return 0, 0, []
    if not settings.alerts.smtp_host:
        # Recorded (once) so the dashboard says why nothing went out; sent when a server is set.
        unset = mail.not_configured()
        _failed(engine, [e.id for e in pending if e.last_error != f"{unset.vi} / {unset.en}"], unset,
                attempted=False)
        return 0, 0, []
    mailer = mail.Mailer(settings)
    sent, failures = 0, []
    connected = False
    for index, event in enumerate(pending):
        try:
            if not connected:
                mailer.open()
                connected = True
        except mail.MailError as error:
            # The server cannot be reached now: every alert left waits for the next check, nothing else changes.
            log.error("alert e-mails not sent: %s", error.en)
            _failed(engine, [e.id for e in pending[index:]], error)
            failures.append((error.vi, error.en))
            break
        outgoing = mail.Outgoing(tuple(a for a in event.email_to.split(",") if a), event.subject, event.body,
                                 f"kiosk-alert-{event.id}")
        try:
            refused = mailer.send(outgoing, now)
        except mail.MailError as error:
            log.error("alert %s not sent: %s", event.id, error.en)
            _failed(engine, [event.id], error)
            failures.append((error.vi, error.en))
            mailer.close()  # the session may be unusable after a failure: the next alert opens a new one
            connected = False
            continue
        _sent(engine, event.id, now, refused)
        sent += 1
        log.info("alert %s sent to %s", event.id, event.email_to)
    mailer.close()
    return sent, len(failures), list(dict.fromkeys(failures))


def _until(take: Callable[[], bool], deadline: float) -> bool:
    """Try `take` every tenth of a second until it succeeds (True) or the deadline passes (False)."""
    while not take():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


@contextmanager
def _exclusive(engine: Engine, wait_s: float) -> Iterator[bool]:
    """Whether this process may check now: one checker at a time across every server process."""
    deadline = time.monotonic() + wait_s
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            # A transaction-level lock: released at the rollback below or if this process dies.
            got = _until(lambda: bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                                   {"key": _LOCK_KEY}).scalar()), deadline)
            try:
                yield got
            finally:
                conn.rollback()
        return
    database = engine.url.database or "server.db"
    with Path(f"{database}-alerts.lock").open("a+b") as handle:

        def take() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        got = _until(take, deadline)
        try:
            yield got
        finally:
            if got:
                fcntl.flock(handle, fcntl.LOCK_UN)


def check(engine: Engine, settings: ServerSettings, *, now: datetime | None = None,
          wait_s: float = 60.0) -> CheckResult:
    """Evaluate every active rule, claim what is new, send what is unsent; busy if another checker holds on."""
    with _exclusive(engine, wait_s) as mine:
        if not mine:
            return CheckResult(busy=True)
        moment = now or utc_now()
        cases.sync_from_ratings(engine, settings)   # so new comments are cases before case_overdue looks
        with reading(engine) as conn:
            rule_ids: list[int] = list(conn.execute(select(ALERT_RULE.c.id).where(ALERT_RULE.c.active)
                                                    .order_by(ALERT_RULE.c.id)).scalars())
        raised = 0
        for rule_id in rule_ids:
            found = evaluate(engine, settings, rule_id, moment)
            if found:
                raised += claim(engine, rule_id, found, moment)
        sent, failed, errors = _send_pending(engine, settings, moment)
        reply_mail.send_pending(engine, settings, moment)   # the replies to citizens wait and retry the same way
        return CheckResult(raised, sent, failed, tuple(errors))


class BackgroundChecker:
    """Checks the rules every `[alerts] check_interval_s` on a daemon thread while `kiosk-server run` serves."""

    def __init__(self, engine: Engine, settings: ServerSettings) -> None:
        self.engine = engine
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start checking (nothing when check_interval_s is 0)."""
        interval = self.settings.alerts.check_interval_s
        if interval <= 0 or self._thread is not None:
            return
        mail.warn_about_password_file(self.settings)  # said at start, not only when an alert is first sent
        self._thread = threading.Thread(target=self._loop, args=(interval,), name="alert-checker", daemon=True)
        self._thread.start()

    def _loop(self, interval: float) -> None:
        delay = min(interval, 10.0)  # soon after start, so a restart does not delay alerts by a full interval
        while not self._stop.wait(delay):
            delay = interval
            try:
                # Another process checking right now is enough: this one waits for its next turn.
                check(self.engine, self.settings, wait_s=0)
            except sa_exc.SQLAlchemyError as error:
                reason = str(getattr(error, "orig", None) or error).strip().splitlines()[:1]
                log.error("alert check: the database is unavailable (%s); trying again in %g s",
                          reason[0] if reason else type(error).__name__, interval)
            except Exception:
                log.exception("alert check failed; trying again in %g s", interval)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the check in progress (waiting at most `timeout` seconds: the thread is a daemon)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
