"""The Kivy application: configures a locked-down full-screen window and wires the screens to the services."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.domain.errors import BilingualError
from kiosk.services import PassOutcome, Services, SyncRunner
from kiosk.settings import Settings

if TYPE_CHECKING:
    from kiosk.ui.shell import Shell

log = logging.getLogger(__name__)
# Screen name -> (module, class); modules are imported, and their .kv files loaded, on first use.
SCREENS = {
    "idle": ("kiosk.ui.idle", "IdleScreen"),
    "rating": ("kiosk.ui.rating", "RatingScreen"),
    "followup": ("kiosk.ui.followup", "FollowupScreen"),
    "thanks": ("kiosk.ui.thanks", "ThanksScreen"),
    "catalog": ("kiosk.ui.catalog", "CatalogScreen"),
    "procedure": ("kiosk.ui.procedure", "ProcedureScreen"),
    "pin": ("kiosk.ui.pin", "PinScreen"),
    "staff": ("kiosk.ui.staff", "StaffScreen"),
    "enroll": ("kiosk.ui.enroll", "EnrollScreen"),
}


def configure_kivy(settings: Settings, window: tuple[int, int] | None = None) -> None:
    """Set Kivy's options before the window exists: full screen, no Escape exit, no mouse multitouch.

    Kivy's own configuration is shut out: its config.ini is neither read nor written, its command-line
    options are ignored, and none of its modules (inspector, console, keybinding, monitor, screen ...) runs.
    """
    # Kivy writes config.ini into KIVY_HOME on its first start and whenever its settings panel changes a
    # value, and reads it on every start: a rotation or an inspector module put there would outlive a restart.
    # These are read when Kivy is first imported, so they are set before, and set whatever the caller had.
    os.environ["KIVY_NO_CONFIG"] = "1"
    os.environ["KIVY_NO_ARGS"] = "1"  # else Kivy parses the kiosk's own --config as its `-c section:key:value`
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    for name in [name for name in os.environ if _is_kivy_module_setting(name)]:
        del os.environ[name]  # KCFG_MODULES_INSPECTOR and the like would load a module as Kivy is imported
    from kivy.config import Config

    # Kivy may have been imported before this ran (a tool, a test): then forget the file it read, so that
    # nothing writes it back, and turn off any module it asked for before the window starts them.
    Config.filename = None
    for name, _value in Config.items("modules"):
        Config.remove_option("modules", name)
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    if window or not settings.ui.fullscreen:
        width, height = window or (1280, 800)
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "width", str(width))
        Config.set("graphics", "height", str(height))
    else:
        # Not SDL's fullscreen: without a window manager (the kiosk's own X session) it leaves an 800×600
        # window in a corner. A borderless window at 0,0 is resized to the whole display once SDL is up.
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
        Config.set("graphics", "always_on_top", "1")
        Config.set("graphics", "show_cursor", "0")


def _is_kivy_module_setting(name: str) -> bool:
    """True for an environment variable that sets a Kivy module, as KCFG_MODULES_<NAME> (any case) does."""
    parts = name.split("_", 2)
    return len(parts) == 3 and parts[0] == "KCFG" and parts[1].lower() == "modules"


class KioskShell:
    """Owns the screens and moves between them; the only place that knows the screen flow."""

    def __init__(self, services: Services) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window
        from kivy.uix.floatlayout import FloatLayout
        from kivy.uix.screenmanager import NoTransition, ScreenManager

        from kiosk.flow import RatingSession
        from kiosk.ui.theme import GROUND, UiState

        self.services = services
        self.session = RatingSession(services)
        self.ui = UiState(lang=self.session.language)
        self.ui.resize(Window.height)
        Window.bind(size=self._on_resize)
        Window.clearcolor = GROUND
        self.manager = ScreenManager(transition=NoTransition())
        self._ensure("idle")
        # The other screens are built after the first frame, one per frame, so the kiosk shows its idle
        # screen as soon as it can and is still fully built before a citizen's finger arrives.
        self._prewarm = Clock.schedule_interval(self._build_next, 0.05)
        self.root = FloatLayout()
        self.root.add_widget(self.manager)
        self.last_touch = time.monotonic()
        self._long_press: Any = None
        Window.bind(on_touch_down=self._on_any_touch, on_touch_up=self._on_any_touch_up)
        self._idle_event = Clock.schedule_interval(self._check_idle, 1.0)
        self._sync_event: Any = None
        sync = services.settings.sync
        if sync.enabled and sync.interval_min > 0:
            self._sync_event = Clock.schedule_interval(lambda _dt: self.start_background_sync(),
                                                       sync.interval_min * 60)

    def _on_resize(self, _window: Any, size: tuple[int, int]) -> None:
        self.ui.resize(size[1])

    def close(self) -> None:
        """Stop the timers and let go of the window's events (the window outlives a shell in tests)."""
        from kivy.core.window import Window

        self._idle_event.cancel()
        self._prewarm.cancel()
        if self._sync_event is not None:
            self._sync_event.cancel()
        Window.unbind(size=self._on_resize, on_touch_down=self._on_any_touch, on_touch_up=self._on_any_touch_up)

    @property
    def current(self) -> str:
        """The name of the screen shown now."""
        return str(self.manager.current)

    def _ensure(self, name: str) -> None:
        if self.manager.has_screen(name):
            return
        module_name, class_name = SCREENS[name]
        make_screen: Callable[[Shell], Any] = getattr(importlib.import_module(module_name), class_name)
        self.manager.add_widget(make_screen(self))

    def _build_next(self, _dt: float) -> bool:
        missing = [name for name in SCREENS if not self.manager.has_screen(name)]
        if missing:
            self._ensure(missing[0])
        return len(missing) > 1

    def screen(self, name: str) -> Any:
        """The screen called `name`, built now if it was not yet."""
        self._ensure(name)
        return self.manager.get_screen(name)

    def go(self, name: str) -> None:
        """Show screen `name`."""
        log.info("screen %s", name)
        self._ensure(name)
        self.manager.current = name

    def go_idle(self) -> None:
        """Back to the idle screen, letting the screen being left keep what the citizen gave."""
        leaving = self.manager.current_screen
        if hasattr(leaving, "on_timeout"):
            leaving.on_timeout()
        self.session.reset()
        for screen in self.manager.screens:  # the next citizen starts with no trace of this one
            if hasattr(screen, "reset"):
                screen.reset()
        self.set_language(self.services.default_language())
        self.apply_server_settings()
        self.go("idle")

    def apply_server_settings(self) -> bool:
        """Take up settings a sync pass pulled since the screens were built; True if there were any.

        Screens read the settings when they are built (names, hotline, officers), so they are built anew;
        only between citizens, never under one's finger.
        """
        from kivy.clock import Clock

        if not self.services.apply_server_settings():
            return False
        log.info("server settings version %s applied", self.services.settings_version)
        for screen in list(self.manager.screens):
            self.manager.remove_widget(screen)
        self._prewarm.cancel()
        self._prewarm = Clock.schedule_interval(self._build_next, 0.05)
        return True

    def start_background_sync(self) -> bool:
        """Start a sync pass on a worker thread (skipped if one is running); False when skipped."""
        from kiosk.ui.widgets import on_ui_thread

        return self.services.start_sync(on_ui_thread(self._background_sync_done))

    def _background_sync_done(self, _outcome: PassOutcome | BilingualError) -> None:
        if self.current == "staff":
            self.screen("staff").show_sync()
        elif self.current == "idle" and self.apply_server_settings():  # nobody is using it: show them now
            self.go("idle")

    def set_language(self, lang: str) -> None:
        """Show the screens in `lang` and record ratings from now on with it."""
        self.ui.lang = lang
        self.session.language = lang

    def after_rating(self) -> None:
        """The rating is committed: ask the follow-ups if enabled, else thank the citizen."""
        self.go("followup" if self.session.followups_enabled else "thanks")

    # Inactivity: any touch anywhere counts as activity.
    def _on_any_touch(self, _window: Any, touch: Any) -> bool:
        from kivy.clock import Clock

        self.last_touch = time.monotonic()
        if self._in_staff_corner(touch) and self.current not in ("pin", "staff"):
            self._long_press = Clock.schedule_once(lambda _dt: self.go("pin"),
                                                   self.services.settings.staff.long_press_s)
        return False

    def _on_any_touch_up(self, _window: Any, _touch: Any) -> bool:
        if self._long_press is not None:
            self._long_press.cancel()
            self._long_press = None
        return False

    def _in_staff_corner(self, touch: Any) -> bool:
        size = 160 * self.ui.u
        return bool(touch.x >= self.root.right - size and touch.y >= self.root.top - size)

    def _check_idle(self, _dt: float) -> None:
        timeout = self.services.settings.ui.idle_timeout_s
        if self.current != "idle" and time.monotonic() - self.last_touch >= timeout:
            log.info("inactive for %ss on %s: back to idle", timeout, self.current)
            self.go_idle()

    def exit_app(self) -> None:
        """Leave the app; only staff mode calls this."""
        from kivy.app import App

        app = App.get_running_app()
        if app is not None:
            app.allow_exit = True
            app.stop()


