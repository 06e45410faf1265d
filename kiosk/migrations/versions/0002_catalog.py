"""The procedure catalog: imported versions, one row per procedure, and a full-text index over folded text."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("imported_at", sa.String(32), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("active", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.CheckConstraint("active IN (0, 1)", name="ck_catalog_version_active"),
    )
    # At most one active version, whatever client writes the file.
    op.create_index("ix_catalog_version_one_active", "catalog_version", ["active"], unique=True,
                    sqlite_where=sa.text("active = 1"))
    op.create_table(
        "procedure",
        sa.Column("version_id", sa.Integer, sa.ForeignKey("catalog_version.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("code", sa.String(64), primary_key=True),
        # The full-text index's rowid: a column of its own, because SQLite may renumber the implicit rowid
        # of a table without an INTEGER PRIMARY KEY on VACUUM, which would point the index at wrong rows.
        sa.Column("id", sa.Integer, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("field_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("field_name", sa.Text, nullable=False, server_default=""),
        sa.Column("level", sa.Text, nullable=False, server_default=""),
        sa.Column("agency", sa.Text, nullable=False, server_default=""),
        # Folded in Python (kiosk.domain.procedures.fold: no tone marks, đ as d) so any SQLite client can read and
        # search the file without an application-defined function.
        sa.Column("name_folded", sa.Text, nullable=False),
        sa.Column("field_folded", sa.Text, nullable=False, server_default=""),
        sa.Column("text_folded", sa.Text, nullable=False, server_default=""),
        # Last: reading the short columns of a row never walks this one's overflow pages.
        sa.Column("body", sa.Text, nullable=False),
    )
    # Covering: the field list with counts, and a search narrowed to one field, read only this index.
    op.create_index("ix_procedure_field", "procedure", ["version_id", "field_code", "field_name", "id"])
    # External content: the index reads its text from the procedure table, so the folded text is stored once.
    # Prefix indexes make "as you type" prefix queries ("dan"*) cheap.
    op.execute(
        "CREATE VIRTUAL TABLE procedure_fts USING fts5("
        "name_folded, text_folded, code, field_folded, "
        "content='procedure', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')"
    )
    # The names alone, for ranking name matches: FTS5's bm25 divides by the length of all of a row's indexed
    # text, which would rank "Đăng ký khai sinh" (many documents) below a longer name with fewer documents.
    op.execute(
        "CREATE VIRTUAL TABLE procedure_name_fts USING fts5("
        "name_folded, content='procedure', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS procedure_name_fts")
    op.execute("DROP TABLE IF EXISTS procedure_fts")
    op.drop_index("ix_procedure_field", table_name="procedure")
    op.drop_table("procedure")
    op.drop_index("ix_catalog_version_one_active", table_name="catalog_version")
    op.drop_table("catalog_version")
