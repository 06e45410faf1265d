"""What a sync pass tells a person watching it: a progress bar on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    """Receives a pass's steps and how far the push has come."""

    def step(self, vi: str, en: str) -> None:
        """A new step begins."""

    def start(self, total: int) -> None:
        """The push has `total` records to send."""

    def advance(self, count: int) -> None:
        """`count` more records reached the server."""

    def finish(self) -> None:
        """The push is over (done or not)."""


class QuietProgress:
    """For systemd and scripts: says nothing."""

    def step(self, vi: str, en: str) -> None:
        """Nothing."""

    def start(self, total: int) -> None:
        """Nothing."""

    def advance(self, count: int) -> None:
        """Nothing."""

    def finish(self) -> None:
        """Nothing."""


class TerminalProgress:
    """A one-line text bar redrawn in place on stderr, at most a few times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None, interval_s: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.interval_s = interval_s
        self.total = 0
        self.done = 0
        self._drawn_at = 0.0
        self._open = False

    def step(self, vi: str, en: str) -> None:
        """Print the step on its own line."""
        self._end_line()
        print(f"{vi} / {en}", file=self.stream, flush=True)

    def start(self, total: int) -> None:
        """Begin a bar for `total` records."""
        self.total, self.done, self._drawn_at = total, 0, 0.0
        if total:
            self._draw(force=True)

    def advance(self, count: int) -> None:
        """Move the bar on."""
        self.done = min(self.done + max(count, 0), self.total)
        self._draw(force=self.done == self.total)

    def finish(self) -> None:
        """End the bar's line."""
        self._end_line()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn_at < self.interval_s:
            return
        self._drawn_at = now
        filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        percent = 100 * self.done // self.total if self.total else 100
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} bản ghi / records ({percent}%)")
        self.stream.flush()
        self._open = True

    def _end_line(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


def for_stream(stream: TextIO) -> Progress:
    """A bar when `stream` is a terminal, silence when it is a pipe, a file or the journal."""
    return TerminalProgress(stream) if stream.isatty() else QuietProgress()
