"""The SMTP side of alerts against real servers on 127.0.0.1: STARTTLS, login with the password from its file,
and every way the mail server can fail, each a clear bilingual error that names the server and the step."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import Engine

from sync.server import alerts, mail
from sync.server.db import utc_now
from sync.server.settings import ServerSettings, parse
from tests import test_server_alerts_helpers as helpers
from tests.sync_harness import free_port
from tests.test_server_alerts_helpers import HOST, MailCatcher, events, make_place, tls_context_for_localhost

server_engine = helpers.server_engine  # the fixture shared with the other alert tests
PASSWORD = "mật khẩu thư 2026"


class Logins:
    """An aiosmtpd authenticator that accepts one user and password and remembers every attempt."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: object) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.seen.append((login, password))
        # handled=False: aiosmtpd then answers 535 itself (True would leave the client waiting).
        return AuthResult(success=(login, password) == ("kiosk", PASSWORD), handled=False)


@pytest.fixture
def secure_smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MailCatcher, Logins]]:
    """A real SMTP server that requires STARTTLS, then a login, with a certificate this process trusts."""
    context, cert = tls_context_for_localhost(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # what ssl.create_default_context() trusts, as a local CA would be
    logins = Logins()
    catcher = MailCatcher(tls_context=context, require_starttls=True, authenticator=logins, auth_required=True,
                          auth_require_tls=True).start()
    yield catcher, logins
    catcher.stop()


def settings_for(port: int, tmp_path: Path, **alerts_toml: object) -> ServerSettings:
    """Settings read from a real TOML file whose password file sits beside it."""
    (tmp_path / "smtp-password").write_text(PASSWORD + "\n", encoding="utf-8")
    values: dict[str, object] = {"smtp_host": HOST, "smtp_port": port, "smtp_timeout_s": 2.0} | alerts_toml
    lines = [f"{key} = " + (f'"{value}"' if isinstance(value, str) else str(value).lower())
             for key, value in values.items()]
    path = tmp_path / "server.toml"
    path.write_text("[alerts]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return parse(path.read_text(encoding="utf-8"), path)


def one_mail() -> mail.Outgoing:
    """A small alert e-mail."""
    return mail.Outgoing(("noivu@tinh.gov.vn",), "[Cảnh báo] Thử / [Alert] Test", "Nội dung thử\nA test\n",
                         "kiosk-alert-test")


def test_starttls_and_login_with_the_password_from_its_file(secure_smtp: tuple[MailCatcher, Logins],
                                                            tmp_path: Path, server_engine: Engine) -> None:
    catcher, logins = secure_smtp
    settings = settings_for(catcher.port, tmp_path, smtp_starttls=True, smtp_user="kiosk",
                            smtp_password_file="smtp-password")
    place = make_place(server_engine)
    alerts.add_rule(server_engine, "HK", None, "harassment", email_to="noivu@tinh.gov.vn")
    place.rate("Q01", [1], at=utc_now() - timedelta(minutes=1), harassment=True)
    assert alerts.check(server_engine, settings).sent == 1
    assert logins.seen == [("kiosk", PASSWORD)]  # the file's trailing newline is not part of the password
    (received,) = catcher.messages
    assert "Phản ánh phiền hà, sách nhiễu" in received.subject


def test_a_wrong_password_is_a_clear_error_and_the_alert_waits(secure_smtp: tuple[MailCatcher, Logins],
                                                               tmp_path: Path, server_engine: Engine) -> None:
    catcher, _ = secure_smtp
    settings = settings_for(catcher.port, tmp_path, smtp_starttls=True, smtp_user="kiosk",
                            smtp_password_file="smtp-password")
    (tmp_path / "smtp-password").write_text("sai mật khẩu", encoding="utf-8")  # changed after the settings load
    place = make_place(server_engine)
    alerts.add_rule(server_engine, "HK", None, "harassment", email_to="noivu@tinh.gov.vn")
    place.rate("Q01", [1], at=utc_now() - timedelta(minutes=1), harassment=True)
    result = alerts.check(server_engine, settings)
    assert (result.raised, result.sent, result.failed) == (1, 0, 1)
    (vi, en), = result.errors
    assert f"Máy chủ thư {HOST}:{catcher.port} từ chối bước đăng nhập với tên kiosk: 535" in vi
    assert "failed the login as kiosk: 535" in en
    (event,) = events(server_engine)
    assert event.sent_at is None and event.attempts == 1 and "535" in event.last_error
    (tmp_path / "smtp-password").write_text(PASSWORD, encoding="utf-8")  # IT fixes the file: no restart needed
    assert alerts.check(server_engine, settings).sent == 1
    assert len(catcher.messages) == 1


def test_an_untrusted_certificate_is_refused(secure_smtp: tuple[MailCatcher, Logins], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    catcher, logins = secure_smtp
    # Trust nothing: the server's self-signed certificate is not vouched for by any authority.
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "no-certificates-here"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    settings = settings_for(catcher.port, tmp_path, smtp_starttls=True, smtp_user="kiosk",
                            smtp_password_file="smtp-password")
    with pytest.raises(mail.MailError) as caught:
        mail.Mailer(settings).open()
    assert "từ chối bước mã hoá (STARTTLS)" in caught.value.vi and "CERTIFICATE_VERIFY_FAILED" in caught.value.en
    assert logins.seen == []  # the password never went over an unverified connection


def test_starttls_asked_but_not_offered(tmp_path: Path) -> None:
    catcher = MailCatcher().start()
    try:
        settings = settings_for(catcher.port, tmp_path, smtp_starttls=True)
        with pytest.raises(mail.MailError) as caught:
            mail.Mailer(settings).open()
        assert "không hỗ trợ STARTTLS" in caught.value.vi and "does not offer STARTTLS" in caught.value.en
    finally:
        catcher.stop()


def test_login_required_but_not_configured_fails_at_sending(secure_smtp: tuple[MailCatcher, Logins],
                                                            tmp_path: Path) -> None:
    catcher, _ = secure_smtp
    settings = settings_for(catcher.port, tmp_path, smtp_starttls=True)
    with mail.Mailer(settings) as mailer, pytest.raises(mail.MailError) as caught:
        mailer.send(one_mail(), utc_now())
    assert "không nhận thư: 530" in caught.value.vi and "did not take the message: 530" in caught.value.en
    assert catcher.messages == []


def test_a_mail_server_that_never_answers_times_out_with_a_clear_error(tmp_path: Path) -> None:
    # The kernel completes the TCP connection, then nothing is ever said: a hung mail server.
    with socket.create_server((HOST, 0)) as listener:
        settings = settings_for(listener.getsockname()[1], tmp_path, smtp_timeout_s=1.0)
        with pytest.raises(mail.MailError) as caught:
            mail.Mailer(settings).open()
    assert "Không kết nối được máy chủ thư" in caught.value.vi and "timed out" in caught.value.en


def test_a_refused_port_names_the_server(tmp_path: Path) -> None:
    dead = free_port()
    with pytest.raises(mail.MailError) as caught:
        mail.Mailer(settings_for(dead, tmp_path)).open()
    assert f"Không kết nối được máy chủ thư {HOST}:{dead}" in caught.value.vi
    assert f"cannot connect to the mail server {HOST}:{dead}" in caught.value.en
    assert "refused" in caught.value.en.lower()


def test_an_unreadable_password_file_names_the_file(tmp_path: Path) -> None:
    catcher = MailCatcher().start()
    try:
        settings = settings_for(catcher.port, tmp_path, smtp_user="kiosk", smtp_password_file="smtp-password")
        (tmp_path / "smtp-password").unlink()  # removed after the settings were read
        with pytest.raises(mail.MailError) as caught:
            mail.Mailer(settings).open()
        assert f"Không đọc được tệp mật khẩu máy chủ thư {tmp_path / 'smtp-password'}" in caught.value.vi
        assert "cannot read the mail server password file" in caught.value.en
    finally:
        catcher.stop()


def test_a_long_vietnamese_subject_and_any_body_line_arrive_exactly_as_written(tmp_path: Path) -> None:
    catcher = MailCatcher().start()
    subject = " ".join(["[Cảnh báo] Kiosk im lặng 30 giờ tại Quầy Tư pháp – Hộ tịch, Trung tâm Phục vụ hành chính "
                        "công xã Hà Khê"] * 3)
    body = "Dòng một\nFrom 08:00 to 09:00 (Vietnam time)\n.\n..\nỞ đây có dấu: ắ ằ ẳ ẵ ặ ơ ư đ Ữ Ỹ\n"
    try:
        with mail.Mailer(settings_for(catcher.port, tmp_path)) as mailer:
            assert mailer.send(mail.Outgoing(("noivu@tinh.gov.vn",), subject, body, "kiosk-alert-x"),
                               utc_now()) == ""
        (received,) = catcher.messages
        assert received.subject == subject  # every space kept where the header is folded
        assert received.body.replace("\r\n", "\n") == body  # "From " not mangled, lone dots not lost
        assert all(len(line) <= 78 for line in received.raw.decode("ascii").splitlines())
    finally:
        catcher.stop()
