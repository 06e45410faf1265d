"""`kiosk catalog`: import (and --check), list, show, search and fields, with errors that change nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk import cli, paths
from kiosk.catalog_cli import render
from kiosk.domain.catalog_import import load_file
from tests.conftest import EXAMPLE_CONFIG

DATA = Path(__file__).resolve().parent / "data"
SECTIONS = ("CÁCH THỨC THỰC HIỆN, THỜI HẠN, PHÍ VÀ LỆ PHÍ", "TRÌNH TỰ THỰC HIỆN", "THÀNH PHẦN HỒ SƠ",
            "YÊU CẦU, ĐIỀU KIỆN", "KẾT QUẢ THỰC HIỆN", "CĂN CỨ PHÁP LÝ", "ĐỊA CHỈ TIẾP NHẬN HỒ SƠ",
            "DỊCH VỤ CÔNG TRỰC TUYẾN", "THÔNG TIN KHÁC")


def kiosk(data_dir: Path, *args: str) -> int:
    return cli.main(["--config", str(EXAMPLE_CONFIG), "--data-dir", str(data_dir), *args])


def versions(data_dir: Path) -> list[tuple[int, int, int]]:
    con = sqlite3.connect(data_dir / paths.DB_NAME)
    try:
        return con.execute("SELECT id, count, active FROM catalog_version ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.fixture
def imported(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert kiosk(data_dir, "catalog", "import", str(DATA / "national_good.json")) == 0
    capsys.readouterr()
    return data_dir


def test_help_lists_the_catalog_actions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["catalog", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for action in ("import", "list", "show", "search", "fields"):
        assert action in out


def test_import_reports_what_it_did(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(data_dir, "catalog", "import", str(DATA / "national_good.json")) == 0
    out = capsys.readouterr().out
    assert "Đã nhập 3 thủ tục, 2 lĩnh vực" in out and "Imported 3 procedures, 2 fields" in out
    assert versions(data_dir) == [(1, 3, 1)]
    assert kiosk(data_dir, "catalog", "import", str(DATA / "catalog_semicolon.csv")) == 0
    assert versions(data_dir) == [(1, 3, 0), (2, 2, 1)]


def test_import_check_changes_nothing(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(imported, "catalog", "import", str(DATA / "catalog_bom.csv"), "--check") == 0
    out = capsys.readouterr().out
    assert "Tệp hợp lệ: 2 thủ tục" in out and "nothing imported" in out
    assert versions(imported) == [(1, 3, 1)]


@pytest.mark.parametrize("check", [False, True])
def test_a_broken_file_exits_2_with_both_languages_and_changes_nothing(
        imported: Path, capsys: pytest.CaptureFixture[str], check: bool) -> None:
    broken = DATA / "broken" / "duplicate_code.json"
    assert kiosk(imported, "catalog", "import", str(broken), *(["--check"] if check else [])) == 2
    err = capsys.readouterr().err
    assert f"Lỗi: {broken}: thủ tục 1.001193 (bản ghi số 3): trường «MATTHC»" in err
    assert f"Error: {broken}: procedure 1.001193 (record #3): field 'MATTHC'" in err
    assert versions(imported) == [(1, 3, 1)]
    assert kiosk(imported, "catalog", "show", "1.000656") == 0


def test_a_missing_file_exits_2(imported: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert kiosk(imported, "catalog", "import", str(tmp_path / "nope.csv")) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_list_and_fields(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(imported, "catalog", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["2.000908", "1.001193", "1.000656"]  # by name: C before Đ
    assert lines[1].endswith("Thủ tục đăng ký khai sinh  [Hộ tịch]")
    assert kiosk(imported, "catalog", "list", "--field", "HT") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["1.001193", "1.000656"]
    assert kiosk(imported, "catalog", "fields") == 0
    assert [line.split() for line in capsys.readouterr().out.splitlines()] == [
        ["CT", "1", "Chứng", "thực"], ["HT", "2", "Hộ", "tịch"]]


def test_list_of_an_unknown_field(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(imported, "catalog", "list", "--field", "XX") == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "No procedure in this field" in captured.err


def test_search(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(imported, "catalog", "search", "dang ky khai s") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["1.001193"]
    assert kiosk(imported, "catalog", "search", "1.00") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["1.000656", "1.001193"]
    assert kiosk(imported, "catalog", "search", "dang ky", "--field", "CT") == 1
    assert "No procedure found" in capsys.readouterr().err
    assert kiosk(imported, "catalog", "search", '"(*') == 1


def test_show_prints_every_section(imported: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "110")  # the lines wrap to the terminal, which differs between test runners
    assert kiosk(imported, "catalog", "show", "1.001193") == 0
    out = capsys.readouterr().out
    assert out.startswith("1.001193  Thủ tục đăng ký khai sinh\n")
    for heading in SECTIONS:
        assert f"\n{heading}\n" in out, heading
    for text in ("Lĩnh vực: Hộ tịch (HT)", "Cấp thực hiện: Cấp Xã", "Trực tiếp", "Phí, lệ phí: Miễn lệ phí",
                 "1. Người yêu cầu nộp hồ sơ", "- Giấy chứng sinh (1 bản chính)",
                 "mẫu: Tờ khai đăng ký khai sinh", "- Giấy khai sinh", "60/2014/QH13 Luật Hộ tịch (ban hành 20/11/2014",
                 "ma_thu_tuc=1.001193", "MUCDO: Toàn trình"):
        assert text in out, text


def test_show_marks_empty_sections_and_cases() -> None:
    (business, _second) = load_file(DATA / "national_messy.json")
    lines = render(business, 80)
    assert all(len(line) <= 80 for line in lines if " " in line.strip())
    text = "\n".join(lines)
    assert "Trường hợp chủ hộ trực tiếp nộp:\n    - Giấy đề nghị" in text
    assert "Trường hợp ủy quyền:\n    - Văn bản ủy quyền (1 bản chính)" in text
    assert "ĐỊA CHỈ TIẾP NHẬN HỒ SƠ\n  (không có)" in text


def test_show_an_unknown_code_exits_2(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(imported, "catalog", "show", "9.999999") == 2
    err = capsys.readouterr().err
    assert "Không có thủ tục mã '9.999999'" in err and "no procedure with code '9.999999'" in err


def test_empty_catalog(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["list"], ["fields"], ["search", "khai sinh"]):
        assert kiosk(data_dir, "catalog", *args) == 1
        assert "kiosk catalog import" in capsys.readouterr().err
