"""bench/sync_push.py as a person runs it: bad options are refused in words, and a small run pushes through a real
server on each database, checks what was stored and prints the push against every bare insert."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = "bench.sync_push"


def run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", BENCH, *args], capture_output=True, text=True, timeout=timeout,
                          check=False, cwd=ROOT)


@pytest.mark.parametrize(("args", "vi", "en"), [
    (("--ratings", "0"), "cần một số nguyên dương", "expected a positive integer"),
    (("--devices", "nhiều"), "cần một số nguyên dương", "expected a positive integer"),
    (("--backend", "mysql"), "chọn sqlite, postgres hoặc both", "choose sqlite, postgres or both"),
    (("--ratings", "10", "--devices", "20"), "không được lớn hơn --ratings", "must not exceed --ratings"),
])
def test_a_bad_option_is_refused_in_vietnamese_then_english(args: tuple[str, ...], vi: str, en: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert vi in result.stderr and en in result.stderr
    assert result.stderr.index(vi) < result.stderr.index(en)
    assert result.stdout == ""   # nothing measured, nothing created


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_small_run_checks_the_stored_chain_and_compares_with_every_bare_insert(backend: str,
                                                                                 request: pytest.FixtureRequest
                                                                                 ) -> None:
    if backend == "postgres":
        request.getfixturevalue("pg_url")   # reachable, or skipped (failed under CI=true)
    result = run("--ratings", "1200", "--devices", "4", "--backend", backend)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "server holds 1200 records and 1200 ratings; chain intact: seq 1..1200" in out
    bare = re.findall(r"bare insert, (.+?) +[\d.]+ s +\d+ ratings/s +ratio push/bare [\d.]+", out)
    expected = ["SQLAlchemy Core", "driver (DB-API)", *(["driver COPY"] if backend == "postgres" else [])]
    assert bare == expected
    assert re.search(r"targets: push/bare >= 0\.33 against the fastest baseline: [\d.]+, (met|NOT MET); "
                     r"1200 ratings in < 60 s: [\d.]+ s, met", out)
    assert re.search(r"4 devices at once, 1200 ratings: [\d.]+ s, \d+ ratings/s; 4 requests", out)
