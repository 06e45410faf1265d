"""Central server settings: TOML read with tomllib into typed frozen dataclasses, errors naming file and key.

The settings file is `--config PATH`, else $KIOSK_SERVER_CONFIG, else /etc/kiosk/server.toml, else none (the
built-in defaults, which are what config/server.toml spells out). The data directory is `--data-dir`, else
$KIOSK_SERVER_DATA, else `[server] data_dir`, else ~/.local/share/kiosk-server; the database is `--db`, else
`[database] url`, else a SQLite file in the data directory.
"""

from __future__ import annotations

import dataclasses
import os
import zoneinfo
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from kiosk.domain.settings_file import SettingsError, build_dataclass, check_ranges, read_settings_file, toml_table
from sync import protocol

CONFIG_ENV = "KIOSK_SERVER_CONFIG"
DATA_ENV = "KIOSK_SERVER_DATA"
SYSTEM_CONFIG = Path("/etc/kiosk/server.toml")
DB_NAME = "server.db"


@dataclass(frozen=True)
class Server:
    """Where `kiosk-server run` listens, and where it keeps its files."""

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: str = ""  # empty: $KIOSK_SERVER_DATA or ~/.local/share/kiosk-server
    # The address people reach the pages at (https://… behind a proxy), for links in alert e-mails;
    # empty: http://host:port.
    public_url: str = ""


@dataclass(frozen=True)
class Database:
    """The database: empty for SQLite in the data directory, or a SQLAlchemy URL (postgresql+psycopg://…)."""

    url: str = ""


@dataclass(frozen=True)
class Enrolment:
    """One-time enrolment codes printed by `kiosk-server device add`."""

    code_lifetime_h: int = 72


@dataclass(frozen=True)
class Fleet:
    """When the fleet page makes a device stand out."""

    silent_after_h: float = 24.0
    clock_drift_flag_s: float = float(protocol.CLOCK_DRIFT_FLAG_S)
    timezone: str = "Asia/Ho_Chi_Minh"  # how times are shown on the pages (stored in UTC)


@dataclass(frozen=True)
class Admin:
    """IT staff sign-in on the server's pages."""

    session_lifetime_h: float = 12.0
    # Failed sign-ins in a row after which each further try must wait (1 s, doubling, at most max_delay_s).
    free_attempts: int = 3
    max_delay_s: int = 60


# ---- [reports] (sync/server/results) ------------------------------------------------------------------------

@dataclass(frozen=True)
class Reports:
    """How satisfaction results are computed: when a unit or officer is flagged, and in which time zone."""

    flag_share: float = 0.25       # flagged when the share rated 1 or 2 is over this …
    flag_min_ratings: int = 30     # … and it has at least this many ratings in the period
    timezone: str = ""             # days, weeks and months in this zone; empty: [fleet] timezone


def report_timezone(settings: ServerSettings) -> str:
    """The time zone reports count days in: [reports] timezone, else [fleet] timezone."""
    return settings.reports.timezone or settings.fleet.timezone


# ---- [alerts] (sync/server/alerts) --------------------------------------------------------------------------

# How the connection to the mail server is encrypted: upgraded with STARTTLS (ports 25 and 587), TLS from the
# first byte (SMTPS, port 465), or not at all. The server's certificate is always verified when encrypted.
SMTP_TLS_MODES = ("starttls", "tls", "none")


@dataclass(frozen=True)
class Alerts:
    """Alert e-mails: the SMTP server they go through, and how often the rules are checked."""

    smtp_host: str = ""                  # empty: alerts are recorded and shown on the dashboard, not e-mailed
    smtp_port: int = 25
    smtp_user: str = ""                  # empty: no login
    smtp_password_file: str = ""         # the password alone in a file, never in the TOML; relative: to it
    smtp_tls: str = "starttls"           # one of SMTP_TLS_MODES
    smtp_ca_file: str = ""               # authorities to trust for the mail server (PEM); empty: the system's
    smtp_allow_unencrypted_login: bool = False  # send the password with smtp_tls = "none" (readable on the wire)
    smtp_timeout_s: float = 20.0
    mail_from: str = "kiosk-server@localhost"
    check_interval_s: float = 300.0      # 0: no background checker in `run` (use `alert check` from cron)
    silent_after_h: float | None = None  # None: [fleet] silent_after_h
    retry_for_h: float = 72.0            # an alert still unsent after this long is no longer retried


