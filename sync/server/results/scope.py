"""What a report reads with: one read transaction, the query's place resolved, and which ratings count.

Every part of a report (its figures, trend and lists of comments) reads within an `At`: the agency and counter
asked for as ids, the kiosks whose chain is not intact, and the report time zone. The WHERE conditions here say
which ratings count: in the period and the place, not a test, a trusted time, verified, repeats as the query says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, Table, and_, not_, or_, select, true

from kiosk.domain.levels import CHANNEL_KEYS
from sync.server.db import reading
from sync.server.errors import ReportError
from sync.server.models import AGENCY, COUNTER, DEVICE, RATING
from sync.server.results.figures import GROUPINGS, ReportQuery
from sync.server.results.periods import PERIOD_KINDS
from sync.server.settings import ServerSettings, report_timezone


@dataclass(frozen=True)
class Scope:
    """The query resolved against the database: ids for the WHERE, names for the report."""

    agency_id: int | None
    agency_name: str
    counter_id: int | None
    counter_name: str
    channel: str | None = None      # the ratings of one channel only (None: all)


def custom_plans(conn: Connection) -> None:
    """On PostgreSQL, plan every execution of this transaction for its own values."""
    if conn.dialect.name == "postgresql":
        # The same statements come again with other dates and places. After a few, a prepared statement may
        # get PostgreSQL's generic plan, made without knowing them: seen taking 250–570 ms instead of 1–4 ms
        # (a kiosk's ratings, a month's days). SET LOCAL lasts to the transaction's end, so whatever the caller
        # reads after the report is planned that way too (about 0.5 ms each, no harm).
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


def check_query(query: ReportQuery) -> None:
    """Refuse, with a ReportError, a query no report can be made for (before the database is asked)."""
    if query.group_by not in GROUPINGS:
        raise ReportError(f"Không nhóm theo {query.group_by!r} được; dùng {', '.join(GROUPINGS)}",
                          f"cannot group by {query.group_by!r}; use {', '.join(GROUPINGS)}")
    if query.period.kind not in PERIOD_KINDS:
        raise ReportError(f"Loại kỳ {query.period.kind!r} không hợp lệ", f"invalid period kind {query.period.kind!r}")
    if query.period.first > query.period.last:
        raise ReportError("Kỳ báo cáo có ngày bắt đầu sau ngày kết thúc", "the period starts after it ends")
    if query.channel is not None and query.channel not in CHANNEL_KEYS:
        raise ReportError(f"Kênh {query.channel!r} không có; dùng {', '.join(CHANNEL_KEYS)}",
                          f"no channel {query.channel!r}; use {', '.join(CHANNEL_KEYS)}")
    if query.counter_code is not None and query.agency_code is None:
        raise ReportError("Chọn quầy thì phải chọn cả cơ quan (mã quầy chỉ riêng trong một cơ quan)",
                          "a counter needs its agency too (counter codes are unique only within an agency)")


def scope_of(conn: Connection, query: ReportQuery) -> Scope:
    """The query's agency and counter as ids and names; a ReportError names one that does not exist."""
    check_query(query)
    if query.agency_code is None:
        return Scope(None, "", None, "", query.channel)
    agency = conn.execute(select(AGENCY.c.id, AGENCY.c.name).where(AGENCY.c.code == query.agency_code)).first()
    if agency is None:
        raise ReportError(f"Không có cơ quan mã {query.agency_code!r}", f"no agency with code {query.agency_code!r}")
    if query.counter_code is None:
        return Scope(int(agency.id), str(agency.name), None, "", query.channel)
    counter = conn.execute(select(COUNTER.c.id, COUNTER.c.name).where(
        COUNTER.c.agency_id == agency.id, COUNTER.c.code == query.counter_code)).first()
    if counter is None:
        raise ReportError(f"Cơ quan {query.agency_code} không có quầy mã {query.counter_code!r}",
                          f"agency {query.agency_code} has no counter {query.counter_code!r}")
    return Scope(int(agency.id), str(agency.name), int(counter.id), str(counter.name), query.channel)


@dataclass(frozen=True)
class Unverified:
    """The devices whose chain is not intact, and the condition on `rating` of their ratings that do not count."""

    devices: list[str]
    condition: ColumnElement[bool] | None


def find_unverified(conn: Connection) -> Unverified:
    """Ratings not to be mixed into the figures: from a device whose chain is not intact, received after IT last
    reviewed it (or never reviewed). No devices and no condition when every chain is intact, as almost always.

    Read from the few devices concerned rather than joined per rating: the aggregation then touches `rating` only.
    """
    rows = conn.execute(select(DEVICE.c.id, DEVICE.c.chain_reviewed_at)
                        .where(DEVICE.c.chain_state != "intact").order_by(DEVICE.c.id)).all()
    if not rows:
        return Unverified([], None)
    never = [str(row.id) for row in rows if row.chain_reviewed_at is None]
    parts: list[ColumnElement[bool]] = [RATING.c.device_id.in_(never)] if never else []
    parts += [and_(RATING.c.device_id == row.id, RATING.c.received_at > row.chain_reviewed_at)
              for row in rows if row.chain_reviewed_at is not None]
    return Unverified([str(row.id) for row in rows], or_(*parts))


def where(scope: Scope, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """The ratings of the place recorded in [start, end) that can count: not tests, their time trusted."""
    # The range on recorded_at (UTC instants of local midnights) is what lets (agency_id, recorded_at) serve it.
    conditions = [RATING.c.recorded_at >= start, RATING.c.recorded_at < end, RATING.c.is_test.is_not(true()),
                  RATING.c.time_trusted.is_(true())]
    if scope.agency_id is not None:
        conditions.append(RATING.c.agency_id == scope.agency_id)
    if scope.counter_id is not None:
        conditions.append(RATING.c.counter_id == scope.counter_id)
    if scope.channel is not None:
        conditions.append(of_channel(RATING, scope.channel))
    return conditions


def of_channel(table: Table, channel: str) -> ColumnElement[bool]:
    """Rows of `table` (rating, or a totals table) from the devices of one channel."""
    return table.c.device_id.in_(select(DEVICE.c.id).where(DEVICE.c.channel == channel).scalar_subquery())


def counting(conn: Connection, query: ReportQuery, scope: Scope, start: datetime, end: datetime,
             not_intact: Unverified | None = None) -> list[ColumnElement[bool]]:
    """The WHERE of the lists that show only what counts: in scope, verified, repeats as the query says."""
    conditions = where(scope, start, end)
    unverified = (not_intact or find_unverified(conn)).condition
    if unverified is not None:
        conditions.append(not_(unverified))
    if not query.include_repeats:
        conditions.append(RATING.c.suspected_repeat.is_not(true()))
    return conditions


@dataclass(frozen=True)
class At:
    """One read transaction with the query's place resolved: what every part of a report reads with."""

    conn: Connection
    zone: ZoneInfo
    scope: Scope
    not_intact: Unverified


def resolved(conn: Connection, query: ReportQuery, settings: ServerSettings) -> At:
    """`query` read on an open read transaction (refused with a ReportError before any figure is read)."""
    custom_plans(conn)
    return At(conn, ZoneInfo(report_timezone(settings)), scope_of(conn, query), find_unverified(conn))


@contextmanager
def opened(engine: Engine, query: ReportQuery, settings: ServerSettings) -> Iterator[At]:
    """A read transaction of its own for `query` (refused with a ReportError before any figure is read)."""
    with reading(engine) as conn:
        yield resolved(conn, query, settings)
