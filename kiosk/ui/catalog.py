"""Catalog screen: fields with their counts, a search box typed on the on-screen keyboard, a result list."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from kiosk.ui import keyboard  # noqa: F401  (registers VietKeyboard for the .kv rules)
from kiosk.ui.shell import Shell
from kiosk.ui.widgets import KioskScreen

SEARCH_DELAY_S = 0.12  # type a few letters before searching: each search is cheap, each redraw is not
MAX_RESULTS = 500


class ResultRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):
    """One procedure in the result list; rows are recycled as the list scrolls."""

    code = StringProperty("")
    name = StringProperty("")
    field_name = StringProperty("")
    screen = ObjectProperty(None)

    def on_release(self) -> None:
        """Open the procedure's page."""
        if self.screen is not None:
            self.screen.open_procedure(self.code)


class FieldButton(ButtonBehavior, BoxLayout):
    """One field (lĩnh vực) with its count; the chosen one is shown pressed."""

    code = StringProperty("")
    label = StringProperty("")
    count = NumericProperty(0)
    chosen = BooleanProperty(False)
    screen = ObjectProperty(None)

    def on_release(self) -> None:
        """Narrow the results to this field (again: all fields)."""
        self.screen.choose_field("" if self.chosen else self.code)


Builder.load_file(__file__.replace(".py", ".kv"))


class CatalogScreen(KioskScreen):
    """Find a procedure in seconds: by field, by words typed without diacritics, or by its code."""

    query = StringProperty("")
    field_code = StringProperty("")
    results = ListProperty([])
    status = StringProperty("")
    show_keyboard = BooleanProperty(True)

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        super().__init__(shell, name="catalog", **kwargs)
        self._pending: Any = None
        self.ids.keyboard.bind(text=self._typed)
        self.ui.bind(lang=lambda *_a: self._show_status())

    def on_pre_enter(self, *args: Any) -> None:
        """Fresh fields and results each time the catalog opens."""
        super().on_pre_enter(*args)
        self._fill_fields()
        self.search()

    def reset(self) -> None:
        """Forget the previous citizen's search."""
        self.ids.keyboard.clear()
        self.query = ""
        self.field_code = ""
        self.show_keyboard = True

    def on_search_box_touch(self, box: Any, touch: Any) -> bool:
        """Touching the search box brings the keyboard back."""
        if box.collide_point(*touch.pos):
            self.show_keyboard = True
            return True
        return False

    def on_list_dragged(self, touch: Any) -> None:
        """Dragging the result list means reading, not typing: the keyboard gives the list its room."""
        # A tap jitters a few pixels; only a real drag (past the list's own scroll distance) counts.
        if self.show_keyboard and abs(touch.y - touch.oy) > self.ids.results.scroll_distance:
            self.show_keyboard = False

    def _fill_fields(self) -> None:
        box = self.ids.fields
        box.clear_widgets()
        for item in self.services.catalog.fields():
            box.add_widget(FieldButton(code=item.code, label=item.name, count=item.count, screen=self,
                                       chosen=item.code == self.field_code))

    def _typed(self, _keyboard: Any, text: str) -> None:
        self.query = text
        if self._pending is not None:
            self._pending.cancel()
        self._pending = Clock.schedule_once(lambda _dt: self.search(), SEARCH_DELAY_S)

    def choose_field(self, code: str) -> None:
        """Show only one field's procedures ("" for all); the keyboard makes way for the list."""
        self.field_code = code
        self.show_keyboard = False
        for button in self.ids.fields.children:
            button.chosen = button.code == code
        self.search()

    def search(self) -> None:
        """Run the search for what is typed and the chosen field, and refill the list."""
        catalog, query = self.services.catalog, self.query.strip()
        if query:
            hits = catalog.search(query, self.field_code or None, limit=MAX_RESULTS)
        else:
            hits = catalog.list_all(self.field_code or None)[:MAX_RESULTS]
        self.results = [{"code": h.code, "name": h.name, "field_name": h.field_name, "screen": self}
                        for h in hits]
        self._show_status()

    def _show_status(self) -> None:
        lang = self.ui.lang
        if self.services.catalog.count() == 0:
            self.status = self.ui.t("catalog.empty", lang)
        elif not self.results:
            self.status = self.ui.t("catalog.none", lang)
        else:
            self.status = self.ui.t("catalog.found", lang, n=len(self.results))

    def open_procedure(self, code: str) -> None:
        """Show one procedure's page."""
        self.shell.screen("procedure").show(code)
        self.shell.go("procedure")
