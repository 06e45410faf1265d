"""The thank-you screen's "In phiếu" and staff mode's test print, on a real window with real touches."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import pytest

from kiosk.settings import Printer, Settings
from tests.ui_harness import KioskUITest

pytestmark = pytest.mark.ui
OUT = Path(tempfile.mkdtemp(prefix="kiosk-slips-"))


class PrinterCase(KioskUITest):
    printer: ClassVar[dict[str, Any]] = {}

    def make_settings(self) -> Settings:
        settings = super().make_settings()
        return dataclasses.replace(settings, printer=Printer(**self.printer))

    def rate_and_thank(self, value: int = 5) -> Any:
        self.shell.go("rating")
        self.frames()
        self.tap(self.face(value))
        self.tap(self.screen("followup").ids.send)
        self.assertEqual(self.shell.current, "thanks")
        return self.screen("thanks")

    def wait_for_state(self, screen: Any, *states: str) -> None:
        self.wait_for(lambda: screen.print_state in states)


class TestPrintOnRequest(PrinterCase):
    printer: ClassVar[dict[str, Any]] = {"uri": f"file:{OUT}/tap.bin"}

    def test_tapping_in_phieu_prints_the_slip(self) -> None:
        thanks = self.rate_and_thank(4)
        self.assertEqual(thanks.print_state, "offer")
        self.assertEqual(thanks.ids.print_button.text, "In phiếu")
        self.tap(thanks.ids.print_button)
        self.wait_for_state(thanks, "done")
        self.assertEqual(thanks.ids.print_message.text, "Mời Ông/Bà nhận phiếu ở khe máy in.")
        raw = (OUT / "tap.bin").read_bytes()
        self.assertTrue(raw.startswith(b"\x1dv0"))        # a raster image: Vietnamese as pixels
        self.assertTrue(raw.endswith(b"\x1dV\x00"))       # and a cut
        self.assertTrue((OUT / "tap.png").exists())
        self.assertEqual(self.rows("SELECT count(*) FROM log WHERE kind='rating'"), [(1,)])


class TestBrokenPrinter(PrinterCase):
    printer: ClassVar[dict[str, Any]] = {"uri": f"serial:{OUT}/no-such-tty", "timeout_s": 2}

    def test_a_missing_printer_apologises_and_the_rating_stays(self) -> None:
        thanks = self.rate_and_thank(2)
        self.tap(thanks.ids.print_button)
        self.wait_for_state(thanks, "failed")
        self.assertIn("Đánh giá của Ông/Bà đã được ghi nhận", thanks.ids.print_message.text)
        self.assertEqual(thanks.ids.print_button.text, "In lại")
        self.assertEqual(self.rows("SELECT level FROM log WHERE kind='rating'"), [(2,)])
        for _ in range(self.services.settings.ui.thanks_timeout_s + 1):
            thanks._count_down(1.0)
        self.assertEqual(self.shell.current, "idle")  # the screen moved on
        staff = self.screen("staff")
        self.shell.go("staff")
        self.frames(2)
        self.assertIn("Máy in LỖI từ", staff.ids.printer.text)
        self.assertIn("Không kết nối được máy in", staff.ids.printer.text)


class TestAlwaysPrint(PrinterCase):
    printer: ClassVar[dict[str, Any]] = {"uri": f"file:{OUT}/always.bin", "rating_slip": "always"}

    def test_slip_prints_without_asking(self) -> None:
        thanks = self.rate_and_thank(3)
        self.wait_for_state(thanks, "done")
        self.assertTrue((OUT / "always.bin").stat().st_size > 1000)


class TestNoPrinter(PrinterCase):
    printer: ClassVar[dict[str, Any]] = {"uri": "none"}

    def test_nothing_is_offered(self) -> None:
        thanks = self.rate_and_thank(5)
        self.assertEqual(thanks.print_state, "")
        self.assertTrue(thanks.ids.print_button.disabled)
        self.assertEqual(thanks.ids.print_button.opacity, 0)
        self.shell.go("staff")
        self.frames(2)
        self.assertTrue(self.screen("staff").ids.test_print.disabled)


class TestStaffTestPrint(PrinterCase):
    printer: ClassVar[dict[str, Any]] = {"uri": f"file:{OUT}/test-page.bin"}

    def test_staff_prints_the_test_page(self) -> None:
        self.shell.go("staff")
        self.frames(2)
        staff = self.screen("staff")
        self.assertIn("Máy in: sẵn sàng", staff.ids.printer.text)
        self.tap(staff.ids.test_print)
        self.wait_for(lambda: "Đã in trang thử" in staff.ids.printer.text)
        self.assertTrue((OUT / "test-page.png").exists())


class TestPrinterBusy(PrinterCase):
    printer: ClassVar[dict[str, Any]] = {"uri": f"file:{OUT}/busy.bin"}

    def test_a_busy_printer_apologises_instead_of_doing_nothing(self) -> None:
        thanks = self.rate_and_thank(4)
        self.assertTrue(self.services.printer._busy.acquire(blocking=False))  # a staff test page is printing
        try:
            self.tap(thanks.ids.print_button)
            self.assertEqual(thanks.print_state, "failed")
            self.assertIn("đã được ghi nhận", thanks.ids.print_message.text)
        finally:
            self.services.printer._busy.release()
        self.tap(thanks.ids.print_button)  # "In lại" once the printer is free
        self.wait_for_state(thanks, "done")
