"""The `kiosk` command: runs the app, and the sub-commands IT and staff use on the device."""

from __future__ import annotations

import argparse
import getpass
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from kiosk import __version__, doctor, state
from kiosk.cli_common import add_device_options, say, say_error
from kiosk.domain.errors import BilingualError
from kiosk.domain.levels import LEVELS
from kiosk.flow import RatingSession
from kiosk.pin import hash_pin
from kiosk.services import Services
from kiosk.settings import Settings, resolve

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def _window_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x800, got {text!r}") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"window size out of range: {text!r}")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Kiosk đánh giá sự hài lòng tại Bộ phận Một cửa / "
        "One-stop counter satisfaction kiosk. With no sub-command, runs the kiosk app.")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    add_device_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", title="sub-commands", metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=help_text, description=help_text)
        add_device_options(child, top=False)
        return child

    parser.add_argument("--window", type=_window_size, metavar="WxH",
                        help="run in a window of this size instead of full screen (for trying it out)")
    run = add("run", "run the kiosk app (the default)")
    run.add_argument("--window", type=_window_size, default=argparse.SUPPRESS, metavar="WxH",
                     help="run in a window of this size instead of full screen")
    pin = add("pin", "staff PIN")
    pin_sub = pin.add_subparsers(dest="pin_command", required=True, metavar="ACTION")
    pin_set = pin_sub.add_parser("set", help="set the staff PIN (asked twice, or one line on stdin)")
    add_device_options(pin_set, top=False)

    ratings = add("ratings", "the rating log")
    r_sub = ratings.add_subparsers(dest="ratings_command", required=True, metavar="ACTION")
    add_device_options(r_sub.add_parser("verify", help="walk the signed chain and report the first bad link"),
                       top=False)
    add_device_options(r_sub.add_parser("stats", help="today's and all-time counts per level, and the sync queue"),
                       top=False)
    export = r_sub.add_parser("export", help="write the ratings with their answers")
    add_device_options(export, top=False)
    export.add_argument("--format", choices=["csv"], default="csv")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.add_argument("--include-tests", action="store_true", help="include self-test ratings")

    selftest = add("selftest", "record test ratings through the tap's code path (kept out of reports)")
    selftest.add_argument("--ratings", type=int, default=5, metavar="N")
    add("doctor", "check settings, database, chain, key, disk and printer, and say how to fix problems")

    printer = add("printer", "the slip printer")
    p_sub = printer.add_subparsers(dest="printer_command", required=True, metavar="ACTION")
    p_test = p_sub.add_parser("test", help="print the test page (Vietnamese vowels, paper width, QR code)")
    add_device_options(p_test, top=False)
    p_test.add_argument("--uri", metavar="URI", help="print on this printer instead of the one in the settings")
    p_preview = p_sub.add_parser("preview", help="render a slip as PNG, without a printer")
    add_device_options(p_preview, top=False)
    p_preview.add_argument("--slip", choices=["rating", "guide", "test"], default="rating")
    p_preview.add_argument("--out", type=Path, required=True, metavar="FILE.png")
    p_preview.add_argument("--width", type=int, metavar="DOTS", help="paper width in dots (default: the printer's)")
    add_device_options(
        p_sub.add_parser("status", help="the printer fault in force, and whether the printer answers now"), top=False)

    catalog = add("catalog", "the procedure catalog (thủ tục hành chính)")
    c_sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    c_import = c_sub.add_parser("import", help="replace the catalog with a .json (national format) or .csv file")
    add_device_options(c_import, top=False)
    c_import.add_argument("file", type=Path, metavar="FILE")
    c_import.add_argument("--check", action="store_true", help="only read and check the file; change nothing")
    c_list = c_sub.add_parser("list", help="every procedure, by name")
    add_device_options(c_list, top=False)
    c_list.add_argument("--field", metavar="CODE", help="only this field (see 'kiosk catalog fields')")
    c_show = c_sub.add_parser("show", help="everything about one procedure")
    add_device_options(c_show, top=False)
    c_show.add_argument("code", metavar="CODE")
    c_search = c_sub.add_parser("search", help="search as the kiosk does (no diacritics needed, word starts, codes)")
    add_device_options(c_search, top=False)
    c_search.add_argument("query", metavar="QUERY")
    c_search.add_argument("--field", metavar="CODE", help="only this field")
    add_device_options(c_sub.add_parser("fields", help="the fields (lĩnh vực) with their counts"), top=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = resolve(args.config)
        command = args.command or "run"
        if command == "run":
            from kiosk.app import run_app  # Kivy is imported only when the app really starts

            return run_app(settings, args.data_dir, args.window)
        if command == "doctor":
            return _doctor(settings, args.data_dir)
        services = Services.open(settings, args.data_dir)
        try:
            if command == "pin":
                return _pin_set(services)
            if command == "ratings":
                return _ratings(services, args)
            if command == "printer":
                return _printer(services, args)
            if command == "catalog":
                from kiosk import catalog_cli

                return catalog_cli.run(services.catalog, args)
            return _selftest(services, args.ratings)
        finally:
            services.close()
    except BilingualError as exc:
        say_error(exc)
        return EXIT_USAGE


def _pin_set(services: Services) -> int:
    if sys.stdin.isatty():
        first = getpass.getpass("Mã PIN mới / New PIN (4–12 chữ số / digits): ")
        if getpass.getpass("Nhập lại / Again: ") != first:
            say("Hai lần nhập không khớp; PIN không đổi.", "The two entries differ; PIN unchanged.", sys.stderr)
            return EXIT_USAGE
    else:
        first = sys.stdin.readline().strip()
    services.state.put(state.PIN_HASH, hash_pin(first))
    say("Đã đặt mã PIN nhân viên (lưu dạng băm trong thư mục dữ liệu).",
        "Staff PIN set (stored hashed in the data directory).")
    return EXIT_OK


def _ratings(services: Services, args: argparse.Namespace) -> int:
    if args.ratings_command == "verify":
        report = services.ratings.verify()
        if report.ok:
            say(f"Chuỗi nguyên vẹn: {report.count} bản ghi, đầu chuỗi số {report.head_seq} "
                f"({report.head_hash[:16]}…)", f"Chain intact: {report.count} records, head {report.head_seq}")
            return EXIT_OK
        say(f"CHUỖI HỎNG tại bản ghi số {report.first_bad_seq}: {report.problem_vi}",
            f"CHAIN BROKEN at record {report.first_bad_seq}: {report.problem_en}")
        return EXIT_PROBLEM
    if args.ratings_command == "stats":
        stats = services.ratings.stats()
        print(f"{'Mức / Level':<42}{'Hôm nay / Today':>17}{'Tất cả / All':>15}")
        for lv in LEVELS:
            print(f"{lv.value} {lv.label_vi + ' / ' + lv.label_en:<40}{stats.today[lv.value]:>17}"
                  f"{stats.total[lv.value]:>15}")
        print(f"{'Tổng / Total':<42}{sum(stats.today.values()):>17}{sum(stats.total.values()):>15}")
        print(f"{'Nghi bấm lặp / Suspected repeats':<42}{stats.repeats_today:>17}{stats.repeats_total:>15}")
        print(f"Đánh giá thử (selftest) / Test ratings: {stats.test_total}")
        print(f"Chờ đồng bộ / Not yet synced: {stats.queue} bản ghi / records")
        return EXIT_OK
    if args.out:
        with args.out.open("w", encoding="utf-8-sig", newline="") as out:
            count = services.ratings.export_csv(out, include_tests=args.include_tests)
        say(f"Đã ghi {count} đánh giá vào {args.out}", f"Wrote {count} ratings to {args.out}", sys.stderr)
    else:
        services.ratings.export_csv(sys.stdout, include_tests=args.include_tests)
    return EXIT_OK


def _printer(services: Services, args: argparse.Namespace) -> int:
    from kiosk import slips
    from kiosk.printing import PrintError, SlipPrinter

    if args.printer_command == "preview":
        width = args.width or services.printer.width_dots
        if not 256 <= width <= 832:
            say("--width phải từ 256 đến 832", "--width must be 256 to 832", sys.stderr)
            return EXIT_USAGE
        slip: slips.Slip
        if args.slip == "rating":
            slip = slips.sample_rating()
        elif args.slip == "guide":
            slip = slips.sample_guide(services.settings.contact.hotline)
        else:
            slip = services.test_page()
        slips.render(slip, width).save(args.out)
        say(f"Đã ghi {args.out} ({width} điểm)", f"Wrote {args.out} ({width} dots)")
        return EXIT_OK
    printer = services.printer
    if args.printer_command == "test" and args.uri:
        printer = SlipPrinter(replace(services.settings.printer, uri=args.uri), services.state)
    if not printer.enabled:
        say("Chưa cấu hình máy in ([printer] uri = \"none\").", 'No printer configured ([printer] uri = "none").')
        return EXIT_PROBLEM
    if args.printer_command == "status":
        fault, answer = printer.fault(), printer.probe()
        if fault:
            say(f"Lỗi ghi nhận từ {fault.since}: {fault.vi}", f"Fault since {fault.since}: {fault.en}")
        if answer is None:
            say(f"Máy in {printer.target.uri} trả lời.", f"The printer at {printer.target.uri} answers.")
            return EXIT_OK
        say(answer.vi, answer.en)
        return EXIT_PROBLEM
    try:
        printer.send(slips.render(services.test_page(printer.target.uri), printer.width_dots))
    except PrintError as exc:
        say(f"In thử thất bại: {exc.vi}", f"Test print failed: {exc.en}", sys.stderr)
        return EXIT_PROBLEM
    say(f"Đã in trang thử trên {printer.target.uri}.", f"Printed the test page on {printer.target.uri}.")
    return EXIT_OK


def _selftest(services: Services, count: int) -> int:
    if not 1 <= count <= 10000:
        say("--ratings phải từ 1 đến 10000", "--ratings must be 1 to 10000", sys.stderr)
        return EXIT_USAGE
    session = RatingSession(services)
    chooser = random.Random(count)
    for _ in range(count):
        session.reset()
        session.rate(chooser.choice(LEVELS).value, is_test=True)
    report = services.ratings.verify()
    say(f"Đã ghi {count} đánh giá thử; chuỗi {'nguyên vẹn' if report.ok else 'HỎNG'} "
        f"({report.count} bản ghi).",
        f"Recorded {count} test ratings; chain {'intact' if report.ok else 'BROKEN'} ({report.count} records).")
    return EXIT_OK if report.ok else EXIT_PROBLEM


def _doctor(settings: Settings, data_dir: Path | None) -> int:
    marks = {doctor.OK: "[ OK ]", doctor.WARN: "[CHÚ Ý]", doctor.FAIL: "[LỖI ]"}
    checks = doctor.run_checks(settings, data_dir)
    for check in checks:
        print(f"{marks[check.status]} {check.name}: {check.vi}")
        if check.en:
            print(f"        {check.en}")
    failed = sum(c.status == doctor.FAIL for c in checks)
    return EXIT_PROBLEM if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
