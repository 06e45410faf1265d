"""Tests for the Telex input engine behind the on-screen keyboard."""

from __future__ import annotations

import random
import string
import unicodedata

import pytest

from kiosk.telex import TelexBuffer, compose

TONE_MARKS = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
# Keystrokes that make each vowel with a diacritic, and the vowel they make.
MARKED_VOWELS = [("aw", "ă"), ("aa", "â"), ("ee", "ê"), ("oo", "ô"), ("ow", "ơ"), ("uw", "ư")]


def typed(keys: str, max_length: int = 1000) -> TelexBuffer:
    buffer = TelexBuffer(max_length=max_length)
    for key in keys:
        buffer.press(key)
    return buffer


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        # Vowel and consonant marks.
        ("aa", "â"),
        ("aw", "ă"),
        ("ee", "ê"),
        ("oo", "ô"),
        ("ow", "ơ"),
        ("uw", "ư"),
        ("dd", "đ"),
        ("ddi", "đi"),
        ("ddaauf", "đầu"),
        ("dinhd", "đinh"),
        # ươ, however it is typed.
        ("dduwowngf", "đường"),
        ("nguwowif", "người"),
        ("truwowngf", "trường"),
        ("uow", "ươ"),
        ("uwow", "ươ"),
        ("uwo", "ươ"),
        ("nuowcs", "nước"),
        ("huwowu", "hươu"),
        ("thuowr", "thuở"),
        ("thuowng", "thương"),
        # A lone w.
        ("w", "ư"),
        ("tw", "tư"),
        ("nhwngx", "những"),
        ("wa", "ưa"),
        # Tones, typed anywhere after the vowel.
        ("kys", "ký"),
        ("tieengs", "tiếng"),
        ("tieesng", "tiếng"),
        ("tiesng", "tiếng"),
        ("hoaf", "hòa"),
        ("hoafn", "hoàn"),
        ("bas", "bá"),
        ("baf", "bà"),
        ("bar", "bả"),
        ("bax", "bã"),
        ("baj", "bạ"),
        ("trar", "trả"),
        ("xas", "xá"),
        ("sos", "só"),
        ("tifts", "tít"),
        # z and a second tone key.
        ("hoafz", "hoa"),
        ("tieengsz", "tiêng"),
        ("baz", "baz"),
        ("basf", "bà"),
        # Tone placement.
        ("thuyr", "thủy"),
        ("mias", "mía"),
        ("muas", "múa"),
        ("cais", "cái"),
        ("toans", "toán"),
        ("hoangf", "hoàng"),
        ("khuyeens", "khuyến"),
        ("ngoaif", "ngoài"),
        ("xoays", "xoáy"),
        ("khuyur", "khuỷu"),
        ("muoons", "muốn"),
        ("cuwus", "cứu"),
        ("muaf", "mùa"),
        ("cuwar", "cửa"),
        ("hoawcj", "hoặc"),
        ("xuaan", "xuân"),
        ("gias", "giá"),
        ("gif", "gì"),
        ("quas", "quá"),
        ("giuwax", "giữa"),
        ("quys", "quý"),
        ("quoocs", "quốc"),
        ("gieesng", "giếng"),
        ("giuwowngf", "giường"),
        ("nguyeenx", "nguyễn"),
        # Case.
        ("VIEETJ", "VIỆT"),
        ("Vieetj", "Việt"),
        ("DDawng", "Đăng"),
        ("DDUWOWNGF", "ĐƯỜNG"),
        ("W", "Ư"),
        ("Hoof Chis Minh", "Hồ Chí Minh"),
        # The same key twice undoes the mark and types the key.
        ("kyss", "kys"),
        ("baff", "baf"),
        ("aaa", "aa"),
        ("eee", "ee"),
        ("ooo", "oo"),
        ("aww", "aw"),
        ("oww", "ow"),
        ("uww", "uw"),
        ("ddd", "dd"),
        ("ww", "w"),
        ("tww", "tw"),
        # Not Vietnamese: what was typed, untouched.
        ("windows", "windows"),
        ("email", "email"),
        ("Facebook", "Facebook"),
        ("coffee", "coffee"),
        ("banana", "banana"),
        ("HCM", "HCM"),
        ("iPhone", "iPhone"),
        ("tift", "tift"),
        # Digits and punctuation pass through and separate words.
        ("2024", "2024"),
        ("Phongf 12, taangf 3.", "Phòng 12, tầng 3."),
        ("sos-kys", "só-ký"),
        ("", ""),
    ],
)
def test_compose(keys: str, expected: str) -> None:
    assert compose(keys) == expected


@pytest.mark.parametrize(("vowel_keys", "vowel"), MARKED_VOWELS)
@pytest.mark.parametrize("tone_key", list(TONE_MARKS))
@pytest.mark.parametrize("upper", [False, True])
def test_every_tone_on_every_marked_vowel(vowel_keys: str, vowel: str, tone_key: str, upper: bool) -> None:
    expected = unicodedata.normalize("NFC", vowel + TONE_MARKS[tone_key])
    keys = vowel_keys + tone_key
    if upper:
        keys, expected = keys.upper(), expected.upper()
    result = compose(keys)
    assert result == expected
    assert len(result) == 1  # one precomposed code point, not base + combining mark


