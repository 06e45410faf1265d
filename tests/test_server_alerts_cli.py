"""`kiosk-server alert …` and the [alerts] settings: what IT types, what it prints, and every refusal.

Refusals are one line in Vietnamese and one in English on stderr, exit code 2, and change nothing. The commands
run in this process through `cli.main` (the same code the console script runs) except where a real separate
process matters.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import Engine

from kiosk.domain.settings_file import SettingsError
from sync.server import cli
from sync.server.alerts import rules
from sync.server.db import open_database, utc_now
from sync.server.process import free_port
from sync.server.settings import Alerts, load, parse
from tests import test_server_alerts_helpers as helpers
from tests.sync_harness import ServerHandle
from tests.test_server_alerts_helpers import MailCatcher, Place, make_place

smtp = helpers.smtp  # the fixture shared with the other alert tests

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "server.toml"


class Site(NamedTuple):
    """A `kiosk-server`'s global options over a fresh SQLite database, an engine on it, and agency HK in it."""

    base: list[str]
    engine: Engine
    place: Place


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A fresh SQLite server database with agency HK (counters Q01, Q02), and the options naming it."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = open_database(url)
    yield Site(["--db", url, "--data-dir", str(tmp_path / "data")], engine, make_place(engine))
    engine.dispose()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `kiosk-server ARGS` in this process: exit code, stdout, stderr."""
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def config(tmp_path: Path, catcher_port: int, extra: str = "") -> Path:
    """A settings file whose alerts go through the SMTP server on `catcher_port`."""
    path = tmp_path / "server.toml"
    path.write_text(f'[server]\npublic_url = "https://kiosk.tinh.gov.vn/"\n[alerts]\nsmtp_host = "127.0.0.1"\n'
                    f'smtp_port = {catcher_port}\nsmtp_timeout_s = 5.0\nsmtp_tls = "none"\n'
                    f'mail_from = "Kiosk Một cửa <kiosk@tinh.gov.vn>"\n{extra}', encoding="utf-8")
    return path


def test_add_list_and_remove_rules(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    base = site.base
    code, out, _ = run(capsys, *base, "alert", "add", "--agency", "HK", "--counter", "Q01", "--kind", "dissatisfied",
                       "--share", "50%", "--window-h", "24", "--min-ratings", "4",
                       "--email", "phong.noivu@tinh.gov.vn, lanh.dao@tinh.gov.vn")
    assert code == 0
    assert "Đã thêm quy tắc cảnh báo #1 cho Quầy Tư pháp – Hộ tịch Q01 (Q01)" in out
    assert "không hài lòng trên 50% trong 24 giờ (ít nhất 4 lượt)" in out
    assert "dissatisfied over 50% within 24 h (at least 4 ratings)" in out
    assert run(capsys, *base, "alert", "add", "--agency", "HK", "--kind", "harassment",
               "--email", "thanh.tra@tinh.gov.vn")[0] == 0
    code, out, _ = run(capsys, *base, "alert", "add", "--agency", "HK", "--kind", "silent", "--window-h", "0,5",
                       "--email", "it@tinh.gov.vn")
    assert code == 0 and "thiết bị im lặng quá 0.5 giờ" in out
    code, out, _ = run(capsys, *base, "alert", "list")
    lines = out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("#1\tHK/Q01\tdissatisfied")
    assert "→ phong.noivu@tinh.gov.vn, lanh.dao@tinh.gov.vn" in lines[0]
    assert lines[1].startswith("#2\tHK/*\tharassment") and "mỗi phản ánh phiền hà, sách nhiễu" in lines[1]
    code, out, _ = run(capsys, *base, "alert", "remove", "1")
    assert code == 0 and "Đã gỡ quy tắc cảnh báo #1" in out and "removed alert rule #1" in out
    code, out, _ = run(capsys, *base, "alert", "list", "--json")
    listed = json.loads(out)
    assert [r["id"] for r in listed] == [2, 3]
    assert listed[0]["email_to"] == ["thanh.tra@tinh.gov.vn"] and listed[0]["counter_code"] is None
    assert listed[1]["window_h"] == 0.5 and listed[1]["kind"] == "silent"
    code, out, _ = run(capsys, *base, "alert", "list", "--all")
    assert "#1" in out and "[đã gỡ / removed]" in out


REFUSALS = [
    (["add", "--agency", "NOPE", "--kind", "harassment", "--email", "a@tinh.gov.vn"],
     "Không có cơ quan mã 'NOPE'", "no agency with code 'NOPE'"),
    (["add", "--agency", "HK", "--counter", "Q99", "--kind", "harassment", "--email", "a@tinh.gov.vn"],
     "không có quầy mã 'Q99'", "has no counter 'Q99'"),
    (["add", "--agency", "HK", "--kind", "angry", "--email", "a@tinh.gov.vn"],
     "Không có loại cảnh báo 'angry'", "no alert kind 'angry'"),
    (["add", "--agency", "HK", "--kind", "dissatisfied", "--share", "1.5", "--email", "a@tinh.gov.vn"],
     "Tỷ lệ phải từ 0 đến dưới 1", "the share must be from 0 to under 1"),
    (["add", "--agency", "HK", "--kind", "dissatisfied", "--share", "150%", "--email", "a@tinh.gov.vn"],
     "Tỷ lệ phải từ 0 đến dưới 1", "got 1.5"),
    (["add", "--agency", "HK", "--kind", "dissatisfied", "--share", "một nửa", "--email", "a@tinh.gov.vn"],
     "Tỷ lệ 'một nửa' không phải một số", "the share 'một nửa' is not a number"),
    (["add", "--agency", "HK", "--kind", "dissatisfied", "--min-ratings", "0", "--email", "a@tinh.gov.vn"],
     "Số lượt tối thiểu phải từ 1", "must be from 1 to 100000, got 0"),
    (["add", "--agency", "HK", "--kind", "dissatisfied", "--min-ratings", "2.5", "--email", "a@tinh.gov.vn"],
     "không phải một số nguyên", "is not a whole number"),
    (["add", "--agency", "HK", "--kind", "dissatisfied", "--window-h", "0", "--email", "a@tinh.gov.vn"],
     "Số giờ phải từ 0,1", "the hours must be from 0.1"),
    (["add", "--agency", "HK", "--kind", "silent", "--window-h", "mười", "--email", "a@tinh.gov.vn"],
     "Số giờ 'mười' không phải một số", "the hours 'mười' is not a number"),
    (["add", "--agency", "HK", "--kind", "harassment", "--share", "0.5", "--email", "a@tinh.gov.vn"],
     "Tuỳ chọn --share không dùng cho loại cảnh báo 'harassment'", "does not apply to the alert kind 'harassment'"),
    (["add", "--agency", "HK", "--kind", "harassment", "--window-h", "3", "--email", "a@tinh.gov.vn"],
     "Tuỳ chọn --window-h không dùng", "the option --window-h does not apply"),
    (["add", "--agency", "HK", "--kind", "silent", "--min-ratings", "3", "--email", "a@tinh.gov.vn"],
     "Tuỳ chọn --min-ratings không dùng", "the option --min-ratings does not apply"),
    (["add", "--agency", "HK", "--kind", "harassment", "--email", "phong noi vu"],
     "Địa chỉ thư không hợp lệ: 'phong noi vu'", "not a valid e-mail address: 'phong noi vu'"),
    (["add", "--agency", "HK", "--kind", "harassment", "--email", "a@tinh.gov.vn\r\nBcc: x@evil.example"],
     "Địa chỉ thư không hợp lệ", "not a valid e-mail address"),
    (["add", "--agency", "HK", "--kind", "harassment", "--email", "chị.lan@tinh.gov.vn"],
     "Địa chỉ thư không hợp lệ", "not a valid e-mail address"),
    (["add", "--agency", "HK", "--kind", "harassment", "--email", ",".join(f"a{i}@tinh.gov.vn" for i in range(21))],
     "Tối đa 20 địa chỉ thư", "at most 20 e-mail addresses"),
    (["add", "--agency", "HK", "--kind", "harassment", "--email", " , "],
     "Cần ít nhất một địa chỉ thư", "at least one e-mail address"),
    (["add", "--agency", "HK", "--kind", "harassment"], "Thiếu --email", "--email is missing"),
    (["add", "--agency", "HK", "--email", "a@tinh.gov.vn"], "Thiếu --kind", "--kind is missing"),
    (["remove", "một"], "Số quy tắc 'một' không phải một số", "the rule number 'một' is not a number"),
    (["remove", "99"], "Không có quy tắc cảnh báo #99", "no alert rule #99"),
    ([], "Cần chọn một việc", "choose an action"),
    (["send-test"], "Cần --to", "--to ADDRESS is needed"),
    (["send-test", "--to", "không-phải-thư"], "Địa chỉ thư không hợp lệ", "not a valid e-mail address"),
]


@pytest.mark.parametrize(("args", "vi", "en"), REFUSALS, ids=[" ".join(r[0])[:60] for r in REFUSALS])
def test_bad_alert_commands_are_refused_in_both_languages_and_change_nothing(
        capsys: pytest.CaptureFixture[str], site: Site, args: list[str], vi: str,
        en: str) -> None:
    base, engine = site.base, site.engine
    rules.add_rule(engine, "HK", None, "silent", email_to="it@tinh.gov.vn")
    before = rules.list_rules(engine, include_removed=True)
    code, out, err = run(capsys, *base, "alert", *args)
    assert code == 2 and out == ""
    first, second = err.splitlines()
    assert first.startswith("Lỗi: ") and vi in first
    assert second.strip().startswith("Error: ") and en in second
    assert rules.list_rules(engine, include_removed=True) == before


def test_an_identical_rule_and_a_second_removal_are_refused(capsys: pytest.CaptureFixture[str],
                                                            site: Site) -> None:
    base, engine = site.base, site.engine
    add = ["alert", "add", "--agency", "HK", "--kind", "harassment", "--email", "a@tinh.gov.vn,b@tinh.gov.vn"]
    assert run(capsys, *base, *add)[0] == 0
    code, _, err = run(capsys, *base, *add[:-1], "b@tinh.gov.vn,a@tinh.gov.vn")
    assert code == 2 and "Đã có quy tắc cảnh báo #1 giống hệt" in err and "identical alert rule #1" in err
    assert run(capsys, *base, "alert", "remove", "1")[0] == 0
    code, _, err = run(capsys, *base, "alert", "remove", "1")
    assert code == 2 and "đã bị gỡ từ trước" in err and "was already removed" in err
    assert len(rules.list_rules(engine, include_removed=True)) == 1


def test_alert_check_sends_then_reports_a_dead_mail_server_with_exit_1(
        capsys: pytest.CaptureFixture[str], site: Site, smtp: MailCatcher,
        tmp_path: Path) -> None:
    base, engine = site.base, site.engine
    settings_file = config(tmp_path, smtp.port)
    place = site.place
    rules.add_rule(engine, "HK", None, "harassment", email_to="thanh.tra@tinh.gov.vn")
    place.rate("Q01", [1], at=utc_now() - timedelta(minutes=3), harassment=True)
    code, out, err = run(capsys, *base, "--config", str(settings_file), "alert", "check")
    assert code == 0 and err == ""
    assert "Đã kiểm tra: 1 cảnh báo mới, 1 thư đã gửi, 0 thư chưa gửi được" in out
    assert "checked: 1 new alerts, 1 e-mails sent, 0 not sent" in out
    (received,) = smtp.messages
    assert "https://kiosk.tinh.gov.vn/dashboard?period=day" in received.body  # [server] public_url
    code, out, _ = run(capsys, *base, "--config", str(settings_file), "alert", "check", "--json")
    assert code == 0 and json.loads(out) == {"raised": 0, "sent": 0, "failed": 0, "busy": False, "errors": []}
    smtp.stop()
    place.rate("Q02", [2], at=utc_now() - timedelta(minutes=1), harassment=True)
    code, out, err = run(capsys, *base, "--config", str(settings_file), "alert", "check")
    assert code == 1
    assert "1 cảnh báo mới, 0 thư đã gửi, 1 thư chưa gửi được" in out
    assert f"Lỗi: Không kết nối được máy chủ thư 127.0.0.1:{smtp.port}" in err
    assert f"Error: cannot connect to the mail server 127.0.0.1:{smtp.port}" in err
    smtp.start()
    assert run(capsys, *base, "--config", str(settings_file), "alert", "check")[0] == 0
    assert len(smtp.messages) == 2


def test_send_test_checks_the_smtp_settings(capsys: pytest.CaptureFixture[str], site: Site,
                                            smtp: MailCatcher, tmp_path: Path) -> None:
    base = site.base
    code, out, _ = run(capsys, *base, "--config", str(config(tmp_path, smtp.port)), "alert", "send-test",
                       "--to", "it@tinh.gov.vn")
    assert code == 0 and "Đã gửi thư thử tới it@tinh.gov.vn" in out
    (received,) = smtp.messages
    assert received.subject == "[Kiosk Một cửa] Thư thử cảnh báo / alert test e-mail"
    assert "cấu hình gửi thư cảnh báo hoạt động" in received.body
    code, _, err = run(capsys, *base, "--config", str(config(tmp_path, smtp.port)), "alert", "send-test",
                       "--to", "refuse@tinh.gov.vn")
    assert code == 2 and "550" in err and "Lỗi:" in err and "Error:" in err
    dead = free_port()
    code, _, err = run(capsys, *base, "--config", str(config(tmp_path, dead)), "alert", "send-test",
                       "--to", "it@tinh.gov.vn")
    assert code == 2 and f"Không kết nối được máy chủ thư 127.0.0.1:{dead}" in err
    assert len(smtp.messages) == 1
    unset = tmp_path / "unset.toml"
    unset.write_text("[alerts]\n", encoding="utf-8")
    code, _, err = run(capsys, *base, "--config", str(unset), "alert", "send-test", "--to", "it@tinh.gov.vn")
    assert code == 2 and "Chưa cấu hình máy chủ thư" in err and "smtp_host" in err


# ---- [alerts] settings -----------------------------------------------------------------------------------------

def test_the_example_file_documents_every_alerts_key_and_spells_out_the_defaults() -> None:
    example = load(EXAMPLE)
    assert example.alerts == Alerts() and example.server.public_url == ""
    text = EXAMPLE.read_text(encoding="utf-8")
    section = text[text.index("[alerts]"):]
    for name in Alerts.__dataclass_fields__:
        assert f"{name} = " in section, name


def test_alerts_settings_are_read_and_typed(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("mật-khẩu\n", encoding="utf-8")
    settings = parse(f'[alerts]\nsmtp_host = "mail.tinh.gov.vn"\nsmtp_port = 587\nsmtp_user = "kiosk"\n'
                     f'smtp_password_file = "{secret.name}"\nsmtp_tls = "tls"\ncheck_interval_s = 60\n'
                     'silent_after_h = 6\n', tmp_path / "server.toml")
    cfg = settings.alerts
    assert (cfg.smtp_host, cfg.smtp_port, cfg.smtp_user, cfg.smtp_tls) == ("mail.tinh.gov.vn", 587, "kiosk", "tls")
    assert cfg.check_interval_s == 60.0 and isinstance(cfg.check_interval_s, float)
    assert rules.silent_after_h(settings) == 6.0 and rules.silent_after_h(settings, 2.0) == 2.0
    assert rules.silent_after_h(parse("[fleet]\nsilent_after_h = 12\n")) == 12.0  # the fleet's by default
    from sync.server.settings import alerts_password_path

    assert alerts_password_path(settings) == secret  # relative to the settings file's folder


@pytest.mark.parametrize(("text", "key", "word"), [
    ('[alerts]\nsmtp_password = "bí mật"\n', "alerts.smtp_password", "smtp_password_file"),
    ("[alerts]\nsmtp_pass = 1\n", "alerts.smtp_pass", "unknown key"),
    ("[alerts]\nsmtp_port = 0\n", "alerts.smtp_port", "must be from 1 to 65535"),
    ('[alerts]\nsmtp_port = "25"\n', "alerts.smtp_port", "integer"),
    ("[alerts]\ncheck_interval_s = 0.5\n", "alerts.check_interval_s", "0 (off)"),
    ("[alerts]\nsilent_after_h = 0\n", "alerts.silent_after_h", "must be from"),
    ("[alerts]\nretry_for_h = 0\n", "alerts.retry_for_h", "must be from"),
    ('[alerts]\nsmtp_host = "mail server"\n', "alerts.smtp_host", "not a valid mail server name"),
    ('[alerts]\nmail_from = "Phòng Nội vụ"\n', "alerts.mail_from", "expected an e-mail address"),
    ('[alerts]\nsmtp_user = "kiosk"\nsmtp_password_file = "khong-co.txt"\n', "alerts.smtp_password_file",
     "no password file"),
    ('[alerts]\nsmtp_password_file = "/etc/hostname"\n', "alerts.smtp_password_file", "smtp_user"),
    ("[alerts]\nsmtp_allow_unencrypted_login = 1\n", "alerts.smtp_allow_unencrypted_login", "true or false"),
    ("[alerts]\nsmtp_starttls = true\n", "alerts.smtp_starttls", "replaced by smtp_tls"),
    ('[alerts]\nsmtp_tls = "ssl"\n', "alerts.smtp_tls", 'must be "starttls", "tls" or "none"'),
    ('[alerts]\nsmtp_ca_file = "khong-co.pem"\n', "alerts.smtp_ca_file", "no certificate file"),
    ('[server]\npublic_url = "kiosk.tinh.gov.vn"\n', "server.public_url", "http"),
])
def test_a_wrong_alerts_value_names_the_file_and_key_in_both_languages(tmp_path: Path, text: str, key: str,
                                                                       word: str) -> None:
    path = tmp_path / "server.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load(path)
    assert caught.value.key == key and caught.value.path == path
    assert str(path) in caught.value.vi and str(path) in caught.value.en and "khoá" in caught.value.vi
    assert word in caught.value.en


def test_a_wrong_settings_file_stops_the_alert_commands(capsys: pytest.CaptureFixture[str],
                                                        site: Site, tmp_path: Path) -> None:
    base, engine = site.base, site.engine
    bad = tmp_path / "bad.toml"
    bad.write_text('[alerts]\nsmtp_password = "bí mật"\n', encoding="utf-8")
    code, out, err = run(capsys, *base, "--config", str(bad), "alert", "add", "--agency", "HK", "--kind",
                         "harassment", "--email", "a@tinh.gov.vn")
    assert code == 2 and out == ""
    assert f"Lỗi: {bad}: khoá «alerts.smtp_password»" in err and f"Error: {bad}: key 'alerts.smtp_password'" in err
    assert rules.list_rules(engine) == []


# ---- the checker inside `kiosk-server run` ---------------------------------------------------------------------

def test_two_running_servers_mail_a_pushed_harassment_report_once(server_db_url: str, smtp: MailCatcher,
                                                                 tmp_path: Path) -> None:
    from tests.sync_harness import push, start_server

    settings_file = config(tmp_path, smtp.port, "check_interval_s = 1.0\n")
    first = start_server(server_db_url, tmp_path / "data", config=settings_file)
    second: ServerHandle | None = None
    device = None
    try:
        second = start_server(server_db_url, tmp_path / "data", config=settings_file)
        kiosk, device_id = first.enrolled_device(tmp_path / "kiosk", "HK", "Q01")
        device = kiosk
        rules.add_rule(first.engine(), "HK", None, "harassment", email_to="thanh.tra@tinh.gov.vn")
        receipt = kiosk.log.record_rating(1, counter_id="Q01", officer_id="CB001", language="vi")
        kiosk.log.record_answer(receipt.uuid, "harassment", 1)
        kiosk.log.record_comment(receipt.uuid, "Bị đòi tiền “cà phê” mới nhận hồ sơ")
        answer = push(first.url, kiosk, device_id, kiosk.records())
        assert answer.status_code == 200, answer.text
        (received,) = smtp.wait_for(1)
        assert receipt.uuid in received.body and "Bị đòi tiền “cà phê” mới nhận hồ sơ" in received.body
        # Both servers keep checking every second; neither sends it again.
        time.sleep(3.5)
        assert len(smtp.messages) == 1
        assert first.stop() == 0 and second.stop() == 0  # the checker thread does not hold up a clean stop
        for log in (first.log_text(), second.log_text()):
            assert "Traceback" not in log
    finally:
        if device is not None:
            device.close()
        first.stop()
        if second is not None:
            second.stop()
