"""`kiosk-server report`: satisfaction results for a period, grouped, as a table, CSV, XLSX or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from kiosk.domain.errors import BilingualError
from kiosk.domain.levels import CHANNEL_KEYS
from sync.server import settings as server_settings
from sync.server.cli.common import EXIT_OK, EXIT_PROBLEM, Adder, Handler, Precheck, parse_day, refuse, say
from sync.server.db import utc_now
from sync.server.settings import ServerSettings

REPORT_FORMATS = ("table", "csv", "xlsx", "json")


def add_commands(sub: Any, add: Adder) -> None:
    """The `report` sub-command."""
    report = add(sub, "report", "satisfaction results for a period, grouped, as a table, CSV, XLSX or JSON")
    # Values are checked by _report_options (not argparse `choices`), so every refusal is bilingual.
    report.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD (with --to)")
    report.add_argument("--to", dest="date_to", metavar="DATE", help="last day, included, YYYY-MM-DD")
    report.add_argument("--period", metavar="KIND",
                        help="day, week, month, quarter, half, nine_months or year (instead of --from/--to)")
    report.add_argument("--date", metavar="DATE", help="a day in that period (default: today)")
    report.add_argument("--group-by", default="agency", metavar="BY",
                        help="agency, counter, officer, procedure, field or channel (default: agency)")
    report.add_argument("--agency", metavar="CODE", help="one agency (default: every agency)")
    report.add_argument("--counter", metavar="CODE", help="one counter of that agency")
    report.add_argument("--channel", metavar="CHANNEL", help="kiosk, web or paper only (default: every channel)")
    report.add_argument("--include-repeats", action="store_true", help="count suspected repeat presses too")
    report.add_argument("--format", default="table", metavar="FORMAT", help="table, csv, xlsx or json (default: table)")
    report.add_argument("--table", default="groups", metavar="NAME",
                        help="for csv: groups, levels or elements (default: groups)")
    report.add_argument("--lang", default="vi", metavar="LANG", help="vi or en (default: vi)")
    report.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (required for xlsx)")
    sheet = add(sub, "officer-sheet", "one officer's printable A4 sheet for a month, as a self-contained HTML file")
    sheet.add_argument("--agency", metavar="CODE", help="the officer's agency")
    sheet.add_argument("--officer", metavar="CODE", help="the officer's code, e.g. CB001")
    sheet.add_argument("--month", metavar="YYYY-MM", help="the month, e.g. 2026-11 (default: last month)")
    sheet.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (default: print the HTML)")
    digest = add(sub, "digest", "the monthly e-mail to heads of unit naming the officers flagged ([[digest.heads]])")
    actions = digest.add_subparsers(dest="digest_command", metavar="ACTION")
    send = add(actions, "send", "send a month's digest to each agency's heads (for cron, early in a month)")
    send.add_argument("--month", metavar="YYYY-MM", help="the month, e.g. 2026-11 (default: last month)")
    send.add_argument("--agency", metavar="CODE", help="only this agency's heads (default: every [[digest.heads]])")


def _report_options(args: argparse.Namespace) -> None:
    """Check the report's options before anything is opened; keep what they mean on `args`."""
    from sync.server.results import exports
    from sync.server.results.figures import GROUPINGS
    from sync.server.results.periods import PERIOD_KINDS, Period

    if args.group_by not in GROUPINGS:
        raise BilingualError(f"--group-by: không nhóm theo {args.group_by!r} được; dùng {', '.join(GROUPINGS)}",
                             f"--group-by: cannot group by {args.group_by!r}; use {', '.join(GROUPINGS)}")
    if args.channel is not None and args.channel not in CHANNEL_KEYS:
        raise BilingualError(f"--channel: không có kênh {args.channel!r}; dùng {', '.join(CHANNEL_KEYS)}",
                             f"--channel: no channel {args.channel!r}; use {', '.join(CHANNEL_KEYS)}")
    if args.format not in REPORT_FORMATS:
        raise BilingualError(f"--format: không có định dạng {args.format!r}; dùng {', '.join(REPORT_FORMATS)}",
                             f"--format: no format {args.format!r}; use {', '.join(REPORT_FORMATS)}")
    if args.table not in exports.TABLES:
        raise BilingualError(f"--table: không có bảng {args.table!r}; dùng {', '.join(exports.TABLES)}",
                             f"--table: no table {args.table!r}; use {', '.join(exports.TABLES)}")
    if args.lang not in ("vi", "en"):
        raise BilingualError(f"--lang: ngôn ngữ {args.lang!r} không có; dùng vi hoặc en",
                             f"--lang: no language {args.lang!r}; use vi or en")
    if args.format == "xlsx" and args.out is None:
        raise BilingualError("Định dạng xlsx cần --out TỆP (tệp Excel không in ra màn hình được)",
                             "the xlsx format needs --out FILE (an Excel file cannot be printed to the terminal)")
    if args.counter is not None and args.agency is None:
        raise BilingualError("--counter cần kèm --agency (mã quầy chỉ riêng trong một cơ quan)",
                             "--counter needs --agency too (counter codes are unique only within an agency)")
    ranged = args.date_from is not None or args.date_to is not None
    if ranged and (args.period is not None or args.date is not None):
        raise BilingualError("Dùng --from/--to hoặc --period/--date, không dùng cả hai",
                             "use either --from/--to or --period/--date, not both")
    if ranged:
        if args.date_from is None or args.date_to is None:
            raise BilingualError("Cần cả --from và --to", "both --from and --to are needed")
        args.report_period = Period.between(parse_day(args.date_from, "--from"), parse_day(args.date_to, "--to"))
        return
    if args.period is None:
        raise BilingualError(
            "Cần chọn kỳ: --from NGÀY --to NGÀY, hoặc --period day|week|month|quarter|year [--date NGÀY]",
            "choose a period: --from DATE --to DATE, or --period day|week|month|quarter|year [--date DATE]")
    if args.period not in PERIOD_KINDS or args.period == "range":
        raise BilingualError(
            f"--period: loại kỳ {args.period!r} không hợp lệ; dùng day, week, month, quarter, half, nine_months hoặc "
            "year", f"--period: invalid period kind {args.period!r}; use day, week, month, quarter, half, nine_months "
            "or year")
    args.report_anchor = None if args.date is None else parse_day(args.date, "--date")
    args.report_period = None