@pytest.mark.parametrize(("vowel_keys", "vowel"), MARKED_VOWELS)
@pytest.mark.parametrize("tone_key", list(TONE_MARKS))
def test_tone_before_the_mark_and_after_a_final(vowel_keys: str, vowel: str, tone_key: str) -> None:
    toned = unicodedata.normalize("NFC", vowel + TONE_MARKS[tone_key])
    # The tone key may come before the second mark key, and after the final consonant.
    assert compose("m" + vowel_keys[0] + tone_key + vowel_keys[1] + "n") == "m" + toned + "n"
    assert compose("m" + vowel_keys + "n" + tone_key) == "m" + toned + "n"


@pytest.mark.parametrize(
    "keys", ["kys", "hoaf", "dduwowngf", "VIEETJ", "Hoof Chis Minh", "nguyeenx", "windows"]
)
def test_output_is_nfc(keys: str) -> None:
    result = compose(keys)
    assert unicodedata.is_normalized("NFC", result)
    assert not any(unicodedata.combining(char) for char in result)


# Words typed at a one-stop counter, in the tone placement of official documents.
OFFICIAL_LINES = (
    "Cộng hòa xã hội chủ nghĩa Việt Nam Độc lập Tự do Hạnh phúc Ủy ban nhân dân phường quận huyện tỉnh",
    "Bộ phận tiếp nhận và trả kết quả một cửa liên thông thủ tục hành chính",
    "đăng ký khai sinh kết hôn khai tử",
    "căn cước công dân chứng thực bản sao giấy tờ hồ sơ lệ phí thời gian giải quyết đánh giá mức độ hài lòng",
    "người dân doanh nghiệp cán bộ công chức thái độ phục vụ nhanh chóng chính xác minh bạch Nguyễn Trần Lê",
    "Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Ngô Dương Lý trường đường tầng số điện thoại địa chỉ thư",
    "khuyến khích ngoài giữa quý khách xin cảm ơn vui lòng chọn dịch vụ tiếng gửi nhận xét góp ý hướng dẫn",
    "nước uống khỏe mạnh thuở xưa giường khuya khuỷu hươu hoặc xoáy thuyền chuyện giếng gì quốc yêu cầu",
    "Hồ Chí Minh Hà Nội Đà Nẵng Huế Cần Thơ Hải Phòng Quảng Ngãi",
)
OFFICIAL_WORDS = list(dict.fromkeys(word for line in OFFICIAL_LINES for word in line.split()))
_TONE_KEYS = {mark: key for key, mark in TONE_MARKS.items()}
_MARK_KEYS = {"â": "aa", "ă": "aw", "ê": "ee", "ô": "oo", "ơ": "ow", "ư": "uw", "đ": "dd"}


def to_telex(word: str) -> tuple[str, str]:
    """Plain Telex keys for word, and its tone key ("" for none)."""
    tone = ""
    base = []
    for char in unicodedata.normalize("NFD", word):
        if char in _TONE_KEYS:
            tone = _TONE_KEYS[char]
        else:
            base.append(char)
    keys = ""
    for char in unicodedata.normalize("NFC", "".join(base)):
        mark = _MARK_KEYS.get(char.lower(), char)
        keys += mark.upper() if char.isupper() else mark
    return keys, tone


@pytest.mark.parametrize("word", OFFICIAL_WORDS)
def test_official_vocabulary_round_trips(word: str) -> None:
    keys, tone = to_telex(word)
    assert compose(keys + tone) == word
    # The tone key anywhere after the first vowel gives the same word.
    first_vowel = next(i for i, char in enumerate(keys.lower()) if char in "aeiouy")
    for pos in range(first_vowel + 1, len(keys)):
        assert compose(keys[:pos] + tone + keys[pos:]) == word, keys[:pos] + tone + keys[pos:]


def test_letters_without_telex_meaning_are_kept_exactly() -> None:
    rng = random.Random(1234)
    # None of these letters is a tone, mark or đ key, so nothing may change, drop or be added.
    alphabet = "bcghiklmnpqtuvyBCGHIKLMNPQTUVY0123456789 .,-"
    for _ in range(500):
        keys = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 15)))
        assert compose(keys) == keys


def test_random_keys_never_raise_and_stay_nfc() -> None:
    rng = random.Random(99)
    alphabet = string.ascii_letters + string.digits + " .,!?\n"
    for _ in range(2000):
        keys = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        result = compose(keys)
        assert unicodedata.is_normalized("NFC", result)
        # Every non-letter key comes out, in order.
        assert [c for c in result if not c.isalpha()] == [c for c in keys if not c.isalpha()]


