"""bench/dashboard.py as a person runs it: bad options and a dead PostgreSQL are refused in words, and a small
run on the real PostgreSQL prints every page against its bare query and leaves no database behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sync.server.process import free_port
from tests.conftest import PG_ADMIN_DSN

ROOT = Path(__file__).resolve().parent.parent
BENCH = "bench.dashboard"


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", BENCH, *args], capture_output=True, text=True, timeout=timeout,
                          check=False, cwd=ROOT)


@pytest.mark.parametrize("args", [("--ratings", "0"), ("--ratings", "một triệu"), ("--rounds", "-3")])
def test_a_bad_option_is_refused_in_vietnamese_then_english(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "cần một số nguyên dương" in result.stderr and "expected a positive integer" in result.stderr
    assert result.stderr.index("cần một số nguyên dương") < result.stderr.index("expected a positive integer")
    assert result.stdout == ""   # nothing measured, nothing created


def test_a_dead_postgresql_is_named_and_nothing_runs() -> None:
    dead = f"host=127.0.0.1 port={free_port()} user=postgres dbname=test connect_timeout=2"
    result = run("--ratings", "100", "--pg-admin", dead)
    assert result.returncode == 1
    assert "Lỗi: Không dùng được PostgreSQL" in result.stderr and "Error: cannot use PostgreSQL" in result.stderr
    assert "dashboard pages" not in result.stdout


@pytest.mark.postgres
def test_a_small_run_times_every_page_against_its_bare_query_and_drops_its_database(pg_url: str) -> None:
    import psycopg

    def bench_databases() -> set[str]:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            return {row[0] for row in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE "
                                                    "'kiosk\\_bench\\_%'")}

    before = bench_databases()
    result = run("--ratings", "3000", "--rounds", "2", timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    pages = [line for line in lines if line.startswith("  month ") or line.startswith("  year ")]
    assert len(pages) == 20   # month and year, five groupings, every agency and one
    assert any("3,000 ratings" in line for line in lines)
    assert any(line.startswith("  target p95 < 500 ms:") for line in lines)
    assert any(line.startswith("  target page/bare <= 2x at p95:") for line in lines)
    floor = next(line for line in lines if line.startswith("  floor (information):"))
    assert "runs no report" in floor and " p95 " in floor and "2x the smallest bare p95" in floor
    assert bench_databases() <= before   # its own database is dropped again