def _precheck_report(args: argparse.Namespace) -> int | None:
    try:
        _report_options(args)
    except BilingualError as error:
        return refuse(error)
    return None


def _report(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from zoneinfo import ZoneInfo

    from sync.server.results import exports, reports
    from sync.server.results.figures import ReportQuery
    from sync.server.results.periods import Period

    period = args.report_period
    if period is None:
        today = utc_now().astimezone(ZoneInfo(server_settings.report_timezone(settings))).date()
        period = Period.of(args.period, args.report_anchor or today)
    query = ReportQuery(period, args.group_by, args.agency, args.counter, args.include_repeats, args.channel)
    report = reports.build(engine, query, settings)  # a ReportError (unknown agency …) is a BilingualError: exit 2
    if args.format == "xlsx":
        args.out.write_bytes(exports.report_xlsx(report, args.lang))
    else:
        if args.format == "table":
            text = exports.report_table(report, args.lang)
        elif args.format == "csv":
            text = exports.report_csv(report, args.lang, args.table)
        else:
            text = json.dumps(exports.report_json(report), ensure_ascii=False, indent=2) + "\n"
        if args.out is None:
            sys.stdout.write(text.removeprefix(exports.BOM))  # the BOM is for Excel opening a file only
            return EXIT_OK
        args.out.write_text(text, encoding="utf-8", newline="")
    say(f"Đã ghi báo cáo {period.label('vi')} vào {args.out}", f"wrote the {period.label('en')} report to {args.out}")
    return EXIT_OK


def _month(args: argparse.Namespace, settings: ServerSettings) -> Any:
    """--month as a Period (default: the last month that closed), in the report time zone."""
    from zoneinfo import ZoneInfo

    from sync.server.results import officer_sheet

    today = utc_now().astimezone(ZoneInfo(server_settings.report_timezone(settings))).date()
    if args.month is None:
        return officer_sheet.last_closed_month(today)
    return officer_sheet.parse_month(args.month, today)


def _precheck_sheet(args: argparse.Namespace) -> int | None:
    for option, value in (("--agency", args.agency), ("--officer", args.officer)):
        if not value:
            return refuse(BilingualError(f"Thiếu {option} (xem «kiosk-server officer-sheet --help»)",
                                         f"{option} is missing (see 'kiosk-server officer-sheet --help')"))
    return None


def _officer_sheet(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.results import officer_sheet

    period = _month(args, settings)
    html = officer_sheet.render(officer_sheet.build_sheet(engine, settings, args.agency, args.officer, period,
                                                          utc_now()))
    if args.out is None:
        sys.stdout.write(html)
        return EXIT_OK
    args.out.write_text(html, encoding="utf-8")
    say(f"Đã ghi phiếu của cán bộ {args.officer}, {period.label('vi').lower()}, vào {args.out}",
        f"wrote officer {args.officer}'s sheet for {period.label('en')} to {args.out}")
    return EXIT_OK


def _precheck_digest(args: argparse.Namespace) -> int | None:
    if args.digest_command is None:
        return refuse(BilingualError("Cần chọn một việc: digest send", "choose an action: digest send"))
    return None


def _digest(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.results import digest

    period = _month(args, settings)
    code = EXIT_OK
    for sent in digest.send(engine, settings, period, utc_now(), args.agency):
        who = ", ".join(sent.flagged) or "không ai / none"
        say(f"Đã gửi thư {period.label('vi').lower()} của {sent.agency_code} tới {', '.join(sent.to)}; "
            f"cán bộ bị cảnh báo: {who}",
            f"sent {sent.agency_code}'s {period.label('en')} digest to {', '.join(sent.to)}; flagged: {who}")
        if sent.refused:
            say(f"Máy chủ thư từ chối: {sent.refused}", f"refused by the mail server: {sent.refused}", sys.stderr)
            code = EXIT_PROBLEM
    return code


COMMANDS: dict[str, Handler] = {"report": _report, "officer-sheet": _officer_sheet, "digest": _digest}
PRECHECKS: dict[str, Precheck] = {"report": _precheck_report, "officer-sheet": _precheck_sheet,
                                  "digest": _precheck_digest}
