"""Shared test set-up: Kivy runs offscreen with its own home, and every test gets a fresh data directory."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

# Must be set before anything imports Kivy: no screen here, and Kivy must not parse pytest's arguments,
# take over logging or write into the real home directory.
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
# One Kivy home per process: xdist's workers inherit the environment, and two workers importing Kivy at once into
# one new home race to create its folders.
os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-")
os.environ.pop("KIOSK_CONFIG", None)
os.environ.pop("KIOSK_DATA_DIR", None)

import pytest

from kiosk.db import Database, prepare
from kiosk.services import Services
from kiosk.settings import Settings, load

if TYPE_CHECKING:
    from tests.sync_harness import Device, ServerHandle

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "config" / "kiosk.toml"


@pytest.fixture
def settings() -> Settings:
    """The example settings shipped in config/kiosk.toml."""
    return load(EXAMPLE_CONFIG)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data directory."""
    return tmp_path / "data"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A fresh device database at the newest schema."""
    db = prepare(tmp_path / "kiosk.db")
    yield db
    db.close()


@pytest.fixture
def services(settings: Settings, data_dir: Path) -> Iterator[Services]:
    """Services on a fresh database and device key."""
    svc = Services.open(settings, data_dir)
    yield svc
    svc.close()


# ---- the central server: PostgreSQL databases and running servers (see tests/sync_harness.py) ---------------

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL_TEMPLATE = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@contextmanager
def _fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on 127.0.0.1:5432, dropped afterwards; its SQLAlchemy URL."""
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL on 127.0.0.1:5432 is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: PostgreSQL is required)", pytrace=False)
        pytest.skip(message)
    name = f"kiosk_test_{uuid.uuid4().hex[:16]}"
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_URL_TEMPLATE.format(name=name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test (skipped when unreachable, failed when CI=true)."""
    with _fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="module")
def pg_url_module() -> Iterator[str]:
    """A fresh PostgreSQL database shared by the tests of one module."""
    with _fresh_pg_database() as url:
        yield url


SERVER_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _db_url(request: pytest.FixtureRequest, backend: str, directory: Path, pg_fixture: str) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue(pg_fixture))
    return f"sqlite:///{directory / 'server.db'}"


@pytest.fixture(params=SERVER_BACKENDS)
def server_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty server database: a SQLite file, or a new PostgreSQL database."""
    return _db_url(request, str(request.param), tmp_path, "pg_url")


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, empty server database shared by the tests of one module, once per backend."""
    return _db_url(request, str(request.param), tmp_path_factory.mktemp("module-db"), "pg_url_module")


@pytest.fixture
def waiting_kiosk(module_server: ServerHandle, tmp_path: Path) -> Iterator[tuple[Device, str]]:
    """A real device enrolled on the module's server, with three ratings waiting to be sent."""
    device, device_id = module_server.enrolled_device(tmp_path / "kiosk")
    device.rate(3)
    yield device, device_id
    device.close()


@pytest.fixture
def sync_server(server_db_url: str, tmp_path: Path) -> Iterator[ServerHandle]:
    """A running `kiosk-server` on 127.0.0.1 over a fresh database (SQLite and PostgreSQL)."""
    from tests.sync_harness import start_server  # the server's code is loaded only by tests that use it

    handle = start_server(server_db_url, tmp_path / "server-data")
    yield handle
    handle.stop()


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def module_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """One running server per module and backend, for tests that each use their own devices."""
    from tests.sync_harness import start_server

    directory = tmp_path_factory.mktemp("module-server")
    handle = start_server(_db_url(request, str(request.param), directory, "pg_url_module"), directory / "data")
    yield handle
    handle.stop()
