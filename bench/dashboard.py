"""Satisfaction results dashboard on 1,000,000 ratings in PostgreSQL, each page against the bare SQL it runs.

A fresh PostgreSQL database is created (and dropped at the end), migrated with the server's own migrations and
loaded with a province's two calendar years of ratings (bench/dashboard_load.py: 31 agencies, 300 counters,
1,500 officers, one kiosk per counter, one of them with a broken chain), then ANALYZEd. A real
`kiosk-server run` process serves it on 127.0.0.1, and a signed-in IT session asks for the dashboard:
month and year, grouped by agency, counter, officer, procedure and field, for every agency and for one commune.

- *page*: GET /dashboard?… over HTTP, from the request to the last byte of the page (sign-in check, every
  query, the ranking, charts and tables rendered), as a browser would get it.
- *bare*: the aggregation statements the page runs (reports.build and reports.trend for the same choices; their
  GROUP BY statements, with any session SET they make), captured as the server's code sends them to the
  database and replayed on a plain psycopg connection: no Python beyond fetching the rows, no HTTP.
- *all SQL* (extra information, not a target): every statement the page sends, captured from the dashboard's
  own code for the same request (the sign-in check, the agencies, the report and its trend, comments,
  harassment reports, alerts, publications), replayed the same way in one transaction.
- *floor* (extra information): a signed-in GET of the dashboard with a period it refuses (400): the sign-in
  check, the agencies and the layout over HTTP, no report; what every page costs before its figures.

Page, bare query and all SQL alternate, round after round, after one warm-up of each, so drift hits them alike.
Targets: every page p95 < 500 ms and <= 2x its bare query's p95; the pages that miss are named.

Run: .venv/bin/python -m bench.dashboard [--ratings N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, event

from bench import dashboard_load
from bench.common import BenchError, ScratchDatabase, percentile, positive_int, say, scratch_postgres
from kiosk.domain.errors import BilingualError
from sync.server.admin import accounts
from sync.server.context import AppContext
from sync.server.db import open_database, reading
from sync.server.process import ServerProcess, start_server
from sync.server.results import dashboard, dashboard_query, report_view, reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.secret import ServerSecret
from sync.server.settings import ServerSettings

DEFAULT_RATINGS = 1_000_000
DEFAULT_ROUNDS = 40   # 40 rather than 20: a p95 of 20 samples is the second slowest, one stray pause moves it
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
TARGET_P95_MS = 500.0
TARGET_RATIO = 2.0
ONE_AGENCY = "X05"
GROUPINGS = ("agency", "counter", "officer", "procedure", "field")
USER, PASSWORD = "bench.ket-qua", "mật khẩu đo hiệu năng"
PAGE_TIMEOUT_S = 120
SETTINGS = ServerSettings()   # what the server process runs with: no settings file


# ---- the options ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    """How many ratings to load, how many rounds to time, and where PostgreSQL is."""

    ratings: int
    rounds: int
    pg_admin_dsn: str


def parse_options(argv: Sequence[str]) -> Options:
    """The command line, checked; argparse exits 2 with the reason in both languages."""
    parser = argparse.ArgumentParser(prog="bench/dashboard.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ratings", type=positive_int, default=DEFAULT_RATINGS, metavar="N",
                        help=f"ratings to load (default {DEFAULT_RATINGS:,})")
    parser.add_argument("--rounds", type=positive_int, default=DEFAULT_ROUNDS, metavar="R",
                        help=f"timed requests of each page, and runs of its bare query (default {DEFAULT_ROUNDS})")
    parser.add_argument("--pg-admin", default=PG_ADMIN_DSN, metavar="DSN",
                        help="where to create (and drop) the database (default: 127.0.0.1:5432, user postgres, "
                        "database test)")
    args = parser.parse_args(argv)
    return Options(args.ratings, args.rounds, args.pg_admin)


# ---- the database and the server -----------------------------------------------------------------------------

def _pg_error(dsn: str, exc: BaseException) -> BenchError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return BenchError(f"Không dùng được PostgreSQL ({dsn}): {reason}", f"cannot use PostgreSQL ({dsn}): {reason}")


def signed_in(server: ServerProcess) -> requests.Session:
    """A browser session signed in as an IT user, the way a person signs in on /login."""
    session = requests.Session()
    page = session.get(server.url + "/login", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if token is None:
        raise BenchError("Trang đăng nhập không có mã CSRF", "the sign-in page has no CSRF token")
    answer = session.post(server.url + "/login", data={"csrf": token.group(1), "username": USER,
                                                        "password": PASSWORD, "next": "/dashboard"},
                          allow_redirects=False, timeout=30)
    if answer.status_code != 303:
        raise BenchError(f"Đăng nhập không được: HTTP {answer.status_code}",
                         f"sign-in failed: HTTP {answer.status_code}")
    return session


# ---- pages and their bare queries ----------------------------------------------------------------------------

@dataclass
class Page:
    """One dashboard page: the choices in its URL, the same query for reports, and its timings."""

    kind: str
    anchor: date
    group: str
    agency: str | None
    statements: list[tuple[str, Any]] = field(default_factory=list)
    all_statements: list[tuple[str, Any]] = field(default_factory=list)
    ratings: int = 0
    groups: int = 0
    page_s: list[float] = field(default_factory=list)
    bare_s: list[float] = field(default_factory=list)
    all_s: list[float] = field(default_factory=list)

    @property
    def query(self) -> ReportQuery:
        """The report query the page's URL asks for."""
        return ReportQuery(Period.of(self.kind, self.anchor), self.group, self.agency)

    @property
    def params(self) -> dict[str, str]:
        """The URL parameters, as the dashboard's own links write them."""
        return dashboard_query.to_params(self.query)

    @property
    def name(self) -> str:
        """How the figures name the page."""
        return f"{self.kind:<7}{self.group:<10}{self.agency or 'tất cả / all':<13}"


