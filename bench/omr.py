"""Seconds to read one photographed paper form (OMR), against just decoding its JPEG, at phone resolutions.

Run: .venv/bin/python -m bench.omr [N]   (N different filled forms per resolution; default 12)

Each form is drawn from the one geometry, marked, and photographed as bench/paper_images.py does (rotated, in
perspective on a darker desk, blurred, noised, JPEG quality 85). Every reading must come back exact, or the run
fails: a fast wrong answer is no figure.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date

import cv2
import numpy as np

from bench.common import BenchError, positive_int, say
from bench.paper_images import filled, photo
from kiosk.domain.levels import SCALE_KEYS
from sync.server.channels import omr
from sync.server.channels import paper_form as geo
from sync.server.results.periods import Period

SIZES = ((3024, 4032), (1600, 2000))


def forms(count: int, size: tuple[int, int]) -> list[tuple[bytes, dict[str, int | None]]]:
    """`count` photographed forms with random answers, and what each should read as."""
    rng = np.random.default_rng(size[0])
    made = []
    for number in range(1, count + 1):
        answers: dict[str, int | None] = {row.key: None for row in geo.ROWS}
        answers[geo.LEVEL_KEY] = int(rng.integers(1, 6))
        for key in SCALE_KEYS:
            answers[key] = int(rng.integers(1, 6)) if rng.random() < 0.7 else None
        answers["harassment"] = int(rng.integers(0, 2))
        sheet = geo.FormSheet("CH", "Trung tâm Phục vụ hành chính công", "Quầy 1", Period.of("quarter",
                                                                                            date(2026, 10, 1)), number)
        page = filled(sheet, {k: v for k, v in answers.items() if v is not None})
        made.append((photo(page, size=size, angle=float(rng.uniform(-4, 4)), seed=number), answers))
    return made


def main() -> int:
    """Time decoding alone and the whole reading, per resolution; print medians and the ratio."""
    count = positive_int(sys.argv[1]) if len(sys.argv) > 1 else 12
    print(f"OMR: one photographed A4 form read (markers, warp, QR, {sum(len(r.boxes) for r in geo.ROWS)} boxes), "
          f"{count} forms per size, seconds per page")
    for size in SIZES:
        say(f"drawing and photographing {count} forms at {size[0]}x{size[1]}")
        made = forms(count, size)
        omr.read(made[0][0])   # OpenCV's first call sets up its threads: not a page's cost
        decode_times, read_times = [], []
        for data, expected in made:
            start = time.perf_counter()
            cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
            decode_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            found = omr.read(data)
            read_times.append(time.perf_counter() - start)
            if found.answers != expected or not found.clear:
                raise BenchError(f"đọc sai phiếu {found.form_number}: {found.answers} ≠ {expected}",
                                 f"form {found.form_number} read wrong: {found.answers} != {expected}")
        decode_s, read_s = statistics.median(decode_times), statistics.median(read_times)
        kib = statistics.median(len(data) for data, _ in made) / 1024
        print(f"  {size[0]}x{size[1]} JPEG (~{kib:.0f} KiB): decode only median {decode_s:6.3f} s · "
              f"full reading median {read_s:6.3f} s (max {max(read_times):.3f}) · ratio {read_s / decode_s:.1f}x · "
              f"{60 / read_s:.0f} pages/min (this machine, OpenCV threads on 2 CPUs); all {count} read exactly")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"Lỗi: {error.vi}\n  Error: {error.en}", file=sys.stderr)
        sys.exit(2)
