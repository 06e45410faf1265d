"""The rating totals (models.MONTH_BY_OFFICER, MONTH_BY_PROCEDURE, DAY_TOTALS): which days of a period they
answer, the SQL that sums them the way reports.py aggregates raw ratings, and how a push's batch is counted in.

A report's period is cut into its whole months, which the month totals answer, and the days before and after
them, which reports.py still counts from `rating`; a trend reads the day totals (and the month totals for whole
months when it counts by month). The totals count days at TOTALS_OFFSET_S, so they are used only when the
report time zone has exactly that offset over the whole span asked for; any other zone counts raw rows.
Ratings of a kiosk whose chain is not intact always come from `rating` (whether each counts depends on when it
was received), so the totals are read without those kiosks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, func, literal_column, or_, select, text, true

from kiosk.domain.levels import HARASSMENT_KEY, SCALE_KEYS
from sync.server import bulk
from sync.server.models import (
    DAY_TOTALS,
    DEVICE,
    LEVEL_VALUES,
    MONTH_BY_OFFICER,
    MONTH_BY_PROCEDURE,
    PROCEDURE_INFO,
    RATING,
    TOTAL_COUNTS,
    TOTALS_OFFSET_S,
)

# Groupings whose keys the officer table holds (the channel is the device's, which both tables hold); the others
# (procedure, field) read the procedure table.
_BY_OFFICER = ("agency", "counter", "officer", "channel")


@dataclass(frozen=True)
class Split:
    """A span of days as the month totals see it: its whole months, and the days outside them (inclusive)."""

    months: tuple[date, date] | None     # the first days of its first and last whole month; None: no whole month
    days: tuple[tuple[date, date], ...]  # zero, one or two ranges of days the month totals do not answer


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def split(first: date, last: date) -> Split:
    """The whole months within [first, last] and the days before and after them."""
    start = first if first.day == 1 else _next_month(first.replace(day=1))
    after = last + timedelta(days=1)
    stop = after if after.day == 1 else after.replace(day=1)   # the first day after the last whole month
    if start >= stop:
        return Split(None, ((first, last),))
    days = []
    if first < start:
        days.append((first, start - timedelta(days=1)))
    if stop <= last:
        days.append((stop, last))
    return Split((start, _previous_month(stop)), tuple(days))


def whole_days(first: date, last: date) -> Split:
    """The span as days only, no whole months."""
    return Split(None, ((first, last),))


def usable(segments: Sequence[tuple[datetime, int]]) -> bool:
    """True when the report zone's UTC offset over the span (periods.offset_segments) is the totals' offset."""
    return len(segments) == 1 and segments[0][1] == TOTALS_OFFSET_S


def table_for(group_by: str) -> Table:
    """The month totals table that holds a grouping's keys."""
    return MONTH_BY_OFFICER if group_by in _BY_OFFICER else MONTH_BY_PROCEDURE


def group_keys(group_by: str, other_field: str, table: Table | None = None) -> tuple[list[ColumnElement[Any]], Any]:
    """What to group by (ids and codes, cheap to hash), labelled g_*, and the FROM it needs: in the month totals
    table of the grouping, or in `table` (reports pass `rating` for the ratings the totals do not answer)."""
    table = table_for(group_by) if table is None else table
    if group_by == "agency":
        return [table.c.agency_id.label("g_agency_id")], table
    if group_by == "counter":
        return [table.c.counter_id.label("g_counter_id")], table
    if group_by == "officer":
        return [table.c.agency_id.label("g_agency_id"), table.c.officer_code.label("g_code")], table
    if group_by == "procedure":
        return [table.c.procedure_code.label("g_code")], table
    if group_by == "channel":
        return [DEVICE.c.channel.label("g_code")], table.join(DEVICE, DEVICE.c.id == table.c.device_id)
    # The field is looked up when the report is made, so a catalog imported since counts at once, and each field
    # is one group however many procedures it holds.
    field_name = func.coalesce(func.nullif(PROCEDURE_INFO.c.field_name, ""), literal_column(f"'{other_field}'"))
    return [field_name.label("g_code")], table.outerjoin(PROCEDURE_INFO,
                                                         PROCEDURE_INFO.c.code == table.c.procedure_code)


@lru_cache(maxsize=8)
def sums(table: Table) -> tuple[ColumnElement[Any], ...]:
    """The figure columns, each the sum of its count, labelled as reports._aggregates labels them (made once per
    table: SQL expressions are immutable)."""
    return tuple(func.sum(table.c[name]).label(name) for name in TOTAL_COUNTS)


