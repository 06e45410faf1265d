"""The on-screen keyboard, tapped like a citizen would: Telex, the precomposed page, capitals, the limit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui_harness import KioskUITest

pytestmark = pytest.mark.ui


class TestKeyboard(KioskUITest):
    def setUp(self) -> None:
        super().setUp()
        self.shell.session.rate(4)
        followup = self.screen("followup")
        self.shell.go("followup")
        followup.show(len(followup.steps) - 1)
        self.frames(3)
        self.keyboard = followup.panel.ids.keyboard

    def key(self, value: str) -> Any:
        # With capitals on, the letter keys show and type capitals.
        return next(k for row in self.keyboard.children for k in row.children if k.value in (value, value.upper()))

    def type(self, *values: str) -> None:
        for value in values:
            self.tap(self.key(value))

    def test_telex_and_capitals_latch_for_one_letter(self) -> None:
        self.type("shift", "v", "i", "e", "e", "t", "j", " ", "n", "a", "m")
        self.assertEqual(self.keyboard.text, "Việt nam")
        self.assertFalse(self.keyboard.shift)

    def test_precomposed_page_types_a_finished_letter(self) -> None:
        self.type("t", "page", "vowel:ư")
        rows = list(reversed(self.keyboard.children))  # Kivy keeps children last-added first
        toned = [k.value for k in reversed(rows[1].children)]
        self.assertEqual(toned, ["ư", "ứ", "ừ", "ử", "ữ", "ự", "đ"])
        self.type("ữ", "page", "a")
        self.assertEqual(self.keyboard.text, "tữa")
        self.type("backspace", "backspace")
        self.assertEqual(self.keyboard.text, "t")

    def test_comment_is_stored_when_sent(self) -> None:
        self.type("c", "a", "m", "r", " ", "o", "w", "n")
        self.tap(self.screen("followup").ids.send)
        self.assertEqual(self.rows("SELECT text FROM log WHERE question='comment'"), [("cảm ơn",)])

    def test_typing_stops_at_the_comment_limit(self) -> None:
        self.keyboard.max_length = 5
        self.type("a", "b", "c", "d", "e", "f", "g")
        self.assertEqual(self.keyboard.text, "abcde")

    def test_skipping_the_comment_stores_nothing(self) -> None:
        self.type("x", "a", "a")
        self.tap(self.screen("followup").ids.skip)
        self.assertEqual(self.shell.current, "thanks")
        self.assertEqual(self.rows("SELECT count(*) FROM log WHERE question='comment'"), [(0,)])
