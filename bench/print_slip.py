"""Time to render and send a rating slip, against a plain ASCII text slip of the same length.

Run: .venv/bin/python -m bench.print_slip [N]   (both go to python-escpos's Dummy printer, 576 dots)
"""

from __future__ import annotations

import statistics
import sys
import time
import unicodedata

from escpos.printer import Dummy

from kiosk import slips
from kiosk.domain.levels import level
from kiosk.printing import write_slip


def slip_text(slip: slips.RatingSlip) -> str:
    """The slip's words as plain ASCII (diacritics stripped), what a text-only slip would send."""
    words = "\n".join([slip.agency, slip.parent, slip.counter, "PHIEU DANH GIA SU HAI LONG",
                       f"{slip.moment:%H:%M %d/%m/%Y}", f"So phieu: {slip.reference}", level(slip.level).label_vi,
                       "Xin cam on Ong/Ba da danh gia!", f"Duong day nong: {slip.hotline}", slip.complaint_address,
                       slip.email, slip.website, slip.feedback_url])
    folded = unicodedata.normalize("NFKD", words.replace("đ", "d").replace("Đ", "D"))
    return folded.encode("ascii", "ignore").decode("ascii")


def time_image(slip: slips.RatingSlip, width: int) -> float:
    start = time.perf_counter()
    printer = Dummy(profile="TM-T20II")
    write_slip(printer, slips.render(slip, width))
    return time.perf_counter() - start


def time_text(text: str) -> float:
    start = time.perf_counter()
    printer = Dummy(profile="TM-T20II")
    printer.text(text)
    printer.cut()
    return time.perf_counter() - start


def main() -> int:
    """Alternate the two and print medians and the ratio."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    slip = slips.sample_rating()
    text = slip_text(slip)
    time_image(slip, 576)  # fonts loaded once, as on a running kiosk
    image_times, text_times = [], []
    for _ in range(runs):
        image_times.append(time_image(slip, 576))
        text_times.append(time_text(text))
    image_ms, text_ms = statistics.median(image_times) * 1000, statistics.median(text_times) * 1000
    print(f"rating slip to a Dummy printer (TM-T20II, 576 dots), {runs} runs each, milliseconds")
    print(f"  ASCII text slip ({len(text)} characters)   median {text_ms:7.3f}")
    print(f"  rendered Vietnamese slip (image + QR)  median {image_ms:7.3f}")
    print(f"  ratio image/text: {image_ms / text_ms:.0f}x  (the printer itself needs ~1-2 s to feed a slip)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
