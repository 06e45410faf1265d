"""Power can fail the instant the citizen is moved on: the rating must already be on disk, chain intact."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.services import Services
from kiosk.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def run_and_kill(data_dir: Path, value: int) -> str:
    """Start the app, tap face `value`, SIGKILL it as soon as it shows the next screen; return that screen."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "crash_driver.py"), str(data_dir), str(value)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("SCREEN ") and line.split()[1] != "rating":
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                return line.split()[1]
            if time.monotonic() > deadline:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    pytest.fail("the app never moved on from the rating screen")


@pytest.mark.ui
def test_sigkill_right_after_the_tap_loses_nothing(settings: Settings, tmp_path: Path) -> None:
    data_dir = tmp_path / "device"
    taps = (5, 2, 4)
    for number, value in enumerate(taps, start=1):
        assert run_and_kill(data_dir, value) == "followup"
        con = sqlite3.connect(data_dir / "kiosk.db")
        try:
            levels = [row[0] for row in con.execute("SELECT level FROM log WHERE kind='rating' ORDER BY seq")]
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            con.close()
        assert levels == list(taps[:number])
    services = Services.open(settings, data_dir)
    try:
        report = services.ratings.verify()
        assert report.ok, report.problem_en
        assert report.count == len(taps)
    finally:
        services.close()
