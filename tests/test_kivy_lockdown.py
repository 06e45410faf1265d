"""Kivy's own doors stay shut: no key opens its settings panel, and the kiosk switches off its config and modules.

The same keys on a real X server, with Kivy's config file and modules tampered with, are in test_fullscreen_x11.py.
"""

from __future__ import annotations

import pytest
from kivy.app import App
from kivy.core.window import Window
from kivy.uix.settings import Settings as KivySettings

from kiosk import app as kiosk_app
from kiosk.app import make_app
from tests.ui_harness import KioskUITest

pytestmark = pytest.mark.ui
F1, F1_SCANCODE = 282, 58


class TestNoKivyPanel(KioskUITest):
    def panels(self) -> list[object]:
        return [widget for widget in Window.children if isinstance(widget, KivySettings)]

    def test_f1_with_any_modifier_opens_no_settings_panel(self) -> None:
        app = make_app(self.services)
        app.stop = lambda *a: None
        app._run_prepare()  # what App.run() does before the event loop: build, add the root, bind the F1 key
        try:
            for modifiers in ([], ["shift"], ["ctrl"], ["alt"], ["ctrl", "shift"], ["meta"]):
                self.assertTrue(Window.dispatch("on_keyboard", F1, F1_SCANCODE, None, modifiers))
                self.frames(1)
                self.assertEqual(self.panels(), [], modifiers)
            self.assertIs(app.root.parent, Window)  # the kiosk is still what the window shows
            # Asked for directly, the panel is refused too.
            self.assertFalse(app.open_settings())
            self.assertEqual(self.panels(), [])
            self.assertFalse(app.use_kivy_settings)
        finally:
            for panel in self.panels():
                Window.remove_widget(panel)
            Window.unbind(on_request_close=app._on_request_close, on_keyboard=app._on_keyboard)
            Window.unbind(on_keyboard=app._on_keyboard_settings)
            Window.remove_widget(app.root)
            app.shell.close()
            App._running_app = None


@pytest.mark.parametrize(("name", "is_module"), [
    ("KCFG_MODULES_INSPECTOR", True),
    ("KCFG_modules_console", True),
    ("KCFG_Modules_monitor", True),
    ("KCFG_GRAPHICS_ROTATION", False),
    ("KCFG_MODULES", False),
    ("KIVY_MODULES_INSPECTOR", False),
    ("MY_KCFG_MODULES_X", False),
])
def test_which_environment_variables_start_kivy_modules(name: str, is_module: bool) -> None:
    assert kiosk_app._is_kivy_module_setting(name) is is_module
