"""Follow-up screen: the five SIPAS elements, the harassment question and a comment, one step at a time."""

from __future__ import annotations

import logging
from typing import Any

from kivy.graphics import Color, Line, Rectangle
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from kiosk.domain.levels import COMMENT_KEY, COMMENT_MAX_CHARS, PROCEDURE_KEY, QUESTIONS
from kiosk.ui import keyboard  # noqa: F401  (registers VietKeyboard for the .kv rules)
from kiosk.ui.shell import Shell
from kiosk.ui.theme import INK, PRIMARY
from kiosk.ui.widgets import KioskScreen


class StepPanel(BoxLayout):
    """The body of one follow-up step; `screen` is the follow-up screen it answers to."""

    screen = ObjectProperty(None)


class ScalePanel(StepPanel):
    """Five faces for one SIPAS element."""


class YesNoPanel(StepPanel):
    """Yes and no for the harassment question."""


class CommentPanel(StepPanel):
    """A comment typed on the on-screen keyboard, and whether the citizen wants to be contacted about it."""


class TickBox(Widget):
    """A square check box drawn as vectors: empty when off, filled with a white tick when on."""

    active = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, active=self._draw)
        self._draw()

    def _draw(self, *_args: Any) -> None:
        self.canvas.clear()
        side = min(self.width, self.height)
        x, y = self.center_x - side / 2, self.center_y - side / 2
        with self.canvas:
            Color(*(PRIMARY if self.active else (1, 1, 1, 1)))
            Rectangle(pos=(x, y), size=(side, side))
            Color(*INK)
            Line(rectangle=(x, y, side, side), width=max(side * 0.04, 1.5))
            if self.active:  # the tick's shape, not the fill colour alone, says "on"
                Color(1, 1, 1, 1)
                Line(points=[x + side * 0.2, y + side * 0.52, x + side * 0.42, y + side * 0.28,
                             x + side * 0.8, y + side * 0.74], width=max(side * 0.08, 2.5), cap="round",
                     joint="round")


