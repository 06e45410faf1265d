"""`kiosk-server admin` and `fleet`: IT accounts for the server's pages, and every kiosk with where it stands."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from kiosk.domain.errors import BilingualError
from sync.server.cli.common import EXIT_OK, Adder, Handler, print_json, say
from sync.server.db import utc_now
from sync.server.settings import ServerSettings


def add_commands(sub: Any, add: Adder) -> None:
    """The `admin` and `fleet` sub-commands."""
    admin = add(sub, "admin", "IT accounts for the server's pages")
    adm_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    adm_add = add(adm_sub, "add", "create an account (password asked twice, or one line with --password-stdin)")
    adm_add.add_argument("username")
    adm_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    fleet = add(sub, "fleet", "every device and where it stands")
    fleet.add_argument("--json", action="store_true", help="print as JSON for scripts")


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
    from sync.server.admin import accounts

    accounts.add_user(engine, args.username, _read_password(args.password_stdin))
    say(f"Đã tạo tài khoản {args.username}", f"created account {args.username}")
    return EXIT_OK


def _fleet(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.admin import fleet

    devices = fleet.fleet(engine, utc_now(), timedelta(hours=settings.fleet.silent_after_h))
    if args.json:
        print_json([d.as_json() for d in devices])
        return EXIT_OK
    if not devices:
        say("Chưa có thiết bị nào", "no devices yet")
    for d in devices:
        flags = ", ".join(f"{a.vi} / {a.en}" for a in d.alerts) or ("bình thường / ok" if d.status == "active"
                                                                    else d.status)
        last = d.last_contact_at.isoformat(timespec="minutes") if d.last_contact_at else "—"
        print(f"{d.device_id}  {d.agency_code}/{d.counter_code}  {d.status}  liên lạc/contact {last}  "
              f"đã nhận/acked {d.acked_seq}  hàng đợi/queue {d.queue_depth if d.queue_depth is not None else '—'}  "
              f"chuỗi/chain {d.chain_state}  [{flags}]")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"admin": _admin, "fleet": _fleet}
