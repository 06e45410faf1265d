"""What an alert rule finds: each occurrence with its unique key and the e-mail that tells of it.

Evaluated by SQL on `rating` (test ratings and suspected repeats left out, as in the reports) and on `device`.
The keys make each alert raised once (see checker.py): a dissatisfied breach is keyed by its window's
start bucket (`window:…`), or by the alert it follows (`after:<event id>`: after an alert the count starts
afresh, so the same ratings never alert twice); a harassment report by its rating's uuid; a silence by the
device and its last contact; a month below the agency's target by the month (`month:YYYY-MM`, the last
completed calendar month in the report time zone, judged against that year's target as the dashboard does). The
e-mails are Vietnamese first, then English, with times in the report time zone
(Vietnam time by default) and a link to the dashboard or the fleet page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, String, and_, case, exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from kiosk.domain.levels import CHANNELS_BY_KEY, HARASSMENT_KEY, LEVELS
from sync.server.alerts.rules import hours_text, pct, rules_select, silent_after_h
from sync.server.db import reading
from sync.server.models import (
    ALERT_EVENT,
    ALERT_RULE,
    COUNTER,
    DEVICE,
    FEEDBACK_CASE,
    HARASSMENT_REPORTED,
    OFFICER,
    PROCEDURE_INFO,
    RATING,
)
from sync.server.results import targets
from sync.server.results.charts import percent
from sync.server.results.comments import mask
from sync.server.results.scope import of_channel
from sync.server.settings import ServerSettings, report_timezone

DASHBOARD_PATH = "/dashboard"
FLEET_PATH = "/fleet"
CASES_PATH = "/phan-anh"
# Harassment reports are looked for among ratings recorded this long ago at most (the index range), and among
# those received from this long before the rule was made.
HARASSMENT_LOOKBACK = timedelta(days=31)
HARASSMENT_BEFORE_RULE = timedelta(hours=24)
MAX_PER_RULE = 200  # occurrences claimed per rule and check: a flood is still bounded


@dataclass(frozen=True)
class Occurrence:
    """One alert a rule found: its key (unique per rule) and the e-mail that tells of it."""

    key: str
    subject: str
    body: str


@dataclass(frozen=True)
class _Context:
    settings: ServerSettings
    now: datetime
    zone: ZoneInfo
    base_url: str

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M %d/%m/%Y")

    def zone_words(self) -> tuple[str, str]:
        if self.zone.key == "Asia/Ho_Chi_Minh":
            return "giờ Việt Nam", "Vietnam time"
        return f"giờ {self.zone.key}", f"{self.zone.key} time"

    def dashboard(self, agency_code: str, day: datetime, group: str) -> str:
        params = {"period": "day", "date": day.astimezone(self.zone).date().isoformat(), "group": group,
                  "agency": agency_code}
        return f"{self.base_url}{DASHBOARD_PATH}?{urlencode(params)}"


def _base_url(settings: ServerSettings) -> str:
    if settings.server.public_url:
        return settings.server.public_url.rstrip("/")
    return f"http://{settings.server.host}:{settings.server.port}"


def _rating_filter(rule: Any) -> list[ColumnElement[bool]]:
    """The rule's agency or counter, without test ratings and suspected repeats (as the reports count)."""
    conditions = [RATING.c.agency_id == rule.agency_id, RATING.c.is_test.is_(False),
                  RATING.c.suspected_repeat.is_(False)]
    if rule.counter_id is not None:
        conditions.append(RATING.c.counter_id == rule.counter_id)
    if rule.channel is not None:
        conditions.append(of_channel(RATING, rule.channel))
    return conditions


def _mail_text(vi_lines: Sequence[str], en_lines: Sequence[str], rule: Any) -> str:
    footer_vi = (f"Quy tắc cảnh báo #{rule.id}. Thư gửi tự động, một lần cho mỗi lần cảnh báo; "
                 "gỡ quy tắc bằng «kiosk-server alert remove " f"{rule.id}».")
    footer_en = (f"Alert rule #{rule.id}. Sent automatically, once per alert; "
                 f"remove the rule with 'kiosk-server alert remove {rule.id}'.")
    return "\n".join([*vi_lines, "", footer_vi, "", "— English —", "", *en_lines, "", footer_en, ""])


