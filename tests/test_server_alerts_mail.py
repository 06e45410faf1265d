"""The SMTP side of alerts against real servers on 127.0.0.1: encryption (STARTTLS by default, or TLS from the
first byte) with the server's certificate verified, login with the password from its file and never in clear
unless allowed, and every way the mail server can fail, each a clear bilingual error that names the server and
the step (or the setting to change)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import Engine

from sync.server.alerts import checker, mail, rules
from sync.server.db import make_engine, utc_now
from sync.server.process import free_port, sqlite_url
from sync.server.settings import ServerSettings, parse
from tests import test_server_alerts_helpers as helpers
from tests.sync_harness import ServerHandle
from tests.test_server_alerts_helpers import HOST, MailCatcher, events, make_place, tls_context_for_localhost

server_engine = helpers.server_engine  # the fixture shared with the other alert tests
PASSWORD = "mật khẩu thư 2026"
# aiosmtpd's own caution about the servers made here on purpose without TLS (or with TLS it cannot see: SMTPS).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Logins:
    """An aiosmtpd authenticator that accepts one user and password and remembers every attempt, and whether
    the connection it came over was encrypted."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bool]] = []

    def __call__(self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: object) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        transport = server.transport
        encrypted = transport is not None and transport.get_extra_info("ssl_object") is not None
        self.seen.append((login, password, encrypted))
        # handled=False: aiosmtpd then answers 535 itself (True would leave the client waiting).
        return AuthResult(success=(login, password) == ("kiosk", PASSWORD), handled=False)


@dataclass
class Smtp:
    """A real SMTP server on 127.0.0.1, how it encrypts (smtp_tls's words), the logins it saw, and its
    certificate's PEM file (if it has one)."""

    catcher: MailCatcher
    mode: str
    logins: Logins
    cert: Path | None = None


def smtp_server(tmp_path: Path, mode: str) -> Smtp:
    """A server that requires a login: over STARTTLS ("starttls"), TLS from the first byte ("tls"), or with no
    encryption at all, taking the password in clear if a client sends it ("none")."""
    logins = Logins()
    options: dict[str, Any] = {"authenticator": logins, "auth_required": True}
    cert = None
    if mode != "none":
        context, cert_name = tls_context_for_localhost(tmp_path)
        cert = Path(cert_name)
        if mode == "starttls":
            options |= {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
        else:
            options |= {"ssl_context": context, "auth_require_tls": False}
    else:
        options["auth_require_tls"] = False
    return Smtp(MailCatcher(**options).start(), mode, logins, cert)


@pytest.fixture
def secure_smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MailCatcher, Logins]]:
    """A real SMTP server that requires STARTTLS, then a login, with a certificate this process trusts."""
    made = smtp_server(tmp_path, "starttls")
    monkeypatch.setenv("SSL_CERT_FILE", str(made.cert))  # what the system trusts, as a local CA would be
    yield made.catcher, made.logins
    made.catcher.stop()


@pytest.fixture(params=["starttls", "tls"])
def encrypted_smtp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Smtp]:
    """A server with STARTTLS, then one with TLS from the first byte."""
    made = smtp_server(tmp_path, str(request.param))
    yield made
    made.catcher.stop()


