"""Where the kiosk keeps its data on the device."""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "kiosk.db"
KEY_NAME = "device_key.pem"


def default_data_dir() -> Path:
    """$KIOSK_DATA_DIR, else the user data directory ($XDG_DATA_HOME/kiosk or ~/.local/share/kiosk)."""
    env = os.environ.get("KIOSK_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kiosk"


def prepare(data_dir: Path | None) -> Path:
    """The data directory to use, created with owner-only access if it does not exist."""
    path = data_dir or default_data_dir()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