def test_overlong_word_passes_through() -> None:
    keys = "dd" + "a" * 100 + "s"
    assert compose(keys) == keys


def test_buffer_composes_words_separated_by_space() -> None:
    assert typed("DDawng kys").text == "Đăng ký"
    assert typed("Hoof Chis Minh").text == "Hồ Chí Minh"


def test_buffer_shows_the_word_while_it_is_typed() -> None:
    buffer = TelexBuffer()
    seen = []
    for key in "dduwowngf":
        buffer.press(key)
        seen.append(buffer.text)
    assert seen == ["d", "đ", "đu", "đư", "đươ", "đươ", "đươn", "đương", "đường"]


def test_buffer_digits_punctuation_and_newline_pass_through() -> None:
    assert typed("Phongf 12, taangf 3.\nCamr own!").text == "Phòng 12, tầng 3.\nCảm ơn!"


def test_buffer_press_with_several_characters_types_each() -> None:
    buffer = TelexBuffer()
    buffer.press("Vieetj ")
    buffer.press("")
    buffer.press("Nam")
    assert buffer.text == "Việt Nam"


def test_backspace_undoes_the_last_keystroke_of_the_word() -> None:
    buffer = typed("dduwowngf")
    seen = []
    while buffer.text:
        buffer.backspace()
        seen.append(buffer.text)
    # The tone goes first; the w that turned "uwo" into ươ shows no change, so it goes with the o.
    assert seen == ["đương", "đươn", "đươ", "đư", "đu", "đ", "d", ""]


def test_backspace_removes_a_tone_then_a_mark() -> None:
    buffer = typed("Vieetj")
    buffer.backspace()
    assert buffer.text == "Viêt"
    buffer.backspace()
    assert buffer.text == "Viê"
    buffer.backspace()
    assert buffer.text == "Vie"


def test_backspace_after_space_deletes_committed_characters() -> None:
    buffer = typed("DDawng kys")
    buffer.backspace()  # the tone of ký
    buffer.backspace()
    buffer.backspace()
    assert buffer.text == "Đăng "
    buffer.backspace()
    assert buffer.text == "Đăng"
    # The committed word is plain text now: one character at a time, not keystroke by keystroke.
    buffer.backspace()
    assert buffer.text == "Đăn"
    buffer.press("s")
    assert buffer.text == "Đăns"


def test_backspace_on_initial_text_and_on_empty_buffer() -> None:
    buffer = TelexBuffer("Xin chào")
    buffer.backspace()
    assert buffer.text == "Xin chà"
    empty = TelexBuffer()
    empty.backspace()
    assert empty.text == ""


def test_typing_continues_after_initial_text() -> None:
    buffer = TelexBuffer("Xin chào")
    buffer.press(" ")
    for key in "banj":
        buffer.press(key)
    assert buffer.text == "Xin chào bạn"


def test_clear() -> None:
    buffer = typed("Vieetj Na")
    buffer.clear()
    assert buffer.text == ""
    buffer.press("m")
    assert buffer.text == "m"


def test_max_length_ignores_extra_keys() -> None:
    buffer = typed("xin chaof", max_length=5)
    assert buffer.text == "xin c"
    buffer.backspace()
    buffer.press("t")
    assert buffer.text == "xin t"


def test_max_length_still_accepts_keys_that_do_not_lengthen() -> None:
    buffer = typed("kys", max_length=2)
    assert buffer.text == "ký"
    buffer = typed("dduwowngf", max_length=5)
    assert buffer.text == "đường"
    buffer.press(" ")
    assert buffer.text == "đường"


def test_max_length_cuts_initial_text_and_rejects_negative() -> None:
    assert TelexBuffer("Hà Nội", max_length=4).text == "Hà N"
    assert TelexBuffer("abc", max_length=0).text == ""
    with pytest.raises(ValueError):
        TelexBuffer(max_length=-1)


def test_buffer_text_is_always_nfc() -> None:
    buffer = TelexBuffer("Ha\u0300 ")  # decomposed input from elsewhere
    assert buffer.text == "Hà "
    buffer.press("\u0301")
    assert unicodedata.is_normalized("NFC", buffer.text)


def test_random_typing_respects_max_length_and_backspaces_to_empty() -> None:
    rng = random.Random(7)
    alphabet = string.ascii_letters + "sfrxjzwdaeo" * 3 + " 1.,\n"
    for _ in range(300):
        limit = rng.randint(0, 12)
        buffer = TelexBuffer(max_length=limit)
        keys = [rng.choice(alphabet) for _ in range(rng.randint(0, 30))]
        for key in keys:
            buffer.press(key)
            assert len(buffer.text) <= limit
            assert unicodedata.is_normalized("NFC", buffer.text)
            if rng.random() < 0.1:
                buffer.backspace()
                assert len(buffer.text) <= limit
        # Every backspace removes at least one keystroke or character, so this many always suffice.
        for _ in range(len(keys)):
            buffer.backspace()
        assert buffer.text == ""
