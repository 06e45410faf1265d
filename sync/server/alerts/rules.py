"""Alert rules: what an agency (or one of its counters) wants to be told about, and who receives it.

Four kinds: `dissatisfied` (the share rated 1 or 2 over `share` within `window_h` hours, with at least
`min_ratings` ratings), `harassment` (each report of harassment or unofficial payment), `silent` (a device not
heard from for more than `window_h` hours, else the settings' silent_after_h), `below_target` (a completed
calendar month whose satisfaction index is below the agency's target for that year, with at least `min_ratings`
ratings; the targets are in sync/server/results/targets.py), `case_overdue` (each case not answered by its due
date in working days; sync/server/cases). The kind is a plain column checked here, in code.
A removed rule is kept, inactive,
so the alerts it raised stay on record. Every refusal is a ServerError in Vietnamese and English.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from kiosk.domain.levels import CHANNEL_KEYS, CHANNELS_BY_KEY, HARASSMENT_KEY
from sync.server import registry
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import AGENCY, ALERT_RULE, COUNTER
from sync.server.settings import ServerSettings

# The kind that watches the harassment question is named by that question's key.
KINDS = ("dissatisfied", HARASSMENT_KEY, "silent", "below_target", "case_overdue")
KIND_LABELS = {
    "dissatisfied": ("Tỷ lệ không hài lòng cao", "High dissatisfied share"),
    HARASSMENT_KEY: ("Phản ánh phiền hà, sách nhiễu", "Harassment report"),
    "silent": ("Thiết bị im lặng", "Silent device"),
    "below_target": ("Tháng chưa đạt chỉ tiêu", "Month below target"),
    "case_overdue": ("Phản ánh quá hạn trả lời", "Case overdue"),
}
# A dissatisfied rule's defaults: over 50 % dissatisfied within a day, at least 4 ratings.
DEFAULT_SHARE, DEFAULT_WINDOW_H, DEFAULT_MIN_RATINGS = 0.5, 24.0, 4
# A below-target rule's default: a month with fewer ratings says too little to alert about.
DEFAULT_TARGET_MIN_RATINGS = 30
MAX_RECIPIENTS = 20
MAX_WINDOW_H = 24 * 366
MAX_MIN_RATINGS = 100_000
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")


@dataclass(frozen=True)
class Rule:
    """An alert rule, with the names of the agency and counter it watches (counter None: the whole agency)."""

    id: int
    agency_code: str
    agency_name: str
    counter_code: str | None
    counter_name: str | None
    kind: str
    share: float | None
    window_h: float | None
    min_ratings: int | None
    email_to: tuple[str, ...]
    active: bool
    created_at: datetime
    channel: str | None = None   # one channel only (None: every channel)

    def where(self) -> tuple[str, str]:
        """What the rule watches, in Vietnamese and English."""
        if self.counter_code is None:
            vi, en = (f"{self.agency_name} ({self.agency_code}), toàn cơ quan",
                      f"{self.agency_name} ({self.agency_code}), whole agency")
        else:
            vi = en = f"{self.counter_name} ({self.counter_code}) — {self.agency_name} ({self.agency_code})"
        if self.channel is None:
            return vi, en
        channel = CHANNELS_BY_KEY[self.channel]
        return f"{vi}, kênh {channel.label_vi}", f"{en}, channel: {channel.label_en}"

    def condition(self, settings: ServerSettings) -> tuple[str, str]:
        """When the rule fires, in Vietnamese and English."""
        if self.kind == "dissatisfied":
            share, hours, least = pct(self.share or 0), hours_text(self.window_h or 0), self.min_ratings or 0
            return (f"không hài lòng trên {share} trong {hours} giờ (ít nhất {least} lượt)",
                    f"dissatisfied over {share} within {hours} h (at least {least} ratings)")
        if self.kind == HARASSMENT_KEY:
            return "mỗi phản ánh phiền hà, sách nhiễu", "each harassment report"
        if self.kind == "below_target":
            least = self.min_ratings or 0
            return (f"một tháng có chỉ số hài lòng dưới chỉ tiêu năm (ít nhất {least} lượt)",
                    f"a month's satisfaction index below the year's target (at least {least} ratings)")
        if self.kind == "case_overdue":
            return "mỗi phản ánh quá hạn trả lời", "each case not answered by its due date"
        hours = hours_text(silent_after_h(settings, self.window_h))
        return f"thiết bị im lặng quá {hours} giờ", f"a device silent for over {hours} h"

    def as_json(self, settings: ServerSettings) -> dict[str, Any]:
        """JSON-ready, with the condition in words."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["email_to"] = list(self.email_to)
        data["condition_vi"], data["condition_en"] = self.condition(settings)
        return data


