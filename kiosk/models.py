"""SQLAlchemy table definitions of the device database: the append-only rating log and the device state.

Core tables rather than ORM classes: the device appends and reads rows, it never loads object graphs, and
not importing the ORM keeps the kiosk's cold start short.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text, false

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
