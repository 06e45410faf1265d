"""Pushing a device's queued ratings to the central server, on SQLite and on PostgreSQL, against a bare bulk insert.

One device's log of N signed, chained ratings (default 100,000) is written straight into the kiosk's own
database (kiosk.db.prepare), hashed and signed exactly as kiosk.ratings.RatingLog does, in one transaction.
For each backend a real `kiosk-server run` process is started on 127.0.0.1 over a fresh database (a SQLite file,
or a new PostgreSQL database dropped afterwards), the device is registered and enrolled over HTTP, and the agent's
own push (sync.agent.push.push: batches of 500, gzip, every request signed) sends the whole queue. Only the push
is timed. Afterwards the server must hold exactly N records and N ratings, and the chain it stored is walked
again here (every link, hash and signature) so the figure is of a correct push.

Baselines, in the same run and on the same database server: the rows the push stored (its `record` and `rating`
rows, read back) inserted into empty copies of those two tables (same columns, keys, unique constraints, foreign
keys and indexes; no triggers), one transaction per 500 records as the agent's batches: with SQLAlchemy Core
executemany, with the driver's own executemany (sqlite3, psycopg) and, on PostgreSQL, with COPY (what the
server's ingest uses there). The target, a third of the bare rate, is judged against the fastest of them.

Then 200 devices with N/200 ratings each push at once (a thread each, the agent's push and signed client,
one request per batch): overall throughput and the per-request time, p50 and p99.

Run: .venv/bin/python -m bench.sync_push [--ratings N] [--devices D] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import (
    Engine,
    MetaData,
    Table,
    func,
    insert,
    select,
)
from sqlalchemy.sql.elements import quoted_name

from bench.common import BenchError, percentile, positive_int, say, scratch_postgres
from kiosk import paths, state
from kiosk.db import prepare
from kiosk.domain import chain
from kiosk.domain.errors import BilingualError
from kiosk.ratings import iso_utc
from kiosk.services import Services
from kiosk.settings import Settings, resolve
from sync.agent import push
from sync.agent.client import Budget, RetryPolicy, SyncClient
from sync.agent.enroll import enroll
from sync.server.db import writing
from sync.server.models import DEVICE, RATING, RECORD
from sync.server.process import ServerProcess, sqlite_url, start_server

DEFAULT_RATINGS = 100_000
DEFAULT_DEVICES = 200
BATCH = push.BATCH_RECORDS
TARGET_PUSH_S = 60.0
TARGET_RATIO = 1 / 3
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
REQUEST_TIMEOUT_S = 600  # 200 requests queue at once on a 2-core server: a wait is a figure, not a failure

# What a commune centre's kiosk records: mostly satisfied, a few procedure codes given with the rating.
LEVEL_WEIGHTS = {5: 50, 4: 28, 3: 11, 2: 7, 1: 4}
PROCEDURES = ("1.001193", "1.000894", "2.000908", "1.012753.H19", "1.001612", "2.001023")
_INSERT_COLUMNS = (*chain.SIGNED_FIELDS, "hash", "signature")
_INSERT_SQL = f"INSERT INTO log ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})"


# ---- the options ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    """What to run: how many ratings, over how many devices at once, on which backends."""

    ratings: int
    devices: int
    backends: tuple[str, ...]
    pg_admin_dsn: str


def _backend(text: str) -> str:
    if text not in ("sqlite", "postgres", "both"):
        raise argparse.ArgumentTypeError(f"chọn sqlite, postgres hoặc both, nhận được {text!r} / "
                                         f"choose sqlite, postgres or both, got {text!r}")
    return text


def parse_options(argv: Sequence[str]) -> Options:
    """The command line, checked; argparse exits 2 with the reason in both languages."""
    parser = argparse.ArgumentParser(prog="bench/sync_push.py", description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=positive_int, default=DEFAULT_RATINGS, metavar="N",
                        help=f"ratings queued on the device (default {DEFAULT_RATINGS})")
    parser.add_argument("--devices", type=positive_int, default=DEFAULT_DEVICES, metavar="D",
                        help=f"devices pushing at once, N/D ratings each (default {DEFAULT_DEVICES})")
    parser.add_argument("--backend", type=_backend, default="both", metavar="sqlite|postgres|both",
                        help="which server database to measure (default both)")
    parser.add_argument("--pg-admin", default=PG_ADMIN_DSN, metavar="DSN",
                        help="where to create (and drop) the PostgreSQL database (default: 127.0.0.1:5432, "
                        "user postgres, database test)")
    args = parser.parse_args(argv)
    if args.devices > args.ratings:
        parser.error(f"--devices ({args.devices}) không được lớn hơn --ratings ({args.ratings}): mỗi thiết bị cần "
                     f"ít nhất một đánh giá / --devices ({args.devices}) must not exceed --ratings ({args.ratings}): "
                     "every device needs at least one rating")
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    return Options(args.ratings, args.devices, backends, args.pg_admin)


# ---- the device logs -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """Where a device stands: its agency and counter codes on the server, and the officers on duty there."""

    agency: str
    counter: str
    officers: tuple[str, ...]


SINGLE_PLACE = Place("HCC", "Q01", ("CB001", "CB002", "CB003", "CB004"))


def fleet_place(index: int) -> Place:
    """The place of device `index`: ten counters per centre, four officers per counter."""
    agency, counter = f"HCC{index // 10:03d}", f"Q{index % 10 + 1:02d}"
    return Place(agency, counter, tuple(f"CB{(index % 10) * 4 + k + 1:03d}" for k in range(4)))


def write_log(services: Services, count: int, place: Place, rng: random.Random) -> None:
    """Append `count` ratings to the device's log in one transaction, chained and signed as RatingLog does."""
    moment = datetime.now(UTC) - timedelta(seconds=100 * count)  # steps average 90.5 s: all in the past
    levels, weights = list(LEVEL_WEIGHTS), list(LEVEL_WEIGHTS.values())
    prev_hash, rows = chain.GENESIS_HASH, []
    for seq in range(1, count + 1):
        moment += timedelta(seconds=rng.randint(20, 160), milliseconds=rng.randint(0, 999))
        record: dict[str, Any] = dict.fromkeys(chain.SIGNED_FIELDS)
        record.update(seq=seq, uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), kind="rating",
                      recorded_at=iso_utc(moment), prev_hash=prev_hash, level=rng.choices(levels, weights)[0],
                      counter_id=place.counter, officer_id=rng.choice(place.officers),
                      procedure_code=rng.choice(PROCEDURES) if rng.random() < 0.3 else None,
                      language="en" if rng.random() < 0.05 else "vi",
                      suspected_repeat=rng.random() < 0.03, is_test=False)
        body = chain.canonical(record)
        record["hash"] = prev_hash = hashlib.sha256(body).hexdigest()
        record["signature"] = services.key.sign(body)
        rows.append([record[name] for name in _INSERT_COLUMNS])
    with services.database.writing() as con:
        con.executemany(_INSERT_SQL, rows)
        state.put(con, state.HEAD_SEQ, str(count))
        state.put(con, state.HEAD_HASH, prev_hash)