@pytest.fixture
def trust_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No authority the system would trust: only smtp_ca_file can vouch for a certificate."""
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "no-certificates-here"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))


def settings_for(port: int, tmp_path: Path, **alerts_toml: object) -> ServerSettings:
    """Settings read from a real TOML file whose password file sits beside it."""
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    secret.chmod(0o600)
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


LOGIN = {"smtp_user": "kiosk", "smtp_password_file": "smtp-password"}


def test_starttls_is_the_default_and_the_password_from_its_file_goes_encrypted(
        secure_smtp: tuple[MailCatcher, Logins], tmp_path: Path, server_engine: Engine) -> None:
    catcher, logins = secure_smtp
    settings = settings_for(catcher.port, tmp_path, **LOGIN)  # no smtp_tls: the default
    assert settings.alerts.smtp_tls == "starttls"
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to="noivu@tinh.gov.vn")
    place.rate("Q01", [1], at=utc_now() - timedelta(minutes=1), harassment=True)
    assert checker.check(server_engine, settings).sent == 1
    # The file's trailing newline is not part of the password; it went over the encrypted connection.
    assert logins.seen == [("kiosk", PASSWORD, True)]
    (received,) = catcher.messages
    assert "Phản ánh phiền hà, sách nhiễu" in received.subject


def test_a_private_authority_named_in_smtp_ca_file_is_trusted(encrypted_smtp: Smtp, tmp_path: Path,
                                                              trust_nothing: None) -> None:
    assert encrypted_smtp.cert is not None
    settings = settings_for(encrypted_smtp.catcher.port, tmp_path, smtp_tls=encrypted_smtp.mode,
                            smtp_ca_file=encrypted_smtp.cert.name, **LOGIN)
    with mail.Mailer(settings) as mailer:
        assert mailer.send(one_mail(), utc_now()) == ""
    assert encrypted_smtp.logins.seen == [("kiosk", PASSWORD, True)]
    assert len(encrypted_smtp.catcher.messages) == 1


def test_a_certificate_for_another_name_is_refused(secure_smtp: tuple[MailCatcher, Logins],
                                                   tmp_path: Path) -> None:
    catcher, logins = secure_smtp
    # The certificate is trusted, but it names 127.0.0.1, not "localhost": the host name is checked too.
    settings = settings_for(catcher.port, tmp_path, **LOGIN)
    settings = parse(settings.source.read_text(encoding="utf-8").replace(HOST, "localhost"),  # type: ignore[union-attr]
                     settings.source)
    with pytest.raises(mail.MailError) as caught:
        mail.Mailer(settings).open()
    assert "từ chối bước mã hoá (STARTTLS)" in caught.value.vi and "CERTIFICATE_VERIFY_FAILED" in caught.value.en
    assert logins.seen == []


def test_a_ca_file_that_is_not_a_certificate_is_a_clear_error(secure_smtp: tuple[MailCatcher, Logins],
                                                              tmp_path: Path) -> None:
    catcher, logins = secure_smtp
    (tmp_path / "not-a-ca.pem").write_text("không phải chứng chỉ\n", encoding="utf-8")
    settings = settings_for(catcher.port, tmp_path, smtp_ca_file="not-a-ca.pem", **LOGIN)
    with pytest.raises(mail.MailError) as caught:
        mail.Mailer(settings).open()
    where = tmp_path / "not-a-ca.pem"
    assert f"Không dùng được tệp chứng chỉ {where} ([alerts] smtp_ca_file)" in caught.value.vi
    assert f"cannot use the certificate file {where} ([alerts] smtp_ca_file)" in caught.value.en
    assert logins.seen == [] and catcher.messages == []


def test_by_default_a_server_without_encryption_gets_neither_the_password_nor_the_mail(tmp_path: Path) -> None:
    plain = smtp_server(tmp_path, "none")  # it would take the password in clear if it were sent
    try:
        settings = settings_for(plain.catcher.port, tmp_path, **LOGIN)
        with pytest.raises(mail.MailError) as caught, mail.Mailer(settings) as mailer:
            mailer.send(one_mail(), utc_now())
        assert "không hỗ trợ STARTTLS" in caught.value.vi and 'smtp_tls = "starttls"' in caught.value.vi
        assert "does not offer STARTTLS" in caught.value.en and 'smtp_tls = "tls"' in caught.value.en
        assert plain.logins.seen == [] and plain.catcher.messages == []
    finally:
        plain.catcher.stop()


def test_no_encryption_refuses_to_send_the_password_unless_explicitly_allowed(tmp_path: Path,
                                                                              server_engine: Engine) -> None:
    plain = smtp_server(tmp_path, "none")
    try:
        settings = settings_for(plain.catcher.port, tmp_path, smtp_tls="none", **LOGIN)
        with pytest.raises(mail.MailError) as caught:
            mail.Mailer(settings).open()
        vi, en = caught.value.vi, caught.value.en
        assert f"Không gửi mật khẩu tới máy chủ thư {HOST}:{plain.catcher.port} qua kết nối không mã hoá" in vi
        assert "smtp_allow_unencrypted_login = true" in vi and "smtp_allow_unencrypted_login = true" in en
        assert "not sent" in en and "unencrypted connection" in en
        # Through the alert checker: nothing is sent, the alert waits with the reason on it.
        place = make_place(server_engine)
        rules.add_rule(server_engine, "HK", None, "harassment", email_to="noivu@tinh.gov.vn")
        place.rate("Q01", [1], at=utc_now() - timedelta(minutes=1), harassment=True)
        result = checker.check(server_engine, settings)
        assert (result.raised, result.sent, result.failed) == (1, 0, 1)
        (event,) = events(server_engine)
        assert event.sent_at is None and "smtp_allow_unencrypted_login" in event.last_error
        assert plain.logins.seen == [] and plain.catcher.messages == []

        # IT accepts the risk, in so many words: the password goes in clear and the alert is sent.
        allowed = settings_for(plain.catcher.port, tmp_path, smtp_tls="none", smtp_allow_unencrypted_login=True,
                               **LOGIN)
        assert checker.check(server_engine, allowed).sent == 1
        assert plain.logins.seen == [("kiosk", PASSWORD, False)]
        assert len(plain.catcher.messages) == 1
    finally:
        plain.catcher.stop()


def test_no_encryption_and_no_login_sends_when_chosen(tmp_path: Path) -> None:
    catcher = MailCatcher().start()
    try:
        with mail.Mailer(settings_for(catcher.port, tmp_path, smtp_tls="none")) as mailer:
            assert mailer.send(one_mail(), utc_now()) == ""
        assert len(catcher.messages) == 1
    finally:
        catcher.stop()


# ---- the password file's permissions ----------------------------------------------------------------------

def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The server's own log records (not the test mail server's)."""
    return [r for r in caplog.records if r.name.startswith("sync.server")]


