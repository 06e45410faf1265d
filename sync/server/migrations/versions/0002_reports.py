"""Reports, publications and alerts.

Devices gain a chain review mark; ratings an index on recorded_at alone (reports over every agency). New tables:
procedure_info (the catalog's procedures and fields, for grouping; filled from the newest catalog already
imported), publication (published results, frozen), alert_rule and alert_event (each alert raised once per rule
and occurrence)."""

from __future__ import annotations

import json
from typing import Any

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
    # Reports over every agency select a span of recorded_at alone.
    op.create_index(op.f("ix_rating_recorded_at"), "rating", ["recorded_at"], unique=False)
    op.create_table("procedure_info",
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("name", sa.Text(), server_default="", nullable=False),
    sa.Column("field_code", sa.String(length=64), server_default="", nullable=False),
    sa.Column("field_name", sa.Text(), server_default="", nullable=False),
    sa.PrimaryKeyConstraint("code", name=op.f("pk_procedure_info")),
    )
    _fill_procedure_info()
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


def _fill_procedure_info() -> None:
    """Procedures and fields from the newest catalog already distributed, so grouping by field works at once."""
    conn = op.get_bind()
    body = conn.execute(sa.text("SELECT body FROM catalog_version ORDER BY version DESC LIMIT 1")).scalar()
    if body is None:
        return
    try:
        records: Any = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return  # the server wrote this body itself; if it cannot be read, the next import fills the table
    rows: dict[str, dict[str, str]] = {}
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict) or not isinstance(record.get("MATTHC"), str):
            continue
        fields = record.get("LINHVUCTHUCHIEN") or [{}]
        first = fields[0] if isinstance(fields, list) and fields and isinstance(fields[0], dict) else {}
        rows[record["MATTHC"][:64]] = {
            "code": record["MATTHC"][:64], "name": str(record.get("TENTTHC") or ""),
            "field_code": str(first.get("MALINHVUC") or "")[:64], "field_name": str(first.get("TENLINHVUC") or ""),
        }
    if rows:
        table = sa.table("procedure_info", sa.column("code"), sa.column("name"), sa.column("field_code"),
                         sa.column("field_name"))
        op.bulk_insert(table, list(rows.values()))


def downgrade() -> None:
    for table in ("alert_event", "alert_rule", "publication", "procedure_info"):
        op.drop_table(table)
    op.drop_index(op.f("ix_rating_recorded_at"), table_name="rating")
    with op.batch_alter_table("device") as batch:
        batch.drop_column("chain_reviewed_by")
        batch.drop_column("chain_reviewed_at")
