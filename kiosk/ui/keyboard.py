"""On-screen keyboards: the grid of keys they share, and the Vietnamese one (Telex typing on the letter page,
precomposed letters on a second page)."""

from __future__ import annotations

import unicodedata
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button

from kiosk import i18n
from kiosk.telex import TelexBuffer

Builder.load_file(__file__.replace(".py", ".kv"))

LETTER_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
BASE_VOWELS = "aăâeêioôơuưy"
TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # none, sắc, huyền, hỏi, ngã, nặng
SHIFT, BACKSPACE, SPACE, PAGE = "shift", "backspace", " ", "page"
Key = tuple[str, str, float]  # label, value, width weight


def toned_forms(vowel: str) -> list[str]:
    """The six forms of a vowel, from no tone to nặng, precomposed."""
    return [unicodedata.normalize("NFC", vowel + mark) for mark in TONES]


class KeyButton(Button):
    """One key; `value` is what it types, or a command name."""

    value = StringProperty("")
    lit = BooleanProperty(False)


class KeyGrid(BoxLayout):
    """Rows of keys, laid out anew when what they show changes; each keyboard says which keys and what they do."""

    ui = ObjectProperty(None)
    key_font = NumericProperty(34)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(key_font=self._build, ui=self._build)

    def rows(self) -> list[list[Key]]:
        """The keys, top row first."""
        raise NotImplementedError

    def lit(self, value: str) -> bool:
        """Whether the key for `value` shows as switched on."""
        return False

    def press(self, value: str) -> None:
        """Act on one key as if it were tapped."""
        raise NotImplementedError

    # Roboto has no ⇧ or ⌫ glyphs, and words are plainer for people new to screens anyway.
    def label(self, key: str) -> str:
        """A key's words from the string table, in the language shown (Vietnamese until the screen sets `ui`)."""
        return i18n.t(key, self.ui.lang if self.ui is not None else "vi")

    def letter_rows(self, upper: bool, modifier: str, erase: str) -> list[list[Key]]:
        """Digits and letters (capitals if `upper`), the capitals and erase keys either side of the last row."""
        rows = [[(ch.upper() if upper else ch, ch.upper() if upper else ch, 1.0) for ch in row] for row in LETTER_ROWS]
        rows[3] = [(self.label("keyboard.caps"), modifier, 1.5), *rows[3], (self.label("keyboard.erase"), erase, 1.5)]
        return rows

    def _build(self, *_args: Any) -> None:
        self.clear_widgets()
        for row in self.rows():
            line = BoxLayout(spacing=self.spacing)
            for label, value, weight in row:
                key = KeyButton(text=label, value=value, size_hint_x=weight, font_size=self.key_font)
                key.lit = self.lit(value)
                key.bind(on_release=self._on_key)
                line.add_widget(key)
            self.add_widget(line)

    def _on_key(self, key: KeyButton) -> None:
        self.press(key.value)


class VietKeyboard(KeyGrid):
    """Feeds a TelexBuffer; shift latches for one letter (a held modifier is hard on a touchscreen)."""

    text = StringProperty("")
    page = StringProperty("letters")  # "letters" (Telex) or "marks" (precomposed letters)
    shift = BooleanProperty(False)
    vowel = StringProperty("a")
    max_length = NumericProperty(1000)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.buffer = TelexBuffer(max_length=int(self.max_length))
        self.bind(page=self._build, shift=self._build, vowel=self._build, max_length=self._new_limit)
        self._build()

    def _new_limit(self, *_args: Any) -> None:
        self.buffer = TelexBuffer(self.buffer.text, max_length=int(self.max_length))

    def clear(self) -> None:
        """Empty the text being typed."""
        self.buffer.clear()
        self.text = self.buffer.text
        self.shift = False

    def rows(self) -> list[list[Key]]:
        """The keys for the current page."""
        def case(ch: str) -> str:
            return ch.upper() if self.shift else ch

        if self.page == "letters":
            rows = self.letter_rows(self.shift, SHIFT, BACKSPACE)
            rows.append([(self.label("keyboard.marks"), PAGE, 2.0), (",", ",", 1.0),
                         (self.label("keyboard.space"), SPACE, 5.0), (".", ".", 1.0), ("?", "?", 1.0)])
            return rows
        vowels = [(case(v), "vowel:" + v, 1.0) for v in BASE_VOWELS]
        forms = [(case(f), case(f), 1.0) for f in toned_forms(self.vowel)]
        return [
            vowels,
            [*forms, (case("đ"), case("đ"), 1.0)],
            [(self.label("keyboard.caps"), SHIFT, 1.5), (self.label("keyboard.erase"), BACKSPACE, 1.5)],
            [(self.label("keyboard.letters"), PAGE, 2.0), (self.label("keyboard.space"), SPACE, 5.0), (".", ".", 1.0)],
        ]

    def lit(self, value: str) -> bool:
        """Shift while it is latched, and the vowel whose forms are shown."""
        return (value == SHIFT and self.shift) or value == "vowel:" + self.vowel

    def press(self, value: str) -> None:
        """Act on one key as if it were tapped."""
        if value == SHIFT:
            self.shift = not self.shift
            return
        if value == PAGE:
            self.page = "marks" if self.page == "letters" else "letters"
            return
        if value.startswith("vowel:"):
            self.vowel = value.split(":", 1)[1]
            return
        if value == BACKSPACE:
            self.buffer.backspace()
        elif self.page == "marks" and value not in (SPACE, "."):
            self._append_literal(value)
        else:
            self.buffer.press(value)
        if self.shift and value not in (BACKSPACE, SPACE):
            self.shift = False
        self.text = self.buffer.text

    def _append_literal(self, letter: str) -> None:
        # A precomposed letter is final: the word typed so far becomes plain text, so Telex keys that
        # follow cannot re-compose it.
        current = self.buffer.text
        self.buffer = TelexBuffer(current + letter, max_length=int(self.max_length))
        if len(self.buffer.text) > int(self.max_length):
            self.buffer = TelexBuffer(current, max_length=int(self.max_length))
