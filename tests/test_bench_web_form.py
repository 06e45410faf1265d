"""bench/web_form.py as a person runs it: bad options refused in words, and a small run through a real server
that checks every answer was counted and prints the answers against the form page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = "bench.web_form"


def run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", BENCH, *args], capture_output=True, text=True, timeout=timeout,
                          check=False, cwd=ROOT)


@pytest.mark.parametrize(("args", "vi", "en"), [
    (("--answers", "0"), "cần một số nguyên dương", "expected a positive integer"),
    (("--clients", "nhiều"), "cần một số nguyên dương", "expected a positive integer"),
    (("--backend", "mysql"), "chọn sqlite hoặc postgres", "choose sqlite or postgres"),
])
def test_a_bad_option_is_refused_in_vietnamese_then_english(args: tuple[str, ...], vi: str, en: str) -> None:
    result = run(*args)
    assert result.returncode == 2 and vi in result.stderr and en in result.stderr
    assert result.stderr.index(vi) < result.stderr.index(en) and result.stdout == ""


def test_a_small_run_counts_every_answer_and_prints_the_ratio() -> None:
    result = run("--answers", "20", "--clients", "2")
    assert result.returncode == 0, result.stderr
    assert "checked: the web channel's figures count all 40 answers, none left out" in result.stdout
    ratios = re.findall(r"answers/s against form pages/s: ([0-9.]+)", result.stdout)
    assert len(ratios) == 2 and all(float(r) > 0 for r in ratios)
    assert re.search(r"POST an answer .* p50 +[0-9.]+ ms +p95 +[0-9.]+ ms", result.stdout)
