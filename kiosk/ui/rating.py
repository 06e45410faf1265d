"""Rating screen: one question, five faces, one tap."""

from __future__ import annotations

import logging
from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.ui.shell import Shell
from kiosk.ui.widgets import KioskScreen

Builder.load_file(__file__.replace(".py", ".kv"))
log = logging.getLogger(__name__)


class RatingScreen(KioskScreen):
    """Asks the overall question; the rating is committed before any other screen appears."""

    error_text = StringProperty("")

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        super().__init__(shell, name="rating", **kwargs)

    def on_pre_enter(self, *args: Any) -> None:
        """A fresh set of faces for a new citizen."""
        super().on_pre_enter(*args)
        self.error_text = ""
        self.ids.faces.reset()

    def choose(self, value: int) -> None:
        """Store the rating durably, then move on; if storing fails, say so and let the citizen retry."""
        try:
            self.session.rate(value)
        except Exception:  # whatever failed, the citizen must never face a dead screen
            log.exception("rating not stored")
            self.error_text = self.ui.t("rating.error", self.ui.lang)
            self.ids.faces.reset()
            return
        self.shell.after_rating()
