"""Small durable facts about the device, kept in the `device_state` table."""

from __future__ import annotations

import sqlite3

from kiosk.db import Database

DEVICE_UUID = "device_uuid"
PUBLIC_KEY = "public_key"
HEAD_SEQ = "head_seq"
HEAD_HASH = "head_hash"
ACKED_SEQ = "acked_seq"
PIN_HASH = "staff_pin_hash"
ON_DUTY = "officer_on_duty"
DEFAULT_LANGUAGE = "default_language"

UPSERT_SQL = ("INSERT INTO device_state (key, value) VALUES (?, ?) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


def get(con: sqlite3.Connection, key: str) -> str | None:
    """The value stored under `key`, or None."""
    row = con.execute("SELECT value FROM device_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def put(con: sqlite3.Connection, key: str, value: str) -> None:
    """Store `value` under `key`, replacing what was there (inside the caller's transaction)."""
    con.execute(UPSERT_SQL, (key, value))


class DeviceState:
    """Read and write device facts, each in its own short transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, key: str) -> str | None:
        """The value stored under `key`, or None."""
        with self.database.reading() as con:
            return get(con, key)

    def put(self, key: str, value: str) -> None:
        """Store `value` under `key`, durably."""
        with self.database.writing() as con:
            put(con, key, value)
