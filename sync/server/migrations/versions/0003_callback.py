"""The citizen's request to be contacted about a comment, folded into rating.callback.

NULL where the kiosk sent no callback answer (every rating stored before this revision); the answers already
stored in `record` are folded in, so a request made before the upgrade is not lost."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rating") as batch:
        batch.add_column(sa.Column("callback", sa.Boolean(), nullable=True))
    # Servers of revision 0002 kept callback answers in `record` without folding them.
    op.execute(sa.text(
        "UPDATE rating SET callback = :yes WHERE EXISTS (SELECT 1 FROM record WHERE record.device_id = "
        "rating.device_id AND record.rating_uuid = rating.uuid AND record.kind = 'answer' AND "
        "record.question = 'callback' AND record.value = 1)").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table("rating") as batch:
        batch.drop_column("callback")
