"""The `kiosk-server` command: runs the central server, and the sub-commands IT uses to manage it.

Each group of sub-commands is a module of this package with its parsers and handlers: serve (run, db), registry
(agency, counter, officer), devices (device, catalog), admin (admin, fleet), reports (report), alerts (alert),
paper (paper), targets (target), cases (cases), written_report (written-report).
Every error is one bilingual message on stderr and exit code 2; no traceback reaches the terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exc

from kiosk import __version__
from kiosk.domain.errors import BilingualError
from sync.server import settings as server_settings
from sync.server.cli import (
    admin,
    alerts,
    cases,
    devices,
    paper,
    registry,
    reports,
    serve,
    survey,
    targets,
    written_report,
)
from sync.server.cli.common import EXIT_USAGE, Handler, Precheck, common_options, refuse, say
from sync.server.db import open_database, unreachable

# In the order `kiosk-server --help` lists them.
_GROUPS = (serve, registry, devices, admin, reports, alerts, survey, paper, targets, cases, written_report)
_COMMANDS: dict[str, Handler] = {name: handler for group in _GROUPS for name, handler in group.COMMANDS.items()}
# Checks run right after parsing, before settings or the database are opened (a bad option changes nothing).
_PRECHECKS: dict[str, Precheck] = {**reports.PRECHECKS, **alerts.PRECHECKS, **targets.PRECHECKS,
                                   **cases.PRECHECKS, **written_report.PRECHECKS}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kiosk-server", description="Máy chủ trung tâm của kiosk Một cửa / "
        "the central server of the one-stop counter kiosks")
    parser.add_argument("--version", action="version", version=f"kiosk-server {__version__}")
    common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(parent: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        child: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        common_options(child, top=False)
        return child

    for group in _GROUPS:
        group.add_commands(sub, add)
    return parser


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
            return serve.run(settings, url, args)
        engine = open_database(url)
        try:
            return _COMMANDS[args.command](engine, args, settings)
        finally:
            engine.dispose()
    except BilingualError as error:
        return refuse(error)
    except exc.SQLAlchemyError as error:
        return refuse(unreachable(error, url))
    except OSError as error:
        say(f"Lỗi: {error}", f"Error: {error}", sys.stderr)
    return EXIT_USAGE