def _check_alerts(settings: ServerSettings) -> None:
    """The [alerts] rules beyond types: ranges, a usable sender, a password file that exists."""
    path, cfg = settings.source, settings.alerts
    ranges: dict[str, tuple[float, float, float]] = {
        "alerts.smtp_port": (cfg.smtp_port, 1, 65535),
        "alerts.smtp_timeout_s": (cfg.smtp_timeout_s, 1, 300),
        "alerts.retry_for_h": (cfg.retry_for_h, 0.1, 24 * 90),
    }
    if cfg.silent_after_h is not None:
        ranges["alerts.silent_after_h"] = (cfg.silent_after_h, 0.01, 24 * 365)
    check_ranges(path, ranges)
    if cfg.check_interval_s != 0 and not 1 <= cfg.check_interval_s <= 86400:
        raise SettingsError(path, "alerts.check_interval_s",
                            f"phải là 0 (tắt) hoặc từ 1 đến 86400 giây, nhận được {cfg.check_interval_s:g}",
                            f"must be 0 (off) or from 1 to 86400 seconds, got {cfg.check_interval_s:g}")
    host = cfg.smtp_host
    if any(c.isspace() for c in host) or "/" in host or host.startswith("-"):
        raise SettingsError(path, "alerts.smtp_host", f"tên máy chủ thư không hợp lệ: {host!r}",
                            f"not a valid mail server name: {host!r}")
    sender = parseaddr(cfg.mail_from)[1]
    local, _, domain = sender.rpartition("@")
    if "\n" in cfg.mail_from or "\r" in cfg.mail_from or not local or not domain:
        raise SettingsError(path, "alerts.mail_from",
                            f"cần một địa chỉ thư, ví dụ \"Kiosk <kiosk@tinh.gov.vn>\", nhận được {cfg.mail_from!r}",
                            f"expected an e-mail address, e.g. \"Kiosk <kiosk@tinh.gov.vn>\", got {cfg.mail_from!r}")
    if cfg.smtp_tls not in SMTP_TLS_MODES:
        raise SettingsError(path, "alerts.smtp_tls", f"phải là \"starttls\", \"tls\" hoặc \"none\", nhận được "
                            f"{cfg.smtp_tls!r}", f"must be \"starttls\", \"tls\" or \"none\", got {cfg.smtp_tls!r}")
    ca_file = alerts_ca_path(settings)
    if ca_file is not None and not ca_file.is_file():
        raise SettingsError(path, "alerts.smtp_ca_file", f"không có tệp chứng chỉ {ca_file}",
                            f"no certificate file {ca_file}")
    if cfg.smtp_password_file:
        if not cfg.smtp_user:
            raise SettingsError(path, "alerts.smtp_password_file", "cần đặt cả smtp_user (tên đăng nhập)",
                                "needs smtp_user (the login name) too")
        password_file = alerts_password_path(settings)
        if password_file is None or not password_file.is_file():
            raise SettingsError(path, "alerts.smtp_password_file", f"không có tệp mật khẩu {password_file}",
                                f"no password file {password_file}")
    url = settings.server.public_url
    if url and not url.startswith(("http://", "https://")):
        raise SettingsError(path, "server.public_url", f"cần một URL http:// hoặc https://, nhận được {url!r}",
                            f"expected an http:// or https:// URL, got {url!r}")


def _beside_settings(settings: ServerSettings, name: str) -> Path | None:
    """A file named in the settings (a relative path is taken from the settings file's folder); None if unset."""
    if not name:
        return None
    configured = Path(name).expanduser()
    if not configured.is_absolute() and settings.source is not None:
        configured = settings.source.parent / configured
    return configured


