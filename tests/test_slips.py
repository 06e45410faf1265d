"""Slip layout: exact width, 1-bit, nothing past the margins, QR codes that read back, one box per document."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from dataclasses import replace

import pytest
import qrcode
from PIL import Image

from kiosk import slips
from kiosk.i18n import document_counts
from kiosk.slips import GuideDocument, GuideSlip, RatingSlip, TestPage

WIDTHS = (256, 384, 576, 832)
FEEDBACK = "https://dichvucong.gov.vn/p/home/dvc-phan-anh-kien-nghi.html"
Grid = list[list[bool]]


def _rating(**changes: object) -> RatingSlip:
    return replace(slips.sample_rating(), **changes)  # type: ignore[arg-type]


def _guide(**changes: object) -> GuideSlip:
    return replace(slips.sample_guide("0243 825 0000"), **changes)  # type: ignore[arg-type]


def _test_page(width: int = 576, qr_url: str = FEEDBACK) -> TestPage:
    return TestPage(profile="TM-T20II", width_dots=width, uri="socket://192.168.1.50:9100", qr_url=qr_url)


def _black(image: Image.Image) -> Grid:
    """The image as rows of booleans, True where the printer burns a dot."""
    width, height = image.size
    data = list(image.getdata())
    return [[data[y * width + x] == 0 for x in range(width)] for y in range(height)]


def _runs(row: list[bool]) -> list[tuple[bool, int, int]]:
    runs: list[tuple[bool, int, int]] = []
    start = 0
    for x in range(1, len(row) + 1):
        if x == len(row) or row[x] != row[start]:
            runs.append((row[start], start, x - start))
            start = x
    return runs


def _finders(row: list[bool]) -> list[tuple[int, int]]:
    """(left edge, module size) of each QR finder pattern crossing this row: dark, light, dark x3, light, dark."""
    found = []
    runs = _runs(row)
    for i in range(len(runs) - 4):
        colours = [runs[i + k][0] for k in range(5)]
        lengths = [runs[i + k][2] for k in range(5)]
        unit = lengths[0]
        if colours == [True, False, True, False, True] and unit >= 2 \
                and lengths == [unit, unit, 3 * unit, unit, unit]:
            found.append((runs[i][1], unit))
    return found


def _read_qr(image: Image.Image) -> Grid | None:
    """The module matrix of the QR code in a slip, read from the pixels via its two top finder patterns."""
    grid = _black(image)
    for y, row in enumerate(grid):
        finders = _finders(row)
        if len(finders) >= 2:
            # The outermost two: a run of data modules between them can mimic a finder too.
            (left, unit), (right, other) = finders[0], finders[-1]
            if unit != other or right - left < 14 * unit:
                continue
            top = y
            while top > 0 and grid[top - 1][left]:
                top -= 1
            side = right + 7 * unit - left
            assert side % unit == 0
            count = side // unit
            return [[grid[top + r * unit + unit // 2][left + c * unit + unit // 2] for c in range(count)]
                    for r in range(count)]
    return None


def _qr_matrices(url: str) -> list[Grid]:
    """What qrcode makes of this URL at each error-correction level: one of them must be on the slip."""
    matrices = []
    for level in (qrcode.constants.ERROR_CORRECT_L, qrcode.constants.ERROR_CORRECT_M,
                  qrcode.constants.ERROR_CORRECT_Q, qrcode.constants.ERROR_CORRECT_H):
        code = qrcode.QRCode(error_correction=level, border=0)
        code.add_data(url)
        code.make(fit=True)
        matrices.append([[bool(dark) for dark in row] for row in code.get_matrix()])
    return matrices


def _boxes(image: Image.Image) -> list[tuple[int, int]]:
    """Top-left corners of hollow square outlines near the left edge: the checklist's boxes."""
    grid = _black(image)
    width = image.width
    strip = int(width * 0.15)
    found = []
    for y in range(1, len(grid)):
        for dark, x, length in _runs(grid[y][:strip]):
            if not dark or not width * 0.03 <= length <= width * 0.12 or all(grid[y - 1][x:x + length]):
                continue
            bottom = y + length - 1
            if bottom >= len(grid) or not all(grid[bottom][x:x + length]):
                continue
            sides = all(grid[r][x] and grid[r][x + length - 1] for r in range(y, bottom + 1))
            inset = length // 4
            hollow = not any(grid[r][c] for r in range(y + inset, bottom - inset + 1)
                             for c in range(x + inset, x + length - inset))
            if sides and hollow:
                found.append((x, y))
    return found


def _height(slip: slips.Slip, width: int = 384) -> int:
    return slips.render(slip, width).height


