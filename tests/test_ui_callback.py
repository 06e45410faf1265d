"""The "Tôi muốn được liên hệ lại" toggle on the comment step, driven by real touches on a real Kivy window and
checked against the kiosk's database file."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from kiosk.domain.levels import CALLBACK_KEY, COMMENT_KEY
from tests.test_ui_layout import MIN_TARGET_1080
from tests.ui_harness import KioskUITest, UnitTestTouch

pytestmark = pytest.mark.ui


class CallbackCase(KioskUITest):
    """Rates, goes to the comment step, and types with real taps on the on-screen keyboard."""

    def comment_step(self) -> Any:
        """Rate 2 with a tap and open the comment step; the follow-up screen."""
        self.shell.go("rating")
        self.frames()
        self.tap(self.face(2))
        followup = self.screen("followup")
        followup.show(followup.steps.index(COMMENT_KEY))
        self.frames()
        return followup

    def type_keys(self, followup: Any, keys: str) -> None:
        """Tap each key of the on-screen keyboard in turn (Telex: "dd" is đ)."""
        keyboard = followup.panel.ids.keyboard
        for label in keys:
            key = next(k for row in keyboard.children for k in row.children if k.value == label)
            self.tap(key)

    def answers(self) -> list[tuple[Any, ...]]:
        """(question, value, text, rating_uuid) of every stored answer, in order."""
        return self.rows("SELECT question, value, text, rating_uuid FROM log WHERE kind='answer' ORDER BY seq")

    def rating_uuid(self) -> str:
        """The uuid of the one rating stored."""
        ((uuid,),) = self.rows("SELECT uuid FROM log WHERE kind='rating'")
        return str(uuid)


class TestCallbackToggle(CallbackCase):
    def test_toggled_and_sent_stores_the_comment_then_the_callback(self) -> None:
        followup = self.comment_step()
        toggle = followup.panel.ids.callback
        self.assertFalse(toggle.active)
        self.assertFalse(toggle.ids.tick.active)
        self.tap(toggle)
        self.assertTrue(toggle.active)
        self.assertTrue(toggle.ids.tick.active)  # the tick, not only the colour, shows it is on
        self.type_keys(followup, "goij 0912345678")
        self.assertEqual(followup.panel.ids.keyboard.text, "gọi 0912345678")
        self.tap(followup.ids.send)
        self.assertEqual(self.shell.current, "thanks")
        rating = self.rating_uuid()
        self.assertEqual(self.answers(), [(COMMENT_KEY, None, "gọi 0912345678", rating),
                                          (CALLBACK_KEY, 1, None, rating)])
        self.assertTrue(self.services.ratings.verify().ok)

    def test_sent_without_the_toggle_stores_no_callback(self) -> None:
        followup = self.comment_step()
        self.type_keys(followup, "toots")
        self.tap(followup.ids.send)
        self.assertEqual(self.shell.current, "thanks")
        self.assertEqual(self.answers(), [(COMMENT_KEY, None, "tốt", self.rating_uuid())])

    def test_toggled_without_a_comment_stores_nothing(self) -> None:
        followup = self.comment_step()
        self.tap(followup.panel.ids.callback)
        self.assertTrue(followup.panel.ids.callback.active)
        self.tap(followup.ids.send)
        self.assertEqual(self.shell.current, "thanks")
        self.assertEqual(self.answers(), [])

    def test_toggled_typed_and_skipped_stores_nothing(self) -> None:
        followup = self.comment_step()
        self.tap(followup.panel.ids.callback)
        self.type_keys(followup, "abc")
        self.tap(followup.ids.skip)
        self.assertEqual(self.shell.current, "thanks")
        self.assertEqual(self.answers(), [])

    def test_a_second_tap_switches_it_off_again(self) -> None:
        followup = self.comment_step()
        toggle = followup.panel.ids.callback
        self.tap(toggle)
        self.tap(toggle)
        self.assertFalse(toggle.active)
        self.assertFalse(toggle.ids.tick.active)
        self.type_keys(followup, "abc")
        self.tap(followup.ids.send)
        self.assertEqual([a[0] for a in self.answers()], [COMMENT_KEY])

    def test_two_fingers_switch_it_once(self) -> None:
        followup = self.comment_step()
        toggle = followup.panel.ids.callback
        first, second = self.down(toggle), self.down(toggle)
        second.touch_up()
        first.touch_up()
        self.frames(2)
        self.assertTrue(toggle.active)

    def test_the_second_tap_of_a_double_tap_does_not_switch_it_back(self) -> None:
        followup = self.comment_step()
        toggle = followup.panel.ids.callback
        self.tap(toggle)
        touch = UnitTestTouch(*self.point(toggle))
        touch.is_double_tap = True  # what Kivy's double-tap detection marks on the second tap
        touch.touch_down()
        touch.touch_up()
        self.frames(2)
        self.assertTrue(toggle.active)

    def test_a_finger_that_slides_off_does_not_switch_it(self) -> None:
        followup = self.comment_step()
        toggle = followup.panel.ids.callback
        touch = self.down(toggle)
        touch.touch_move(*self.point(followup.ids.question))
        touch.touch_up()
        self.frames(2)
        self.assertFalse(toggle.active)

    def test_a_citizen_who_walks_away_keeps_comment_and_callback(self) -> None:
        followup = self.comment_step()
        self.tap(followup.panel.ids.callback)
        self.type_keys(followup, "abc")
        followup.on_timeout()
        self.assertEqual([(a[0], a[1], a[2]) for a in self.answers()],
                         [(COMMENT_KEY, None, "abc"), (CALLBACK_KEY, 1, None)])

    def test_the_next_citizen_starts_with_it_off(self) -> None:
        followup = self.comment_step()
        self.tap(followup.panel.ids.callback)
        self.shell.go_idle()
        followup = self.comment_step()
        self.assertFalse(followup.panel.ids.callback.active)

    def test_it_is_a_big_target_with_vietnamese_first(self) -> None:
        followup = self.comment_step()
        toggle = followup.panel.ids.callback
        self.assertGreaterEqual(min(toggle.size), MIN_TARGET_1080 * self.window_size[1] / 1080)
        self.assertEqual(toggle.ids.label.text, "Tôi muốn được liên hệ lại")
        self.assertEqual(toggle.ids.hint.text, "Xin ghi số điện thoại hoặc email vào góp ý")
        self.shell.set_language("en")
        self.frames()
        self.assertEqual(toggle.ids.label.text, "Please contact me")
        self.assertEqual(toggle.ids.hint.text, "Write your phone number or e-mail in the comment")


class TestCallbackToggleGuard(CallbackCase):
    # Long enough that a loaded test machine still taps inside it; the test then waits it out in real time.
    ui_settings: ClassVar[dict[str, Any]] = {"touch_guard_ms": 2000}

    def test_a_tap_left_over_from_the_previous_step_does_not_switch_it(self) -> None:
        self.shell.go("rating")
        self.wait_out_guard(self.screen("rating"))
        self.tap(self.face(2))
        followup = self.screen("followup")
        followup.show(followup.steps.index(COMMENT_KEY))
        self.frames()
        self.tap(followup.panel.ids.callback)  # within the guard after the step changed
        self.assertFalse(followup.panel.ids.callback.active)
        self.wait_out_guard(followup)
        self.tap(followup.panel.ids.callback)
        self.assertTrue(followup.panel.ids.callback.active)
