"""Alert e-mails over SMTP: messages that keep Vietnamese intact, and one connection per round of sending.

The connection is encrypted by default (`[alerts] smtp_tls`: STARTTLS, or TLS from the start), and the mail
server's certificate is always verified (against the system's authorities, or `smtp_ca_file`). A password is
never sent over a connection that is not encrypted unless `smtp_allow_unencrypted_login` says so. The password
is read from `smtp_password_file` when a connection is opened (never from the TOML, so it can be rotated
without a restart and never shows in a settings dump); a file that group or others may read is warned about.
Every failure becomes a `MailError` with one bilingual line naming the server, which the caller stores on the
alert and logs.
"""

from __future__ import annotations

import base64
import io
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from types import TracebackType

from sync.server.errors import ServerError
from sync.server.settings import ServerSettings, alerts_ca_path, alerts_password_path

log = logging.getLogger(__name__)


class MailError(ServerError):
    """An e-mail that could not be sent, and why (Vietnamese first, English second)."""


@dataclass(frozen=True)
class Outgoing:
    """One e-mail to send: recipients, subject and plain-text body."""

    to: tuple[str, ...]
    subject: str
    body: str
    reference: str  # a stable name for the message (its Message-ID and X-Kiosk-Alert header)


def not_configured() -> MailError:
    """The error of a server with no `[alerts] smtp_host`: alerts are shown, not e-mailed."""
    return MailError("Chưa cấu hình máy chủ thư ([alerts] smtp_host); cảnh báo chỉ hiện trên trang tổng hợp",
                     "no mail server is configured ([alerts] smtp_host); alerts only show on the dashboard")


def password_file_warning(settings: ServerSettings) -> tuple[str, str] | None:
    """A warning when the SMTP password file may be read by the group or by others; None when it is private
    (or not set, or not there: reading it says so)."""
    path = alerts_password_path(settings)
    if path is None:
        return None
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o044:
        return None
    return (f"Cảnh báo: tệp mật khẩu máy chủ thư {path} cho nhóm hoặc người khác đọc được (quyền {mode:04o}); "
            f"hãy chạy: chmod 600 {path}",
            f"Warning: the mail server password file {path} is readable by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}")


def warn_about_password_file(settings: ServerSettings) -> None:
    """Log password_file_warning, if any (on the server's log, and on stderr for the `alert` commands)."""
    found = password_file_warning(settings)
    if found is not None:
        log.warning("%s / %s", *found)


def _reason(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) \
            else str(error.smtp_error)
        return f"{error.smtp_code} {' '.join(text.split())}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{who}: {code} {msg.decode('utf-8', 'replace')}"
                         for who, (code, msg) in error.recipients.items())
    if isinstance(error, socket.timeout | TimeoutError):
        return "hết thời gian chờ / timed out"
    return " ".join(str(error).split()) or type(error).__name__


def compose(settings: ServerSettings, mail: Outgoing, now: datetime) -> MIMEText:
    """The message as it goes out: UTF-8 subject (RFC 2047) and quoted-printable body, marked as automatic."""
    # The older email API on purpose: the newer one, folding a long Vietnamese subject into several encoded
    # words, drops the space at a fold ("30 giờ" arrives as "30giờ"); `Header` keeps spaces inside the words.
    charset = Charset("utf-8")
    charset.body_encoding = QP  # readable in the raw message, safe through any mail server (7-bit)
    message = MIMEText(mail.body, "plain", charset)  # type: ignore[arg-type]  # typeshed: str only
    message["Subject"] = Header(mail.subject, "utf-8", header_name="Subject")  # type: ignore[assignment]  # typeshed: str only
    name, sender = parseaddr(settings.alerts.mail_from)
    message["From"] = formataddr((name, sender), charset="utf-8")
    message["To"] = ", ".join(mail.to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=mail.reference, domain=sender.rpartition("@")[2] or "localhost")
    # RFC 3834: out-of-office replies and mailing lists must not answer an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Kiosk-Alert"] = mail.reference
    return message


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in; a user or password with Vietnamese letters goes as UTF-8 AUTH PLAIN (smtplib only sends ASCII)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise MailError("Tên hoặc mật khẩu có chữ có dấu nhưng máy chủ thư không nhận AUTH PLAIN; hãy dùng mật "
                        "khẩu không dấu", "the user name or password has non-ASCII letters and the mail server "
                        "does not offer AUTH PLAIN; use an ASCII password")
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, answer = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


