"""The device's SQLite database: durable settings (WAL, synchronous=FULL) and in-place schema upgrades.

The schema is defined with SQLAlchemy (kiosk/models.py) and migrated with Alembic, which are imported only
when a migration has to run or a tool asks for an engine. Day to day the kiosk talks SQL to SQLite through
the standard library: every tap writes one row, and importing SQLAlchemy alone took as long as half of
Kivy's start-up on the kiosk's boot path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import paths
from kiosk.domain.errors import BilingualError

if TYPE_CHECKING:
    from sqlalchemy import Engine

# The newest migration; start-up compares it with the database and runs Alembic only when they differ.
SCHEMA_HEAD = "0002"
JOURNALS = ("-wal", "-shm", "-journal")  # the files SQLite keeps beside a database
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def _apply_pragmas(connection: Any) -> None:
    # Autocommit mode: transactions are begun by hand (BEGIN IMMEDIATE) so two writers never both read
    # the same chain head.
    connection.isolation_level = None
    cursor = connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


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


def make_engine(path: Path) -> Engine:
    """A SQLAlchemy engine on the file with the kiosk's pragmas (for migrations and tools)."""
    from sqlalchemy import URL, create_engine, event

    engine = create_engine(URL.create("sqlite", database=str(path)))  # URL.create: no %-decoding of the path
    event.listen(engine, "connect", lambda dbapi, _record: _apply_pragmas(dbapi))
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision in place, keeping every stored row."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "kiosk:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """The device database file; hands out standard-library connections with the kiosk's pragmas."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._engine: Engine | None = None

    def connect(self) -> sqlite3.Connection:
        """A new connection in autocommit mode with WAL, synchronous=FULL and a busy timeout."""
        # check_same_thread off: staff mode checks the chain on a worker thread with its own connection,
        # and the rating writer's connection is guarded by a lock.
        con = sqlite3.connect(self.path, check_same_thread=False, timeout=5)
        _apply_pragmas(con)
        con.row_factory = sqlite3.Row
        return con

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads, closed afterwards."""
        con = self.connect()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """An immediate transaction, committed (and fsynced) on success and rolled back on any error."""
        con = self.connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def engine(self) -> Engine:
        """A SQLAlchemy engine on the same file, made on first use."""
        if self._engine is None:
            self._engine = make_engine(self.path)
        return self._engine

    def close(self) -> None:
        """Release the engine if one was made."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def prepare(path: Path) -> Database:
    """Open the device database at `path`, creating or upgrading its schema in place as needed."""
    try:
        # SQLite would create the file with mode 0644 less the umask, and makes its -wal and -shm files with
        # the database's mode: created owner-only first, all three stay so.
        paths.create_private(path)
        for suffix in JOURNALS:
            paths.narrow(path.with_name(path.name + suffix))
        if schema_version(path) != SCHEMA_HEAD:
            engine = make_engine(path)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
        database = Database(path)
        with database.reading() as con:
            con.execute("SELECT count(*) FROM log").fetchone()
    except Exception as exc:  # any failure here means the kiosk cannot take ratings safely
        raise BilingualError(
            f"Không mở được cơ sở dữ liệu {path}: {exc}. Hãy chạy «kiosk doctor».",
            f"Cannot open the database {path}: {exc}. Run 'kiosk doctor'.",
        ) from exc
    return database


def open_database(path: Path) -> Engine:
    """Prepare the database at `path` and return a SQLAlchemy engine on it (for tools and tests)."""
    return prepare(path).engine()
