"""Kiosk settings: TOML read with tomllib and validated into typed objects at start-up."""

from __future__ import annotations

import base64
import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk import printer_uri
from kiosk.domain.levels import PROCEDURE_CODE
from kiosk.domain.settings_file import (
    SettingsError,
    build_dataclass,
    check_ranges,
    describe,
    read_settings_file,
    toml_table,
)


@dataclass(frozen=True)
class Agency:
    """The public administrative service centre this kiosk serves."""

    name: str = "Trung tâm Phục vụ hành chính công"
    parent: str = ""  # the province or commune it belongs to; no district level since 1 July 2025
    code: str = ""


@dataclass(frozen=True)
class Counter:
    """The counter (quầy) the kiosk stands beside."""

    id: str = "Q01"
    name: str = "Quầy tiếp nhận và trả kết quả"
    # Codes of the procedures most used at this counter; after a rating the citizen may pick one of them.
    procedures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Officer:
    """An officer who may be on duty at this counter."""

    id: str
    name: str
    title: str = ""
    photo: str = ""


@dataclass(frozen=True)
class Contact:
    """Where citizens call or write with complaints; printed on slips and shown on screens."""

    hotline: str = ""
    complaint_address: str = ""
    email: str = ""
    website: str = ""
    feedback_url: str = ""
    # The central server's web form for this counter (e.g. https://kiosk.tinh.gov.vn/f/XA/Q01): when set, the
    # rating slip carries its QR; empty: no QR.
    survey_url: str = ""
    # The central server's public procedure catalog (e.g. https://kiosk.tinh.gov.vn/thu-tuc): when set, the QR for
    # a procedure's forms leads to its page there, which lists them all; empty: to the first form's own address.
    catalog_url: str = ""


@dataclass(frozen=True)
class UI:
    """How the screens behave."""

    languages: list[str] = field(default_factory=lambda: ["vi", "en"])
    default_language: str = "vi"
    fullscreen: bool = True
    idle_timeout_s: int = 60
    thanks_timeout_s: int = 8
    followups: bool = True
    repeat_window_s: int = 20
    touch_guard_ms: int = 600


@dataclass(frozen=True)
class Staff:
    """Staff mode: how it is opened and the PIN that guards it."""

    pin_hash: str = ""
    long_press_s: float = 3.0
    max_attempts: int = 5
    lockout_s: int = 60


@dataclass(frozen=True)
class Printer:
    """The slip printer: where it is (a device URI), its model, and when a rating slip is printed."""

    uri: str = "none"
    profile: str = "TM-T20II"
    width_dots: int = 0  # 0: the paper width of the profile's model
    timeout_s: int = 10
    rating_slip: str = "ask"  # ask: an "In phiếu" button; always: after every rating; never


@dataclass(frozen=True)
class Sync:
    """The central server and the sync agent (`kiosk-sync`, and the app's background pass)."""

    server_url: str = "http://127.0.0.1:8080"  # offered at enrolment; after it, the enrolled server is used
    enabled: bool = False  # the app's background pass; the nightly timer runs either way
    interval_min: int = 0  # minutes between the app's background passes; 0: only the nightly timer
    ca_file: str = ""  # a CA bundle for a server whose certificate no system CA signed (relative: to this file)
    budget_s: int = 900  # the most one pass may take, waits and retries included
    timeout_s: int = 30  # connect and read timeout of one request


@dataclass(frozen=True)
class Settings:
    """Everything the kiosk reads from its settings file."""

    agency: Agency = field(default_factory=Agency)
    counter: Counter = field(default_factory=Counter)
    officers: list[Officer] = field(default_factory=list)
    contact: Contact = field(default_factory=Contact)
    ui: UI = field(default_factory=UI)
    staff: Staff = field(default_factory=Staff)
    printer: Printer = field(default_factory=Printer)
    sync: Sync = field(default_factory=Sync)
    source: Path | None = None

    def officer(self, officer_id: str | None) -> Officer | None:
        """The officer with this id, or None."""
        return next((o for o in self.officers if o.id == officer_id), None)


LANGUAGES = ("vi", "en")
RATING_SLIP_MODES = ("ask", "always", "never")


def _is_pin_hash(value: str) -> bool:
    """The shape `kiosk pin set` writes, scrypt$N$r$p$salt$hash: a truncated copy would lock staff out."""
    parts = value.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(p.isascii() and p.isdigit() for p in parts[1:4]):
        return False
    try:
        return all(base64.b64decode(p, validate=True) for p in parts[4:])
    except ValueError:
        return False


