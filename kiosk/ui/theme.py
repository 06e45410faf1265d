"""What every screen shares: the language shown, the size unit, the colours, and text lookup."""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.properties import NumericProperty, StringProperty
from kivy.utils import get_color_from_hex

from kiosk import i18n
from kiosk.domain.levels import level

# High-contrast palette for older eyes: dark text on a light ground, a deep blue for actions.
INK = get_color_from_hex("#1B1F24")
MUTED = get_color_from_hex("#4A5561")
GROUND = get_color_from_hex("#F4F6F8")
CARD = get_color_from_hex("#FFFFFF")
PRIMARY = get_color_from_hex("#0B4F9C")
PRIMARY_DARK = get_color_from_hex("#083B75")
ACCENT = get_color_from_hex("#B71C1C")
ON_PRIMARY = get_color_from_hex("#FFFFFF")
DESIGN_HEIGHT = 1080.0  # sizes in the .kv files are pixels at 1080 lines, scaled by `u`


def level_colour(value: int) -> list[float]:
    """The RGBA colour of a level's face."""
    return list(get_color_from_hex(level(value).colour))


class UiState(EventDispatcher):
    """Shared view state; screens bind to `lang` and `u` so text and sizes follow changes at once."""

    lang = StringProperty("vi")
    u = NumericProperty(1.0)  # one design pixel at the current window height

    def t(self, key: str, lang: str, **values: Any) -> str:
        """Text for `key`; `lang` is passed in so kv rules re-run when the language changes."""
        return i18n.t(key, lang, **values)

    def resize(self, height: float) -> None:
        """Recompute the size unit for a window `height` pixels tall."""
        self.u = max(height, 480) / DESIGN_HEIGHT
