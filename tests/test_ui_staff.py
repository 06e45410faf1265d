"""Staff mode behind a long press and a PIN, and the lockdown that keeps citizens inside the app."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label

from kiosk.app import make_app
from tests.ui_harness import KioskUITest, UnitTestTouch

pytestmark = pytest.mark.ui


class TestStaffMode(KioskUITest):

    def open_pad(self) -> None:
        width, height = self.Window.size
        touch = UnitTestTouch(width - 20, height - 20)  # the top-right corner, over the clock
        touch.touch_down()
        self.wait(self.services.settings.staff.long_press_s + 0.2)
        # A slow frame (a busy machine) may delay the clock's tick.
        self.wait_for(lambda: self.shell.current == "pin", timeout=5)
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
        self.wait_for(lambda: "đang kiểm tra" not in staff.ids.chain.text)  # checked off the UI thread
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
        chain = self.screen("staff").ids.chain
        self.wait_for(lambda: "đang kiểm tra" not in chain.text)  # checked off the UI thread
        self.assertIn("HỎNG tại số 2", chain.text)


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


class TestStaffSync(KioskUITest):
    """Staff mode's sync lines, enrolment typed on the screen's keyboard, and "Sync now" against a real server."""

    def setUp(self) -> None:
        super().setUp()
        import tempfile
        from pathlib import Path

        from sync.server.process import sqlite_url
        from tests.sync_harness import start_server

        directory = Path(tempfile.mkdtemp(prefix="kiosk-ui-server-"))
        self.server = start_server(sqlite_url(directory / "server.db"), directory / "data")

    def tearDown(self) -> None:
        self.server.stop()
        super().tearDown()

    def key(self, value: str) -> Any:
        keyboard = self.screen("enroll").ids.keyboard
        return next(key for row in keyboard.children for key in row.children if key.value == value)

    def type_on_screen(self, text: str) -> None:
        for char in text:
            if char.isupper() != self.screen("enroll").ids.keyboard.caps and char.isalpha():
                self.tap(self.key("caps"))
            self.tap(self.key(char))

    def test_staff_mode_shows_where_sync_stands_before_enrolment(self) -> None:
        self.shell.go("staff")
        self.frames(2)
        staff = self.screen("staff")
        self.assertIn("Chờ đồng bộ: 0 bản ghi", staff.ids.queue.text)
        self.assertIn("chưa đăng ký máy chủ", staff.ids.queue.text)
        self.assertIn("Thành công gần nhất: chưa lần nào", staff.ids.sync_last.text)
        self.assertTrue(staff.ids.sync_now.disabled)  # nothing to sync with yet
        self.assertFalse(staff.ids.enroll.disabled)

    def test_enrol_on_the_screen_then_sync_now_updates_the_lines(self) -> None:
        from tests.test_sync_agent_support import server_chain

        registered = self.server.add_device()
        for value in (5, 4, 2):
            self.services.ratings.record_rating(value, counter_id="Q01", officer_id="CB001", language="vi")
        self.shell.go("staff")
        self.frames(2)
        staff = self.screen("staff")
        self.tap(staff.ids.enroll)
        self.assertEqual(self.shell.current, "enroll")
        enroll = self.screen("enroll")

        self.tap(enroll.ids.server_field)
        for _ in range(len(enroll.server_url)):
            self.tap(self.key("erase"))
        self.assertEqual(enroll.server_url, "")
        self.type_on_screen(self.server.url)
        self.tap(enroll.ids.code_field)
        self.type_on_screen(registered["code"])
        self.assertEqual((enroll.server_url, enroll.code), (self.server.url, registered["code"]))
        self.tap(enroll.ids.submit)
        self.wait_for(lambda: not enroll.working)
        self.assertIn("Đã đăng ký", enroll.message)
        self.assertIn(registered["device_id"], enroll.message)

        self.tap(enroll.ids.back)
        self.assertEqual(self.shell.current, "staff")
        self.assertIn("Chờ đồng bộ: 3 bản ghi", staff.ids.queue.text)
        self.assertIn(self.server.url.split("//")[1], staff.ids.queue.text)
        self.assertFalse(staff.ids.sync_now.disabled)
        busy: list[bool] = []
        staff.bind(sync_busy=lambda _screen, value: busy.append(value))
        self.tap(staff.ids.sync_now)
        self.wait_for(lambda: busy == [True, False])  # busy while the pass ran off the UI thread, then done
        self.assertIn("Chờ đồng bộ: 0 bản ghi", staff.ids.queue.text)
        self.assertNotIn("chưa lần nào", staff.ids.sync_last.text)
        self.assertIn("đồng hồ lệch", staff.ids.sync_last.text)
        self.assertEqual(staff.ids.sync_error.text, "Đồng bộ xong.")
        self.assertEqual(len(server_chain(self.server, registered["device_id"])), 3)

        # A failed pass shows its reason, in the staff's language, and nothing is lost.
        self.server.stop()
        self.services.ratings.record_rating(3, counter_id="Q01", officer_id="CB001", language="vi")
        from kiosk import state

        self.services.state.put(state.CLOCK_OFFSET, "0")
        staff.choose_language("en")
        self.services.settings = dataclasses.replace(
            self.services.settings, sync=dataclasses.replace(self.services.settings.sync, budget_s=2))
        self.tap(staff.ids.sync_now)
        self.wait_for(lambda: busy == [True, False, True, False], timeout=30)
        self.assertTrue(staff.ids.sync_error.text.startswith("Error ("))
        self.assertRegex(staff.ids.sync_error.text, "Cannot reach the server|time budget")
        self.assertEqual(staff.sync_ok, 0)
        self.assertIn("Waiting to sync: 1 record(s)", staff.ids.queue.text)


    def test_the_app_pass_applies_new_settings_between_citizens_and_skips_when_locked(self) -> None:
        from sync.agent.enroll import enroll
        from sync.agent.lock import pass_lock

        registered = self.server.add_device(agency_code="BG", counter_code="Q02")
        enroll(self.services, self.server.url, registered["code"])
        outcomes: list[Any] = []
        self.services.start_sync(outcomes.append)  # the screens are not told; only the outcome is kept
        self.wait_for(lambda: bool(outcomes))
        outcomes.clear()

        old_name = self.services.settings.agency.name
        self.shell.go("rating")  # a citizen is rating: nothing changes under their finger
        self.services.state.put("sync_settings_version", "stale")  # so the next pass fetches them anew
        with pass_lock(self.data_dir):
            self.assertTrue(self.shell.start_background_sync())
            self.wait(0.5)
        self.assertEqual(self.services.state.get("sync_settings_version"), "stale")  # skipped: lock held
        self.assertTrue(self.shell.start_background_sync())
        self.wait_for(lambda: self.services.state.get("sync_settings_version") not in (None, "stale"))
        self.wait(0.3)
        self.assertEqual(self.shell.current, "rating")
        self.assertEqual(self.screen("idle").ids.agency.text, old_name)

        self.shell.go_idle()
        self.frames(3)
        self.assertEqual(self.services.settings.agency.name, "Trung tâm Phục vụ hành chính công BG")
        self.assertEqual(self.screen("idle").ids.agency.text, "Trung tâm Phục vụ hành chính công BG")
        self.assertEqual(self.services.settings.counter.id, "Q02")  # ratings from now on carry it
        self.shell.go("rating")
        self.frames(2)
        self.tap(self.face(4))
        self.assertEqual(self.rows("SELECT counter_id FROM log WHERE kind='rating'"), [("Q02",)])


class TestBackgroundPassIsScheduled(KioskUITest):
    def make_settings(self) -> Any:
        settings = super().make_settings()
        return dataclasses.replace(settings, sync=dataclasses.replace(settings.sync, enabled=True, interval_min=7))

    def test_every_interval_min_minutes(self) -> None:
        event = self.shell._sync_event
        self.assertIsNotNone(event)
        self.assertEqual(event.timeout, 7 * 60)
        self.shell.close()
        self.assertFalse(event.is_triggered)


class TestSyncScreensFit(KioskUITest):
    """The enrolment screen and staff mode with every sync line shown: targets big enough, text in its box."""

    def check_screens(self, lang: str) -> None:
        from kiosk import state
        from tests.test_ui_layout import MIN_TARGET_1080, walk

        with self.services.database.writing() as con:
            state.put(con, state.SERVER_URL, "https://dongbo.thanhpho.gov.vn:8443")
            state.put(con, state.SERVER_DEVICE_ID, "3f2a9c1e-0000-4000-8000-000000000001")
            state.put(con, state.LAST_SUCCESS, "2026-11-22T18:12:00Z")
            state.put(con, state.CLOCK_DRIFT, "-431.0")
            state.put(con, state.CLOCK_FLAGGED, "1")
            state.put(con, state.LAST_ERROR, "2026-11-23T01:40:00Z|" + "Không kết nối được máy chủ " * 8
                      + "|" + "Cannot reach the server " * 8)
        self.shell.set_language(lang)
        limit = MIN_TARGET_1080 * self.window_size[1] / 1080
        problems: list[str] = []
        for name in ("staff", "enroll"):
            self.shell.go(name)
            if name == "enroll":
                for key in "https://dongbo.thanhpho.gov.vn:8443/kiosk":
                    self.screen("enroll").type_key(key)
            self.frames(3)
            for widget in walk(self.screen()):
                if isinstance(widget, ButtonBehavior) and not widget.disabled and min(widget.size) < limit:
                    problems.append(f"{name}: target {getattr(widget, 'text', widget)!r} is {min(widget.size):.0f}px")
                if isinstance(widget, Label) and widget.text and not widget.shorten:
                    widget.texture_update()
                    tw, th = widget.texture_size
                    if tw > widget.width + 2 or th > widget.height + 2:
                        problems.append(f"{name}: text {widget.text[:40]!r} is {tw}×{th} in "
                                        f"{widget.width:.0f}×{widget.height:.0f}")
        card = self.screen("staff").ids.counts.parent
        top_child = max(child.top for child in card.children)
        if top_child > card.top:
            problems.append(f"staff: the facts card overflows by {top_child - card.top:.0f}px")
        self.assertEqual(problems, [])

    def test_fit_vi_800(self) -> None:
        self.check_screens("vi")

    def test_fit_en_800(self) -> None:
        self.check_screens("en")


class TestSyncScreensFit1080(TestSyncScreensFit):
    window_size = (1920, 1080)
