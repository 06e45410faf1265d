"""What every `kiosk-server` command shares: exit codes, bilingual output, JSON for scripts, the options every
command takes, and the shape of a command group (its parsers and its handlers)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from kiosk.domain.errors import BilingualError
from sync.server.settings import ServerSettings

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
# A command's work once the settings are read and the database is open; its exit code.
Handler = Callable[[Engine, argparse.Namespace, ServerSettings], int]
# A check of a command's options right after parsing, before settings or the database are opened (a bad option
# changes nothing): None when they are good, else the exit code (the refusal already said).
Precheck = Callable[[argparse.Namespace], int | None]
# Adds a sub-command with the common options: (parent sub-parsers, name, help) -> its parser.
Adder = Callable[[Any, str, str], argparse.ArgumentParser]


def say(vi: str, en: str = "", stream: TextIO | None = None) -> None:
    """A line in Vietnamese, then its English indented below it (on stdout unless told)."""
    stream = stream or sys.stdout
    print(vi, file=stream)
    if en:
        print(f"  {en}", file=stream)


def refuse(error: BilingualError) -> int:
    """Say why a command cannot go on, on stderr; the exit code for it."""
    say(f"Lỗi: {error.vi}", f"Error: {error.en}", sys.stderr)
    return EXIT_USAGE


def common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--config, --db and --data-dir, on the top parser and on every sub-command."""
    # Sub-parsers use SUPPRESS so an option given before the sub-command is not reset by its default.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--config", type=Path, default=default, metavar="PATH",
                        help="settings file (default: $KIOSK_SERVER_CONFIG, /etc/kiosk/server.toml, built-in)")
    parser.add_argument("--db", default=default, metavar="URL",
                        help="database URL, e.g. postgresql+psycopg://kiosk@localhost/kiosk "
                        "(default: [database] url, else SQLite in the data directory)")
    parser.add_argument("--data-dir", type=Path, default=default, metavar="PATH",
                        help="data directory (default: $KIOSK_SERVER_DATA, else ~/.local/share/kiosk-server)")


def print_json(data: Any) -> None:
    """Data as indented JSON on stdout, Vietnamese letters as they are."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """A file beside `target` to write into, renamed to `target` when the block ends and removed if it fails, so a
    reader never finds half a file; a missing folder is refused (bilingual) before the block runs."""
    if not target.parent.is_dir():
        raise BilingualError(f"Không có thư mục {target.parent} để ghi {target.name}",
                             f"there is no folder {target.parent} to write {target.name} in")
    partial = target.with_name(target.name + ".part")
    try:
        yield partial
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def parse_day(text: str, option: str) -> date:
    """A day given to `option` as YYYY-MM-DD or DD/MM/YYYY, within the reports' range; bilingual errors."""
    from sync.server.results.dashboard_query import EARLIEST, LATEST

    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
        # The dashboard's range: a period around 9999-12-15 would run past year 9999 (a ValueError traceback).
        if not EARLIEST <= day <= LATEST:
            raise BilingualError(f"{option}: ngày {text!r} phải trong khoảng {EARLIEST:%d/%m/%Y}–{LATEST:%d/%m/%Y}",
                                 f"{option}: the date {text!r} must be between {EARLIEST} and {LATEST}")
        return day
    raise BilingualError(f"{option}: ngày {text!r} không hợp lệ; viết YYYY-MM-DD (ví dụ 2026-11-30) hoặc DD/MM/YYYY",
                         f"{option}: invalid date {text!r}; write YYYY-MM-DD (e.g. 2026-11-30) or DD/MM/YYYY")