def _check(settings: Settings) -> None:
    """Rules that go beyond types: ranges, known languages, unique ids."""
    path = settings.source
    ui = settings.ui
    for i, lang in enumerate(ui.languages):
        if lang not in LANGUAGES:
            raise SettingsError(path, f"ui.languages[{i}]", f"ngôn ngữ {lang!r} chưa có; dùng: vi, en",
                                f"language {lang!r} is not available; use: vi, en")
    if not ui.languages:
        raise SettingsError(path, "ui.languages", "cần ít nhất một ngôn ngữ", "at least one language is needed")
    if ui.default_language not in ui.languages:
        raise SettingsError(path, "ui.default_language", "phải là một trong ui.languages",
                            "must be one of ui.languages")
    ranges = {
        "ui.idle_timeout_s": (ui.idle_timeout_s, 10, 3600),
        "ui.thanks_timeout_s": (ui.thanks_timeout_s, 2, 120),
        "ui.repeat_window_s": (ui.repeat_window_s, 0, 3600),
        "ui.touch_guard_ms": (ui.touch_guard_ms, 0, 5000),
        "staff.max_attempts": (settings.staff.max_attempts, 1, 100),
        "staff.lockout_s": (settings.staff.lockout_s, 1, 86400),
        "staff.long_press_s": (settings.staff.long_press_s, 0.5, 30),
        "sync.interval_min": (settings.sync.interval_min, 0, 1440),
    }
    check_ranges(path, ranges)
    printer = settings.printer
    try:
        printer_uri.parse(printer.uri)
    except printer_uri.PrinterUriError as exc:
        raise SettingsError(path, "printer.uri", exc.vi, exc.en) from None
    if printer.rating_slip not in RATING_SLIP_MODES:
        raise SettingsError(path, "printer.rating_slip", "phải là ask, always hoặc never",
                            "must be ask, always or never")
    if printer.width_dots and not 256 <= printer.width_dots <= 832:
        raise SettingsError(path, "printer.width_dots", "phải là 0 (theo mẫu máy) hoặc từ 256 đến 832",
                            "must be 0 (the model's width) or 256 to 832")
    if not 1 <= printer.timeout_s <= 120:
        raise SettingsError(path, "printer.timeout_s", "phải từ 1 đến 120", "must be from 1 to 120")
    if not settings.counter.id.strip():
        raise SettingsError(path, "counter.id", "không được để trống", "must not be empty")
    _check_procedures(path, "counter.procedures", settings.counter.procedures)
    seen: set[str] = set()
    for i, officer in enumerate(settings.officers):
        if not officer.id.strip() or officer.id in seen:
            raise SettingsError(path, f"officers[{i}].id", "trống hoặc trùng với cán bộ khác",
                                "empty or the same as another officer's")
        seen.add(officer.id)
    _check_sync(settings)
    _check_survey_url(settings)
    if settings.staff.pin_hash and not _is_pin_hash(settings.staff.pin_hash):
        raise SettingsError(path, "staff.pin_hash", "không phải mã băm do «kiosk pin set» tạo ra",
                            "is not a hash made by 'kiosk pin set'")


def _check_procedures(path: Path | None, key: str, codes: list[str]) -> None:
    """Procedure codes in the national form (kiosk.domain.levels.PROCEDURE_CODE), as the rating log will take them."""
    for i, code in enumerate(codes):
        if not PROCEDURE_CODE.fullmatch(code):
            raise SettingsError(path, f"{key}[{i}]", f"{code!r} không phải mã thủ tục dạng quốc gia (ví dụ 1.001193)",
                                f"{code!r} is not a national procedure code (e.g. 1.001193)")


def _check_survey_url(settings: Settings) -> None:
    """[contact] survey_url and catalog_url: empty, or an http(s) address a phone can open."""
    for key, url in (("survey_url", settings.contact.survey_url), ("catalog_url", settings.contact.catalog_url)):
        parts = urlsplit(url)
        if url and (parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url)):
            raise SettingsError(settings.source, f"contact.{key}", f"cần một địa chỉ http:// hoặc https://, nhận "
                                f"được {url!r}", f"expected an http:// or https:// URL, got {url!r}")


