"""SQLAlchemy table definitions of the device database: the rating log, the device state and the catalog.

Core tables rather than ORM classes: the device appends and reads rows, it never loads object graphs, and
not importing the ORM keeps the kiosk's cold start short.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

metadata = MetaData()

# One signed, chained record: a rating, or a follow-up answer that refers to a rating by its uuid.
LOG = Table(
    "log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),          # "rating" or "answer"
    Column("recorded_at", String(32), nullable=False),   # UTC, ISO 8601 with milliseconds and Z
    Column("rating_uuid", String(36)),
    Column("level", Integer),
    Column("counter_id", String(64)),
    Column("officer_id", String(64)),
    Column("procedure_code", String(64)),
    Column("language", String(8)),
    Column("suspected_repeat", Boolean, nullable=False, server_default=false()),
    Column("is_test", Boolean, nullable=False, server_default=false()),
    Column("question", String(32)),
    Column("value", Integer),
    Column("text", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("signature", String(128), nullable=False),
)

# Small key/value facts about this device: its id, the chain head, the staff PIN, who is on duty.
STATE = Table(
    "device_state", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# One imported catalog file. Old versions stay listed (when, from where, how many) but only the active one
# keeps its procedures.
CATALOG_VERSION = Table(
    "catalog_version", metadata,
    Column("id", Integer, primary_key=True),
    Column("imported_at", String(32), nullable=False),  # UTC, ISO 8601 with Z
    Column("source", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("active", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("active IN (0, 1)", name="ck_catalog_version_active"),
    Index("ix_catalog_version_one_active", "active", unique=True, sqlite_where=text("active = 1")),
)

# One procedure of a catalog version: a few columns to list and filter by, folded text for the full-text
# indexes (the FTS5 tables procedure_fts and procedure_name_fts, created by migration 0002, read it as
# external content keyed by `id`), and the whole Procedure as JSON in `body`, last so short reads never
# touch it.
PROCEDURE = Table(
    "procedure", metadata,
    Column("version_id", Integer, ForeignKey("catalog_version.id"), primary_key=True, autoincrement=False),
    Column("code", String(64), primary_key=True),
    Column("id", Integer, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("field_code", String(64), nullable=False, server_default=""),
    Column("field_name", Text, nullable=False, server_default=""),
    Column("level", Text, nullable=False, server_default=""),
    Column("agency", Text, nullable=False, server_default=""),
    Column("name_folded", Text, nullable=False),
    Column("field_folded", Text, nullable=False, server_default=""),
    Column("text_folded", Text, nullable=False, server_default=""),
    Column("body", Text, nullable=False),
    Index("ix_procedure_field", "version_id", "field_code", "field_name", "id"),
)
