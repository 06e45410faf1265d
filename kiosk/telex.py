"""Vietnamese Telex input for the kiosk's on-screen keyboard (the common Unikey Telex behaviour).

Standard library only, so the keyboard logic can be tested without Kivy or a screen.

Each word is recomposed from its raw keystrokes on every key press rather than edited in place:
that keeps free tone placement, undo by double keys and backspace-by-keystroke simple and exact.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["TelexBuffer", "compose"]

_TONE_MARKS: dict[str, str] = {
    "s": "\u0301",  # sắc
    "f": "\u0300",  # huyền
    "r": "\u0309",  # hỏi
    "x": "\u0303",  # ngã
    "j": "\u0323",  # nặng
}
_VOWELS = frozenset("aăâeêioôơuưy")
_MARKED_VOWELS = frozenset("ăâêôơư")
# Letters a hat key (aa, ee, oo) acts on, and what it turns them into.
_HAT_FAMILY: dict[str, str] = {"a": "aăâ", "e": "eê", "o": "oôơ"}
_HAT: dict[str, str] = {"a": "â", "e": "ê", "o": "ô"}
# Consonants that may follow the vowels while a mark is still typed: "toans", "tieengs", "anw".
_FINAL_PREFIXES = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})
# Only sắc and nặng are possible before a stop consonant; anything else means "not Vietnamese".
_STOP_FINALS = ("c", "ch", "p", "t")
_ROUGH_TONES = frozenset("frx")

_INITIALS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
)  # fmt: skip

_RHYMES = frozenset(
    rhyme
    for line in (
        "a ai ao au ay ac ach am an ang anh ap at",
        "ăc ăm ăn ăng ăp ăt",
        "âc âm ân âng âp ât âu ây",
        "e eo ec em en eng ep et",
        "ê êu êch êm ên êng ênh êp êt",
        "i ia iu ich im in inh ip it",
        "iêc iêm iên iêng iêp iêt iêu",
        "o oi oc om on ong op ot oong ooc",
        "ô ôi ôc ôm ôn ông ôp ôt",
        "ơ ơi ơm ơn ơp ơt",
        "u ua ui uc um un ung up ut",
        "uôc uôi uôm uôn uông uôt",
        "ư ưa ưi ưu ưc ưm ưn ưng ưt",
        "ươc ươi ươm ươn ương ươp ươt ươu",
        "y yêm yên yêng yêt yêu",
        "oa oai oay oac oach oam oan oang oanh oap oat",
        "oăc oăm oăn oăng oăt",
        "oe oeo oem oen oet",
        "uân uâng uât uây",
        "uê uêch uênh",
        "uy uya uych uyn uynh uyp uyt uyu uyên uyêt",
        "uơ",
    )
    for rhyme in line.split()
)
# After "qu" the u is already spent, and the o-glide of "hoa", "khoe", "hoặc" is written u: "qua", "que".
_QU_RHYMES = frozenset(r[1:] for r in _RHYMES if len(r) > 1 and r[0] in "ou" and r[1] in "aăâeêiyôơ")


def _prefixes(words: frozenset[str]) -> frozenset[str]:
    """Every non-empty prefix of the given words."""
    return frozenset(w[:i] for w in words for i in range(1, len(w) + 1))


# Prefixes, not whole rhymes: the word on screen is checked after every key, mid-syllable.
_RHYME_PREFIXES = _prefixes(_RHYMES)
_QU_RHYME_PREFIXES = _prefixes(_QU_RHYMES)
_INITIAL_PREFIXES = _prefixes(frozenset(_INITIALS)) | {""}

# No Vietnamese syllable needs this many keys ("nghieengx" is 9); longer runs are passed through
# untouched so a pasted or mashed string cannot make every key press quadratic.
_MAX_WORD_KEYS = 32
_WORD_OR_OTHER = re.compile(r"[A-Za-z]+|[^A-Za-z]+")


@dataclass(slots=True)
class _Letter:
    char: str  # lower case; may carry a vowel mark or be đ, never a tone
    upper: bool
    lone_w: bool = False  # an ư typed as a bare w, so that "ww" gives back "w" as Unikey does


def _vowel_run(chars: list[str]) -> tuple[int, int] | None:
    """Span of the last run of vowels, or None if the word has no vowel."""
    end = len(chars)
    while end and chars[end - 1] not in _VOWELS:
        end -= 1
    if end == 0:
        return None
    start = end - 1
    while start and chars[start - 1] in _VOWELS:
        start -= 1
    return start, end


def _open_nucleus(chars: list[str]) -> tuple[int, int] | None:
    """Span of the vowels a mark or tone key may still act on, if any."""
    span = _vowel_run(chars)
    if span is None or "".join(chars[span[1] :]) not in _FINAL_PREFIXES:
        # Vowels followed by something that cannot end a syllable: the key is a plain letter.
        return None
    return span


def _skip_onset_glide(chars: list[str], start: int, end: int) -> int:
    """Start of the real vowels once the i of "gi" and the u of "qu" are counted with the consonant."""
    if start == 1 and end - start > 1 and chars[0] + chars[1] in ("gi", "qu"):
        return 2
    return start


def _tone_position(chars: list[str], start: int, end: int) -> int:
    """Index of the vowel that carries the tone, following the rule of official documents."""
    has_final = end < len(chars)
    start = _skip_onset_glide(chars, start, end)
    marked = [i for i in range(start, end) if chars[i] in _MARKED_VOWELS]
    if marked:
        # The last one, so that ươ takes it on ơ.
        return marked[-1]
    count = end - start
    if count >= 3:
        return start + 1
    if count == 2:
        return start + 1 if has_final else start
    return start


def _is_plausible(base: str, tone: str | None) -> bool:
    """Whether base (lower case, no tone) could be the start of a Vietnamese syllable with that tone."""
    if not any(c in _VOWELS for c in base):
        return base in _INITIAL_PREFIXES
    for initial in _INITIALS:
        if not base.startswith(initial):
            continue
        rest = base[len(initial) :]
        if not rest:
            # Only "gi" and "qu" hold a vowel and can stand alone ("gì").
            return True
        if rest not in (_QU_RHYME_PREFIXES if initial == "qu" else _RHYME_PREFIXES):
            continue
        if tone in _ROUGH_TONES and rest.endswith(_STOP_FINALS):
            continue
        return True
    return False


class _Word:
    """One word being composed, key by key."""

    def __init__(self) -> None:
        self.letters: list[_Letter] = []
        self.tone: str | None = None
        # A double key that undid a mark deliberately leaves a non-Vietnamese word ("kyss" → "kys"),
        # which must not then be "restored" to the raw keys.
        self.ended_with_undo = False

    def _chars(self) -> list[str]:
        return [letter.char for letter in self.letters]

    def _append(self, key: str) -> None:
        self.letters.append(_Letter(key.lower(), key.isupper()))

    def _undo_with(self, key: str) -> None:
        self._append(key)
        self.ended_with_undo = True

    def _nucleus(self) -> tuple[int, int] | None:
        chars = self._chars()
        span = _open_nucleus(chars)
        if span is None:
            return None
        return _skip_onset_glide(chars, *span), span[1]

    def press(self, key: str) -> None:
        """Apply one ASCII letter key."""
        self.ended_with_undo = False
        low = key.lower()
        if low in _TONE_MARKS:
            self._press_tone(key, low)
        elif low == "z":
            if self.tone is not None and self._nucleus() is not None:
                self.tone = None
            else:
                self._append(key)
        elif low in _HAT:
            self._press_hat(key, low)
        elif low == "w":
            self._press_w(key)
        elif low == "d":
            self._press_d(key)
        else:
            self._append(key)

    def _press_tone(self, key: str, tone: str) -> None:
        if self._nucleus() is None:
            # "tr", "s", "x" at the start of a word are consonants.
            self._append(key)
        elif self.tone == tone:
            self.tone = None
            self._undo_with(key)
        else:
            self.tone = tone

    def _press_hat(self, key: str, low: str) -> None:
        span = self._nucleus()
        if span is not None:
            for i in reversed(range(*span)):
                letter = self.letters[i]
                if letter.char in _HAT_FAMILY[low]:
                    if letter.char == _HAT[low]:
                        letter.char = low
                        self._undo_with(key)
                    else:
                        letter.char = _HAT[low]
                    return
        self._append(key)

    def _press_w(self, key: str) -> None:
        span = self._nucleus()
        if span is None:
            if any(letter.char in _VOWELS for letter in self.letters):
                self._append(key)
            else:
                self.letters.append(_Letter("ư", key.isupper(), lone_w=True))
            return
        start, end = span
        nucleus = self.letters[start:end]
        for first, second in itertools.pairwise(nucleus):
            if first.char in "uư" and second.char in "oôơ":
                if first.char == "ư" and second.char == "ơ":
                    self._unmark_u(first)
                    second.char = "o"
                    self._undo_with(key)
                else:
                    first.char, second.char = "ư", "ơ"
                return
        for plain, marked in (("aâ", "ă"), ("oô", "ơ")):
            for letter in nucleus:
                if letter.char in plain:
                    letter.char = marked
                    return
                if letter.char == marked:
                    letter.char = plain[0]
                    self._undo_with(key)
                    return
        for letter in nucleus:
            if letter.char == "u":
                letter.char = "ư"
                return
            if letter.char == "ư":
                was_lone_w = letter.lone_w
                self._unmark_u(letter)
                if was_lone_w:
                    # The first w comes back, so this one is consumed: "ww" gives "w".
                    self.ended_with_undo = True
                else:
                    self._undo_with(key)
                return
        self._append(key)

    @staticmethod
    def _unmark_u(letter: _Letter) -> None:
        # An ư that came from a bare w goes back to being that w, so no keystroke is lost.
        letter.char = "w" if letter.lone_w else "u"
        letter.lone_w = False

    def _press_d(self, key: str) -> None:
        if self.letters and self.letters[0].char in "dđ":
            first = self.letters[0]
            if first.char == "d":
                first.char = "đ"
            else:
                first.char = "d"
                self._undo_with(key)
            return
        self._append(key)

    def base(self) -> list[str]:
        """The word's lower-case letters without the tone, with the spelling fixes Unikey makes."""
        chars = self._chars()
        for i in range(len(chars) - 1):
            # "uwo" is how many people type ươ; ưo itself is never Vietnamese.
            if chars[i] == "ư" and chars[i + 1] == "o":
                chars[i + 1] = "ơ"
        # "thuở", "huơ" and "khuơ" end in uơ, while ươ needs a final or a vowel after it ("thương"):
        # deciding at render time lets "thuowng" still come out right when the n arrives.
        if "".join(chars[-2:]) == "ươ" and "".join(chars[:-2]) in ("h", "th", "kh"):
            chars[-2] = "u"
        span = _open_nucleus(chars)
        if self.tone is not None and span is not None:
            start, end = span
            # "tiesng": with a tone typed, i/y + e + a final can only be iê/yê, so give e its hat.
            for i in range(start + 1, end):
                closed = end < len(chars) or (i + 1 < end and chars[i + 1] == "u")
                if chars[i] == "e" and chars[i - 1] in "iy" and closed:
                    chars[i] = "ê"
        return chars

    def render(self) -> str:
        """The word as Vietnamese text."""
        chars = self.base()
        span = _open_nucleus(chars) or _vowel_run(chars)
        if self.tone is not None and span is not None:
            pos = _tone_position(chars, *span)
            chars[pos] = unicodedata.normalize("NFC", chars[pos] + _TONE_MARKS[self.tone])
        return "".join(
            char.upper() if letter.upper else char for char, letter in zip(chars, self.letters, strict=True)
        )

    def is_plausible(self) -> bool:
        """Whether the composed word could be (the start of) a Vietnamese syllable."""
        return _is_plausible("".join(self.base()), self.tone)


