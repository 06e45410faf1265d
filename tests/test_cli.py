"""The `kiosk` command: sub-commands, option placement, selftest, stats, export and doctor."""

from __future__ import annotations

import codecs
import csv
import io
import sqlite3
import sys
from pathlib import Path

import pytest

from kiosk import __version__, cli, paths
from kiosk.services import Services
from kiosk.settings import Settings
from tests.conftest import EXAMPLE_CONFIG

SUBCOMMANDS = ("run", "pin", "ratings", "selftest", "doctor")


def kiosk(data_dir: Path, *args: str) -> int:
    return cli.main(["--config", str(EXAMPLE_CONFIG), "--data-dir", str(data_dir), *args])


def log_rows(data_dir: Path) -> list[tuple[int, int, int, int]]:
    con = sqlite3.connect(data_dir / paths.DB_NAME)
    try:
        return con.execute("SELECT seq, level, is_test, suspected_repeat FROM log "
                           "WHERE kind = 'rating' ORDER BY seq").fetchall()
    finally:
        con.close()


def stats_lines(out: str) -> dict[str, list[str]]:
    """The stats table keyed by the start of each line, with the numbers at its end."""
    table: dict[str, list[str]] = {}
    for line in out.splitlines():
        words = line.split()
        numbers = []
        while words and words[-1].isdigit():
            numbers.insert(0, words.pop())
        table[" ".join(words)] = numbers
    return table


# --- parsing ----------------------------------------------------------------------------------------------


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"\n    {name} " in out, name
    assert "--config" in out and "--data-dir" in out


@pytest.mark.parametrize(("argv", "actions"), [
    (["ratings", "--help"], ("verify", "stats", "export")),
    (["pin", "--help"], ("set",)),
    (["ratings", "export", "--help"], ("--format", "--out", "--include-tests", "--config", "--data-dir")),
    (["selftest", "--help"], ("--ratings",)),
])
def test_subcommand_help(capsys: pytest.CaptureFixture[str], argv: list[str],
                         actions: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    for action in actions:
        assert action in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"kiosk {__version__}"


@pytest.mark.parametrize("argv", [["frobnicate"], ["ratings"], ["ratings", "delete"], ["pin"],
                                  ["selftest", "--ratings", "many"],
                                  ["ratings", "export", "--format", "xlsx"]])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--config", "C", "--data-dir", "D", "ratings", "stats"],
    ["ratings", "stats", "--config", "C", "--data-dir", "D"],
    ["ratings", "--config", "C", "--data-dir", "D", "stats"],
    ["--config", "C", "ratings", "stats", "--data-dir", "D"],
    ["--data-dir", "D", "selftest", "--config", "C", "--ratings", "3"],
    ["selftest", "--ratings", "3", "--data-dir", "D", "--config", "C"],
    ["pin", "set", "--config", "C", "--data-dir", "D"],
    ["pin", "--config", "C", "set", "--data-dir", "D"],
    ["doctor", "--config", "C", "--data-dir", "D"],
    ["--config", "C", "--data-dir", "D", "doctor"],
    ["ratings", "export", "--out", "F", "--config", "C", "--data-dir", "D"],
    ["run", "--config", "C", "--data-dir", "D"],
])
def test_config_and_data_dir_before_or_after_the_subcommand(argv: list[str]) -> None:
    args = cli.build_parser().parse_args(argv)
    assert args.config == Path("C")
    assert args.data_dir == Path("D")


def test_options_default_to_none() -> None:
    args = cli.build_parser().parse_args(["ratings", "stats"])
    assert args.config is None and args.data_dir is None


