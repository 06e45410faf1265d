"""Small durable facts about the device, kept in the `device_state` table."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.sqlite import insert

from kiosk.models import STATE

DEVICE_UUID = "device_uuid"
PUBLIC_KEY = "public_key"
HEAD_SEQ = "head_seq"
HEAD_HASH = "head_hash"
ACKED_SEQ = "acked_seq"
PIN_HASH = "staff_pin_hash"
ON_DUTY = "officer_on_duty"
DEFAULT_LANGUAGE = "default_language"


def get(conn: Connection, key: str) -> str | None:
    """The value stored under `key`, or None."""
    return conn.execute(select(STATE.c.value).where(STATE.c.key == key)).scalar_one_or_none()


def put(conn: Connection, key: str, value: str) -> None:
    """Store `value` under `key`, replacing what was there."""
    stmt = insert(STATE).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=[STATE.c.key], set_={"value": value}))


class DeviceState:
    """Read and write device facts, each in its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> str | None:
        """The value stored under `key`, or None."""
        with self.engine.connect() as conn:
            return get(conn, key)

    def put(self, key: str, value: str) -> None:
        """Store `value` under `key`, durably."""
        with self.engine.begin() as conn:
            put(conn, key, value)
