"""The printed slips, laid out as 1-bit images a thermal printer prints as they are.

Cheap ESC/POS printers garble Vietnamese through their code pages, so every slip is drawn here as a raster
image in Roboto (which ships inside Kivy and covers every precomposed Vietnamese letter) and sent as one
raster command. Nothing here touches a printer, a window or the network, so slips are tested as images.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import qrcode
from PIL import Image, ImageDraw, ImageFont

from kiosk.domain.levels import level as level_of
from kiosk.i18n import document_counts

MIN_WIDTH = 256
MAX_WIDTH = 832
DOTS_PER_MM = 8  # 203 dpi

# Black where the anti-aliased grey is darker than mid-grey: any stroke at least a dot wide survives, and
# stems stay close to their true weight (a lower value thins them, a higher one clogs small letters).
_THRESHOLD = 128

_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # ngang, huyền, sắc, hỏi, ngã, nặng
_VOWELS = ("a", "a\u0306", "a\u0302", "e", "e\u0302", "i", "o", "o\u0302", "o\u031b", "u", "u\u031b", "y")


def _vowel_groups(upper: bool) -> list[str]:
    groups = []
    for vowel in _VOWELS:
        base = vowel.upper() if upper else vowel
        groups.append("".join(unicodedata.normalize("NFC", base + tone) for tone in _TONES))
    return groups


VOWEL_LINE: str = " ".join([*_vowel_groups(False), *_vowel_groups(True), "đ", "Đ"])

# The letters that reach highest and lowest in Roboto: a line box that holds them keeps a stacked mark
# over a capital (Ẳ, Ở) clear of the descender of the line above.
_TALLEST = "ẲẴẪẨỖỔỞỠỮỬẰẮẶẦẤẬỀẾỂỄỒỐỘỜỚỢỪỨỰỲÝỶỸẢÃĐÉÍÓÚ" + "ẳẵẫẩỗổởỡữửđ"
_DEEPEST = "gjpqyỵỴỆẶỰỢỌỤỊẠỸ"


@dataclass(frozen=True)
class RatingSlip:
    """The slip a citizen may take after rating: the rating, its reference and where to complain."""

    agency: str
    parent: str
    counter: str
    reference: str
    moment: datetime
    level: int
    language: str
    hotline: str
    complaint_address: str
    email: str
    website: str
    feedback_url: str
    survey_url: str = ""   # the server's web form for this counter: more questions, answered on a phone


@dataclass(frozen=True)
class GuideDocument:
    """One document of a procedure's dossier and how many of it to bring."""

    name: str
    originals: int | None
    copies: int | None
    form: str = ""


@dataclass(frozen=True)
class GuideSlip:
    """The guide an officer prints for a citizen: what to bring for one procedure, where and how to submit."""

    agency: str
    code: str
    name: str
    documents: tuple[GuideDocument, ...]
    time_limit: str
    fees: str
    where: str
    channels: tuple[str, ...]
    online_url: str
    hotline: str
    online: bool = True  # False: the QR leads to the procedure's page, not to an online application
    forms_url: str = ""  # where a phone downloads the forms (kiosk.domain.procedures.forms_url); "": no QR


@dataclass(frozen=True)
class TestPage:
    """The page IT prints to check the printer, the paper width and the Vietnamese letters."""

    __test__ = False  # not a pytest test class, despite the name

    profile: str
    width_dots: int
    uri: str
    qr_url: str


Slip = RatingSlip | GuideSlip | TestPage


# --- fonts --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _font_dir() -> str:
    # find_spec locates Kivy without running its package init, which sets up logging and reads argv.
    spec = importlib.util.find_spec("kivy")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Kivy is not installed: its Roboto fonts are needed to print slips")
    return os.path.join(next(iter(spec.submodule_search_locations)), "data", "fonts")


@functools.lru_cache(maxsize=64)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    name = "Roboto-Bold.ttf" if bold else "Roboto-Regular.ttf"
    # The basic layout engine gives the same pixels with or without libraqm; NFC text needs no shaping.
    return ImageFont.truetype(os.path.join(_font_dir(), name), size, layout_engine=ImageFont.Layout.BASIC)


