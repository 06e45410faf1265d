"""Shared test set-up: Kivy runs offscreen with its own home, and every test gets a fresh data directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Must be set before anything imports Kivy: no screen here, and Kivy must not parse pytest's arguments,
# take over logging or write into the real home directory.
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
os.environ.pop("KIOSK_CONFIG", None)
os.environ.pop("KIOSK_DATA_DIR", None)

import pytest

from kiosk.db import Database, prepare
from kiosk.services import Services
from kiosk.settings import Settings, load

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