def _place(rule: Any, counter_code: str | None = None, counter_name: str | None = None) -> tuple[str, str]:
    code = counter_code if counter_code is not None else rule.counter_code
    name = counter_name if counter_name is not None else rule.counter_name
    agency = f"{rule.agency_name} ({rule.agency_code})"
    vi, en = ((f"{agency}, toàn cơ quan", f"{agency}, whole agency") if code is None
              else (f"{name} ({code}) — {agency}", f"{name} ({code}) — {agency}"))
    if rule.channel is None:
        return vi, en
    channel = CHANNELS_BY_KEY[rule.channel]
    return f"{vi}, kênh {channel.label_vi}", f"{en}, channel: {channel.label_en}"


def _short_place(rule: Any, counter_name: str | None = None) -> str:
    """The place in a subject line, short enough to read in a mail list: the counter and agency code."""
    name = counter_name if counter_name is not None else rule.counter_name
    return rule.agency_name if name is None else f"{name}, {rule.agency_code}"


def _level_words(counts: Sequence[int]) -> tuple[str, str]:
    """'Rất hài lòng 1, …' in both languages, best first, from counts indexed by level - 1."""
    return (", ".join(f"{lv.label_vi} {counts[lv.value - 1]}" for lv in LEVELS),
            ", ".join(f"{lv.label_en} {counts[lv.value - 1]}" for lv in LEVELS))


def _dissatisfied(conn: Connection, ctx: _Context, rule: Any) -> list[Occurrence]:
    window = timedelta(hours=float(rule.window_h))
    start = ctx.now - window
    last = conn.execute(select(ALERT_EVENT.c.id, ALERT_EVENT.c.created_at).where(ALERT_EVENT.c.rule_id == rule.id)
                        .order_by(ALERT_EVENT.c.created_at.desc(), ALERT_EVENT.c.id.desc()).limit(1)).first()
    if last is not None and last.created_at > start:
        # The ratings that set off the last alert are not counted again: only a new breach sends again.
        start, key = last.created_at, f"after:{last.id}"
    else:
        size = window.total_seconds()
        bucket = datetime.fromtimestamp(math.floor(start.timestamp() / size) * size, UTC)
        key = f"window:{bucket:%Y-%m-%dT%H:%M:%SZ}"
    where = [*_rating_filter(rule), RATING.c.recorded_at > start, RATING.c.recorded_at <= ctx.now]
    bad = func.coalesce(func.sum(case((RATING.c.level <= 2, 1), else_=0)), 0).label("bad")
    row = conn.execute(select(func.count(), *(func.coalesce(func.sum(case((RATING.c.level == v, 1), else_=0)), 0)
                                              for v in range(1, 6))).where(*where)).one()
    total, counts = int(row[0]), [int(v) for v in row[1:]]
    unhappy = counts[0] + counts[1]
    if total < int(rule.min_ratings) or total == 0 or unhappy / total <= float(rule.share):
        return []
    officers = conn.execute(
        select(RATING.c.officer_code, OFFICER.c.name, func.count().label("n"), bad)
        .select_from(RATING.outerjoin(OFFICER, and_(OFFICER.c.agency_id == RATING.c.agency_id,
                                                    OFFICER.c.code == RATING.c.officer_code)))
        .where(*where).group_by(RATING.c.officer_code, OFFICER.c.name)
        .order_by(bad.desc(), RATING.c.officer_code)).all()
    share = unhappy / total
    where_vi, where_en = _place(rule)
    zone_vi, zone_en = ctx.zone_words()
    levels_vi, levels_en = _level_words(counts)
    since_text = ctx.local(start)
    vi = [f"CẢNH BÁO: tỷ lệ người dân không hài lòng cao tại {where_vi}.", "",
          f"Từ {since_text} đến {ctx.local(ctx.now)} ({zone_vi}): {unhappy}/{total} lượt đánh giá «Không hài "
          f"lòng» hoặc «Rất không hài lòng» ({pct(share)}), vượt ngưỡng {pct(rule.share)} "
          f"(quy tắc: trong {hours_text(rule.window_h)} giờ, ít nhất {rule.min_ratings} lượt).",
          f"Các mức: {levels_vi}."]
    en = [f"ALERT: a high share of dissatisfied citizens at {where_en}.", "",
          f"From {since_text} to {ctx.local(ctx.now)} ({zone_en}): {unhappy} of {total} ratings were "
          f"'Dissatisfied' or 'Very dissatisfied' ({pct(share)}), over the threshold of {pct(rule.share)} "
          f"(rule: within {hours_text(rule.window_h)} h, at least {rule.min_ratings} ratings).",
          f"Levels: {levels_en}."]
    if officers:
        vi += ["", "Theo cán bộ trực:"]
        en += ["", "By officer on duty:"]
        for o in officers:
            who_vi = f"{o.officer_code} {o.name or ''}".strip() if o.officer_code else "(không ghi cán bộ)"
            who_en = f"{o.officer_code} {o.name or ''}".strip() if o.officer_code else "(no officer recorded)"
            vi.append(f"  - {who_vi}: {o.bad}/{o.n} lượt không hài lòng")
            en.append(f"  - {who_en}: {o.bad} of {o.n} dissatisfied")
    link = ctx.dashboard(rule.agency_code, ctx.now, "officer")
    vi += ["", f"Xem trên trang tổng hợp: {link}"]
    en += ["", f"See the dashboard: {link}"]
    short = _short_place(rule)
    subject = f"[Cảnh báo] {pct(share)} không hài lòng tại {short} / [Alert] {pct(share)} dissatisfied at {short}"
    return [Occurrence(key, subject, _mail_text(vi, en, rule))]


