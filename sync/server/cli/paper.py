"""`kiosk-server paper`: print numbered questionnaires, import typed ones from a spreadsheet, read scanned ones."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from kiosk.domain.errors import BilingualError
from sync.server import settings as server_settings
from sync.server.cli.common import EXIT_OK, EXIT_PROBLEM, Adder, Handler, parse_day, refuse, say, staged
from sync.server.settings import ServerSettings


def add_commands(sub: Any, add: Adder) -> None:
    """The `paper` sub-command and its actions."""
    paper = add(sub, "paper", "paper questionnaires: print numbered forms, import typed ones, read scanned ones")
    p_sub = paper.add_subparsers(dest="paper_command", required=True, metavar="ACTION")
    p_print = add(p_sub, "print", "number and draw forms for an agency and period, as one PDF")
    p_print.add_argument("--agency", required=True, help="agency code")
    p_print.add_argument("--counter", help="counter code printed on the forms (default: none)")
    p_print.add_argument("--period", help="2026-Q4, 2026-11 or 2026 (instead of --from/--to)")
    p_print.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD (with --to)")
    p_print.add_argument("--to", dest="date_to", metavar="DATE", help="last day, included, YYYY-MM-DD")
    p_print.add_argument("--count", required=True, type=int, help="how many forms")
    p_print.add_argument("--by", default="", help="who printed them (kept with the numbers)")
    p_print.add_argument("--out", required=True, type=Path, help="the PDF to write")
    p_import = add(p_sub, "import", "store typed forms from an .xlsx or .csv file: every row, or none")
    p_import.add_argument("file", type=Path, help="the spreadsheet (columns: see the README)")
    p_import.add_argument("--agency", required=True, help="agency code")
    p_import.add_argument("--by", required=True, help="who typed them (kept with each answer)")
    p_scan = add(p_sub, "scan", "read scanned or photographed forms: clear ones stored, unclear ones held")
    p_scan.add_argument("images", type=Path, nargs="+", help="image files (JPEG, PNG …)")
    p_scan.add_argument("--agency", required=True, help="agency code")
    p_scan.add_argument("--by", required=True, help="who scanned them (kept with each answer)")


def _day(text: str | None, option: str) -> date | None:
    return None if text is None else parse_day(text, option)


def _secret(args: argparse.Namespace, settings: ServerSettings) -> tuple[Any, Path]:
    from sync.server.secret import ServerSecret

    directory = server_settings.data_dir(settings, getattr(args, "data_dir", None))
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return ServerSecret.load_or_create(directory), directory


def _paper(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.channels import paper_entry, paper_form

    zone = ZoneInfo(server_settings.report_timezone(settings))
    if args.paper_command == "print":
        period = paper_form.parse_period(args.period, _day(args.date_from, "--from"), _day(args.date_to, "--to"))
        with staged(args.out) as partial, partial.open("wb") as out:   # the folder is checked before any number
            printed = paper_form.print_forms(engine, agency_code=args.agency, counter_code=args.counter,
                                             period=period, count=args.count, printed_by=args.by, out=out)
        first, last = printed.numbers[0], printed.numbers[-1]
        say(f"Đã in {len(printed.numbers)} phiếu số {first}–{last} ({period.label('vi')}) vào {args.out}",
            f"printed {len(printed.numbers)} form(s) numbered {first}-{last} ({period.label('en')}) to {args.out}")
        return EXIT_OK
    secret, directory = _secret(args, settings)
    if args.paper_command == "import":
        try:
            data = args.file.read_bytes()
        except OSError as error:
            raise BilingualError(f"Không đọc được tệp {args.file}: {error.strerror}",
                                 f"cannot read {args.file}: {error.strerror}") from None
        rows = paper_entry.read_table(args.file.name, data)
        stored = paper_entry.import_rows(engine, secret, agency_code=args.agency, rows=rows, entered_by=args.by,
                                         zone=zone)
        say(f"Đã nhập {len(stored)} phiếu giấy từ {args.file}", f"imported {len(stored)} paper forms from {args.file}")
        return EXIT_OK
    problems = 0
    for image in args.images:
        try:
            try:
                data = image.read_bytes()
            except OSError as error:
                raise BilingualError(f"Không đọc được tệp: {error.strerror}", f"cannot read the file: "
                                     f"{error.strerror}") from None
            done = paper_entry.scan(engine, secret, directory, agency_code=args.agency, data=data, name=image.name,
                                    entered_by=args.by, zone=zone)
        except BilingualError as error:
            problems += 1
            say(f"{image}: lỗi: {error.vi}", f"{image}: error: {error.en}", sys.stderr)
            continue
        number = done.reading.form_number or "?"
        if done.status == "stored":
            say(f"{image}: phiếu số {number} đã ghi nhận", f"{image}: form number {number} stored")
        else:
            named = paper_form.titles()
            unclear_vi = "; ".join(named.get(key, (key, key))[0] for key in done.reading.unclear)
            unclear_en = "; ".join(named.get(key, (key, key))[1] for key in done.reading.unclear)
            say(f"{image}: phiếu số {number} chờ duyệt (#{done.reading_id}), chưa rõ: {unclear_vi}",
                f"{image}: form number {number} held for review (#{done.reading_id}), unclear: {unclear_en}")
    return EXIT_PROBLEM if problems else EXIT_OK


def run(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    """Run a `paper` action; a refusal is one bilingual message and exit code 2."""
    try:
        return _paper(engine, args, settings)
    except BilingualError as error:
        return refuse(error)


COMMANDS: dict[str, Handler] = {"paper": run}