def alerts_password_path(settings: ServerSettings) -> Path | None:
    """The SMTP password file (a relative path is taken from the settings file's folder); None when not set."""
    return _beside_settings(settings, settings.alerts.smtp_password_file)


def alerts_ca_path(settings: ServerSettings) -> Path | None:
    """The authorities trusted for the mail server's certificate (relative: to the settings file); None: the
    system's."""
    return _beside_settings(settings, settings.alerts.smtp_ca_file)


def _refuse_inline_password(data: Any, path: Path | None) -> None:
    """Keys that must not be there get their own message: a password in the TOML, or the old smtp_starttls."""
    table = data.get("alerts") if isinstance(data, dict) else None
    if isinstance(table, dict) and "smtp_password" in table:
        raise SettingsError(path, "alerts.smtp_password",
                            "không ghi mật khẩu vào tệp cấu hình; đặt nó riêng trong một tệp (quyền 0600) và ghi "
                            "đường dẫn vào smtp_password_file",
                            "the password is not written in the settings file; put it alone in a file (mode "
                            "0600) and name that file in smtp_password_file")
    if isinstance(table, dict) and "smtp_starttls" in table:
        # Its old default (false) sent passwords in clear; a file that still names it must choose again.
        raise SettingsError(path, "alerts.smtp_starttls",
                            "đã thay bằng smtp_tls: \"starttls\" (mặc định, nâng cấp kết nối, cổng 25 hoặc 587), "
                            "\"tls\" (mã hoá ngay từ đầu, SMTPS, cổng 465) hoặc \"none\" (không mã hoá)",
                            "replaced by smtp_tls: \"starttls\" (the default, upgrade the connection, port 25 or "
                            "587), \"tls\" (encrypted from the start, SMTPS, port 465) or \"none\" (no encryption)")

# ---- end of [alerts] ------------------------------------------------------------------------------------------


# ---- [digest] (sync/server/results/digest) -------------------------------------------------------------------

@dataclass(frozen=True)
class DigestHeads:
    """The heads of one agency who receive its monthly digest of flagged officers."""

    agency: str = ""
    emails: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Digest:
    """The monthly e-mail to heads of unit naming the officers flagged that month (`kiosk-server digest send`)."""

    heads: list[DigestHeads] = field(default_factory=list)


def _check_digest(settings: ServerSettings) -> None:
    """Each [[digest.heads]] names one agency, once, with 1 to 20 valid addresses."""
    from sync.server.alerts.rules import parse_recipients  # its address rule; imported late: it imports this
    from sync.server.errors import ServerError

    seen: set[str] = set()
    for i, heads in enumerate(settings.digest.heads):
        key = f"digest.heads[{i}]"
        if not heads.agency.strip():
            raise SettingsError(settings.source, f"{key}.agency", "cần mã cơ quan, ví dụ \"HK\"",
                                "an agency code is needed, e.g. \"HK\"")
        if heads.agency in seen:
            raise SettingsError(settings.source, f"{key}.agency", f"cơ quan {heads.agency!r} đã có ở trên",
                                f"agency {heads.agency!r} is already listed above")
        seen.add(heads.agency)
        if not heads.emails:
            raise SettingsError(settings.source, f"{key}.emails", "cần ít nhất một địa chỉ thư của thủ trưởng",
                                "at least one head's e-mail address is needed")
        try:
            parse_recipients(",".join(heads.emails))
        except ServerError as error:
            raise SettingsError(settings.source, f"{key}.emails", error.vi, error.en) from None
        for j, address in enumerate(heads.emails):
            # The digest sends to each item as written: "a@b.vn, c@d.vn" would be one recipient, c@d.vn never mailed.
            if "," in address or ";" in address:
                raise SettingsError(settings.source, f"{key}.emails[{j}]",
                                    f"mỗi mục một địa chỉ, ví dụ [\"a@b.vn\", \"c@d.vn\"], không phải {address[:80]!r}",
                                    f"one address per item, e.g. [\"a@b.vn\", \"c@d.vn\"], not {address[:80]!r}")