def make_device(directory: Path, settings: Settings, count: int, place: Place, seed: int) -> None:
    """A device data directory (database and key) holding `count` queued ratings, closed again."""
    services = Services.open(settings, directory)
    try:
        write_log(services, count, place, random.Random(seed))
    finally:
        services.close()


@dataclass(frozen=True)
class Templates:
    """Device directories made once and copied for each backend (a push changes the device's state)."""

    single: Path
    fleet: list[tuple[Path, Place, int]]


def make_templates(base: Path, settings: Settings, options: Options) -> Templates:
    """The single device with N ratings and the fleet of D devices sharing N between them."""
    say(f"device log: {options.ratings} ratings, chained and signed …")
    single = base / "single"
    make_device(single, settings, options.ratings, SINGLE_PLACE, 1)
    say(f"{options.devices} device logs, {options.ratings} ratings between them …")
    # Alembic builds the kiosk's schema once (about a second); every fleet device starts from a copy of that
    # empty database, and makes its own key and device UUID on first open as a new kiosk does.
    empty = base / "empty"
    empty.mkdir()
    prepare(empty / paths.DB_NAME).close()
    fleet = []
    for index in range(options.devices):
        count = options.ratings // options.devices + (1 if index < options.ratings % options.devices else 0)
        directory = base / f"fleet-{index:03d}"
        shutil.copytree(empty, directory)
        make_device(directory, settings, count, fleet_place(index), 1000 + index)
        fleet.append((directory, fleet_place(index), count))
    return Templates(single, fleet)


