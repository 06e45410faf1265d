"""What the device's commands (`kiosk`, `kiosk catalog`, `kiosk-sync`) share: the --config and --data-dir
options, and lines in Vietnamese with their English beneath."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from kiosk.domain.errors import BilingualError


def add_device_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--config and --data-dir, as `kiosk` and `kiosk-sync` take them, before or after the sub-command."""
    # Sub-parsers use SUPPRESS so an option given before the sub-command is not reset by its default.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--config", type=Path, default=default, metavar="PATH",
                        help="settings file (default: $KIOSK_CONFIG, /etc/kiosk/kiosk.toml, config/kiosk.toml)")
    parser.add_argument("--data-dir", type=Path, default=default, metavar="PATH",
                        help="where the database and device key live (default: ~/.local/share/kiosk)")


def say(vi: str, en: str, stream: TextIO | None = None) -> None:
    """One message: the Vietnamese line, then the English one indented beneath it (when there is one)."""
    stream = stream or sys.stdout  # looked up per call, so a redirected stdout is honoured
    print(vi, file=stream)
    if en:
        print(f"  {en}", file=stream)


def say_error(error: BilingualError) -> None:
    """An error that ends the command, on stderr."""
    say(f"Lỗi: {error.vi}", f"Error: {error.en}", sys.stderr)
