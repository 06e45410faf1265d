"""`kiosk-server target`: the satisfaction index an agency aims for in a year (and per SIPAS element)."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Engine

from kiosk.domain.errors import BilingualError
from sync.server.cli.common import EXIT_OK, Adder, Handler, Precheck, print_json, refuse, say
from sync.server.settings import ServerSettings


def add_commands(sub: Any, add: Adder) -> None:
    """The `target` sub-command and its actions."""
    target = add(sub, "target", "satisfaction targets per agency and year (index, optionally per element)")
    # Values are read by _target_args (not argparse types or `required`), so every refusal is one bilingual line.
    sub = target.add_subparsers(dest="target_command", metavar="ACTION")
    t_set = add(sub, "set", "set or replace an agency's target for a year")
    t_set.add_argument("--agency", metavar="CODE", help="the agency")
    t_set.add_argument("--year", metavar="YEAR", help="the year, e.g. 2026")
    t_set.add_argument("--index", metavar="SHARE", help="the satisfaction index target (share at levels 4-5), "
                       "e.g. 83%% or 83,5%%; met when the index is at least this")
    t_set.add_argument("--element", metavar="KEY=SHARE", action="append", default=[],
                       help="a target for one SIPAS element, e.g. access=80%% (repeat for several)")
    t_set.add_argument("--by", metavar="NAME", default="", help="who set the target (kept with it)")
    t_list = add(sub, "list", "list the targets")
    t_list.add_argument("--agency", metavar="CODE", help="only this agency's")
    t_list.add_argument("--json", action="store_true", help="print as JSON for scripts")
    t_remove = add(sub, "remove", "remove an agency's target for a year")
    t_remove.add_argument("--agency", metavar="CODE", help="the agency")
    t_remove.add_argument("--year", metavar="YEAR", help="the year")


def _target_args(args: argparse.Namespace) -> dict[str, Any]:
    """The options, parsed and checked; a ServerError names the first one that is wrong."""
    from sync.server.results import targets

    command = args.target_command
    if command is None:
        raise BilingualError("Cần chọn một việc: target set | list | remove",
                             "choose an action: target set | list | remove")
    if command == "list":
        return {}
    needed = [("--agency", args.agency), ("--year", args.year)] + ([("--index", args.index)] if command == "set"
                                                                    else [])
    for option, value in needed:
        if not value:
            raise BilingualError(f"Thiếu {option} (xem «kiosk-server target {command} --help»)",
                                 f"{option} is missing (see 'kiosk-server target {command} --help')")
    year = targets.parse_year(args.year)
    if command == "remove":
        return {"year": year}
    return {"goal": targets.goal(year, targets.parse_share(args.index),
                                 [targets.parse_element(text) for text in args.element])}


def _precheck(args: argparse.Namespace) -> int | None:
    try:
        args.target_values = _target_args(args)
    except BilingualError as error:
        return refuse(error)
    return None


def _line(target: Any) -> tuple[str, str]:
    from sync.server.results.targets import ELEMENT_TITLES, permille_text

    goal = target.goal
    parts_vi = [f"chỉ số hài lòng {permille_text(goal.index_permille)}"]
    parts_en = [f"satisfaction index {permille_text(goal.index_permille, 'en')}"]
    for key, permille in goal.elements.items():
        parts_vi.append(f"{ELEMENT_TITLES[key][0]} {permille_text(permille)}")
        parts_en.append(f"{ELEMENT_TITLES[key][1]} {permille_text(permille, 'en')}")
    who = f" ({target.set_by})" if target.set_by else ""
    return (f"{target.agency_code}\t{goal.year}\t{', '.join(parts_vi)}{who}",
            f"{target.agency_code}\t{goal.year}\t{', '.join(parts_en)}{who}")


def _target(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.results import targets

    command, values = args.target_command, args.target_values
    if command == "set":
        made = targets.set_target(engine, args.agency, values["goal"], args.by)
        vi, en = _line(made)
        say(f"Đã đặt chỉ tiêu: {vi}", f"target set: {en}")
    elif command == "remove":
        gone = targets.remove_target(engine, args.agency, values["year"])
        vi, en = _line(gone)
        say(f"Đã gỡ chỉ tiêu: {vi}", f"target removed: {en}")
    else:
        listed = targets.list_targets(engine, args.agency)
        if args.json:
            print_json([t.as_json() for t in listed])
        elif not listed:
            say("Chưa có chỉ tiêu nào", "no targets yet")
        else:
            for t in listed:
                vi, en = _line(t)
                print(f"{vi}\n  {en}")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"target": _target}
PRECHECKS: dict[str, Precheck] = {"target": _precheck}