class CallbackToggle(BoxLayout):
    """The "Tôi muốn được liên hệ lại" choice: one large on/off target, off for every new citizen.

    Like the faces it follows only the first finger and switches when that finger lifts on it, and it ignores
    the second tap of a double tap: two fingers or a habitual double tap leave it on, not back off.
    """

    active = BooleanProperty(False)
    pressed = BooleanProperty(False)
    title = StringProperty("")
    hint = StringProperty("")
    app_u = NumericProperty(1.0)

    def __init__(self, **kwargs: Any) -> None:
        self._touch: Any = None
        super().__init__(**kwargs)

    def on_touch_down(self, touch: Any) -> bool:
        """Follow the first finger that lands here; swallow any other."""
        if not self.collide_point(*touch.pos):
            return False
        if self._touch is None and not touch.is_double_tap:
            self._touch = touch
            touch.grab(self)
            self.pressed = True
        return True

    def on_touch_move(self, touch: Any) -> bool:
        """Show the press only while the followed finger is still on the toggle."""
        if touch is self._touch:
            self.pressed = self.collide_point(*touch.pos)
            return True
        return bool(super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        """Switch when the followed finger lifts on the toggle."""
        if touch.grab_current is not self:
            return touch is self._touch or self.collide_point(*touch.pos)
        touch.ungrab(self)
        self._touch, self.pressed = None, False
        if self.collide_point(*touch.pos):
            self.active = not self.active
        return True


class ProcedureChoice(Button):
    """One of the counter's usual procedures."""

    code = StringProperty("")
    panel = ObjectProperty(None)


class ProcedurePanel(StepPanel):
    """The procedures most used at this counter, one big button each."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # the kv rule (and so ids.choices) exists only after this
        for code, name in self.screen.procedure_choices():
            self.ids.choices.add_widget(ProcedureChoice(text=name, code=code, panel=self))


Builder.load_file(__file__.replace(".py", ".kv"))
log = logging.getLogger(__name__)
_BY_KEY = {q.key: q for q in QUESTIONS}
# The steps that are not SIPAS questions: their heading and question in the string table.
_OWN_TEXTS = {COMMENT_KEY: ("followup.comment_title", "followup.comment"),
              PROCEDURE_KEY: ("followup.procedure_title", "followup.procedure")}
NAME_ROOM = 80  # characters of a procedure's name on a choice button


class FollowupScreen(KioskScreen):
    """Each answer is stored the moment it is given; "Bỏ qua" skips a step, "Gửi" finishes."""

    step = NumericProperty(0)
    step_key = StringProperty("")
    max_comment = NumericProperty(COMMENT_MAX_CHARS)

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        self.steps = shell.session.followup_steps()
        self.panel: Any = None
        super().__init__(shell, name="followup", **kwargs)

    def on_pre_enter(self, *args: Any) -> None:
        """Start at the first question."""
        super().on_pre_enter(*args)
        self.show(0)

    def title(self, key: str, lang: str) -> str:
        """The heading of step `key`."""
        if key in _OWN_TEXTS:
            return self.ui.t(_OWN_TEXTS[key][0], lang)
        return _BY_KEY[key].title(lang) if key in _BY_KEY else ""

    def question(self, key: str, lang: str) -> str:
        """The question of step `key` in plain words."""
        if key in _OWN_TEXTS:
            return self.ui.t(_OWN_TEXTS[key][1], lang)
        return _BY_KEY[key].text(lang) if key in _BY_KEY else ""

    def show(self, index: int) -> None:
        """Show step `index`, or thank the citizen when there are no more."""
        if index >= len(self.steps):
            self._finish()
            return
        self.step, self.step_key = index, self.steps[index]
        self.restart_guard()
        content = self.ids.content
        content.clear_widgets()
        if self.step_key == COMMENT_KEY:
            self.panel = CommentPanel(screen=self)
        elif self.step_key == PROCEDURE_KEY:
            self.panel = ProcedurePanel(screen=self)
        elif _BY_KEY[self.step_key].kind == "yesno":
            self.panel = YesNoPanel(screen=self)
        else:
            self.panel = ScalePanel(screen=self)
        content.add_widget(self.panel)

    def answer(self, value: int, panel: StepPanel | None = None) -> None:
        """Store the answer to this step and go to the next."""
        # Kivy releases every finger separately: a second finger on "Có" and "Không", or a press that
        # ends after the step changed, belongs to a panel that is gone, and must not answer this step.
        # (kv hands over a weak proxy; `__self__` is the widget itself.)
        if panel is not None and panel.__self__ is not self.panel:
            return
        try:
            self.session.answer(self.step_key, value)
        except Exception:  # a failed follow-up must not trap the citizen; the rating is already safe
            log.exception("follow-up answer %s not stored", self.step_key)
        self.show(self.step + 1)

    def procedure_choices(self) -> list[tuple[str, str]]:
        """(code, name) of the counter's usual procedures; the name from the catalog when it has it."""
        choices = []
        for code in self.services.settings.counter.procedures[:6]:
            procedure = self.services.catalog.get(code)
            name = procedure.name if procedure else code
            if len(name) > NAME_ROOM:  # some official names run to several lines; the start says enough
                name = name[:NAME_ROOM].rsplit(" ", 1)[0].rstrip(",;:") + "…"
            choices.append((code, name))
        return choices

    def choose_procedure(self, code: str, panel: StepPanel) -> None:
        """Store the procedure the citizen came for and go on."""
        if panel.__self__ is not self.panel:
            return
        try:
            self.session.choose_procedure(code)
        except Exception:  # the rating is already safe; a bad code in settings must not trap anyone
            log.exception("procedure %s not stored", code)
        self.show(self.step + 1)

    def skip(self) -> None:
        """Leave this step unanswered (a comment typed and then skipped is not sent)."""
        if self.guarded():  # the second finger of a two-finger press must not skip the next step too
            return
        if self.step + 1 >= len(self.steps):
            self.shell.go("thanks")
            return
        self.show(self.step + 1)

    def finish(self) -> None:
        """Store a typed comment if any, then thank the citizen."""
        if not self.guarded():
            self._finish()

    def _finish(self) -> None:
        self._save_comment()
        self.shell.go("thanks")

    def _save_comment(self) -> None:
        if self.step_key != COMMENT_KEY or self.panel is None:
            return
        try:
            self.session.comment(self.panel.ids.keyboard.text, callback=self.panel.ids.callback.active)
        except Exception:
            log.exception("comment not stored")

    def on_timeout(self) -> None:
        """The citizen walked away: keep a comment they had typed."""
        self._save_comment()
