"""Issue 6: reports, publications and alerts. Devices gain a chain review mark; new tables procedure_info
(the catalog's procedures and fields, for grouping), publication (published results, frozen), alert_rule and
alert_event (each alert raised once per rule and occurrence)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("chain_reviewed_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("chain_reviewed_by", sa.String(length=64), nullable=True))
    op.create_table("procedure_info",
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("name", sa.Text(), server_default="", nullable=False),
    sa.Column("field_code", sa.String(length=64), server_default="", nullable=False),
    sa.Column("field_name", sa.Text(), server_default="", nullable=False),
    sa.PrimaryKeyConstraint("code", name=op.f("pk_procedure_info")),
    )
    op.create_table("publication",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("agency_id", sa.Integer(), nullable=False),
    sa.Column("period_kind", sa.String(length=16), nullable=False),
    sa.Column("first", sa.Date(), nullable=False),
    sa.Column("last", sa.Date(), nullable=False),
    sa.Column("group_by", sa.String(length=16), nullable=False),
    sa.Column("title", sa.Text(), server_default="", nullable=False),
    sa.Column("snapshot", sa.Text(), nullable=False),
    sa.Column("published_at", UTC_TIME, nullable=False),
    sa.Column("published_by", sa.String(length=64), server_default="", nullable=False),
    sa.Column("withdrawn_at", UTC_TIME, nullable=True),
    sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_publication_agency_id_agency")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
    )
    op.create_index(op.f("ix_publication_agency_id_period_kind_first_last"), "publication",
                    ["agency_id", "period_kind", "first", "last"], unique=False)
    op.create_table("alert_rule",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("agency_id", sa.Integer(), nullable=False),
    sa.Column("counter_id", sa.Integer(), nullable=True),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("share", sa.Float(), nullable=True),
    sa.Column("window_h", sa.Float(), nullable=True),
    sa.Column("min_ratings", sa.Integer(), nullable=True),
    sa.Column("email_to", sa.Text(), nullable=False),
    sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_alert_rule_agency_id_agency")),
    sa.ForeignKeyConstraint(["counter_id"], ["counter.id"], name=op.f("fk_alert_rule_counter_id_counter")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
    )
    op.create_index(op.f("ix_alert_rule_agency_id"), "alert_rule", ["agency_id"], unique=False)
    op.create_table("alert_event",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("rule_id", sa.Integer(), nullable=False),
    sa.Column("occurrence", sa.String(length=200), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("subject", sa.Text(), server_default="", nullable=False),
    sa.Column("body", sa.Text(), server_default="", nullable=False),
    sa.Column("sent_at", UTC_TIME, nullable=True),
    sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
    sa.Column("last_error", sa.Text(), server_default="", nullable=False),
    sa.ForeignKeyConstraint(["rule_id"], ["alert_rule.id"], name=op.f("fk_alert_event_rule_id_alert_rule")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
    sa.UniqueConstraint("rule_id", "occurrence", name=op.f("uq_alert_event_rule_id_occurrence")),
    )


def downgrade() -> None:
    for table in ("alert_event", "alert_rule", "publication", "procedure_info"):
        op.drop_table(table)
    with op.batch_alter_table("device") as batch:
        batch.drop_column("chain_reviewed_by")
        batch.drop_column("chain_reviewed_at")