# ---- the server and its database -----------------------------------------------------------------------------

def _pg_error(admin_dsn: str, exc: Exception) -> BenchError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return BenchError(f"Không tạo được cơ sở dữ liệu PostgreSQL qua «{admin_dsn}»: {reason}. Hãy kiểm tra "
                      "PostgreSQL và --pg-admin, hoặc chạy với --backend sqlite",
                      f"cannot create a PostgreSQL database through '{admin_dsn}': {reason}. Check PostgreSQL "
                      "and --pg-admin, or run with --backend sqlite")


def pg_admin(admin_dsn: str) -> Any:
    """An autocommit connection to PostgreSQL for creating and dropping databases; a BenchError if none."""
    import psycopg

    try:
        return psycopg.connect(admin_dsn, autocommit=True)
    except psycopg.Error as exc:
        raise _pg_error(admin_dsn, exc) from None


@contextmanager
def postgres_url(admin_dsn: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server --pg-admin names, dropped afterwards; its SQLAlchemy URL."""
    with scratch_postgres(admin_dsn, lambda exc: _pg_error(admin_dsn, exc)) as database:
        yield database.url


@contextmanager
def running_server(backend: str, directory: Path, options: Options) -> Iterator[ServerProcess]:
    """A real `kiosk-server run` on 127.0.0.1 over a fresh database of the backend, stopped afterwards."""
    with (postgres_url(options.pg_admin_dsn) if backend == "postgres"
          else nullcontext(sqlite_url(directory / "server.db"))) as url:
        try:
            handle = start_server(url, directory / "server-data")
        except RuntimeError as exc:
            raise BenchError(f"Máy chủ không khởi động được: {exc}", f"the server did not start: {exc}") from None
        try:
            yield handle
        finally:
            handle.stop()


class TimedClient(SyncClient):
    """The agent's signed client, with a stopwatch on each request (signing, HTTP, server work, answer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seconds: list[float] = []

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """As SyncClient.request, timed."""
        start = time.perf_counter()
        try:
            return super().request(method, path, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - start)


@dataclass
class Enrolled:
    """A device copied from its template, enrolled with the server, with a client ready to push."""

    services: Services
    device_id: str
    client: TimedClient
    count: int
    head_hash: str


def enrol_copy(handle: ServerProcess, template: Path, directory: Path, settings: Settings, place: Place,
               count: int) -> Enrolled:
    """Copy a device, register it with the server and enrol it over HTTP, as IT and `kiosk-sync enroll` would."""
    shutil.copytree(template, directory)
    services = Services.open(settings, directory)
    made = handle.register_device(place.agency, place.counter)
    answer = enroll(services, handle.url, str(made["code"]))
    # No retries: a refused or failed request must end the run, never hide inside the figure.
    client = TimedClient(handle.url, services.key, answer.device_id, budget=Budget(3600),
                         timeout_s=REQUEST_TIMEOUT_S, retry=RetryPolicy(attempts=1))
    return Enrolled(services, answer.device_id, client, count, services.state.get(state.HEAD_HASH) or "")


# ---- one device pushing its whole queue ----------------------------------------------------------------------

@dataclass(frozen=True)
class ServerCheck:
    """What the server holds for one device after its push, and the walk of its stored chain."""

    records: int
    ratings: int
    report: chain.ChainReport


def check_stored_chain(engine: Engine, device_id: str, public_key: Ed25519PublicKey, count: int) -> ServerCheck:
    """Count what the server stored and walk its copy of the chain; a BenchError when it is not the pushed one."""
    with engine.connect() as conn:
        records = conn.execute(select(func.count()).select_from(RECORD).where(RECORD.c.device_id == device_id)).scalar()
        ratings = conn.execute(select(func.count()).select_from(RATING).where(RATING.c.device_id == device_id)).scalar()
        head = conn.execute(select(DEVICE.c.acked_seq, DEVICE.c.acked_hash, DEVICE.c.chain_state)
                            .where(DEVICE.c.id == device_id)).one()
        rows = conn.execute(select(RECORD).where(RECORD.c.device_id == device_id).order_by(RECORD.c.seq))
        stored_head = (int(head.acked_seq), str(head.acked_hash))
        report = chain.verify((dict(row._mapping) for row in rows), public_key, stored_head)
    if records != count or ratings != count or not report.ok or head.chain_state != "intact":
        raise BenchError(
            f"Máy chủ giữ {records} bản ghi và {ratings} đánh giá (cần {count}), trạng thái chuỗi {head.chain_state}"
            f"{': ' + report.problem_vi if not report.ok else ''}",
            f"the server holds {records} records and {ratings} ratings (expected {count}), chain state "
            f"{head.chain_state}{': ' + report.problem_en if not report.ok else ''}")
    return ServerCheck(int(records or 0), int(ratings or 0), report)


class LineProgress:
    """The push's progress as a line on stderr every tenth of the queue."""

    def __init__(self) -> None:
        self.total = self.done = self.shown = 0

    def step(self, vi: str, en: str) -> None:
        """Nothing: the bench names its own steps."""

    def start(self, total: int) -> None:
        """Remember the size of the queue."""
        self.total = total

    def advance(self, count: int) -> None:
        """Say how far the push is, at most ten times."""
        self.done += count
        tenth = 10 * self.done // max(self.total, 1)
        if tenth > self.shown:
            self.shown = tenth
            say(f"  pushed {self.done}/{self.total}")

    def finish(self) -> None:
        """Nothing."""


@dataclass(frozen=True)
class SinglePush:
    """One device's whole queue through the agent: how long, how many requests, and what the server holds."""

    seconds: float
    batches: int
    request_seconds: list[float]
    check: ServerCheck


def push_single(handle: ServerProcess, templates: Templates, directory: Path, settings: Settings,
                count: int) -> tuple[SinglePush, str]:
    """Enrol a copy of the big device, time the agent's push of its queue, then check the server's copy."""
    device = enrol_copy(handle, templates.single, directory, settings, SINGLE_PLACE, count)
    try:
        say(f"pushing {count} ratings with the agent …")
        start = time.perf_counter()
        result = push.push(device.client, device.services, LineProgress())
        seconds = time.perf_counter() - start
        if result.acked_seq != count or result.stored != count:
            raise BenchError(f"Máy chủ xác nhận tới số {result.acked_seq}, lưu mới {result.stored} (cần {count})",
                             f"the server acknowledged up to {result.acked_seq}, stored {result.stored} "
                             f"(expected {count})")
        say("walking the chain the server stored (every link, hash and signature) …")
        check = check_stored_chain(handle.engine(), device.device_id, device.services.key.public_key, count)
        return SinglePush(seconds, result.batches, device.client.seconds, check), device.device_id
    finally:
        device.client.close()
        device.services.close()


# ---- the baseline: the same rows, bare -----------------------------------------------------------------------

def bare_copy(source: Table, metadata: MetaData, prefix: str) -> Table:
    """An empty copy of a server table: same columns, keys, unique constraints, foreign keys and (partial) indexes.

    Triggers are not copied: those on `rating` keep the report totals, and a copy of them would write into the
    live totals tables. The copy is renamed throughout, since index names are per schema on PostgreSQL.
    """
    copy = source.to_metadata(metadata, name=f"{prefix}_{source.name}")
    for i, index in enumerate(sorted(copy.indexes, key=lambda ix: str(ix.name))):
        index.name = quoted_name(f"ix_{copy.name}_{i}", None)
    for i, constraint in enumerate(sorted(copy.constraints, key=lambda con: str(con.name))):
        constraint.name = f"c_{copy.name}_{i}"
    return copy


Row = TypeVar("Row")


def agent_batches(records: list[Row], ratings: list[Row], record_seq: Callable[[Row], int],
                  rating_seq: Callable[[Row], int]) -> list[tuple[list[Row], list[Row]]]:
    """The rows as the push stored them: each agent batch of records with the ratings among them."""
    batches, taken = [], 0
    for first in range(0, len(records), BATCH):
        chunk = records[first:first + BATCH]
        end = taken
        while end < len(ratings) and rating_seq(ratings[end]) <= record_seq(chunk[-1]):
            end += 1
        batches.append((chunk, ratings[taken:end]))
        taken = end
    return batches


@dataclass(frozen=True)
class BareInsert:
    """The same rows inserted bare, one way: how long, in how many transactions."""

    how: str
    seconds: float
    transactions: int


def _copies(engine: Engine, prefix: str) -> tuple[Table, Table]:
    metadata = MetaData()
    metadata.reflect(engine, only=["agency", "counter", "device"])  # what the copies' foreign keys refer to
    copies = bare_copy(RECORD, metadata, prefix), bare_copy(RATING, metadata, prefix)
    metadata.create_all(engine, tables=list(copies))
    return copies


def _check_copies(engine: Engine, copies: tuple[Table, Table], count: int) -> None:
    with engine.connect() as conn:
        held = [conn.execute(select(func.count()).select_from(table)).scalar() for table in copies]
    if held != [count, count]:
        raise BenchError(f"Bảng sao có {held[0]} bản ghi và {held[1]} đánh giá (cần {count})",
                         f"the copies hold {held[0]} records and {held[1]} ratings (expected {count})")


def core_insert(engine: Engine, device_id: str, count: int) -> BareInsert:
    """The rows the push stored, read back and inserted with SQLAlchemy Core executemany (as ingest does)."""
    with engine.connect() as conn:
        records = [dict(r._mapping) for r in conn.execute(
            select(RECORD).where(RECORD.c.device_id == device_id).order_by(RECORD.c.seq))]
        ratings = [dict(r._mapping) for r in conn.execute(
            select(RATING).where(RATING.c.device_id == device_id).order_by(RATING.c.seq))]
    record_copy, rating_copy = copies = _copies(engine, "core")
    batches = agent_batches(records, ratings, lambda row: int(row["seq"]), lambda row: int(row["seq"]))
    say(f"bare insert (SQLAlchemy Core) of the same {len(records)} record and {len(ratings)} rating rows …")
    start = time.perf_counter()
    for record_rows, rating_rows in batches:
        with writing(engine) as conn:  # the server's own transactions: BEGIN IMMEDIATE on SQLite
            conn.execute(insert(record_copy), record_rows)
            if rating_rows:
                conn.execute(insert(rating_copy), rating_rows)
    seconds = time.perf_counter() - start
    _check_copies(engine, copies, count)
    return BareInsert("SQLAlchemy Core", seconds, len(batches))


def dbapi_insert(engine: Engine, device_id: str, count: int, *, copy: bool = False) -> BareInsert:
    """The same rows as the driver returns them, inserted with the driver's own executemany (sqlite3, psycopg),
    or with COPY (PostgreSQL, copy=True), the fastest way it has to take many rows."""
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    tables = (RECORD, RATING)
    names = [[c.name for c in table.columns] for table in tables]
    with engine.connect() as conn:
        stored: list[list[tuple[Any, ...]]] = [[tuple(r) for r in conn.exec_driver_sql(
            f"SELECT {', '.join(cols)} FROM {table.name} WHERE device_id = {mark} ORDER BY seq", (device_id,))]
            for table, cols in zip(tables, names, strict=True)]
    copies = _copies(engine, "copy" if copy else "dbapi")
    inserts = [f"COPY {table.name} ({', '.join(cols)}) FROM STDIN" if copy else
               f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(mark for _ in cols)})"
               for table, cols in zip(copies, names, strict=True)]
    record_seq, rating_seq = (cols.index("seq") for cols in names)
    batches = agent_batches(stored[0], stored[1], lambda row: int(row[record_seq]), lambda row: int(row[rating_seq]))
    how = "COPY" if copy else "driver executemany"
    say(f"bare insert ({how}) of the same {len(stored[0])} record and {len(stored[1])} rating rows …")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        for record_rows, rating_rows in batches:
            if mark == "?":
                cursor.execute("BEGIN IMMEDIATE")  # the server's connections are in autocommit mode
            for statement, rows in zip(inserts, (record_rows, rating_rows), strict=True):
                if not rows:
                    continue
                if copy:
                    with cursor.copy(statement) as stream:
                        for row in rows:
                            stream.write_row(row)
                else:
                    cursor.executemany(statement, rows)
            if mark == "?":
                cursor.execute("COMMIT")
            else:
                raw.commit()
        seconds = time.perf_counter() - start
        cursor.close()
    finally:
        raw.close()
    _check_copies(engine, copies, count)
    return BareInsert("driver COPY" if copy else "driver (DB-API)", seconds, len(batches))


