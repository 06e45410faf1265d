"""Idle screen: who serves at this counter, the time, the hotline, and the two ways in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.i18n import clock_text
from kiosk.ui.shell import Shell
from kiosk.ui.widgets import KioskScreen

Builder.load_file(__file__.replace(".py", ".kv"))


class IdleScreen(KioskScreen):
    """The screen the kiosk rests on between citizens."""

    time_text = StringProperty("")
    date_text = StringProperty("")
    officer_name = StringProperty("")
    officer_title = StringProperty("")
    officer_photo = StringProperty("")
    officer_initials = StringProperty("")

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        super().__init__(shell, name="idle", **kwargs)
        self._tick: Any = None
        self._photo: Any = None
        self.ui.bind(lang=lambda *_a: self.update_clock())
        self.refresh()

    def on_pre_enter(self, *args: Any) -> None:
        """Refresh who is on duty and start the clock."""
        super().on_pre_enter(*args)
        self.refresh()
        self._tick = Clock.schedule_interval(lambda _dt: self.update_clock(), 1.0)

    def on_leave(self, *args: Any) -> None:
        """Stop the clock while hidden."""
        if self._tick is not None:
            self._tick.cancel()

    def refresh(self) -> None:
        """Show the officer on duty and the time."""
        officer = self.services.officer_on_duty()
        self.officer_name = officer.name if officer else ""
        self.officer_title = officer.title if officer else ""
        photo = self.services.photo_path(officer) if officer else None
        self.officer_photo = str(photo) if photo else ""
        self._show_photo()
        words = self.officer_name.split()
        self.officer_initials = (words[-1][0] if words else "?").upper()
        self.update_clock()

    def _show_photo(self) -> None:
        # The Image widget (and Pillow behind it) is made only when there is a photo: most counters
        # have none, and importing it costs start-up time.
        portrait = self.ids.portrait
        if self._photo is not None:
            portrait.remove_widget(self._photo)
            self._photo = None
        if self.officer_photo:
            from kivy.uix.image import Image

            self._photo = Image(source=self.officer_photo, fit_mode="contain")
            portrait.add_widget(self._photo)

    def update_clock(self) -> None:
        """Redraw the clock in the current language."""
        self.time_text, self.date_text = clock_text(datetime.now(), self.ui.lang)

    def start_rating(self) -> None:
        """The citizen chose to rate the service."""
        self.shell.go("rating")
