"""Tap-to-durable-commit latency of a rating, against a bare sqlite3 insert with the same pragmas.

Run: .venv/bin/python -m bench.commit_latency [N]
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import percentile
from kiosk.db import PRAGMAS, open_database
from kiosk.flow import RatingSession
from kiosk.services import Services
from kiosk.settings import resolve


def bare_connection(path: Path) -> sqlite3.Connection:
    """A bare sqlite3 connection with the kiosk's pragmas on a database with the kiosk's own schema."""
    open_database(path).dispose()  # the same table, indexes and triggers the kiosk writes to
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        con.execute(pragma)
    return con


def bare_inserts(con: sqlite3.Connection, first: int, count: int) -> list[float]:
    """Seconds per single-row insert+commit of a ready-made rating row: no chain, no signature."""
    samples = []
    for seq in range(first, first + count):
        row = (seq, str(uuid.uuid4()), "rating", "2026-11-23T10:00:00.000Z", 4, "Q01", "CB001", "vi",
               "0" * 64, uuid.uuid4().hex * 2, "x" * 88)
        start = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO log (seq, uuid, kind, recorded_at, level, counter_id, officer_id, language, "
                    "prev_hash, hash, signature) VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
        con.execute("COMMIT")
        samples.append(time.perf_counter() - start)
    return samples


def kiosk_ratings(session: RatingSession, count: int) -> list[float]:
    """Seconds per rating through RatingSession.rate, the code path a tap runs."""
    samples = []
    for i in range(count):
        start = time.perf_counter()
        session.rate(5 - i % 5)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    """Run both, interleaved in one process, and print the figures."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    chunk = 100  # alternate the two in chunks so disk and CPU drift hit both alike
    bare: list[float] = []
    kiosk: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        con = bare_connection(base / "bare.db")
        services = Services.open(resolve(None), base / "kiosk")
        session = RatingSession(services)
        for first in range(1, count + 1, chunk):
            bare += bare_inserts(con, first, chunk)
            kiosk += kiosk_ratings(session, chunk)
        con.close()
        services.close()
    rows = {"bare sqlite3 insert": bare, "kiosk rating (signed, chained)": kiosk}
    print(f"commit latency over {count} commits each (WAL, synchronous=FULL), milliseconds")
    for name, samples in rows.items():
        print(f"  {name:<32} p50 {percentile(samples, 50) * 1000:6.3f}  p99 {percentile(samples, 99) * 1000:6.3f}"
              f"  mean {statistics.fmean(samples) * 1000:6.3f}")
    ratio50 = percentile(kiosk, 50) / percentile(bare, 50)
    ratio99 = percentile(kiosk, 99) / percentile(bare, 99)
    print(f"  ratio kiosk/bare: p50 {ratio50:.2f}x  p99 {ratio99:.2f}x  (target p99 <= 2.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