@pytest.mark.parametrize("after", [False, True])
def test_data_dir_after_the_subcommand_is_used(tmp_path: Path, after: bool,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "device"
    options = ["--config", str(EXAMPLE_CONFIG), "--data-dir", str(data_dir)]
    argv = ["selftest", "--ratings", "2", *options] if after else [*options, "selftest", "--ratings", "2"]
    assert cli.main(argv) == 0
    assert len(log_rows(data_dir)) == 2


# --- selftest and stats -----------------------------------------------------------------------------------


def test_selftest_ratings_are_counted_as_tests(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(data_dir, "selftest", "--ratings", "7") == 0
    out = capsys.readouterr().out
    assert "Recorded 7 test ratings; chain intact (7 records)" in out
    rows = log_rows(data_dir)
    assert [r[0] for r in rows] == list(range(1, 8))
    assert all(r[2] == 1 for r in rows) and all(1 <= r[1] <= 5 for r in rows)

    assert kiosk(data_dir, "ratings", "stats") == 0
    out = capsys.readouterr().out
    table = stats_lines(out)
    assert "Đánh giá thử (selftest) / Test ratings: 7" in out
    assert table["Tổng / Total"] == ["0", "0"]
    assert table["Nghi bấm lặp / Suspected repeats"] == ["0", "0"]  # tests are not repeats either
    for line, numbers in table.items():
        if line[:1].isdigit():  # one line per level
            assert numbers == ["0", "0"], line
    assert "Not yet synced: 7" in out


def test_stats_counts_real_ratings_per_level(settings: Settings, data_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    services = Services.open(settings, data_dir)
    try:
        for value in (5, 5, 4, 1):
            services.ratings.repeat_window_s = 0
            services.ratings.record_rating(value, counter_id="Q01", officer_id="CB001", language="vi")
    finally:
        services.close()
    assert kiosk(data_dir, "selftest", "--ratings", "3") == 0
    capsys.readouterr()
    assert kiosk(data_dir, "ratings", "stats") == 0
    table = stats_lines(capsys.readouterr().out)
    assert table["5 Rất hài lòng / Very satisfied"] == ["2", "2"]
    assert table["4 Hài lòng / Satisfied"] == ["1", "1"]
    assert table["3 Bình thường / Neutral"] == ["0", "0"]
    assert table["1 Rất không hài lòng / Very dissatisfied"] == ["1", "1"]
    assert table["Tổng / Total"] == ["4", "4"]
    assert table["Đánh giá thử (selftest) / Test ratings:"] == ["3"]


@pytest.mark.parametrize("count", ["0", "-1", "10001"])
def test_selftest_out_of_range_exits_2_and_writes_nothing(data_dir: Path, count: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(data_dir, "selftest", "--ratings", count) == 2
    err = capsys.readouterr().err
    assert "--ratings must be 1 to 10000" in err and "--ratings phải từ 1 đến 10000" in err
    assert log_rows(data_dir) == []


# --- export -----------------------------------------------------------------------------------------------


def _some_ratings(settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        log = services.ratings
        first = log.record_rating(5, counter_id="Q01", officer_id="CB001", language="vi")
        log.record_answer(first.uuid, "officer", 5)
        log.record_comment(first.uuid, "Cảm ơn chị Lan đã hướng dẫn tận tình")
        second = log.record_rating(2, counter_id="Q01", officer_id="CB002", language="en")
        log.record_answer(second.uuid, "harassment", 1)
    finally:
        services.close()


def test_export_csv_to_a_file_is_utf8_with_bom(settings: Settings, data_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _some_ratings(settings, data_dir)
    assert kiosk(data_dir, "selftest", "--ratings", "2") == 0
    out_file = tmp_path / "danh-gia.csv"
    assert kiosk(data_dir, "ratings", "export", "--format", "csv", "--out", str(out_file)) == 0
    assert f"Wrote 2 ratings to {out_file}" in capsys.readouterr().err
    raw = out_file.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # so Excel reads the Vietnamese right
    assert raw.count(codecs.BOM_UTF8) == 1
    assert b"\r\n" in raw  # csv's own line endings, not doubled
    assert b"\r\r\n" not in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [r["seq"] for r in rows] == ["1", "4"]
    assert [r["label"] for r in rows] == ["Rất hài lòng", "Không hài lòng"]
    assert rows[0]["officer"] == "5" and rows[0]["comment"] == "Cảm ơn chị Lan đã hướng dẫn tận tình"
    assert rows[1]["harassment"] == "1" and rows[1]["officer_id"] == "CB002"
    assert all(r["is_test"] == "False" for r in rows)


def test_export_include_tests(settings: Settings, data_dir: Path, tmp_path: Path) -> None:
    _some_ratings(settings, data_dir)
    assert kiosk(data_dir, "selftest", "--ratings", "3") == 0
    out_file = tmp_path / "all.csv"
    assert kiosk(data_dir, "ratings", "export", "--out", str(out_file), "--include-tests") == 0
    rows = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8-sig"), newline="")))
    assert len(rows) == 5
    assert [r["is_test"] for r in rows] == ["False", "False", "True", "True", "True"]


def test_export_to_stdout(settings: Settings, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _some_ratings(settings, data_dir)
    capsys.readouterr()
    assert kiosk(data_dir, "ratings", "export") == 0
    out = capsys.readouterr().out
    assert not out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["label"] for r in rows] == ["Rất hài lòng", "Không hài lòng"]


# --- doctor -----------------------------------------------------------------------------------------------


def test_doctor_on_a_fresh_device(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(data_dir, "doctor") == 0
    out = capsys.readouterr().out
    assert "[CHÚ Ý] pin" in out and "123456" in out and "kiosk pin set" in out
    assert "[LỖI ]" not in out
    for name in ("settings", "database", "chain", "key"):
        assert f"[ OK ] {name}:" in out, name
    assert "Rating chain intact: 0 records" in out
    assert f"schema {cli.doctor.SCHEMA_HEAD}, wal" in out
    assert (data_dir / paths.KEY_NAME).exists()


def test_doctor_stops_warning_once_the_pin_is_changed(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("80264\n"))
    assert kiosk(data_dir, "pin", "set") == 0
    capsys.readouterr()
    assert kiosk(data_dir, "doctor") == 0
    out = capsys.readouterr().out
    assert "123456" not in out and " pin:" not in out


def test_doctor_after_tampering(settings: Settings, data_dir: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    _some_ratings(settings, data_dir)
    con = sqlite3.connect(data_dir / paths.DB_NAME)
    con.execute("DROP TRIGGER log_append_only_update")
    con.execute("UPDATE log SET level = 5 WHERE seq = 4")
    con.commit()
    con.close()
    assert kiosk(data_dir, "doctor") == 1
    out = capsys.readouterr().out
    assert "[LỖI ] chain: Chuỗi đánh giá hỏng tại bản ghi số 4" in out
    assert "Rating chain broken at record 4" in out and "Delete nothing" in out
    assert "[ OK ] database:" in out  # the file itself is sound; only the chain is not


def test_doctor_leaves_a_widened_key_file_narrowed(settings: Settings, data_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    Services.open(settings, data_dir).close()
    key_path = data_dir / paths.KEY_NAME
    key_path.chmod(0o644)
    # Opening the services narrows the mode again before the check looks, so doctor passes and leaves 0600.
    assert kiosk(data_dir, "doctor") == 0
    out = capsys.readouterr().out
    assert "[ OK ] key:" in out
    assert f"[CHÚ Ý] permissions: Tệp {key_path} có quyền 0644" in out  # but what was found is said
    assert key_path.stat().st_mode & 0o777 == 0o600


def test_doctor_names_every_file_others_could_read_and_its_mode(settings: Settings, data_dir: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    Services.open(settings, data_dir).close()
    assert kiosk(data_dir, "doctor") == 0
    assert f"[ OK ] permissions: Chỉ chủ sở hữu dùng được {data_dir}" in capsys.readouterr().out
    data_dir.chmod(0o755)
    (data_dir / paths.DB_NAME).chmod(0o644)
    export = data_dir / "export.csv"
    export.write_text("seq,level\n", encoding="utf-8")
    export.chmod(0o666)
    assert kiosk(data_dir, "doctor") == 0  # a warning: the kiosk still takes ratings
    out = capsys.readouterr().out
    assert f"[CHÚ Ý] permissions: Thư mục dữ liệu {data_dir} có quyền 0755" in out
    assert f"The data directory {data_dir} has mode 0755" in out and f"chmod 700 {data_dir}" in out
    for path, mode in ((data_dir / paths.DB_NAME, "0644"), (export, "0666")):
        assert f"[CHÚ Ý] permissions: Tệp {path} có quyền {mode} (nhóm hoặc người dùng khác" in out, path
        assert "nay đã đổi thành 0600" in out
        assert f"The file {path} had mode {mode}: its group or other users of this machine could read it; " \
               "now 0600" in out, path
    assert "[ OK ] permissions" not in out and str(data_dir / paths.KEY_NAME) + " có quyền" not in out
    # The files were narrowed when the services opened; the directory is the technician's to change.
    assert (data_dir / paths.DB_NAME).stat().st_mode & 0o777 == export.stat().st_mode & 0o777 == 0o600
    assert data_dir.stat().st_mode & 0o777 == 0o755
    assert kiosk(data_dir, "doctor") == 0
    out = capsys.readouterr().out
    assert "Tệp" not in out and f"Thư mục dữ liệu {data_dir} có quyền 0755" in out


def test_doctor_on_a_broken_database(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir.mkdir(mode=0o700)
    (data_dir / paths.DB_NAME).write_bytes(b"not a database" * 100)
    assert kiosk(data_dir, "doctor") == 1
    out = capsys.readouterr().out
    assert "[LỖI ] services:" in out and str(data_dir / paths.DB_NAME) in out


def test_verify_on_a_clean_device(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(data_dir, "selftest", "--ratings", "3") == 0
    capsys.readouterr()
    assert kiosk(data_dir, "ratings", "verify") == 0
    assert "Chain intact: 3 records, head 3" in capsys.readouterr().out


def test_doctor_in_a_directory_with_a_hash_in_its_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "kiosk #2"
    assert kiosk(data_dir, "selftest", "--ratings", "1") == 0
    capsys.readouterr()
    assert kiosk(data_dir, "doctor") == 0
    out = capsys.readouterr().out
    assert f"[ OK ] database: {data_dir / paths.DB_NAME} (lược đồ {cli.doctor.SCHEMA_HEAD}, wal)" in out
