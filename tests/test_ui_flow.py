"""The citizen's whole flow on a real Kivy window with real touches, checked against the database file."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest

from kiosk.domain.levels import QUESTIONS
from tests.ui_harness import KioskUITest, UnitTestTouch

pytestmark = pytest.mark.ui


class TestRatingFlow(KioskUITest):
    def test_one_tap_rates_and_follow_ups_are_stored_as_given(self) -> None:
        self.assertEqual(self.shell.current, "idle")
        self.tap(self.screen("idle").ids.rate_button)
        self.assertEqual(self.shell.current, "rating")

        self.tap(self.face(4))
        self.assertEqual(self.shell.current, "followup")
        ratings = self.rows("SELECT seq, level, counter_id, officer_id, language, suspected_repeat FROM log "
                            "WHERE kind='rating'")
        self.assertEqual(ratings, [(1, 4, "Q01", "CB001", "vi", 0)])

        followup = self.screen("followup")
        self.tap(self.face(5))                       # access
        self.tap(followup.ids.skip)                  # procedure: skipped
        self.tap(self.face(3))                       # officer
        self.tap(self.face(2))                       # result
        self.tap(self.face(1))                       # feedback
        self.assertEqual(followup.step_key, "harassment")
        self.tap(followup.panel.ids.no)
        self.assertEqual(followup.step_key, "comment")
        keyboard = followup.panel.ids.keyboard
        for label in ("d", "d", "u", "w", "o", "w", "n", "g", "f"):
            key = next(k for row in keyboard.children for k in row.children if k.value == label)
            self.tap(key)
        self.assertEqual(keyboard.text, "đường")
        self.tap(followup.ids.send)
        self.assertEqual(self.shell.current, "thanks")
        self.assertEqual(self.screen("thanks").reference, "Q01-000001")

        answers = dict(self.rows("SELECT question, COALESCE(value, text) FROM log WHERE kind='answer'"))
        self.assertEqual(answers, {"access": 5, "officer": 3, "result": 2, "feedback": 1, "harassment": 0,
                                   "comment": "đường"})
        self.assertTrue(self.services.ratings.verify().ok)

    def test_rating_is_in_the_database_before_the_next_screen_appears(self) -> None:
        seen: list[Any] = []

        def on_current(_manager: Any, name: str) -> None:
            seen.append((name, self.rows("SELECT level FROM log WHERE kind='rating'")))

        self.shell.go("rating")
        self.frames()
        self.shell.manager.bind(current=on_current)
        self.tap(self.face(2))
        self.assertEqual(seen[0], ("followup", [(2,)]))

    def test_two_fingers_on_two_faces_store_one_rating(self) -> None:
        self.shell.go("rating")
        self.frames()
        first = self.down(self.face(5))
        second = self.down(self.face(1))
        second.touch_up()
        first.touch_up()
        self.frames(2)
        self.assertEqual(self.rows("SELECT level FROM log WHERE kind='rating'"), [(5,)])

    def test_two_fingers_on_one_face_store_one_rating(self) -> None:
        self.shell.go("rating")
        self.frames()
        first = self.down(self.face(3))
        second = self.down(self.face(3))
        first.touch_up()
        second.touch_up()
        self.frames(2)
        self.assertEqual(self.rows("SELECT count(*) FROM log"), [(1,)])

    def test_finger_that_slides_off_the_face_chooses_nothing(self) -> None:
        self.shell.go("rating")
        self.frames()
        face = self.face(4)
        touch = self.down(face)
        touch.touch_move(*self.point(self.screen("rating").ids.question))
        touch.touch_up()
        self.frames(2)
        self.assertEqual(self.shell.current, "rating")
        self.assertEqual(self.rows("SELECT count(*) FROM log"), [(0,)])

    def test_second_rating_soon_after_is_kept_but_flagged_as_repeat(self) -> None:
        for value in (5, 1):
            self.shell.go_idle()
            self.shell.go("rating")
            self.frames()
            self.tap(self.face(value))
        self.assertEqual(self.rows("SELECT level, suspected_repeat FROM log WHERE kind='rating' ORDER BY seq"),
                         [(5, 0), (1, 1)])

    def test_back_from_rating_stores_nothing(self) -> None:
        self.shell.go("rating")
        self.frames()
        self.tap(self.screen("rating").ids.back)
        self.assertEqual(self.shell.current, "idle")
        self.assertEqual(self.rows("SELECT count(*) FROM log"), [(0,)])

    def test_english_rating_records_the_language(self) -> None:
        self.tap(self.screen("idle").ids.lang_en)
        self.assertEqual(self.screen("rating").ids.question.text, "Are you satisfied with our service today?")
        self.shell.go("rating")
        self.frames()
        self.assertEqual(self.screen("rating").ids.faces.labels[1].text, "Very dissatisfied")
        self.tap(self.face(4))
        self.assertEqual(self.rows("SELECT language FROM log WHERE kind='rating'"), [("en",)])
        self.shell.go_idle()
        self.assertEqual(self.shell.ui.lang, "vi")  # the next citizen starts in the default language

    def test_every_step_has_skip_and_send_and_send_finishes_at_once(self) -> None:
        self.shell.go("rating")
        self.frames()
        self.tap(self.face(3))
        followup = self.screen("followup")
        for index in range(len(QUESTIONS) + 1):
            followup.show(index)
            self.frames()
            self.assertGreater(followup.ids.skip.width, 0)
            self.assertGreater(followup.ids.send.width, 0)
        followup.show(0)
        self.frames()
        self.tap(followup.ids.send)
        self.assertEqual(self.shell.current, "thanks")
        self.assertEqual(self.rows("SELECT count(*) FROM log WHERE kind='answer'"), [(0,)])

    def test_thanks_returns_to_idle_by_itself(self) -> None:
        self.shell.go("rating")
        self.frames()
        self.tap(self.face(5))
        self.tap(self.screen("followup").ids.send)
        thanks = self.screen("thanks")
        for _ in range(self.services.settings.ui.thanks_timeout_s):
            thanks._count_down(1.0)
        self.assertEqual(self.shell.current, "idle")


class TestDoubleTapGuard(KioskUITest):
    # Long enough that a loaded test machine still lands the second tap inside it (the first tap's fsync and the
    # screen change come between); the test waits out the guard of the rating screen in real time first.
    ui_settings: ClassVar[dict[str, Any]] = {"touch_guard_ms": 2000}

    def test_double_tap_on_a_face_stores_one_rating_and_no_answer(self) -> None:
        self.shell.go("rating")
        self.wait_out_guard(self.screen("rating"))
        face = self.face(2)
        point = self.point(face)
        self.tap(face)
        self.assertEqual(self.shell.current, "followup")
        # The second tap of the double tap lands where the first was, now on the follow-up screen.
        touch = UnitTestTouch(*point)
        touch.touch_down()
        touch.touch_up()
        self.frames(2)
        self.assertEqual(self.rows("SELECT count(*) FROM log WHERE kind='rating'"), [(1,)])
        self.assertEqual(self.rows("SELECT count(*) FROM log WHERE kind='answer'"), [(0,)])
        self.assertEqual(self.screen().step, 0)


class TestInactivity(KioskUITest):
    def test_every_screen_returns_to_idle_and_keeps_a_typed_comment(self) -> None:
        self.shell.go("rating")
        self.frames()
        self.tap(self.face(4))
        followup = self.screen("followup")
        followup.show(len(followup.steps) - 1)
        self.frames()
        for key in "toots":
            followup.panel.ids.keyboard.press(key)
        self.shell.last_touch = time.monotonic() - self.services.settings.ui.idle_timeout_s - 1
        self.shell._check_idle(1.0)
        self.assertEqual(self.shell.current, "idle")
        self.assertEqual(self.rows("SELECT text FROM log WHERE question='comment'"), [("tốt",)])

        for name in ("rating", "thanks", "pin", "staff"):
            self.shell.go(name)
            self.shell.last_touch = time.monotonic() - self.services.settings.ui.idle_timeout_s - 1
            self.shell._check_idle(1.0)
            self.assertEqual(self.shell.current, "idle", name)

    def test_recent_touch_keeps_the_screen(self) -> None:
        self.shell.go("rating")
        self.frames()
        self.tap(self.screen("rating").ids.question)
        self.shell._check_idle(1.0)
        self.assertEqual(self.shell.current, "rating")


class TestTwoFingersOnFollowUps(KioskUITest):
    ui_settings: ClassVar[dict[str, Any]] = {"touch_guard_ms": 600}

    def start(self, step: int) -> Any:
        self.shell.go("rating")
        self.wait_out_guard(self.screen("rating"))
        self.tap(self.face(4))
        self.assertEqual(self.shell.current, "followup")
        followup = self.screen("followup")
        followup.show(step)
        self.wait_out_guard(followup)
        return followup

    def test_two_fingers_on_yes_and_no_give_one_answer(self) -> None:
        followup = self.start(5)
        yes, no = self.down(followup.panel.ids.yes), self.down(followup.panel.ids.no)
        yes.touch_up()
        no.touch_up()
        self.frames(2)
        self.assertEqual(self.rows("SELECT question, value FROM log WHERE kind='answer'"), [("harassment", 1)])
        self.assertEqual(followup.step_key, "comment")
        self.assertEqual(self.shell.current, "followup")  # the comment step was not skipped by the 2nd finger

    def test_two_fingers_on_skip_skip_one_step(self) -> None:
        followup = self.start(0)
        first, second = self.down(followup.ids.skip), self.down(followup.ids.skip)
        first.touch_up()
        second.touch_up()
        self.frames(2)
        self.assertEqual(followup.step_key, "procedure")
