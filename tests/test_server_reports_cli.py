"""`kiosk-server report` and `kiosk-server device review` on SQLite and PostgreSQL: the same numbers as the
reports module, in every format; bad options get one bilingual message, exit code 2 and change nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from sync.server import cli, db
from sync.server.models import DEVICE
from sync.server.process import free_port
from sync.server.results import exports, reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.settings import ServerSettings
from tests import hostile_data
from tests.sync_harness import ServerHandle
from tests.test_server_reports import HK_NOVEMBER, NOVEMBER, Seeded, seed

SETTINGS = ServerSettings()


@pytest.fixture(scope="module")
def seeded(module_db_url: str) -> Iterator[Seeded]:
    """The hand-worked data set of tests/test_server_reports.py, once per backend."""
    engine = db.open_database(module_db_url)
    yield seed(engine, module_db_url)
    engine.dispose()


def run(capsys: pytest.CaptureFixture[str], url: str, data_dir: Path, *args: str) -> tuple[int, str, str]:
    """`kiosk-server --db URL --data-dir DIR ARGS…` in this process: (exit code, stdout, stderr)."""
    code = cli.main(["--db", url, "--data-dir", str(data_dir), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def refused(code: int, err: str, *words: str) -> None:
    """Exit 2 with `Lỗi: …` then `Error: …` naming `words`, and no traceback."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Lỗi: ") and lines[1].strip().startswith("Error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err


def expected_json(seeded: Seeded, query: ReportQuery) -> object:
    """What `--format json` must print for `query`: the reports module's own answer."""
    return json.loads(json.dumps(exports.report_json(reports.build(seeded.engine, query, SETTINGS))))


@pytest.mark.parametrize("group_by", ["agency", "counter", "officer", "procedure", "field"])
def test_json_is_the_report_for_every_grouping(seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                               group_by: str) -> None:
    code, out, err = run(capsys, seeded.url, tmp_path, "report", "--from", "2025-11-01", "--to", "2025-11-30",
                         "--group-by", group_by, "--agency", "HK", "--format", "json")
    assert (code, err) == (0, "")
    query = ReportQuery(Period.between(date(2025, 11, 1), date(2025, 11, 30)), group_by, "HK")
    assert json.loads(out) == expected_json(seeded, query)
    assert json.loads(out)["total"]["levels"] == list(HK_NOVEMBER.levels)


def test_a_named_period_and_dates_written_the_vietnamese_way(seeded: Seeded, capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    code, out, _ = run(capsys, seeded.url, tmp_path, "report", "--period", "month", "--date", "15/11/2025",
                       "--agency", "HK", "--format", "json")
    assert code == 0 and json.loads(out) == expected_json(seeded, ReportQuery(NOVEMBER, "agency", "HK"))
    code, out, _ = run(capsys, seeded.url, tmp_path, "report", "--period", "month", "--date", "2025-11-15",
                       "--agency", "HK", "--format", "json", "--include-repeats", "--group-by", "officer")
    assert code == 0
    assert json.loads(out) == expected_json(seeded, ReportQuery(NOVEMBER, "officer", "HK", include_repeats=True))
    assert json.loads(out)["total"]["ratings"] == 8 and json.loads(out)["excluded_repeats"] == 0
    # No --date: the period holding today, in the report time zone.
    code, out, _ = run(capsys, seeded.url, tmp_path, "report", "--period", "year", "--format", "json")
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    assert code == 0 and json.loads(out)["query"]["period"]["first"] == date(today.year, 1, 1).isoformat()


def test_table_csv_and_xlsx_show_the_same_numbers(seeded: Seeded, capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    base = ("report", "--from", "2025-11-01", "--to", "2025-11-30", "--agency", "HK", "--group-by", "counter")
    report = reports.build(seeded.engine, ReportQuery(Period.between(date(2025, 11, 1), date(2025, 11, 30)),
                                                      "counter", "HK"), SETTINGS)
    code, out, _ = run(capsys, seeded.url, tmp_path, *base)
    assert code == 0 and out == exports.report_table(report, "vi")
    assert "Quầy 1 — Tư pháp, hộ tịch" in out and "42.9%" in out
    code, out, _ = run(capsys, seeded.url, tmp_path, *base, "--format", "csv", "--lang", "en")
    assert code == 0 and out == exports.report_csv(report, "en").removeprefix(exports.BOM)  # no BOM on a terminal
    written = tmp_path / "levels.csv"
    code, out, _ = run(capsys, seeded.url, tmp_path, *base, "--format", "csv", "--table", "levels",
                       "--out", str(written))
    assert code == 0 and "levels.csv" in out
    assert written.read_bytes() == exports.report_csv(report, "vi", "levels").encode("utf-8")
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")
    book_path = tmp_path / "báo cáo.xlsx"
    code, out, _ = run(capsys, seeded.url, tmp_path, *base, "--format", "xlsx", "--out", str(book_path))
    assert code == 0 and "báo cáo.xlsx" in out
    book = load_workbook(io.BytesIO(book_path.read_bytes()))
    header, rows, _ = exports.table(report, "groups", "vi")
    sheet = [list(r) for r in book["Nhóm"].iter_rows(values_only=True)]
    assert sheet[0] == header and [r[:3] for r in sheet[1:]] == [r[:3] if r[0] else [None, *r[1:3]] for r in rows]
    assert [r[header.index("Số lượt đánh giá")] for r in sheet[1:]] == [2, 5, 7]


@pytest.mark.parametrize(("args", "words"), [
    (("--from", "2025-13-01", "--to", "2025-12-31"), ("--from", "2025-13-01", "YYYY-MM-DD")),
    (("--from", "2025-11-30", "--to", "2025-11-01"), ("30/11/2025", "2025-11-30")),
    (("--from", "2025-11-01"), ("--to",)),
    (("--from", "2025-11-01", "--to", "2025-11-30", "--period", "month"), ("--period",)),
    (("--period", "fortnight"), ("fortnight",)),
    (("--period", "range"), ("range",)),
    (("--date", "2025-11-01"), ("--period",)),
    ((), ("--period",)),
    (("--period", "month", "--group-by", "district"), ("district",)),
    (("--period", "month", "--format", "pdf"), ("pdf",)),
    (("--period", "month", "--format", "xlsx"), ("--out",)),
    (("--period", "month", "--lang", "fr"), ("fr",)),
    (("--period", "month", "--table", "comments"), ("comments",)),
    (("--period", "month", "--counter", "Q01"), ("--agency",)),
    (("--period", "month", "--date", "hôm qua"), ("hôm qua",)),
])
def test_bad_options_are_refused_before_the_database_is_touched(capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path, args: tuple[str, ...],
                                                                words: tuple[str, ...]) -> None:
    database = tmp_path / "never.db"
    code, out, err = run(capsys, f"sqlite:///{database}", tmp_path / "data", "report", *args)
    refused(code, err, *words)
    assert out == "" and not database.exists() and not (tmp_path / "data").exists()


def test_an_unknown_agency_or_counter_is_refused(seeded: Seeded, capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    code, out, err = run(capsys, seeded.url, tmp_path, "report", "--period", "month", "--agency", "XX")
    refused(code, err, "XX")
    code, out, err = run(capsys, seeded.url, tmp_path, "report", "--period", "month", "--agency", "HK",
                         "--counter", "Q99", "--format", "xlsx", "--out", str(tmp_path / "x.xlsx"))
    refused(code, err, "Q99")
    assert out == "" and not (tmp_path / "x.xlsx").exists()


def test_device_review_from_the_command_line(server_db_url: str, capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    engine = db.open_database(server_db_url)
    try:
        made = seed(engine, server_db_url)
        broken, intact = made.device["D4"], made.device["D1"]
        code, _, err = run(capsys, server_db_url, tmp_path, "device", "review", intact, "--by", "it.tinh")
        refused(code, err, "nguyên vẹn", "intact")
        code, _, err = run(capsys, server_db_url, tmp_path, "device", "review", "không-có")
        refused(code, err, "không-có")
        before = reports.build(engine, ReportQuery(NOVEMBER, "agency", "HK"), SETTINGS)
        assert before.unverified.ratings == 2
        code, out, _ = run(capsys, server_db_url, tmp_path, "device", "review", broken, "--by", "it.tinh")
        assert code == 0 and broken in out and "tính lại" in out
        after = reports.build(engine, ReportQuery(NOVEMBER, "agency", "HK"), SETTINGS)
        assert (after.unverified.ratings, after.total.ratings) == (0, 9)
        with engine.connect() as conn:
            by: str = conn.execute(select(DEVICE.c.chain_reviewed_by).where(DEVICE.c.id == broken)).scalar_one()
        assert by == "it.tinh"
    finally:
        engine.dispose()


def test_the_installed_command_prints_the_report(seeded: Seeded, tmp_path: Path) -> None:
    server = ServerHandle(seeded.url, tmp_path / "data", free_port())
    result = server.cli_ok("report", "--from", "2025-11-01", "--to", "2025-11-30", "--agency", "HK",
                           "--group-by", "field", "--format", "json")
    query = ReportQuery(Period.between(date(2025, 11, 1), date(2025, 11, 30)), "field", "HK")
    assert json.loads(result.stdout) == expected_json(seeded, query)
    bad = server.cli("report", "--from", "1/1", "--to", "2025-11-30")
    refused(bad.returncode, bad.stderr, "1/1")


@pytest.fixture
def hostile(server_db_url: str) -> Iterator[tuple[str, hostile_data.Hostile]]:
    """A database whose every name, code and comment starts like a formula (see tests/hostile_data.py)."""
    engine = db.open_database(server_db_url)
    try:
        yield server_db_url, hostile_data.seed(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize(("group_by", "kinds"), [("agency", ("agency",)), ("officer", ("officer", "ocode")),
                                                 ("procedure", ("pcode", "procedure")), ("field", ("field",))])
def test_csv_and_xlsx_reports_never_hold_a_live_formula(hostile: tuple[str, hostile_data.Hostile],
                                                        capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                        group_by: str, kinds: tuple[str, ...]) -> None:
    url, made = hostile
    base = ("report", "--period", "month", "--date", hostile_data.DAY.isoformat(), "--group-by", group_by)
    expected = [text for kind in kinds for text in made.texts[kind]]
    written = tmp_path / "bao-cao.csv"
    code, _, err = run(capsys, url, tmp_path, *base, "--format", "csv", "--out", str(written))
    assert (code, err) == (0, "")
    rows = hostile_data.csv_rows(written.read_bytes())
    hostile_data.assert_csv_inert(rows, expected)
    assert all(row[2].isdigit() for row in rows[1:])
    code, out, _ = run(capsys, url, tmp_path, *base, "--format", "csv", "--agency", made.agencies[3])
    assert code == 0
    hostile_data.assert_csv_inert(hostile_data.csv_rows(out), [made.texts[kind][3] for kind in kinds])
    book_path = tmp_path / "bao-cao.xlsx"
    code, _, _ = run(capsys, url, tmp_path, *base, "--format", "xlsx", "--out", str(book_path), "--lang", "en")
    assert code == 0
    book = load_workbook(book_path)
    hostile_data.assert_xlsx_inert(book, expected)
    assert all(isinstance(row[2], int) for row in book["Groups"].iter_rows(min_row=2, values_only=True))