def within(column: Any, ranges: Sequence[tuple[date, date]], *, months: bool = False) -> ColumnElement[bool]:
    """Rows whose day (or, with months=True, month's first day) is in any of the inclusive ranges; ranges that
    follow each other (a period and the one before it) are read as one."""
    joined: list[tuple[date, date]] = []
    for first, last in sorted(ranges):
        if joined and first <= (_next_month(joined[-1][1]) if months else joined[-1][1] + timedelta(days=1)):
            joined[-1] = (joined[-1][0], max(last, joined[-1][1]))
        else:
            joined.append((first, last))
    return or_(*(and_(column >= first, column <= last) for first, last in joined))


def place(table: Table, agency_id: int | None, counter_id: int | None, devices: Sequence[str],
          include_repeats: bool = True, channel: str | None = None) -> list[ColumnElement[bool]]:
    """The rows of one agency or counter (None: all) and channel (None: all), without the given kiosks, repeats in
    or out."""
    conditions: list[ColumnElement[bool]] = []
    if channel is not None:
        conditions.append(table.c.device_id.in_(select(DEVICE.c.id).where(DEVICE.c.channel == channel)
                                                .scalar_subquery()))
    if agency_id is not None:
        conditions.append(table.c.agency_id == agency_id)
    if counter_id is not None:
        conditions.append(table.c.counter_id == counter_id)
    if devices:
        conditions.append(table.c.device_id.not_in(devices))
    if not include_repeats:
        conditions.append(table.c.suspected_repeat.is_not(true()))
    return conditions


# ---- counting a push's batch in ---------------------------------------------------------------------------

# How one stored rating counts, in SQL: the expressions migration 0004 gave the triggers, in TOTAL_COUNTS order.
_COUNT_SQL = ("1", *(f"CASE WHEN level = {level} THEN 1 ELSE 0 END" for level in LEVEL_VALUES),
              *(expression for key in SCALE_KEYS for expression in (
                  f"CASE WHEN q_{key} IS NOT NULL THEN 1 ELSE 0 END", f"CASE WHEN q_{key} >= 4 THEN 1 ELSE 0 END")),
              f"CASE WHEN {HARASSMENT_KEY} THEN 1 ELSE 0 END")


def sqlite_local_date(column: str, offset_s: int, *, month: bool = False) -> str:
    """SQLite SQL for the date (or its month's first day) at `offset_s` from UTC of a time column, which SQLite
    holds as integer microseconds (models.UtcDateTime); whole seconds, as the totals' triggers count."""
    start_of_month = ", 'start of month'" if month else ""
    return f"date({column} / 1000000 + {offset_s:d}, 'unixepoch'{start_of_month})"


def _sqlite_fold(table: Table) -> str:
    """Every rating stored after rowid :after added to `table`, one upsert per key (its primary key)."""
    key = [column.name for column in table.primary_key.columns]   # period, place, device, [code], repeat flag
    period = sqlite_local_date("recorded_at", TOTALS_OFFSET_S, month=key[0] == "month")
    values = [period, *(f"coalesce({name}, '')" if name.endswith("_code") else name for name in key[1:])]
    sums = ", ".join(f"sum({expression})" for expression in _COUNT_SQL)
    sets = ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in TOTAL_COUNTS)
    places = ", ".join(str(n) for n in range(1, len(key) + 1))
    return (f"INSERT INTO {table.name} ({', '.join([*key, *TOTAL_COUNTS])}) SELECT {', '.join(values)}, {sums} "
            f"FROM rating WHERE rowid > :after AND NOT is_test AND time_trusted GROUP BY {places} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}")


_SQLITE_FOLDS = tuple(text(_sqlite_fold(table)) for table in (MONTH_BY_OFFICER, MONTH_BY_PROCEDURE, DAY_TOTALS))


def insert_ratings(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store a batch of ratings with their totals, in the connection's transaction.

    PostgreSQL's statement trigger (migration 0005) counts a bulk insert as one; on SQLite the row trigger stands
    aside while `rating_totals_deferred` holds a row, and the batch is added grouped by key instead of rewriting
    the same day and month rows once per rating. The flag is set and cleared inside this transaction.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        bulk.insert_rows(conn, RATING, rows)
        return
    after: int = conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM rating").scalar_one()
    conn.exec_driver_sql("INSERT INTO rating_totals_deferred (one) VALUES (1)")
    bulk.insert_rows(conn, RATING, rows)
    for fold in _SQLITE_FOLDS:
        conn.execute(fold, {"after": after})
    conn.exec_driver_sql("DELETE FROM rating_totals_deferred")
