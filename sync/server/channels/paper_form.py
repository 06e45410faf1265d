"""The printed paper questionnaire: ONE geometry (an A4 page at 300 dpi, four ArUco corner markers, where every
answer box of every question is) that both draws the form (Pillow) and reads it back (sync.server.channels.omr),
and `paper print`'s numbering of forms from the next free number, recorded in `paper_form`.

Boxes run best first (5 … 1), as the kiosk's faces do, with the digit a clerk types printed above each box; the
harassment question's boxes are "1 Có / Yes" (stored as 1) and "2 Không / No" (stored as 0), so a clerk never types
0 for an answer (0 skips a question on the entry page).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

import cv2
import qrcode
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Engine, func, insert, select

from kiosk.domain.levels import LEVELS, QUESTIONS, SCALE_KEYS, YESNO_KEYS
from sync.server import registry
from sync.server.db import utc_now, writing
from sync.server.errors import ServerError
from sync.server.fonts import font
from sync.server.models import COUNTER, PAPER_FORM
from sync.server.results.periods import Period

DPI = 300
PAGE_W, PAGE_H = 2480, 3508            # A4 at 300 dpi
MARKER = 150                           # ArUco marker side, px (12.7 mm)
MARGIN = 110                           # page edge to marker
# Marker id -> its top-left corner on the page: top-left, top-right, bottom-right, bottom-left.
MARKERS: dict[int, tuple[int, int]] = {
    0: (MARGIN, MARGIN), 1: (PAGE_W - MARGIN - MARKER, MARGIN),
    2: (PAGE_W - MARGIN - MARKER, PAGE_H - MARGIN - MARKER), 3: (MARGIN, PAGE_H - MARGIN - MARKER)}
ARUCO_DICT = cv2.aruco.DICT_4X4_50
BOX = 84                               # an answer box's side, px (7 mm)
QR_X, QR_Y, QR_SIZE = 1960, 300, 360   # the QR code: agency and form number
QR_PREFIX = "KIOSK-PHIEU"
LEVEL_KEY = "level"
FORM_NUMBER_KEY = "form_number"
HARASSMENT_DIGITS = {1: 1, 2: 0}       # digit printed and typed -> value stored (1 yes, 0 no)
MAX_FORMS = 5000                       # forms in one `paper print`
INK = (0, 0, 0)
GREY = (90, 90, 90)


def titles() -> dict[str, tuple[str, str]]:
    """What a person calls each thing read from a form (Vietnamese, English), by its key."""
    named = {LEVEL_KEY: ("Mức hài lòng chung (câu 1)", "Overall level (question 1)"),
             FORM_NUMBER_KEY: ("Số phiếu (in dưới mã QR)", "Form number (printed under the QR code)")}
    named.update({q.key: (q.title_vi, q.title_en) for q in QUESTIONS})
    return named


@dataclass(frozen=True)
class Box:
    """One answer box: the value it stands for, the digit printed by it, and its top-left corner on the page."""

    value: int
    digit: int
    x: int
    y: int


@dataclass(frozen=True)
class Row:
    """One question read by OMR: its key (LEVEL_KEY or a question key), whether it may be left blank, its boxes."""

    key: str
    optional: bool
    y: int            # top of the row's text
    boxes: tuple[Box, ...]


def _level_row() -> Row:
    left, step = 330, 430
    boxes = tuple(Box(level.value, level.value, left + i * step, 1090) for i, level in enumerate(LEVELS))
    return Row(LEVEL_KEY, False, 950, boxes)


ELEMENT_TOP, ELEMENT_STEP = 1420, 200
SCALE_LEFT, SCALE_STEP = 1480, 175


def _element_rows() -> tuple[Row, ...]:
    rows = []
    for i, key in enumerate(SCALE_KEYS):
        top = ELEMENT_TOP + i * ELEMENT_STEP
        boxes = tuple(Box(v, v, SCALE_LEFT + j * SCALE_STEP, top + 60) for j, v in enumerate((5, 4, 3, 2, 1)))
        rows.append(Row(key, True, top, boxes))
    top = ELEMENT_TOP + len(SCALE_KEYS) * ELEMENT_STEP + 40
    for key in YESNO_KEYS:
        boxes = tuple(Box(value, digit, SCALE_LEFT + j * 2 * SCALE_STEP, top + 60)
                      for j, (digit, value) in enumerate(HARASSMENT_DIGITS.items()))
        rows.append(Row(key, True, top, boxes))
        top += ELEMENT_STEP
    return tuple(rows)


ROWS: tuple[Row, ...] = (_level_row(), *_element_rows())
ROWS_BY_KEY = {row.key: row for row in ROWS}
ANSWERS_BOTTOM = max(box.y for row in ROWS for box in row.boxes) + BOX + 40
PROCEDURE_Y = ANSWERS_BOTTOM + 30
COMMENT_Y = PROCEDURE_Y + 190
COMMENT_BOTTOM = PAGE_H - MARGIN - MARKER - 40


@dataclass(frozen=True)
class FormSheet:
    """What one printed form says besides its questions."""

    agency_code: str
    agency_name: str
    counter_name: str
    period: Period
    number: int


def qr_text(agency_code: str, number: int) -> str:
    """What a form's QR code holds: the agency and the form number."""
    return f"{QR_PREFIX}:{agency_code}:{number}"


