"""Every channel the plans measure through: the web form and paper questionnaires beside the kiosk.

A device row now says how its ratings reach the server (`channel`: kiosk, web or paper). Web and paper answers
are stored as the records of a device the server makes for each counter and channel, chained and signed by the
server with a key kept outside the database, so they go through the same checks, tables and totals as a kiosk's.
What the server knows of them beyond the records is in `survey_response` (why one was flagged, its token, a paper
form's number, who entered it, the scanned image); `survey_token` holds the one-time tokens printed as QR codes,
`paper_form` the numbered questionnaires printed, `omr_reading` the scanned forms held for a person, and
`rate_window` the web form's answers per hashed address and minute.

The SQL is written out here, not taken from the models, so this revision stays what it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("device", sa.Column("channel", sa.String(length=8), nullable=False, server_default="kiosk"))
    server_channel = sa.text("channel <> 'kiosk'")
    op.create_index("uq_device_agency_id_counter_id_channel", "device", ["agency_id", "counter_id", "channel"],
                    unique=True, postgresql_where=server_channel, sqlite_where=server_channel)
    op.create_table(
        "survey_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.String(length=64), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating_uuid", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_survey_token_agency_id_agency")),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"], name=op.f("fk_survey_token_counter_id_counter")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_token_token_hash")),
    )
    op.create_table(
        "survey_response",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("rating_uuid", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flag_reason", sa.String(length=32), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("form_number", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.String(length=64), server_default="", nullable=False),
        sa.Column("image_path", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_survey_response_agency_id_agency")),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_survey_response_device_id_device")),
        sa.ForeignKeyConstraint(["token_id"], ["survey_token.id"],
                                name=op.f("fk_survey_response_token_id_survey_token")),
        sa.PrimaryKeyConstraint("device_id", "rating_uuid", name=op.f("pk_survey_response")),
        sa.UniqueConstraint("agency_id", "form_number", name=op.f("uq_survey_response_agency_id_form_number")),
    )
    op.create_index(op.f("ix_survey_response_agency_id_received_at"), "survey_response",
                    ["agency_id", "received_at"], unique=False)
    op.create_table(
        "paper_form",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("period_first", sa.Date(), nullable=False),
        sa.Column("period_last", sa.Date(), nullable=False),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("printed_by", sa.String(length=64), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_paper_form_agency_id_agency")),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"], name=op.f("fk_paper_form_counter_id_counter")),
        sa.PrimaryKeyConstraint("agency_id", "number", name=op.f("pk_paper_form")),
    )
    op.create_table(
        "omr_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("form_number", sa.Integer(), nullable=True),
        sa.Column("image_path", sa.Text(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("unclear", sa.Text(), server_default="[]", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), server_default="", nullable=False),
        sa.Column("rating_uuid", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_omr_reading_agency_id_agency")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_omr_reading")),
    )
    op.create_index(op.f("ix_omr_reading_agency_id_status"), "omr_reading", ["agency_id", "status"], unique=False)
    op.create_table(
        "rate_window",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", "window_start", name=op.f("pk_rate_window")),
    )


def downgrade() -> None:
    op.drop_table("rate_window")
    op.drop_index(op.f("ix_omr_reading_agency_id_status"), table_name="omr_reading")
    op.drop_table("omr_reading")
    op.drop_table("paper_form")
    op.drop_index(op.f("ix_survey_response_agency_id_received_at"), table_name="survey_response")
    op.drop_table("survey_response")
    op.drop_table("survey_token")
    op.drop_index("uq_device_agency_id_counter_id_channel", table_name="device")
    op.drop_column("device", "channel")
