"""Finding a procedure on the kiosk: fields, typing on the on-screen keyboard, a procedure's page, its slip."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import pytest

from kiosk.domain.procedures import Channel, Document, Fee, LegalBasis, Procedure, Step
from kiosk.settings import Printer, Settings
from tests.ui_harness import KioskUITest

pytestmark = pytest.mark.ui
OUT = Path(tempfile.mkdtemp(prefix="kiosk-guide-"))

BIRTH = Procedure(
    code="1.001193", name="Thủ tục đăng ký khai sinh", field_code="HT", field_name="Hộ tịch", level="Cấp Xã",
    agency="Ủy ban nhân dân cấp xã",
    channels=(Channel("Trực tiếp", "Ngay trong ngày tiếp nhận hồ sơ", (Fee("Miễn lệ phí"),)),
              Channel("Trực tuyến", "Ngay trong ngày tiếp nhận hồ sơ", (Fee("Miễn lệ phí"),))),
    steps=(Step("Nộp hồ sơ tại Bộ phận Một cửa"), Step("Công chức tư pháp – hộ tịch kiểm tra hồ sơ")),
    documents=(Document("Tờ khai đăng ký khai sinh theo mẫu", originals=1, form="Tờ khai đăng ký khai sinh"),
               Document("Giấy chứng sinh", originals=1)),
    results=("Giấy khai sinh",), legal_basis=(LegalBasis("60/2014/QH13", "Luật Hộ tịch", "20/11/2014"),),
    online_url="https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193",
)
DEATH = Procedure(code="1.000656", name="Thủ tục đăng ký khai tử", field_code="HT", field_name="Hộ tịch",
                  documents=(Document("Tờ khai đăng ký khai tử theo mẫu", originals=1),))
COPY = Procedure(code="2.000908", name="Thủ tục chứng thực bản sao từ bản chính giấy tờ, văn bản",
                 field_code="CT", field_name="Chứng thực",
                 channels=(Channel("Trực tiếp", "Ngay trong ngày", (Fee("2.000 đồng/trang", 2000, "trang"),)),))


class CatalogCase(KioskUITest):
    printer_uri = "none"
    counter_procedures: tuple[str, ...] = ()

    def make_settings(self) -> Settings:
        settings = super().make_settings()
        return dataclasses.replace(
            settings, printer=Printer(uri=self.printer_uri),
            counter=dataclasses.replace(settings.counter, procedures=list(self.counter_procedures)))

    def setUp(self) -> None:
        super().setUp()
        self.services.catalog.import_procedures([BIRTH, DEATH, COPY], "test")

    def open_catalog(self) -> Any:
        self.tap(self.screen("idle").ids.catalog_button)
        self.assertEqual(self.shell.current, "catalog")
        self.frames(3)
        return self.screen("catalog")

    def type_keys(self, catalog: Any, text: str) -> None:
        keyboard = catalog.ids.keyboard
        for ch in text:
            key = next(k for row in keyboard.children for k in row.children if k.value == ch)
            self.tap(key)
        self.wait(0.3)  # the search runs a moment after the last key

    def result_names(self, catalog: Any) -> list[str]:
        return [row["name"] for row in catalog.results]


class TestCatalogScreen(CatalogCase):
    def test_fields_with_counts_and_every_procedure_listed(self) -> None:
        catalog = self.open_catalog()
        fields = {b.label: b.count for b in catalog.ids.fields.children}
        self.assertEqual(fields, {"Hộ tịch": 2, "Chứng thực": 1})
        self.assertEqual(len(catalog.results), 3)

    def test_typing_without_diacritics_finds_as_you_type(self) -> None:
        catalog = self.open_catalog()
        self.type_keys(catalog, "khai si")
        self.assertEqual(self.result_names(catalog)[0], "Thủ tục đăng ký khai sinh")
        self.assertNotIn("Thủ tục chứng thực bản sao từ bản chính giấy tờ, văn bản", self.result_names(catalog))
        self.assertEqual(catalog.ids.search_box.text, "khai si|")

    def test_a_field_narrows_the_results(self) -> None:
        catalog = self.open_catalog()
        field = next(b for b in catalog.ids.fields.children if b.label == "Chứng thực")
        self.tap(field)
        self.assertEqual([r["code"] for r in catalog.results], ["2.000908"])
        self.assertFalse(catalog.show_keyboard)  # the list gets the room once a field is chosen
        self.tap(field)  # again: all fields
        self.assertEqual(len(catalog.results), 3)
        self.tap(catalog.ids.search_box)
        self.assertTrue(catalog.show_keyboard)  # touching the search box brings the keyboard back

    def test_dragging_the_list_hides_the_keyboard(self) -> None:
        catalog = self.open_catalog()
        results = catalog.ids.results
        self.tap(catalog.ids.status)  # a tap beside the list leaves the keyboard where it is
        self.assertTrue(catalog.show_keyboard)
        touch = self.down(results)
        x, y = self.point(results)
        for step in range(1, 6):  # a finger dragging the list upwards
            touch.touch_move(x, y + step * 12)
            self.frames(1)
        touch.touch_up()
        self.frames(2)
        self.assertFalse(catalog.show_keyboard)
        self.assertEqual(catalog.ids.keyboard.height, 0)
        self.assertEqual(self.shell.current, "catalog")  # a drag is not a tap on a result

    def test_opening_a_result_shows_its_sections(self) -> None:
        catalog = self.open_catalog()
        self.type_keys(catalog, "khai sinh")
        self.frames(3)
        rows = [w for w in catalog.ids.results.children[0].children if getattr(w, "code", "") == "1.001193"]
        self.tap(rows[0])
        self.assertEqual(self.shell.current, "procedure")
        page = self.screen("procedure")
        self.frames(3)
        self.assertEqual(page.title, "Thủ tục đăng ký khai sinh")
        self.assertIn("1.001193", page.subtitle)
        texts = [w.text for w in page.ids.body.children]
        self.assertIn("Hồ sơ cần nộp", texts)
        self.assertTrue(any("Giấy chứng sinh" in t for t in texts))
        self.assertTrue(any("Miễn lệ phí" in t for t in texts))
        self.assertTrue(any("Luật Hộ tịch" in t for t in texts))
        self.assertIsNotNone(page.qr_texture)
        page.ids.scroll.scroll_y = 1
        self.frames(2)
        self.tap(next(b for b in page.ids.jumps.children if b.text == "Căn cứ pháp lý"))
        self.assertLess(page.ids.scroll.scroll_y, 0.5)
        self.assertTrue(page.ids.print_guide.disabled)  # no printer: not offered
        self.tap(page.ids.back)
        self.assertEqual(self.shell.current, "catalog")

    def test_going_idle_forgets_the_search(self) -> None:
        catalog = self.open_catalog()
        self.type_keys(catalog, "khai")
        self.shell.go_idle()
        self.assertEqual(catalog.query, "")


class TestGuideSlip(CatalogCase):
    printer_uri = f"file:{OUT}/guide.bin"

    def test_print_the_guide_slip(self) -> None:
        self.shell.screen("procedure").show("1.001193")
        self.shell.go("procedure")
        self.frames(3)
        page = self.screen("procedure")
        self.assertFalse(page.ids.print_guide.disabled)
        self.tap(page.ids.print_guide)
        self.wait_for(lambda: page.print_text == "Mời nhận phiếu ở khe máy in.")
        self.assertTrue((OUT / "guide.bin").read_bytes().startswith(b"\x1dv0"))


class TestProcedureAfterRating(CatalogCase):
    counter_procedures = ("1.001193", "2.000908")

    def test_the_citizen_picks_the_procedure_they_came_for(self) -> None:
        self.shell.go("rating")
        self.frames()
        self.tap(self.face(4))
        followup = self.screen("followup")
        self.assertEqual(followup.step_key, "procedure_code")
        buttons = {b.text: b for b in followup.panel.ids.choices.children}
        self.assertEqual(set(buttons), {"Thủ tục đăng ký khai sinh",
                                        "Thủ tục chứng thực bản sao từ bản chính giấy tờ, văn bản"})
        self.tap(buttons["Thủ tục đăng ký khai sinh"])
        self.assertEqual(followup.step_key, "access")
        self.assertEqual(self.rows("SELECT text FROM log WHERE question = 'procedure_code'"), [("1.001193",)])


class TestFormsQR(CatalogCase):
    """With the server's public catalog known, a procedure's page carries one QR to its forms there."""

    CATALOG_URL = "https://kiosk.tinh.gov.vn/thu-tuc"

    def make_settings(self) -> Settings:
        settings = super().make_settings()
        return dataclasses.replace(settings, contact=dataclasses.replace(settings.contact,
                                                                         catalog_url=self.CATALOG_URL))

    def test_a_procedure_with_forms_shows_their_qr_and_one_without_does_not(self) -> None:
        page = self.screen("procedure")
        page.show("1.001193")
        self.shell.go("procedure")
        self.frames(3)
        self.assertEqual(page.forms_url, f"{self.CATALOG_URL}/p/1.001193")
        self.assertIsNotNone(page.forms_qr_texture)
        self.assertGreater(page.ids.forms_qr.width, 0)
        self.assertGreater(page.ids.forms_qr.parent.opacity, 0)
        self.assertTrue(any("Mẫu: Tờ khai đăng ký khai sinh" in w.text for w in page.ids.body.children))
        page.show("2.000908")  # no document has a form
        self.frames(3)
        self.assertEqual(page.forms_url, "")
        self.assertIsNone(page.forms_qr_texture)
        self.assertEqual(page.ids.forms_qr.parent.width, 0)