def pages_for(month: date, year: date) -> list[Page]:
    """The month and year pages, every grouping, for every agency and for one commune."""
    return [Page(kind, anchor, group, agency) for kind, anchor in (("month", month), ("year", year))
            for agency in (None, ONE_AGENCY) for group in GROUPINGS]


def _worth_replaying(statement: str) -> bool:
    text = statement.lstrip().upper()
    return text.startswith("SET ") or " GROUP BY " in f" {' '.join(text.split())} "


def capture(engine: Engine, page: Page, token: str) -> None:
    """Run what the page asks of reports in this process and keep the aggregation statements it sends; then run
    the dashboard's own reads for the same request (signed in with `token`) and keep every statement."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        query = page.query
        report = reports.build(engine, query, SETTINGS)
        span, bucket = report_view.trend_span(query.period)
        reports.trend(engine, dashboard_query.with_period(query, span), SETTINGS, bucket)
        aggregation = list(sent)
        sent.clear()
        with reading(engine) as conn:
            session = accounts.session_on(conn, token)
            assert session is not None
            dashboard._dashboard_values(conn, conn_context(engine), session, page.params)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    page.statements = [(s, p) for s, p in aggregation if _worth_replaying(s)]
    page.all_statements = list(sent)
    page.ratings, page.groups = report.total.ratings, len(report.rows)


def conn_context(engine: Engine) -> AppContext:
    """What the server process runs with: no settings file, this database."""
    directory = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    return AppContext(SETTINGS, engine, directory, ServerSecret.load_or_create(directory))


def time_page(session: requests.Session, server: ServerProcess, page: Page) -> float:
    """Seconds for one GET of the page; a page that fails or shows another total stops the run."""
    start = time.perf_counter()
    answer = session.get(server.url + "/dashboard", params=page.params, timeout=PAGE_TIMEOUT_S)
    seconds = time.perf_counter() - start
    if answer.status_code != 200:
        raise BenchError(f"Trang {page.name.strip()} trả về HTTP {answer.status_code}",
                         f"page {page.name.strip()} answered HTTP {answer.status_code}")
    shown = re.search(r'data-kpi="ratings".*?class="kpi-value"[^>]*>\s*([\d.]+)', answer.text, re.S)
    if shown is None or int(shown.group(1).replace(".", "")) != page.ratings:
        raise BenchError(f"Trang {page.name.strip()} không hiện đúng số lượt đánh giá {page.ratings}",
                         f"page {page.name.strip()} does not show the report's {page.ratings} ratings")
    return seconds


# A choice the dashboard refuses: it answers 400 with the form and the reason, having run the sign-in check and
# read the agencies, but no report. What every page costs before its figures: HTTP, sign-in, layout, template.
FLOOR_PARAMS = {"period": "decade", "group": "agency"}


def time_floor(session: requests.Session, server: ServerProcess) -> float:
    """Seconds for one GET of the dashboard that runs no report (the fixed part of every page)."""
    start = time.perf_counter()
    answer = session.get(server.url + "/dashboard", params=FLOOR_PARAMS, timeout=PAGE_TIMEOUT_S)
    seconds = time.perf_counter() - start
    if answer.status_code != 400 or "decade" not in answer.text:
        raise BenchError(f"Trang không có báo cáo trả về HTTP {answer.status_code}, không phải 400",
                         f"the page without a report answered HTTP {answer.status_code}, not 400")
    return seconds


def time_bare(connection: Any, page: Page, statements: list[tuple[str, Any]] | None = None) -> float:
    """Seconds for the page's aggregation statements (or the given ones) on a plain psycopg connection, rows
    fetched."""
    start = time.perf_counter()
    with connection.transaction(force_rollback=True), connection.cursor() as cursor:
        for statement, parameters in page.statements if statements is None else statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
    return time.perf_counter() - start


# ---- the machine ---------------------------------------------------------------------------------------------

def machine(dsn: str) -> list[str]:
    """What the figures were measured on."""
    import psycopg

    cpu = "unknown CPU"
    try:
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text(encoding="utf-8"))
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(dsn) as conn:
        version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]
        names = ("shared_buffers", "work_mem", "jit", "max_parallel_workers_per_gather", "effective_cache_size")
        settings = ", ".join(f"{n}={conn.execute(f'SHOW {n}').fetchone()[0]}" for n in names)  # type: ignore[index]
    return [f"machine: {os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.2f}",
            f"PostgreSQL {version} on 127.0.0.1 ({settings})"]


# ---- the run -------------------------------------------------------------------------------------------------

def _load(db: ScratchDatabase, options: Options, first: date, last: date) -> Engine:
    say(f"migrating and loading {options.ratings:,} ratings …")
    start = time.perf_counter()
    engine = open_database(db.url)
    migrated = time.perf_counter() - start
    loaded = dashboard_load.load(engine, db.dsn, options.ratings, first, last)
    total = migrated + sum(loaded.seconds.values())
    print(f"data: {loaded.ratings:,} ratings {first:%d/%m/%Y}–{last:%d/%m/%Y}, {loaded.agencies} agencies, "
          f"{loaded.counters} counters, {loaded.officers:,} officers, {loaded.devices} kiosks, "
          f"{loaded.procedures} procedures; {loaded.repeats:,} suspected repeats, {loaded.tests} tests, "
          f"{loaded.harassment:,} harassment reports, {loaded.comments:,} comments; "
          f"1 kiosk with a broken chain ({loaded.broken_ratings:,} ratings counted apart)")
    steps = "; ".join(f"{name} {seconds:.1f} s" for name, seconds in loaded.seconds.items())
    print(f"load: {total:.1f} s (migrations {migrated:.1f} s; {steps})")
    rows = ", ".join(f"{table} {count:,} rows" for table, count in loaded.totals.items())
    print(f"totals kept by the triggers: {rows}", flush=True)
    return engine


def _measure(pages: list[Page], server: ServerProcess, dsn: str, rounds: int,
             progress: Callable[[str], None]) -> list[float]:
    """Time every page, its bare query and all its SQL, round after round; the floor's seconds, once a page."""
    import psycopg

    session = signed_in(server)
    floor: list[float] = []
    with psycopg.connect(dsn) as connection:
        progress("warming up …")
        time_floor(session, server)
        for page in pages:
            time_page(session, server, page)
            time_bare(connection, page)
            time_bare(connection, page, page.all_statements)
        for n in range(rounds):
            progress(f"round {n + 1}/{rounds}")
            for page in pages:
                page.page_s.append(time_page(session, server, page))
                page.bare_s.append(time_bare(connection, page))
                page.all_s.append(time_bare(connection, page, page.all_statements))
                floor.append(time_floor(session, server))
    session.close()
    return floor


