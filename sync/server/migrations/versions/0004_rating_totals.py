"""Day and month totals of the ratings, kept by triggers, so a month's, quarter's or year's
results read thousands of rows instead of hundreds of thousands; and small partial indexes for the dashboard's
newest comments and harassment reports.

Three tables count the non-test ratings per local day or month (UTC+07:00), agency, counter, device and repeat
flag: rating_month_officer (and officer), rating_month_procedure (and procedure), rating_day. Triggers on
`rating` add every inserted row, take away every deleted one and move every updated one (subtract the old row,
add the new), in the same transaction, whoever writes: the push, the CLI, a test, an administrator at the SQL
prompt. The tables are filled from the ratings already stored, after the triggers exist and with writers to
`rating` locked out (PostgreSQL; SQLite has one writer anyway), so no rating is counted twice or missed.

The SQL is written out here, not taken from the models, so this revision stays what it was when later ones
change the models. A later revision that rebuilds `rating` on SQLite (batch_alter_table copies it into a new
table) drops these triggers with the old table and must create them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OFFSET_S = 7 * 3600   # models.TOTALS_OFFSET_S when this revision was written
# Each table: the column of its day or month, and the code it keeps beside the place (if any).
TABLES: dict[str, tuple[str, str | None]] = {
    "rating_month_officer": ("month", "officer_code"),
    "rating_month_procedure": ("month", "procedure_code"),
    "rating_day": ("day", None),
}
ELEMENTS = ("access", "procedure", "officer", "result", "feedback")
# Each count and its contribution of one rating row `r` (a column reference prefix such as "NEW.").
COUNTS: tuple[tuple[str, str], ...] = (
    ("n", "1"),
    *((f"l{level}", f"CASE WHEN {{r}}level = {level} THEN 1 ELSE 0 END") for level in range(1, 6)),
    *((name, expression) for key in ELEMENTS for name, expression in (
        (f"a_{key}", f"CASE WHEN {{r}}q_{key} IS NOT NULL THEN 1 ELSE 0 END"),
        (f"s_{key}", f"CASE WHEN {{r}}q_{key} >= 4 THEN 1 ELSE 0 END"))),
    ("harassment", "CASE WHEN {r}harassment THEN 1 ELSE 0 END"),
)
SQLITE_TRIGGERS = ("rating_totals_insert", "rating_totals_delete", "rating_totals_update")
# The partial indexes on rating: (name, columns, which ratings), the WHERE as each dialect renders the reports'
# condition, so the planner sees that they match.
PARTIAL_INDEXES = tuple(
    (f"ix_rating_{prefix}recorded_at_{what}", [*columns, "recorded_at"], what)
    for prefix, columns in (("", []), ("agency_id_", ["agency_id"])) for what in ("commented", "harassment"))


def _period(dialect: str, grain: str, r: str) -> str:
    """The rating's local day, or its month's first day, at OFFSET_S (as a date), in the dialect's SQL."""
    if dialect == "postgresql":
        local = f"timezone('UTC', {r}recorded_at + INTERVAL '{OFFSET_S} seconds')"
        return f"date_trunc('month', {local})::date" if grain == "month" else f"{local}::date"
    start_of_month = ", 'start of month'" if grain == "month" else ""
    # Whole seconds only: SQLite reads times to the millisecond, so 16:59:59.9999 would round to 17:00, which
    # is midnight in Vietnam, and put the rating on the next day.
    return f"date(substr({r}recorded_at, 1, 19), '+{OFFSET_S} seconds'{start_of_month})"


def _key(grain: str, code: str | None) -> list[str]:
    return [grain, "agency_id", "counter_id", "device_id", *([code] if code else []), "suspected_repeat"]