# ---- many devices at once ------------------------------------------------------------------------------------

@dataclass
class FleetPush:
    """Every device pushing its queue at the same moment: wall time and each request's time."""

    devices: int
    ratings: int
    seconds: float
    request_seconds: list[float] = field(default_factory=list)


def push_fleet(handle: ServerProcess, templates: Templates, base: Path, settings: Settings) -> FleetPush:
    """Enrol every fleet device, start all their pushes together on threads, and check what the server holds."""
    say(f"registering and enrolling {len(templates.fleet)} devices …")
    fleet = [enrol_copy(handle, template, base / template.name, settings, place, count)
             for template, place, count in templates.fleet]
    errors: list[BaseException] = []
    gate = threading.Barrier(len(fleet) + 1)

    def run(device: Enrolled) -> None:
        gate.wait()
        try:
            result = push.push(device.client, device.services)
            if result.acked_seq != device.count:
                raise BenchError(f"thiết bị {device.device_id}: máy chủ xác nhận tới số {result.acked_seq}",
                                 f"device {device.device_id}: the server acknowledged up to {result.acked_seq}")
        except BaseException as exc:  # reported after every thread has ended
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(device,), daemon=True) for device in fleet]
    for thread in threads:
        thread.start()
    say(f"{len(fleet)} devices pushing at once …")
    gate.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    try:
        if errors:
            first = errors[0]
            vi, en = (first.vi, first.en) if isinstance(first, BilingualError) else (str(first), str(first))
            raise BenchError(f"{len(errors)} thiết bị không đẩy được hết: {vi}",
                             f"{len(errors)} devices did not push everything: {en}")
        check_fleet(handle.engine(), fleet)
    finally:
        for device in fleet:
            device.client.close()
            device.services.close()
    return FleetPush(len(fleet), sum(d.count for d in fleet), seconds,
                     [s for d in fleet for s in d.client.seconds])