# ---- end of [digest] ------------------------------------------------------------------------------------------


# ---- [webform] (sync/server/channels/web_form) -----------------------------------------------------------------

@dataclass(frozen=True)
class WebForm:
    """The public web form's abuse rules: answers beyond them are kept but flagged and left out of the counts."""

    rate_limit_per_min: int = 10       # answers from one address in one minute that count; more are flagged
    repeat_window_h: float = 24.0      # a browser that answered for an agency this recently is flagged
    rate_keep_h: float = 2.0           # per-minute counts older than this are pruned


def _check_webform(settings: ServerSettings) -> None:
    """The [webform] ranges."""
    cfg = settings.webform
    check_ranges(settings.source, {
        "webform.rate_limit_per_min": (cfg.rate_limit_per_min, 1, 10_000),
        "webform.repeat_window_h": (cfg.repeat_window_h, 0, 24 * 365),
        "webform.rate_keep_h": (cfg.rate_keep_h, 0.05, 24 * 30),
    })
    url = settings.server.public_url
    if any(c in url for c in "?# "):   # the form's and the posters' links are made by appending a path
        raise SettingsError(settings.source, "server.public_url", f"không được có ?, # hoặc dấu cách: {url!r}",
                            f"must not have ?, # or spaces: {url!r}")

# ---- end of [webform] -----------------------------------------------------------------------------------------


# ---- [cases] (sync/server/cases) -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cases:
    """How long the office has to answer a comment, harassment report or callback request, in working days
    (Saturday and Sunday off, minus `holidays`, plus make-up `working_days`), in the report time zone."""

    answer_within_days: int = 10
    holidays: list[str] = field(default_factory=list)       # "YYYY-MM-DD", days off that are not weekends
    working_days: list[str] = field(default_factory=list)   # "YYYY-MM-DD", make-up working Saturdays or Sundays


def _check_cases(settings: ServerSettings) -> None:
    """[cases]: a day count in range and dates that are dates."""
    from datetime import date  # only here: the other sections need no dates

    check_ranges(settings.source, {"cases.answer_within_days": (settings.cases.answer_within_days, 1, 365)})
    days: dict[str, set[object]] = {"holidays": set(), "working_days": set()}
    for key, values in (("holidays", settings.cases.holidays), ("working_days", settings.cases.working_days)):
        for i, text in enumerate(values):
            try:
                day = date.fromisoformat(text)
            except (TypeError, ValueError):
                raise SettingsError(settings.source, f"cases.{key}[{i}]",
                                    f"cần một ngày dạng YYYY-MM-DD, ví dụ \"2026-09-02\", không phải {text!r}",
                                    f"expected a date as YYYY-MM-DD, e.g. \"2026-09-02\", not {text!r}") from None
            # A day both off and worked would silently count as worked (due dates one day early).
            if key == "working_days" and day in days["holidays"]:
                raise SettingsError(settings.source, f"cases.{key}[{i}]",
                                    f"ngày {text} đã là ngày nghỉ trong cases.holidays; một ngày chỉ ở một danh sách",
                                    f"{text} is already a holiday in cases.holidays; a day belongs in one list only")
            days[key].add(day)

# ---- end of [cases] -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSettings:
    """Everything the central server reads from its settings file."""

    server: Server = field(default_factory=Server)
    database: Database = field(default_factory=Database)
    enrolment: Enrolment = field(default_factory=Enrolment)
    fleet: Fleet = field(default_factory=Fleet)
    admin: Admin = field(default_factory=Admin)
    reports: Reports = field(default_factory=Reports)
    alerts: Alerts = field(default_factory=Alerts)
    webform: WebForm = field(default_factory=WebForm)
    digest: Digest = field(default_factory=Digest)
    cases: Cases = field(default_factory=Cases)
    source: Path | None = None