def _harassment(conn: Connection, ctx: _Context, rule: Any) -> list[Occurrence]:
    claimed = exists().where(ALERT_EVENT.c.rule_id == rule.id, ALERT_EVENT.c.occurrence == RATING.c.uuid)
    rows = conn.execute(
        select(RATING.c.uuid, RATING.c.recorded_at, RATING.c.level, RATING.c.officer_code, RATING.c.comment,
               RATING.c.procedure_code, COUNTER.c.code.label("counter_code"), COUNTER.c.name.label("counter_name"),
               OFFICER.c.name.label("officer_name"), PROCEDURE_INFO.c.name.label("procedure_name"))
        .select_from(RATING.join(COUNTER, COUNTER.c.id == RATING.c.counter_id)
                     .outerjoin(OFFICER, and_(OFFICER.c.agency_id == RATING.c.agency_id,
                                              OFFICER.c.code == RATING.c.officer_code))
                     .outerjoin(PROCEDURE_INFO, PROCEDURE_INFO.c.code == RATING.c.procedure_code))
        .where(*_rating_filter(rule), HARASSMENT_REPORTED,
               RATING.c.recorded_at >= ctx.now - HARASSMENT_LOOKBACK,
               RATING.c.received_at >= rule.created_at - HARASSMENT_BEFORE_RULE, ~claimed)
        .order_by(RATING.c.recorded_at, RATING.c.uuid).limit(MAX_PER_RULE)).all()
    zone_vi, zone_en = ctx.zone_words()
    found = []
    for r in rows:
        where_vi, where_en = _place(rule, r.counter_code, r.counter_name)
        level = next(lv for lv in LEVELS if lv.value == r.level)
        when = ctx.local(r.recorded_at)
        officer = f"{r.officer_code} {r.officer_name or ''}".strip() if r.officer_code else ""
        procedure = f"{r.procedure_code} {r.procedure_name or ''}".strip() if r.procedure_code else ""
        comment = mask(r.comment) if r.comment else ""
        vi = [f"CẢNH BÁO: người dân phản ánh bị gây phiền hà, sách nhiễu hoặc phải trả chi phí ngoài quy định "
              f"tại {where_vi}.", "",
              f"Thời điểm đánh giá: {when} ({zone_vi})",
              f"Cán bộ trực: {officer or '(không ghi cán bộ)'}",
              f"Mức hài lòng: {level.label_vi}"]
        en = [f"ALERT: a citizen reported harassment or a demand for unofficial payment at {where_en}.", "",
              f"Rated at: {when} ({zone_en})",
              f"Officer on duty: {officer or '(no officer recorded)'}",
              f"Satisfaction: {level.label_en}"]
        if procedure:
            vi.append(f"Thủ tục: {procedure}")
            en.append(f"Procedure: {procedure}")
        if comment:
            vi.append(f"Ý kiến của người dân: «{comment}»")
            en.append(f"The citizen's comment (as written): \"{comment}\"")
        vi.append(f"Mã đánh giá: {r.uuid}")
        en.append(f"Rating reference: {r.uuid}")
        link = ctx.dashboard(rule.agency_code, r.recorded_at, "officer")
        vi += ["", f"Xem trên trang tổng hợp: {link}"]
        en += ["", f"See the dashboard: {link}"]
        short = _short_place(rule, r.counter_name)
        subject = f"[Cảnh báo] Phản ánh phiền hà, sách nhiễu tại {short} / [Alert] Harassment reported at {short}"
        found.append(Occurrence(r.uuid, subject, _mail_text(vi, en, rule)))
    return found