@functools.lru_cache(maxsize=64)
def _extent(size: int, bold: bool) -> tuple[int, int]:
    """How far ink can reach above and below the baseline in this font."""
    font = _font(size, bold)
    above = -min(font.getbbox(ch, anchor="ls")[1] for ch in _TALLEST)
    below = max(font.getbbox(ch, anchor="ls")[3] for ch in _DEEPEST)
    return int(above), int(below)


@dataclass(frozen=True)
class _Style:
    """Font sizes and spacing for one paper width."""

    width: int
    margin: int
    body: int
    head: int
    title: int
    big: int
    small: int

    @classmethod
    def for_width(cls, width: int) -> _Style:
        # 24 px at 58 mm and 30 px at 80 mm: about 3 mm and 3.75 mm capitals-with-marks, which elderly
        # citizens read without glasses; it grows linearly across the other widths.
        body = round(12 + width / 32)
        return cls(width=width, margin=max(4, round(width * 0.02)), body=body, head=round(body * 1.15),
                   title=round(body * 1.25), big=round(body * 1.6), small=round(body * 0.8))


# --- layout -------------------------------------------------------------------------------------------------

Span = tuple[str, int, bool]  # text, size, bold
_Op = Callable[[ImageDraw.ImageDraw], None]
# Ordinary spaces and line breaks only: a no-break space (U+00A0) keeps its neighbours on one line.
_SPACES = re.compile(r"([ \t\r\n]+)")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _graphemes(text: str) -> list[str]:
    """Split so a combining mark stays with its letter when an over-long word must be broken."""
    out: list[str] = []
    for ch in text:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


@dataclass(frozen=True)
class _Piece:
    text: str
    size: int
    bold: bool

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return _font(self.size, self.bold)

    def advance(self) -> float:
        return _measure(self.text, self.size, self.bold)[0]

    def reach(self) -> float:
        """The right edge of the ink, which for some letters lies past the advance."""
        return _measure(self.text, self.size, self.bold)[1]


# Wrapping (and balancing centred lines) measures the same words many times over.
@functools.lru_cache(maxsize=4096)
def _measure(text: str, size: int, bold: bool) -> tuple[float, float]:
    font = _font(size, bold)
    advance = float(font.getlength(text))
    return advance, max(advance, float(font.getbbox(text, anchor="ls")[2]))


_Word = list[_Piece]
_URL_BREAKS = frozenset("/-?&=_.:@")
_NBSP = "\u00a0"


def _together(text: str) -> str:
    """Keep a short phrase (a phone number, a channel name) on one line unless it cannot fit."""
    return text.strip().replace(" ", _NBSP)


def _words(spans: Sequence[Span]) -> list[_Word]:
    """The words of a paragraph; a span boundary without a space does not split a word."""
    words: list[_Word] = []
    current: _Word = []
    for text, size, bold in spans:
        for part in _SPACES.split(_nfc(text)):
            if not part:
                continue
            if part.isspace():
                if current:
                    words.append(current)
                    current = []
            else:
                current.append(_Piece(part, size, bold))
    if current:
        words.append(current)
    return words


def _width(word: _Word) -> float:
    if not word:
        return 0.0
    return sum(piece.advance() for piece in word[:-1]) + word[-1].reach()


def _space(word: _Word) -> float:
    return float(word[0].font.getlength(" "))


def _break_word(word: _Word, room: float) -> list[_Word]:
    """Cut a word wider than the paper (a URL, a long code) into pieces that fit, letter by letter."""
    letters = [(g, piece.size, piece.bold) for piece in word for g in _graphemes(piece.text)]
    pieces: list[_Word] = []
    current: list[tuple[str, int, bool]] = []

    def as_word(letters_: list[tuple[str, int, bool]]) -> _Word:
        merged: _Word = []
        for g, size, bold in letters_:
            if merged and (merged[-1].size, merged[-1].bold) == (size, bold):
                merged[-1] = _Piece(merged[-1].text + g, size, bold)
            else:
                merged.append(_Piece(g, size, bold))
        return merged

    for letter in letters:
        if current and _width(as_word([*current, letter])) > room:
            # Cut at a no-break space if there is one, else a URL or a path after a separator in the back
            # half of the line, and only then between two letters.
            cut = max((i + 1 for i, (g, _, _) in enumerate(current) if g == _NBSP), default=0)
            if not cut:
                cut = max((i + 1 for i, (g, _, _) in enumerate(current) if g in _URL_BREAKS), default=0)
                cut = cut if cut > len(current) // 2 else len(current)
            pieces.append(as_word(current[:cut]))
            current = current[cut:]
        current.append(letter)
    if current:
        pieces.append(as_word(current))
    return pieces


