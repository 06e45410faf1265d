"""Server settings: TOML into typed frozen dataclasses, errors naming the file and the key; where data lives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kiosk.domain.settings_file import SettingsError
from sync import protocol
from sync.server import settings as server_settings
from sync.server.settings import ServerSettings, data_dir, database_url, load, parse, resolve

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "server.toml"


def test_the_example_file_works_as_it_is_and_spells_out_the_defaults() -> None:
    example = load(EXAMPLE)
    assert dataclasses.replace(example, source=None) == ServerSettings()
    assert example.fleet.silent_after_h == 24 and example.fleet.clock_drift_flag_s == protocol.CLOCK_DRIFT_FLAG_S
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.fleet.silent_after_h = 1  # type: ignore[misc]


def test_values_are_read_and_typed() -> None:
    settings = parse('[server]\nport = 9000\n[fleet]\nsilent_after_h = 6\n[database]\n'
                     'url = "postgresql+psycopg://kiosk@db/kiosk"\n')
    assert (settings.server.port, settings.fleet.silent_after_h) == (9000, 6.0)
    assert isinstance(settings.fleet.silent_after_h, float)
    assert settings.database.url.startswith("postgresql")


@pytest.mark.parametrize(("text", "key", "word"), [
    ('[server]\nport = "tám nghìn"\n', "server.port", "integer"),
    ("[server]\nport = 70000\n", "server.port", "65535"),
    ("[fleet]\nsilent_hours = 3\n", "fleet.silent_hours", "unknown key"),
    ('[fleet]\ntimezone = "Sao Hỏa/Thủ đô"\n', "fleet.timezone", "time zone"),
    ('[database]\nurl = "mysql://x"\n', "database.url", "postgresql"),
    ("[admin]\nsession_lifetime_h = 0\n", "admin.session_lifetime_h", "must be from"),
    ("fleet = 3\n", "fleet", "table"),
    ("[server\n", "(cú pháp / syntax)", "TOML"),
])
def test_a_wrong_value_names_the_file_and_key_in_both_languages(tmp_path: Path, text: str, key: str,
                                                                word: str) -> None:
    path = tmp_path / "server.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load(path)
    assert caught.value.key == key and caught.value.path == path
    assert str(path) in caught.value.vi and str(path) in caught.value.en
    assert word in caught.value.en and "khoá" in caught.value.vi


def test_a_missing_settings_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        resolve(tmp_path / "nope.toml")


def test_where_the_data_and_database_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(server_settings.DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    defaults = ServerSettings()
    assert data_dir(defaults, None) == tmp_path / "xdg" / "kiosk-server"
    configured = parse('[server]\ndata_dir = "var"\n', tmp_path / "etc" / "server.toml")
    assert data_dir(configured, None) == tmp_path / "etc" / "var"  # relative to the file
    monkeypatch.setenv(server_settings.DATA_ENV, str(tmp_path / "env"))
    assert data_dir(configured, None) == tmp_path / "env"
    assert data_dir(configured, tmp_path / "flag") == tmp_path / "flag"
    assert database_url(defaults, None, tmp_path / "d") == f"sqlite:///{tmp_path / 'd' / 'server.db'}"
    assert database_url(parse('[database]\nurl = "postgresql://a@b/c"\n'), None, tmp_path) == "postgresql://a@b/c"
    assert database_url(defaults, "sqlite:///x.db", tmp_path) == "sqlite:///x.db"


def test_the_config_environment_variable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[server]\nport = 8123\n", encoding="utf-8")
    monkeypatch.setenv(server_settings.CONFIG_ENV, str(path))
    assert resolve(None).server.port == 8123


@pytest.mark.parametrize("text", [
    pytest.param("[server]\nhost = " + "[" * 5000 + "]" * 5000 + "\n", id="lists"),
    pytest.param("[alerts]\nsmtp_host = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", id="inline-tables"),
    pytest.param("[" + ".".join(["fleet"] * 3000) + "]\ntimezone = 1\n", id="table-header"),
    pytest.param("[alerts]\nsmtp_host = " + "[" * 300 + "]" * 300 + "\n", id="list-tomllib-reads"),
])
def test_a_file_nested_too_deep_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "server.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load(path)
    assert caught.value.key == "(cấu trúc / structure)" and caught.value.path == path
    assert f"{path}: khoá «(cấu trúc / structure)»: bảng và danh sách lồng nhau quá sâu" in caught.value.vi
    assert f"{path}: key '(cấu trúc / structure)': tables and lists are nested too deeply" in caught.value.en


def test_the_server_command_with_a_file_nested_too_deep_exits_2_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sync.server import cli

    deep = tmp_path / "server.toml"
    deep.write_text("[server]\nhost = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    code = cli.main(["--config", str(deep), "--data-dir", str(tmp_path / "data"), "db", "upgrade"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert f"Lỗi: {deep}: khoá «(cấu trúc / structure)»" in captured.err and "nested too deeply" in captured.err
    assert "Traceback" not in captured.err and not (tmp_path / "data").exists()
