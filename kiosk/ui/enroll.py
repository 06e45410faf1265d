"""Enrolment screen: staff type the server's address and IT's one-time code, and the kiosk enrols itself.

Addresses and codes are typed literally (no Telex: "example" must not become "ẽample"), on a keyboard with
the symbols a URL needs. The enrolment itself runs on a worker thread (through the services' sync agent); the
answer comes back through the Kivy clock, so the screen never waits on the network.
"""

from __future__ import annotations

import threading
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk import state
from kiosk.domain.errors import BilingualError
from kiosk.ui.keyboard import Key, KeyGrid
from kiosk.ui.shell import Shell
from kiosk.ui.widgets import KioskScreen, on_ui_thread

SYMBOLS = (":", "/", ".", "-", "_")
CAPS, ERASE = "caps", "erase"
MAX_CHARS = {"server": 200, "code": 64}


class LiteralKeyboard(KeyGrid):
    """Letters, digits and URL symbols typed as they are; the caps key stays on until pressed again."""

    caps = BooleanProperty(False)

    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(caps=self._build)
        self._build()

    def rows(self) -> list[list[Key]]:
        """The letter rows and a row of the symbols a URL needs."""
        return [*self.letter_rows(self.caps, CAPS, ERASE), [(symbol, symbol, 1.0) for symbol in SYMBOLS]]

    def lit(self, value: str) -> bool:
        """The caps key while it is on."""
        return value == CAPS and self.caps

    def press(self, value: str) -> None:
        """Act on one key as if it were tapped."""
        if value == CAPS:
            self.caps = not self.caps
            return
        self.dispatch("on_key", value)

    def on_key(self, value: str) -> None:
        """Default handler: nothing; the screen binds to it."""


Builder.load_file(__file__.replace(".py", ".kv"))


class EnrollScreen(KioskScreen):
    """Reached from staff mode only."""

    server_url = StringProperty("")
    code = StringProperty("")
    field = StringProperty("server")  # the field the keyboard types into: "server" or "code"
    message = StringProperty("")
    message_ok = NumericProperty(1)
    working = BooleanProperty(False)

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        super().__init__(shell, name="enroll", **kwargs)
        self.ids.keyboard.bind(on_key=lambda _kb, value: self.type_key(value))

    def on_pre_enter(self, *args: Any) -> None:
        """Start from the enrolled server, else the settings' address, and an empty code."""
        super().on_pre_enter(*args)
        enrolled = self.services.state.get(state.SERVER_URL)
        self.server_url = enrolled or self.services.settings.sync.server_url
        self.code = ""
        self.field = "code"
        self.message_ok = 1
        self.message = self.ui.t("enroll.already", self.ui.lang, server=enrolled) if enrolled else ""

    def reset(self) -> None:
        """Forget the code typed (the idle timeout passes here too)."""
        self.code = ""

    def choose(self, field: str) -> None:
        """Type into `field` from now on."""
        self.field = field

    def type_key(self, value: str) -> None:
        """Add one character to the chosen field, or erase its last one."""
        current = self.server_url if self.field == "server" else self.code
        current = current[:-1] if value == ERASE else (current + value)[:MAX_CHARS[self.field]]
        if self.field == "server":
            self.server_url = current
        else:
            self.code = current

    def submit(self) -> None:
        """Enrol on a worker thread; the message shows the outcome."""
        if self.working:
            return
        self.working = True
        self.message_ok = 1
        self.message = self.ui.t("enroll.working", self.ui.lang)
        lang, server, code = self.ui.lang, self.server_url, self.code
        threading.Thread(target=self._enroll, args=(lang, server, code), daemon=True).start()

    def _enroll(self, lang: str, server: str, code: str) -> None:
        try:
            answer = self.services.enroll(server, code, force=True)  # IT's code is the authority to re-enrol
        except BilingualError as exc:
            error = exc.en if lang == "en" else exc.vi
            on_ui_thread(self._done)((False, self.ui.t("enroll.failed", lang, error=error)))
            return
        except Exception as exc:  # the screen must come back from anything, and say what happened
            on_ui_thread(self._done)((False, self.ui.t("enroll.failed", lang, error=str(exc))))
            return
        text = self.ui.t("enroll.done", lang, agency=answer.agency_name, counter=answer.counter_name,
                         device=answer.device_id)
        on_ui_thread(self._done)((True, text))

    def _done(self, outcome: tuple[bool, str]) -> None:
        ok, text = outcome
        self.working = False
        self.message_ok = int(ok)
        self.message = text
        if ok:
            self.code = ""
