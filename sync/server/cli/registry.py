"""`kiosk-server agency`, `counter` and `officer`: the agencies, their counters and officers IT registers."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from sqlalchemy import Engine

from sync.server.cli.common import EXIT_OK, Adder, Handler, print_json, say
from sync.server.settings import ServerSettings


def add_commands(sub: Any, add: Adder) -> None:
    """The `agency`, `counter` and `officer` sub-commands."""
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


def _agency(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import registry

    fields = {name: getattr(args, name, None) for name in registry.AGENCY_FIELDS}
    if args.agency_command == "add":
        found, new = registry.add_agency(engine, args.code, {k: v or "" for k, v in fields.items()},
                                         exist_ok=args.exist_ok)
        say(f"{'Đã thêm' if new else 'Đã có'} cơ quan {found.code}: {found.name}",
            f"{'added' if new else 'already present:'} agency {found.code}: {found.name}")
    elif args.agency_command == "set":
        found = registry.set_agency(engine, args.code, fields)
        say(f"Đã cập nhật cơ quan {found.code}: {found.name}", f"updated agency {found.code}")
    else:
        agencies = registry.list_agencies(engine)
        if args.json:
            print_json([dataclasses.asdict(a) for a in agencies])
        else:
            for a in agencies:
                print(f"{a.code}\t{a.name}\t{a.parent}\t{a.hotline}")
    return EXIT_OK


def _counter(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import registry

    new = registry.add_counter(engine, args.agency, args.code, args.name, registry.parse_procedures(args.procedures),
                               exist_ok=args.exist_ok)
    say(f"{'Đã thêm' if new else 'Đã có'} quầy {args.code} của {args.agency}",
        f"{'added' if new else 'already present:'} counter {args.code} of {args.agency}")
    return EXIT_OK


def _officer(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server import registry

    registry.add_officer(engine, args.agency, args.code, args.name, args.title, args.counter)
    say(f"Đã thêm cán bộ {args.code} ({args.name}) của {args.agency}",
        f"added officer {args.code} ({args.name}) of {args.agency}")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"agency": _agency, "counter": _counter, "officer": _officer}
