"""Times as moments: integer microseconds on SQLite, and ratings placed by the device's clock as the server knows it.

SQLite has no time type. The server kept its times there as text, and two spellings of one instant sort apart
('2026-10-31 17:00:00' before '2026-10-31 17:00:00.000000'): a rating pushed at exactly a local midnight was
counted on the day before. Every time column on SQLite now holds whole microseconds since 1970-01-01 UTC (the
column is still declared DATETIME, which SQLite reads as a numeric affinity), compared as numbers. PostgreSQL
already keeps timestamptz.

Ratings gain `clock_offset_s` (how far the server moved the device's time because the device's clock was off) and
`time_trusted` (false: no consistent reading of the device's clock, left out of every period); devices gain
`clock_drift_at` and `last_record_at` (sync.server.devices.clock). The totals count only ratings whose time is
trusted: SQLite's triggers are made again (they read the new form of the time), PostgreSQL's statement functions
replaced. The totals are filled again on SQLite, where the triggers were away while the times were converted.

The SQL is written out here (the 0004 helpers give the counts and keys), so this revision stays what it is when
later ones change the models.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_0004 = importlib.import_module("sync.server.migrations.versions.0004_rating_totals")
_0005 = importlib.import_module("sync.server.migrations.versions.0005_statement_totals")

# Every time column when this revision was written.
TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "admin_user": ("created_at",), "agency": ("created_at",), "catalog_version": ("imported_at",),
    "login_throttle": ("last_failure_at",), "nonce": ("seen_at",), "admin_session": ("created_at", "expires_at"),
    "publication": ("published_at", "withdrawn_at"), "alert_rule": ("created_at",),
    "device": ("created_at", "enrolled_at", "revoked_at", "last_contact_at", "last_push_at", "health_at",
               "chain_reviewed_at"),
    "alert_event": ("created_at", "sent_at"), "enrolment_code": ("created_at", "expires_at", "used_at"),
    "health": ("received_at", "device_time"), "rating": ("recorded_at", "received_at"), "record": ("received_at",),
}
# Which ratings the totals count, as a condition on a rating row `{r}`.
COUNTED = "NOT {r}is_test AND {r}time_trusted"
UNTRUSTED_INDEX = "ix_rating_received_at_untrusted"


def _sqlite_micros(column: str) -> str:
    """SQLite: 'YYYY-MM-DD HH:MM:SS[.ffffff]' (naive UTC) as integer microseconds, exactly."""
    fraction = (f"CASE WHEN length({column}) > 20 THEN CAST(substr(substr({column}, 21) || '000000', 1, 6) "
                "AS INTEGER) ELSE 0 END")
    return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 + {fraction}"


def _sqlite_text(column: str) -> str:
    """SQLite: integer microseconds back as the text form revision 0005 read."""
    return (f"strftime('%Y-%m-%d %H:%M:%S', {column} / 1000000, 'unixepoch') || '.' || "
            f"printf('%06d', {column} % 1000000)")


def _sqlite_period(grain: str, r: str) -> str:
    """SQLite: a rating's local day (or its month's first day) at 0004's offset, from integer microseconds."""
    start_of_month = ", 'start of month'" if grain == "month" else ""
    return f"date({r}recorded_at / 1000000 + {_0004.OFFSET_S}, 'unixepoch'{start_of_month})"


def _sqlite_upsert(table: str, r: str, sign: str) -> str:
    """One rating row's counts added (sign '') or taken away (sign '-') in `table`, if it counts."""
    grain, code = _0004.TABLES[table]
    key = _0004._key(grain, code)
    values = [_sqlite_period(grain, r), f"{r}agency_id", f"{r}counter_id", f"{r}device_id",
              *([f"coalesce({r}{code}, '')"] if code else []), f"{r}suspected_repeat",
              *(f"{sign}({expression.format(r=r)})" for _, expression in _0004.COUNTS)]
    sets = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name, _ in _0004.COUNTS)
    # SQLite needs a WHERE after INSERT … SELECT before ON CONFLICT, or it reads ON as a join.
    return (f"INSERT INTO {table} ({', '.join([*key, *(name for name, _ in _0004.COUNTS)])}) "
            f"SELECT {', '.join(values)} WHERE {COUNTED.format(r=r)} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}")


