"""`kiosk doctor`: checks that a device is fit to take ratings and says how to fix what is not."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kiosk import paths
from kiosk.db import SCHEMA_HEAD, readonly_uri, schema_version
from kiosk.domain.errors import BilingualError
from kiosk.pin import verify_pin
from kiosk.services import Services, pin_hash
from kiosk.settings import Settings, ca_file_path
from kiosk.sync_status import local_time

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


def _permissions(directory: Path, found: list[tuple[Path, int]]) -> list[Check]:
    """What `paths.widened` found before the services opened (and narrowed the files), and what is left."""
    if not found:
        return [Check("permissions", OK, f"Chỉ chủ sở hữu dùng được {directory} và các tệp trong đó (0700, 0600)",
                      f"Only the owner can use {directory} and the files in it (0700, 0600)")]
    checks = []
    for path, was in found:
        if path == directory:
            checks.append(Check(
                "permissions", WARN, f"Thư mục dữ liệu {path} có quyền {was:04o}: nhóm hoặc người dùng khác trên "
                f"máy xem được bên trong. Chạy: chmod 700 {path}", f"The data directory {path} has mode {was:04o}: "
                f"its group or other users of this machine can look inside. Run: chmod 700 {path}"))
            continue
        try:
            now = paths.mode(path)
        except FileNotFoundError:
            continue  # gone since (a -wal file at the last close): nothing left to fix
        if now & paths.OTHERS:
            checks.append(Check(
                "permissions", WARN, f"Tệp {path} có quyền {was:04o}: nhóm hoặc người dùng khác trên máy đọc được "
                f"(không đổi được). Chạy: chmod 600 {path}", f"The file {path} has mode {was:04o}: its group or "
                f"other users of this machine can read it (it could not be changed). Run: chmod 600 {path}"))
        else:
            checks.append(Check(
                "permissions", WARN, f"Tệp {path} có quyền {was:04o} (nhóm hoặc người dùng khác trên máy đọc được), "
                f"nay đã đổi thành {now:04o}. Hãy tìm xem việc gì đã nới quyền (sao chép, sao lưu, umask)",
                f"The file {path} had mode {was:04o}: its group or other users of this machine could read it; "
                f"now {now:04o}. Find what widened it (a copy, a backup, the umask)"))
    return checks


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


SYNC_STALE_S = 2 * 86400  # the nightly pass missed twice in a row


def _sync(services: Services) -> Check:
    ca_file = ca_file_path(services.settings)
    if ca_file is not None and not ca_file.is_file():
        return Check("sync", FAIL, f"Không có tệp CA {ca_file} (khoá sync.ca_file): sửa đường dẫn hoặc xoá khoá",
                     f"The CA file {ca_file} (key sync.ca_file) does not exist: fix the path or remove the key")
    status = services.sync_status()
    if not status.enrolled:
        return Check("sync", WARN, f"Chưa đăng ký với máy chủ; {status.queue_depth} bản ghi chờ gửi. Chạy "
                     "«kiosk-sync enroll --server URL --code MÃ» (mã do CNTT cấp)",
                     f"Not enrolled with a server; {status.queue_depth} records waiting. Run "
                     "'kiosk-sync enroll --server URL --code CODE' (the code comes from IT)")
    where_vi = f"máy chủ {status.server_url}, {status.queue_depth} bản ghi chờ gửi"
    where_en = f"server {status.server_url}, {status.queue_depth} records waiting"
    if status.last_error is not None:
        return Check("sync", WARN, f"Đồng bộ lỗi lúc {local_time(status.last_error.at)} ({where_vi}): "
                     f"{status.last_error.vi}. Xem «kiosk-sync status», thử «kiosk-sync run»",
                     f"Sync failed at {local_time(status.last_error.at)} ({where_en}): {status.last_error.en}. "
                     "See 'kiosk-sync status', try 'kiosk-sync run'")
    if status.clock_flagged:
        return Check("sync", WARN, f"Máy chủ báo đồng hồ máy này lệch {status.clock_drift_s:+.0f} giây ({where_vi}): "
                     "bật NTP (timedatectl set-ntp true) hoặc chỉnh giờ", f"The server says this device's clock is off "
                     f"by {status.clock_drift_s:+.0f} s ({where_en}): enable NTP (timedatectl set-ntp true) or set "
                     "the time")
    if not status.last_success:
        return Check("sync", WARN, f"Chưa đồng bộ thành công lần nào ({where_vi}): chạy «kiosk-sync run»",
                     f"Never synced successfully ({where_en}): run 'kiosk-sync run'")
    age = (datetime.now(UTC) - datetime.fromisoformat(status.last_success.replace("Z", "+00:00"))).total_seconds()
    if age > SYNC_STALE_S:
        return Check("sync", WARN, f"Lần đồng bộ thành công gần nhất đã lâu: {local_time(status.last_success)} "
                     f"({where_vi}). Kiểm tra mạng và «systemctl status kiosk-sync.timer»",
                     f"The last successful sync is old: {local_time(status.last_success)} ({where_en}). "
                     "Check the network and 'systemctl status kiosk-sync.timer'")
    return Check("sync", OK, f"Đồng bộ: {where_vi}, thành công gần nhất {local_time(status.last_success)}",
                 f"Sync: {where_en}, last success {local_time(status.last_success)}")


def run_checks(settings: Settings, data_dir: Path | None) -> list[Check]:
    """Every check, in the order a technician would fix them; never raises."""
    directory = data_dir or paths.default_data_dir()
    try:
        wide = paths.widened(directory)  # looked at first: opening the services makes the files owner-only
    except OSError:
        wide = []  # an unreadable directory: opening the services below says why
    try:
        services = Services.open(settings, directory)
    except BilingualError as exc:
        return [*(_permissions(directory, wide) if wide else []), Check("services", FAIL, exc.vi, exc.en)]
    checks: list[Check] = []
    try:
        steps: list[Callable[[], Check | list[Check]]] = [
            lambda: _settings(settings, services), lambda: _database(directory),
            lambda: _chain(services), lambda: _key(directory), lambda: _permissions(directory, wide),
            lambda: _disk(directory),
        ]
        for step in steps:
            try:
                found = step()
            except Exception as exc:  # a check that crashes is itself a finding, not a reason to stop
                found = Check(getattr(step, "__name__", "check"), FAIL, f"Lỗi khi kiểm tra: {exc}",
                              f"Check failed: {exc}")
            checks.extend(found if isinstance(found, list) else [found])
        checks.append(_printer(services))
        try:
            checks.append(_sync(services))
        except Exception as exc:  # as above: a crashing check is a finding
            checks.append(Check("sync", FAIL, f"Lỗi khi kiểm tra: {exc}", f"Check failed: {exc}"))
    finally:
        services.close()
    return checks
