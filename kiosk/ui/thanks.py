"""Thank-you screen: the rating is safe, here is its reference and the hotline; back to idle by itself."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk.printing import PrintError
from kiosk.ui.shell import Shell
from kiosk.ui.widgets import KioskScreen, on_ui_thread

Builder.load_file(__file__.replace(".py", ".kv"))


class ThanksScreen(KioskScreen):
    """Shown only after the rating is committed."""

    reference = StringProperty("")
    seconds_left = NumericProperty(0)
    # "" (no printer or never), "offer", "printing", "done" or "failed"
    print_state = StringProperty("")

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        super().__init__(shell, name="thanks", **kwargs)
        self._tick: Any = None

    def on_pre_enter(self, *args: Any) -> None:
        """Show the reference and start the countdown back to idle."""
        super().on_pre_enter(*args)
        receipt = self.session.receipt
        self.reference = receipt.reference if receipt else ""
        self.seconds_left = self.services.settings.ui.thanks_timeout_s
        self._tick = Clock.schedule_interval(self._count_down, 1.0)
        mode = self.services.settings.printer.rating_slip
        offered = receipt is not None and self.services.printer.enabled and mode != "never"
        self.print_state = "offer" if offered else ""
        if offered and mode == "always":
            self.print_slip()

    def print_slip(self) -> None:
        """Print the citizen's slip on a worker thread; the screen never waits for the printer."""
        receipt, lang = self.session.receipt, self.ui.lang
        if receipt is None or self.print_state not in ("offer", "failed"):
            return
        slip = self.services.rating_slip(receipt, lang)
        if not self.services.printer.submit_slip(slip, on_ui_thread(self._printed)):
            self.print_state = "failed"  # another job (a staff test page) holds the printer
            return
        # The report comes through Clock, so it always lands after this.
        self.print_state = "printing"
        # Time to take the slip before the screen goes back to idle.
        self.seconds_left = max(self.seconds_left, self.services.settings.ui.thanks_timeout_s)

    def _printed(self, error: PrintError | None) -> None:
        self.print_state = "failed" if error else "done"

    def on_leave(self, *args: Any) -> None:
        """Stop the countdown."""
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def _count_down(self, _dt: float) -> None:
        self.seconds_left -= 1
        if self.seconds_left <= 0 and self.shell.current == "thanks":
            self.shell.go_idle()
