"""Bulk inserts through the database driver: COPY on PostgreSQL, the driver's executemany on SQLite.

A push stores hundreds of rows in two tables. SQLAlchemy Core's executemany costs as much again as the insert
itself on SQLite, and on PostgreSQL it sends one INSERT per row, each firing the totals trigger (migration
0005) for one row; COPY sends the batch as one statement. Values are bound exactly as Core would bind them (the
columns' own bind processors, such as UtcDateTime's), and a broken constraint raises SQLAlchemy's
IntegrityError either way, so callers see no difference but the speed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, exc
from sqlalchemy.engine import Dialect

_Processor = Callable[[Any], Any] | None


@cache
def _columns(table: Table, dialect: Dialect, given: frozenset[str]) -> tuple[tuple[str, ...], tuple[_Processor, ...]]:
    """The table's columns that the rows give (the others take their defaults) and their bind processors."""
    columns = [column for column in table.columns if column.name in given]
    # The type as this dialect implements it: the generic type's processor would skip what the dialect adds
    # (SQLite's integer times, say) and leave the value to the driver's own, different, conversion.
    return (tuple(column.name for column in columns),
            tuple(column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns))


def _bound(rows: Sequence[Mapping[str, Any]], names: tuple[str, ...],
           processors: tuple[_Processor, ...]) -> list[tuple[Any, ...]]:
    """Each row as values in column order, every value bound as Core binds it; a key another row has is NULL."""
    convert = [(i, process) for i, process in enumerate(processors) if process is not None]
    bound = []
    for row in rows:
        values = list(map(row.get, names))
        for i, process in convert:
            if values[i] is not None:
                values[i] = process(values[i])
        bound.append(tuple(values))
    return bound


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows in one go, in the connection's transaction; columns the first row leaves out get their
    defaults in every row."""
    if not rows:
        return
    names, processors = _columns(table, conn.dialect, frozenset(rows[0]))
    values = _bound(rows, names, processors)
    columns = ", ".join(names)
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({', '.join('?' * len(names))})",
                             values)
        return
    statement = f"COPY {table.name} ({columns}) FROM STDIN"
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has no driver connection to COPY with (it was closed or invalidated)")
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except conn.dialect.dbapi.IntegrityError as error:  # type: ignore[union-attr]
        raise exc.IntegrityError(statement, None, error) from error
