"""Settings: the example works as it is; every bad file names the file and the exact key, in two languages."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kiosk import cli
from kiosk.domain.settings_file import SettingsError
from kiosk.pin import hash_pin, verify_pin
from kiosk.services import Services
from kiosk.settings import Settings, apply_server_settings, ca_file_path, load, parse, resolve
from tests.conftest import EXAMPLE_CONFIG

OFFICER = '[[officers]]\nid = "CB001"\nname = "Nguyễn Thị Lan"\n'


def write(tmp_path: Path, text: str, name: str = "kiosk.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bad(tmp_path: Path, text: str, key: str) -> SettingsError:
    """Load `text` from a file, expect a SettingsError for `key`, and check the message names both."""
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load(path)
    err = info.value
    assert err.key == key
    assert err.path == path
    # Vietnamese first, English second, each naming the file and the key.
    assert str(path) in err.vi and str(path) in err.en
    assert f"khoá «{key}»" in err.vi
    assert f"key '{key}'" in err.en
    assert err.vi != err.en
    assert str(err) == f"{err.vi}\n{err.en}"
    return err


def test_example_config_loads_as_it_is() -> None:
    settings = load(EXAMPLE_CONFIG)
    assert settings.source == EXAMPLE_CONFIG
    assert settings.agency.name.startswith("Trung tâm Phục vụ hành chính công")
    assert settings.agency.parent == "Thành phố Hà Nội"
    assert settings.counter.id == "Q01"
    assert [o.id for o in settings.officers] == ["CB001", "CB002"]
    assert settings.officer("CB002") is not None and settings.officer("CB002").name == "Trần Văn Minh"
    assert settings.officer("nobody") is None
    assert settings.ui.languages == ["vi", "en"] and settings.ui.default_language == "vi"
    assert settings.ui.repeat_window_s == 20 and settings.ui.idle_timeout_s == 60
    assert settings.staff.long_press_s == 3.0 and isinstance(settings.staff.long_press_s, float)
    assert settings.staff.max_attempts == 5 and settings.staff.lockout_s == 60
    assert settings.contact.hotline
    # The example's PIN is documented as 123456; doctor relies on recognising it.
    assert verify_pin("123456", settings.staff.pin_hash)
    assert settings.sync.enabled is False and settings.printer.uri == "none"


def test_empty_file_gives_working_defaults(tmp_path: Path, data_dir: Path) -> None:
    path = write(tmp_path, "")
    settings = load(path)
    assert settings == Settings(source=path)
    assert settings.ui.languages == ["vi", "en"] and settings.ui.default_language == "vi"
    assert settings.counter.id == "Q01" and settings.officers == []
    assert settings.staff.pin_hash == ""
    # The defaults are good enough to take a rating.
    services = Services.open(settings, data_dir)
    try:
        receipt = services.ratings.record_rating(5, counter_id=settings.counter.id, officer_id=None,
                                                 language=settings.ui.default_language)
        assert receipt.seq == 1
        assert services.officer_on_duty() is None
    finally:
        services.close()


def test_comments_only_file_is_like_empty(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing set yet\n\n[ui]\n# idle_timeout_s = 30\n")
    assert load(path) == Settings(source=path)


def test_int_is_accepted_where_a_number_is_expected(tmp_path: Path) -> None:
    settings = load(write(tmp_path, "[staff]\nlong_press_s = 2\n"))
    assert settings.staff.long_press_s == 2.0 and isinstance(settings.staff.long_press_s, float)


def test_resolve_uses_kiosk_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[counter]\nid = "Q07"\n')
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    assert resolve(None).counter.id == "Q07"
    explicit = write(tmp_path, '[counter]\nid = "Q09"\n', "other.toml")
    assert resolve(explicit).counter.id == "Q09"


def test_malformed_toml(tmp_path: Path) -> None:
    err = bad(tmp_path, '[ui]\nidle_timeout_s = 60\nfullscreen = tru\n', "(cú pháp / syntax)")
    assert "TOML" in err.vi and "TOML" in err.en
    assert "line 3" in err.en  # tomllib's position is passed on so the technician finds the line


# Settings files nested thousands of levels deep (a damaged or hostile file): tomllib itself gives up with a
# RecursionError on the first two; the others it reads, but they are far deeper than any setting.
DEEP_FILES = [
    pytest.param("[agency]\nname = " + "[" * 5000 + "]" * 5000 + "\n", id="lists"),
    pytest.param("[ui]\nlanguages = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", id="inline-tables"),
    pytest.param("[" + ".".join(["agency"] * 3000) + "]\nname = 1\n", id="table-header"),
    pytest.param("[counter]\nname = " + "[" * 300 + "]" * 300 + "\n", id="list-tomllib-reads"),
]


@pytest.mark.parametrize("text", DEEP_FILES)
def test_a_file_nested_too_deep_is_a_clear_error(tmp_path: Path, text: str) -> None:
    err = bad(tmp_path, text, "(cấu trúc / structure)")
    assert "lồng nhau quá sâu" in err.vi and "nested too deeply" in err.en


def test_nesting_up_to_the_limit_is_read_as_usual(tmp_path: Path) -> None:
    # 32 levels (the file's own table is one): no complaint about depth; the usual one about the value.
    err = bad(tmp_path, "[counter]\nname = " + "[" * 30 + "]" * 30 + "\n", "counter.name")
    assert "expected a string, got a list" in err.en


def test_cli_with_a_file_nested_too_deep_exits_2_without_a_traceback(
        tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = write(tmp_path, "[agency]\nname = " + "[" * 5000 + "]" * 5000 + "\n", "deep.toml")
    code = cli.main(["--config", str(deep), "--data-dir", str(data_dir), "ratings", "stats"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert f"Lỗi: {deep}: khoá «(cấu trúc / structure)»" in captured.err and "nested too deeply" in captured.err
    assert "Traceback" not in captured.err and not data_dir.exists()


def test_duplicate_key_is_malformed(tmp_path: Path) -> None:
    bad(tmp_path, "[ui]\nidle_timeout_s = 60\nidle_timeout_s = 30\n", "(cú pháp / syntax)")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "kiosk.toml"
    with pytest.raises(SettingsError) as info:
        load(path)
    err = info.value
    assert err.key == "(tệp / file)"
    assert str(path) in err.vi and str(path) in err.en
    assert "không tìm thấy" in err.vi and "not found" in err.en


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes('[agency]\nname = "Hoàn"\n'.encode("cp1258"))  # saved in a legacy Windows code page
    with pytest.raises(SettingsError) as info:
        load(path)
    assert info.value.key == "(tệp / file)" and str(path) in info.value.en


@pytest.mark.parametrize(("text", "key"), [
    ('[ui]\nidle_timout_s = 30\n', "ui.idle_timout_s"),
    ('[contacts]\nhotline = "1022"\n', "contacts"),
    ('language = "vi"\n', "language"),
    ('[staff]\npin = "123456"\n', "staff.pin"),
    (OFFICER + '[[officers]]\nid = "CB002"\nnmae = "Trần Văn Minh"\n', "officers[1].nmae"),
])
def test_unknown_key_is_a_typo(tmp_path: Path, text: str, key: str) -> None:
    err = bad(tmp_path, text, key)
    assert "gõ nhầm" in err.vi and "typo" in err.en


def test_typo_message_lists_the_valid_keys(tmp_path: Path) -> None:
    err = bad(tmp_path, "[ui]\nidle_timout_s = 30\n", "ui.idle_timout_s")
    assert "idle_timeout_s" in err.vi and "idle_timeout_s" in err.en


@pytest.mark.parametrize(("text", "key", "want_en", "got_en"), [
    ('[ui]\nidle_timeout_s = "60"\n', "ui.idle_timeout_s", "an integer", "a string"),
    ("[ui]\nidle_timeout_s = true\n", "ui.idle_timeout_s", "an integer", "true or false"),
    ("[ui]\nidle_timeout_s = 60.0\n", "ui.idle_timeout_s", "an integer", "a number"),
    ("[counter]\nid = 1\n", "counter.id", "a string", "an integer"),
    ("[ui]\nfullscreen = 1\n", "ui.fullscreen", "true or false", "an integer"),
    ('[ui]\nfullscreen = "yes"\n', "ui.fullscreen", "true or false", "a string"),
    ('[staff]\nlong_press_s = "3"\n', "staff.long_press_s", "a number", "a string"),
    ("[staff]\nlong_press_s = false\n", "staff.long_press_s", "a number", "true or false"),
    ('[ui]\nlanguages = "vi"\n', "ui.languages", "a list", "a string"),
    ("[ui]\nlanguages = { vi = 1 }\n", "ui.languages", "a list", "a table"),
    ("[ui]\nlanguages = [\"vi\", 1]\n", "ui.languages[1]", "a string", "an integer"),
    ("[ui.languages]\nvi = true\n", "ui.languages", "a list", "a table"),
    ('[officers]\nid = "CB001"\nname = "Lan"\n', "officers", "a list", "a table"),
    ('officers = ["CB001"]\n', "officers[0]", "a table", "a string"),
    ('agency = "Phường Hoàn Kiếm"\n', "agency", "a table", "a string"),
    ('[[ui]]\ndefault_language = "vi"\n', "ui", "a table", "a list"),
    (OFFICER + '[[officers]]\nid = 2\nname = "Minh"\n', "officers[1].id", "a string", "an integer"),
    ("[contact]\nhotline = 19001234\n", "contact.hotline", "a string", "an integer"),
])
def test_wrong_type(tmp_path: Path, text: str, key: str, want_en: str, got_en: str) -> None:
    err = bad(tmp_path, text, key)
    assert f"expected {want_en}" in err.en
    assert f"got {got_en}" in err.en
    assert "cần" in err.vi and "nhận được" in err.vi


def test_officer_missing_required_name(tmp_path: Path) -> None:
    err = bad(tmp_path, OFFICER + '[[officers]]\nid = "CB002"\n', "officers[1].name")
    assert "bắt buộc" in err.vi and "required" in err.en


@pytest.mark.parametrize(("text", "key"), [
    (OFFICER + '[[officers]]\nid = "CB001"\nname = "Trần Văn Minh"\n', "officers[1].id"),
    (OFFICER + '[[officers]]\nid = "CB002"\nname = "B"\n[[officers]]\nid = "CB002"\nname = "C"\n',
     "officers[2].id"),
    ('[[officers]]\nid = "  "\nname = "Lan"\n', "officers[0].id"),
])
def test_officer_ids_must_be_unique_and_non_empty(tmp_path: Path, text: str, key: str) -> None:
    err = bad(tmp_path, text, key)
    assert "trùng" in err.vi and "same as another" in err.en


@pytest.mark.parametrize(("text", "key"), [
    ("[ui]\nidle_timeout_s = 5\n", "ui.idle_timeout_s"),
    ("[ui]\nidle_timeout_s = 3601\n", "ui.idle_timeout_s"),
    ("[ui]\nthanks_timeout_s = 1\n", "ui.thanks_timeout_s"),
    ("[ui]\nrepeat_window_s = -1\n", "ui.repeat_window_s"),
    ("[ui]\ntouch_guard_ms = 5001\n", "ui.touch_guard_ms"),
    ("[staff]\nmax_attempts = 0\n", "staff.max_attempts"),
    ("[staff]\nlockout_s = 0\n", "staff.lockout_s"),
    ("[staff]\nlong_press_s = 0.1\n", "staff.long_press_s"),
    ("[staff]\nlong_press_s = nan\n", "staff.long_press_s"),
    ("[staff]\nlong_press_s = inf\n", "staff.long_press_s"),
    ("[sync]\ninterval_min = 1441\n", "sync.interval_min"),
])
def test_out_of_range(tmp_path: Path, text: str, key: str) -> None:
    err = bad(tmp_path, text, key)
    assert "phải từ" in err.vi and "must be from" in err.en


@pytest.mark.parametrize(("text", "key"), [
    ("[ui]\nidle_timeout_s = 10\n", "idle_timeout_s"),
    ("[ui]\nidle_timeout_s = 3600\n", "idle_timeout_s"),
    ("[ui]\nrepeat_window_s = 0\n", "repeat_window_s"),
])
def test_range_bounds_are_inclusive(tmp_path: Path, text: str, key: str) -> None:
    settings = load(write(tmp_path, text))
    assert getattr(settings.ui, key) == int(text.split("= ")[1])


def test_unknown_language(tmp_path: Path) -> None:
    err = bad(tmp_path, '[ui]\nlanguages = ["vi", "fr"]\n', "ui.languages[1]")
    assert "'fr'" in err.vi and "'fr'" in err.en


def test_no_language(tmp_path: Path) -> None:
    bad(tmp_path, "[ui]\nlanguages = []\n", "ui.languages")


def test_default_language_not_in_languages(tmp_path: Path) -> None:
    err = bad(tmp_path, '[ui]\nlanguages = ["vi"]\ndefault_language = "en"\n', "ui.default_language")
    assert "ui.languages" in err.en


def test_english_only_kiosk_is_allowed(tmp_path: Path) -> None:
    settings = load(write(tmp_path, '[ui]\nlanguages = ["en"]\ndefault_language = "en"\n'))
    assert settings.ui.languages == ["en"]


def test_empty_counter_id(tmp_path: Path) -> None:
    bad(tmp_path, '[counter]\nid = " "\n', "counter.id")


@pytest.mark.parametrize("pin_hash", [
    "123456",  # the PIN itself instead of its hash
    "$2b$12$abcdefghijklmnopqrstuv",  # some other scheme
    hashlib.sha256(b"123456").hexdigest(),
    "scrypt$garbage",
    "scrypt$16384$8$1$ULvHcdjcxr7plFJ8BeXh6A==",  # truncated copy: the digest is missing
    "scrypt$16384$8$1$ULvHcdjcxr7plFJ8BeXh6A==$",
    "scrypt$N$8$1$ULvHcdjcxr7plFJ8BeXh6A==$3GQX3sfOdIbkcEbYQYFoyDXI2wyDGvqNT6mxv1IYCyQ=",
    "scrypt$16384$8$1$!!not-base64!!$3GQX3sfOdIbkcEbYQYFoyDXI2wyDGvqNT6mxv1IYCyQ=",
])
def test_bad_pin_hash(tmp_path: Path, pin_hash: str) -> None:
    err = bad(tmp_path, f'[staff]\npin_hash = "{pin_hash}"\n', "staff.pin_hash")
    assert "kiosk pin set" in err.vi and "kiosk pin set" in err.en


def test_pin_hash_made_by_pin_set_is_accepted(tmp_path: Path) -> None:
    made = hash_pin("97531")
    settings = load(write(tmp_path, f'[staff]\npin_hash = "{made}"\n'))
    assert verify_pin("97531", settings.staff.pin_hash)


def test_parse_without_a_file_says_defaults() -> None:
    with pytest.raises(SettingsError) as info:
        parse("[ui]\nidle_timeout_s = 1\n")
    assert info.value.path is None
    assert "(mặc định / defaults)" in info.value.en and "ui.idle_timeout_s" in info.value.en


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_cli_broken_config_exits_2_and_touches_nothing(tmp_path: Path, data_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # A device that already holds a rating.
    services = Services.open(load(EXAMPLE_CONFIG), data_dir)
    services.ratings.record_rating(4, counter_id="Q01", officer_id="CB001", language="vi")
    services.close()
    before = _snapshot(data_dir)
    assert "kiosk.db" in before

    broken = write(tmp_path, "[ui]\nidle_timeout_s = \"sáu mươi\"\n", "broken.toml")
    code = cli.main(["--config", str(broken), "--data-dir", str(data_dir), "ratings", "stats"])
    captured = capsys.readouterr()
    assert code == 2
    assert str(broken) in captured.err
    assert "ui.idle_timeout_s" in captured.err
    assert "Lỗi:" in captured.err and "Error:" in captured.err
    assert captured.out == ""  # no stats table printed
    assert _snapshot(data_dir) == before


def test_cli_broken_config_does_not_create_a_data_dir(tmp_path: Path, data_dir: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    broken = write(tmp_path, "[[officers]]\nid = \"CB001\"\nname = \"A\"\n[[officers]]\nid = \"CB001\"\n"
                   "name = \"B\"\n", "broken.toml")
    code = cli.main(["ratings", "stats", "--config", str(broken), "--data-dir", str(data_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(broken) in err and "officers[1].id" in err
    assert not data_dir.exists()


# ---- [sync], and the central server's settings laid over the file's -------------------------------------------

@pytest.mark.parametrize(("text", "key"), [
    ("[sync]\nbudget_s = 5\n", "sync.budget_s"),
    ("[sync]\nbudget_s = 86401\n", "sync.budget_s"),
    ("[sync]\ntimeout_s = 0\n", "sync.timeout_s"),
    ("[sync]\ntimeout_s = 301\n", "sync.timeout_s"),
])
def test_sync_limits_out_of_range(tmp_path: Path, text: str, key: str) -> None:
    err = bad(tmp_path, text, key)
    assert "phải từ" in err.vi and "must be from" in err.en


@pytest.mark.parametrize("url", ["ftp://server", "server:8080", "https://", "https://host/?a=1", ""])
def test_sync_server_url_must_be_http(tmp_path: Path, url: str) -> None:
    err = bad(tmp_path, f'[sync]\nserver_url = "{url}"\n', "sync.server_url")
    assert "http://" in err.vi and "http://" in err.en and repr(url) in err.en


def test_sync_enabled_needs_an_interval(tmp_path: Path) -> None:
    err = bad(tmp_path, "[sync]\nenabled = true\ninterval_min = 0\n", "sync.interval_min")
    assert "sync.enabled" in err.vi and "sync.enabled" in err.en


def test_sync_keys_load(tmp_path: Path) -> None:
    settings = load(write(tmp_path, '[sync]\nserver_url = "https://sync.example.gov.vn:8443"\nenabled = true\n'
                          'interval_min = 30\nca_file = "ca.pem"\nbudget_s = 120\ntimeout_s = 10\n'))
    assert settings.sync.server_url == "https://sync.example.gov.vn:8443"
    assert (settings.sync.enabled, settings.sync.interval_min) == (True, 30)
    assert (settings.sync.budget_s, settings.sync.timeout_s) == (120, 10)
    assert ca_file_path(settings) == tmp_path / "ca.pem"  # relative to the settings file
    assert ca_file_path(load(EXAMPLE_CONFIG)) is None


SERVER_SETTINGS = {
    "version": "v7", "agency_name": "Trung tâm Phục vụ hành chính công phường Ba Đình",
    "agency_parent": "Thành phố Hà Nội", "agency_code": "BD", "counter_id": "Q09",
    "counter_name": "Quầy số 9 – Đất đai", "counter_procedures": ["1.001193"],
    "officers": [{"id": "CB002", "name": "Trần Văn Minh", "title": "Chuyên viên"},
                 {"id": "CB777", "name": "Lê Thị Hoa", "title": ""}],
    "hotline": "1900 1234", "complaint_address": "", "email": "", "website": "https://badinh.hanoi.gov.vn",
}


def test_server_settings_are_laid_over_the_file(tmp_path: Path) -> None:
    base = load(write(tmp_path, OFFICER + 'photo = "lan.jpg"\n[[officers]]\nid = "CB002"\nname = "Minh"\n'
                      'photo = "minh.jpg"\n[contact]\nhotline = "0243 000"\ncomplaint_address = "Số 1 Hàng Đậu"\n'))
    merged = apply_server_settings(base, SERVER_SETTINGS, tmp_path / "kiosk.db")
    assert merged.agency.name == SERVER_SETTINGS["agency_name"] and merged.agency.code == "BD"
    assert (merged.counter.id, merged.counter.name) == ("Q09", "Quầy số 9 – Đất đai")
    assert merged.counter.procedures == ["1.001193"]
    assert [(o.id, o.name, o.photo) for o in merged.officers] == [("CB002", "Trần Văn Minh", "minh.jpg"),
                                                                   ("CB777", "Lê Thị Hoa", "")]
    assert merged.contact.hotline == "1900 1234" and merged.contact.website == "https://badinh.hanoi.gov.vn"
    # What the server left empty keeps the file's value: the posted complaint address must not vanish.
    assert merged.contact.complaint_address == "Số 1 Hàng Đậu"
    assert merged.ui == base.ui and merged.staff == base.staff and merged.source == base.source
    assert base.counter.id == "Q01"  # the original is untouched


@pytest.mark.parametrize("code", ["1.00119", "=1+1", "1.001193.h19", "١.٠٠١١٩٣", " 1.001193"])
def test_counter_procedures_are_national_codes(tmp_path: Path, code: str) -> None:
    listed = json.dumps(["1.001193", code], ensure_ascii=False)   # a JSON list of strings is a TOML array
    err = bad(tmp_path, f"[counter]\nprocedures = {listed}\n", "counter.procedures[1]")
    assert "1.001193" in err.en   # the message shows what a code looks like


@pytest.mark.parametrize(("change", "key"), [
    ({"officers": [{"id": "A", "name": "X"}, {"id": "A", "name": "Y"}]}, "server.officers[1].id"),
    ({"officers": [{"id": "A"}]}, "server.officers[0]"),
    ({"officers": "CB001"}, "server.officers"),
    ({"hotline": 1900}, "server.hotline"),
    ({"counter_procedures": "1.001193"}, "server.counter_procedures"),
    ({"counter_procedures": ["1.001193", "=HYPERLINK(\"x\")"]}, "server.counter_procedures[1]"),
])
def test_server_settings_that_cannot_apply_name_the_field(tmp_path: Path, change: dict[str, object],
                                                          key: str) -> None:
    base = load(EXAMPLE_CONFIG)
    with pytest.raises(SettingsError) as info:
        apply_server_settings(base, {**SERVER_SETTINGS, **change}, tmp_path / "kiosk.db")
    assert info.value.key == key
    assert f"khoá «{key}»" in info.value.vi and f"key '{key}'" in info.value.en


def test_services_apply_stored_server_settings_when_opening(data_dir: Path) -> None:
    import json

    from kiosk import state

    services = Services.open(load(EXAMPLE_CONFIG), data_dir)
    assert services.settings.counter.id == "Q01" and services.settings_version == ""
    with services.database.writing() as con:
        state.put(con, state.SERVER_SETTINGS, json.dumps(SERVER_SETTINGS))
        state.put(con, state.SETTINGS_VERSION, "v7")
    assert services.apply_server_settings() is True
    assert services.settings.counter.id == "Q09" and services.settings_version == "v7"
    assert services.apply_server_settings() is False  # the same version again: nothing to do
    services.ratings.record_rating(5, counter_id=services.settings.counter.id, officer_id=None, language="vi")
    services.close()

    reopened = Services.open(load(EXAMPLE_CONFIG), data_dir)
    try:
        assert reopened.settings.counter.name == "Quầy số 9 – Đất đai"
        assert reopened.file_settings is not None and reopened.file_settings.counter.id == "Q01"
    finally:
        reopened.close()


def test_damaged_stored_server_settings_leave_the_file_settings(data_dir: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from kiosk import state

    services = Services.open(load(EXAMPLE_CONFIG), data_dir)
    with services.database.writing() as con:
        state.put(con, state.SERVER_SETTINGS, '{"version": "v8", "counter_id": ')  # cut off
        state.put(con, state.SETTINGS_VERSION, "v8")
    services.close()
    reopened = Services.open(load(EXAMPLE_CONFIG), data_dir)
    try:
        assert reopened.settings == reopened.file_settings and reopened.settings_version == ""
        assert "v8" in caplog.text and "cannot be applied" in caplog.text
    finally:
        reopened.close()


@pytest.mark.parametrize("url", ["ftp://kiosk.example.gov.vn/f/XA", "kiosk.example.gov.vn/f/XA", "https://",
                                 "https://kiosk example/f"])
def test_contact_survey_url_must_be_http(tmp_path: Path, url: str) -> None:
    err = bad(tmp_path, f'[contact]\nsurvey_url = "{url}"\n', "contact.survey_url")
    assert "http://" in err.vi and repr(url) in err.en


def test_contact_survey_url_loads_and_defaults_to_none(tmp_path: Path) -> None:
    url = "https://kiosk.lamdong.gov.vn/f/XA/Q01"
    assert load(write(tmp_path, f'[contact]\nsurvey_url = "{url}"\n')).contact.survey_url == url
    assert load(EXAMPLE_CONFIG).contact.survey_url == ""