# --- shape ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("slip", [slips.sample_rating(), slips.sample_guide(), _test_page()],
                         ids=["rating", "guide", "test-page"])
def test_every_slip_is_exactly_the_paper_width_and_1_bit(slip: slips.Slip, width: int) -> None:
    image = slips.render(slip, width)
    assert image.width == width
    assert image.mode == "1"
    assert image.height > width  # a whole slip, not an empty strip
    colours = image.getcolors()
    assert colours is not None and {colour for _, colour in colours} == {0, 255}


@pytest.mark.parametrize("width", [0, 255, 833])
def test_a_width_no_printer_has_is_refused(width: int) -> None:
    with pytest.raises(ValueError, match="256 to 832"):
        slips.render(slips.sample_rating(), width)


def test_background_is_white_and_text_is_black() -> None:
    image = slips.render(slips.sample_rating(), 384)
    histogram = image.histogram()
    assert histogram[255] > 5 * histogram[0] > 0  # mostly paper, some ink
    assert all(image.getpixel((x, 0)) == 255 for x in range(384))  # the top margin is blank


def test_height_grows_with_content() -> None:
    short = _guide(documents=_guide().documents[:1])
    assert _height(short) < _height(_guide())
    assert _height(_rating(agency="Trung tâm")) < _height(_rating(agency="Trung tâm " * 12))


def test_render_is_deterministic() -> None:
    first = slips.render(slips.sample_guide(), 576).tobytes()
    slips._font.cache_clear()
    slips._measure.cache_clear()
    assert slips.render(slips.sample_guide(), 576).tobytes() == first


def test_decomposed_input_prints_like_precomposed() -> None:
    nfc = _rating(agency="Trung tâm Phục vụ hành chính công xã Ẳng Cang")
    nfd = replace(nfc, agency=unicodedata.normalize("NFD", nfc.agency))
    assert nfd.agency != nfc.agency
    assert slips.render(nfd, 384).tobytes() == slips.render(nfc, 384).tobytes()


