"""`kiosk printer …` and the printer part of `kiosk doctor`."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from kiosk.cli import main

CONFIG = Path(__file__).resolve().parent.parent / "config" / "kiosk.toml"


def config_with(tmp_path: Path, uri: str) -> Path:
    text = CONFIG.read_text(encoding="utf-8").replace('uri = "none"', f'uri = "{uri}"')
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_test_page_on_a_file_printer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "page.bin"
    assert main(["--data-dir", str(tmp_path / "d"), "printer", "test", "--uri", f"file:{out}"]) == 0
    assert out.read_bytes().startswith(b"\x1dv0") and out.read_bytes().endswith(b"\x1dV\x00")
    assert Image.open(out.with_suffix(".png")).width == 576
    assert "Đã in trang thử" in capsys.readouterr().out


def test_malformed_uri_is_refused_with_the_accepted_forms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path / "d"), "printer", "test", "--uri", "lpt:1"]) == 2
    err = capsys.readouterr().err
    assert "lpt:1" in err and "socket://" in err and "serial:/dev/ttyUSB0?baud=19200&flow=rtscts" in err


def test_unreachable_printer_fails_the_test_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path / "d"), "printer", "test", "--uri", f"serial:{tmp_path}/ttyX"]) == 1
    assert "Không kết nối được máy in" in capsys.readouterr().err


@pytest.mark.parametrize(("slip", "width"), [("rating", 576), ("guide", 384), ("test", 512)])
def test_preview_writes_a_png_of_the_width(tmp_path: Path, slip: str, width: int) -> None:
    out = tmp_path / f"{slip}.png"
    assert main(["--data-dir", str(tmp_path / "d"), "printer", "preview", "--slip", slip, "--out", str(out),
                 "--width", str(width)]) == 0
    image = Image.open(out)
    assert image.width == width and image.height > width // 2


def test_preview_width_out_of_range(tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    assert main(["--data-dir", str(tmp_path / "d"), "printer", "preview", "--out", str(out), "--width", "99"]) == 2
    assert not out.exists()


def test_status_without_a_printer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path / "d"), "printer", "status"]) == 1
    assert "Chưa cấu hình máy in" in capsys.readouterr().out


def test_doctor_reports_a_missing_printer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_with(tmp_path, f"serial:{tmp_path}/ttyUSB7")
    assert main(["--config", str(config), "--data-dir", str(tmp_path / "d"), "doctor"]) == 1
    out = capsys.readouterr().out
    assert "[LỖI ] printer" in out and "ttyUSB7" in out and "kiosk printer test" in out


def test_doctor_with_a_working_printer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_with(tmp_path, f"file:{tmp_path}/slip.bin")
    assert main(["--config", str(config), "--data-dir", str(tmp_path / "d"), "doctor"]) == 0
    assert "[ OK ] printer" in capsys.readouterr().out
