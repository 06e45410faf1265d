"""Answers through the public web form per second, against the form page itself, on one server process.

A real `kiosk-server run` process (one uvicorn worker) on 127.0.0.1 over a fresh database (a SQLite file, or a
new PostgreSQL database dropped afterwards) with one agency and counter. Measured over HTTP with keep-alive:

- baseline: GET of the form page (/y-kien/AGENCY/COUNTER), N times;
- the form: POST of a complete answer (level, the five SIPAS elements, the harassment answer, a procedure code
  and a comment) as a browser without JavaScript sends it, N times, each from an address of its own
  (X-Forwarded-For, trusted from 127.0.0.1 as from a local proxy) and with no cookie, so every answer is one
  the rules count: the token, rate and cookie checks all run, none flags. The redirect to the thank-you page is
  not followed (it is a plain GET, like the baseline).

Both one request at a time and with C clients at once (threads). Afterwards the server must hold exactly the
answers sent, all counted, in the web channel's figures (reports.build).

Run: .venv/bin/python -m bench.web_form [--answers N] [--clients C] [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench.common import BenchError, percentile, positive_int, say, scratch_postgres
from sync.server import registry
from sync.server.process import ServerProcess, free_port
from sync.server.results import reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.settings import ServerSettings

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
AGENCY, COUNTER = "BENCH", "Q01"
ANSWER = {"level": "4", "access": "5", "procedure": "4", "officer": "5", "result": "4", "feedback": "3",
          "harassment": "0", "procedure_code": "1.001193", "comment": "Cán bộ hướng dẫn tận tình, phải chờ hơi lâu.",
          "lang": "vi", "website": ""}


@dataclass(frozen=True)
class Timed:
    """Requests made and how long each took."""

    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        """Requests per second."""
        return len(self.latencies) / self.seconds

    def line(self, what: str) -> str:
        """One figure line."""
        ms = [x * 1000 for x in self.latencies]
        return (f"  {what:<34} {len(ms):6d} in {self.seconds:6.2f} s {self.rate:8.1f}/s   p50 "
                f"{percentile(ms, 50):6.1f} ms  p95 {percentile(ms, 95):6.1f} ms")


def _backend(text: str) -> str:
    if text not in ("sqlite", "postgres"):
        raise argparse.ArgumentTypeError(f"chọn sqlite hoặc postgres, nhận được {text!r} / "
                                         f"choose sqlite or postgres, got {text!r}")
    return text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, checked; argparse exits 2 with the reason in both languages."""
    parser = argparse.ArgumentParser(prog="bench/web_form.py", description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=positive_int, default=500, metavar="N", help="answers (and GETs) per phase")
    parser.add_argument("--clients", type=positive_int, default=4, metavar="C", help="clients at once")
    parser.add_argument("--backend", type=_backend, default="sqlite", metavar="sqlite|postgres")
    parser.add_argument("--pg-admin", default=PG_ADMIN_DSN, metavar="DSN")
    return parser.parse_args(argv)


def _run(count: int, clients: int, one: Callable[[requests.Session, int], None]) -> Timed:
    """`count` calls of `one` spread over `clients` threads, each with its own keep-alive session."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(first: int) -> None:
        session = requests.Session()
        mine: list[float] = []
        try:
            for i in range(first, count, clients):
                began = time.perf_counter()
                one(session, i)
                mine.append(time.perf_counter() - began)
        except BaseException as exc:   # reported after the join, in the main thread
            errors.append(exc)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise errors[0]
    return Timed(seconds, latencies)


def measure(db_url: str, directory: Path, answers: int, clients: int) -> list[str]:
    """Start the server on `db_url`, measure, check what was stored; the figure lines."""
    server = ServerProcess(db_url, directory / "data", free_port())
    server.start()
    try:
        engine = server.engine()
        registry.add_agency(engine, AGENCY, {"name": "Trung tâm Phục vụ hành chính công (đo tốc độ)"})
        registry.add_counter(engine, AGENCY, COUNTER, "Quầy 1", [])
        form = f"{server.url}/y-kien/{AGENCY}/{COUNTER}"
        sent = itertools.count(1)   # next() on it is atomic: each answer an address of its own

        def get(session: requests.Session, _i: int) -> None:
            answer = session.get(form, timeout=30)
            if answer.status_code != 200:
                raise BenchError(f"GET trả {answer.status_code}", f"GET answered {answer.status_code}")

        def post(session: requests.Session, _i: int) -> None:
            number = next(sent)
            address = f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
            answer = session.post(form, data=ANSWER, headers={"X-Forwarded-For": address}, allow_redirects=False,
                                  timeout=30)
            if answer.status_code != 303:
                raise BenchError(f"POST trả {answer.status_code}", f"POST answered {answer.status_code}")
            session.cookies.clear()   # each answer as a new browser: none is a repeat

        say("warming up")
        _run(20, 1, get)
        lines = []
        for width in (1, clients):
            say(f"{width} client(s): GET of the form page")
            base = _run(answers, width, get)
            say(f"{width} client(s): POST of answers")
            done = _run(answers, width, post)
            lines += [f" {width} client(s) at once:", base.line("GET form page (baseline)"),
                      done.line("POST an answer (stored, counted)"),
                      f"  answers/s against form pages/s: {done.rate / base.rate:.2f}"]
        today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
        report = reports.build(engine, ReportQuery(Period.of("month", today), "counter", AGENCY, channel="web"),
                               ServerSettings())
        expected = 2 * answers
        if report.total.ratings != expected or report.excluded_repeats:
            raise BenchError(f"máy chủ đếm {report.total.ratings} câu trả lời ({report.excluded_repeats} bị loại), "
                             f"cần {expected}", f"the server counts {report.total.ratings} answers "
                             f"({report.excluded_repeats} left out), {expected} expected")
        lines.append(f"  checked: the web channel's figures count all {expected} answers, none left out")
        return lines
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    options = parse_args(argv)
    began = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-web-form-") as directory:
            scratch: Any = (scratch_postgres(options.pg_admin, lambda exc: BenchError(
                f"không kết nối được PostgreSQL: {exc}", f"cannot reach PostgreSQL: {exc}"))
                if options.backend == "postgres" else nullcontext(None))
            with scratch as database:
                url = database.url if database else f"sqlite:///{Path(directory) / 'server.db'}"
                lines = measure(url, Path(directory), options.answers, options.clients)
    except BenchError as exc:
        print(f"Lỗi: {exc.vi}\n  Error: {exc.en}", file=sys.stderr)
        return 2
    print(f"web form on {options.backend}: {options.answers} requests per phase, one server process (one "
          f"uvicorn worker) on 127.0.0.1, {os.cpu_count()} cores, Python {platform.python_version()}")
    for line in lines:
        print(line)
    print(f"whole run {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
