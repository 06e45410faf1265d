"""Widgets the screens share: the base screen with its touch guard, and the drawn faces."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.domain.levels import LEVELS, level
from kiosk.ui.theme import INK, level_colour

if TYPE_CHECKING:
    from kiosk.ui.shell import Shell

T = TypeVar("T")

# Shared widget rules every screen's .kv uses; loaded once, with the module.
Builder.load_file(str(Path(__file__).with_name("common.kv")))

# How far each level's mouth bends: a broad smile at 5, a flat line at 3, a frown at 1.
_MOUTH_CURVE = {5: 1.35, 4: 0.6, 3: 0.0, 2: -0.6, 1: -1.1}


def on_ui_thread(callback: Callable[[T], None]) -> Callable[[T], None]:
    """Wrap `callback` so a worker thread's call runs on Kivy's thread at the next frame."""
    def hand_over(value: T) -> None:
        Clock.schedule_once(lambda _dt: callback(value), 0)

    return hand_over


class KioskScreen(Screen):
    """A screen that gets the shell (services, session, shared view state) in its constructor."""

    ui = ObjectProperty(None)

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        self.shell = shell
        self.services = shell.services
        self.session = shell.session
        self.ui = shell.ui
        self._entered_at = 0.0
        super().__init__(**kwargs)

    def on_pre_enter(self, *args: Any) -> None:
        """Start the guard that drops the tail of a double tap meant for the previous screen."""
        self.restart_guard()

    def restart_guard(self) -> None:
        """The screen's content just changed: treat the next moments' touches as leftovers."""
        self._entered_at = time.monotonic()

    def guarded(self) -> bool:
        """True while touches are still too close to the screen change to be deliberate."""
        guard_s = self.services.settings.ui.touch_guard_ms / 1000
        return time.monotonic() - self._entered_at < guard_s

    def on_touch_down(self, touch: Any) -> bool:
        """Swallow touches during the guard; otherwise pass them to the widgets."""
        if self.guarded():
            return True
        return bool(super().on_touch_down(touch))


class FaceWidget(Widget):
    """One satisfaction face, drawn as vectors so it stays sharp at any size."""

    level = NumericProperty(3)
    pressed = BooleanProperty(False)
    chosen = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, level=self._draw, pressed=self._draw, chosen=self._draw)
        self._draw()

    def _draw(self, *_args: Any) -> None:
        self.canvas.clear()
        full = min(self.width, self.height) / 2
        r = full * (0.92 if self.pressed else 0.86)
        # Sit on the bottom edge so the label below stays close to its face whatever the cell's shape.
        cx, cy = self.center_x, self.y + full
        fill = level_colour(int(self.level))
        with self.canvas:
            if self.pressed or self.chosen:
                Color(0.04, 0.31, 0.61, 1)  # selection ring in the action colour
                Ellipse(pos=(cx - r * 1.09, cy - r * 1.09), size=(r * 2.18, r * 2.18))
                Color(1, 1, 1, 1)
                Ellipse(pos=(cx - r * 1.03, cy - r * 1.03), size=(r * 2.06, r * 2.06))
            Color(*fill)
            Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))
            Color(0.12, 0.12, 0.12, 1)
            eye_w, eye_h = r * 0.17, r * 0.24
            for side in (-1, 1):
                Ellipse(pos=(cx + side * r * 0.34 - eye_w / 2, cy + r * 0.14), size=(eye_w, eye_h))
            curve = _MOUTH_CURVE[int(self.level)]
            if int(self.level) == 1:
                for side in (-1, 1):  # raised inner brows read as distress even without colour
                    Line(points=[cx + side * r * 0.52, cy + r * 0.48, cx + side * r * 0.18, cy + r * 0.58],
                         width=max(r * 0.045, 1.5), cap="round")
            half, points = r * 0.46, []
            for i in range(21):
                t = i / 10 - 1
                points += [cx + t * half, cy - r * 0.36 + curve * r * 0.16 - curve * r * 0.2 * (1 - t * t)]
            Line(points=points, width=max(r * 0.06, 2), cap="round", joint="round")


class FaceRow(BoxLayout):
    """The five faces in a row, best first, with their labels; one deliberate tap chooses one level.

    Kivy sends a press for every finger, so the row follows only the first finger that lands and
    ignores the rest, and fires `on_choose` once per arming: a double tap or two fingers make one choice.
    """

    ui = ObjectProperty(None)
    label_font = NumericProperty(30)
    armed = BooleanProperty(True)
    chosen_level = NumericProperty(0)

    __events__ = ("on_choose",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.faces: dict[int, FaceWidget] = {}
        self.labels: dict[int, Label] = {}
        self._touch: Any = None
        self._face: FaceWidget | None = None
        for lv in LEVELS:
            cell = BoxLayout(orientation="vertical")
            face = FaceWidget(level=lv.value)
            label = Label(color=INK, bold=True, halign="center", valign="top", size_hint_y=0.3)
            label.bind(width=lambda lbl, w: setattr(lbl, "text_size", (w, None)))
            cell.add_widget(face)
            cell.add_widget(label)
            self.add_widget(cell)
            self.faces[lv.value], self.labels[lv.value] = face, label
        self.bind(ui=self._relabel, label_font=self._relabel, chosen_level=self._show_chosen)

    def _relabel(self, *_args: Any) -> None:
        if self.ui is None:
            return
        self.ui.bind(lang=self._relabel)
        for value, label in self.labels.items():
            label.text = level(value).label(self.ui.lang)
            label.font_size = self.label_font

    def _show_chosen(self, *_args: Any) -> None:
        for value, face in self.faces.items():
            face.chosen = value == self.chosen_level

    def on_choose(self, value: int) -> None:
        """Default handler: nothing; screens bind to it."""

    def _face_at(self, touch: Any) -> FaceWidget | None:
        for face in self.faces.values():
            cell = face.parent
            if cell is not None and cell.collide_point(*touch.pos):
                return face
        return None

    def on_touch_down(self, touch: Any) -> bool:
        """Follow the first finger on a face; swallow every other finger while one is down."""
        if self._touch is not None:
            return True
        face = self._face_at(touch)
        if face is None or not self.armed:
            return face is not None
        self._touch, self._face = touch, face
        touch.grab(self)
        face.pressed = True
        return True

    def on_touch_move(self, touch: Any) -> bool:
        """Show the press only while the finger is still on the face it started on."""
        if touch is self._touch and self._face is not None:
            self._face.pressed = self._face_at(touch) is self._face
            return True
        return bool(super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        """Choose the face when the followed finger lifts on it; any other finger is ignored."""
        if touch.grab_current is not self:
            return touch is self._touch or self._face_at(touch) is not None
        touch.ungrab(self)
        face, self._touch, self._face = self._face, None, None
        if face is None:
            return True
        face.pressed = False
        if self.armed and self._face_at(touch) is face:
            self.armed = False
            self.chosen_level = int(face.level)
            self.dispatch("on_choose", int(face.level))
        return True

    def reset(self) -> None:
        """Ready for a new choice, with nothing highlighted."""
        self.armed, self.chosen_level, self._touch, self._face = True, 0, None, None
        for face in self.faces.values():
            face.pressed = False