def _wrap(spans: Sequence[Span], room: float) -> list[list[_Word]]:
    """Greedy word wrap measured with the real fonts; a line is a list of words."""
    lines: list[list[_Word]] = []
    line: list[_Word] = []
    used = 0.0
    for word in _words(spans):
        width = _width(word)
        if line and used + _space(word) + width <= room:
            line.append(word)
            used += _space(word) + width
            continue
        if line:
            lines.append(line)
        if width <= room:
            line, used = [word], width
        else:
            *whole, last = _break_word(word, room)
            lines.extend([w] for w in whole)
            line, used = [last], _width(last)
    if line:
        lines.append(line)
    return lines


def _balance(spans: Sequence[Span], room: float, lines: list[list[_Word]]) -> list[list[_Word]]:
    """Re-wrap centred text as narrow as it goes without more lines, so a title never ends on one lone word."""
    if len(lines) < 2:
        return lines
    low, high = room / 2, room
    while high - low > 1:
        middle = (low + high) / 2
        if len(_wrap(spans, middle)) == len(lines):
            high = middle
        else:
            low = middle
    return _wrap(spans, high)


class _Page:
    """A slip being laid out top to bottom; drawing waits until the height is known."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.style = _Style.for_width(width)
        self.left = self.style.margin
        self.room = width - 2 * self.style.margin
        self.y = self.style.margin + round(self.style.body * 0.5)
        self.ops: list[_Op] = []

    def space(self, fraction: float = 0.5) -> None:
        self.y += round(self.style.body * fraction)

    def text(self, spans: Sequence[Span], align: Literal["left", "centre"] = "left", indent: int = 0) -> int:
        """Lay out a paragraph; returns the baseline of its first line (for a checkbox beside it)."""
        left, room = self.left + indent, self.room - indent
        first_baseline = -1
        lines = _wrap(spans, room)
        if align == "centre":
            lines = _balance(spans, room, lines)
        for line in lines:
            above = max(_extent(p.size, p.bold)[0] for w in line for p in w)
            below = max(_extent(p.size, p.bold)[1] for w in line for p in w)
            size = max(p.size for w in line for p in w)
            baseline = self.y + above
            used = sum(_width(w) for w in line) + sum(_space(w) for w in line[1:])
            x = float(left) if align == "left" else left + (room - used) / 2
            for index, word in enumerate(line):
                if index:
                    x += _space(word)
                for piece in word:
                    self.ops.append(_draw_text(round(x), baseline, piece))
                    x += piece.advance()
            if first_baseline < 0:
                first_baseline = baseline
            # A little air between lines on top of the marks' reach, as on a printed form.
            self.y = baseline + below + round(size * 0.08)
        return first_baseline

    def line(self, text: str, size: int | None = None, bold: bool = False,
             align: Literal["left", "centre"] = "left") -> None:
        self.text([(text, size or self.style.body, bold)], align)

    def labelled(self, label: str, value: str, label_bold: bool = False, value_bold: bool = False) -> None:
        body = self.style.body
        self.text([(label + " ", body, label_bold), (value, body, value_bold)])

    def rule(self) -> None:
        self.space(0.35)
        thick = max(2, self.width // 192)
        top, left, right = self.y, self.left, self.width - self.style.margin - 1
        self.ops.append(lambda d: d.rectangle((left, top, right, top + thick - 1), fill=0))
        self.y += thick
        self.space(0.45)

    def checkbox(self, name: str, details: Iterable[Span]) -> None:
        body = self.style.body
        box = round(body * 0.8)
        stroke = max(2, round(body / 12))
        indent = box + round(body * 0.45)
        baseline = self.text([(name or "…", body, False)], indent=indent)
        left = self.left
        # Bottom on the baseline and a little taller than a capital, so it reads as a box to tick.
        top = baseline - box + 1
        self.ops.append(lambda d: d.rectangle((left, top, left + box - 1, top + box - 1), outline=0, width=stroke))
        for detail in details:
            self.text([detail], indent=indent)
        self.y = max(self.y, top + box)
        self.space(0.3)

    def qr(self, url: str, caption: str, caption_en: str = "") -> None:
        matrix = _qr_matrix(url)
        count = len(matrix)
        # About 45% of the width, with modules of at least 3 dots (smaller ones blur on thermal paper) unless
        # the code and its quiet zone would not fit at all.
        module = max(3, int(self.width * 0.45) // count)
        while module > 1 and (count + 8) * module > self.room:
            module -= 1
        side = count * module
        left, top = (self.width - side) // 2, self.y + 4 * module  # four modules of quiet zone

        def draw(d: ImageDraw.ImageDraw) -> None:
            for r, row in enumerate(matrix):
                for c, dark in enumerate(row):
                    if dark:
                        x, y = left + c * module, top + r * module
                        d.rectangle((x, y, x + module - 1, y + module - 1), fill=0)

        self.ops.append(draw)
        self.y = top + side + 4 * module
        self.line(caption, align="centre")
        if caption_en:
            self.line(caption_en, align="centre")

    def ruler(self) -> None:
        """Ticks every millimetre across the whole paper, longer each 5 and 10 mm, numbered in cm."""
        self.space(0.5)
        small = self.style.small
        label_above, label_below = _extent(small, False)
        top = self.y
        long_tick = round(self.style.body * 0.9)
        width = self.width

        def draw(d: ImageDraw.ImageDraw) -> None:
            d.rectangle((0, top, width - 1, top + 1), fill=0)
            for x in [*range(0, width, DOTS_PER_MM), width - 1]:
                mm = x // DOTS_PER_MM
                length = long_tick if mm % 10 == 0 or x == width - 1 else long_tick * 2 // 3 if mm % 5 == 0 \
                    else long_tick // 3
                d.rectangle((x, top, min(x + 1, width - 1), top + length), fill=0)

        self.ops.append(draw)
        self.y = top + long_tick + round(small * 0.2)
        baseline = self.y + label_above
        font = _font(small, False)
        for mm in range(10, width // DOTS_PER_MM, 10):
            label = str(mm // 10)
            half = font.getlength(label) / 2
            x = mm * DOTS_PER_MM - half
            if x + 2 * half < width - self.style.margin:
                self.ops.append(_draw_text(round(x), baseline, _Piece(label, small, False)))
        self.y = baseline + label_below

    def image(self) -> Image.Image:
        height = self.y + self.style.margin + round(self.style.body * 0.5)
        canvas = Image.new("L", (self.width, height), 255)
        draw = ImageDraw.Draw(canvas)
        draw.fontmode = "L"
        for op in self.ops:
            op(draw)
        lut = [0 if value < _THRESHOLD else 255 for value in range(256)]
        return canvas.point(lut, "1")


def _draw_text(x: int, baseline: int, piece: _Piece) -> _Op:
    return lambda d: d.text((x, baseline), piece.text, font=piece.font, fill=0, anchor="ls")


def _qr_matrix(url: str) -> list[list[bool]]:
    # Level M survives a smudge or a fold in the paper and still fits a long URL in a small code.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, box_size=1)
    code.add_data(url)
    code.make(fit=True)
    return [[bool(dark) for dark in row] for row in code.get_matrix()]


# --- the slips ----------------------------------------------------------------------------------------------


def render(slip: Slip, width_dots: int) -> Image.Image:
    """Lay out a slip as a 1-bit image exactly `width_dots` wide, ready for an ESC/POS raster command."""
    if not MIN_WIDTH <= width_dots <= MAX_WIDTH:
        raise ValueError(f"slip width must be {MIN_WIDTH} to {MAX_WIDTH} dots, got {width_dots}")
    page = _Page(width_dots)
    if isinstance(slip, RatingSlip):
        _rating(page, slip)
    elif isinstance(slip, GuideSlip):
        _guide(page, slip)
    else:
        _test_page(page, slip)
    return page.image()


def _header(page: _Page, agency: str, *lines: str) -> None:
    if agency:
        page.line(agency, page.style.head, bold=True, align="centre")
    for line in lines:
        if line:
            page.line(line, align="centre")


def _rating(page: _Page, slip: RatingSlip) -> None:
    st, en = page.style, slip.language == "en"
    level = level_of(slip.level)
    _header(page, slip.agency, slip.parent, slip.counter)
    page.rule()
    page.line("PHIẾU ĐÁNH GIÁ SỰ HÀI LÒNG", st.title, bold=True, align="centre")
    if en:
        page.line("Satisfaction rating slip", align="centre")
    page.space(0.4)
    page.labelled("Thời gian:", f"{slip.moment:%H:%M} ngày {slip.moment:%d/%m/%Y}", value_bold=True)
    if en:
        page.labelled("Time:", f"{slip.moment:%H:%M}, {slip.moment:%d/%m/%Y}")
    if slip.reference:
        page.labelled("Số phiếu:", slip.reference, value_bold=True)
        if en:
            page.labelled("Reference:", slip.reference)
    page.line("Mức đánh giá:", align="centre")
    if en:
        page.line("Your rating:", align="centre")
    page.space(0.2)
    page.line(level.label_vi, st.big, bold=True, align="centre")
    if en:
        page.line(level.label_en, st.head, bold=True, align="centre")
    page.space(0.4)
    page.line("Xin cảm ơn Ông/Bà đã đánh giá!", align="centre")
    if en:
        page.line("Thank you for your rating!", align="centre")
    if slip.survey_url:
        page.qr(slip.survey_url, "Quét mã để góp ý thêm qua điện thoại",
                "Scan to tell us more on your phone" if en else "")
    if slip.hotline or slip.complaint_address or slip.email or slip.website or slip.feedback_url:
        page.rule()
    if slip.hotline:
        page.labelled("Đường dây nóng:", _together(slip.hotline), label_bold=True, value_bold=True)
        if en:
            page.labelled("Hotline:", _together(slip.hotline), label_bold=True, value_bold=True)
    if slip.complaint_address:
        page.labelled("Địa chỉ tiếp nhận phản ánh, kiến nghị:", slip.complaint_address)
        if en:
            page.line("Complaints and suggestions: at the address above.")
    if slip.email:
        page.labelled("Email:", slip.email)
    if slip.website:
        page.labelled("Website:", slip.website)
    if slip.feedback_url:
        page.qr(slip.feedback_url, "Quét mã để gửi phản ánh, kiến nghị",
                "Scan to send feedback or a complaint" if en else "")


def _guide(page: _Page, slip: GuideSlip) -> None:
    st = page.style
    _header(page, slip.agency)
    page.rule()
    page.line("PHIẾU HƯỚNG DẪN THỦ TỤC HÀNH CHÍNH", st.title, bold=True, align="centre")
    page.space(0.3)
    if slip.name:
        page.line(slip.name, st.head, bold=True, align="centre")
    if slip.code:
        page.line(f"Mã thủ tục: {slip.code}", align="centre")
    page.rule()
    if slip.documents:
        page.line("Giấy tờ cần chuẩn bị:", bold=True)
        page.space(0.2)
        for doc in slip.documents:
            details: list[Span] = []
            if counts := ", ".join(document_counts(doc.originals, doc.copies, "vi")):
                details.append((counts, st.body, True))
            if doc.form:
                details.append((f"Mẫu: {doc.form}", st.body, False))
            page.checkbox(doc.name, details)
        page.space(0.2)
    channels = f"{_NBSP}· ".join(_together(c) for c in slip.channels if c.strip())
    for label, value in (("Thời hạn giải quyết:", slip.time_limit), ("Phí, lệ phí:", slip.fees),
                         ("Nơi nộp:", slip.where), ("Cách thức:", channels)):
        if value:
            page.labelled(label, value, label_bold=True)
            page.space(0.2)
    if slip.forms_url:
        # One QR for every form, however many documents have one: the slip stays short and scannable.
        page.qr(slip.forms_url, "Quét mã để tải mẫu đơn, tờ khai")
    if slip.online_url:
        page.qr(slip.online_url, "Quét mã để nộp hồ sơ trực tuyến" if slip.online
                else "Quét mã để xem thủ tục trên Cổng Dịch vụ công")
    if slip.hotline:
        page.space(0.3)
        page.labelled("Đường dây nóng:", _together(slip.hotline), label_bold=True, value_bold=True)


def _millimetres(dots: int) -> str:
    mm = dots / DOTS_PER_MM
    return f"{mm:.0f}" if mm.is_integer() else f"{mm:.1f}".replace(".", ",")  # Vietnamese decimal comma


def _test_page(page: _Page, slip: TestPage) -> None:
    st = page.style
    page.line(f"TRANG IN THỬ{_NBSP}/ TEST PAGE", st.title, bold=True, align="centre")
    page.rule()
    if slip.profile:
        page.labelled("Máy in:", slip.profile, value_bold=True)
    page.labelled("Khổ giấy:", f"{slip.width_dots} điểm ({_millimetres(slip.width_dots)} mm)", value_bold=True)
    if slip.uri:
        page.labelled("Địa chỉ:", slip.uri)
    page.rule()
    page.line("Tiếng Việt:", bold=True)
    page.line(VOWEL_LINE)
    page.space(0.3)
    page.line(VOWEL_LINE, bold=True)
    if slip.qr_url:
        page.qr(slip.qr_url, "Quét thử mã QR", "Scan to test the QR code")
        page.line(slip.qr_url, st.small, align="centre")
    page.ruler()


# --- samples ------------------------------------------------------------------------------------------------


def sample_rating(level: int = 5, language: str = "vi", moment: datetime | None = None) -> RatingSlip:
    """A rating slip with the example settings' values, for previews and tests."""
    return RatingSlip(
        agency="Trung tâm Phục vụ hành chính công phường Hoàn Kiếm",
        parent="Thành phố Hà Nội",
        counter="Quầy số 1 – Tư pháp, hộ tịch",
        reference="Q01-000042",
        moment=moment or datetime(2026, 11, 23, 10, 56),
        level=level,
        language=language,
        hotline="0243 825 0000",
        complaint_address="Số 1 phố Mẫu, phường Hoàn Kiếm, Hà Nội",
        email="phananh@example.gov.vn",
        website="https://dichvucong.gov.vn",
        feedback_url="https://dichvucong.gov.vn/p/home/dvc-phan-anh-kien-nghi.html",
    )


