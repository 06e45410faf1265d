"""Reading paper forms (OMR): a form drawn from the one geometry, marked as a citizen would, photographed by a phone
(rotated, in perspective on a darker desk, blurred, noised, JPEG) is read back exactly; doubtful marks are named,
never guessed; what is not a form is refused with a bilingual error. No database: the reading alone."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import cv2
import numpy as np
import pytest
from PIL import ImageDraw

from bench.paper_images import filled, mark, photo, png
from kiosk.domain.levels import LEVELS, QUESTIONS, SCALE_KEYS
from sync.server.channels import omr
from sync.server.channels import paper_form as geo
from sync.server.errors import ServerError
from sync.server.results.periods import Period

Q4 = Period.of("quarter", date(2026, 10, 1))
SHEET = geo.FormSheet("CH", "Trung tâm Phục vụ hành chính công phường Chợ Lớn", "Quầy 1 — Tư pháp", Q4, 4711)
BLANK: dict[str, int | None] = {row.key: None for row in geo.ROWS}


def test_the_geometry_keeps_every_box_apart_and_on_the_page() -> None:
    boxes = [(row.key, box) for row in geo.ROWS for box in row.boxes]
    rects = [(box.x, box.y, box.x + geo.BOX, box.y + geo.BOX) for _key, box in boxes]
    rects += [(x, y, x + geo.MARKER, y + geo.MARKER) for x, y in geo.MARKERS.values()]
    rects.append((geo.QR_X, geo.QR_Y, geo.QR_X + geo.QR_SIZE, geo.QR_Y + geo.QR_SIZE))
    for a, b in combinations(rects, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert all(r[0] >= 0 and r[2] <= geo.PAGE_W and r[1] >= 0 and r[3] <= geo.PAGE_H for r in rects)
    # Every question of kiosk.domain.levels is on the form, the level with its five levels.
    assert [row.key for row in geo.ROWS] == [geo.LEVEL_KEY, *(q.key for q in QUESTIONS)]
    assert [box.value for box in geo.ROWS_BY_KEY[geo.LEVEL_KEY].boxes] == [lv.value for lv in LEVELS]
    assert {box.value for box in geo.ROWS_BY_KEY["harassment"].boxes} == {0, 1}


def test_the_rendered_form_reads_back_blank_with_its_number() -> None:
    page = np.asarray(geo.render(SHEET).convert("L"))
    found = omr.read_page(page)
    assert (found.agency_code, found.form_number) == ("CH", 4711)
    assert found.answers == BLANK and found.unclear == (geo.LEVEL_KEY,)   # the level is required


# The last: the page photographed upside down (the markers' ids say which corner is which).
PHOTOS = [((3024, 4032), 3.0, 1), ((1600, 2000), -4.0, 2), ((3024, 4032), -2.0, 3), ((1600, 2000), 1.5, 4),
          ((1600, 2000), 178.0, 5)]


@pytest.mark.parametrize(("size", "angle", "seed"), PHOTOS, ids=[f"{s[0]}x{s[1]}@{a}" for s, a, _ in PHOTOS])
def test_a_photographed_form_is_read_exactly(size: tuple[int, int], angle: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    answers: dict[str, int | tuple[int, str]] = {geo.LEVEL_KEY: int(rng.integers(1, 6))}
    for key in SCALE_KEYS:
        if rng.random() < 0.8:
            answers[key] = (int(rng.integers(1, 6)), "fill" if rng.random() < 0.3 else "cross")
    answers["harassment"] = int(rng.integers(0, 2))
    found = omr.read(photo(filled(SHEET, answers), size=size, angle=angle, seed=seed))
    expected = {**BLANK, **{k: (v[0] if isinstance(v, tuple) else v) for k, v in answers.items()}}
    assert (found.agency_code, found.form_number, found.unclear) == ("CH", 4711, ())
    assert found.answers == expected and found.clear


def test_a_straight_flatbed_scan_is_read() -> None:
    found = omr.read(png(filled(SHEET, {geo.LEVEL_KEY: 1, "officer": 1, "harassment": 1})))
    assert found.answers == {**BLANK, geo.LEVEL_KEY: 1, "officer": 1, "harassment": 1} and found.clear


@pytest.mark.parametrize("doubt", ["two boxes", "half mark", "faint mark"])
def test_a_doubtful_mark_is_named_unclear_not_guessed(doubt: str) -> None:
    page = filled(SHEET, {geo.LEVEL_KEY: 5, "access": 4, "result": 2})
    if doubt == "two boxes":
        mark(page, "result", 3)
    elif doubt == "half mark":
        mark(page, "feedback", 4, "half")
    else:
        mark(page, "feedback", 2, "faint")
    found = omr.read(photo(page))
    doubtful = "result" if doubt == "two boxes" else "feedback"
    assert found.unclear == (doubtful,) and not found.clear
    assert found.answers == {**BLANK, geo.LEVEL_KEY: 5, "access": 4, "result": None if doubtful == "result" else 2}


def test_a_missing_level_is_unclear_and_a_blank_optional_question_is_not_answered() -> None:
    found = omr.read(photo(filled(SHEET, {"access": 3})))
    assert found.unclear == (geo.LEVEL_KEY,) and found.answers == {**BLANK, "access": 3}


def test_an_unreadable_qr_code_leaves_the_form_number_to_a_person() -> None:
    page = filled(SHEET, {geo.LEVEL_KEY: 2})
    ImageDraw.Draw(page).rectangle((geo.QR_X, geo.QR_Y, geo.QR_X + geo.QR_SIZE, geo.QR_Y + geo.QR_SIZE // 2),
                                   fill="white")   # a coffee stain, a fold
    found = omr.read(photo(page))
    assert (found.agency_code, found.form_number) == (None, None)
    assert found.unclear == (geo.FORM_NUMBER_KEY,) and found.answers[geo.LEVEL_KEY] == 2


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data)


@pytest.mark.parametrize("what", ["empty file", "not an image", "a photo of something else", "corners cut off"])
def test_what_is_not_a_form_is_refused_in_both_languages(what: str) -> None:
    if what == "empty file":
        data = b""
    elif what == "not an image":
        data = b"%PDF-1.4 this is a PDF, not a photo"
    elif what == "a photo of something else":
        data = _jpeg(np.random.default_rng(5).integers(0, 255, (2000, 1500, 3), dtype=np.uint8))
    else:
        page = np.asarray(filled(SHEET, {geo.LEVEL_KEY: 3}).convert("L"))
        data = _jpeg(np.ascontiguousarray(page[700:2900, 400:2100]))
    with pytest.raises(ServerError) as refused:
        omr.read(data)
    assert refused.value.vi and refused.value.en and refused.value.vi != refused.value.en


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)), ("2026-q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2026-11", date(2026, 11, 1), date(2026, 11, 30)), ("2027", date(2027, 1, 1), date(2027, 12, 31))])
def test_a_print_period_is_read_as_written(text: str, first: date, last: date) -> None:
    period = geo.parse_period(text, None, None)
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize("args", [("2026-Q5", None, None), ("Q4", None, None), ("2026-13", None, None),
                                  (None, date(2026, 1, 1), None), ("2026", date(2026, 1, 1), date(2026, 1, 2)),
                                  (None, date(2026, 2, 1), date(2026, 1, 1))])
def test_a_bad_print_period_is_refused(args: tuple[str | None, date | None, date | None]) -> None:
    with pytest.raises(ServerError) as refused:
        geo.parse_period(*args)
    assert refused.value.vi and refused.value.en


def test_the_qr_code_holds_the_agency_and_number_and_nothing_else_is_taken_for_one() -> None:
    assert geo.parse_qr(geo.qr_text("01-HCC", 12)) == ("01-HCC", 12)
    for other in ("https://example.vn/", "KIOSK-PHIEU:CH:", "KIOSK-PHIEU::3", "KIOSK-PHIEU:CH:3a", ""):
        assert geo.parse_qr(other) is None
