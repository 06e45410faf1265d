"""Staff mode: who is on duty, today's counts, sync, the device's identity, and the way out."""

from __future__ import annotations

import threading
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.togglebutton import ToggleButton

from kiosk.domain.errors import BilingualError
from kiosk.domain.levels import LEVELS
from kiosk.services import PassOutcome
from kiosk.sync_status import staff_lines
from kiosk.ui.shell import Shell
from kiosk.ui.widgets import KioskScreen, on_ui_thread


class OfficerButton(ToggleButton):
    """One officer to choose as on duty."""

    screen = ObjectProperty(None)
    officer_id = StringProperty("")


Builder.load_file(__file__.replace(".py", ".kv"))


class StaffScreen(KioskScreen):
    """Reached only through the PIN pad."""

    counts_text = StringProperty("")
    queue_text = StringProperty("")
    chain_text = StringProperty("")
    chain_ok = NumericProperty(1)
    printer_text = StringProperty("")
    printer_ok = NumericProperty(1)
    duty_officer = StringProperty("")  # not `on_duty`: Kivy takes on_* names for events
    default_language = StringProperty("vi")
    sync_state_text = StringProperty("")
    sync_last_text = StringProperty("")
    sync_error_text = StringProperty("")
    sync_ok = NumericProperty(1)
    sync_clock_ok = NumericProperty(1)
    sync_enrolled = BooleanProperty(False)
    sync_busy = BooleanProperty(False)

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        super().__init__(shell, name="staff", **kwargs)
        for officer in self.services.settings.officers:
            button = OfficerButton(text=f"{officer.name}\n{officer.title}", officer_id=officer.id,
                                           screen=self)
            self.ids.officers.add_widget(button)

    def on_pre_enter(self, *args: Any) -> None:
        """Read fresh figures each time staff mode opens."""
        super().on_pre_enter(*args)
        self.refresh()

    def refresh(self) -> None:
        """Counts, queue, chain state and the current choices."""
        stats = self.services.ratings.stats()
        lang = self.ui.lang
        lines = [f"{lv.label(lang)}: {stats.today[lv.value]}" for lv in LEVELS]
        lines.append(f"{self.ui.t('staff.total', lang)}: {sum(stats.today.values())}")
        lines.append(f"{self.ui.t('staff.repeats', lang)}: {stats.repeats_today}")
        self.counts_text = "\n".join(lines)
        self.queue_text = self.ui.t("staff.queue", lang, n=stats.queue)
        self.chain_ok = 1
        self.chain_text = self.ui.t("staff.chain_checking", lang)
        # Checking every signature of a long log takes seconds on a slow PC: never on the UI thread.
        threading.Thread(target=self._verify_in_background, args=(lang,), daemon=True).start()
        self.show_printer()
        self.show_sync()
        officer = self.services.officer_on_duty()
        self.duty_officer = officer.id if officer else ""
        self.default_language = self.services.default_language()

    def _verify_in_background(self, lang: str) -> None:
        try:
            report = self.services.ratings.verify()
        except Exception as exc:  # a damaged database must show as a fault, not kill the thread silently
            text = self.ui.t("staff.chain_error", lang, error=exc)
            on_ui_thread(self._show_chain)((False, text))
            return
        text = (f"{self.ui.t('staff.chain_ok', lang)} ({report.count} {self.ui.t('records', lang)})"
                if report.ok else self.ui.t("staff.chain_bad", lang, n=report.first_bad_seq))
        on_ui_thread(self._show_chain)((report.ok, text))

    def _show_chain(self, result: tuple[bool, str]) -> None:
        ok, text = result
        self.chain_ok, self.chain_text = int(ok), text

    def show_printer(self, message: str = "") -> None:
        """The printer line: none configured, fine, or the fault in force and since when."""
        printer, lang = self.services.printer, self.ui.lang
        fault = printer.fault() if printer.enabled else None
        self.printer_ok = int(fault is None)
        if not printer.enabled:
            self.printer_text = self.ui.t("staff.printer_none", lang)
        elif fault is None:
            self.printer_text = self.ui.t("staff.printer_ok", lang, uri=printer.target.uri)
        else:
            self.printer_text = self.ui.t("staff.printer_fault", lang, since=fault.since.replace("T", " "),
                                          error=fault.vi if lang != "en" else fault.en)
        if message:
            self.printer_text += "\n" + message

    def print_test_page(self) -> None:
        """Print the test page without holding up the screen; the result shows on the printer line."""
        def done(error: Any) -> None:
            key = "staff.printer_test_failed" if error else "staff.printer_test_done"
            self.show_printer(self.ui.t(key, self.ui.lang))

        if self.services.printer.submit_slip(self.services.test_page(), on_ui_thread(done)):
            self.show_printer(self.ui.t("staff.printer_testing", self.ui.lang))

    def show_sync(self, message: str = "") -> None:
        """The sync lines: enrolled or not, the last success and clock, the last error (or `message`)."""
        status = self.services.sync_status()
        lines = staff_lines(status, self.ui.lang)
        self.sync_enrolled = status.enrolled
        self.sync_state_text = lines.state
        self.sync_last_text = lines.last
        self.sync_error_text = message or lines.error
        self.sync_ok = int(lines.ok and not message)
        self.sync_clock_ok = int(not status.clock_flagged)

    def sync_now(self) -> None:
        """Start a sync pass off the UI thread; the lines change when it ends."""
        if self.services.start_sync(on_ui_thread(self._sync_done)):
            self.sync_busy = True
            self.sync_error_text = self.ui.t("staff.sync_running", self.ui.lang)
            self.sync_ok = 1

    def _sync_done(self, outcome: PassOutcome | BilingualError) -> None:
        self.sync_busy = False
        self.refresh_counts()
        if isinstance(outcome, BilingualError):  # the pass did not run: another one held the lock
            self.show_sync(outcome.en if self.ui.lang == "en" else outcome.vi)
        elif outcome.ok:
            self.show_sync()
            self.sync_error_text = self.ui.t("staff.sync_done", self.ui.lang)
        else:
            self.show_sync()

    def refresh_counts(self) -> None:
        """The queue line after a pass moved it."""
        self.queue_text = self.ui.t("staff.queue", self.ui.lang, n=self.services.ratings.stats().queue)

    def enroll(self) -> None:
        """Open the enrolment screen."""
        self.shell.go("enroll")

    def on_duty_officer(self, _screen: Any, officer_id: str) -> None:
        """Show which officer is on duty (a kv rule on each button missed later changes)."""
        for button in self.ids.officers.children:
            button.state = "down" if button.officer_id == officer_id else "normal"

    def choose_officer(self, officer_id: str) -> None:
        """Set the officer on duty; ratings from now on carry this officer."""
        self.services.set_officer_on_duty(officer_id)
        self.duty_officer = officer_id

    def choose_language(self, lang: str) -> None:
        """Set the language new citizens see first."""
        self.services.set_default_language(lang)
        self.default_language = lang
        self.shell.set_language(lang)
        self.refresh()
