"""The `kiosk-server` command: runs the central server, and the sub-commands IT uses to manage it.

Every error is one bilingual message on stderr and exit code 2; no traceback reaches the terminal.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine, exc

from kiosk import __version__
from kiosk.errors import KioskError
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
        raise KioskError("Không có bàn phím để hỏi mật khẩu; dùng --password-stdin",
                         "no terminal to ask for the password; use --password-stdin")
    first = getpass.getpass("Mật khẩu / Password: ")
    if getpass.getpass("Nhập lại / Again: ") != first:
        raise KioskError("Hai lần nhập không khớp; không tạo tài khoản", "the two entries differ; no account made")
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


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(EXIT_OK)


def _run(settings: ServerSettings, url: str, args: argparse.Namespace) -> int:
    import uvicorn

    from sync.server.app import create_app

    engine = open_database(url)
    try:
        app = create_app(settings, engine)
        config = uvicorn.Config(app, host=args.host or settings.server.host, port=args.port or settings.server.port,
                                log_level=args.log_level, proxy_headers=True, server_header=False,
                                timeout_graceful_shutdown=20)
        # uvicorn.Server stops accepting, finishes requests in flight and then re-raises the signal it caught;
        # these handlers turn that into a plain exit 0, which is what a clean stop is to systemd and to scripts.
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, _exit_cleanly)
        uvicorn.Server(config).run()
    finally:
        engine.dispose()
    return EXIT_OK


_COMMANDS: dict[str, Callable[[Engine, argparse.Namespace, ServerSettings], int]] = {
    "agency": _agency, "counter": _counter, "officer": _officer, "device": _device, "catalog": _catalog,
    "admin": _admin, "fleet": _fleet,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk-server` console script."""
    args = build_parser().parse_args(argv)
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
    except KioskError as error:
        _say(f"Lỗi: {error.vi}", f"Error: {error.en}", sys.stderr)
    except exc.SQLAlchemyError as error:
        problem = unreachable(error, url)
        _say(f"Lỗi: {problem.vi}", f"Error: {problem.en}", sys.stderr)
    except OSError as error:
        _say(f"Lỗi: {error}", f"Error: {error}", sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