def _create_tables() -> None:
    for table, (grain, code) in TABLES.items():
        op.create_table(table,
        sa.Column(grain, sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        *([sa.Column(code, sa.String(length=64), nullable=False)] if code else []),
        sa.Column("suspected_repeat", sa.Boolean(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name, _ in COUNTS),
        sa.PrimaryKeyConstraint(*_key(grain, code), name=op.f(f"pk_{table}")),
        postgresql_with={"fillfactor": 70},   # room for each rating's update beside the row it rewrites
        )
        op.create_index(op.f(f"ix_{table}_agency_id_{grain}"), table, ["agency_id", grain], unique=False)


def _key_values(dialect: str, grain: str, code: str | None, r: str) -> list[str]:
    return [_period(dialect, grain, r), f"{r}agency_id", f"{r}counter_id", f"{r}device_id",
            *([f"coalesce({r}{code}, '')"] if code else []), f"{r}suspected_repeat"]


def _upsert(dialect: str, table: str, r: str, sign: str, condition: str) -> str:
    """One rating row's counts added (sign '') or taken away (sign '-') in `table`."""
    grain, code = TABLES[table]
    key = _key(grain, code)
    values = [*_key_values(dialect, grain, code, r), *(f"{sign}({expression.format(r=r)})" for _, expression in COUNTS)]
    sets = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name, _ in COUNTS)
    # SQLite needs a WHERE after INSERT … SELECT before ON CONFLICT, or it reads ON as a join.
    return (f"INSERT INTO {table} ({', '.join([*key, *(name for name, _ in COUNTS)])}) SELECT {', '.join(values)} "
            f"WHERE {condition} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}")


def postgresql_row_trigger() -> None:
    """The row trigger that keeps the totals on PostgreSQL (revision 0005 replaces it; its downgrade restores it)."""
    body = "\n".join(f"  {_upsert('postgresql', table, 'r.', 'd * ', 'true')};" for table in TABLES)
    op.execute("CREATE FUNCTION rating_totals_add(r rating, d integer) RETURNS void LANGUAGE plpgsql AS $$\n"
               "BEGIN\n  IF r.is_test THEN RETURN; END IF;\n" + body + "\nEND $$")
    op.execute("CREATE FUNCTION rating_totals_row() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
               "  IF TG_OP <> 'INSERT' THEN PERFORM rating_totals_add(OLD, -1); END IF;\n"
               "  IF TG_OP <> 'DELETE' THEN PERFORM rating_totals_add(NEW, 1); END IF;\n"
               "  RETURN NULL;\nEND $$")
    op.execute("CREATE TRIGGER rating_totals_row AFTER INSERT OR DELETE OR UPDATE ON rating "
               "FOR EACH ROW EXECUTE FUNCTION rating_totals_row()")


def _postgresql_triggers() -> None:
    postgresql_row_trigger()
    op.execute("CREATE FUNCTION rating_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
               f"  TRUNCATE {', '.join(TABLES)};\n  RETURN NULL;\nEND $$")
    op.execute("CREATE TRIGGER rating_totals_truncate AFTER TRUNCATE ON rating "
               "FOR EACH STATEMENT EXECUTE FUNCTION rating_totals_truncate()")


def _sqlite_triggers() -> None:
    def statements(r: str, sign: str) -> str:
        return "".join(f"  {_upsert('sqlite', table, r, sign, f'NOT {r}is_test')};\n" for table in TABLES)

    op.execute(f"CREATE TRIGGER rating_totals_insert AFTER INSERT ON rating BEGIN\n{statements('NEW.', '')}END")
    op.execute(f"CREATE TRIGGER rating_totals_delete AFTER DELETE ON rating BEGIN\n{statements('OLD.', '-')}END")
    op.execute("CREATE TRIGGER rating_totals_update AFTER UPDATE ON rating BEGIN\n"
               f"{statements('OLD.', '-')}{statements('NEW.', '')}END")


def _fill(dialect: str) -> None:
    """The totals of the ratings already stored."""
    for table, (grain, code) in TABLES.items():
        key = _key(grain, code)
        sums = ", ".join(f"sum({expression.format(r='')})" for _, expression in COUNTS)
        places = ", ".join(str(n) for n in range(1, len(key) + 1))
        op.execute(f"INSERT INTO {table} ({', '.join([*key, *(name for name, _ in COUNTS)])}) "
                   f"SELECT {', '.join(_key_values(dialect, grain, code, ''))}, {sums} FROM rating "
                   f"WHERE NOT is_test GROUP BY {places}")


def _partial_indexes(dialect: str) -> None:
    """The newest comments and harassment reports of a period, of every agency or one, read from small indexes."""
    where = {"commented": "comment IS NOT NULL AND comment != ''",
             "harassment": "harassment IS true" if dialect == "postgresql" else "harassment IS 1"}
    for name, columns, what in PARTIAL_INDEXES:
        op.create_index(name, "rating", columns, unique=False, postgresql_where=sa.text(where[what]),
                        sqlite_where=sa.text(where[what]))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # No rating may be written between the fill and the triggers taking over (readers are not blocked).
        op.execute("LOCK TABLE rating IN SHARE ROW EXCLUSIVE MODE")
    _create_tables()
    if dialect == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    _fill(dialect)
    _partial_indexes(dialect)


def downgrade() -> None:
    for name, _, _ in PARTIAL_INDEXES:
        op.drop_index(name, table_name="rating")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS rating_totals_truncate ON rating")
        op.execute("DROP TRIGGER IF EXISTS rating_totals_row ON rating")
        for function in ("rating_totals_truncate()", "rating_totals_row()", "rating_totals_add(rating, integer)"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in TABLES:
        op.drop_table(table)
