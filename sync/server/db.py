"""The server's database: engines for SQLite and PostgreSQL, transactions, and Alembic upgrades in place.

On SQLite every write transaction starts with BEGIN IMMEDIATE (one writer at a time, across processes too)
and, inside one process, writers queue on a lock rather than spinning on SQLite's busy handler. On
PostgreSQL writers lock only the rows they change (the device row, SELECT … FOR UPDATE in ingest).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url
from sqlalchemy.engine import URL

from sync.server.errors import ServerError

# The newest migration (sync/server/migrations/versions); a test checks they agree.
SCHEMA_HEAD = "0010"
# Arbitrary, fixed: the PostgreSQL advisory lock that lets one process at a time run migrations.
_MIGRATION_LOCK = 0x6B696F736B
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=60000",
)
_write_locks: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_locks_guard = threading.Lock()


def utc_now() -> datetime:
    """The server's clock, in UTC."""
    return datetime.now(UTC)


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "(URL không hợp lệ / invalid URL)"


def make_engine(url: str) -> Engine:
    """An engine on `url` (sqlite:///FILE or postgresql+psycopg://…), refusing anything else clearly."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise ServerError(f"URL cơ sở dữ liệu không hợp lệ: {url!r}; ví dụ sqlite:///duong/dan/server.db hoặc "
                          "postgresql+psycopg://user@host/db",
                          f"invalid database URL: {url!r}; e.g. sqlite:///path/to/server.db or "
                          "postgresql+psycopg://user@host/db") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        if parsed.drivername != "postgresql+psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # Enough connections for the request threads; stale ones (a restarted PostgreSQL) are replaced.
        return create_engine(parsed, pool_size=10, max_overflow=40, pool_pre_ping=True, pool_timeout=60,
                             connect_args={"connect_timeout": 5})
    raise ServerError(f"Cơ sở dữ liệu {backend!r} không được hỗ trợ; dùng sqlite hoặc postgresql",
                      f"database {backend!r} is not supported; use sqlite or postgresql")


def _private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) owner-only before SQLite does: it holds citizens' contact details
    and comments, and SQLite would make it 0644 less the umask; its journals take the database's mode."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return   # SQLite names the problem when it opens the file, in words the caller already turns into an error
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            with suppress(OSError):   # not the owner: the file stays as whoever made it chose
                os.fchmod(fd, mode & ~0o077)
    finally:
        os.close(fd)


def _sqlite_engine(url: URL) -> Engine:
    if not url.database or url.database == ":memory:":
        raise ServerError("Cần một tệp SQLite (sqlite:///duong/dan/server.db), không dùng bộ nhớ tạm",
                          "a SQLite file is needed (sqlite:///path/to/server.db), not an in-memory database")
    _private_file(Path(url.database))
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: transactions are begun below, so reads and writes differ.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get("kiosk_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _write_lock(engine: Engine) -> threading.Lock | None:
    if engine.dialect.name != "sqlite":
        return None
    with _locks_guard:
        lock = _write_locks.get(engine)
        if lock is None:
            lock = _write_locks[engine] = threading.Lock()
        return lock


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed on success, rolled back on any error."""
    lock = _write_lock(engine)
    if lock is None:
        with engine.begin() as conn:
            yield conn
        return
    with lock, engine.begin() as conn:
        yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (on SQLite it does not take the writer's lock)."""
    with engine.connect() as conn:
        conn.execution_options(kiosk_read_only=True)
        yield conn
        conn.rollback()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision in place, keeping every row; safe to run from many processes."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "sync.server:migrations")
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            # Several servers may start together against one database: one migrates, the others wait.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def unreachable(error: BaseException, url: str) -> ServerError:
    """A database error as one clear bilingual line naming the database (password hidden)."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0] if str(error).strip() else ""
    where = safe_url(url)
    return ServerError(f"Không dùng được cơ sở dữ liệu {where}: {reason}",
                       f"cannot use the database {where}: {reason}")


def schema_version(engine: Engine) -> str | None:
    """The Alembic revision stamped in the database, or None for a new database."""
    with engine.connect() as conn:
        try:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except exc.DatabaseError:  # no such table yet
            conn.rollback()
            return None


def open_database(url: str, *, migrate: bool = True) -> Engine:
    """An engine on `url` whose schema is up to date, or a ServerError saying why not."""
    engine = make_engine(url)
    try:
        current = schema_version(engine)
        # Alembic is loaded only when there is something to do: every CLI command opens the database.
        if migrate and current != SCHEMA_HEAD:
            upgrade(engine)
    except exc.SQLAlchemyError as error:
        engine.dispose()
        raise unreachable(error, url) from None
    except OSError as error:
        engine.dispose()
        raise unreachable(error, url) from None
    return engine
