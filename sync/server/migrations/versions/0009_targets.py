"""The satisfaction index an agency aims for, per year (Ninh Hòa: over 83%; Tuy Phước: 90% or more).

`index_permille` holds the target in tenths of a percent (830 is 83%, 835 is 83.5%), an integer so a target
round-trips and compares exactly; `elements` holds optional per-element targets as JSON in the same unit.

The SQL is written out here, not taken from the models, so this revision stays what it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "satisfaction_target",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("index_permille", sa.Integer(), nullable=False),
        sa.Column("elements", sa.Text(), server_default="{}", nullable=False),
        sa.Column("set_by", sa.String(length=64), server_default="", nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"],
                                name=op.f("fk_satisfaction_target_agency_id_agency")),
        sa.PrimaryKeyConstraint("agency_id", "year", name=op.f("pk_satisfaction_target")),
    )


def downgrade() -> None:
    op.drop_table("satisfaction_target")