def silent_after_h(settings: ServerSettings, window_h: float | None = None) -> float:
    """Hours of silence that set off a silent rule: its own window_h, else [alerts], else [fleet] silent_after_h."""
    if window_h is not None:
        return window_h
    return settings.alerts.silent_after_h if settings.alerts.silent_after_h is not None \
        else settings.fleet.silent_after_h


def pct(share: float) -> str:
    """A share as people read it: 0.75 -> '75%', 2/3 -> '66.7%'."""
    return f"{share * 100:.3g}%"


def hours_text(hours: float) -> str:
    """Hours without a needless '.0': 24.0 -> '24', 0.5 -> '0.5'."""
    return f"{hours:g}"


def check_share(value: float) -> float:
    """A share from 0 to under 1 (a share of 1 can never be exceeded); a ServerError otherwise."""
    if math.isnan(value) or not 0 <= value < 1:
        raise ServerError(f"Tỷ lệ phải từ 0 đến dưới 1 (0.5 là 50%), nhận được {value:g}",
                          f"the share must be from 0 to under 1 (0.5 is 50%), got {value:g}")
    return value


def check_hours(value: float) -> float:
    """A number of hours from 0.1 to a year; a ServerError otherwise."""
    if math.isnan(value) or not 0.1 <= value <= MAX_WINDOW_H:
        raise ServerError(f"Số giờ phải từ 0,1 đến {MAX_WINDOW_H}, nhận được {value:g}",
                          f"the hours must be from 0.1 to {MAX_WINDOW_H}, got {value:g}")
    return value


def check_count(value: int) -> int:
    """A minimum number of ratings from 1 to MAX_MIN_RATINGS; a ServerError otherwise."""
    if not 1 <= value <= MAX_MIN_RATINGS:
        raise ServerError(f"Số lượt tối thiểu phải từ 1 đến {MAX_MIN_RATINGS}, nhận được {value}",
                          f"the minimum number of ratings must be from 1 to {MAX_MIN_RATINGS}, got {value}")
    return value


def _number(text: str, what_vi: str, what_en: str, example: str) -> float:
    try:
        # A Vietnamese decimal comma (0,5) is as good as a point.
        return float(text.strip().replace(",", "."))
    except ValueError:
        raise ServerError(f"{what_vi} {text[:40]!r} không phải một số (ví dụ {example})",
                          f"{what_en} {text[:40]!r} is not a number (e.g. {example})") from None


def parse_share(text: str) -> float:
    """A share as IT types it: 0.5, 0,5 or 50%; a ServerError otherwise."""
    raw = text.strip()
    value = _number(raw.removesuffix("%"), "Tỷ lệ", "the share", "0.5 hoặc 50%")
    return check_share(value / 100 if raw.endswith("%") else value)


def parse_hours(text: str) -> float:
    """Hours as IT types them (24, 0.5 or 0,5); a ServerError when not a number from 0.1 to a year."""
    return check_hours(_number(text, "Số giờ", "the hours", "24"))


