"""The PIN pad's lockout on the real screen, across a restart of the app."""

from __future__ import annotations

import pytest

from kiosk.app import KioskShell
from kiosk.services import Services
from tests.ui_harness import KioskUITest

pytestmark = pytest.mark.ui


class TestLockoutAcrossRestart(KioskUITest):
    def enter(self, pin: str) -> None:
        pad = self.screen("pin")
        for digit in pin:
            self.tap(pad.keys[digit])
        self.tap(pad.keys["ok"])

    def restart(self) -> None:
        """Close the shell and the services, then open new ones on the same data directory."""
        self.shell.close()
        self.Window.remove_widget(self.shell.root)
        self.services.close()
        self.services = Services.open(self.make_settings(), self.data_dir)
        self.shell = KioskShell(self.services)
        self.Window.add_widget(self.shell.root)
        self.frames(3)

    def test_a_restart_does_not_lift_the_lockout(self) -> None:
        self.shell.go("pin")
        self.frames()
        for _ in range(5):
            self.enter("0000")
        self.assertIn("Tạm khoá", self.screen("pin").message)
        self.restart()
        self.shell.go("pin")
        self.frames()
        self.assertIn("Tạm khoá", self.screen("pin").message)  # shown as soon as the pad opens
        self.enter("123456")
        self.assertEqual(self.shell.current, "pin")

    def test_a_restart_keeps_the_wrong_tries(self) -> None:
        self.shell.go("pin")
        self.frames()
        for _ in range(3):
            self.enter("0000")
        self.restart()
        self.shell.go("pin")
        self.frames()
        self.enter("0000")
        self.assertIn("Còn 1 lần thử", self.screen("pin").message)
