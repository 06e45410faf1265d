"""`make screenshots`: renders every screen offscreen, in both languages and two sizes, as PNG files."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

SIZES = {"1920x1080": (1920, 1080), "1280x800": (1280, 800)}


def _steps(shell: Any) -> list[tuple[str, Callable[[], None]]]:
    """(name, action) pairs: each action brings a screen to the state worth showing."""
    def followup(key: str) -> Callable[[], None]:
        def act() -> None:
            shell.go("followup")
            screen = shell.screen("followup")
            screen.show(screen.steps.index(key))
        return act

    def typed() -> None:
        followup("comment")()
        keyboard = shell.screen("followup").panel.ids.keyboard
        for key in "Nhaan vieen raats nhieetj tinhf, huwowngs daanx deex hieeur":
            keyboard.press(key)

    def rated() -> None:
        shell.session.rate(5, is_test=True)
        shell.go("thanks")

    def catalog_typed() -> None:
        shell.go("catalog")
        keyboard = shell.screen("catalog").ids.keyboard
        for key in "khai sinh":
            keyboard.press(key)
        shell.screen("catalog").search()

    def procedure() -> None:
        shell.screen("procedure").show("1.001193")
        shell.go("procedure")

    return [
        ("idle", lambda: shell.go("idle")),
        ("catalog", catalog_typed),
        ("procedure", procedure),
        ("rating", lambda: shell.go("rating")),
        ("followup-procedure", followup("procedure_code")),
        ("followup-officer", followup("officer")),
        ("followup-harassment", followup("harassment")),
        ("followup-comment", typed),
        ("thanks", rated),
        ("pin", lambda: shell.go("pin")),
        ("staff", lambda: shell.go("staff")),
        ("enroll", lambda: shell.go("enroll")),
    ]


def render(out_dir: Path, size: tuple[int, int], lang: str, suffix: str) -> list[Path]:
    """Render every screen at `size` in `lang` into `out_dir`; return the files written."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.app import make_app
    from kiosk.services import Services
    from kiosk.settings import resolve

    Window.size = size
    data_dir = Path(tempfile.mkdtemp(prefix="kiosk-shots-"))
    settings = resolve(None)
    # A file printer, so the screens show what they offer when a printer is there.
    settings = replace(settings, printer=replace(settings.printer, uri=f"file:{data_dir}/slip.bin"))
    services = Services.open(settings, data_dir)
    services.ensure_sample_catalog()
    app = make_app(services)
    written: list[Path] = []
    state: dict[str, Any] = {"i": 0}

    def next_step(_dt: float) -> None:
        shell = app.shell
        steps = _steps(shell)
        i = state["i"]
        if i > 0:  # the previous step has had a frame to draw: capture it
            name = steps[i - 1][0]
            shot = Path(Window.screenshot(name=str(out_dir / f"{name}-{suffix}.png")))
            final = out_dir / f"{name}-{suffix}.png"
            shot.replace(final)
            written.append(final)
        if i == len(steps):
            app.allow_exit = True
            app.stop()
            return
        shell.set_language(lang)
        steps[i][1]()
        shell.set_language(lang)
        state["i"] = i + 1
        Clock.schedule_once(next_step, 0.4)

    Clock.schedule_once(next_step, 0.8)
    app.run()
    services.close()
    return written


def render_slips(out_dir: Path) -> None:
    """The printed slips as the printer gets them, at 80 mm (576 dots) and 58 mm (384 dots)."""
    from kiosk import slips
    from kiosk.settings import resolve

    settings = resolve(None)
    contact = settings.contact
    pages: dict[str, slips.Slip] = {
        "rating": slips.sample_rating(),
        "guide": slips.sample_guide(contact.hotline),
        "test": slips.TestPage(profile=settings.printer.profile, width_dots=576, uri="socket://192.168.1.50:9100",
                               qr_url=contact.feedback_url),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, slip in pages.items():
        for width in (576, 384):
            if isinstance(slip, slips.TestPage):
                slip = slips.TestPage(slip.profile, width, slip.uri, slip.qr_url)
            path = out_dir / f"slip-{name}-{width}.png"
            slips.render(slip, width).save(path)
            print(path)


def main(argv: list[str]) -> int:
    """Render into the folder named on the command line (default docs/screenshots)."""
    out_dir = Path(argv[0] if argv else "docs/screenshots").resolve()
    size_name = argv[1] if len(argv) > 1 else "1920x1080"
    lang = argv[2] if len(argv) > 2 else "vi"
    if len(argv) <= 1:
        render_slips(out_dir)
        # One process per size and language: Kivy's window cannot be re-created in one process.
        import subprocess

        for name in SIZES:
            for language in ("vi", "en"):
                if name == "1280x800" and language == "en":
                    continue
                subprocess.run([sys.executable, "-m", "kiosk.screenshots", str(out_dir), name, language],
                               check=True)
        return 0
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    from kiosk.app import configure_kivy
    from kiosk.settings import resolve

    out_dir.mkdir(parents=True, exist_ok=True)
    configure_kivy(resolve(None), SIZES[size_name])
    for path in render(out_dir, SIZES[size_name], lang, f"{lang}-{size_name}"):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
