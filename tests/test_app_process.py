"""The kiosk as a real process: it starts on embedded defaults and stops cleanly when the system asks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.ui


def start(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "kiosk", "--data-dir", str(data_dir), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def wait_until_up(proc: subprocess.Popen[str], data_dir: Path) -> None:
    deadline = time.monotonic() + 30
    while not (data_dir / "device_key.pem").exists():
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the kiosk did not start"
        time.sleep(0.1)
    time.sleep(1.0)  # past window creation and the first frames
    assert proc.poll() is None, proc.communicate()[1][-2000:]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_kiosk_starts_on_defaults_and_stops_on_signal(tmp_path: Path, signum: int) -> None:
    data_dir = tmp_path / "device"
    proc = start(data_dir, "--window", "800x600")
    try:
        wait_until_up(proc, data_dir)
        assert (data_dir / "kiosk.db").exists()
        proc.send_signal(signum)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_settings_stop_the_kiosk_with_a_message_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[ui]\nidle_timeout_s = "sáu mươi"\n', encoding="utf-8")
    proc = start(tmp_path / "device", "--config", str(config), "--window", "800x600")
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert str(config) in err and "ui.idle_timeout_s" in err
    assert "cần một số nguyên" in err and "expected an integer" in err
    assert not (tmp_path / "device").exists()
