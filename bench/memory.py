"""Resident memory after 1,000 ratings and 1,000 rounds of screen changes, on a real offscreen window.

Run: .venv/bin/python -m bench.memory [ROUNDS]
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))


def rss_mb() -> float:
    """Resident set size of this process in MB, from /proc."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> int:
    """Warm up, then measure the growth over the rounds."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    from kiosk.app import configure_kivy
    from kiosk.settings import resolve

    settings = resolve(None)
    configure_kivy(settings, (1280, 800))
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.app import KioskShell
    from kiosk.services import Services

    services = Services.open(settings, Path(tempfile.mkdtemp(prefix="kiosk-mem-")))
    shell = KioskShell(services)
    Window.add_widget(shell.root)
    EventLoop.ensure_window()

    def one_round(i: int) -> None:
        shell.last_touch = time.monotonic()  # a citizen is at the screen: no inactivity return mid-round
        shell.go("rating")
        EventLoop.idle()
        shell.session.rate(5 - i % 5)
        shell.go("followup")
        EventLoop.idle()
        shell.session.answer("officer", 1 + i % 5)
        shell.go("thanks")
        EventLoop.idle()
        shell.go_idle()
        EventLoop.idle()

    start = time.perf_counter()
    for i in range(50):  # warm-up: every screen built, caches filled
        one_round(i)
    print(f"warm-up: {(time.perf_counter() - start) / 50 * 1000:.1f} ms per round", flush=True)
    gc.collect()
    before = rss_mb()
    for i in range(rounds):
        one_round(i)
    gc.collect()
    after = rss_mb()
    print(f"resident memory over {rounds} rounds (1 rating + 1 answer + 4 screen changes each), MB")
    print(f"  after warm-up {before:.1f}  after rounds {after:.1f}  growth {after - before:+.1f}"
          "  (target < 10 MB)")
    print(f"  ratings stored: {services.ratings.stats().head_seq} records")
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
