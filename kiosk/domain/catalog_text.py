"""Cleaning the text of messy procedure exports: HTML fragments, entities, numbers as strings, fee wording.

Everything here takes whatever a JSON or CSV export holds and returns plain NFC text or a number, never
raising: what cannot be cleaned is kept as text.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import Any

from kiosk.domain.procedures import fold

# Tags that end a line when the text is shown without HTML; every other tag is removed.
_BREAKS = re.compile(r"<\s*(?:br|/?p|/?li|/?div|/?tr|/?h[1-6]|/?ul|/?ol|/?table)\b[^>]*>", re.IGNORECASE)
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
# Only things shaped like tags: "a < b" or "<5 tuổi" in a sentence is kept.
_TAGS = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_SPACES = re.compile(r"[^\S\n]+")
# Zero-width characters, soft hyphens and control characters (a NUL from a broken export) are dropped.
_DROPPED = "\u200b\u200c\u200d\u2060\ufeff\u00ad" + "".join(map(chr, (*range(0x00, 0x09), 0x0b, 0x0c,
                                                                      *range(0x0e, 0x20), 0x7f)))
_INVISIBLE = dict.fromkeys(map(ord, _DROPPED), None)
# Words separated by single ordinary spaces, with nothing to strip, decode or drop.
_WORD = f"[^\\s<&{re.escape(_DROPPED)}]+"
_PLAIN = re.compile(f"{_WORD}(?: {_WORD})*")

# One plain amount, Vietnamese thousands dots or none ("50.000", "50000", "50,000"), an optional currency
# word and an optional "/unit": "50.000 đồng/bản". Ranges, sums and sentences do not match.
_AMOUNT = re.compile(
    r"^\s*(?P<n>\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+|\d+)\s*"
    r"(?:(?:đồng|dong|vnđ|vnd|đ|d)\b\.?)?\s*(?:/\s*(?P<unit>[^\d/][^/]*))?\s*$",
    re.IGNORECASE,
)
_CURRENCY = frozenset({"dong", "vnd", "d", "vn dong", "viet nam dong"})


def clean(value: Any) -> str:
    """Plain NFC text from any JSON value: tags stripped, entities decoded, spaces collapsed, lines kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, list | tuple):
        return "\n".join(part for part in (clean(item) for item in value) if part)
    if isinstance(value, dict):
        return "\n".join(part for part in (clean(item) for item in value.values()) if part)
    text = str(value)
    # Most values are already plain, one-spaced NFC text: checked in C, they skip the work below.
    if _PLAIN.fullmatch(text) and unicodedata.is_normalized("NFC", text):
        return text
    if "<" in text:
        text = _COMMENTS.sub("", text)
        text = _BREAKS.sub("\n", text)
        text = _TAGS.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text.translate(_INVISIBLE)).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def one_line(value: Any) -> str:
    """Like clean(), on one line: for names, codes and short facts."""
    cleaned = clean(value)
    return cleaned.replace("\n", " ") if "\n" in cleaned else cleaned


def number_text(value: int | float) -> str:
    """A number as an export means it: 1.0 is "1", 1.5 stays "1.5"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def count(value: Any) -> int | None:
    """A count of copies: 1, "1", "01", " 2 ", 1.0; None for blank, negative or non-numeric values."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    text = one_line(value)
    return int(text) if text.isdigit() and text.isascii() else None


def amount(value: Any) -> tuple[int | None, str]:
    """(đồng, unit) when the value is one plain amount ("50.000", "50000 đồng/bản", 2000); else (None, "")."""
    if isinstance(value, bool) or value is None:
        return None, ""
    if isinstance(value, int | float):
        return (int(value), "") if float(value).is_integer() and value >= 0 else (None, "")
    match = _AMOUNT.match(one_line(value))
    if not match:
        return None, ""
    digits = re.sub(r"[.,]", "", match["n"])
    return int(digits), (match["unit"] or "").strip()


def fee_unit(value: Any) -> str:
    """What an amount is per, from an export's unit field: "đồng/bản" is "bản", "Đồng" alone is ""."""
    text = one_line(value)
    head, _, per = text.partition("/")
    if per:
        return per.strip()
    return "" if fold(head).strip().rstrip(".") in _CURRENCY else text


def money(amount_dong: int) -> str:
    """50000 as Vietnamese writes it: "50.000 đồng"."""
    return f"{amount_dong:,} đồng".replace(",", ".")


def stringify(value: Any) -> str:
    """An unknown field's value kept as text for Procedure.extra: text cleaned, structures as JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return clean(value)


def split_items(text: str) -> list[str]:
    """Lines of a spreadsheet cell, split on newlines and "|", with bullets and numbering removed."""
    items = []
    for part in re.split(r"[\n|]", text):
        # A bullet or "1." only when a space follows: "2.000 đồng/trang" keeps its number.
        part = re.sub(r"^\s*(?:•|(?:[-+*–]|\d{1,2}[.)])(?=\s))\s*", "", part).strip()
        if part:
            items.append(part)
    return items


def iso_to_vn_date(text: str) -> str:
    """ "2014-11-20" or "2014-11-20T00:00:00" as "20/11/2014"; other text unchanged."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+Z?)?", text.strip())
    return f"{match[3]}/{match[2]}/{match[1]}" if match else text


def slug(text: str) -> str:
    """A field code made from a field name when an export has none: "Hộ tịch" is "ho-tich"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
