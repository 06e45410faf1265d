"""PIN pad: the only way into staff mode; locks for a while after too many wrong PINs."""

from __future__ import annotations

import math
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.button import Button

from kiosk.pin import MAX_DIGITS
from kiosk.ui.shell import Shell
from kiosk.ui.widgets import KioskScreen

# The keypad, top row first, as on a telephone; "clear" and "ok" beside the 0.
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok")


class PinKey(Button):
    """One keypad key; `value` is a digit, "clear" or "ok"."""

    screen = ObjectProperty(None)
    value = StringProperty("")


Builder.load_file(__file__.replace(".py", ".kv"))


class PinScreen(KioskScreen):
    """Collects digits and checks them with the PIN guard; never shows what was typed."""

    digits = StringProperty("")
    message = StringProperty("")

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        super().__init__(shell, name="pin", **kwargs)
        self.keys = {value: PinKey(screen=self, value=value) for value in KEYS}
        for key in self.keys.values():
            self.ids.keypad.add_widget(key)
        self._tick: Any = None
        self._was_locked = False

    def on_pre_enter(self, *args: Any) -> None:
        """Start empty; show the lockout if one is running."""
        super().on_pre_enter(*args)
        self.digits = ""
        self._show_lock()
        self._tick = Clock.schedule_interval(lambda _dt: self._show_lock(), 1.0)

    def on_leave(self, *args: Any) -> None:
        """Forget the digits."""
        self.digits = ""
        if self._tick is not None:
            self._tick.cancel()

    def _show_lock(self) -> None:
        left = self.services.pin.locked_for()
        if left > 0:
            self.message = self.ui.t("pin.locked", self.ui.lang, n=math.ceil(left))
            self._was_locked = True
        elif self._was_locked:
            self.message, self._was_locked = "", False

    def press(self, key: str) -> None:
        """A keypad key: a digit, clear or open."""
        if key == "clear":
            self.digits = ""
        elif key == "ok":
            self.submit()
        elif len(self.digits) < MAX_DIGITS:
            self.digits += key

    def submit(self) -> None:
        """Check the PIN; open staff mode or say what went wrong."""
        pin, self.digits = self.digits, ""
        if self.services.pin.attempt(pin):
            self.message = ""
            self.shell.go("staff")
            return
        if self.services.pin.locked_for() > 0:
            self._show_lock()
        else:
            self.message = self.ui.t("pin.wrong", self.ui.lang, n=self.services.pin.attempts_left)
