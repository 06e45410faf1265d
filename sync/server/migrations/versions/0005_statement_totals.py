"""On PostgreSQL the rating totals of 0004 are kept once per statement instead of once per row.

Revision 0004's row trigger ran three upserts for every rating, so a push of 500 ratings rewrote the same few day
and month rows 1,500 times. Statement-level triggers see every row a statement wrote at once (its transition
tables) and add them grouped by key: one upsert per totals row the statement touches. What is counted, and how,
is exactly 0004's (its COUNTS, keys and periods are reused, not copied). A statement that writes one row (the
test suite's executemany, an administrator's UPDATE) costs about what the row trigger did.

SQLite has no statement-level triggers. There the insert trigger of 0004 now stands aside while the table
`rating_totals_deferred` holds a row: the push sets it inside its own transaction, inserts the batch, adds the
batch's ratings to the totals grouped by key (sync.server.results.totals.insert_ratings) and clears it before it
commits, so no other connection ever sees it set. Every other writer is counted row by row, as before.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The 0004 revision module (its file name starts with a digit, so it is loaded by name).
_0004 = importlib.import_module("sync.server.migrations.versions.0004_rating_totals")
# PostgreSQL allows transition tables only on a trigger for one event, hence one trigger per event.
TRIGGERS = {"INSERT": "rating_totals_insert", "DELETE": "rating_totals_delete", "UPDATE": "rating_totals_update"}


def _upsert(table: str, rows: str) -> str:
    """The statement's rows (`rows`, with a column `d` of +1 or -1) added to `table`, one upsert per key."""
    grain, code = _0004.TABLES[table]
    key = _0004._key(grain, code)
    key_values = _0004._key_values("postgresql", grain, code, "r.")
    sums = [f"sum(r.d * ({expression.format(r='r.')}))" for _, expression in _0004.COUNTS]
    sets = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name, _ in _0004.COUNTS)
    places = ", ".join(str(n) for n in range(1, len(key) + 1))
    # An UPDATE that changes nothing counted (a comment, a late procedure on a test rating) writes no row.
    changed = " OR ".join(f"{total} <> 0" for total in sums)
    return (f"INSERT INTO {table} ({', '.join([*key, *(name for name, _ in _0004.COUNTS)])}) "
            f"SELECT {', '.join(key_values)}, {', '.join(sums)} FROM ({rows}) AS r WHERE NOT r.is_test "
            f"GROUP BY {places} HAVING {changed} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}")


def _rows(event: str) -> str:
    if event == "INSERT":
        return "SELECT n.*, 1 AS d FROM new_rows AS n"
    if event == "DELETE":
        return "SELECT o.*, -1 AS d FROM old_rows AS o"
    return "SELECT n.*, 1 AS d FROM new_rows AS n UNION ALL SELECT o.*, -1 AS d FROM old_rows AS o"


def _sqlite_insert_trigger(when: str) -> None:
    """0004's insert trigger on SQLite, made again with the condition `when` ('' for none)."""
    statements = "".join(f"  {_0004._upsert('sqlite', table, 'NEW.', '', 'NOT NEW.is_test')};\n"
                         for table in _0004.TABLES)
    op.execute("DROP TRIGGER rating_totals_insert")
    op.execute(f"CREATE TRIGGER rating_totals_insert AFTER INSERT ON rating {when} BEGIN\n{statements}END")


def upgrade() -> None:
    # Made on both databases so the schema is one; only SQLite's trigger reads it.
    op.create_table("rating_totals_deferred",
                    sa.Column("one", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("one", name=op.f("pk_rating_totals_deferred")))
    if op.get_bind().dialect.name != "postgresql":
        _sqlite_insert_trigger("WHEN NOT EXISTS (SELECT 1 FROM rating_totals_deferred)")
        return
    # Writers wait while the triggers are swapped, so no rating is counted by both or by neither.
    op.execute("LOCK TABLE rating IN SHARE ROW EXCLUSIVE MODE")
    op.execute("DROP TRIGGER rating_totals_row ON rating")
    op.execute("DROP FUNCTION rating_totals_row()")
    op.execute("DROP FUNCTION rating_totals_add(rating, integer)")
    for event, name in TRIGGERS.items():
        body = "\n".join(f"  {_upsert(table, _rows(event))};" for table in _0004.TABLES)
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n"
                   "  RETURN NULL;\nEND $$")
        referencing = " ".join(f"{which} TABLE AS {alias}" for which, alias in
                               (("OLD", "old_rows"), ("NEW", "new_rows"))
                               if (which == "NEW" and event != "DELETE") or (which == "OLD" and event != "INSERT"))
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON rating REFERENCING {referencing} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _sqlite_insert_trigger("")
        op.drop_table("rating_totals_deferred")
        return
    op.execute("LOCK TABLE rating IN SHARE ROW EXCLUSIVE MODE")
    for name in TRIGGERS.values():
        op.execute(f"DROP TRIGGER {name} ON rating")
        op.execute(f"DROP FUNCTION {name}()")
    _0004.postgresql_row_trigger()
    op.drop_table("rating_totals_deferred")