def sample_guide(hotline: str = "") -> GuideSlip:
    """A real commune-level procedure (Đăng ký khai sinh, 1.001193) for previews and tests."""
    # The dossier as the national procedure database and Luật Hộ tịch (art. 16) give it. Identity papers are
    # only shown at the counter, so they are not on the list; counts are left out where the source is unclear.
    return GuideSlip(
        agency="Trung tâm Phục vụ hành chính công phường Hoàn Kiếm",
        code="1.001193",
        name="Đăng ký khai sinh",
        documents=(
            GuideDocument("Tờ khai đăng ký khai sinh theo mẫu", 1, None, "Tờ khai đăng ký khai sinh"),
            GuideDocument("Giấy chứng sinh; nếu không có: văn bản của người làm chứng xác nhận việc sinh, "
                          "hoặc giấy cam đoan về việc sinh", 1, None),
            GuideDocument("Trẻ em bị bỏ rơi: biên bản xác nhận việc trẻ bị bỏ rơi; trẻ sinh ra do mang thai hộ: "
                          "văn bản chứng minh việc mang thai hộ", None, None),
            GuideDocument("Văn bản ủy quyền, nếu nhờ người khác đi đăng ký", None, None),
        ),
        time_limit="Ngay trong ngày tiếp nhận hồ sơ; trường hợp nhận hồ sơ sau 15 giờ mà không giải quyết được "
                   "ngay thì trả kết quả trong ngày làm việc tiếp theo",
        fees="Miễn lệ phí",
        where="Ủy ban nhân dân cấp xã nơi cư trú của người cha hoặc người mẹ",
        channels=("Trực tiếp", "Trực tuyến", "Bưu chính công ích"),
        online_url="https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193",
        hotline=hotline,
    )
