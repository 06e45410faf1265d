"""`kiosk doctor`: checks that a device is fit to take ratings and says how to fix what is not."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk import paths
from kiosk.db import SCHEMA_HEAD, readonly_uri, schema_version
from kiosk.errors import KioskError
from kiosk.pin import verify_pin
from kiosk.services import Services, pin_hash
from kiosk.settings import Settings

OK, WARN, FAIL = "ok", "warn", "fail"
DISK_WARN_MB, DISK_FAIL_MB = 500, 50
EXAMPLE_PIN = "123456"


@dataclass(frozen=True)
class Check:
    """The outcome of one check, with what to do about it."""

    name: str
    status: str
    vi: str
    en: str = ""


def _disk(data_dir: Path) -> Check:
    free_mb = shutil.disk_usage(data_dir).free // (1024 * 1024)
    status = FAIL if free_mb < DISK_FAIL_MB else WARN if free_mb < DISK_WARN_MB else OK
    return Check("disk", status, f"Dung lượng trống: {free_mb} MB"
                 + ("" if status == OK else " — hãy giải phóng ổ đĩa"),
                 f"Free disk space: {free_mb} MB" + ("" if status == OK else " — free some space"))


def _database(data_dir: Path) -> Check:
    path = data_dir / paths.DB_NAME
    version = schema_version(path)
    con = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        result = con.execute("PRAGMA integrity_check").fetchone()[0]
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()
    if result != "ok":
        return Check("database", FAIL, f"Cơ sở dữ liệu hỏng: {result}. Sao lưu tệp {path} và báo CNTT.",
                     f"Database damaged: {result}. Back up {path} and call IT.")
    if version != SCHEMA_HEAD:
        return Check("database", FAIL, f"Lược đồ {version}, cần {SCHEMA_HEAD}: khởi động lại ứng dụng.",
                     f"Schema {version}, expected {SCHEMA_HEAD}: restart the app.")
    return Check("database", OK, f"{path} (lược đồ {version}, {mode})", f"{path} (schema {version}, {mode})")


def _chain(services: Services) -> Check:
    report = services.ratings.verify()
    if report.ok:
        return Check("chain", OK, f"Chuỗi đánh giá nguyên vẹn: {report.count} bản ghi",
                     f"Rating chain intact: {report.count} records")
    return Check("chain", FAIL, f"Chuỗi đánh giá hỏng tại bản ghi số {report.first_bad_seq}: "
                 f"{report.problem_vi}. Không xoá gì; báo CNTT.",
                 f"Rating chain broken at record {report.first_bad_seq}: {report.problem_en}. "
                 "Delete nothing; call IT.")


def _key(data_dir: Path) -> Check:
    key_path = data_dir / paths.KEY_NAME
    mode = stat.S_IMODE(key_path.stat().st_mode)
    if mode & 0o077:
        return Check("key", FAIL, f"Tệp khoá {key_path} có quyền {oct(mode)}: chạy chmod 600",
                     f"Key file {key_path} has mode {oct(mode)}: run chmod 600")
    return Check("key", OK, f"Khoá thiết bị {key_path} (0600)", f"Device key {key_path} (0600)")


def _settings(settings: Settings, services: Services) -> list[Check]:
    source = settings.source or "(mặc định / defaults)"
    checks = [Check("settings", OK, f"Cấu hình: {source}", f"Settings: {source}")]
    stored = pin_hash(settings, services.state)
    if not stored:
        checks.append(Check("pin", FAIL, "Chưa đặt mã PIN: chạy «kiosk pin set»",
                            "No staff PIN: run 'kiosk pin set'"))
    elif verify_pin(EXAMPLE_PIN, stored):
        checks.append(Check("pin", WARN, f"Đang dùng mã PIN mẫu {EXAMPLE_PIN}: đổi bằng «kiosk pin set»",
                            f"The example PIN {EXAMPLE_PIN} is in use: change it with 'kiosk pin set'"))
    if not settings.contact.hotline:
        checks.append(Check("contact", WARN, "Chưa có số đường dây nóng trong [contact] hotline",
                            "No hotline number in [contact] hotline"))
    if not settings.officers:
        checks.append(Check("officers", WARN, "Chưa khai báo cán bộ trong [[officers]]",
                            "No officers listed in [[officers]]"))
    return checks


def _printer(services: Services) -> Check:
    printer = services.printer
    if not printer.enabled:
        return Check("printer", OK, "Không dùng máy in ([printer] uri = none)", "No printer ([printer] uri = none)")
    answer, fault = printer.probe(), printer.fault()
    where = printer.target.uri
    if answer is not None:
        since_vi = f" (từ {fault.since})" if fault else ""
        since_en = f" (since {fault.since})" if fault else ""
        return Check("printer", FAIL,
                     f"{answer.vi}{since_vi}. Kiểm tra nguồn, cáp, giấy rồi chạy «kiosk printer test».",
                     f"{answer.en}{since_en}. Check power, cable and paper, then run 'kiosk printer test'.")
    if fault is not None:
        return Check("printer", WARN, f"Máy in {where} trả lời, nhưng lần in trước lỗi từ {fault.since}: {fault.vi}",
                     f"The printer at {where} answers, but the last job failed (since {fault.since}): {fault.en}")
    return Check("printer", OK, f"Máy in {where} trả lời ({printer.width_dots} điểm)",
                 f"The printer at {where} answers ({printer.width_dots} dots)")


def run_checks(settings: Settings, data_dir: Path | None) -> list[Check]:
    """Every check, in the order a technician would fix them; never raises."""
    directory = data_dir or paths.default_data_dir()
    try:
        services = Services.open(settings, directory)
    except KioskError as exc:
        return [Check("services", FAIL, exc.vi, exc.en)]
    checks: list[Check] = []
    try:
        steps: list[Callable[[], Check | list[Check]]] = [
            lambda: _settings(settings, services), lambda: _database(directory),
            lambda: _chain(services), lambda: _key(directory), lambda: _disk(directory),
        ]
        for step in steps:
            try:
                found = step()
            except Exception as exc:  # a check that crashes is itself a finding, not a reason to stop
                found = Check(getattr(step, "__name__", "check"), FAIL, f"Lỗi khi kiểm tra: {exc}",
                              f"Check failed: {exc}")
            checks.extend(found if isinstance(found, list) else [found])
        checks.append(_printer(services))
        checks.append(Check("server", OK, "Đồng bộ: " + ("bật" if settings.sync.enabled else "tắt"),
                            "Sync: " + ("on" if settings.sync.enabled else "off")))
    finally:
        services.close()
    return checks
