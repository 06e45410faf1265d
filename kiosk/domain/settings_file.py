"""Settings files as both the kiosk and the server read them: TOML, checked into typed dataclasses, every error
naming the file and the exact key in Vietnamese and English."""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.domain.errors import BilingualError

_TYPE_WORDS: dict[type, tuple[str, str]] = {
    str: ("một chuỗi ký tự", "a string"),
    int: ("một số nguyên", "an integer"),
    float: ("một số", "a number"),
    bool: ("true hoặc false", "true or false"),
    list: ("một danh sách", "a list"),
    dict: ("một bảng [..]", "a table"),
}



class SettingsError(BilingualError):
    """A settings file that cannot be used, naming the file and the key."""

    def __init__(self, path: Path | None, key: str, vi: str, en: str) -> None:
        where = str(path) if path else "(mặc định / defaults)"
        super().__init__(f"{where}: khoá «{key}»: {vi}", f"{where}: key '{key}': {en}")
        self.path = path
        self.key = key


def describe(value: Any) -> tuple[str, str]:
    """A value and its TOML type in words, for a message: ('một số nguyên 3', 'an integer 3')."""
    words = _TYPE_WORDS.get(type(value), (type(value).__name__, type(value).__name__))
    return words[0] + f" {value!r}", words[1] + f" {value!r}"


def build_dataclass(cls: type[Any], data: Any, path: Path | None, prefix: str) -> Any:
    """Validate one TOML table into the dataclass `cls`, naming the exact key on any error."""
    if not isinstance(data, dict):
        got_vi, got_en = describe(data)
        raise SettingsError(path, prefix, f"cần một bảng [{prefix}], nhận được {got_vi}",
                            f"expected a table [{prefix}], got {got_en}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    for key in data:
        if key not in known:
            full = f"{prefix}.{key}" if prefix else key
            raise SettingsError(path, full, "khoá không được hỗ trợ (gõ nhầm?); các khoá hợp lệ: "
                                + ", ".join(known), "unknown key (a typo?); valid keys: " + ", ".join(known))
    values: dict[str, Any] = {}
    for name, fld in known.items():
        full = f"{prefix}.{name}" if prefix else name
        if name not in data:
            if fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
                raise SettingsError(path, full, "thiếu khoá bắt buộc", "required key is missing")
            continue
        values[name] = _convert(hints[name], data[name], path, full)
    return cls(**values)


def _convert(hint: Any, value: Any, path: Path | None, key: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return build_dataclass(typing.cast(type, hint), value, path, key)
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        if not isinstance(value, list):
            got_vi, got_en = describe(value)
            raise SettingsError(path, key, f"cần một danh sách, nhận được {got_vi}",
                                f"expected a list, got {got_en}")
        return [_convert(item_hint, item, path, f"{key}[{i}]") for i, item in enumerate(value)]
    if origin in (types.UnionType, typing.Union):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    expected = typing.cast(type, hint)
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        want_vi, want_en = _TYPE_WORDS.get(expected, (expected.__name__, expected.__name__))
        got_vi, got_en = describe(value)
        raise SettingsError(path, key, f"cần {want_vi}, nhận được {got_vi}",
                            f"expected {want_en}, got {got_en}")
    return value


# Tables and lists inside each other: the deepest real setting ([[officers]] in a list) is 3; more than this is
# a damaged or hostile file, refused before anything walks it (tomllib itself recurses, and fails with a
# RecursionError past about a thousand).
MAX_NESTING = 32


def _nesting(value: Any) -> int:
    """How deep tables and lists go inside `value` (a scalar is 0), without recursing."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_NESTING:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(path: Path | None) -> SettingsError:
    return SettingsError(path, "(cấu trúc / structure)",
                         f"bảng và danh sách lồng nhau quá sâu (quá {MAX_NESTING} tầng); tệp cấu hình hỏng?",
                         f"tables and lists are nested too deeply (more than {MAX_NESTING} levels); "
                         "is the settings file damaged?")


def toml_table(text: str, path: Path | None) -> dict[str, Any]:
    """The TOML text as a table, or a SettingsError naming the file and the syntax error or excessive nesting."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(path, "(cú pháp / syntax)", f"tệp TOML không hợp lệ: {exc}",
                            f"not valid TOML: {exc}") from None
    except RecursionError:
        raise _too_deep(path) from None
    if _nesting(data) > MAX_NESTING:
        raise _too_deep(path)
    return data


def read_settings_file(path: Path) -> str:
    """A settings file's text, or a SettingsError saying it is missing or unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(path, "(tệp / file)", "không tìm thấy tệp cấu hình",
                            "settings file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(path, "(tệp / file)", f"không đọc được tệp: {exc}",
                            f"cannot read the file: {exc}") from None


def check_ranges(path: Path | None, ranges: Mapping[str, tuple[float, float, float]]) -> None:
    """Each named value (key: (value, lowest, highest)) within its bounds, both included, or a SettingsError."""
    for key, (value, low, high) in ranges.items():
        if not low <= value <= high:
            raise SettingsError(path, key, f"phải từ {low:g} đến {high:g}, nhận được {value:g}",
                                f"must be from {low:g} to {high:g}, got {value:g}")