def flatten(message: MIMEText) -> bytes:
    """The message's bytes as sent, every line as written."""
    out = io.BytesIO()
    # smtplib's send_message would turn a body line starting "From " into ">From " (an mbox habit).
    BytesGenerator(out, mangle_from_=False).flatten(message, linesep="\r\n")
    return out.getvalue()


def _ascii_domain(address: str) -> str:
    """The address with an internationalised domain (thư.vn) in its ASCII form (xn--), as any mail server takes it."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


class Mailer:
    """One SMTP session (encryption and login as configured) for sending a round of alerts; a context manager."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.cfg = settings.alerts
        self.where = f"{self.cfg.smtp_host}:{self.cfg.smtp_port}"
        self._smtp: smtplib.SMTP | None = None

    def _password(self) -> str:
        path = alerts_password_path(self.settings)
        if path is None:
            return ""
        warn_about_password_file(self.settings)
        try:
            return path.read_text(encoding="utf-8").strip("\r\n")
        except (OSError, UnicodeDecodeError) as error:
            raise MailError(f"Không đọc được tệp mật khẩu máy chủ thư {path}: {_reason(error)}",
                            f"cannot read the mail server password file {path}: {_reason(error)}") from None

    def _tls_context(self) -> ssl.SSLContext:
        """Verifies the certificate and the host name, against smtp_ca_file or the system's authorities."""
        ca_file = alerts_ca_path(self.settings)
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
        except (OSError, ssl.SSLError) as error:
            raise MailError(f"Không dùng được tệp chứng chỉ {ca_file} ([alerts] smtp_ca_file): {_reason(error)}",
                            f"cannot use the certificate file {ca_file} ([alerts] smtp_ca_file): "
                            f"{_reason(error)}") from None

    def _connect(self, context: ssl.SSLContext | None) -> smtplib.SMTP:
        """The connection, encrypted from the first byte with smtp_tls = "tls"."""
        host, port, timeout = self.cfg.smtp_host, self.cfg.smtp_port, self.cfg.smtp_timeout_s
        try:
            if self.cfg.smtp_tls == "tls":
                return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            return smtplib.SMTP(host, port, timeout=timeout)
        except ssl.SSLError as error:
            raise MailError(f"Máy chủ thư {self.where} từ chối bước mã hoá (TLS, smtp_tls = \"tls\"): "
                            f"{_reason(error)}",
                            f"the mail server {self.where} failed the encryption (TLS, smtp_tls = \"tls\"): "
                            f"{_reason(error)}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"Không kết nối được máy chủ thư {self.where}: {_reason(error)}",
                            f"cannot connect to the mail server {self.where}: {_reason(error)}") from None

    def _refuse_unencrypted_login(self, smtp: smtplib.SMTP) -> None:
        """A MailError naming the setting, unless the connection is encrypted or a login in clear is allowed."""
        if isinstance(smtp.sock, ssl.SSLSocket) or self.cfg.smtp_allow_unencrypted_login:
            return
        raise MailError(
            f"Không gửi mật khẩu tới máy chủ thư {self.where} qua kết nối không mã hoá: hãy đặt [alerts] smtp_tls "
            "= \"starttls\" hoặc \"tls\"; chỉ khi chấp nhận để lộ mật khẩu trên đường truyền (ví dụ máy chủ thư "
            "trên chính máy này) mới đặt smtp_allow_unencrypted_login = true",
            f"the password is not sent to the mail server {self.where} over an unencrypted connection: set "
            "[alerts] smtp_tls = \"starttls\" or \"tls\"; only if the password may be read on the wire (e.g. "
            "a mail server on this machine) set smtp_allow_unencrypted_login = true")

    def open(self) -> Mailer:
        """Connect, encrypt and log in as configured; MailError saying which step failed."""
        if not self.cfg.smtp_host:
            raise not_configured()
        password = self._password() if self.cfg.smtp_user else ""
        # Made before connecting: an unusable smtp_ca_file is said without a word to the mail server.
        context = self._tls_context() if self.cfg.smtp_tls != "none" else None
        smtp = self._connect(context)
        self._smtp = smtp
        step_vi, step_en = "chào hỏi (EHLO)", "greeting (EHLO)"
        try:
            smtp.ehlo()
            if self.cfg.smtp_tls == "starttls":
                step_vi, step_en = "mã hoá (STARTTLS)", "encryption (STARTTLS)"
                if not smtp.has_extn("starttls"):
                    raise MailError(
                        f"Máy chủ thư {self.where} không hỗ trợ STARTTLS ([alerts] smtp_tls = \"starttls\", mặc "
                        "định): dùng smtp_tls = \"tls\" nếu máy chủ mã hoá ngay từ đầu (thường cổng 465), hoặc "
                        "\"none\" nếu nó không mã hoá",
                        f"the mail server {self.where} does not offer STARTTLS ([alerts] smtp_tls = \"starttls\", "
                        "the default): use smtp_tls = \"tls\" if it encrypts from the start (usually port 465), "
                        "or \"none\" if it does not encrypt")
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.cfg.smtp_user:
                self._refuse_unencrypted_login(smtp)
                step_vi, step_en = f"đăng nhập với tên {self.cfg.smtp_user}", f"login as {self.cfg.smtp_user}"
                _login(smtp, self.cfg.smtp_user, password)
        except MailError:
            self.close()
            raise
        except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
            self.close()
            raise MailError(f"Máy chủ thư {self.where} từ chối bước {step_vi}: {_reason(error)}",
                            f"the mail server {self.where} failed the {step_en}: {_reason(error)}") from None
        return self

    def send(self, mail: Outgoing, now: datetime) -> str:
        """Send one message; '' when every recipient took it, else who refused (it reached the others)."""
        if self._smtp is None:
            raise MailError("Chưa kết nối máy chủ thư", "not connected to the mail server")
        message = compose(self.settings, mail, now)
        sender = parseaddr(self.cfg.mail_from)[1]
        recipients = [_ascii_domain(address) for address in mail.to]
        options: list[str] = []
        if not all(address.isascii() for address in [sender, *recipients]):
            # smtplib speaks ASCII only; a citizen's "nguyễn@..." would raise UnicodeEncodeError mid-round.
            if not self._smtp.has_extn("smtputf8"):
                raise MailError(f"Máy chủ thư {self.where} không nhận địa chỉ có chữ có dấu (SMTPUTF8): "
                                f"{', '.join(recipients)}",
                                f"the mail server {self.where} does not take addresses with non-ASCII letters "
                                f"(SMTPUTF8): {', '.join(recipients)}")
            options = ["SMTPUTF8"]
        try:
            refused = self._smtp.sendmail(sender, recipients, flatten(message), mail_options=options)
        except (OSError, smtplib.SMTPException, UnicodeError) as error:
            raise MailError(f"Máy chủ thư {self.where} không nhận thư: {_reason(error)}",
                            f"the mail server {self.where} did not take the message: {_reason(error)}") from None
        return "; ".join(f"{who}: {code} {msg.decode('utf-8', 'replace')}" for who, (code, msg) in refused.items())

    def close(self) -> None:
        """End the session (QUIT), quietly if the connection is already gone."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def __enter__(self) -> Mailer:
        return self.open()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
