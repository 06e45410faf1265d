"""Staff mode behind a long press and a PIN, and the lockdown that keeps citizens inside the app."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kivy.core.window import Window

from kiosk.app import make_app
from tests.ui_harness import KioskUITest, UnitTestTouch

pytestmark = pytest.mark.ui


class TestStaffMode(KioskUITest):

    def open_pad(self) -> None:
        width, height = self.Window.size
        touch = UnitTestTouch(width - 20, height - 20)  # the top-right corner, over the clock
        touch.touch_down()
        self.wait(self.services.settings.staff.long_press_s + 0.2)
        deadline = time.monotonic() + 5  # a slow frame (a busy machine) may delay the clock's tick
        while self.shell.current != "pin" and time.monotonic() < deadline:
            self.frames(1)
        touch.touch_up()
        self.frames(2)

    def enter(self, pin: str) -> None:
        pad = self.screen("pin")
        for digit in pin:
            self.tap(pad.keys[digit])
        self.tap(pad.keys["ok"])

    def make_settings(self) -> Any:
        import dataclasses

        settings = super().make_settings()
        return dataclasses.replace(settings, staff=dataclasses.replace(settings.staff, long_press_s=0.5))

    def test_short_press_on_the_corner_does_nothing(self) -> None:
        width, height = self.Window.size
        touch = UnitTestTouch(width - 20, height - 20)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.wait(0.7)
        self.assertEqual(self.shell.current, "idle")

    def test_long_press_then_right_pin_opens_staff_mode(self) -> None:
        self.open_pad()
        self.assertEqual(self.shell.current, "pin")
        self.enter("123456")
        self.assertEqual(self.shell.current, "staff")

    def test_five_wrong_pins_lock_the_pad_even_for_the_right_pin(self) -> None:
        self.open_pad()
        pad = self.screen("pin")
        for attempt in range(4):
            self.enter("0000")
            self.assertIn(f"Còn {4 - attempt} lần thử", pad.message)
        self.enter("0000")
        self.assertIn("Tạm khoá", pad.message)
        self.enter("123456")
        self.assertEqual(self.shell.current, "pin")
        self.assertIn("Tạm khoá", pad.message)

    def test_staff_sets_officer_on_duty_and_counts_update(self) -> None:
        self.open_pad()
        self.enter("123456")
        staff = self.screen("staff")
        second = next(b for b in staff.ids.officers.children if b.officer_id == "CB002")
        self.tap(second)
        self.assertEqual(self.services.officer_on_duty().id, "CB002")
        self.tap(staff.ids.close)
        self.assertEqual(self.shell.current, "idle")
        self.assertEqual(self.screen("idle").officer_name, "Trần Văn Minh")

        self.shell.go("rating")
        self.frames()
        self.tap(self.face(2))
        self.assertEqual(self.rows("SELECT officer_id FROM log WHERE kind='rating'"), [("CB002",)])
        self.shell.go("staff")
        self.frames()
        self.assertIn("Không hài lòng: 1", staff.ids.counts.text)
        self.assertIn("Chờ đồng bộ: 1", staff.ids.queue.text)
        self.wait(0.5)  # the chain is checked off the UI thread
        self.assertIn("nguyên vẹn (1 bản ghi)", staff.ids.chain.text)

    def test_staff_default_language_applies_to_the_next_citizen(self) -> None:
        self.shell.go("staff")
        self.frames()
        self.tap(self.screen("staff").ids.staff_en)
        self.tap(self.screen("staff").ids.close)
        self.assertEqual(self.shell.ui.lang, "en")
        self.assertEqual(self.screen("idle").ids.rate_button.text.count("Rate our service"), 1)


class TestLockdown(KioskUITest):
    def test_escape_alt_f4_and_close_requests_cannot_leave(self) -> None:
        app = make_app(self.services)
        stopped: list[bool] = []
        app.stop = lambda *a: stopped.append(True)  # type: ignore[method-assign]
        root = app.build()
        try:
            self.assertTrue(Window.dispatch("on_keyboard", 27, 41, None, []))        # Escape
            self.assertTrue(Window.dispatch("on_keyboard", 285, 61, None, ["alt"]))  # Alt+F4
            self.assertTrue(Window.dispatch("on_request_close"))                     # window manager close
            self.assertEqual(stopped, [])
            self.assertFalse(Window.allow_screensaver)
            app.allow_exit = True
            self.assertFalse(Window.dispatch("on_request_close"))
        finally:
            Window.unbind(on_request_close=app._on_request_close, on_keyboard=app._on_keyboard)
            app.shell.close()
            del root


class TestStaffSeesTampering(KioskUITest):
    def test_broken_chain_shows_in_staff_mode(self) -> None:
        import sqlite3

        for value in (5, 4, 3):
            self.services.ratings.record_rating(value, counter_id="Q01", officer_id="CB001", language="vi")
        con = sqlite3.connect(self.data_dir / "kiosk.db")
        con.execute("DROP TRIGGER log_append_only_update")
        con.execute("UPDATE log SET level = 1 WHERE seq = 2")
        con.commit()
        con.close()
        self.shell.go("staff")
        self.wait(0.5)
        chain = self.screen("staff").ids.chain.text
        self.assertIn("HỎNG tại số 2", chain)


class TestStaffShowsWhoIsOnDuty(KioskUITest):
    def test_the_officer_on_duty_is_the_one_shown_pressed(self) -> None:
        self.shell.go("staff")
        self.frames(2)
        staff = self.screen("staff")
        states = {b.officer_id: b.state for b in staff.ids.officers.children}
        self.assertEqual(states, {"CB001": "down", "CB002": "normal"})
        self.tap(next(b for b in staff.ids.officers.children if b.officer_id == "CB002"))
        states = {b.officer_id: b.state for b in staff.ids.officers.children}
        self.assertEqual(states, {"CB001": "normal", "CB002": "down"})