def check_fleet(engine: Engine, fleet: list[Enrolled]) -> None:
    """Every device's records are all stored once, and the server's chain head is the device's own."""
    ids = [d.device_id for d in fleet]
    with engine.connect() as conn:
        per_device = (select(RECORD.c.device_id, func.count()).where(RECORD.c.device_id.in_(ids))
                      .group_by(RECORD.c.device_id))
        counts = {str(row[0]): int(row[1]) for row in conn.execute(per_device)}
        heads = {row.id: row for row in conn.execute(
            select(DEVICE.c.id, DEVICE.c.acked_seq, DEVICE.c.acked_hash, DEVICE.c.chain_state)
            .where(DEVICE.c.id.in_(ids)))}
    for device in fleet:
        head = heads[device.device_id]
        if (counts.get(device.device_id) != device.count or head.acked_seq != device.count
                or head.acked_hash != device.head_hash or head.chain_state != "intact"):
            raise BenchError(f"thiết bị {device.device_id}: máy chủ giữ {counts.get(device.device_id)} bản ghi, "
                             f"đầu chuỗi {head.acked_seq}, trạng thái {head.chain_state} (cần {device.count})",
                             f"device {device.device_id}: the server holds {counts.get(device.device_id)} records, "
                             f"head {head.acked_seq}, state {head.chain_state} (expected {device.count})")


