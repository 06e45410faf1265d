"""On a real X server with no window manager, as in the kiosk's own X session: full screen, real input."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.ui


def xdo(display: str, *args: str) -> None:
    """Send input with xdotool to the X display, as a mouse, touchscreen or keyboard would."""
    subprocess.run(["xdotool", *args], check=True, env=dict(os.environ, DISPLAY=display), timeout=10)


def kiosk_window_geometry(display: str) -> tuple[int, int, int, int] | None:
    """(width, height, x, y) of the app's top-level window, read with xwininfo."""
    env = dict(os.environ, DISPLAY=display)
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, env=env).stdout
    for line in tree.splitlines():
        if "Kiosk" in line:
            match = re.search(r"(\d+)x(\d+)\+(-?\d+)\+(-?\d+)", line)
            if match:
                w, h, x, y = (int(v) for v in match.groups())
                return w, h, x, y
    return None


def test_full_screen_without_a_window_manager(tmp_path: Path) -> None:
    if not all(shutil.which(tool) for tool in ("Xvfb", "xwininfo", "xdotool")):
        if os.environ.get("CI") == "true":
            pytest.fail("Xvfb, xwininfo or xdotool is missing: .ci/system-deps installs them")
        pytest.skip("needs Xvfb, xwininfo and xdotool: run `make test` as root, or apt install xvfb x11-utils xdotool")
    read_end, write_end = os.pipe()  # Xvfb picks a free display and writes its number here
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x900x24",
                             "-nolisten", "tcp"], pass_fds=(write_end,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        display = ":" + numbers.readline().strip()
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(ROOT))
    env.pop("SDL_VIDEODRIVER", None)  # the real X11 driver, not offscreen
    app = None
    try:
        assert xvfb.poll() is None and display != ":", "Xvfb did not start"
        app = subprocess.Popen([sys.executable, "-m", "kiosk", "--data-dir", str(tmp_path / "device")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        deadline, geometry = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            assert app.poll() is None, app.communicate()[1][-2000:]
            geometry = kiosk_window_geometry(display)
            if geometry == (1600, 900, 0, 0):
                break
            time.sleep(0.3)
        assert geometry == (1600, 900, 0, 0)

        # A keyboard plugged into the kiosk cannot close it.
        xdo(display, "key", "Escape")
        xdo(display, "key", "alt+F4")
        time.sleep(0.8)
        assert app.poll() is None

        # Real clicks through X11 and SDL: the big button on the idle screen, then the first face.
        xdo(display, "mousemove", "1086", "359", "click", "1")
        time.sleep(1.0)  # past the guard against double taps
        xdo(display, "mousemove", "192", "383", "click", "1")
        con = sqlite3.connect(tmp_path / "device" / "kiosk.db")
        try:
            ratings = "SELECT level FROM log WHERE kind = 'rating'"
            deadline = time.monotonic() + 15
            while not con.execute(ratings).fetchall() and time.monotonic() < deadline:  # a busy machine is slow
                time.sleep(0.1)
            time.sleep(0.3)  # a stray second event would show up as a second row by now
            assert con.execute(ratings).fetchall() == [(5,)]
        finally:
            con.close()
        app.send_signal(signal.SIGTERM)
        assert app.wait(15) == 0
    finally:
        for proc in (app, xvfb):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