def _check(settings: ServerSettings) -> None:
    """Rules beyond types: ranges and a URL scheme the server can use."""
    path = settings.source
    ranges: dict[str, tuple[float, float, float]] = {
        "server.port": (settings.server.port, 1, 65535),
        "enrolment.code_lifetime_h": (settings.enrolment.code_lifetime_h, 1, 24 * 90),
        "fleet.silent_after_h": (settings.fleet.silent_after_h, 0.01, 24 * 365),
        "fleet.clock_drift_flag_s": (settings.fleet.clock_drift_flag_s, 1, 86400),
        "admin.session_lifetime_h": (settings.admin.session_lifetime_h, 0.01, 24 * 30),
        "admin.free_attempts": (settings.admin.free_attempts, 1, 100),
        "admin.max_delay_s": (settings.admin.max_delay_s, 1, 3600),
        "reports.flag_share": (settings.reports.flag_share, 0, 1),
        "reports.flag_min_ratings": (settings.reports.flag_min_ratings, 1, 1_000_000),
    }
    check_ranges(path, ranges)
    if not settings.server.host.strip():
        raise SettingsError(path, "server.host", "không được để trống", "must not be empty")
    try:
        zoneinfo.ZoneInfo(settings.fleet.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(path, "fleet.timezone",
                            f"không có múi giờ {settings.fleet.timezone!r} (ví dụ Asia/Ho_Chi_Minh)",
                            f"unknown time zone {settings.fleet.timezone!r} (e.g. Asia/Ho_Chi_Minh)") from None
    zone = settings.reports.timezone
    if zone:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise SettingsError(path, "reports.timezone", f"không có múi giờ {zone!r} (ví dụ Asia/Ho_Chi_Minh)",
                                f"unknown time zone {zone!r} (e.g. Asia/Ho_Chi_Minh)") from None
    url = settings.database.url
    if url and not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise SettingsError(path, "database.url", "cần một URL sqlite:/// hoặc postgresql+psycopg://",
                            "expected a sqlite:/// or postgresql+psycopg:// URL")
    _check_alerts(settings)
    _check_webform(settings)
    _check_digest(settings)
    _check_cases(settings)


def parse(text: str, path: Path | None = None) -> ServerSettings:
    """Validate server settings from TOML text; `path` only names the file in errors."""
    data = toml_table(text, path)
    _refuse_inline_password(data, path)
    settings: ServerSettings = dataclasses.replace(build_dataclass(ServerSettings, data, path, ""), source=path)
    _check(settings)
    return settings


def load(path: Path) -> ServerSettings:
    """Read and validate a settings file."""
    return parse(read_settings_file(path), path)


def resolve(path: Path | None) -> ServerSettings:
    """The settings to run with: the named file, else $KIOSK_SERVER_CONFIG, /etc/kiosk/server.toml, defaults."""
    if path is not None:
        return load(path)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return load(Path(env))
    return load(SYSTEM_CONFIG) if SYSTEM_CONFIG.is_file() else ServerSettings()


def public_base(settings: ServerSettings) -> str:
    """The address citizens and IT reach the server at, without a trailing slash: [server] public_url, else
    http://host:port."""
    return (settings.server.public_url or f"http://{settings.server.host}:{settings.server.port}").rstrip("/")


def data_dir(settings: ServerSettings, override: Path | None) -> Path:
    """The data directory: --data-dir, $KIOSK_SERVER_DATA, [server] data_dir, ~/.local/share/kiosk-server."""
    chosen = override or (Path(os.environ[DATA_ENV]) if os.environ.get(DATA_ENV) else None)
    if chosen is None and settings.server.data_dir:
        configured = Path(settings.server.data_dir).expanduser()
        # A relative path in the file is taken from the file's folder, not from wherever the command ran.
        if not configured.is_absolute() and settings.source is not None:
            configured = settings.source.parent / configured
        chosen = configured
    if chosen is None:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        chosen = Path(base) / "kiosk-server"
    return chosen


def database_url(settings: ServerSettings, override: str | None, directory: Path) -> str:
    """The database URL: --db, else [database] url, else SQLite in the data directory."""
    return override or settings.database.url or f"sqlite:///{directory / DB_NAME}"