def parse_count(text: str) -> int:
    """A minimum number of ratings as typed (a whole number); a ServerError otherwise."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ServerError(f"Số lượt tối thiểu {text[:40]!r} không phải một số nguyên (ví dụ 4)",
                          f"the minimum number of ratings {text[:40]!r} is not a whole number (e.g. 4)") from None
    return check_count(value)


def parse_recipients(text: str) -> tuple[str, ...]:
    """Comma-separated e-mail addresses (1 to MAX_RECIPIENTS), each checked; a ServerError naming a bad one."""
    addresses = [part.strip() for part in re.split(r"[,;]", text) if part.strip()]
    if not addresses:
        raise ServerError("Cần ít nhất một địa chỉ thư nhận cảnh báo (--email a@b,c@d)",
                          "at least one e-mail address is needed to receive the alerts (--email a@b,c@d)")
    if len(addresses) > MAX_RECIPIENTS:
        raise ServerError(f"Tối đa {MAX_RECIPIENTS} địa chỉ thư cho một quy tắc",
                          f"at most {MAX_RECIPIENTS} e-mail addresses per rule")
    for address in addresses:
        if len(address) > 254 or not _ADDRESS.fullmatch(address):
            raise ServerError(f"Địa chỉ thư không hợp lệ: {address[:80]!r} (ví dụ noivu@tinh.gov.vn)",
                              f"not a valid e-mail address: {address[:80]!r} (e.g. noivu@tinh.gov.vn)")
    return tuple(dict.fromkeys(addresses))


def rules_select() -> Any:
    """The rule rows with their agency's and counter's codes and names (what `rule_from_row` reads)."""
    return (select(ALERT_RULE, AGENCY.c.code.label("agency_code"), AGENCY.c.name.label("agency_name"),
                   COUNTER.c.code.label("counter_code"), COUNTER.c.name.label("counter_name"))
            .select_from(ALERT_RULE.join(AGENCY, AGENCY.c.id == ALERT_RULE.c.agency_id)
                         .outerjoin(COUNTER, COUNTER.c.id == ALERT_RULE.c.counter_id)))


def rule_from_row(row: Any) -> Rule:
    """A `Rule` from a row of `rules_select`."""
    return Rule(row.id, row.agency_code, row.agency_name, row.counter_code, row.counter_name, row.kind, row.share,
                row.window_h, row.min_ratings, tuple(a for a in row.email_to.split(",") if a), bool(row.active),
                row.created_at, row.channel)


def _refuse_option(kind: str, name: str) -> ServerError:
    return ServerError(f"Tuỳ chọn {name} không dùng cho loại cảnh báo {kind!r} (chỉ cho dissatisfied"
                       f"{' và silent' if name == '--window-h' else ''})",
                       f"the option {name} does not apply to the alert kind {kind!r} (only to dissatisfied"
                       f"{' and silent' if name == '--window-h' else ''})")


def add_rule(engine: Engine, agency_code: str, counter_code: str | None, kind: str, *, email_to: str,
             share: float | None = None, window_h: float | None = None,
             min_ratings: int | None = None, channel: str | None = None) -> Rule:
    """Make an alert rule after checking every part of it; a ServerError names what is wrong and changes nothing."""
    if channel is not None and channel not in CHANNEL_KEYS:
        raise ServerError(f"Không có kênh {channel[:40]!r}; chọn một trong: {', '.join(CHANNEL_KEYS)}",
                          f"no channel {channel[:40]!r}; choose one of: {', '.join(CHANNEL_KEYS)}")
    if channel is not None and kind == "silent":
        raise ServerError("Cảnh báo thiết bị im lặng chỉ xét máy kiosk; bỏ --channel",
                          "a silent-device alert watches kiosks only; leave out --channel")
    if kind not in KINDS:
        raise ServerError(f"Không có loại cảnh báo {kind[:40]!r}; chọn dissatisfied (tỷ lệ không hài lòng), "
                          "harassment (phiền hà, sách nhiễu), silent (thiết bị im lặng) below_target (tháng "
                          "chưa đạt chỉ tiêu) hoặc case_overdue (phản ánh quá hạn trả lời)",
                          f"no alert kind {kind[:40]!r}; choose dissatisfied, harassment, silent, below_target or "
                          "case_overdue")
    if kind == "below_target":
        for name, value in (("--share", share), ("--window-h", window_h)):
            if value is not None:
                raise ServerError(f"Tuỳ chọn {name} không dùng cho loại cảnh báo 'below_target' (ngưỡng là chỉ tiêu "
                                  "năm: «kiosk-server target set»)", f"the option {name} does not apply to the "
                                  "alert kind 'below_target' (the threshold is the year's target: 'kiosk-server "
                                  "target set')")
        min_ratings = check_count(DEFAULT_TARGET_MIN_RATINGS if min_ratings is None else min_ratings)
    elif kind != "dissatisfied":
        for name, value in (("--share", share), ("--min-ratings", min_ratings)):
            if value is not None:
                raise _refuse_option(kind, name)
        if kind in (HARASSMENT_KEY, "case_overdue") and window_h is not None:
            raise _refuse_option(kind, "--window-h")
    else:
        share = check_share(DEFAULT_SHARE if share is None else share)
        window_h = DEFAULT_WINDOW_H if window_h is None else window_h
        min_ratings = check_count(DEFAULT_MIN_RATINGS if min_ratings is None else min_ratings)
    if window_h is not None:
        window_h = check_hours(window_h)
    recipients = parse_recipients(email_to)
    with writing(engine) as conn:
        owner = registry.agency(conn, agency_code)
        counter = registry.counter_id(conn, owner, counter_code) if counter_code else None
        same = conn.execute(select(ALERT_RULE.c.id, ALERT_RULE.c.email_to).where(
            ALERT_RULE.c.active, ALERT_RULE.c.agency_id == owner.id, ALERT_RULE.c.kind == kind,
            ALERT_RULE.c.counter_id.is_(None) if counter is None else ALERT_RULE.c.counter_id == counter,
            ALERT_RULE.c.share.is_(None) if share is None else ALERT_RULE.c.share == share,
            ALERT_RULE.c.window_h.is_(None) if window_h is None else ALERT_RULE.c.window_h == window_h,
            ALERT_RULE.c.min_ratings.is_(None) if min_ratings is None else ALERT_RULE.c.min_ratings == min_ratings,
            ALERT_RULE.c.channel.is_(None) if channel is None else ALERT_RULE.c.channel == channel,
        )).all()
        for row in same:
            if set(row.email_to.split(",")) == set(recipients):
                raise ServerError(f"Đã có quy tắc cảnh báo #{row.id} giống hệt; không thêm",
                                  f"an identical alert rule #{row.id} already exists; nothing added")
        new_id: int = conn.execute(insert(ALERT_RULE).values(
            agency_id=owner.id, counter_id=counter, kind=kind, share=share, window_h=window_h,
            min_ratings=min_ratings, email_to=",".join(recipients), active=True, created_at=utc_now(), channel=channel,
        ).returning(ALERT_RULE.c.id)).scalar_one()
        return rule_from_row(conn.execute(rules_select().where(ALERT_RULE.c.id == new_id)).one())


def list_rules(engine: Engine, *, include_removed: bool = False) -> list[Rule]:
    """The rules by agency and number; removed ones only when asked."""
    query = rules_select().order_by(AGENCY.c.code, ALERT_RULE.c.id)
    if not include_removed:
        query = query.where(ALERT_RULE.c.active)
    with reading(engine) as conn:
        return [rule_from_row(row) for row in conn.execute(query).all()]


def remove_rule(engine: Engine, rule_id: int) -> Rule:
    """Stop a rule (its past alerts stay on record); a ServerError for an unknown or already removed rule."""
    with writing(engine) as conn:
        # An id no integer column can hold is simply not there (PostgreSQL would refuse the query itself).
        row = conn.execute(rules_select().where(ALERT_RULE.c.id == rule_id)).first() \
            if 0 < rule_id < 2**31 else None
        if row is None:
            raise ServerError(f"Không có quy tắc cảnh báo #{rule_id}; xem «kiosk-server alert list»",
                              f"no alert rule #{rule_id}; see 'kiosk-server alert list'")
        if not row.active:
            raise ServerError(f"Quy tắc cảnh báo #{rule_id} đã bị gỡ từ trước",
                              f"alert rule #{rule_id} was already removed")
        conn.execute(update(ALERT_RULE).where(ALERT_RULE.c.id == rule_id).values(active=False))
        return rule_from_row(conn.execute(rules_select().where(ALERT_RULE.c.id == rule_id)).one())