def parse_qr(text: str) -> tuple[str, int] | None:
    """The agency code and form number a form's QR code holds, or None for any other text."""
    parts = text.strip().split(":")
    if len(parts) != 3 or parts[0] != QR_PREFIX or not parts[2].isdigit() or not parts[1]:
        return None
    return parts[1], int(parts[2])


@functools.lru_cache(maxsize=32)
def _wrap(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=face) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _text(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int, *, bold: bool = False,
          fill: tuple[int, int, int] = INK, width: int = 0, anchor: str = "la") -> int:
    """Draw text (wrapped to `width` when given); the y just below it."""
    face = font(size, bold)
    lines = _wrap(draw, text, face, width) if width else [text]
    x, y = xy
    for line in lines:
        draw.text((x, y), line, font=face, fill=fill, anchor=anchor)
        y += int(size * 1.3)
    return y


def marker_image(marker_id: int) -> Image.Image:
    """One corner marker, MARKER px square."""
    dictionary = cv2.aruco.getPredefinedDictionary(ARUCO_DICT)
    return Image.fromarray(cv2.aruco.generateImageMarker(dictionary, marker_id, MARKER))


def _qr(text: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    image: Image.Image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return image.resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)


def _box(draw: ImageDraw.ImageDraw, box: Box) -> None:
    draw.rectangle((box.x, box.y, box.x + BOX, box.y + BOX), outline=INK, width=4)
    draw.text((box.x + BOX // 2, box.y - 8), str(box.digit), font=font(34, True), fill=INK, anchor="ms")


def render(sheet: FormSheet) -> Image.Image:
    """The form as an RGB page, PAGE_W x PAGE_H at 300 dpi."""
    page = Image.new("RGB", (PAGE_W, PAGE_H), "white")
    draw = ImageDraw.Draw(page)
    for marker_id, corner in MARKERS.items():
        page.paste(marker_image(marker_id), corner)
    page.paste(_qr(qr_text(sheet.agency_code, sheet.number)), (QR_X, QR_Y))
    left, right = 330, QR_X - 60
    y = _text(draw, (left, 130), "PHIẾU KHẢO SÁT SỰ HÀI LÒNG", 66, bold=True)
    y = _text(draw, (left, y), "Satisfaction questionnaire — public service counter", 34, fill=GREY)
    y = _text(draw, (left, y + 20), sheet.agency_name, 44, bold=True, width=right - left)
    if sheet.counter_name:
        y = _text(draw, (left, y), f"Quầy / Counter: {sheet.counter_name}", 38, width=right - left)
    y = _text(draw, (left, y + 6), f"Kỳ khảo sát: {sheet.period.label('vi')}  ·  Period: {sheet.period.label('en')}",
              38)
    # The number a clerk types first: large, under the QR code that holds it too.
    draw.text((QR_X + QR_SIZE // 2, QR_Y + QR_SIZE + 40), "Số phiếu / Form no.", font=font(30), fill=GREY,
              anchor="ms")
    draw.text((QR_X + QR_SIZE // 2, QR_Y + QR_SIZE + 110), f"{sheet.number:06d}", font=font(64, True), fill=INK,
              anchor="ms")
    # Instructions: Vietnamese first and larger, English smaller.
    top, box_right = 730, QR_X - 50
    below = _text(draw, (left, top + 16), "Đánh dấu X hoặc tô kín MỘT ô cho mỗi câu. Câu 1 bắt buộc; các câu "
                  "khác có thể bỏ trống.", 36, bold=True, width=box_right - left - 20)
    below = _text(draw, (left, below + 4), "Mark ONE box per question with an X or fill it in. Question 1 is "
                  "required; the others may be left blank.", 27, fill=GREY, width=box_right - left - 20)
    draw.rectangle((left - 30, top, box_right, below + 10), outline=GREY, width=3)
    level_row = ROWS_BY_KEY[LEVEL_KEY]
    _text(draw, (170, level_row.y), "1. Nhìn chung, Ông/Bà hài lòng thế nào với việc giải quyết thủ tục hôm nay?",
          44, bold=True)
    _text(draw, (230, level_row.y + 58), "Overall, how satisfied are you with how your matter was handled today?",
          30, fill=GREY)
    for box, level in zip(level_row.boxes, LEVELS, strict=True):
        _box(draw, box)
        centre = box.x + BOX // 2
        draw.text((centre, box.y + BOX + 50), level.label_vi, font=font(34, True), fill=INK, anchor="ms")
        draw.text((centre, box.y + BOX + 92), level.label_en, font=font(26), fill=GREY, anchor="ms")
    header = ELEMENT_TOP - 95
    _text(draw, (170, header), "2. Từng mặt của dịch vụ / Each part of the service", 40, bold=True)
    draw.text((SCALE_LEFT + BOX // 2, header + 60), "5 = Rất hài lòng … 1 = Rất không hài lòng", font=font(28),
              fill=GREY, anchor="ls")
    for number, question in enumerate(QUESTIONS, start=2):
        row = ROWS_BY_KEY[question.key]
        label = f"2.{number - 1}" if question.kind == "scale" else "3."
        after = _text(draw, (170, row.y), f"{label} {question.title_vi} / {question.title_en}", 36, bold=True,
                      width=SCALE_LEFT - 230)
        _text(draw, (230, after), question.text_vi, 29, width=SCALE_LEFT - 290)
        for box in row.boxes:
            _box(draw, box)
            if question.kind == "yesno":
                word = "Có / Yes" if box.value == 1 else "Không / No"
                draw.text((box.x + BOX + 18, box.y + BOX // 2), word, font=font(34), fill=INK, anchor="lm")
        draw.line((170, row.y - 18, PAGE_W - 170, row.y - 18), fill=(200, 200, 200), width=2)
    y = _text(draw, (170, PROCEDURE_Y), "Mã thủ tục (nếu biết) / Procedure code (if known):", 34, bold=True)
    for i in range(12):
        draw.rectangle((1150 + i * 80, PROCEDURE_Y - 10, 1150 + i * 80 + 66, PROCEDURE_Y + 66), outline=GREY, width=2)
    _text(draw, (170, y), "Ví dụ / e.g. 1.001193", 26, fill=GREY)
    _text(draw, (170, COMMENT_Y), "Góp ý của Ông/Bà / Your comment (không bắt buộc / optional):", 34, bold=True)
    draw.rectangle((170, COMMENT_Y + 60, PAGE_W - 170, COMMENT_BOTTOM), outline=GREY, width=3)
    draw.text((PAGE_W // 2, PAGE_H - MARGIN - 40), "Xin cảm ơn Ông/Bà! Bỏ phiếu vào hòm phiếu tại quầy. "
              "/ Thank you! Put the form in the box at the counter.", font=font(30), fill=GREY, anchor="ms")
    return page


def write_pdf(pages: Iterable[Image.Image], out: BinaryIO) -> int:
    """Write the pages as one A4 PDF, each a 1-bit 300 dpi image (Flate): one page in memory at a time, about
    60 KB a page. Returns the number of pages."""
    offsets: list[int] = []
    written = 0

    def put(data: bytes) -> None:
        nonlocal written
        out.write(data)
        written += len(data)

    def obj(number: int, body: bytes, stream: bytes | None = None) -> None:
        while len(offsets) < number:
            offsets.append(0)
        offsets[number - 1] = written
        put(b"%d 0 obj\n" % number + body)
        if stream is not None:
            put(b"\nstream\n" + stream + b"\nendstream")
        put(b"\nendobj\n")

    put(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    kids: list[int] = []
    width_pt, height_pt = PAGE_W * 72 / DPI, PAGE_H * 72 / DPI
    for page in pages:
        first = 3 + 3 * len(kids)      # objects 1 and 2: the catalog and the page tree, written last
        bits = page.convert("L").point(lambda v: 255 if v >= 160 else 0).convert("1")
        image = zlib.compress(bits.tobytes(), 6)
        obj(first, b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 1 /Filter /FlateDecode /Length %d >>" % (bits.width, bits.height, len(image)), image)
        content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (width_pt, height_pt)
        obj(first + 1, b"<< /Length %d >>" % len(content), content)
        obj(first + 2, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Im0 %d 0 R "
            b">> >> /Contents %d 0 R >>" % (width_pt, height_pt, first, first + 1))
        kids.append(first + 2)
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
    xref = written
    put(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    put(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    put(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref))
    return len(kids)


def parse_period(text: str | None, first: date | None, last: date | None) -> Period:
    """A form's period from '2026-Q4', '2026-11', '2026', or --from/--to days; a bilingual ServerError else."""
    if text is not None and (first is not None or last is not None):
        raise ServerError("Dùng --period hoặc --from/--to, không dùng cả hai",
                          "use --period or --from/--to, not both")
    if text is None:
        if first is None or last is None:
            raise ServerError("Cần --period (ví dụ 2026-Q4) hoặc cả --from và --to",
                              "give --period (e.g. 2026-Q4) or both --from and --to")
        return Period.between(first, last)
    cleaned = text.strip().upper()
    try:
        if len(cleaned) == 7 and cleaned[4:6] == "-Q" and cleaned[6] in "1234":
            return Period.of("quarter", date(int(cleaned[:4]), (int(cleaned[6]) - 1) * 3 + 1, 1))
        if len(cleaned) == 7 and cleaned[4] == "-":
            return Period.of("month", date(int(cleaned[:4]), int(cleaned[5:]), 1))
        if len(cleaned) == 4:
            return Period.of("year", date(int(cleaned), 1, 1))
    except ValueError:
        pass
    raise ServerError(f"Kỳ {text!r} không hợp lệ; viết 2026-Q4, 2026-11 hoặc 2026",
                      f"invalid period {text!r}; write 2026-Q4, 2026-11 or 2026")


@dataclass(frozen=True)
class Printed:
    """A run of printed forms: their numbers and what each says."""

    numbers: range
    sheets: tuple[FormSheet, ...]


def print_forms(engine: Engine, *, agency_code: str, counter_code: str | None, period: Period, count: int,
                printed_by: str, out: BinaryIO | None = None, now: datetime | None = None) -> Printed:
    """Number `count` forms from the agency's next free number, record them, and draw them into `out` as one PDF.

    The numbers are recorded first (a short transaction), then drawn: should the drawing fail, the numbers are
    simply never used (no form can carry them), and no other writer waited for the drawing."""
    if not 1 <= count <= MAX_FORMS:
        raise ServerError(f"Số phiếu in phải từ 1 đến {MAX_FORMS}, nhận được {count}",
                          f"the number of forms must be 1 to {MAX_FORMS}, got {count}")
    moment = now or utc_now()
    with writing(engine) as conn:
        # Locked: two runs at once would otherwise both read the same highest number (PostgreSQL).
        owner = registry.agency(conn, agency_code, lock=True)
        counter, counter_name = None, ""
        if counter_code is not None:
            counter = registry.counter_id(conn, owner, counter_code)
            counter_name = str(conn.execute(select(COUNTER.c.name).where(COUNTER.c.id == counter)).scalar_one())
        last = conn.execute(select(func.max(PAPER_FORM.c.number)).where(PAPER_FORM.c.agency_id == owner.id)).scalar()
        numbers = range(int(last or 0) + 1, int(last or 0) + 1 + count)
        conn.execute(insert(PAPER_FORM), [
            {"agency_id": owner.id, "number": n, "counter_id": counter, "period_first": period.first,
             "period_last": period.last, "printed_at": moment, "printed_by": printed_by} for n in numbers])
    sheets = tuple(FormSheet(owner.code, owner.name, counter_name, period, n) for n in numbers)
    if out is not None:
        write_pdf((render(sheet) for sheet in sheets), out)
    return Printed(numbers, sheets)
