"""What the benchmarks share: progress lines, percentiles, option checks and a scratch PostgreSQL database."""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from kiosk.domain.errors import BilingualError


class BenchError(BilingualError):
    """The benchmark cannot run, or what it measured is not what it should be."""


def say(text: str) -> None:
    """A progress line on stderr (the figures go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of the samples, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (100_000 reads as 100000), else both languages' reason."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"cần một số nguyên dương, nhận được {text!r} / "
                                         f"expected a positive integer, got {text!r}")
    return value


@dataclass(frozen=True)
class ScratchDatabase:
    """A benchmark's own PostgreSQL database: its SQLAlchemy URL and a psycopg connection string."""

    url: str
    dsn: str


@contextmanager
def scratch_postgres(admin_dsn: str, refused: Callable[[Exception], BenchError]) -> Iterator[ScratchDatabase]:
    """A new, empty PostgreSQL database made through `admin_dsn` and dropped afterwards, even when the run fails.

    `refused` turns a connection or CREATE failure into the benchmark's own message.
    """
    import psycopg
    from sqlalchemy import URL

    name = f"kiosk_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(admin_dsn, autocommit=True)
    except psycopg.Error as exc:
        raise refused(exc) from None
    try:
        try:
            admin.execute(f'CREATE DATABASE "{name}"')
        except psycopg.Error as exc:
            raise refused(exc) from None
        info = admin.info
        url = URL.create("postgresql+psycopg", username=info.user, password=info.password or None,
                         host=info.host, port=info.port, database=name)
        try:
            yield ScratchDatabase(url.render_as_string(hide_password=False),
                                  psycopg.conninfo.make_conninfo(admin_dsn, dbname=name))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
