"""The `kiosk-server` command: runs the central server, and the sub-commands IT uses to manage it.

Every error is one bilingual message on stderr and exit code 2; no traceback reaches the terminal.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import getpass
import json
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine, exc

from kiosk import __version__
from kiosk.domain.errors import BilingualError
from sync.server import settings as server_settings
from sync.server.db import open_database, unreachable, utc_now
from sync.server.settings import ServerSettings

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def _say(vi: str, en: str = "", stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    print(vi, file=stream)
    if en:
        print(f"  {en}", file=stream)


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Sub-parsers use SUPPRESS so an option given before the sub-command is not reset by its default.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--config", type=Path, default=default, metavar="PATH",
                        help="settings file (default: $KIOSK_SERVER_CONFIG, /etc/kiosk/server.toml, built-in)")
    parser.add_argument("--db", default=default, metavar="URL",
                        help="database URL, e.g. postgresql+psycopg://kiosk@localhost/kiosk "
                        "(default: [database] url, else SQLite in the data directory)")
    parser.add_argument("--data-dir", type=Path, default=default, metavar="PATH",
                        help="data directory (default: $KIOSK_SERVER_DATA, else ~/.local/share/kiosk-server)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kiosk-server", description="Máy chủ trung tâm của kiosk Một cửa / "
        "the central server of the one-stop counter kiosks")
    parser.add_argument("--version", action="version", version=f"kiosk-server {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(parent: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        child: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        _common(child, top=False)
        return child

    run = add(sub, "run", "serve the device API and the IT pages (stops cleanly on SIGTERM)")
    run.add_argument("--host", help="address to listen on (default: [server] host, 127.0.0.1)")
    run.add_argument("--port", type=int, help="port (default: [server] port, 8080)")
    run.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])

    db = add(sub, "db", "the database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    add(db_sub, "upgrade", "bring the schema up to date in place (run also does this on start)")

    agency = add(sub, "agency", "agencies (public administrative service centres)")
    a_sub = agency.add_subparsers(dest="agency_command", required=True, metavar="ACTION")
    a_add = add(a_sub, "add", "register an agency")
    a_add.add_argument("--code", required=True, help="short code, e.g. HK or 01-HCC")
    a_add.add_argument("--exist-ok", action="store_true", help="succeed without change if the code exists")
    a_set = add(a_sub, "set", "change an agency's details")
    a_set.add_argument("code", help="the agency's code")
    for child, required in ((a_add, True), (a_set, False)):
        child.add_argument("--name", required=required, help="name, e.g. Trung tâm Phục vụ hành chính công xã …")
        child.add_argument("--parent", help="the province or commune it belongs to")
        child.add_argument("--hotline", help="hotline printed on slips")
        child.add_argument("--complaint-address", help="address for complaints and feedback")
        child.add_argument("--email")
        child.add_argument("--website")
    a_list = add(a_sub, "list", "list agencies")
    a_list.add_argument("--json", action="store_true")

    counter = add(sub, "counter", "counters (quầy) of an agency")
    c_sub = counter.add_subparsers(dest="counter_command", required=True, metavar="ACTION")
    c_add = add(c_sub, "add", "register a counter")
    c_add.add_argument("--agency", required=True, help="agency code")
    c_add.add_argument("--code", required=True, help="counter code, e.g. Q01")
    c_add.add_argument("--name", required=True)
    c_add.add_argument("--procedures", default="", help="most-used procedure codes, e.g. 1.001193,1.000894")
    c_add.add_argument("--exist-ok", action="store_true", help="succeed without change if the code exists")

    officer = add(sub, "officer", "officers of an agency")
    o_sub = officer.add_subparsers(dest="officer_command", required=True, metavar="ACTION")
    o_add = add(o_sub, "add", "register an officer")
    o_add.add_argument("--agency", required=True, help="agency code")
    o_add.add_argument("--code", required=True, help="officer code, e.g. CB001")
    o_add.add_argument("--name", required=True)
    o_add.add_argument("--title", default="")
    o_add.add_argument("--counter", help="counter code (default: any counter of the agency)")

    device = add(sub, "device", "kiosk devices")
    d_sub = device.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    d_add = add(d_sub, "add", "register a device and print its one-time enrolment code")
    d_add.add_argument("--agency", required=True, help="agency code")
    d_add.add_argument("--counter", required=True, help="counter code")
    d_add.add_argument("--json", action="store_true", help="print the device and its code as JSON")
    d_code = add(d_sub, "code", "issue a new enrolment code for a device not enrolled yet")
    d_code.add_argument("device_id")
    d_code.add_argument("--json", action="store_true")
    d_list = add(d_sub, "list", "list devices")
    d_list.add_argument("--json", action="store_true")
    d_revoke = add(d_sub, "revoke", "revoke a device: its requests are refused from now on")
    d_revoke.add_argument("device_id")
    d_review = add(d_sub, "review", "mark a device whose rating chain is broken as looked at by IT: the ratings "
                   "the server holds from it count in reports again")
    d_review.add_argument("device_id")
    d_review.add_argument("--by", default="", help="who reviewed it (default: the login name)")

    catalog = add(sub, "catalog", "the procedure catalog distributed to kiosks")
    k_sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    k_import = add(k_sub, "import", "validate a national .json or a .csv catalog and distribute it")
    k_import.add_argument("file", type=Path)

    admin = add(sub, "admin", "IT accounts for the server's pages")
    adm_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    adm_add = add(adm_sub, "add", "create an account (password asked twice, or one line with --password-stdin)")
    adm_add.add_argument("username")
    adm_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    fleet = add(sub, "fleet", "every device and where it stands")
    fleet.add_argument("--json", action="store_true", help="print as JSON for scripts")
    _report_parser(add(sub, "report", "satisfaction results for a period, grouped, as a table, CSV, XLSX or JSON"))
    _alert_parser(add(sub, "alert", "alert rules and their e-mails (dissatisfied share, harassment, silent devices)"),
                  add)
    return parser


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _agency(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import registry

    fields = {name: getattr(args, name, None) for name in registry.AGENCY_FIELDS}
    if args.agency_command == "add":
        found, new = registry.add_agency(engine, args.code, {k: v or "" for k, v in fields.items()},
                                         exist_ok=args.exist_ok)
        _say(f"{'Đã thêm' if new else 'Đã có'} cơ quan {found.code}: {found.name}",
             f"{'added' if new else 'already present:'} agency {found.code}: {found.name}")
    elif args.agency_command == "set":
        found = registry.set_agency(engine, args.code, fields)
        _say(f"Đã cập nhật cơ quan {found.code}: {found.name}", f"updated agency {found.code}")
    else:
        agencies = registry.list_agencies(engine)
        if args.json:
            _print_json([dataclasses.asdict(a) for a in agencies])
        else:
            for a in agencies:
                print(f"{a.code}\t{a.name}\t{a.parent}\t{a.hotline}")
    return EXIT_OK


def _counter(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import registry

    new = registry.add_counter(engine, args.agency, args.code, args.name, registry.parse_procedures(args.procedures),
                               exist_ok=args.exist_ok)
    _say(f"{'Đã thêm' if new else 'Đã có'} quầy {args.code} của {args.agency}",
         f"{'added' if new else 'already present:'} counter {args.code} of {args.agency}")
    return EXIT_OK


def _officer(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import registry

    registry.add_officer(engine, args.agency, args.code, args.name, args.title, args.counter)
    _say(f"Đã thêm cán bộ {args.code} ({args.name}) của {args.agency}",
         f"added officer {args.code} ({args.name}) of {args.agency}")
    return EXIT_OK


def _device(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import devices

    if args.device_command == "review":
        return _device_review(engine, args)
    lifetime = timedelta(hours=settings.enrolment.code_lifetime_h)
    if args.device_command == "add":
        made = devices.add_device(engine, args.agency, args.counter, lifetime)
        if args.json:
            _print_json(made.as_json())
            return EXIT_OK
        _say(f"Đã thêm thiết bị {made.device_id} tại {made.agency_name} — {made.counter_name}",
             f"added device {made.device_id} at {made.agency} / {made.counter}")
        _say(f"Mã đăng ký (dùng một lần, hết hạn {made.code_expires_at}): {made.code}",
             f"enrolment code (one-time, expires {made.code_expires_at}): {made.code}")
        _say(f"Trên kiosk: kiosk-sync enroll --server URL --code {made.code}",
             f"on the kiosk: kiosk-sync enroll --server URL --code {made.code}")
        return EXIT_OK
    if args.device_command == "code":
        code, expires = devices.reissue_code(engine, args.device_id, lifetime)
        if args.json:
            _print_json({"device_id": args.device_id, "code": code, "code_expires_at": expires.isoformat()})
        else:
            _say(f"Mã đăng ký mới (mã cũ hết hiệu lực, hết hạn {expires.isoformat()}): {code}",
                 f"new enrolment code (the old one no longer works; expires {expires.isoformat()}): {code}")
        return EXIT_OK
    if args.device_command == "revoke":
        changed = devices.revoke(engine, args.device_id)
        _say(f"Thiết bị {args.device_id} {'đã bị thu hồi' if changed else 'đã bị thu hồi từ trước'}",
             f"device {args.device_id} {'revoked' if changed else 'was already revoked'}")
        return EXIT_OK
    listed = devices.list_devices(engine)
    if args.json:
        _print_json(listed)
    else:
        for d in listed:
            print(f"{d['device_id']}\t{d['status']}\t{d['agency']}\t{d['counter']}\t{d['acked_seq']}\t{d['chain_state']}")
    return EXIT_OK


def _catalog(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import catalog

    stored = catalog.import_file(engine, args.file)
    if stored.new:
        _say(f"Đã nhập {stored.count} thủ tục thành phiên bản danh mục {stored.version} (SHA-256 {stored.sha256})",
             f"imported {stored.count} procedures as catalog version {stored.version} (SHA-256 {stored.sha256})")
    else:
        _say(f"Danh mục không đổi: trùng phiên bản {stored.version} ({stored.count} thủ tục)",
             f"catalog unchanged: same as version {stored.version} ({stored.count} procedures)")
    return EXIT_OK


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise BilingualError("Không có bàn phím để hỏi mật khẩu; dùng --password-stdin",
                         "no terminal to ask for the password; use --password-stdin")
    first = getpass.getpass("Mật khẩu / Password: ")
    if getpass.getpass("Nhập lại / Again: ") != first:
        raise BilingualError("Hai lần nhập không khớp; không tạo tài khoản", "the two entries differ; no account made")
    return first


def _admin(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import admin

    admin.add_user(engine, args.username, _read_password(args.password_stdin))
    _say(f"Đã tạo tài khoản {args.username}", f"created account {args.username}")
    return EXIT_OK


def _fleet(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import fleet

    devices = fleet.fleet(engine, utc_now(), timedelta(hours=settings.fleet.silent_after_h))
    if args.json:
        _print_json([d.as_json() for d in devices])
        return EXIT_OK
    if not devices:
        _say("Chưa có thiết bị nào", "no devices yet")
    for d in devices:
        flags = ", ".join(f"{a.vi} / {a.en}" for a in d.alerts) or ("bình thường / ok" if d.status == "active"
                                                                    else d.status)
        last = d.last_contact_at.isoformat(timespec="minutes") if d.last_contact_at else "—"
        print(f"{d.device_id}  {d.agency_code}/{d.counter_code}  {d.status}  liên lạc/contact {last}  "
              f"đã nhận/acked {d.acked_seq}  hàng đợi/queue {d.queue_depth if d.queue_depth is not None else '—'}  "
              f"chuỗi/chain {d.chain_state}  [{flags}]")
    return EXIT_OK


# ---- issue 6: `report` and `device review` (reports) ---------------------------------------------------------

REPORT_FORMATS = ("table", "csv", "xlsx", "json")


def _report_parser(report: argparse.ArgumentParser) -> None:
    # Values are checked by _report_options (not argparse `choices`), so every refusal is bilingual.
    report.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD (with --to)")
    report.add_argument("--to", dest="date_to", metavar="DATE", help="last day, included, YYYY-MM-DD")
    report.add_argument("--period", metavar="KIND", help="day, week, month, quarter or year (instead of --from/--to)")
    report.add_argument("--date", metavar="DATE", help="a day in that period (default: today)")
    report.add_argument("--group-by", default="agency", metavar="BY",
                        help="agency, counter, officer, procedure or field (default: agency)")
    report.add_argument("--agency", metavar="CODE", help="one agency (default: every agency)")
    report.add_argument("--counter", metavar="CODE", help="one counter of that agency")
    report.add_argument("--include-repeats", action="store_true", help="count suspected repeat presses too")
    report.add_argument("--format", default="table", metavar="FORMAT", help="table, csv, xlsx or json (default: table)")
    report.add_argument("--table", default="groups", metavar="NAME",
                        help="for csv: groups, levels or elements (default: groups)")
    report.add_argument("--lang", default="vi", metavar="LANG", help="vi or en (default: vi)")
    report.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (required for xlsx)")


def _parse_day(text: str, option: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise BilingualError(f"{option}: ngày {text!r} không hợp lệ; viết YYYY-MM-DD (ví dụ 2026-11-30) hoặc DD/MM/YYYY",
                     f"{option}: invalid date {text!r}; write YYYY-MM-DD (e.g. 2026-11-30) or DD/MM/YYYY")


def _report_options(args: argparse.Namespace) -> None:
    """Check the report's options before anything is opened; keep what they mean on `args`."""
    from sync.server import exports, reports

    def refuse(vi: str, en: str) -> BilingualError:
        return BilingualError(vi, en)

    if args.group_by not in reports.GROUPINGS:
        raise refuse(f"--group-by: không nhóm theo {args.group_by!r} được; dùng {', '.join(reports.GROUPINGS)}",
                     f"--group-by: cannot group by {args.group_by!r}; use {', '.join(reports.GROUPINGS)}")
    if args.format not in REPORT_FORMATS:
        raise refuse(f"--format: không có định dạng {args.format!r}; dùng {', '.join(REPORT_FORMATS)}",
                     f"--format: no format {args.format!r}; use {', '.join(REPORT_FORMATS)}")
    if args.table not in exports.TABLES:
        raise refuse(f"--table: không có bảng {args.table!r}; dùng {', '.join(exports.TABLES)}",
                     f"--table: no table {args.table!r}; use {', '.join(exports.TABLES)}")
    if args.lang not in ("vi", "en"):
        raise refuse(f"--lang: ngôn ngữ {args.lang!r} không có; dùng vi hoặc en",
                     f"--lang: no language {args.lang!r}; use vi or en")
    if args.format == "xlsx" and args.out is None:
        raise refuse("Định dạng xlsx cần --out TỆP (tệp Excel không in ra màn hình được)",
                     "the xlsx format needs --out FILE (an Excel file cannot be printed to the terminal)")
    if args.counter is not None and args.agency is None:
        raise refuse("--counter cần kèm --agency (mã quầy chỉ riêng trong một cơ quan)",
                     "--counter needs --agency too (counter codes are unique only within an agency)")
    ranged = args.date_from is not None or args.date_to is not None
    if ranged and (args.period is not None or args.date is not None):
        raise refuse("Dùng --from/--to hoặc --period/--date, không dùng cả hai",
                     "use either --from/--to or --period/--date, not both")
    if ranged:
        if args.date_from is None or args.date_to is None:
            raise refuse("Cần cả --from và --to", "both --from and --to are needed")
        args.report_period = reports.Period.between(_parse_day(args.date_from, "--from"),
                                                    _parse_day(args.date_to, "--to"))
        return
    if args.period is None:
        raise refuse("Cần chọn kỳ: --from NGÀY --to NGÀY, hoặc --period day|week|month|quarter|year [--date NGÀY]",
                     "choose a period: --from DATE --to DATE, or --period day|week|month|quarter|year [--date DATE]")
    if args.period not in reports.PERIOD_KINDS or args.period == "range":
        raise refuse(f"--period: loại kỳ {args.period!r} không hợp lệ; dùng day, week, month, quarter hoặc year",
                     f"--period: invalid period kind {args.period!r}; use day, week, month, quarter or year")
    args.report_anchor = None if args.date is None else _parse_day(args.date, "--date")
    args.report_period = None