def _silent(conn: Connection, ctx: _Context, rule: Any) -> list[Occurrence]:
    hours = silent_after_h(ctx.settings, rule.window_h)
    since = func.coalesce(DEVICE.c.last_contact_at, DEVICE.c.enrolled_at)
    # Kiosks only: the server's own web and paper devices have no one to fall silent.
    where = [DEVICE.c.agency_id == rule.agency_id, DEVICE.c.status == "active", DEVICE.c.channel == "kiosk",
             since < ctx.now - timedelta(hours=hours)]
    if rule.counter_id is not None:
        where.append(DEVICE.c.counter_id == rule.counter_id)
    rows = conn.execute(
        select(DEVICE.c.id, DEVICE.c.hostname, DEVICE.c.last_contact_at, DEVICE.c.enrolled_at,
               DEVICE.c.queue_depth, COUNTER.c.code.label("counter_code"), COUNTER.c.name.label("counter_name"))
        .select_from(DEVICE.join(COUNTER, COUNTER.c.id == DEVICE.c.counter_id))
        .where(*where).order_by(DEVICE.c.id).limit(MAX_PER_RULE)).all()
    zone_vi, zone_en = ctx.zone_words()
    found = []
    for r in rows:
        last = r.last_contact_at or r.enrolled_at
        key = f"{r.id}@{last.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
        if conn.execute(select(ALERT_EVENT.c.id).where(ALERT_EVENT.c.rule_id == rule.id,
                                                       ALERT_EVENT.c.occurrence == key)).first() is not None:
            continue
        silent_h = (ctx.now - last).total_seconds() / 3600
        where_vi, where_en = _place(rule, r.counter_code, r.counter_name)
        name = r.hostname or r.id[:8]
        vi = [f"CẢNH BÁO: kiosk {name} tại {where_vi} không liên lạc với máy chủ đã {silent_h:.0f} giờ "
              f"(ngưỡng {hours_text(hours)} giờ).", "",
              f"Thiết bị: {r.id}",
              f"Liên lạc lần cuối: {ctx.local(last)} ({zone_vi})",
              "Hãy kiểm tra nguồn điện, mạng và dịch vụ đồng bộ (kiosk-sync) của thiết bị; đánh giá vẫn được lưu "
              "trên thiết bị và sẽ được gửi khi có kết nối lại."]
        en = [f"ALERT: kiosk {name} at {where_en} has not called the server for {silent_h:.0f} h "
              f"(threshold {hours_text(hours)} h).", "",
              f"Device: {r.id}",
              f"Last contact: {ctx.local(last)} ({zone_en})",
              "Check the device's power, network and sync service (kiosk-sync); ratings are kept on the device "
              "and sent once it is connected again."]
        link = f"{ctx.base_url}{FLEET_PATH}"
        vi += ["", f"Xem danh sách thiết bị: {link}"]
        en += ["", f"See the fleet: {link}"]
        short = _short_place(rule, r.counter_name)
        subject = (f"[Cảnh báo] Kiosk {name} im lặng {silent_h:.0f} giờ tại {short} / "
                   f"[Alert] Kiosk {name} silent for {silent_h:.0f} h at {short}")
        found.append(Occurrence(key, subject, _mail_text(vi, en, rule)))
    return found