def test_importing_and_rendering_do_not_import_kivy() -> None:
    code = ("import sys, kiosk.slips as s; s.render(s.sample_rating(), 384); "
            "print('kivy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"


# --- nothing runs off the paper -----------------------------------------------------------------------------------

LONG_TOKEN = "Q01-" + "0123456789" * 12
LONG_AGENCY = ("Trung tâm Phục vụ hành chính công đặc khu Côn Đảo, tỉnh Bà Rịa – Vũng Tàu cũ, nay thuộc "
               "Thành phố Hồ Chí Minh, Bộ phận tiếp nhận và trả kết quả giải quyết thủ tục hành chính") * 2


@pytest.mark.parametrize("width", WIDTHS)
def test_long_text_wraps_inside_the_margins(width: int) -> None:
    rating = _rating(agency=LONG_AGENCY, counter="Quầy " + "Nghiêngngảnghiêngngửa" * 6, reference=LONG_TOKEN,
                     complaint_address=LONG_AGENCY, email="phan.anh." + "x" * 90 + "@example.gov.vn",
                     website="https://" + "w" * 120 + ".gov.vn", language="en")
    guide = _guide(agency=LONG_AGENCY, name=LONG_AGENCY, code=LONG_TOKEN,
                   documents=(GuideDocument(LONG_AGENCY, 2, 3, LONG_TOKEN),), where=LONG_TOKEN,
                   channels=tuple(LONG_AGENCY.split(",")))
    edge = max(1, -(-width // 100))  # 1% of the paper, rounded up
    for slip in (rating, guide):
        grid = _black(slips.render(slip, width))
        touching = [y for y, row in enumerate(grid) if any(row[:edge]) or any(row[width - edge:])]
        assert touching == [], f"ink within {edge} dots of the edge on rows {touching[:5]}"


def test_a_long_unbreakable_word_is_cut_not_lost() -> None:
    for room in (150.0, 300.0, 700.0):
        lines = slips._wrap([(LONG_TOKEN, 24, True)], room)
        assert len(lines) > 1
        assert "".join(piece.text for line in lines for word in line for piece in word) == LONG_TOKEN
        assert all(slips._width(word) <= room for line in lines for word in line)


def test_a_url_is_cut_after_a_slash() -> None:
    url = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193"
    lines = slips._wrap([(url, 24, False)], 300.0)
    first = "".join(piece.text for word in lines[0] for piece in word)
    assert first[-1] in "/-?&=_.:@" and url.startswith(first)


def test_tall_marks_fit_in_the_line_box() -> None:
    for size in (20, 24, 30, 38, 61):
        above, below = slips._extent(size, True)
        font = slips._font(size, True)
        for letter in "ẲẴỖỮỞẪ":
            assert -font.getbbox(letter, anchor="ls")[1] <= above
        for letter in "gjỵỴặ":
            assert font.getbbox(letter, anchor="ls")[3] <= below


# --- QR codes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_rating_qr_reads_back_as_the_feedback_url(width: int) -> None:
    matrix = _read_qr(slips.render(_rating(feedback_url=FEEDBACK), width))
    assert matrix is not None
    assert matrix in _qr_matrices(FEEDBACK)
    assert matrix not in _qr_matrices(FEEDBACK + "x")


@pytest.mark.parametrize("width", [256, 576])
def test_guide_and_test_page_qr_read_back(width: int) -> None:
    guide = slips.sample_guide()
    assert _read_qr(slips.render(guide, width)) in _qr_matrices(guide.online_url)
    assert _read_qr(slips.render(_test_page(width, "https://example.gov.vn/in-thu"), width)) \
        in _qr_matrices("https://example.gov.vn/in-thu")


def test_qr_is_about_45_percent_of_the_width_with_whole_dot_modules() -> None:
    for width in (384, 576):
        image = slips.render(_rating(feedback_url=FEEDBACK), width)
        matrix = _read_qr(image)
        assert matrix is not None
        grid = _black(image)
        row = next(r for r in grid if _finders(r))
        left, unit = _finders(row)[0]
        side = len(matrix) * unit
        assert 0.35 * width <= side <= 0.5 * width
        assert abs(left + side / 2 - width / 2) <= 1  # centred


def test_no_url_no_qr() -> None:
    assert _read_qr(slips.render(_rating(feedback_url=""), 384)) is None
    assert _read_qr(slips.render(_guide(online_url=""), 384)) is None
    assert _read_qr(slips.render(_test_page(384, ""), 384)) is None


# --- rating slip ------------------------------------------------------------------------------------------------

RATING_FIELDS = ["parent", "counter", "reference", "hotline", "complaint_address", "email", "website",
                 "feedback_url"]


@pytest.mark.parametrize("field", RATING_FIELDS)
def test_an_empty_rating_value_drops_its_line(field: str) -> None:
    assert _height(_rating(**{field: ""})) < _height(_rating())


def test_without_any_contact_the_contact_block_goes() -> None:
    bare = _rating(hotline="", complaint_address="", email="", website="", feedback_url="")
    only_email = replace(bare, email="a@b.vn")
    assert _height(bare) < _height(only_email)


def test_english_adds_lines_under_the_vietnamese() -> None:
    vi, en = slips.render(_rating(language="vi"), 384), slips.render(_rating(language="en"), 384)
    assert en.height > vi.height
    # Vietnamese comes first: both slips match through the rule under the header and the Vietnamese title.
    vi_rows, en_rows = _black(vi), _black(en)
    rule = next(y for y, row in enumerate(vi_rows) if sum(row) > 0.9 * 384)
    first_difference = next(y for y, (a, b) in enumerate(zip(vi_rows, en_rows, strict=False)) if a != b)
    assert first_difference > rule + 40  # at least one title line of 30 px


def test_the_level_in_words_changes_with_the_level() -> None:
    images = {value: slips.render(_rating(level=value), 384).tobytes() for value in range(1, 6)}
    assert len(set(images.values())) == 5
    assert images[5] != images[1]


def test_a_level_outside_1_to_5_is_refused() -> None:
    with pytest.raises(ValueError, match="1–5"):
        slips.render(_rating(level=6), 384)


# --- guide slip -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [256, 384, 576])
def test_one_checkbox_per_document(width: int) -> None:
    guide = _guide()
    assert len(guide.documents) >= 3
    for count in (0, 1, len(guide.documents)):
        boxes = _boxes(slips.render(replace(guide, documents=guide.documents[:count]), width))
        assert len(boxes) == count
        assert len({x for x, _ in boxes}) <= 1  # all at the same left margin


def test_document_details_say_originals_copies_and_form() -> None:
    assert document_counts(1, None, "vi") == ["1 bản chính"]
    assert document_counts(0, 1, "vi") == ["1 bản sao"]
    assert document_counts(1, 2, "vi") == ["1 bản chính", "2 bản sao"]
    assert document_counts(1, 2, "en") == ["1 original(s)", "2 copy(ies)"]
    assert document_counts(None, None, "vi") == []
    plain = _guide(documents=(GuideDocument("Giấy chứng sinh", None, None),))
    counted = _guide(documents=(GuideDocument("Giấy chứng sinh", 1, None),))
    with_form = _guide(documents=(GuideDocument("Giấy chứng sinh", 1, None, "Tờ khai"),))
    assert _height(plain) < _height(counted) < _height(with_form)


@pytest.mark.parametrize("field", ["agency", "code", "time_limit", "fees", "where", "online_url", "hotline"])
def test_an_empty_guide_value_drops_its_line(field: str) -> None:
    assert _height(_guide(**{field: ""})) < _height(_guide())


def test_qr_caption_says_apply_online_only_when_one_can() -> None:
    online, page_only = slips.render(_guide(), 576), slips.render(_guide(online=False), 576)
    assert _black(online) != _black(page_only)  # another caption under the same QR code
    assert _read_qr(online) == _read_qr(page_only)
    assert _read_qr(page_only) in _qr_matrices(_guide().online_url)


def test_no_channels_no_channel_line() -> None:
    assert _height(_guide(channels=())) < _height(_guide())


def test_sample_guide_is_birth_registration() -> None:
    guide = slips.sample_guide("0243 825 0000")
    assert (guide.code, guide.name, guide.fees) == ("1.001193", "Đăng ký khai sinh", "Miễn lệ phí")
    assert guide.hotline == "0243 825 0000" and slips.sample_guide().hotline == ""
    assert guide.online_url.endswith("ma_thu_tuc=1.001193")
    assert guide.channels == ("Trực tiếp", "Trực tuyến", "Bưu chính công ích")
    assert any("Giấy chứng sinh" in doc.name for doc in guide.documents)
    assert guide.documents[0].form  # the declaration has a form


# --- test page ----------------------------------------------------------------------------------------------------


def test_vowel_line_has_every_vietnamese_vowel_with_every_tone() -> None:
    line = slips.VOWEL_LINE
    assert unicodedata.normalize("NFC", line) == line
    letters = [ch for ch in line if not ch.isspace()]
    lower = {ch for ch in letters if ch.islower() and ch != "đ"}
    upper = {ch for ch in letters if ch.isupper() and ch != "Đ"}
    assert len(lower) == 72
    assert upper == {ch.upper() for ch in lower}
    assert {"đ", "Đ"} <= set(letters)
    tones = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}
    by_vowel: dict[str, set[str]] = {}
    for ch in lower:
        decomposed = unicodedata.normalize("NFD", ch)
        vowel = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
        by_vowel.setdefault(vowel, set()).add(ch)
    assert sorted(by_vowel) == sorted("aăâeêioôơuưy")
    assert all(len(variants) == 6 for variants in by_vowel.values())


def test_test_page_prints_the_vowel_line(monkeypatch: pytest.MonkeyPatch) -> None:
    full = slips.render(_test_page(384), 384)
    monkeypatch.setattr(slips, "VOWEL_LINE", "a")
    short = slips.render(_test_page(384), 384)
    assert short.height < full.height


def test_test_page_ruler_spans_the_whole_paper() -> None:
    for width in WIDTHS:
        grid = _black(slips.render(_test_page(width), width))
        ruler = next(row for row in reversed(grid) if all(row))  # the ruler's base line, edge to edge
        assert len(ruler) == width
        bottom = grid[-len(grid) // 8:]
        assert any(row[0] for row in bottom) and any(row[width - 1] for row in bottom)


def test_test_page_shows_paper_width_in_mm() -> None:
    assert slips._millimetres(576) == "72"
    assert slips._millimetres(384) == "48"
    assert slips._millimetres(500) == "62,5"
    assert _height(_test_page(384)) != _height(replace(_test_page(384), uri=""))


# --- the web form's QR (issue 14) ---------------------------------------------------------------------------------

SURVEY = "https://kiosk.lamdong.gov.vn/f/XA/Q01"


@pytest.mark.parametrize("width", WIDTHS)
def test_rating_slip_carries_the_web_forms_qr_when_set(width: int) -> None:
    image = slips.render(_rating(feedback_url="", survey_url=SURVEY), width)
    assert _read_qr(image) in _qr_matrices(SURVEY)
    # With both set, the web form's comes first (the feedback QR follows under the contacts).
    both = slips.render(_rating(feedback_url=FEEDBACK, survey_url=SURVEY), width)
    assert _read_qr(both) in _qr_matrices(SURVEY) and both.height > image.height


def test_no_survey_url_no_web_form_qr() -> None:
    assert _read_qr(slips.render(_rating(feedback_url="", survey_url=""), 384)) is None
    assert _height(_rating(survey_url="")) < _height(_rating(survey_url=SURVEY))
