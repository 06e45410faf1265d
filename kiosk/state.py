"""Small durable facts about the device, kept in the `device_state` table."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from kiosk.db import Database

DEVICE_UUID = "device_uuid"
PUBLIC_KEY = "public_key"
HEAD_SEQ = "head_seq"
HEAD_HASH = "head_hash"
ACKED_SEQ = "acked_seq"
PIN_HASH = "staff_pin_hash"                 # set with `kiosk pin set`; overrides the settings file's staff.pin_hash
PIN_REHASH = "staff_pin_rehash"             # "<SHA-256 of a hash with older scrypt settings>:<its stronger twin>"
PIN_FAILURES = "staff_pin_failures"         # wrong PINs in a row, since the last right one or lockout
PIN_LOCKED_UNTIL = "staff_pin_locked_until"  # wall-clock UNIX time the PIN pad's lockout ends
ON_DUTY = "officer_on_duty"
DEFAULT_LANGUAGE = "default_language"
# Sync (written by sync/agent, read by staff mode, `kiosk-sync status` and doctor).
SERVER_URL = "sync_server_url"              # the server this device enrolled with
SERVER_DEVICE_ID = "sync_device_id"         # the device ID the server gave at enrolment
ENROLLED_AT = "sync_enrolled_at"            # UTC ISO 8601
SERVER_SETTINGS = "sync_server_settings"    # protocol.DeviceSettings as JSON, applied over the settings file
SETTINGS_VERSION = "sync_settings_version"  # its version, stored in the same transaction
CATALOG_ETAG = "sync_catalog_etag"          # SHA-256 of the catalog last imported from the server
CATALOG_VERSION = "sync_catalog_version"    # the server's version number of that catalog
CLOCK_OFFSET = "sync_clock_offset_s"        # server clock minus device clock, learnt from a clock_skew answer
CLOCK_DRIFT = "sync_clock_drift_s"          # the drift the server measured in the last health report
CLOCK_FLAGGED = "sync_clock_flagged"        # "1" when the server flagged that drift
LAST_ATTEMPT = "sync_last_attempt"          # UTC ISO 8601 of the last pass started
LAST_SUCCESS = "sync_last_success"          # UTC ISO 8601 of the last pass that reached the server in full
# The last pass's first error as JSON {"at", "vi", "en"} ("when|vi|en" on older kiosks); empty after a success.
LAST_ERROR = "sync_last_error"

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

    def get_many(self, *keys: str) -> dict[str, str | None]:
        """The values stored under `keys` (None where nothing is), read together in one transaction."""
        with self.database.reading() as con:
            return {key: get(con, key) for key in keys}

    def put(self, key: str, value: str) -> None:
        """Store `value` under `key`, durably."""
        with self.database.writing() as con:
            put(con, key, value)

    def put_many(self, values: Mapping[str, str]) -> None:
        """Store every key and value, durably and all together."""
        with self.database.writing() as con:
            for key, value in values.items():
                put(con, key, value)

    def replace(self, key: str, expected: str, value: str) -> bool:
        """Store `value` under `key` only if `key` holds `expected` now; True if it did."""
        with self.database.writing() as con:
            if get(con, key) != expected:
                return False
            put(con, key, value)
            return True
