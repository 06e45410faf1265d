"""Cold start to the first frame of the idle screen, against a bare Kivy window showing one label.

Run: .venv/bin/python bench/cold_start.py [RUNS]   (offscreen SDL, a new process per run)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each child prints FRAME on the first frame drawn after its root widget exists, then exits at once.
BARE = """
from kivy.app import App
from kivy.core.window import Window
from kivy.uix.label import Label
import os
class Bare(App):
    def load_kv(self, filename=None):
        return None
    def build(self):
        Window.bind(on_flip=lambda *a: (print("FRAME", flush=True), os._exit(0)))
        return Label(text="Trung tâm Phục vụ hành chính công")
Bare().run()
"""

KIOSK = """
import os, sys
from pathlib import Path
from kiosk.app import configure_kivy, make_app
from kiosk.services import Services
from kiosk.settings import resolve
settings = resolve(None)
configure_kivy(settings, (1280, 800))
from kivy.core.window import Window
services = Services.open(settings, Path(sys.argv[1]))
services.ensure_sample_catalog()
app = make_app(services)
app.bind(on_start=lambda *a: Window.bind(on_flip=lambda *a: (print("FRAME", flush=True), os._exit(0))))
app.run()
"""


def time_to_frame(code: str, data_dir: str) -> float:
    """Seconds from spawning the interpreter to its first frame."""
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON",
               KIVY_NO_CONSOLELOG="1", KIVY_HOME=data_dir + "-kivy", PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, data_dir], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "FRAME":
            elapsed = time.perf_counter() - start
            proc.wait(30)
            return elapsed
    raise RuntimeError("the child exited without drawing a frame")


def main() -> int:
    """Alternate bare and kiosk starts and print medians and the ratio."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = str(Path(tmp) / "device")
        time_to_frame(KIOSK, data_dir)  # first run creates the database and key; a kiosk boots warm after that
        bare, kiosk = [], []
        for _ in range(runs):
            bare.append(time_to_frame(BARE, str(Path(tmp) / "bare")))
            kiosk.append(time_to_frame(KIOSK, data_dir))
    print(f"cold start to first frame, {runs} runs each (offscreen SDL), seconds")
    print(f"  bare Kivy window + label   median {statistics.median(bare):.3f}  min {min(bare):.3f}")
    print(f"  kiosk idle screen          median {statistics.median(kiosk):.3f}  min {min(kiosk):.3f}")
    print(f"  ratio kiosk/bare: median {statistics.median(kiosk) / statistics.median(bare):.2f}x"
          "  (target <= 2.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
