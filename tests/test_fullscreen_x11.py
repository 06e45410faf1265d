"""On a real X server with no window manager, as in the kiosk's own X session: full screen, real input."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.ui import theme

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.ui
WIDTH, HEIGHT = 1600, 900
RATE_BUTTON, FIRST_FACE, BACK_BUTTON = (1086, 359), (192, 383), (190, 820)

FKEYS = [f"F{n}" for n in range(1, 13)]
# Each group is sent as a whole, then a real click must still reach the idle screen's rating button.
KEY_GROUPS = {
    "F1–F12": FKEYS,
    "Shift+F1–F12": [f"shift+{key}" for key in FKEYS],
    "Ctrl+F1–F12": [f"ctrl+{key}" for key in FKEYS],
    "Alt+F1–F12": [f"alt+{key}" for key in FKEYS],
    "escape chords": ["Escape", "alt+F4", "ctrl+q", "ctrl+w", "ctrl+c", "alt+Tab", "ctrl+alt+BackSpace",
                      "ctrl+alt+Delete", "ctrl+alt+F1", "Super_L", "super+d", "super+l", "Menu", "Print",
                      "ctrl+e", "ctrl+shift+i", "alt+space", "ctrl+Escape", "shift+Escape", "ctrl+F4"],
}


def xdo(display: str, *args: str) -> str:
    """Send input with xdotool to the X display, as a mouse, touchscreen or keyboard would; its output."""
    done = subprocess.run(["xdotool", *args], check=True, capture_output=True, text=True,
                          env=dict(os.environ, DISPLAY=display), timeout=10)
    return done.stdout.strip()


def kiosk_window(display: str) -> tuple[int, int, int, int, int] | None:
    """(window id, width, height, x, y) of the app's top-level window, read with xwininfo."""
    env = dict(os.environ, DISPLAY=display)
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, env=env).stdout
    for line in tree.splitlines():
        if "Kiosk" in line:
            match = re.search(r"(0x[0-9a-f]+) .*?(\d+)x(\d+)\+(-?\d+)\+(-?\d+)", line)
            if match:
                window, (w, h, x, y) = int(match.group(1), 16), (int(v) for v in match.groups()[1:])
                return window, w, h, x, y
    return None


