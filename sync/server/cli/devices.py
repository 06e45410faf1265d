"""`kiosk-server device` and `catalog`: registering, enrolling, revoking and reviewing kiosks, and the procedure
catalog distributed to them."""

from __future__ import annotations

import argparse
import getpass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from sync.server.cli.common import EXIT_OK, EXIT_PROBLEM, Adder, Handler, print_json, say
from sync.server.settings import ServerSettings

if TYPE_CHECKING:
    from sync.server.catalog.changes import CatalogChanges


def add_commands(sub: Any, add: Adder) -> None:
    """The `device` and `catalog` sub-commands."""
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
    d_verify = add(d_sub, "verify", "walk again every chain the server holds (kiosks, web and paper), or one "
                   "device's: a record changed in the database since it was stored no longer verifies")
    d_verify.add_argument("device_id", nargs="?")
    d_verify.add_argument("--json", action="store_true")

    catalog = add(sub, "catalog", "the procedure catalog distributed to kiosks")
    k_sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    k_import = add(k_sub, "import", "validate a national .json or a .csv catalog and distribute it")
    k_import.add_argument("file", type=Path)
    k_import.add_argument("--json", action="store_true",
                          help="print the stored version and the changes since the previous one as JSON")


def _device(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.devices import enrolment

    if args.device_command == "review":
        return _device_review(engine, args)
    if args.device_command == "verify":
        return _device_verify(engine, args)
    lifetime = timedelta(hours=settings.enrolment.code_lifetime_h)
    if args.device_command == "add":
        made = enrolment.add_device(engine, args.agency, args.counter, lifetime)
        if args.json:
            print_json(made.as_json())
            return EXIT_OK
        say(f"Đã thêm thiết bị {made.device_id} tại {made.agency_name} — {made.counter_name}",
            f"added device {made.device_id} at {made.agency} / {made.counter}")
        say(f"Mã đăng ký (dùng một lần, hết hạn {made.code_expires_at}): {made.code}",
            f"enrolment code (one-time, expires {made.code_expires_at}): {made.code}")
        say(f"Trên kiosk: kiosk-sync enroll --server URL --code {made.code}",
            f"on the kiosk: kiosk-sync enroll --server URL --code {made.code}")
        return EXIT_OK
    if args.device_command == "code":
        code, expires = enrolment.reissue_code(engine, args.device_id, lifetime)
        if args.json:
            print_json({"device_id": args.device_id, "code": code, "code_expires_at": expires.isoformat()})
        else:
            say(f"Mã đăng ký mới (mã cũ hết hiệu lực, hết hạn {expires.isoformat()}): {code}",
                f"new enrolment code (the old one no longer works; expires {expires.isoformat()}): {code}")
        return EXIT_OK
    if args.device_command == "revoke":
        changed = enrolment.revoke(engine, args.device_id)
        say(f"Thiết bị {args.device_id} {'đã bị thu hồi' if changed else 'đã bị thu hồi từ trước'}",
            f"device {args.device_id} {'revoked' if changed else 'was already revoked'}")
        return EXIT_OK
    listed = enrolment.list_devices(engine)
    if args.json:
        print_json(listed)
    else:
        for d in listed:
            print(f"{d['device_id']}\t{d['status']}\t{d['agency']}\t{d['counter']}\t{d['acked_seq']}\t{d['chain_state']}")
    return EXIT_OK


def _catalog(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.catalog import store as catalog

    stored = catalog.import_file(engine, args.file)
    if args.json:
        print_json({"version": stored.version, "sha256": stored.sha256, "count": stored.count, "new": stored.new,
                    "changes": stored.changes.as_json() if stored.changes else None})
        return EXIT_OK
    if stored.new:
        say(f"Đã nhập {stored.count} thủ tục thành phiên bản danh mục {stored.version} (SHA-256 {stored.sha256})",
            f"imported {stored.count} procedures as catalog version {stored.version} (SHA-256 {stored.sha256})")
    else:
        say(f"Danh mục không đổi: trùng phiên bản {stored.version} ({stored.count} thủ tục)",
            f"catalog unchanged: same as version {stored.version} ({stored.count} procedures)")
    if stored.changes is not None:
        _say_changes(stored.changes)
    return EXIT_OK


def _say_changes(changes: CatalogChanges) -> None:
    """The import's changes, one bilingual line per procedure (sync.server.catalog.changes)."""
    from sync.server.catalog.changes import ASPECTS

    if changes.previous_version is None:
        say("Lần nhập đầu tiên: chưa có phiên bản trước để so sánh", "first import: no earlier version to compare with")
    else:
        say(f"So với phiên bản {changes.previous_version}: thêm {len(changes.added)}, bỏ {len(changes.removed)}, "
            f"thay đổi {len(changes.changed)} thủ tục",
            f"since version {changes.previous_version}: {len(changes.added)} added, {len(changes.removed)} removed, "
            f"{len(changes.changed)} changed")
    for code, name in changes.added:
        say(f"  + thêm {code} {name}", f"  + added {code}")
    for code, name in changes.removed:
        say(f"  - bỏ {code} {name}", f"  - removed {code}")
    for item in changes.changed:
        vi = ", ".join(ASPECTS[a][0] for a in item.aspects)
        en = ", ".join(ASPECTS[a][1] for a in item.aspects)
        say(f"  ~ thay đổi {item.code} {item.name}: {vi}", f"  ~ changed {item.code}: {en}")
    if changes.expired:
        say(f"{len(changes.expired)} thủ tục có trạng thái hết hiệu lực:",
            f"{len(changes.expired)} procedures whose status says they are no longer in force:")
    for code, name, status in changes.expired:
        say(f"  ! {code} {name}: «{status}»", f"  ! {code}: '{status}'")


def _device_review(engine: Engine, args: argparse.Namespace) -> int:
    from sync.server.devices import review

    by = args.by or getpass.getuser()
    done = review.review_device(engine, args.device_id, by)
    say(f"Đã ghi nhận {done.reviewed_by} xem xét chuỗi ({done.chain_state}) của thiết bị {done.device_id}: các "
        "đánh giá máy chủ đã nhận từ thiết bị này được tính lại trong báo cáo",
        f"recorded that {done.reviewed_by} reviewed the {done.chain_state} chain of device {done.device_id}: "
        "the ratings the server holds from it count in reports again")
    return EXIT_OK


def _device_verify(engine: Engine, args: argparse.Namespace) -> int:
    from sync.server.devices import verify

    walked = verify.verify(engine, args.device_id)
    bad = [v for v in walked if not v.ok]
    if args.json:
        print_json([{"device_id": v.device_id, "channel": v.channel, "records": v.records, "ok": v.ok,
                     "first_bad_seq": v.first_bad_seq, "problem_vi": v.problem_vi, "problem_en": v.problem_en}
                    for v in walked])
    else:
        for v in bad:
            say(f"Thiết bị {v.device_id} ({v.channel}): chuỗi hỏng tại bản ghi số {v.first_bad_seq}: {v.problem_vi}",
                f"device {v.device_id} ({v.channel}): chain broken at record {v.first_bad_seq}: {v.problem_en}")
        records = sum(v.records for v in walked)
        say(f"Đã kiểm tra {len(walked)} thiết bị, {records} bản ghi: {len(bad)} chuỗi hỏng",
            f"walked {len(walked)} devices, {records} records: {len(bad)} broken chains")
    return EXIT_PROBLEM if bad else EXIT_OK


COMMANDS: dict[str, Handler] = {"device": _device, "catalog": _catalog}
