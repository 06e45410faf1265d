"""The reports: a query's figures, trend and dashboard computed by SQL aggregation (what the numbers mean:
figures.py; which ratings count: scope.py).

- One query per figure set and source: the report's queries group by (group, current-or-previous period,
  verified, repeat), so the current figures, the previous period's, the unverified ratings and the repeats left
  out all come from one pass; totals add up the groups, which partition the ratings.
- Sources, for speed: the whole months of a period are summed from the month totals (models MONTH_BY_OFFICER /
  MONTH_BY_PROCEDURE, kept exact by triggers on `rating`: totals.py), the trend from the day totals
  (DAY_TOTALS); the days outside whole months, the ratings of devices whose chain is not intact, and everything
  when the report time zone is not UTC+07:00 over the whole span are aggregated from `rating` itself. Every
  figure is the same either way (from_totals=False reads `rating` only; tests compare the two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
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
    or_,
    select,
    true,
)
from sqlalchemy.sql.expression import Select

from kiosk.domain.levels import CHANNELS_BY_KEY, HARASSMENT_KEY, SCALE_KEYS
from sync.server.db import reading
from sync.server.models import (
    AGENCY,
    COMMENTED,
    COUNTER,
    DAY_TOTALS,
    HARASSMENT_REPORTED,
    LEVEL_VALUES,
    MONTH_BY_OFFICER,
    OFFICER,
    PROCEDURE_INFO,
    RATING,
    TIME_UNTRUSTED,
    TOTAL_COUNTS,
)
from sync.server.results import totals
from sync.server.results.comments import comments_on
from sync.server.results.figures import (
    NO_OFFICER,
    NO_PROCEDURE,
    OTHER_FIELD,
    Dashboard,
    Element,
    Figures,
    Report,
    ReportQuery,
    Row,
    TrendPoint,
    add_figures,
)
from sync.server.results.periods import Period, bucket_start, default_bucket, midnight, month_last, offset_segments
from sync.server.results.scope import At, Scope, Unverified, counting, of_channel, opened, resolved, where
from sync.server.settings import ServerSettings


@lru_cache(maxsize=1)
def _aggregates() -> tuple[ColumnElement[Any], ...]:
    """The figure columns: ratings, the five levels, each element's answered and satisfied, harassment.

    Made once: SQL expressions are immutable, and rebuilding them cost more per page than running a small query.
    """
    columns: list[ColumnElement[Any]] = [func.count().label("n")]
    columns += [func.count().filter(RATING.c.level == value).label(f"l{value}") for value in LEVEL_VALUES]
    for key in SCALE_KEYS:
        column = RATING.c[f"q_{key}"]
        columns += [func.count(column).label(f"a_{key}"), func.count().filter(column >= 4).label(f"s_{key}")]
    columns.append(func.count().filter(HARASSMENT_REPORTED).label(HARASSMENT_KEY))
    return tuple(columns)


@lru_cache(maxsize=1 << 16)
def _element(answered: int, satisfied: int) -> Element:
    # Elements are immutable and a ranking of many small groups repeats the same few counts: share them.
    return Element.of(answered, satisfied)


# Where the counts stand in models.TOTAL_COUNTS: ratings, the five levels, each element's answered and satisfied
# side by side, harassment reports.
_ANSWERED = slice(TOTAL_COUNTS.index(f"a_{SCALE_KEYS[0]}"), TOTAL_COUNTS.index(f"a_{SCALE_KEYS[-1]}") + 1, 2)
_SATISFIED = slice(_ANSWERED.start + 1, _ANSWERED.stop + 1, 2)
_HARASSMENT = TOTAL_COUNTS.index(HARASSMENT_KEY)


def _figures_of(counts: Sequence[int]) -> Figures:
    """Figures from the counts in the order of models.TOTAL_COUNTS."""
    return Figures(counts[0], (counts[1], counts[2], counts[3], counts[4], counts[5]),
                   dict(zip(SCALE_KEYS, map(_element, counts[_ANSWERED], counts[_SATISFIED]), strict=True)),
                   counts[_HARASSMENT])


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
    if group_by == "channel":
        channel = CHANNELS_BY_KEY.get(str(code))
        return str(code), f"{channel.label_vi} / {channel.label_en}" if channel else str(code)
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
    return and_(RATING.c.recorded_at >= midnight(first, zone),
                RATING.c.recorded_at < midnight(last + timedelta(days=1), zone))


def _splits(periods: Sequence[Period], zone: ZoneInfo) -> list[totals.Split]:
    """Each period cut into whole months (read from the month totals) and other days (read from `rating`); all
    days from `rating` when the report zone's offset is not the totals' over the whole span."""
    start, end = periods[0].bounds(zone)[0], periods[-1].bounds(zone)[1]
    if not totals.usable(offset_segments(start, end, zone)):
        return [totals.whole_days(p.first, p.last) for p in periods]
    return [totals.split(p.first, p.last) for p in periods]


def _raw_limit(splits: Sequence[totals.Split], zone: ZoneInfo,
               devices: Sequence[str]) -> list[ColumnElement[bool]] | None:
    """What `rating` still has to answer: the days outside whole months, and the whole months' ratings of kiosks
    whose chain is not intact (the totals are read without them). [] for everything; None for nothing."""
    months = [s.months for s in splits if s.months is not None]
    if not months:
        return []
    parts = [_bounds(first, last, zone) for s in splits for first, last in s.days]
    if devices:
        parts += [and_(_bounds(first, month_last(last), zone), RATING.c.device_id.in_(devices))
                  for first, last in months]
    return [or_(*parts)] if parts else None


def _report_select(query: ReportQuery, scope: Scope, zone: ZoneInfo, not_intact: Unverified,
                   splits: Sequence[totals.Split]) -> Select[Any] | None:
    """One scan of `rating` over what the month totals do not answer, split by period, verification and repeat
    flag; None when the totals answer everything."""
    limit = _raw_limit(splits, zone, not_intact.devices)
    if limit is None:
        return None
    start, _ = query.period.previous().bounds(zone)
    current_start, end = query.period.bounds(zone)
    keys, source = totals.group_keys(query.group_by, OTHER_FIELD, RATING)
    splits_ = [case((RATING.c.recorded_at >= current_start, 1), else_=0).label("is_current"),
               RATING.c.suspected_repeat.label("is_repeat")]
    if not_intact.condition is not None:
        splits_.append(case((not_intact.condition, 0), else_=1).label("is_verified"))
    figures = (select(*keys, *splits_, *_aggregates()).select_from(source)
               .where(*where(scope, start, end), *limit).group_by(*keys, *splits_).subquery("figures"))
    return _labelled(query.group_by, figures)


def _totals_select(query: ReportQuery, scope: Scope, splits: Sequence[totals.Split],
                   devices: Sequence[str]) -> Select[Any] | None:
    """The whole months of both periods from the month totals, grouped as _report_select groups (every row
    verified: kiosks whose chain is not intact are left to `rating`); None when there are no whole months."""
    months = [s.months for s in splits if s.months is not None]
    if not months:
        return None
    table = totals.table_for(query.group_by)
    keys, source = totals.group_keys(query.group_by, OTHER_FIELD)
    # The previous period ends before the current one starts, so its months all fall before this day.
    splits_ = [case((table.c.month >= query.period.first, 1), else_=0).label("is_current"),
               table.c.suspected_repeat.label("is_repeat")]
    conditions = [totals.within(table.c.month, months, months=True),
                  *totals.place(table, scope.agency_id, scope.counter_id, devices, channel=scope.channel)]
    figures = (select(*keys, *splits_, *totals.sums(table)).select_from(source).where(*conditions)
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
    if tuple(names[first:stop]) != TOTAL_COUNTS:
        raise RuntimeError(f"a report statement's counts are not in the order of models.TOTAL_COUNTS: {names}")
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




def build(engine: Engine, query: ReportQuery, settings: ServerSettings, *, from_totals: bool = True) -> Report:
    """The report for `query`: the whole months of both periods summed from the month totals, any other days (and
    the kiosks whose chain is not intact) aggregated from the stored ratings: at most one query for each.

    from_totals=False aggregates every day from the stored ratings (the same figures, found the slow way).
    """
    with opened(engine, query, settings) as at:
        return _build(at, query, settings, from_totals)


def build_on(conn: Connection, query: ReportQuery, settings: ServerSettings) -> Report:
    """As `build`, on a read transaction the caller has open (a page made of several reports reads them in one)."""
    return _build(resolved(conn, query, settings), query, settings, True)


def _build(at: At, query: ReportQuery, settings: ServerSettings, from_totals: bool) -> Report:
    zone, scope, not_intact = at.zone, at.scope, at.not_intact
    periods = (query.period.previous(), query.period)
    splits = (_splits(periods, zone) if from_totals
              else [totals.whole_days(p.first, p.last) for p in periods])
    every_agency = scope.agency_id is None
    groups: dict[tuple[str, str], _Group] = {}
    raw = _report_select(query, scope, zone, not_intact, splits)
    if raw is not None:
        _collect(at.conn, raw, query.group_by, every_agency, not_intact.condition is not None,
                 query.include_repeats, groups)
    summed = _totals_select(query, scope, splits, not_intact.devices)
    if summed is not None:
        _collect(at.conn, summed, query.group_by, every_agency, False, query.include_repeats, groups)
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


def _untimed(at: At, query: ReportQuery) -> Figures:
    """The figures of the ratings received in the period whose time cannot be trusted (read from a small index)."""
    start, end = query.period.bounds(at.zone)
    conditions = [TIME_UNTRUSTED, RATING.c.received_at >= start, RATING.c.received_at < end,
                  RATING.c.is_test.is_not(true())]
    if at.scope.agency_id is not None:
        conditions.append(RATING.c.agency_id == at.scope.agency_id)
    if at.scope.counter_id is not None:
        conditions.append(RATING.c.counter_id == at.scope.counter_id)
    if at.scope.channel is not None:
        conditions.append(of_channel(RATING, at.scope.channel))
    if not query.include_repeats:
        conditions.append(RATING.c.suspected_repeat.is_not(true()))
    return _figures(at.conn.execute(select(*_aggregates()).where(*conditions)).one())


def _rank(row: Row) -> tuple[bool, float, int, str]:
    """Best to worst by index; groups with no ratings this period last; then more ratings first, then key."""
    index = row.figures.satisfaction_index
    return index is None, -(index or 0.0), -row.figures.ratings, row.key



# ---- trend --------------------------------------------------------------------------------------------------

def _local_day(conn: Connection, zone: ZoneInfo, start: datetime, end: datetime) -> ColumnElement[Any]:
    """recorded_at as a date in the report zone, computed by the database.

    Shifted by the zone's UTC offset, piece by piece where the offset changes (daylight saving), the same way on
    both databases: PostgreSQL's own `AT TIME ZONE 'Asia/…'` gives the same dates but is slower per row.
    """
    segments = offset_segments(start, end, zone)
    shifted: list[ColumnElement[Any]]
    if conn.dialect.name == "postgresql":
        shifted = [cast(func.timezone("UTC", RATING.c.recorded_at + literal_column(f"INTERVAL '{seconds:d} seconds'")),
                        Date) for _, seconds in segments]
    else:
        shifted = [literal_column(totals.sqlite_local_date("rating.recorded_at", seconds))
                   for _, seconds in segments]
    if len(segments) == 1:
        return shifted[0]
    whens = [(RATING.c.recorded_at < segments[i + 1][0], shifted[i]) for i in range(len(segments) - 1)]
    return case(*whens, else_=shifted[-1])


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _totals_by(conn: Connection, table: Table, period: Any, ranges: Sequence[tuple[date, date]],
               query: ReportQuery, scope: Scope, devices: Sequence[str]) -> dict[date, Figures]:
    """The figures that count per day (or month) of the ranges, from a totals table (kiosks whose chain is not
    intact left out: their ratings come from `rating`)."""
    if not ranges:
        return {}
    statement = (select(period, *totals.sums(table))
                 .where(totals.within(period, ranges, months=table is not DAY_TOTALS),
                        *totals.place(table, scope.agency_id, scope.counter_id, devices, query.include_repeats,
                                      scope.channel))
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
    with opened(engine, query, settings) as at:
        return _trend(at, query, bucket, from_totals)


def _trend(at: At, query: ReportQuery, bucket: str, from_totals: bool) -> list[TrendPoint]:
    conn, zone, scope, not_intact = at.conn, at.zone, at.scope, at.not_intact
    start, end = query.period.bounds(zone)
    first_day, last_day = query.period.first, query.period.last
    use_totals = from_totals and totals.usable(offset_segments(start, end, zone))
    split = (totals.split(first_day, last_day) if use_totals and bucket == "month"
             else totals.whole_days(first_day, last_day))
    parts: dict[date, list[Figures]] = {}
    if use_totals:
        devices = not_intact.devices
        for day_, figures in _totals_by(conn, DAY_TOTALS, DAY_TOTALS.c.day, split.days, query, scope,
                                        devices).items():
            parts.setdefault(day_, []).append(figures)
        months = [] if split.months is None else [split.months]
        per_month = _totals_by(conn, MONTH_BY_OFFICER, MONTH_BY_OFFICER.c.month, months, query, scope, devices)
    else:
        per_month = {}
    if not use_totals or not_intact.devices:
        day = _local_day(conn, zone, start, end).label("local_day")
        only = [RATING.c.device_id.in_(not_intact.devices)] if use_totals else []
        statement = (select(day, *_aggregates())
                     .where(*counting(conn, query, scope, start, end, not_intact), *only).group_by(day))
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



# ---- the dashboard --------------------------------------------------------------------------------------------

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
    at = resolved(conn, query, settings)
    return Dashboard(_build(at, query, settings, True), _trend(at, replace(query, period=span), bucket, True),
                     comments_on(at, query, HARASSMENT_REPORTED, harassment_limit),
                     comments_on(at, query, COMMENTED, comments_limit))
