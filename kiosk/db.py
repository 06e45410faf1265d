"""The device's SQLite database: durable settings (WAL, synchronous=FULL) and in-place schema upgrades."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event

from kiosk.errors import KioskError

# The newest migration; start-up compares it with the database and runs Alembic only when they differ,
# so an up-to-date kiosk does not pay for importing Alembic on every boot.
SCHEMA_HEAD = "0001"
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by hand (BEGIN IMMEDIATE) so two writers never both read the same chain head.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def readonly_uri(path: Path) -> str:
    """A read-only SQLite URI for `path`, escaped so a "#", "?" or "%" in a directory name stays part of it."""
    return path.absolute().as_uri() + "?mode=ro"


def schema_version(path: Path) -> str | None:
    """The Alembic revision stamped in the database file, or None for a new or unstamped file."""
    if not path.exists():
        return None
    con = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        con.close()
    return str(row[0]) if row else None


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision in place, keeping every stored row."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "kiosk:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(path: Path) -> Engine:
    """Open (creating or upgrading as needed) the device database at `path`."""
    engine = create_engine(URL.create("sqlite", database=str(path)), future=True)  # no %-decoding of the path
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    try:
        if schema_version(path) != SCHEMA_HEAD:
            upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM log").scalar()
    except Exception as exc:  # any failure here means the kiosk cannot take ratings safely
        engine.dispose()
        raise KioskError(
            f"Không mở được cơ sở dữ liệu {path}: {exc}. Hãy chạy «kiosk doctor».",
            f"Cannot open the database {path}: {exc}. Run 'kiosk doctor'.",
        ) from exc
    return engine