class Screenshot:
    """The whole X screen as `xwd -root` dumps it (an XWD image), read pixel by pixel."""

    def __init__(self, display: str) -> None:
        self.data = subprocess.run(["xwd", "-root", "-silent"], capture_output=True, check=True, timeout=10,
                                   env=dict(os.environ, DISPLAY=display)).stdout
        fields = struct.unpack(">25I", self.data[:100])  # the XWD header: 25 big-endian 32-bit fields
        header_size, self.lsb_first, self.bits, self.line = fields[0], fields[7] == 0, fields[11], fields[12]
        self.masks, colours = fields[14:17], fields[19]
        self.offset = header_size + 12 * colours

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        """(red, green, blue) at x, y."""
        start = self.offset + y * self.line + x * self.bits // 8
        value = int.from_bytes(self.data[start:start + self.bits // 8], "little" if self.lsb_first else "big")
        red, green, blue = ((value & mask) >> ((mask & -mask).bit_length() - 1) for mask in self.masks)
        return red, green, blue


def rgb(colour: list[float] | tuple[float, ...]) -> tuple[int, int, int]:
    """An RGBA colour of 0..1 floats as 8-bit RGB."""
    red, green, blue = (round(c * 255) for c in colour[:3])
    return red, green, blue


# What tells the screens apart on the X screen: the idle screen's blue header and green rating button, the
# rating screen's light ground and first face. Kivy's settings panel, a rotated screen or an inspector over
# the kiosk shows neither.
SCREENS = {
    "idle": {(100, 20): rgb(theme.PRIMARY), RATE_BUTTON: rgb((0.18, 0.49, 0.2))},  # idle.kv's rate button
    "rating": {(100, 20): rgb(theme.GROUND), (178, 415): rgb(theme.level_colour(5))},
}


def shown(display: str) -> str:
    """The screen the X display shows ("idle", "rating"), or what its probe pixels are."""
    shot = Screenshot(display)
    for name, probes in SCREENS.items():
        if all(max(abs(a - b) for a, b in zip(shot.pixel(*at), want, strict=True)) <= 3
               for at, want in probes.items()):
            return name
    return f"something else: {[shot.pixel(*at) for at in SCREENS['idle']]}"


def wait_for(condition: Callable[[], bool], what: str, app: subprocess.Popen[str], timeout: float = 15) -> None:
    """Poll `condition` until it holds; fail naming `what` (a busy machine is slow, so the deadline is long)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert app.poll() is None, app.communicate()[1][-2000:]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def wait_for_screen(display: str, name: str, app: subprocess.Popen[str], context: str) -> None:
    """Poll the X screen until it shows screen `name`; fail saying what it shows instead."""
    seen = [""]

    def showing() -> bool:
        seen[0] = shown(display)
        return seen[0] == name

    try:
        wait_for(showing, f"{context}: not the {name} screen", app)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the X screen shows {seen[0]}") from None


def files(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `directory` with its content and modification time."""
    return {str(path.relative_to(directory)): (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(directory.rglob("*")) if path.is_file()}


def tampered_kivy_home(home: Path) -> None:
    """A Kivy home as Kivy itself writes it, then changed as its settings panel or an intruder would."""
    env = dict(os.environ, KIVY_HOME=str(home), KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON")
    for name in ("KIVY_NO_CONFIG", "SDL_VIDEODRIVER"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-c", "import kivy.config"], check=True, env=env, timeout=60,
                   capture_output=True)
    config = configparser.ConfigParser(interpolation=None)
    config.read(home / "config.ini", encoding="utf-8")
    config["graphics"]["rotation"] = "180"  # what the settings panel's "Rotation" writes
    config["modules"]["inspector"] = ""     # Ctrl+E opens a widget inspector over the app
    config["modules"]["monitor"] = ""       # draws a frame-rate bar over the top of the screen
    with open(home / "config.ini", "w", encoding="utf-8") as out:
        config.write(out)


def test_full_screen_without_a_window_manager(tmp_path: Path) -> None:
    if not all(shutil.which(tool) for tool in ("Xvfb", "xwininfo", "xdotool", "xwd")):
        if os.environ.get("CI") == "true":
            pytest.fail("Xvfb, xwininfo, xdotool or xwd is missing: .ci/system-deps installs them")
        pytest.skip("needs Xvfb, xwininfo, xdotool and xwd: run `make test` as root, "
                    "or apt install xvfb x11-utils xdotool x11-apps")
    kivy_home, cwd = tmp_path / "kivy-home", tmp_path / "cwd"
    cwd.mkdir()
    tampered_kivy_home(kivy_home)
    kivy_files = files(kivy_home)
    assert "config.ini" in kivy_files
    config = tmp_path / "kiosk.toml"  # the example, without the touch guard, so clicks need no pause
    example = (ROOT / "config" / "kiosk.toml").read_text(encoding="utf-8")
    config.write_text(example.replace("touch_guard_ms = 600", "touch_guard_ms = 0"), encoding="utf-8")
    read_end, write_end = os.pipe()  # Xvfb picks a free display and writes its number here
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{WIDTH}x{HEIGHT}x24",
                             "-nolisten", "tcp"], pass_fds=(write_end,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        display = ":" + numbers.readline().strip()
    # Kivy modules asked for through the environment too: keybinding rotates on F11 and saves F12 screenshots.
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(ROOT), KIVY_HOME=str(kivy_home),
               KCFG_MODULES_KEYBINDING="", KCFG_modules_console="")
    for name in ("SDL_VIDEODRIVER", "KIVY_NO_CONFIG"):  # the real X11 driver; the app chooses the rest
        env.pop(name, None)
    app = None
    try:
        assert xvfb.poll() is None and display != ":", "Xvfb did not start"
        app = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(config),
                                "--data-dir", str(tmp_path / "device")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
        running = app
        wait_for(lambda: (kiosk_window(display) or (0,))[1:] == (WIDTH, HEIGHT, 0, 0),
                 f"the window does not cover the screen: {kiosk_window(display)}", running, timeout=30)
        wait_for_screen(display, "idle", running, "at start, upright")
        window = kiosk_window(display)
        assert window is not None
        # Keys reach the kiosk's window: with no window manager it has the focus.
        assert int(xdo(display, "getwindowfocus")) == window[0]

        for group, keys in KEY_GROUPS.items():
            xdo(display, "key", *keys)
            # Keys and clicks reach the app in order: once this click shows the rating screen, every key
            # before it was handled, and none of them put anything over the idle screen.
            xdo(display, "mousemove", *map(str, RATE_BUTTON), "click", "1")
            wait_for_screen(display, "rating", running, f"after {group}, a click on the idle screen's button")
            xdo(display, "mousemove", *map(str, BACK_BUTTON), "click", "1")
            wait_for_screen(display, "idle", running, f"after {group}, back from the rating screen")

        assert app.poll() is None
        assert kiosk_window(display) == (window[0], WIDTH, HEIGHT, 0, 0)
        assert files(kivy_home) == kivy_files, "Kivy's home was written"
        assert list(cwd.iterdir()) == [], "a Kivy module saved a file (screenshot, recording)"

        # Real clicks through X11 and SDL: the big button on the idle screen, then the first face.
        xdo(display, "mousemove", *map(str, RATE_BUTTON), "click", "1")
        wait_for_screen(display, "rating", running, "a real click on the rating button")
        xdo(display, "mousemove", *map(str, FIRST_FACE), "click", "1")
        con = sqlite3.connect(tmp_path / "device" / "kiosk.db")
        try:
            ratings = "SELECT level FROM log WHERE kind = 'rating'"
            wait_for(lambda: bool(con.execute(ratings).fetchall()), "the rating was not stored", running)
            time.sleep(0.3)  # a stray second event would show up as a second row by now
            assert con.execute(ratings).fetchall() == [(5,)]
        finally:
            con.close()
        app.send_signal(signal.SIGTERM)
        assert app.wait(15) == 0
        assert files(kivy_home) == kivy_files
    finally:
        for proc in (app, xvfb):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
