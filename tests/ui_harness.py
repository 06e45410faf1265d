"""A real Kivy window (offscreen SDL) with the kiosk's screens on it, driven by real touch events."""

from __future__ import annotations

import dataclasses
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from kivy.tests.common import GraphicUnitTest, UnitTestTouch

from kiosk.app import KioskShell, background_sync
from kiosk.services import Services
from kiosk.settings import Settings, load

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "config" / "kiosk.toml"


def example_settings(procedures: tuple[str, ...] = (), **ui: Any) -> Settings:
    """The example settings with some [ui] values changed; no "which procedure" step unless asked for."""
    settings = load(EXAMPLE_CONFIG)
    settings = dataclasses.replace(settings, counter=dataclasses.replace(settings.counter, procedures=list(procedures)))
    return dataclasses.replace(settings, ui=dataclasses.replace(settings.ui, **ui)) if ui else settings


class KioskUITest(GraphicUnitTest):  # type: ignore[misc]
    """Builds the kiosk shell on the test window; subclasses set `window_size` and `ui_settings`."""

    window_size = (1280, 800)
    ui_settings: ClassVar[dict[str, Any]] = {"touch_guard_ms": 0}

    def setUp(self) -> None:
        super().setUp()
        self.Window.size = self.window_size
        self.data_dir = Path(tempfile.mkdtemp(prefix="kiosk-ui-"))
        self.services = Services.open(self.make_settings(), self.data_dir, sync=background_sync)
        self.shell = KioskShell(self.services)
        self.Window.add_widget(self.shell.root)
        self.frames(3)

    def make_settings(self) -> Settings:
        """The settings this test runs with."""
        return example_settings(**self.ui_settings)

    def tearDown(self) -> None:
        self.shell.close()
        self.Window.remove_widget(self.shell.root)
        self.services.close()
        super().tearDown()

    # Driving the screen.
    def frames(self, count: int = 2) -> None:
        """Let Kivy run `count` frames (clock, layout, drawing)."""
        self.advance_frames(count)

    def point(self, widget: Any, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
        """Window coordinates of the widget's centre, nudged by a fraction of its size."""
        x, y = widget.to_window(widget.center_x + dx * widget.width, widget.center_y + dy * widget.height)
        return float(x), float(y)

    def tap(self, widget: Any, dx: float = 0.0, dy: float = 0.0) -> None:
        """One finger down and up on the widget."""
        touch = UnitTestTouch(*self.point(widget, dx, dy))
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.frames(2)

    def down(self, widget: Any) -> UnitTestTouch:
        """A finger put down on the widget and left there."""
        touch = UnitTestTouch(*self.point(widget))
        touch.touch_down()
        self.frames(1)
        return touch

    def wait(self, seconds: float) -> None:
        """Let real time pass while Kivy keeps running."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.frames(1)
            time.sleep(0.02)

    def wait_for(self, condition: Any, timeout: float = 20) -> None:
        """Keep Kivy running until `condition()` holds (work off the UI thread is slow on a busy machine)."""
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            self.wait(0.05)
        self.assertTrue(condition())

    def wait_out_guard(self, screen: Any) -> None:
        """Let the screen's touch guard (started when its content last changed) run out."""
        self.wait_for(lambda: not screen.guarded())

    def screen(self, name: str | None = None) -> Any:
        """The named screen, or the one shown now."""
        return self.shell.screen(name or self.shell.current)

    def face(self, value: int, screen: Any = None) -> Any:
        """The face for `value` on the rating screen or the current follow-up step."""
        row = screen.ids.faces if screen is not None else self._current_faces()
        return row.faces[value]

    def _current_faces(self) -> Any:
        current = self.screen()
        if current.name == "rating":
            return current.ids.faces
        return current.panel.ids.faces

    # Reading what was stored, behind the app's back.
    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows from an independent sqlite3 connection to the kiosk's database file."""
        con = sqlite3.connect(self.data_dir / "kiosk.db")
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()