def _month_bounds(ctx: _Context) -> tuple[date, datetime, datetime]:
    """The last completed calendar month in the report time zone: its first day, and its start and end in UTC."""
    local_now = ctx.now.astimezone(ctx.zone)
    this_month = datetime(local_now.year, local_now.month, 1, tzinfo=ctx.zone)
    first = (this_month.date() - timedelta(days=1)).replace(day=1)
    start = datetime(first.year, first.month, 1, tzinfo=ctx.zone)
    return first, start.astimezone(UTC), this_month.astimezone(UTC)


def _below_target(conn: Connection, ctx: _Context, rule: Any) -> list[Occurrence]:
    first, start, end = _month_bounds(ctx)
    key = f"month:{first:%Y-%m}"
    goal = targets.goals_on(conn, first.year, rule.agency_code).get(rule.agency_code)
    if goal is None or conn.execute(select(ALERT_EVENT.c.id).where(
            ALERT_EVENT.c.rule_id == rule.id, ALERT_EVENT.c.occurrence == key)).first() is not None:
        return []
    row = conn.execute(select(func.count(), *(func.coalesce(func.sum(case((RATING.c.level == v, 1), else_=0)), 0)
                                              for v in range(1, 6)))
                       .where(*_rating_filter(rule), RATING.c.recorded_at >= start, RATING.c.recorded_at < end)).one()
    total, counts = int(row[0]), [int(v) for v in row[1:]]
    satisfied = counts[3] + counts[4]
    found = targets.verdict(satisfied, total, goal.index_permille)
    if total < int(rule.min_ratings) or found is None or found.met:
        return []
    index_vi, index_en = percent(satisfied / total), f"{satisfied / total * 100:.1f}%"
    month = f"{first.month}/{first.year}"
    where_vi, where_en = _place(rule)
    levels_vi, levels_en = _level_words(counts)
    vi = [f"CẢNH BÁO: chỉ số hài lòng tháng {month} tại {where_vi} là {index_vi}, chưa đạt chỉ tiêu năm "
          f"{first.year} là {found.target_vi} (thiếu {found.gap_vi} điểm).", "",
          f"{satisfied}/{total} lượt đánh giá ở mức «Hài lòng» hoặc «Rất hài lòng» (quy tắc: ít nhất "
          f"{rule.min_ratings} lượt trong tháng; đạt chỉ tiêu là từ {found.target_vi} trở lên).",
          f"Các mức: {levels_vi}."]
    en = [f"ALERT: the satisfaction index for {first:%m/%Y} at {where_en} was {index_en}, below the "
          f"{first.year} target of {found.target_en} by {found.gap_en} points.", "",
          f"{satisfied} of {total} ratings were 'Satisfied' or 'Very satisfied' (rule: at least {rule.min_ratings} "
          f"ratings in the month; the target is met at {found.target_en} or more).",
          f"Levels: {levels_en}."]
    params = {"period": "month", "date": first.isoformat(), "group": "counter", "agency": rule.agency_code}
    link = f"{ctx.base_url}{DASHBOARD_PATH}?{urlencode(params)}"
    vi += ["", f"Xem trên trang tổng hợp: {link}"]
    en += ["", f"See the dashboard: {link}"]
    short = _short_place(rule)
    subject = (f"[Cảnh báo] Tháng {month} chưa đạt chỉ tiêu {found.target_vi}: {index_vi} tại {short} / "
               f"[Alert] {first:%m/%Y} below the {found.target_en} target: {index_en} at {short}")
    return [Occurrence(key, subject, _mail_text(vi, en, rule))]