def _check_sync(settings: Settings) -> None:
    """The [sync] table: a usable server URL and sane limits."""
    path, sync = settings.source, settings.sync
    parts = urlsplit(sync.server_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(path, "sync.server_url", f"cần một địa chỉ http:// hoặc https://, nhận được "
                            f"{sync.server_url!r}", f"expected an http:// or https:// URL, got {sync.server_url!r}")
    check_ranges(path, {"sync.budget_s": (sync.budget_s, 10, 86400), "sync.timeout_s": (sync.timeout_s, 1, 300)})
    if sync.enabled and sync.interval_min == 0:
        raise SettingsError(path, "sync.interval_min", "phải từ 1 trở lên khi sync.enabled = true",
                            "must be 1 or more when sync.enabled = true")


def ca_file_path(settings: Settings) -> Path | None:
    """The [sync] ca_file as a path (relative to the settings file's folder), or None when not set."""
    if not settings.sync.ca_file:
        return None
    path = Path(settings.sync.ca_file)
    if not path.is_absolute() and settings.source is not None:
        path = settings.source.parent / path
    return path


# The fields of the server's DeviceSettings (sync/protocol.py) and where each lands in Settings.
_SERVER_TEXT = {
    "agency_name": ("agency", "name"), "agency_parent": ("agency", "parent"), "agency_code": ("agency", "code"),
    "counter_id": ("counter", "id"), "counter_name": ("counter", "name"),
    "hotline": ("contact", "hotline"), "complaint_address": ("contact", "complaint_address"),
    "email": ("contact", "email"), "website": ("contact", "website"),
}


def apply_server_settings(settings: Settings, pulled: Mapping[str, Any], where: Path | None = None) -> Settings:
    """The settings with what the central server holds for this device laid over them.

    `pulled` is a protocol.DeviceSettings as a dict. A value the server left empty keeps the file's value
    (an empty hotline must not wipe the one the counter posts); officers keep their local photo. The result
    is checked like a settings file; errors name `where` (the database it was read from) and the field.
    """
    def text(name: str) -> str:
        value = pulled.get(name, "")
        if not isinstance(value, str):
            got_vi, got_en = describe(value)
            raise SettingsError(where, f"server.{name}", f"cần một chuỗi ký tự, nhận được {got_vi}",
                                f"expected a string, got {got_en}")
        return value.strip()

    tables: dict[str, dict[str, Any]] = {"agency": {}, "counter": {}, "contact": {}}
    for name, (table, key) in _SERVER_TEXT.items():
        value = text(name)
        if value:
            tables[table][key] = value
    procedures = pulled.get("counter_procedures") or []
    if not isinstance(procedures, list) or not all(isinstance(code, str) for code in procedures):
        raise SettingsError(where, "server.counter_procedures", "cần một danh sách mã thủ tục",
                            "expected a list of procedure codes")
    _check_procedures(where, "server.counter_procedures", procedures)
    if procedures:
        tables["counter"]["procedures"] = list(procedures)
    changes: dict[str, Any] = {table: dataclasses.replace(getattr(settings, table), **values)
                               for table, values in tables.items()}
    officers = pulled.get("officers") or []
    if not isinstance(officers, list):
        raise SettingsError(where, "server.officers", "cần một danh sách cán bộ", "expected a list of officers")
    if officers:
        changes["officers"] = [_server_officer(settings, item, where, i) for i, item in enumerate(officers)]
        ids = [officer.id for officer in changes["officers"]]
        for i, officer_id in enumerate(ids):
            if officer_id in ids[:i]:
                raise SettingsError(where, f"server.officers[{i}].id", "trùng với cán bộ khác",
                                    "the same as another officer's")
    merged = dataclasses.replace(settings, **changes)
    _check(merged)
    return merged


def _server_officer(settings: Settings, item: Any, where: Path | None, index: int) -> Officer:
    key = f"server.officers[{index}]"
    if not isinstance(item, Mapping) or not all(isinstance(item.get(f, ""), str) for f in ("id", "name", "title")):
        raise SettingsError(where, key, "cần một bảng có id, name, title là chuỗi ký tự",
                            "expected a table whose id, name and title are strings")
    officer_id, name = str(item.get("id", "")).strip(), str(item.get("name", "")).strip()
    if not officer_id or not name:
        raise SettingsError(where, key, "thiếu mã hoặc tên cán bộ", "the officer's id or name is missing")
    local = settings.officer(officer_id)
    return Officer(officer_id, name, str(item.get("title", "")).strip(), local.photo if local else "")


def parse(text: str, path: Path | None = None) -> Settings:
    """Validate settings from TOML text; `path` is only used to name the file in errors."""
    settings = dataclasses.replace(build_dataclass(Settings, toml_table(text, path), path, ""), source=path)
    _check(settings)
    return typing.cast(Settings, settings)


def load(path: Path) -> Settings:
    """Read and validate a settings file."""
    return parse(read_settings_file(path), path)


def default_config_path() -> Path | None:
    """The settings file used when none is named: $KIOSK_CONFIG, /etc/kiosk, then the example beside the code."""
    env = os.environ.get("KIOSK_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("/etc/kiosk/kiosk.toml"), Path(__file__).resolve().parent.parent / "config" / "kiosk.toml"):
        if candidate.is_file():
            return candidate
    return None


def resolve(path: Path | None) -> Settings:
    """The settings to run with: the named file, else the default file, else built-in defaults."""
    chosen = path or default_config_path()
    return load(chosen) if chosen else Settings()