def _compose_word(keys: str) -> str:
    """Compose one run of ASCII letters."""
    if len(keys) > _MAX_WORD_KEYS:
        return keys
    word = _Word()
    for key in keys:
        word.press(key)
    if word.ended_with_undo or word.is_plausible():
        return word.render()
    # Not Vietnamese ("windows", "Facebook", "coffee"): show exactly what was typed.
    return keys


def compose(keys: str) -> str:
    """Turn one word's raw Telex keystrokes into Vietnamese text."""
    # Anything but an ASCII letter separates words and passes through, so a phrase works too.
    parts = (
        _compose_word(part) if part[0].isascii() and part[0].isalpha() else part
        for part in _WORD_OR_OTHER.findall(keys)
    )
    return unicodedata.normalize("NFC", "".join(parts))


def _is_telex_key(char: str) -> bool:
    return char.isascii() and char.isalpha()


class TelexBuffer:
    """Text being typed on the on-screen keyboard, composing the current word with Telex."""

    def __init__(self, text: str = "", max_length: int = 1000) -> None:
        """Start from text (cut to max_length) with no word being composed."""
        if max_length < 0:
            raise ValueError(f"max_length must not be negative, got {max_length}")
        self._max_length = max_length
        self._committed = unicodedata.normalize("NFC", text)[:max_length]
        self._keys = ""  # raw keystrokes of the word being composed
        self._word = ""  # compose(self._keys), kept so reading text costs nothing

    @property
    def text(self) -> str:
        """The committed text followed by the composed current word."""
        return self._committed + self._word

    def press(self, key: str) -> None:
        """Type one key (a longer string is typed character by character)."""
        for char in key:
            self._press_char(char)

    def _press_char(self, char: str) -> None:
        if _is_telex_key(char):
            keys = self._keys + char
            word = _compose_word(keys)
            if len(self._committed) + len(word) <= self._max_length:
                self._keys, self._word = keys, word
            return
        committed = unicodedata.normalize("NFC", self._committed + self._word + char)
        if len(committed) <= self._max_length:
            self._committed, self._keys, self._word = committed, "", ""

    def backspace(self) -> None:
        """Undo the current word's last keystroke, or delete the last committed character."""
        if not self._keys:
            self._committed = self._committed[:-1]
            return
        keys, word = self._keys, self._word
        while keys:
            keys = keys[:-1]
            word = _compose_word(keys)
            # A keystroke whose removal shows no change (the w of "uwow") would make the key feel dead.
            if word != self._word and len(self._committed) + len(word) <= self._max_length:
                break
        self._keys, self._word = keys, word

    def clear(self) -> None:
        """Remove all text."""
        self._committed = self._keys = self._word = ""
