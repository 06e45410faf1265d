"""Alert e-mails over SMTP: messages that keep Vietnamese intact, and one connection per round of sending.

The password is read from `[alerts] smtp_password_file` when a connection is opened (never from the TOML, so
it can be rotated without a restart and never shows in a settings dump). Every failure becomes a `MailError`
with one bilingual line naming the server, which the caller stores on the alert and logs.
"""

from __future__ import annotations

import base64
import io
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
from sync.server.settings import ServerSettings, alerts_password_path


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


class Mailer:
    """One SMTP session (STARTTLS and login as configured) for sending a round of alerts; a context manager."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.cfg = settings.alerts
        self.where = f"{self.cfg.smtp_host}:{self.cfg.smtp_port}"
        self._smtp: smtplib.SMTP | None = None

    def _password(self) -> str:
        path = alerts_password_path(self.settings)
        if path is None:
            return ""
        try:
            return path.read_text(encoding="utf-8").strip("\r\n")
        except (OSError, UnicodeDecodeError) as error:
            raise MailError(f"Không đọc được tệp mật khẩu máy chủ thư {path}: {_reason(error)}",
                            f"cannot read the mail server password file {path}: {_reason(error)}") from None

    def open(self) -> Mailer:
        """Connect, upgrade with STARTTLS and log in as configured; MailError saying which step failed."""
        if not self.cfg.smtp_host:
            raise not_configured()
        password = self._password() if self.cfg.smtp_user else ""
        try:
            smtp = smtplib.SMTP(self.cfg.smtp_host, self.cfg.smtp_port, timeout=self.cfg.smtp_timeout_s)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"Không kết nối được máy chủ thư {self.where}: {_reason(error)}",
                            f"cannot connect to the mail server {self.where}: {_reason(error)}") from None
        self._smtp = smtp
        step_vi, step_en = "chào hỏi (EHLO)", "greeting (EHLO)"
        try:
            smtp.ehlo()
            if self.cfg.smtp_starttls:
                step_vi, step_en = "mã hoá (STARTTLS)", "encryption (STARTTLS)"
                if not smtp.has_extn("starttls"):
                    raise MailError(f"Máy chủ thư {self.where} không hỗ trợ STARTTLS (smtp_starttls = true)",
                                    f"the mail server {self.where} does not offer STARTTLS (smtp_starttls = true)")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.cfg.smtp_user:
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
        try:
            refused = self._smtp.sendmail(sender, list(mail.to), flatten(message))
        except (OSError, smtplib.SMTPException) as error:
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