def background_sync(services: Services) -> SyncRunner:
    """The sync agent the app runs its passes and staff mode's enrolment with, made on first use."""
    from sync.agent.background import BackgroundSync  # requests and pydantic load only when sync is first used

    return BackgroundSync(services)


def cover_the_screen(window: Any) -> None:
    """Make the borderless window exactly the size of the display, at its top-left corner."""
    from kiosk.display import desktop_size

    size = desktop_size()
    if size is None:
        window.fullscreen = "auto"  # second best: SDL's fullscreen, which a window manager honours
        return
    window.size = size
    window.left, window.top = 0, 0


def make_app(services: Services, cover_screen: bool = False) -> Any:
    """The Kivy App object for these services (Kivy is imported here, not at module load)."""
    from kivy.app import App
    from kivy.core.window import Window

    class KioskApp(App):  # type: ignore[misc]
        title = "Kiosk Một cửa"
        # Kivy's settings panel (F1 with any modifier, or a call to open_settings) covers the kiosk and lets
        # anyone change Kivy's settings, the screen's rotation among them: it is never shown.
        use_kivy_settings = False

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.services = services
            self.allow_exit = False
            self.shell: KioskShell | None = None

        def build(self) -> Any:
            if cover_screen:
                cover_the_screen(Window)
            self.shell = KioskShell(services)
            Window.allow_screensaver = False  # the screen must not blank while the kiosk runs
            Window.bind(on_request_close=self._on_request_close, on_keyboard=self._on_keyboard)
            return self.shell.root

        def _on_request_close(self, *_args: Any, **_kwargs: Any) -> bool:
            # Alt+F4, the window manager's close and SDL quit all land here: refuse unless staff exited.
            return not self.allow_exit

        def _on_keyboard(self, _window: Any, key: int, *_args: Any) -> bool:
            # A plugged-in keyboard must not reach anything: Escape, F-keys, shortcuts are all swallowed.
            return True

        def _install_settings_keys(self, _window: Any) -> None:
            # Kivy binds its F1 handler here after build(), so it would run before _on_keyboard: not bound.
            pass

        def open_settings(self, *_args: Any) -> bool:
            """Refuse to show Kivy's settings panel."""
            log.warning("Kivy's settings panel was asked for and refused")
            return False

        def display_settings(self, _settings: Any) -> bool:
            """Refuse to show any settings panel over the kiosk."""
            return False

    return KioskApp()


def _stop_on_signals(app: Any) -> None:
    """SIGTERM (systemd stop, shutdown) and SIGINT end the app cleanly; a close request never does."""
    from kivy.clock import Clock

    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signum)
        app.allow_exit = True
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_app(settings: Settings, data_dir: Path | None, window: tuple[int, int] | None = None) -> int:
    """Start the kiosk and block until staff exit it or the system stops it."""
    # Without this SDL turns SIGTERM into a window close request, which the lockdown refuses, so
    # `systemctl stop` would hang until SIGKILL.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    configure_kivy(settings, window)
    services = Services.open(settings, data_dir, sync=background_sync)
    try:
        services.ensure_sample_catalog()  # first start only: a catalog to browse until IT imports theirs
        app = make_app(services, cover_screen=settings.ui.fullscreen and window is None)
        _stop_on_signals(app)
        app.run()
    finally:
        services.close()
    return 0
