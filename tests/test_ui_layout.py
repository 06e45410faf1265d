"""Every screen, in both languages and at both supported sizes: targets big enough, text inside its box."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label

from kiosk.settings import Settings, load
from kiosk.ui.widgets import FaceWidget
from tests.ui_harness import EXAMPLE_CONFIG, KioskUITest, example_settings

pytestmark = pytest.mark.ui

# 15 mm on a 15.6-inch 1920×1080 panel (141 pixels per inch) is 83 pixels.
MIN_TARGET_1080 = 15 / 25.4 * (1920**2 + 1080**2) ** 0.5 / 15.6


def walk(widget: Any) -> Iterator[Any]:
    """The widget and everything under it that is shown."""
    if widget.opacity == 0 or widget.width <= 0 or widget.height <= 0:
        return
    yield widget
    for child in widget.children:
        yield from walk(child)


class LayoutCase(KioskUITest):
    lang = "vi"

    def make_settings(self) -> Settings:
        # With the example's usual procedures, so the "which procedure" step is checked too.
        return example_settings(procedures=tuple(load(EXAMPLE_CONFIG).counter.procedures), touch_guard_ms=0)

    def screens(self) -> Iterator[str]:
        """Bring up each screen state in turn, yielding a name for messages."""
        self.shell.set_language(self.lang)
        self.services.ensure_sample_catalog()
        for name in ("idle", "rating", "pin", "staff", "enroll", "catalog"):
            self.shell.go(name)
            self.frames(3)
            yield name
        self.shell.screen("procedure").show("1.001193")
        self.shell.go("procedure")
        self.frames(3)
        yield "procedure"
        self.shell.session.rate(4)
        followup = self.screen("followup")
        self.shell.go("followup")
        for step in range(len(followup.steps)):
            followup.show(step)
            self.frames(3)
            yield f"followup:{followup.step_key}"
        for key in "Toi rat hai long voi can bo tiep nhan ho so, huong dan rat ky va de hieu " * 3:
            followup.panel.ids.keyboard.press(key)
        self.frames(3)
        yield "followup:comment-long"
        followup.panel.ids.keyboard.press("page")
        self.frames(3)
        yield "followup:comment-marks"
        self.shell.go("thanks")
        self.frames(3)
        yield "thanks"
        self.screen("thanks").print_state = "failed"  # the longest message the screen can show
        self.frames(3)
        yield "thanks:print-failed"

    def check(self) -> None:
        limit = MIN_TARGET_1080 * self.window_size[1] / 1080
        problems: list[str] = []
        for name in self.screens():
            for widget in walk(self.screen()):
                if isinstance(widget, ButtonBehavior | FaceWidget) and not widget.disabled:
                    size = min(widget.size) if not isinstance(widget, FaceWidget) else min(widget.size) * 0.86
                    if size < limit:
                        problems.append(f"{name}: target {getattr(widget, 'text', widget)!r} is "
                                        f"{size:.0f}px < {limit:.0f}px")
                if isinstance(widget, Label) and widget.text and not widget.shorten:
                    widget.texture_update()
                    tw, th = widget.texture_size
                    if tw > widget.width + 2 or th > widget.height + 2:
                        problems.append(f"{name}: text {widget.text[:40]!r} is {tw}×{th} in a "
                                        f"{widget.width:.0f}×{widget.height:.0f} box")
        self.maxDiff = None
        self.assertEqual(problems, [])


class TestLayoutVi1080(LayoutCase):
    window_size = (1920, 1080)

    def test_targets_and_text(self) -> None:
        self.check()


class TestLayoutEn1080(LayoutCase):
    window_size = (1920, 1080)
    lang = "en"

    def test_targets_and_text(self) -> None:
        self.check()


class TestLayoutVi800(LayoutCase):
    window_size = (1280, 800)

    def test_targets_and_text(self) -> None:
        self.check()


class TestLayoutEn800(LayoutCase):
    window_size = (1280, 800)
    lang = "en"

    def test_targets_and_text(self) -> None:
        self.check()