def _case_overdue(conn: Connection, ctx: _Context, rule: Any) -> list[Occurrence]:
    """Each case of the rule's place still open after its due date (working days, report time zone), once."""
    key = "case:" + FEEDBACK_CASE.c.id.cast(String)
    claimed = exists().where(ALERT_EVENT.c.rule_id == rule.id, ALERT_EVENT.c.occurrence == key)
    where = [FEEDBACK_CASE.c.agency_id == rule.agency_id, FEEDBACK_CASE.c.status.in_(("new", "assigned")),
             FEEDBACK_CASE.c.due_on < ctx.now.astimezone(ctx.zone).date(), ~claimed]
    if rule.counter_id is not None:
        where.append(FEEDBACK_CASE.c.counter_id == rule.counter_id)
    if rule.channel is not None:
        where.append(FEEDBACK_CASE.c.channel == rule.channel)
    rows = conn.execute(
        select(FEEDBACK_CASE.c.id, FEEDBACK_CASE.c.kind, FEEDBACK_CASE.c.text, FEEDBACK_CASE.c.recorded_at,
               FEEDBACK_CASE.c.due_on, FEEDBACK_CASE.c.assignee, COUNTER.c.code.label("counter_code"),
               COUNTER.c.name.label("counter_name"))
        .select_from(FEEDBACK_CASE.join(COUNTER, COUNTER.c.id == FEEDBACK_CASE.c.counter_id))
        .where(*where).order_by(FEEDBACK_CASE.c.due_on, FEEDBACK_CASE.c.id).limit(MAX_PER_RULE)).all()
    zone_vi, zone_en = ctx.zone_words()
    found = []
    for r in rows:
        where_vi, where_en = _place(rule, r.counter_code, r.counter_name)
        due = f"{r.due_on:%d/%m/%Y}"
        link = f"{ctx.base_url}{CASES_PATH}/{r.id}"
        text = mask(r.text) if r.text else ""
        vi = [f"CẢNH BÁO: phản ánh số {r.id} tại {where_vi} đã quá hạn trả lời (hạn {due}).", "",
              f"Nhận lúc: {ctx.local(r.recorded_at)} ({zone_vi})",
              f"Được giao: {r.assignee or '(chưa giao)'}"]
        en = [f"ALERT: case {r.id} at {where_en} is overdue (due {due}).", "",
              f"Received: {ctx.local(r.recorded_at)} ({zone_en})",
              f"Assigned to: {r.assignee or '(not assigned)'}"]
        if text:
            vi.append(f"Ý kiến của người dân: «{text}»")
            en.append(f"The citizen's comment: \"{text}\"")
        vi += ["", f"Xử lý phản ánh: {link}"]
        en += ["", f"Handle the case: {link}"]
        short = _short_place(rule, r.counter_name)
        subject = (f"[Cảnh báo] Phản ánh số {r.id} quá hạn trả lời tại {short} / "
                   f"[Alert] Case {r.id} overdue at {short}")
        found.append(Occurrence(f"case:{r.id}", subject, _mail_text(vi, en, rule)))
    return found


_EVALUATORS = {"dissatisfied": _dissatisfied, HARASSMENT_KEY: _harassment, "silent": _silent,
               "below_target": _below_target, "case_overdue": _case_overdue}


def evaluate(engine: Engine, settings: ServerSettings, rule_id: int, now: datetime) -> list[Occurrence]:
    """What one rule finds at `now` that has not been raised yet (nothing is claimed or sent)."""
    ctx = _Context(settings, now, ZoneInfo(report_timezone(settings)), _base_url(settings))
    with reading(engine) as conn:
        rule = conn.execute(rules_select().where(ALERT_RULE.c.id == rule_id)).one()
        return _EVALUATORS[rule.kind](conn, ctx, rule)