def _sqlite_triggers() -> None:
    def statements(r: str, sign: str) -> str:
        return "".join(f"  {_sqlite_upsert(table, r, sign)};\n" for table in _0004.TABLES)

    # The push adds its own batch to the totals while rating_totals_deferred holds a row (revision 0005).
    op.execute("CREATE TRIGGER rating_totals_insert AFTER INSERT ON rating "
               f"WHEN NOT EXISTS (SELECT 1 FROM rating_totals_deferred) BEGIN\n{statements('NEW.', '')}END")
    op.execute(f"CREATE TRIGGER rating_totals_delete AFTER DELETE ON rating BEGIN\n{statements('OLD.', '-')}END")
    op.execute("CREATE TRIGGER rating_totals_update AFTER UPDATE ON rating BEGIN\n"
               f"{statements('OLD.', '-')}{statements('NEW.', '')}END")


def _sqlite_refill() -> None:
    for table, (grain, code) in _0004.TABLES.items():
        key = _0004._key(grain, code)
        values = [_sqlite_period(grain, ""), "agency_id", "counter_id", "device_id",
                  *([f"coalesce({code}, '')"] if code else []), "suspected_repeat"]
        sums = ", ".join(f"sum({expression.format(r='')})" for _, expression in _0004.COUNTS)
        places = ", ".join(str(n) for n in range(1, len(key) + 1))
        op.execute(f"DELETE FROM {table}")
        op.execute(f"INSERT INTO {table} ({', '.join([*key, *(name for name, _ in _0004.COUNTS)])}) "
                   f"SELECT {', '.join(values)}, {sums} FROM rating WHERE {COUNTED.format(r='')} GROUP BY {places}")


def _postgresql_functions(condition: str) -> None:
    """0005's statement functions, counting only the rows that meet `condition` (on a row `r.`)."""
    for event, name in _0005.TRIGGERS.items():
        body = "\n".join(f"  {_0005._upsert(table, _0005._rows(event))};" for table in _0004.TABLES)
        body = body.replace(" WHERE NOT r.is_test ", f" WHERE {condition} ")
        op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n"
                   "  RETURN NULL;\nEND $$")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("LOCK TABLE rating IN SHARE ROW EXCLUSIVE MODE")
    op.add_column("device", sa.Column("clock_drift_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("device", sa.Column("last_record_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("rating", sa.Column("clock_offset_s", sa.Float(), nullable=False, server_default="0"))
    op.add_column("rating", sa.Column("time_trusted", sa.Boolean(), nullable=False, server_default=sa.true()))
    where = sa.text("time_trusted IS false" if dialect == "postgresql" else "time_trusted IS 0")
    op.create_index(UNTRUSTED_INDEX, "rating", ["received_at"], unique=False, postgresql_where=where,
                    sqlite_where=where)
    if dialect == "postgresql":
        _postgresql_functions(COUNTED.format(r="r."))
        return
    for trigger in _0004.SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    for table, columns in TIME_COLUMNS.items():
        for column in columns:
            op.execute(f"UPDATE {table} SET {column} = {_sqlite_micros(column)} WHERE typeof({column}) = 'text'")
    _sqlite_triggers()
    _sqlite_refill()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("LOCK TABLE rating IN SHARE ROW EXCLUSIVE MODE")
        _postgresql_functions("NOT r.is_test")
    else:
        for trigger in _0004.SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
        for table, columns in TIME_COLUMNS.items():
            for column in columns:
                op.execute(f"UPDATE {table} SET {column} = {_sqlite_text(column)} "
                           f"WHERE typeof({column}) = 'integer'")
    op.drop_index(UNTRUSTED_INDEX, table_name="rating")
    op.drop_column("rating", "time_trusted")
    op.drop_column("rating", "clock_offset_s")
    op.drop_column("device", "last_record_at")
    op.drop_column("device", "clock_drift_at")
    if dialect != "postgresql":
        # 0004's triggers over the text times, with 0005's condition on the insert one; the totals filled again.
        _0004._sqlite_triggers()
        _0005._sqlite_insert_trigger("WHEN NOT EXISTS (SELECT 1 FROM rating_totals_deferred)")
        for table in _0004.TABLES:
            op.execute(f"DELETE FROM {table}")
        _0004._fill("sqlite")
