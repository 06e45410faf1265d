"""An alert rule may watch one channel (kiosk, web or paper) instead of every channel.

NULL, as every rule made before, watches them all.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_rule", sa.Column("channel", sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("alert_rule", "channel")
