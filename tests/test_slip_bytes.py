"""The exact bytes each slip becomes: the rendered slip as raster images (GS v 0), a feed and a cut."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest
from escpos.printer import Dummy
from PIL import Image

from kiosk import slips
from kiosk.printing import FRAGMENT_ROWS, SlipPrinter, write_slip
from kiosk.ratings import Receipt
from kiosk.services import Services
from kiosk.settings import Printer, Settings

SLIPS: dict[str, slips.Slip] = {
    "rating": slips.sample_rating(),
    "rating-en": slips.sample_rating(level=1, language="en"),
    "guide": slips.sample_guide("0243 825 0000"),
    "test": slips.TestPage(profile="TM-T20II", width_dots=576, uri="socket://127.0.0.1:9100",
                           qr_url="https://dichvucong.gov.vn"),
}
FEED_AND_CUT = b"\x1bd\x06\x1dV\x00"




def raster_of(image: Image.Image) -> bytes:
    """GS v 0 by hand: per band, mode 0, width in bytes and height (little-endian), then rows, 1 = black."""
    width_bytes = (image.width + 7) // 8
    inverted = Image.eval(image.convert("L"), lambda v: 255 - v).convert("1")
    out = b""
    for top in range(0, image.height, FRAGMENT_ROWS):
        band = inverted.crop((0, top, image.width, min(top + FRAGMENT_ROWS, image.height)))
        out += b"\x1dv0\x00" + struct.pack("<HH", width_bytes, band.height) + band.tobytes()
    return out


@pytest.mark.parametrize("name", sorted(SLIPS))
@pytest.mark.parametrize("width", [384, 576])
def test_each_slip_is_raster_bands_then_a_cut(name: str, width: int, services: Services, tmp_path: Path) -> None:
    image = slips.render(SLIPS[name], width)
    dummy = Dummy(profile="TM-T20II")
    write_slip(dummy, image)
    assert dummy.output == raster_of(image) + FEED_AND_CUT
    assert dummy.output.count(b"\x1dv0") == -(-image.height // FRAGMENT_ROWS)  # bands of FRAGMENT_ROWS rows

    out = tmp_path / "slip.bin"
    SlipPrinter(Printer(uri=f"file:{out}"), services.state).send(image)
    assert out.read_bytes() == dummy.output  # what the kiosk sends is exactly that
    assert b"\x1bt" not in out.read_bytes()[:16]  # no code page switching: the text is pixels


def test_bytes_change_with_what_the_slip_says() -> None:
    five = slips.render(slips.sample_rating(level=5), 576)
    one = slips.render(slips.sample_rating(level=1), 576)
    assert raster_of(five) != raster_of(one)



@pytest.mark.parametrize("survey_url", ["", "https://kiosk.lamdong.gov.vn/f/XA/Q01"])
def test_the_kiosks_slip_has_the_web_forms_qr_only_when_set(settings: Settings, data_dir: Path,
                                                            survey_url: str) -> None:
    configured = replace(settings, contact=replace(settings.contact, feedback_url="", survey_url=survey_url))
    services = Services.open(configured, data_dir)
    try:
        receipt = Receipt("u", 1, 4, "Q01-000001", False, "2026-11-10T02:00:00.000Z")
        slip = services.rating_slip(receipt, "vi")
    finally:
        services.close()
    assert slip.survey_url == survey_url
    dummy = Dummy(profile="TM-T20II")
    write_slip(dummy, slips.render(slip, 576))
    plain = Dummy(profile="TM-T20II")
    write_slip(plain, slips.render(replace(slip, survey_url=""), 576))
    assert (dummy.output != plain.output) == bool(survey_url)   # the QR's rows are in the bytes, or nothing is
