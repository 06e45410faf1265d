"""Feedback becomes a case: each comment, harassment report and callback request is a `feedback_case` to assign,
answer (by e-mail when the citizen left an address), close and publish, with its history in `case_event`.

One case per rating and kind (UNIQUE(device_id, rating_uuid, kind)), so two workers making cases at once never make two.
The SQL is written out here, not taken from the models, so this revision stays what it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("rating_uuid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("contact_phone", sa.String(length=40), server_default="", nullable=False),
        sa.Column("contact_email", sa.String(length=200), server_default="", nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("assignee", sa.String(length=200), server_default="", nullable=False),
        sa.Column("reply", sa.Text(), server_default="", nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_by", sa.String(length=64), server_default="", nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_status", sa.String(length=16), server_default="", nullable=False),
        sa.Column("mail_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("mail_error", sa.String(length=500), server_default="", nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_question", sa.Text(), nullable=True),
        sa.Column("published_reply", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=64), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_feedback_case_agency_id_agency")),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"], name=op.f("fk_feedback_case_counter_id_counter")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_case")),
        sa.UniqueConstraint("device_id", "rating_uuid", "kind",
                            name=op.f("uq_feedback_case_device_id_rating_uuid_kind")),
    )
    op.create_index(op.f("ix_feedback_case_agency_id_status"), "feedback_case", ["agency_id", "status"])
    op.create_index(op.f("ix_feedback_case_status_due_on"), "feedback_case", ["status", "due_on"])
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), server_default="", nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), server_default="", nullable=False),
        sa.Column("to_status", sa.String(length=16), server_default="", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["feedback_case.id"], name=op.f("fk_case_event_case_id_feedback_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    op.create_index(op.f("ix_case_event_case_id"), "case_event", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_event_case_id"), table_name="case_event")
    op.drop_table("case_event")
    op.drop_index(op.f("ix_feedback_case_status_due_on"), table_name="feedback_case")
    op.drop_index(op.f("ix_feedback_case_agency_id_status"), table_name="feedback_case")
    op.drop_table("feedback_case")