def _precheck_report(args: argparse.Namespace) -> int | None:
    try:
        _report_options(args)
    except BilingualError as error:
        _say(f"Lỗi: {error.vi}", f"Error: {error.en}", sys.stderr)
        return EXIT_USAGE
    return None


def _report(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from zoneinfo import ZoneInfo

    from sync.server import exports, reports

    period = args.report_period
    if period is None:
        today = utc_now().astimezone(ZoneInfo(server_settings.report_timezone(settings))).date()
        period = reports.Period.of(args.period, args.report_anchor or today)
    query = reports.ReportQuery(period, args.group_by, args.agency, args.counter, args.include_repeats)
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
    _say(f"Đã ghi báo cáo {period.label('vi')} vào {args.out}", f"wrote the {period.label('en')} report to {args.out}")
    return EXIT_OK


def _device_review(engine: Engine, args: argparse.Namespace) -> int:
    from sync.server import reports

    by = args.by or getpass.getuser()
    done = reports.review_device(engine, args.device_id, by)
    _say(f"Đã ghi nhận {done.reviewed_by} xem xét chuỗi ({done.chain_state}) của thiết bị {done.device_id}: các "
         "đánh giá máy chủ đã nhận từ thiết bị này được tính lại trong báo cáo",
         f"recorded that {done.reviewed_by} reviewed the {done.chain_state} chain of device {done.device_id}: "
         "the ratings the server holds from it count in reports again")
    return EXIT_OK


# ---- issue 6: `alert` (alerts) ---------------------------------------------------------------------------------

def _alert_parser(alert: argparse.ArgumentParser,
                  add: Callable[[Any, str, str], argparse.ArgumentParser]) -> None:
    # Values are read by _alert (not argparse types or `required`), so every refusal is one bilingual line.
    sub = alert.add_subparsers(dest="alert_command", metavar="ACTION")
    a_add = add(sub, "add", "add a rule: too many dissatisfied ratings, a harassment report, or a silent device")
    a_add.add_argument("--agency", metavar="CODE", help="the agency whose ratings or devices are watched")
    a_add.add_argument("--counter", metavar="CODE", help="only this counter of the agency (default: all of them)")
    a_add.add_argument("--kind", metavar="KIND", help="dissatisfied, harassment or silent")
    a_add.add_argument("--share", metavar="SHARE", help="dissatisfied: fire when the share rated 1 or 2 is over "
                       "this, e.g. 0.5 or 50%% (default 0.5)")
    a_add.add_argument("--window-h", metavar="HOURS", help="dissatisfied: within the last HOURS (default 24); "
                       "silent: hours without contact (default: [alerts] or [fleet] silent_after_h)")
    a_add.add_argument("--min-ratings", metavar="N", help="dissatisfied: only with at least N ratings (default 4)")
    a_add.add_argument("--email", metavar="ADDRESSES", help="who receives the alerts, e.g. a@b.gov.vn,c@d.gov.vn")
    a_list = add(sub, "list", "list the alert rules")
    a_list.add_argument("--all", action="store_true", help="include removed rules")
    a_list.add_argument("--json", action="store_true", help="print as JSON for scripts")
    a_remove = add(sub, "remove", "stop a rule (its past alerts stay on record)")
    a_remove.add_argument("rule_id", metavar="ID")
    a_check = add(sub, "check", "evaluate every rule now and e-mail new alerts (for cron; `run` also does it)")
    a_check.add_argument("--json", action="store_true", help="print the outcome as JSON")
    a_test = add(sub, "send-test", "send a test e-mail through the [alerts] SMTP settings")
    a_test.add_argument("--to", metavar="ADDRESSES", help="who receives it")


def _alert_args(args: argparse.Namespace) -> dict[str, Any]:
    """The `alert add` options, parsed; a ServerError names the first one that is wrong."""
    from sync.server import alerts

    command = args.alert_command
    if command is None:
        raise BilingualError("Cần chọn một việc: alert add | list | remove | check | send-test",
                         "choose an action: alert add | list | remove | check | send-test")
    if command == "remove":
        try:
            return {"rule_id": int(args.rule_id)}
        except ValueError:
            raise BilingualError(f"Số quy tắc {args.rule_id[:40]!r} không phải một số (xem «kiosk-server alert list»)",
                             f"the rule number {args.rule_id[:40]!r} is not a number (see "
                             "'kiosk-server alert list')") from None
    if command == "send-test" and not args.to:
        raise BilingualError("Cần --to ĐỊA_CHỈ: thư thử gửi tới đâu", "--to ADDRESS is needed: where to send the test")
    if command != "add":
        return {}
    for option, value in (("--agency", args.agency), ("--kind", args.kind), ("--email", args.email)):
        if not value:
            raise BilingualError(f"Thiếu {option} (xem «kiosk-server alert add --help»)",
                             f"{option} is missing (see 'kiosk-server alert add --help')")
    return {
        "share": None if args.share is None else alerts.parse_share(args.share),
        "window_h": None if args.window_h is None else alerts.parse_hours(args.window_h),
        "min_ratings": None if args.min_ratings is None else alerts.parse_count(args.min_ratings),
    }


def _precheck_alert(args: argparse.Namespace) -> int | None:
    try:
        args.alert_values = _alert_args(args)
    except BilingualError as error:
        _say(f"Lỗi: {error.vi}", f"Error: {error.en}", sys.stderr)
        return EXIT_USAGE
    return None


def _alert(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import alerts, mail

    command, values = args.alert_command, args.alert_values
    if command == "add":
        rule = alerts.add_rule(engine, args.agency, args.counter, args.kind, email_to=args.email, **values)
        vi, en = rule.condition(settings)
        _say(f"Đã thêm quy tắc cảnh báo #{rule.id} cho {rule.where()[0]}: {vi}; gửi tới {', '.join(rule.email_to)}",
             f"added alert rule #{rule.id} for {rule.where()[1]}: {en}; mailed to {', '.join(rule.email_to)}")
        return EXIT_OK
    if command == "remove":
        rule = alerts.remove_rule(engine, values["rule_id"])
        _say(f"Đã gỡ quy tắc cảnh báo #{rule.id} ({rule.where()[0]}); các cảnh báo đã có vẫn được lưu",
             f"removed alert rule #{rule.id} ({rule.where()[1]}); the alerts it raised stay on record")
        return EXIT_OK
    if command == "list":
        rules = alerts.list_rules(engine, include_removed=args.all)
        if args.json:
            _print_json([r.as_json(settings) for r in rules])
        elif not rules:
            _say("Chưa có quy tắc cảnh báo nào", "no alert rules yet")
        for r in rules if not args.json else []:
            vi, en = r.condition(settings)
            state = "" if r.active else "  [đã gỡ / removed]"
            print(f"#{r.id}\t{r.agency_code}/{r.counter_code or '*'}\t{r.kind}\t{vi} / {en}\t"
                  f"→ {', '.join(r.email_to)}{state}")
        return EXIT_OK
    if command == "send-test":
        recipients = alerts.parse_recipients(args.to)
        with mail.Mailer(settings) as mailer:
            refused = mailer.send(mail.Outgoing(
                recipients, "[Kiosk Một cửa] Thư thử cảnh báo / alert test e-mail",
                "Thư thử từ máy chủ kiosk Một cửa: cấu hình gửi thư cảnh báo hoạt động.\n\n"
                "A test from the one-stop kiosk server: alert e-mails work.\n", "kiosk-alert-test"), utc_now())
        if refused:
            raise BilingualError(f"Máy chủ thư từ chối: {refused}", f"the mail server refused: {refused}")
        _say(f"Đã gửi thư thử tới {', '.join(recipients)}", f"sent a test e-mail to {', '.join(recipients)}")
        return EXIT_OK
    result = alerts.check(engine, settings)
    if args.json:
        _print_json({"raised": result.raised, "sent": result.sent, "failed": result.failed, "busy": result.busy,
                     "errors": [{"vi": vi, "en": en} for vi, en in result.errors]})
    elif result.busy:
        _say("Một tiến trình khác đang kiểm tra cảnh báo quá lâu; hãy thử lại sau",
             "another process has been checking the alerts for too long; try again later", sys.stderr)
    else:
        _say(f"Đã kiểm tra: {result.raised} cảnh báo mới, {result.sent} thư đã gửi, {result.failed} thư chưa gửi được",
             f"checked: {result.raised} new alerts, {result.sent} e-mails sent, {result.failed} not sent")
        for vi, en in result.errors:
            _say(f"Lỗi: {vi}", f"Error: {en}", sys.stderr)
    return EXIT_PROBLEM if result.busy or result.failed else EXIT_OK


def _start_alert_checker(engine: Engine, settings: ServerSettings) -> Any:
    """The background alert checker of `run` (every [alerts] check_interval_s; 0: none)."""
    from sync.server import alerts

    checker = alerts.BackgroundChecker(engine, settings)
    checker.start()
    return checker

# ---- end of `alert` --------------------------------------------------------------------------------------------


# Checks run right after parsing, before settings or the database are opened (a bad option changes nothing).
_PRECHECKS: dict[str, Callable[[argparse.Namespace], int | None]] = {"report": _precheck_report,
                                                                     "alert": _precheck_alert}


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(EXIT_OK)


def _run(settings: ServerSettings, url: str, args: argparse.Namespace) -> int:
    import uvicorn

    from sync.server.app import create_app

    engine = open_database(url)
    checker = None
    try:
        app = create_app(settings, engine)
        config = uvicorn.Config(app, host=args.host or settings.server.host, port=args.port or settings.server.port,
                                log_level=args.log_level, proxy_headers=True, server_header=False,
                                timeout_graceful_shutdown=20)
        # uvicorn.Server stops accepting, finishes requests in flight and then re-raises the signal it caught;
        # these handlers turn that into a plain exit 0, which is what a clean stop is to systemd and to scripts.
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, _exit_cleanly)
        checker = _start_alert_checker(engine, settings)
        # Everything loaded so far (modules, the app, tables) lives as long as the process: kept out of the
        # collector's full passes, which otherwise walk it all and showed as 40-60 ms pauses on a dashboard page
        # that makes many objects (p95 130 ms against p50 73 ms on the month's officer ranking; 84 ms frozen).
        gc.collect()
        gc.freeze()
        uvicorn.Server(config).run()
    finally:
        if checker is not None:
            checker.stop()
        engine.dispose()
    return EXIT_OK


_COMMANDS: dict[str, Callable[[Engine, argparse.Namespace, ServerSettings], int]] = {
    "agency": _agency, "counter": _counter, "officer": _officer, "device": _device, "catalog": _catalog,
    "admin": _admin, "fleet": _fleet, "report": _report, "alert": _alert,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk-server` console script."""
    args = build_parser().parse_args(argv)
    precheck = _PRECHECKS.get(args.command)
    if precheck is not None and (refused := precheck(args)) is not None:
        return refused
    url = ""
    try:
        settings = server_settings.resolve(args.config)
        directory = server_settings.data_dir(settings, args.data_dir)
        url = server_settings.database_url(settings, args.db, directory)
        if url.startswith("sqlite"):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if args.command == "run":
            return _run(settings, url, args)
        engine = open_database(url)
        try:
            if args.command == "db":
                _say("Cơ sở dữ liệu đã ở phiên bản mới nhất", "the database schema is up to date")
                return EXIT_OK
            return _COMMANDS[args.command](engine, args, settings)
        finally:
            engine.dispose()
    except BilingualError as error:
        _say(f"Lỗi: {error.vi}", f"Error: {error.en}", sys.stderr)
    except exc.SQLAlchemyError as error:
        problem = unreachable(error, url)
        _say(f"Lỗi: {problem.vi}", f"Error: {problem.en}", sys.stderr)
    except OSError as error:
        _say(f"Lỗi: {error}", f"Error: {error}", sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