def test_a_password_file_others_can_read_is_warned_about_when_used(secure_smtp: tuple[MailCatcher, Logins],
                                                                   tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    catcher, _ = secure_smtp
    settings = settings_for(catcher.port, tmp_path, **LOGIN)
    secret = tmp_path / "smtp-password"
    with caplog.at_level(logging.WARNING, logger="sync.server"):
        with mail.Mailer(settings):
            pass
        assert not ours(caplog)  # 0600: private
        secret.chmod(0o644)
        assert mail.password_file_warning(settings) is not None
        with mail.Mailer(settings) as mailer:
            assert mailer.send(one_mail(), utc_now()) == ""  # a warning, not a refusal
    (record,) = ours(caplog)
    text = record.getMessage()
    assert f"tệp mật khẩu máy chủ thư {secret} cho nhóm hoặc người khác đọc được (quyền 0644)" in text
    assert f"the mail server password file {secret} is readable by group or others (mode 0644)" in text
    assert f"chmod 600 {secret}" in text
    secret.chmod(0o640)  # the group alone is enough to warn
    assert "0640" in (mail.password_file_warning(settings) or ("", ""))[1]


def test_the_server_warns_at_start_and_the_alert_commands_say_it(secure_smtp: tuple[MailCatcher, Logins],
                                                                  tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    catcher, logins = secure_smtp
    settings = settings_for(catcher.port, tmp_path, **LOGIN)
    (tmp_path / "smtp-password").chmod(0o604)
    engine = make_engine(sqlite_url(tmp_path / "checker.db"))
    background = checker.BackgroundChecker(engine, settings)
    with caplog.at_level(logging.WARNING, logger="sync.server"):
        background.start()
        background.stop()
    engine.dispose()
    assert any("readable by group or others (mode 0604)" in r.getMessage() for r in ours(caplog))
    # `alert send-test`, the way IT checks the mail settings, says it on stderr (a real process: no test logging).
    assert settings.source is not None
    site = ServerHandle(sqlite_url(tmp_path / "server.db"), tmp_path / "data", free_port(), settings.source,
                       {"SSL_CERT_FILE": str(tmp_path / "smtp-cert.pem")})
    answer = site.cli("alert", "send-test", "--to", "it@tinh.gov.vn")
    assert answer.returncode == 0, answer.stderr
    assert "Đã gửi thư thử tới it@tinh.gov.vn" in answer.stdout
    assert f"Cảnh báo: tệp mật khẩu máy chủ thư {tmp_path / 'smtp-password'}" in answer.stderr
    assert "Warning: the mail server password file" in answer.stderr and "chmod 600" in answer.stderr
    assert logins.seen == [("kiosk", PASSWORD, True)] and len(catcher.messages) == 1


def test_a_wrong_password_is_a_clear_error_and_the_alert_waits(secure_smtp: tuple[MailCatcher, Logins],
                                                               tmp_path: Path, server_engine: Engine) -> None:
    catcher, _ = secure_smtp
    settings = settings_for(catcher.port, tmp_path, **LOGIN)
    (tmp_path / "smtp-password").write_text("sai mật khẩu", encoding="utf-8")  # changed after the settings load
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to="noivu@tinh.gov.vn")
    place.rate("Q01", [1], at=utc_now() - timedelta(minutes=1), harassment=True)
    result = checker.check(server_engine, settings)
    assert (result.raised, result.sent, result.failed) == (1, 0, 1)
    (vi, en), = result.errors
    assert f"Máy chủ thư {HOST}:{catcher.port} từ chối bước đăng nhập với tên kiosk: 535" in vi
    assert "failed the login as kiosk: 535" in en
    (event,) = events(server_engine)
    assert event.sent_at is None and event.attempts == 1 and "535" in event.last_error
    (tmp_path / "smtp-password").write_text(PASSWORD, encoding="utf-8")  # IT fixes the file: no restart needed
    assert checker.check(server_engine, settings).sent == 1
    assert len(catcher.messages) == 1


def test_an_untrusted_certificate_is_refused(encrypted_smtp: Smtp, tmp_path: Path, trust_nothing: None) -> None:
    # Verification is on without being asked for: the self-signed certificate is vouched for by no authority.
    port = encrypted_smtp.catcher.port
    settings = settings_for(port, tmp_path, smtp_tls=encrypted_smtp.mode, **LOGIN)
    with pytest.raises(mail.MailError) as caught:
        mail.Mailer(settings).open()
    step = "STARTTLS" if encrypted_smtp.mode == "starttls" else "TLS"
    assert f"Máy chủ thư {HOST}:{port} từ chối bước mã hoá ({step}" in caught.value.vi
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.en
    # The password never went over an unverified connection, nor did any mail.
    assert encrypted_smtp.logins.seen == [] and encrypted_smtp.catcher.messages == []


def test_login_required_but_not_configured_fails_at_sending(secure_smtp: tuple[MailCatcher, Logins],
                                                            tmp_path: Path) -> None:
    catcher, _ = secure_smtp
    settings = settings_for(catcher.port, tmp_path)
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
        with mail.Mailer(settings_for(catcher.port, tmp_path, smtp_tls="none")) as mailer:
            assert mailer.send(mail.Outgoing(("noivu@tinh.gov.vn",), subject, body, "kiosk-alert-x"),
                               utc_now()) == ""
        (received,) = catcher.messages
        assert received.subject == subject  # every space kept where the header is folded
        assert received.body.replace("\r\n", "\n") == body  # "From " not mangled, lone dots not lost
        assert all(len(line) <= 78 for line in received.raw.decode("ascii").splitlines())
    finally:
        catcher.stop()
