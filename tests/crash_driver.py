"""Runs the real kiosk app in its own process, taps one face, and says when the next screen is shown.

Used by test_crash.py, which kills this process with SIGKILL at that moment.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))


def main(data_dir: str, value: int) -> None:
    from kiosk.app import configure_kivy, make_app
    from kiosk.services import Services
    from kiosk.settings import resolve

    settings = resolve(None)
    configure_kivy(settings, (1280, 800))
    from kivy.clock import Clock
    from kivy.tests.common import UnitTestTouch

    services = Services.open(settings, Path(data_dir))
    app = make_app(services)

    def announce(_manager: Any, name: str) -> None:
        print(f"SCREEN {name}", flush=True)

    def tap(_dt: float) -> None:
        face = app.shell.screen("rating").ids.faces.faces[value]
        touch = UnitTestTouch(*face.to_window(*face.center))
        touch.touch_down()
        touch.touch_up()

    def start(_dt: float) -> None:
        app.shell.manager.bind(current=announce)
        app.shell.go("rating")
        # Past the double-tap guard, as a citizen's first tap would be.
        Clock.schedule_once(tap, settings.ui.touch_guard_ms / 1000 + 0.3)

    Clock.schedule_once(start, 0.3)
    app.run()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
