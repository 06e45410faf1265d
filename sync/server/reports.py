"""Satisfaction results (SIPAS-style) computed from the stored ratings by SQL aggregation.

CONTRACT between the reports engineer (who implements this module) and the pages engineer (who renders it):
the names, fields and meanings below are fixed; add to them, do not change them.

Definitions (the numbers every page, export and CLI output shows):
- A rating counts in a period when its `recorded_at`, in the report time zone (settings [fleet] timezone,
  default Asia/Ho_Chi_Minh), falls on a day of the period. Test ratings never count. Suspected repeats are
  excluded unless `include_repeats`. Ratings from devices whose chain is not intact (device.chain_state !=
  'intact') are NOT mixed into the figures: they are counted apart in `Report.unverified` until IT has looked
  (IT marks a device reviewed; then its ratings count again: device column `chain_reviewed_at`, or similar).
- levels[i] is the count at level i+1 (levels[0] = "Rất không hài lòng" … levels[4] = "Rất hài lòng").
- satisfaction_index = (count at 4 + count at 5) / ratings; dissatisfied_share = (count at 1 + 2) / ratings;
  both None when ratings == 0 (an empty period shows "–", never 0 % or 100 %).
- An element (kiosk.domain.levels QUESTIONS with kind "scale": access, procedure, officer, result, feedback) has
  `answered` (ratings whose answer is not NULL) and `index` = answers at 4 or 5 / answered (None when 0).
- harassment_reports = ratings whose harassment answer is yes.
- A group is flagged when dissatisfied_share > flag_share (settings, default 0.25) AND ratings >=
  flag_min_ratings (settings, default 30); the page shows the threshold next to the flag. A group under the
  minimum shows "chưa đủ số lượt đánh giá / too few ratings" instead of a flag.

Implementation notes (additions to the contract):
- The report time zone is [reports] timezone, else [fleet] timezone (settings.report_timezone).
- "IT has looked": `review_device` sets device.chain_reviewed_at. A rating of a device whose chain is not intact
  counts again when it was received at or before that moment (everything the server held when IT looked, i.e.
  up to acked_seq then); anything received later waits for the next review.
- One query per figure set and source: the report's queries group by (group, current-or-previous period,
  verified, repeat), so the current figures, the previous period's, the unverified ratings and the repeats left
  out all come from one pass; totals add up the groups, which partition the ratings.
- Sources (issue 6, speed): the whole months of a period are summed from the month totals (models
  MONTH_BY_OFFICER / MONTH_BY_PROCEDURE, kept exact by triggers on `rating`), the trend from the day totals
  (DAY_TOTALS); the days outside whole months, the ratings of devices whose chain is not intact, and everything
  when the report time zone is not UTC+07:00 over the whole span are aggregated from `rating` itself. Every
  figure is the same either way (from_totals=False reads `rating` only; tests compare the two).
- Group keys are unique within a report: with no agency chosen, counter and officer keys are "AGENCY/CODE".
  A rating without an officer or procedure forms a group with key "" and a label saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import add, itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Engine,
    Table,
    and_,
    case,
    cast,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.sql.expression import Select

from kiosk.domain.levels import SCALE_KEYS
from sync.server import rating_totals
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import (
    AGENCY,
    COMMENTED,
    COUNTER,
    DAY_TOTALS,
    DEVICE,
    HARASSMENT_REPORTED,
    MONTH_BY_OFFICER,
    OFFICER,
    PROCEDURE_INFO,
    RATING,
    TIME_UNTRUSTED,
    TOTAL_COUNTS,
)
from sync.server.settings import ServerSettings, report_timezone

GROUPINGS = ("agency", "counter", "officer", "procedure", "field")
PERIOD_KINDS = ("day", "week", "month", "quarter", "year", "range")
SCALE_ELEMENTS = ("access", "procedure", "officer", "result", "feedback")
assert SCALE_ELEMENTS == SCALE_KEYS  # kiosk.domain.levels is the one place the questions are defined
# The order _figures_of reads counts in: the month totals' columns and the aggregation's labels alike.
_COUNT_ORDER = ("n", "l1", "l2", "l3", "l4", "l5", *(f"{kind}_{key}" for key in SCALE_ELEMENTS for kind in "as"),
                "harassment")
assert TOTAL_COUNTS == _COUNT_ORDER
BUCKETS = ("day", "week", "month")

OTHER_FIELD = "Khác / Other"
NO_OFFICER = "(không ghi cán bộ) / (no officer recorded)"
NO_PROCEDURE = "(không ghi thủ tục) / (no procedure recorded)"
TOO_FEW_VI, TOO_FEW_EN = "chưa đủ số lượt đánh giá", "too few ratings"
MASK = "•••"
# Longest period a report or trend covers: ten years of days is far more than any page asks for.
MAX_DAYS = 366 * 10
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


class ReportError(ServerError, ValueError):
    """A report that cannot be made as asked (bad period, grouping, agency): Vietnamese first, English second."""


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _month_last(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """A span of whole days, inclusive at both ends, in the report time zone."""

    kind: str    # one of PERIOD_KINDS
    first: date
    last: date   # inclusive

    @classmethod
    def of(cls, kind: str, anchor: date) -> Period:
        """The day/week (Mon–Sun)/month/quarter/year containing `anchor`."""
        if kind == "day":
            return cls(kind, anchor, anchor)
        if kind == "week":
            first = anchor - timedelta(days=anchor.weekday())
            return cls(kind, first, first + timedelta(days=6))
        if kind == "month":
            first = anchor.replace(day=1)
            return cls(kind, first, _month_last(first))
        if kind == "quarter":
            first = date(anchor.year, (anchor.month - 1) // 3 * 3 + 1, 1)
            return cls(kind, first, _month_last(date(anchor.year, first.month + 2, 1)))
        if kind == "year":
            return cls(kind, date(anchor.year, 1, 1), date(anchor.year, 12, 31))
        raise ReportError(f"Loại kỳ {kind!r} không hợp lệ; dùng day, week, month, quarter hoặc year",
                          f"invalid period kind {kind!r}; use day, week, month, quarter or year")

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        """A date range (kind 'range'); first > last is a ValueError with a vi/en message."""
        if first > last:
            raise ReportError(f"Ngày bắt đầu {_dmy(first)} sau ngày kết thúc {_dmy(last)}",
                              f"the start date {first.isoformat()} is after the end date {last.isoformat()}")
        if (last - first).days >= MAX_DAYS:
            raise ReportError(f"Khoảng thời gian dài quá {MAX_DAYS} ngày", f"the range is longer than {MAX_DAYS} days")
        return cls("range", first, last)

    def previous(self) -> Period:
        """The period just before, of the same kind and length (a range: the same number of days before)."""
        if self.kind == "range":
            return Period("range", self.first - timedelta(days=self.days), self.first - timedelta(days=1))
        return Period.of(self.kind, self.first - timedelta(days=1))

    def label(self, lang: str = "vi") -> str:
        """'Tháng 11/2026', 'Quý 4/2026', 'Năm 2026', 'Tuần 23/11–29/11/2026', '01/11/2026 – 15/11/2026'."""
        en = lang == "en"
        first, last = self.first, self.last
        if self.kind == "day":
            return f"{'Day' if en else 'Ngày'} {_dmy(first)}"
        if self.kind == "week":
            start = first.strftime("%d/%m") if first.year == last.year else _dmy(first)
            return f"{'Week' if en else 'Tuần'} {start}–{_dmy(last)}"
        if self.kind == "month":
            return f"{_MONTHS_EN[first.month - 1]} {first.year}" if en else f"Tháng {first.month}/{first.year}"
        if self.kind == "quarter":
            quarter = (first.month - 1) // 3 + 1
            return f"Q{quarter} {first.year}" if en else f"Quý {quarter}/{first.year}"
        if self.kind == "year":
            return f"{'Year' if en else 'Năm'} {first.year}"
        return f"{_dmy(first)} – {_dmy(last)}"

    @property
    def days(self) -> int:
        """How many days the period holds."""
        return (self.last - self.first).days + 1

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of the period's days in `zone` (what the WHERE on recorded_at uses)."""
        return _midnight(self.first, zone), _midnight(self.last + timedelta(days=1), zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


@dataclass(frozen=True)
class Element:
    """One follow-up element's figures."""

    answered: int
    index: float | None
    satisfied: int = 0   # answers at 4 or 5 (what `index` divides by `answered`)

    @classmethod
    def of(cls, answered: int, satisfied: int) -> Element:
        """The element's figures from its two counts."""
        return cls(answered, satisfied / answered if answered else None, satisfied)


@dataclass(frozen=True)
class Figures:
    """The numbers of one group (or the total) in one period."""

    ratings: int
    levels: tuple[int, int, int, int, int]
    elements: dict[str, Element]
    harassment_reports: int

    @property
    def satisfaction_index(self) -> float | None:
        """Share at 4 or 5."""
        return (self.levels[3] + self.levels[4]) / self.ratings if self.ratings else None

    @property
    def dissatisfied_share(self) -> float | None:
        """Share at 1 or 2."""
        return (self.levels[0] + self.levels[1]) / self.ratings if self.ratings else None

    def share(self, level: int) -> float | None:
        """Share at one level (1–5)."""
        if level not in (1, 2, 3, 4, 5):
            raise ValueError(f"satisfaction level must be 1–5, got {level!r}")
        return self.levels[level - 1] / self.ratings if self.ratings else None

    @classmethod
    def empty(cls) -> Figures:
        """No ratings at all."""
        return cls(0, (0, 0, 0, 0, 0), {key: Element.of(0, 0) for key in SCALE_ELEMENTS}, 0)


def add_figures(parts: Iterable[Figures]) -> Figures:
    """The figures of several disjoint sets of ratings taken together."""
    ratings, harassment = 0, 0
    levels = [0, 0, 0, 0, 0]
    answered = dict.fromkeys(SCALE_ELEMENTS, 0)
    satisfied = dict.fromkeys(SCALE_ELEMENTS, 0)
    for part in parts:
        ratings += part.ratings
        harassment += part.harassment_reports
        for i in range(5):
            levels[i] += part.levels[i]
        for key in SCALE_ELEMENTS:
            answered[key] += part.elements[key].answered
            satisfied[key] += part.elements[key].satisfied
    return Figures(ratings, (levels[0], levels[1], levels[2], levels[3], levels[4]),
                   {key: Element.of(answered[key], satisfied[key]) for key in SCALE_ELEMENTS}, harassment)


@dataclass(frozen=True)
class Row:
    """One group: its key (agency/counter/officer code, procedure code, field name), a label, and figures."""

    key: str
    label: str
    figures: Figures
    previous: Figures          # the same group in the previous period
    flagged: bool
    too_few: bool              # under flag_min_ratings: no flag either way


@dataclass(frozen=True)
class ReportQuery:
    """What to compute."""

    period: Period
    group_by: str                      # one of GROUPINGS
    agency_code: str | None = None     # None: every agency
    counter_code: str | None = None
    include_repeats: bool = False


@dataclass(frozen=True)
class Report:
    """Totals, rows best-to-worst by satisfaction index, and what is shown apart."""

    query: ReportQuery
    total: Figures
    previous_total: Figures
    rows: list[Row]
    flag_share: float
    flag_min_ratings: int
    unverified: Figures                # ratings from devices whose chain is broken or has a gap
    excluded_repeats: int              # suspected repeats left out (0 when included)
    timezone: str = "Asia/Ho_Chi_Minh"  # the zone the period's days were counted in
    agency_name: str = ""              # the chosen agency's name ("" for every agency)
    counter_name: str = ""             # the chosen counter's name ("" for every counter)
    # Ratings received in the period whose time cannot be trusted (the kiosk's clock was off in a way the server
    # could not work out: sync.server.clock): in no period's figures, shown apart here.
    untimed: Figures = field(default_factory=Figures.empty)


@dataclass(frozen=True)
class TrendPoint:
    """One bucket of the trend chart."""

    first: date
    figures: Figures


@dataclass(frozen=True)
class Comment:
    """A citizen's comment for the dashboard, masked unless the citizen asked to be contacted."""

    recorded_at_local: str
    agency: str
    counter: str
    officer: str
    level: int
    text: str                          # phone numbers and e-mail addresses masked unless `callback`
    harassment: bool = False
    callback: bool = False             # the citizen asked to be contacted: the contact is shown as written


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows for one query."""

    report: Report
    trend: list[TrendPoint] = field(default_factory=list)
    harassment: list[Comment] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


# ---- masking ------------------------------------------------------------------------------------------------

# Vietnamese phone numbers as citizens type them: a mobile 0912 345 678 (0 + 9 digits), a landline
# 024 3825 1234 (0 + 10 digits), either with +84 / (+84) / 84 / 0084 instead of the 0 (sometimes keeping it,
# as 0 or "(0)"), digits grouped by spaces, dots or dashes. Amounts (2.000.000 đồng), procedure codes
# (1.001193) and hotlines (1900 1234) do not start with 0 or 84 and stay as written.
_PHONE = re.compile(r"(?<!\d)(?:\(?(?:\+|00)?84\)?[\s.\-]?(?:\(0\)[\s.\-]?)?|0)\d(?:[\s.\-]?\d){8,9}(?!\d)")
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def mask(text: str) -> str:
    """The comment with phone numbers and e-mail addresses replaced by •••."""
    return _PHONE.sub(MASK, _EMAIL.sub(MASK, text))


# ---- the query ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Scope:
    """The query resolved against the database: ids for the WHERE, names for the report."""

    agency_id: int | None
    agency_name: str
    counter_id: int | None
    counter_name: str


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction for one report's statements."""
    with reading(engine) as conn:
        if conn.dialect.name == "postgresql":
            # The same statements come again with other dates and places. After a few, a prepared statement may
            # get PostgreSQL's generic plan, made without knowing them: seen taking 250–570 ms instead of 1–4 ms
            # (a kiosk's ratings, a month's days). Plan each execution for its own values (about 0.5 ms).
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        yield conn


def _check_query(query: ReportQuery) -> None:
    if query.group_by not in GROUPINGS:
        raise ReportError(f"Không nhóm theo {query.group_by!r} được; dùng {', '.join(GROUPINGS)}",
                          f"cannot group by {query.group_by!r}; use {', '.join(GROUPINGS)}")
    if query.period.kind not in PERIOD_KINDS:
        raise ReportError(f"Loại kỳ {query.period.kind!r} không hợp lệ", f"invalid period kind {query.period.kind!r}")
    if query.period.first > query.period.last:
        raise ReportError("Kỳ báo cáo có ngày bắt đầu sau ngày kết thúc", "the period starts after it ends")
    if query.counter_code is not None and query.agency_code is None:
        raise ReportError("Chọn quầy thì phải chọn cả cơ quan (mã quầy chỉ riêng trong một cơ quan)",
                          "a counter needs its agency too (counter codes are unique only within an agency)")


def _scope(conn: Connection, query: ReportQuery) -> _Scope:
    _check_query(query)
    if query.agency_code is None:
        return _Scope(None, "", None, "")
    agency = conn.execute(select(AGENCY.c.id, AGENCY.c.name).where(AGENCY.c.code == query.agency_code)).first()
    if agency is None:
        raise ReportError(f"Không có cơ quan mã {query.agency_code!r}", f"no agency with code {query.agency_code!r}")
    if query.counter_code is None:
        return _Scope(int(agency.id), str(agency.name), None, "")
    counter = conn.execute(select(COUNTER.c.id, COUNTER.c.name).where(
        COUNTER.c.agency_id == agency.id, COUNTER.c.code == query.counter_code)).first()
    if counter is None:
        raise ReportError(f"Cơ quan {query.agency_code} không có quầy mã {query.counter_code!r}",
                          f"agency {query.agency_code} has no counter {query.counter_code!r}")
    return _Scope(int(agency.id), str(agency.name), int(counter.id), str(counter.name))


@dataclass(frozen=True)
class _Unverified:
    """The devices whose chain is not intact, and the condition on `rating` of their ratings that do not count."""

    devices: list[str]
    condition: ColumnElement[bool] | None


def _not_intact(conn: Connection) -> _Unverified:
    """Ratings not to be mixed into the figures: from a device whose chain is not intact, received after IT last
    reviewed it (or never reviewed). No devices and no condition when every chain is intact, as almost always.

    Read from the few devices concerned rather than joined per rating: the aggregation then touches `rating` only.
    """
    rows = conn.execute(select(DEVICE.c.id, DEVICE.c.chain_reviewed_at)
                        .where(DEVICE.c.chain_state != "intact").order_by(DEVICE.c.id)).all()
    if not rows:
        return _Unverified([], None)
    never = [str(row.id) for row in rows if row.chain_reviewed_at is None]
    parts: list[ColumnElement[bool]] = [RATING.c.device_id.in_(never)] if never else []
    parts += [and_(RATING.c.device_id == row.id, RATING.c.received_at > row.chain_reviewed_at)
              for row in rows if row.chain_reviewed_at is not None]
    return _Unverified([str(row.id) for row in rows], or_(*parts))


def _where(scope: _Scope, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    # The range on recorded_at (UTC instants of local midnights) is what lets (agency_id, recorded_at) serve it.
    conditions = [RATING.c.recorded_at >= start, RATING.c.recorded_at < end, RATING.c.is_test.is_not(true()),
                  RATING.c.time_trusted.is_(true())]
    if scope.agency_id is not None:
        conditions.append(RATING.c.agency_id == scope.agency_id)
    if scope.counter_id is not None:
        conditions.append(RATING.c.counter_id == scope.counter_id)
    return conditions


def _counting(conn: Connection, query: ReportQuery, scope: _Scope, start: datetime, end: datetime,
              not_intact: _Unverified | None = None) -> list[ColumnElement[bool]]:
    """The WHERE of the lists that show only what counts: in scope, verified, repeats as the query says."""
    conditions = _where(scope, start, end)
    unverified = (not_intact or _not_intact(conn)).condition
    if unverified is not None:
        conditions.append(not_(unverified))
    if not query.include_repeats:
        conditions.append(RATING.c.suspected_repeat.is_not(true()))
    return conditions


@lru_cache(maxsize=1)
def _aggregates() -> tuple[ColumnElement[Any], ...]:
    """The figure columns: ratings, the five levels, each element's answered and satisfied, harassment.

    Made once: SQL expressions are immutable, and rebuilding them cost more per page than running a small query.
    """
    columns: list[ColumnElement[Any]] = [func.count().label("n")]
    columns += [func.count().filter(RATING.c.level == value).label(f"l{value}") for value in range(1, 6)]
    for key in SCALE_ELEMENTS:
        column = RATING.c[f"q_{key}"]
        columns += [func.count(column).label(f"a_{key}"), func.count().filter(column >= 4).label(f"s_{key}")]
    columns.append(func.count().filter(RATING.c.harassment.is_(true())).label("harassment"))
    return tuple(columns)


@lru_cache(maxsize=1 << 16)
def _element(answered: int, satisfied: int) -> Element:
    # Elements are immutable and a ranking of many small groups repeats the same few counts: share them.
    return Element.of(answered, satisfied)


def _figures_of(counts: Sequence[int]) -> Figures:
    """Figures from the counts in the order of models.TOTAL_COUNTS."""
    return Figures(counts[0], (counts[1], counts[2], counts[3], counts[4], counts[5]),
                   dict(zip(SCALE_ELEMENTS, map(_element, counts[6:16:2], counts[7:17:2]), strict=True)), counts[16])


def _figures(row: Any) -> Figures:
    return _figures_of([int(getattr(row, name) or 0) for name in TOTAL_COUNTS])


def _labelled(group_by: str, figures: Any) -> Select[Any]:
    """The aggregated groups with their names (agency, counter, officer, procedure), joined after aggregating."""
    if group_by == "agency":
        return select(AGENCY.c.code.label("g_code"), AGENCY.c.name.label("g_name"), AGENCY.c.code.label("g_agency"),
                      AGENCY.c.name.label("g_agency_name"), figures).select_from(
            figures.join(AGENCY, AGENCY.c.id == figures.c.g_agency_id))
    if group_by == "counter":
        return select(COUNTER.c.code.label("g_code"), COUNTER.c.name.label("g_name"),
                      AGENCY.c.code.label("g_agency"), AGENCY.c.name.label("g_agency_name"), figures).select_from(
            figures.join(COUNTER, COUNTER.c.id == figures.c.g_counter_id)
            .join(AGENCY, AGENCY.c.id == COUNTER.c.agency_id))
    if group_by == "officer":
        return select(OFFICER.c.name.label("g_name"), AGENCY.c.code.label("g_agency"),
                      AGENCY.c.name.label("g_agency_name"), figures).select_from(
            figures.join(AGENCY, AGENCY.c.id == figures.c.g_agency_id)
            .outerjoin(OFFICER, and_(OFFICER.c.agency_id == figures.c.g_agency_id,
                                     OFFICER.c.code == figures.c.g_code)))
    if group_by == "procedure":
        return select(PROCEDURE_INFO.c.name.label("g_name"), figures).select_from(
            figures.outerjoin(PROCEDURE_INFO, PROCEDURE_INFO.c.code == figures.c.g_code))
    return select(figures)


def _key_and_label(group_by: str, row: dict[str, Any], every_agency: bool) -> tuple[str, str]:
    """A group's key and label from its g_* columns (by name)."""
    code, name = row["g_code"], row.get("g_name")
    if group_by == "field":
        return str(code), str(code)
    if group_by == "procedure":
        if not code:
            return "", NO_PROCEDURE
        return str(code), str(name or code)
    if group_by == "agency":
        return str(code), str(name)
    # An officer code not registered on the server shows as the code itself.
    label = NO_OFFICER if group_by == "officer" and not code else str(name or code)
    if every_agency:
        return f"{row['g_agency']}/{code or ''}", f"{label} — {row['g_agency_name']}"
    return str(code or ""), label


_Counts = list[int]
_NONE: tuple[int, ...] = (0,) * len(TOTAL_COUNTS)   # a group with nothing in a period


def _bounds(first: date, last: date, zone: ZoneInfo) -> ColumnElement[bool]:
    """Ratings recorded on the days first..last (inclusive) in the report zone."""
    return and_(RATING.c.recorded_at >= _midnight(first, zone),
                RATING.c.recorded_at < _midnight(last + timedelta(days=1), zone))


def _splits(periods: Sequence[Period], zone: ZoneInfo) -> list[rating_totals.Split]:
    """Each period cut into whole months (read from the month totals) and other days (read from `rating`); all
    days from `rating` when the report zone's offset is not the totals' over the whole span."""
    start, end = periods[0].bounds(zone)[0], periods[-1].bounds(zone)[1]
    if not rating_totals.usable(_offset_segments(start, end, zone)):
        return [rating_totals.whole_days(p.first, p.last) for p in periods]
    return [rating_totals.split(p.first, p.last) for p in periods]


def _raw_limit(splits: Sequence[rating_totals.Split], zone: ZoneInfo,
               devices: Sequence[str]) -> list[ColumnElement[bool]] | None:
    """What `rating` still has to answer: the days outside whole months, and the whole months' ratings of kiosks
    whose chain is not intact (the totals are read without them). [] for everything; None for nothing."""
    months = [s.months for s in splits if s.months is not None]
    if not months:
        return []
    parts = [_bounds(first, last, zone) for s in splits for first, last in s.days]
    if devices:
        parts += [and_(_bounds(first, _month_last(last), zone), RATING.c.device_id.in_(devices))
                  for first, last in months]
    return [or_(*parts)] if parts else None


def _report_select(query: ReportQuery, scope: _Scope, zone: ZoneInfo, not_intact: _Unverified,
                   splits: Sequence[rating_totals.Split]) -> Select[Any] | None:
    """One scan of `rating` over what the month totals do not answer, split by period, verification and repeat
    flag; None when the totals answer everything."""
    limit = _raw_limit(splits, zone, not_intact.devices)
    if limit is None:
        return None
    start, _ = query.period.previous().bounds(zone)
    current_start, end = query.period.bounds(zone)
    keys, source = rating_totals.group_keys(query.group_by, OTHER_FIELD, RATING)
    splits_ = [case((RATING.c.recorded_at >= current_start, 1), else_=0).label("is_current"),
               RATING.c.suspected_repeat.label("is_repeat")]
    if not_intact.condition is not None:
        splits_.append(case((not_intact.condition, 0), else_=1).label("is_verified"))
    figures = (select(*keys, *splits_, *_aggregates()).select_from(source)
               .where(*_where(scope, start, end), *limit).group_by(*keys, *splits_).subquery("figures"))
    return _labelled(query.group_by, figures)


def _totals_select(query: ReportQuery, scope: _Scope, splits: Sequence[rating_totals.Split],
                   devices: Sequence[str]) -> Select[Any] | None:
    """The whole months of both periods from the month totals, grouped as _report_select groups (every row
    verified: kiosks whose chain is not intact are left to `rating`); None when there are no whole months."""
    months = [s.months for s in splits if s.months is not None]
    if not months:
        return None
    table = rating_totals.table_for(query.group_by)
    keys, source = rating_totals.group_keys(query.group_by, OTHER_FIELD)
    # The previous period ends before the current one starts, so its months all fall before this day.
    splits_ = [case((table.c.month >= query.period.first, 1), else_=0).label("is_current"),
               table.c.suspected_repeat.label("is_repeat")]
    conditions = [rating_totals.within(table.c.month, months, months=True),
                  *rating_totals.place(table, scope.agency_id, scope.counter_id, devices)]
    figures = (select(*keys, *splits_, *rating_totals.sums(table)).select_from(source).where(*conditions)
               .group_by(*keys, *splits_).subquery("figures"))
    return _labelled(query.group_by, figures)


class _Group:
    """One group's counts as a report's statements bring them: this period's and the previous period's that count,
    this period's from kiosks whose chain is not intact, and this period's suspected repeats left out."""

    __slots__ = ("current", "excluded", "previous", "unverified")

    def __init__(self) -> None:
        self.current: _Counts | None = None
        self.previous: _Counts | None = None
        self.unverified: _Counts | None = None
        self.excluded = 0


def _plus(have: _Counts | None, counts: Sequence[int]) -> _Counts:
    return list(counts) if have is None else list(map(add, have, counts))


def _collect(conn: Connection, statement: Select[Any], group_by: str, every_agency: bool, split_verified: bool,
             include_repeats: bool, groups: dict[tuple[str, str], _Group]) -> None:
    """Add one statement's rows (a group's counts per period, verification and repeat flag) to the groups.

    Rows are read as the driver's plain tuples, by position, and each group's key and label made once: an officer
    ranking of a year has thousands of rows, and wrapping them in result rows and folding them column by column
    took longer than the query.
    """
    result = conn.execute(statement)
    names = list(result.keys())
    first = names.index(TOTAL_COUNTS[0])
    stop = first + len(TOTAL_COUNTS)
    assert tuple(names[first:stop]) == TOTAL_COUNTS
    current_at, repeat_at = names.index("is_current"), names.index("is_repeat")
    verified_at = names.index("is_verified") if split_verified else None
    labelled = [(i, name) for i, name in enumerate(names) if name.startswith("g_")]
    group_of = itemgetter(*(i for i, _ in labelled))
    keys: dict[Any, tuple[str, str]] = {}
    # Every column is an id, a code, a name, a 0/1 or boolean flag or a count (an integer sum): the drivers' own
    # values need no conversion. Fetched at once: row by row costs psycopg several times more.
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    for row in rows:
        current, repeat = row[current_at], row[repeat_at]
        verified = verified_at is None or row[verified_at]
        group = group_of(row)
        key = keys.get(group)
        if key is None:
            key = keys[group] = _key_and_label(group_by, {name: row[i] for i, name in labelled}, every_agency)
        found = groups.get(key)
        if found is None:
            found = groups[key] = _Group()
        counts = row[first:stop]
        if repeat and not include_repeats:
            if current and verified:
                found.excluded += counts[0]
        elif not verified:
            if current:
                found.unverified = _plus(found.unverified, counts)
        elif current:
            found.current = _plus(found.current, counts)
        else:
            found.previous = _plus(found.previous, counts)


def _sums(counts: Sequence[Sequence[int]]) -> _Counts:
    """Column by column sums of count lists (zeros for none)."""
    return [sum(column) for column in zip(*counts, strict=True)] if counts else list(_NONE)


@dataclass(frozen=True)
class _At:
    """One read transaction with the query's place resolved: what every part of a report reads with."""

    conn: Connection
    zone: ZoneInfo
    scope: _Scope
    not_intact: _Unverified


@contextmanager
def _opened(engine: Engine, query: ReportQuery, settings: ServerSettings) -> Iterator[_At]:
    """A read transaction for `query` (refused with a ReportError before any figure is read)."""
    with _reading(engine) as conn:
        yield _At(conn, ZoneInfo(report_timezone(settings)), _scope(conn, query), _not_intact(conn))


def build(engine: Engine, query: ReportQuery, settings: ServerSettings, *, from_totals: bool = True) -> Report:
    """The report for `query`: the whole months of both periods summed from the month totals, any other days (and
    the kiosks whose chain is not intact) aggregated from the stored ratings: at most one query for each.

    from_totals=False aggregates every day from the stored ratings (the same figures, found the slow way).
    """
    with _opened(engine, query, settings) as at:
        return _build(at, query, settings, from_totals)


def _build(at: _At, query: ReportQuery, settings: ServerSettings, from_totals: bool) -> Report:
    zone, scope, not_intact = at.zone, at.scope, at.not_intact
    periods = (query.period.previous(), query.period)
    splits = (_splits(periods, zone) if from_totals
              else [rating_totals.whole_days(p.first, p.last) for p in periods])
    every_agency = scope.agency_id is None
    groups: dict[tuple[str, str], _Group] = {}
    raw = _report_select(query, scope, zone, not_intact, splits)
    if raw is not None:
        _collect(at.conn, raw, query.group_by, every_agency, not_intact.condition is not None,
                 query.include_repeats, groups)
    totals = _totals_select(query, scope, splits, not_intact.devices)
    if totals is not None:
        _collect(at.conn, totals, query.group_by, every_agency, False, query.include_repeats, groups)
    cfg = settings.reports
    rows = []
    currents: list[Sequence[int]] = []
    previouses: list[Sequence[int]] = []
    unverified: list[Sequence[int]] = []
    for (key, label), group in groups.items():
        if group.unverified is not None:
            unverified.append(group.unverified)
        current, previous = group.current or _NONE, group.previous or _NONE
        if not current[0] and not previous[0]:
            continue  # only unverified ratings or left-out repeats: nothing to rank
        currents.append(current)
        previouses.append(previous)
        figures = _figures_of(current)
        share = figures.dissatisfied_share
        too_few = figures.ratings < cfg.flag_min_ratings
        rows.append(Row(key, label, figures, _figures_of(previous),
                        bool(share is not None and share > cfg.flag_share and not too_few), too_few))
    rows.sort(key=_rank)
    excluded = sum(group.excluded for group in groups.values())
    return Report(query, _figures_of(_sums(currents)), _figures_of(_sums(previouses)), rows,
                  cfg.flag_share, cfg.flag_min_ratings, _figures_of(_sums(unverified)), excluded,
                  zone.key, scope.agency_name, scope.counter_name, _untimed(at, query))


def _untimed(at: _At, query: ReportQuery) -> Figures:
    """The figures of the ratings received in the period whose time cannot be trusted (read from a small index)."""
    start, end = query.period.bounds(at.zone)
    conditions = [TIME_UNTRUSTED, RATING.c.received_at >= start, RATING.c.received_at < end,
                  RATING.c.is_test.is_not(true())]
    if at.scope.agency_id is not None:
        conditions.append(RATING.c.agency_id == at.scope.agency_id)
    if at.scope.counter_id is not None:
        conditions.append(RATING.c.counter_id == at.scope.counter_id)
    if not query.include_repeats:
        conditions.append(RATING.c.suspected_repeat.is_not(true()))
    return _figures(at.conn.execute(select(*_aggregates()).where(*conditions)).one())


def _rank(row: Row) -> tuple[bool, float, int, str]:
    """Best to worst by index; groups with no ratings this period last; then more ratings first, then key."""
    index = row.figures.satisfaction_index
    return index is None, -(index or 0.0), -row.figures.ratings, row.key


# ---- trend --------------------------------------------------------------------------------------------------

def default_bucket(period: Period) -> str:
    """The trend bucket that suits a period: days up to a month, weeks up to a quarter, else months."""
    if period.days <= 31:
        return "day"
    return "week" if period.days <= 92 else "month"


def bucket_start(day: date, bucket: str) -> date:
    """The first day of the day/week (Monday)/month bucket holding `day`."""
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    raise ReportError(f"Đơn vị xu hướng {bucket!r} không hợp lệ; dùng day, week hoặc month",
                      f"invalid trend bucket {bucket!r}; use day, week or month")


def _offset_segments(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, int]]:
    """[(from UTC instant, UTC offset in seconds)] covering [start, end): a new piece where the offset changes."""

    def offset(moment: datetime) -> int:
        shift = moment.astimezone(zone).utcoffset()
        return int(shift.total_seconds()) if shift is not None else 0

    segments = [(start, offset(start))]
    probe = start
    while probe < end:
        following = min(probe + timedelta(days=1), end)
        if offset(following) != segments[-1][1]:
            low, high = probe, following   # the change is within this day: find its second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == segments[-1][1] else (low, middle)
            segments.append((high, offset(high)))
        probe = following
    return segments


def _local_day(conn: Connection, zone: ZoneInfo, start: datetime, end: datetime) -> ColumnElement[Any]:
    """recorded_at as a date in the report zone, computed by the database.

    Shifted by the zone's UTC offset, piece by piece where the offset changes (daylight saving), the same way on
    both databases: PostgreSQL's own `AT TIME ZONE 'Asia/…'` gives the same dates but is slower per row.
    """
    segments = _offset_segments(start, end, zone)
    shifted: list[ColumnElement[Any]]
    if conn.dialect.name == "postgresql":
        shifted = [cast(func.timezone("UTC", RATING.c.recorded_at + literal_column(f"INTERVAL '{seconds:d} seconds'")),
                        Date) for _, seconds in segments]
    else:
        shifted = [literal_column(rating_totals.sqlite_local_date("rating.recorded_at", seconds))
                   for _, seconds in segments]
    if len(segments) == 1:
        return shifted[0]
    whens = [(RATING.c.recorded_at < segments[i + 1][0], shifted[i]) for i in range(len(segments) - 1)]
    return case(*whens, else_=shifted[-1])


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _totals_by(conn: Connection, table: Table, period: Any, ranges: Sequence[tuple[date, date]],
               query: ReportQuery, scope: _Scope, devices: Sequence[str]) -> dict[date, Figures]:
    """The figures that count per day (or month) of the ranges, from a totals table (kiosks whose chain is not
    intact left out: their ratings come from `rating`)."""
    if not ranges:
        return {}
    statement = (select(period, *rating_totals.sums(table))
                 .where(rating_totals.within(period, ranges, months=table is not DAY_TOTALS),
                        *rating_totals.place(table, scope.agency_id, scope.counter_id, devices, query.include_repeats))
                 .group_by(period))
    return {_as_date(row[0]): _figures(row) for row in conn.execute(statement)}


def trend(engine: Engine, query: ReportQuery, settings: ServerSettings, bucket: str = "day", *,
          from_totals: bool = True) -> list[TrendPoint]:
    """The query's figures per local day, week or month of its period, every bucket present (empty ones too).

    Read from the day totals (and, by month, the period's whole months from the month totals); the ratings of
    kiosks whose chain is not intact, and every rating when the totals cannot serve the report zone (or
    from_totals=False), are aggregated from the stored ratings per local day.
    """
    bucket_start(query.period.first, bucket)  # refuses an unknown bucket before touching the database
    with _opened(engine, query, settings) as at:
        return _trend(at, query, bucket, from_totals)


def _trend(at: _At, query: ReportQuery, bucket: str, from_totals: bool) -> list[TrendPoint]:
    conn, zone, scope, not_intact = at.conn, at.zone, at.scope, at.not_intact
    start, end = query.period.bounds(zone)
    first_day, last_day = query.period.first, query.period.last
    totals = from_totals and rating_totals.usable(_offset_segments(start, end, zone))
    split = (rating_totals.split(first_day, last_day) if totals and bucket == "month"
             else rating_totals.whole_days(first_day, last_day))
    parts: dict[date, list[Figures]] = {}
    if totals:
        devices = not_intact.devices
        for day_, figures in _totals_by(conn, DAY_TOTALS, DAY_TOTALS.c.day, split.days, query, scope,
                                        devices).items():
            parts.setdefault(day_, []).append(figures)
        months = [] if split.months is None else [split.months]
        per_month = _totals_by(conn, MONTH_BY_OFFICER, MONTH_BY_OFFICER.c.month, months, query, scope, devices)
    else:
        per_month = {}
    if not totals or not_intact.devices:
        day = _local_day(conn, zone, start, end).label("local_day")
        only = [RATING.c.device_id.in_(not_intact.devices)] if totals else []
        statement = (select(day, *_aggregates())
                     .where(*_counting(conn, query, scope, start, end, not_intact), *only).group_by(day))
        for row in conn.execute(statement):
            parts.setdefault(_as_date(row.local_day), []).append(_figures(row))
    buckets: dict[date, list[Figures]] = {}
    day_ = first_day
    while day_ <= last_day:
        # A bucket cut by the period's start begins on that start: the chart never shows days outside it.
        buckets.setdefault(max(bucket_start(day_, bucket), first_day), []).extend(parts.get(day_, ()))
        day_ += timedelta(days=1)
    for month, figures in per_month.items():
        buckets[month].append(figures)   # a whole month of the period: its own bucket
    return [TrendPoint(first, add_figures(found)) for first, found in buckets.items()]


# ---- comments and harassment reports ------------------------------------------------------------------------

def _comments(at: _At, query: ReportQuery, condition: ColumnElement[bool], limit: int) -> list[Comment]:
    zone = at.zone
    start, end = query.period.bounds(zone)
    conditions = [*_counting(at.conn, query, at.scope, start, end, at.not_intact), condition]
    rows = at.conn.execute(
        select(RATING.c.recorded_at, RATING.c.level, RATING.c.comment, RATING.c.harassment,
               RATING.c.officer_code, AGENCY.c.name.label("agency"), COUNTER.c.name.label("counter"),
               OFFICER.c.name.label("officer"), RATING.c.callback)
        .select_from(RATING.join(AGENCY, AGENCY.c.id == RATING.c.agency_id)
                     .join(COUNTER, COUNTER.c.id == RATING.c.counter_id)
                     .outerjoin(OFFICER, and_(OFFICER.c.agency_id == RATING.c.agency_id,
                                              OFFICER.c.code == RATING.c.officer_code)))
        .where(*conditions).order_by(RATING.c.recorded_at.desc(), RATING.c.seq.desc()).limit(max(limit, 0))
    ).all()
    # A contact stays hidden unless the citizen chose to leave it for a callback (DESIGN: no personal data).
    return [Comment(row.recorded_at.astimezone(zone).strftime("%d/%m/%Y %H:%M"), str(row.agency), str(row.counter),
                    str(row.officer or row.officer_code or "—"), int(row.level),
                    (row.comment or "") if row.callback else mask(row.comment or ""), bool(row.harassment),
                    bool(row.callback)) for row in rows]


def latest_comments(engine: Engine, query: ReportQuery, settings: ServerSettings, limit: int = 20) -> list[Comment]:
    """The newest comments of the period (newest first); contacts masked unless a callback was asked for."""
    with _opened(engine, query, settings) as at:
        return _comments(at, query, COMMENTED, limit)


def harassment_reports(engine: Engine, query: ReportQuery, settings: ServerSettings,
                       limit: int = 50) -> list[Comment]:
    """The period's reports of harassment or unofficial payments (newest first), comments as latest_comments."""
    with _opened(engine, query, settings) as at:
        return _comments(at, query, HARASSMENT_REPORTED, limit)


def dashboard(engine: Engine, query: ReportQuery, settings: ServerSettings, *, trend_period: Period | None = None,
              bucket: str | None = None, harassment_limit: int = 50, comments_limit: int = 20) -> Dashboard:
    """Everything the dashboard shows, read in one transaction: the report, its trend (over `trend_period`, by
    `bucket`; default: the query's period by default_bucket), harassment reports and the latest comments.

    The same figures as build, trend, harassment_reports and latest_comments one by one, which each resolve the
    query's place again in a transaction of their own.
    """
    with reading(engine) as conn:
        return dashboard_on(conn, query, settings, trend_period=trend_period, bucket=bucket,
                            harassment_limit=harassment_limit, comments_limit=comments_limit)


def dashboard_on(conn: Connection, query: ReportQuery, settings: ServerSettings, *,
                 trend_period: Period | None = None, bucket: str | None = None, harassment_limit: int = 50,
                 comments_limit: int = 20) -> Dashboard:
    """As `dashboard`, on a read transaction the caller has open: the dashboard page reads its sign-in, the
    agencies, alerts and publications in the same one, one connection and one transaction for the whole page."""
    span = trend_period or query.period
    bucket = bucket or default_bucket(span)
    bucket_start(span.first, bucket)  # refuses an unknown bucket before touching the database
    if conn.dialect.name == "postgresql":
        # As in _reading: every execution planned for its own values. SET LOCAL lasts to the transaction's end,
        # so whatever the caller reads after the report is planned that way too (about 0.5 ms each, no harm).
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    at = _At(conn, ZoneInfo(report_timezone(settings)), _scope(conn, query), _not_intact(conn))
    return Dashboard(_build(at, query, settings, True), _trend(at, replace(query, period=span), bucket, True),
                     _comments(at, query, HARASSMENT_REPORTED, harassment_limit),
                     _comments(at, query, COMMENTED, comments_limit))


# ---- IT's review of a device whose chain is not intact -------------------------------------------------------

@dataclass(frozen=True)
class Review:
    """What `review_device` did."""

    device_id: str
    chain_state: str
    reviewed_at: datetime
    reviewed_by: str


def review_device(engine: Engine, device_id: str, reviewed_by: str, now: datetime | None = None) -> Review:
    """Mark a device with a broken (or gapped) chain as looked at by IT: its ratings held so far count again."""
    reviewed_by = " ".join(reviewed_by.split())[:64]
    if not reviewed_by:
        raise ReportError("Cần ghi tên người xem xét", "the reviewer's name is needed")
    moment = now or utc_now()
    with writing(engine) as conn:
        row = conn.execute(select(DEVICE.c.chain_state).where(DEVICE.c.id == device_id)).first()
        if row is None:
            raise ReportError(f"Không có thiết bị {device_id!r}", f"no device {device_id!r}")
        if row.chain_state == "intact":
            raise ReportError(f"Chuỗi đánh giá của thiết bị {device_id} nguyên vẹn: không có gì cần xem xét",
                              f"the rating chain of device {device_id} is intact: there is nothing to review")
        conn.execute(update(DEVICE).where(DEVICE.c.id == device_id).values(chain_reviewed_at=moment,
                                                                           chain_reviewed_by=reviewed_by))
    return Review(device_id, str(row.chain_state), moment, reviewed_by)
