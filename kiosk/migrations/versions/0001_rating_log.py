"""The append-only rating log and the device state."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("rating_uuid", sa.String(36)),
        sa.Column("level", sa.Integer),
        sa.Column("counter_id", sa.String(64)),
        sa.Column("officer_id", sa.String(64)),
        sa.Column("procedure_code", sa.String(64)),
        sa.Column("language", sa.String(8)),
        sa.Column("suspected_repeat", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_test", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("question", sa.String(32)),
        sa.Column("value", sa.Integer),
        sa.Column("text", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("signature", sa.String(128), nullable=False),
    )
    # No secondary indexes beyond the two unique ones: each costs a page write on every tap, and the
    # device only ever reads the log in sequence order (the primary key) or whole.
    op.create_table(
        "device_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    # The app never updates or deletes a log row; refusing it in the database stops accidents by any
    # client. A determined editor can drop these triggers, which is what the signed chain is for.
    op.execute("CREATE TRIGGER log_append_only_update BEFORE UPDATE ON log "
               "BEGIN SELECT RAISE(ABORT, 'the rating log is append-only'); END")
    op.execute("CREATE TRIGGER log_append_only_delete BEFORE DELETE ON log "
               "BEGIN SELECT RAISE(ABORT, 'the rating log is append-only'); END")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS log_append_only_delete")
    op.execute("DROP TRIGGER IF EXISTS log_append_only_update")
    op.drop_table("device_state")
    op.drop_table("log")
