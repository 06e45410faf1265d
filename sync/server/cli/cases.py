"""`kiosk-server cases`: make the cases from new comments, list them, and report how they were handled."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Engine

from kiosk.domain.errors import BilingualError
from sync.server.cli.common import EXIT_OK, Adder, Handler, Precheck, print_json, refuse, say
from sync.server.settings import ServerSettings

PERIODS = ("month", "quarter", "year")


def add_commands(sub: Any, add: Adder) -> None:
    """The `cases` sub-command and its actions."""
    cases = add(sub, "cases", "feedback cases: comments, harassment reports and callback requests to answer")
    sub = cases.add_subparsers(dest="cases_command", metavar="ACTION")
    add(sub, "sync", "make the cases of new comments and harassment reports (also done by each alert check)")
    c_list = add(sub, "list", "list the cases, newest first")
    c_list.add_argument("--status", metavar="STATUS", default="", help="new, assigned, answered or closed")
    c_list.add_argument("--agency", metavar="CODE", default="", help="only this agency's")
    c_list.add_argument("--overdue", action="store_true", help="only open cases past their due date")
    c_list.add_argument("--json", action="store_true", help="print as JSON for scripts")
    c_report = add(sub, "report", "cases received, answered, answered on time and median working days to answer")
    c_report.add_argument("--period", metavar="KIND", default="month", help="month (default), quarter or year")
    c_report.add_argument("--date", metavar="DATE", help="a day in that period (default: today)")
    c_report.add_argument("--agency", metavar="CODE", default="", help="only this agency")
    c_report.add_argument("--json", action="store_true", help="print as JSON for scripts")


def _precheck(args: argparse.Namespace) -> int | None:
    from sync.server.cases.store import STATUSES
    from sync.server.cli.common import parse_day

    try:
        if args.cases_command is None:
            raise BilingualError("Cần chọn một việc: cases sync | list | report",
                                 "choose an action: cases sync | list | report")
        if args.cases_command == "list" and args.status and args.status not in STATUSES:
            raise BilingualError(f"--status: không có trạng thái {args.status!r}; dùng {', '.join(STATUSES)}",
                                 f"--status: no status {args.status!r}; use {', '.join(STATUSES)}")
        if args.cases_command == "report":
            if args.period not in PERIODS:
                raise BilingualError(f"--period: loại kỳ {args.period!r} không hợp lệ; dùng month, quarter hoặc year",
                                     f"--period: invalid period kind {args.period!r}; use month, quarter or year")
            args.cases_anchor = None if args.date is None else parse_day(args.date, "--date")
    except BilingualError as error:
        return refuse(error)
    return None


def _cases(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.cases import store
    from sync.server.results.periods import Period

    made = store.sync_from_ratings(engine, settings)
    command = args.cases_command
    if command == "sync":
        say(f"Đã tạo {made} phản ánh mới", f"{made} new cases made")
        return EXIT_OK
    if command == "list":
        listed = store.list_cases(engine, settings, status=args.status, agency=args.agency, overdue=args.overdue)
        if args.json:
            print_json([c.as_json() for c in listed])
            return EXIT_OK
        if not listed:
            say("Không có phản ánh nào", "no cases")
        today = store.today(settings)
        for c in listed:
            late = " QUÁ HẠN/OVERDUE" if c.overdue(today) else ""
            print(f"#{c.id}\t{c.agency_code}\t{c.status}\t{c.due_on.isoformat()}{late}\t{c.assignee or '-'}\t"
                  f"{c.text[:60]!r}")
        return EXIT_OK
    period = Period.of(args.period, args.cases_anchor or store.today(settings))
    figures = store.report(engine, settings, period.first, period.last, args.agency)
    if args.json:
        print_json({"period": {"first": period.first.isoformat(), "last": period.last.isoformat()},
                    "agencies": [f.as_json() for f in figures]})
        return EXIT_OK
    say(f"Phản ánh {period.label('vi').lower()} (số ngày: ngày làm việc)",
        f"cases, {period.label('en')} (days: working days)")
    print("agency\treceived\tanswered\ton_time\topen_overdue\tmedian_days")
    for f in figures:
        median = "-" if f.median_days is None else f"{f.median_days:g}"
        print(f"{f.agency_code}\t{f.received}\t{f.answered}\t{f.on_time}\t{f.open_overdue}\t{median}")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"cases": _cases}
PRECHECKS: dict[str, Precheck] = {"cases": _precheck}
