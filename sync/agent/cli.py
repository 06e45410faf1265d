"""The `kiosk-sync` command: enrol the device, run one sync pass, show where the device stands.

Exit codes, for the systemd timer and scripts: 0 everything reached the server; 1 something did not (the
server was unreachable or failing, try again later); 2 bad arguments or settings; 3 not enrolled; 4 refused
in a way only IT can fix (revoked, unknown device, broken chain, untrusted certificate); 75 another pass is
running on this device (EX_TEMPFAIL: this one was skipped).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from kiosk import __version__
from kiosk.cli_common import add_device_options, say, say_error
from kiosk.domain.errors import BilingualError
from kiosk.services import Services
from kiosk.settings import resolve
from sync.agent import errors
from sync.agent.errors import SyncError
from sync.agent.lock import PassRunning
from sync.agent.progress import for_stream
from sync.agent.run import PassResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_ENROLLED, EXIT_NEEDS_IT, EXIT_BUSY = 0, 1, 2, 3, 4, 75


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kiosk-sync", description="Đồng bộ kiosk với máy chủ trung tâm / Sync the kiosk with the central "
        "server: push ratings, pull settings and catalog, report health.")
    parser.add_argument("--version", action="version", version=f"kiosk-sync {__version__}")
    add_device_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    enroll = sub.add_parser("enroll", help="enrol this device with the server, using IT's one-time code")
    add_device_options(enroll, top=False)
    enroll.add_argument("--server", required=True, metavar="URL", help="the server, e.g. https://sync.example:8443")
    enroll.add_argument("--code", required=True, metavar="CODE", help="the code printed by 'kiosk-server device add'")
    enroll.add_argument("--force", action="store_true", help="enrol again although the device is enrolled")
    run = sub.add_parser("run", help="one full pass: push, pull, health (exit 0 only if all reached the server)")
    add_device_options(run, top=False)
    run.add_argument("--budget", type=float, metavar="SECONDS",
                     help="the most the pass may take (default: [sync] budget_s)")
    status = sub.add_parser("status", help="enrolment, queue, last success, last error, clock drift")
    add_device_options(status, top=False)
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    return parser


def exit_code(error: SyncError) -> int:
    """The exit code a failure of this kind ends the command with."""
    if error.code == errors.E_NOT_ENROLLED:
        return EXIT_NOT_ENROLLED
    if error.code in (errors.E_BAD_URL, errors.E_ALREADY_ENROLLED, errors.E_CODE_FORMAT):
        return EXIT_USAGE
    if error.code in errors.NEEDS_IT:
        return EXIT_NEEDS_IT
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk-sync` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = resolve(args.config)
        services = Services.open(settings, args.data_dir)
    except BilingualError as exc:
        say_error(exc)
        return EXIT_USAGE
    try:
        if args.command == "enroll":
            return _enroll(services, args)
        if args.command == "run":
            return _run(services, args)
        return _status(services, args.json)
    finally:
        services.close()


def _enroll(services: Services, args: argparse.Namespace) -> int:
    from sync.agent.enroll import enroll

    try:
        answer = enroll(services, args.server, args.code, force=args.force)
    except SyncError as exc:
        say(f"Đăng ký không thành công: {exc.vi}", f"Enrolment failed: {exc.en}", sys.stderr)
        return exit_code(exc)
    say(f"Đã đăng ký với {args.server}: mã thiết bị {answer.device_id}, {answer.agency_name} — {answer.counter_name}",
        f"Enrolled with {args.server}: device ID {answer.device_id}, {answer.agency_name} — {answer.counter_name}")
    if answer.acked_seq:
        say(f"Máy chủ đã có {answer.acked_seq} bản ghi của máy này; lần gửi sau tiếp tục từ đó.",
            f"The server already holds {answer.acked_seq} records of this device; the next push goes on from there.")
    return EXIT_OK


def _run(services: Services, args: argparse.Namespace) -> int:
    from sync.agent.run import locked_pass

    if args.budget is not None and not 1 <= args.budget <= 86400:
        say("--budget phải từ 1 đến 86400 giây", "--budget must be 1 to 86400 seconds", sys.stderr)
        return EXIT_USAGE
    try:
        result = locked_pass(services, budget_s=args.budget, progress=for_stream(sys.stderr))
    except PassRunning as exc:
        say(exc.vi, exc.en, sys.stderr)
        return EXIT_BUSY
    _report(result)
    if result.ok:
        return EXIT_OK
    return max(exit_code(error) for error in result.errors)


def _report(result: PassResult) -> None:
    """One summary on stdout (the journal keeps it), then each error on stderr."""
    parts_vi, parts_en = [], []
    if result.push is not None:
        pushed = result.push
        parts_vi.append(f"gửi {pushed.sent} bản ghi (mới {pushed.stored}, trùng {pushed.duplicates}), "
                        f"máy chủ có tới số {pushed.acked_seq}/{pushed.head_seq}")
        parts_en.append(f"sent {pushed.sent} records ({pushed.stored} new, {pushed.duplicates} duplicate), "
                        f"server holds up to {pushed.acked_seq}/{pushed.head_seq}")
    if result.push is not None or result.settings_changed:
        parts_vi.append("cài đặt: " + ("đã cập nhật" if result.settings_changed else "không đổi"))
        parts_en.append("settings: " + ("updated" if result.settings_changed else "unchanged"))
    if result.catalog is not None:
        catalog = result.catalog
        if not catalog.available:
            parts_vi.append("danh mục: máy chủ không phân phối")
            parts_en.append("catalog: none distributed")
        elif catalog.changed:
            parts_vi.append(f"danh mục: đã nhập phiên bản {catalog.version} ({catalog.count} thủ tục)")
            parts_en.append(f"catalog: imported version {catalog.version} ({catalog.count} procedures)")
        else:
            parts_vi.append("danh mục: không đổi")
            parts_en.append("catalog: unchanged")
    if result.health is not None:
        flag_vi, flag_en = _clock_flag(result.health.clock_flagged)
        parts_vi.append(f"lệch đồng hồ {result.health.clock_drift_s:+.1f} giây{flag_vi}")
        parts_en.append(f"clock drift {result.health.clock_drift_s:+.1f} s{flag_en}")
    head_vi = "Đồng bộ xong" if result.ok else "Đồng bộ CHƯA XONG"
    head_en = "Sync done" if result.ok else "Sync INCOMPLETE"
    say(f"{head_vi}: " + "; ".join(parts_vi) if parts_vi else head_vi,
        f"{head_en}: " + "; ".join(parts_en) if parts_en else head_en)
    for error in result.errors:
        where_vi = f" (bản ghi số {error.first_bad_seq})" if error.first_bad_seq else ""
        where_en = f" (record {error.first_bad_seq})" if error.first_bad_seq else ""
        say(f"Lỗi [{error.code}]{where_vi}: {error.vi}", f"Error [{error.code}]{where_en}: {error.en}", sys.stderr)


def _clock_flag(flagged: bool) -> tuple[str, str]:
    """What follows the clock drift when the server flagged it."""
    return (" — ĐỒNG HỒ SAI, hãy chỉnh giờ máy", " — CLOCK WRONG, set the device's time") if flagged else ("", "")


def _status(services: Services, as_json: bool) -> int:
    status = services.sync_status()
    if as_json:
        print(json.dumps(status.as_json(), ensure_ascii=False, indent=2))
        return EXIT_OK if status.enrolled else EXIT_NOT_ENROLLED
    if status.enrolled:
        say(f"Đã đăng ký với {status.server_url}, mã thiết bị {status.device_id}",
            f"Enrolled with {status.server_url}, device ID {status.device_id}")
    else:
        say("Chưa đăng ký với máy chủ nào: chạy «kiosk-sync enroll --server URL --code MÃ»",
            "Not enrolled with a server: run 'kiosk-sync enroll --server URL --code CODE'")
    say(f"Chờ gửi: {status.queue_depth} bản ghi (máy có tới số {status.head_seq}, máy chủ đã nhận tới số "
        f"{status.acked_seq})",
        f"Queue: {status.queue_depth} records (device head {status.head_seq}, server acknowledged "
        f"{status.acked_seq})")
    say(f"Lần đồng bộ thành công gần nhất: {status.last_success or 'chưa có'}",
        f"Last successful sync: {status.last_success or 'never'}")
    if status.last_error is not None:
        say(f"Lỗi gần nhất ({status.last_error.at}): {status.last_error.vi}",
            f"Last error ({status.last_error.at}): {status.last_error.en}")
    else:
        say("Lỗi gần nhất: không có", "Last error: none")
    if status.clock_drift_s is not None:
        flag_vi, flag_en = _clock_flag(status.clock_flagged)
        say(f"Lệch đồng hồ so với máy chủ: {status.clock_drift_s:+.1f} giây{flag_vi}",
            f"Clock drift from the server: {status.clock_drift_s:+.1f} s{flag_en}")
    return EXIT_OK if status.enrolled else EXIT_NOT_ENROLLED


if __name__ == "__main__":
    sys.exit(main())
