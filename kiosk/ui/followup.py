"""Follow-up screen: the five SIPAS elements, the harassment question and a comment, one step at a time."""

from __future__ import annotations

import logging
from typing import Any

from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button

from kiosk.levels import COMMENT_KEY, COMMENT_MAX_CHARS, PROCEDURE_KEY, QUESTIONS
from kiosk.ui import keyboard  # noqa: F401  (registers VietKeyboard for the .kv rules)
from kiosk.ui.widgets import KioskScreen


class StepPanel(BoxLayout):
    """The body of one follow-up step; `screen` is the follow-up screen it answers to."""

    screen = ObjectProperty(None)


class ScalePanel(StepPanel):
    """Five faces for one SIPAS element."""


class YesNoPanel(StepPanel):
    """Yes and no for the harassment question."""


class CommentPanel(StepPanel):
    """A comment typed on the on-screen keyboard."""


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
NAME_ROOM = 80  # characters of a procedure's name on a choice button


class FollowupScreen(KioskScreen):
    """Each answer is stored the moment it is given; "Bỏ qua" skips a step, "Gửi" finishes."""

    step = NumericProperty(0)
    step_key = StringProperty("")
    max_comment = NumericProperty(COMMENT_MAX_CHARS)

    def __init__(self, shell: Any, **kwargs: Any) -> None:
        self.steps = shell.session.followup_steps()
        self.panel: Any = None
        super().__init__(shell, name="followup", **kwargs)

    def on_pre_enter(self, *args: Any) -> None:
        """Start at the first question."""
        super().on_pre_enter(*args)
        self.show(0)

    def title(self, key: str, lang: str) -> str:
        """The heading of step `key`."""
        if key == COMMENT_KEY:
            return self.ui.t("followup.comment_title", lang)
        if key == PROCEDURE_KEY:
            return self.ui.t("followup.procedure_title", lang)
        return _BY_KEY[key].title(lang) if key in _BY_KEY else ""

    def question(self, key: str, lang: str) -> str:
        """The question of step `key` in plain words."""
        if key == COMMENT_KEY:
            return self.ui.t("followup.comment", lang)
        if key == PROCEDURE_KEY:
            return self.ui.t("followup.procedure", lang)
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
        if self.step_key == COMMENT_KEY and self.panel is not None:
            try:
                self.session.comment(self.panel.ids.keyboard.text)
            except Exception:
                log.exception("comment not stored")

    def on_timeout(self) -> None:
        """The citizen walked away: keep a comment they had typed."""
        self._save_comment()