# ---- the run -------------------------------------------------------------------------------------------------

def database_version(engine: Engine) -> str:
    """The database, its version and the server schema's revision, as the figures name them."""
    with engine.connect() as conn:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        if engine.dialect.name == "sqlite":
            return f"SQLite {sqlite3.sqlite_version} (schema {revision})"
        version = str(conn.exec_driver_sql("SHOW server_version").scalar()).split()[0]
    return f"PostgreSQL {version} (schema {revision})"


def load_average() -> str:
    """The 1-minute load average: other work on the machine moves every figure here."""
    return f"{os.getloadavg()[0]:.2f}"


def run_backend(backend: str, base: Path, templates: Templates, settings: Settings, options: Options) -> None:
    """Everything for one backend, on one server and one database; prints its figures."""
    say(f"--- {backend}: starting the server …")
    load_before = load_average()
    with running_server(backend, base / backend, options) as handle:
        single, device_id = push_single(handle, templates, base / backend / "device", settings, options.ratings)
        bare = [core_insert(handle.engine(), device_id, options.ratings),
                dbapi_insert(handle.engine(), device_id, options.ratings)]
        if backend == "postgres":
            bare.append(dbapi_insert(handle.engine(), device_id, options.ratings, copy=True))
        fleet = push_fleet(handle, templates, base / backend, settings)
        version = database_version(handle.engine())
    n, rate = options.ratings, options.ratings / single.seconds
    report = single.check.report
    print(f"{version}: one device pushes {n} queued ratings ({single.batches} signed gzip requests of {BATCH}); "
          f"load average {load_before} → {load_average()}")
    print(f"  push (agent, over HTTP)              {single.seconds:7.2f} s {rate:7.0f} ratings/s   request "
          f"p50 {percentile(single.request_seconds, 50) * 1000:5.0f} ms  "
          f"p99 {percentile(single.request_seconds, 99) * 1000:5.0f} ms")
    print(f"  server holds {single.check.records} records and {single.check.ratings} ratings; chain intact: "
          f"seq 1..{report.head_seq}, head {report.head_hash[:12]}… (every link, hash, signature)")
    for way in bare:
        print(f"  bare insert, {way.how:<25} {way.seconds:7.2f} s {n / way.seconds:7.0f} ratings/s   "
              f"ratio push/bare {way.seconds / single.seconds:.2f}")
    # Judged against the fastest baseline: the stricter comparison.
    ratio = min(way.seconds for way in bare) / single.seconds
    met_ratio = "met" if ratio >= TARGET_RATIO else "NOT MET"
    met_time = "met" if single.seconds < TARGET_PUSH_S else "NOT MET"
    print(f"  targets: push/bare >= 0.33 against the fastest baseline: {ratio:.3f}, {met_ratio}; "
          f"{n} ratings in < {TARGET_PUSH_S:.0f} s: {single.seconds:.1f} s, {met_time}")
    print(f"  {fleet.devices} devices at once, {fleet.ratings} ratings: {fleet.seconds:.2f} s, "
          f"{fleet.ratings / fleet.seconds:.0f} ratings/s; {len(fleet.request_seconds)} requests, "
          f"p50 {percentile(fleet.request_seconds, 50):.2f} s  p99 {percentile(fleet.request_seconds, 99):.2f} s",
          flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the device logs once, then run every chosen backend and print its figures."""
    options = parse_options(sys.argv[1:] if argv is None else argv)
    settings = resolve(None)
    began = time.perf_counter()
    try:
        if "postgres" in options.backends:
            pg_admin(options.pg_admin_dsn).close()  # before minutes of work, not after
        print(f"sync push: {options.ratings} ratings, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"load average {load_average()} at the start", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            base = Path(tmp)
            templates = make_templates(base / "templates", settings, options)
            for backend in options.backends:
                run_backend(backend, base, templates, settings, options)
    except BilingualError as exc:
        print(f"Lỗi: {exc.vi}\n  Error: {exc.en}", file=sys.stderr)
        return 1
    print(f"whole run {time.perf_counter() - began:.0f} s; load average {load_average()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