def _print_figures(pages: list[Page], rounds: int, floor: list[float]) -> None:
    print(f"dashboard pages, {rounds} rounds each after a warm-up, milliseconds (bare: the page's aggregation SQL "
          "replayed on psycopg; all SQL, extra information only: every statement the page sends, replayed the same "
          "way)")
    print(f"  {'period':<7}{'group':<10}{'agency':<13}{'groups':>7}{'ratings':>9}{'page p50':>10}{'p95':>8}"
          f"{'bare p50':>10}{'p95':>8}{'ratio p95':>10}{'':<10}{'all SQL p95':>12}{'page/all':>9}")
    slow, heavy = [], []
    for page in pages:
        p50, p95 = percentile(page.page_s, 50) * 1000, percentile(page.page_s, 95) * 1000
        b50, b95 = percentile(page.bare_s, 50) * 1000, percentile(page.bare_s, 95) * 1000
        a95 = percentile(page.all_s, 95) * 1000
        ratio = p95 / b95
        mark = ("" if p95 < TARGET_P95_MS else " SLOW") + ("" if ratio <= TARGET_RATIO else " >2x")
        print(f"  {page.name}{page.groups:>7}{page.ratings:>9,}{p50:>10.1f}{p95:>8.1f}{b50:>10.1f}{b95:>8.1f}"
              f"{ratio:>9.2f}x{mark:<10}{a95:>12.1f}{p95 / a95:>8.2f}x")
        if p95 >= TARGET_P95_MS:
            slow.append(page.name.split()[0:2])
        if ratio > TARGET_RATIO:
            heavy.append(page.name.split()[0:2])
    worst = max(pages, key=lambda p: percentile(p.page_s, 95))
    print(f"  slowest page p95: {percentile(worst.page_s, 95) * 1000:.1f} ms ({' '.join(worst.name.split())})")
    print(f"  target p95 < {TARGET_P95_MS:.0f} ms: "
          + (f"{len(slow)} of {len(pages)} pages miss it" if slow else f"all {len(pages)} pages meet it"))
    print(f"  target page/bare <= {TARGET_RATIO:.0f}x at p95: "
          + (f"{len(heavy)} of {len(pages)} pages miss it" if heavy else f"all {len(pages)} pages meet it"))
    smallest = min(pages, key=lambda p: percentile(p.bare_s, 95))
    print(f"  floor (information): a signed-in GET of the dashboard that runs no report (a period it refuses: "
          f"sign-in, agencies, layout, HTTP) p50 {percentile(floor, 50) * 1000:.1f} ms, "
          f"p95 {percentile(floor, 95) * 1000:.1f} ms; 2x the smallest bare p95 "
          f"({' '.join(smallest.name.split())}) is {2 * percentile(smallest.bare_s, 95) * 1000:.1f} ms", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Create and load the database, start the server, time every page and its bare query, print the figures."""
    options = parse_options(sys.argv[1:] if argv is None else argv)
    today = datetime.now(UTC).astimezone(dashboard_load.ZONE).date()
    first, last = date(today.year - 2, 1, 1), date(today.year - 1, 12, 31)
    pages = pages_for(date(today.year - 1, 11, 1), date(today.year - 1, 1, 1))
    began = time.perf_counter()
    floor: list[float] = []
    try:
        dsn = options.pg_admin_dsn
        with (scratch_postgres(dsn, lambda exc: _pg_error(dsn, exc)) as db,
              tempfile.TemporaryDirectory(prefix="bench-dash-") as tmp):
            for line in machine(db.dsn):
                print(line)
            engine = _load(db, options, first, last)
            try:
                accounts.add_user(engine, USER, PASSWORD)
                token = accounts.login(engine, USER, PASSWORD, timedelta(hours=1), free_attempts=5,
                                    max_delay_s=60).token
                assert token is not None
                for page in pages:
                    capture(engine, page, token)
            finally:
                engine.dispose()
            say("starting kiosk-server run …")
            try:
                server = start_server(db.url, Path(tmp) / "server-data")
            except RuntimeError as exc:
                raise BenchError(f"Máy chủ không khởi động được: {exc}", f"the server did not start: {exc}") from None
            try:
                floor = _measure(pages, server, db.dsn, options.rounds, say)
            finally:
                server.stop()
    except BilingualError as exc:
        print(f"Lỗi: {exc.vi}\n  Error: {exc.en}", file=sys.stderr)
        return 1
    _print_figures(pages, options.rounds, floor)
    print(f"whole run {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
