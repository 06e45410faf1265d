"""Shared parts of the alert tests (no tests here): a real SMTP server on 127.0.0.1 and small data sets.

`MailCatcher` is aiosmtpd's Controller with a handler that keeps every message it accepts, parsed the way a
mail client would (headers decoded, body decoded), so a test reads exactly what an officer would read.
`Place` registers an agency with counters, officers and one device per counter, and writes `rating` rows as the
ingest makes them (one per rating, answers folded in); the end-to-end tests push real signed kiosk logs instead.
"""

from __future__ import annotations

import dataclasses
import email
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import Engine, insert, select, update

from sync.server import registry
from sync.server.db import open_database, utc_now, writing
from sync.server.devices import enrolment
from sync.server.models import ALERT_EVENT, DEVICE, RATING
from sync.server.process import free_port
from sync.server.settings import Alerts, ServerSettings

HOST = "127.0.0.1"


@dataclass
class Received:
    """One message the SMTP server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes

    @property
    def subject(self) -> str:
        """The decoded subject."""
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The decoded plain-text body."""
        return str(self.message.get_content())


class _Collector:
    """An aiosmtpd handler that keeps what it is sent and refuses recipients whose address says so."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: SMTPServer, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("refuse"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or b"")
        parsed = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, raw))
        return "250 OK: queued"


class MailCatcher:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message; `port` survives a restart."""

    def __init__(self, port: int | None = None, **smtp_options: Any) -> None:
        self.port = port or free_port()
        self.options = smtp_options
        self.collector = _Collector()
        self.controller: Controller | None = None

    def start(self) -> MailCatcher:
        """Listen (again) on the same port."""
        # decode_data=False keeps the exact bytes, so the test decodes them as a mail client would.
        self.controller = Controller(self.collector, hostname=HOST, port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused from now on."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Received]:
        """Everything accepted so far."""
        with self.collector.lock:
            return list(self.collector.messages)

    def to(self, address: str) -> list[Received]:
        """The messages delivered to one recipient."""
        return [m for m in self.messages if address in m.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Wait until at least `count` messages have arrived (for the server's background checker)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp() -> Iterator[MailCatcher]:
    """A real SMTP server on 127.0.0.1 collecting messages."""
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


def mail_settings(catcher: MailCatcher | None, **alerts: Any) -> ServerSettings:
    """Server settings that send alerts through `catcher` (None: a port where nothing listens)."""
    port = catcher.port if catcher is not None else free_port()
    # The catcher speaks plain SMTP (the encrypted paths are tested in test_server_alerts_mail.py).
    values: dict[str, Any] = {"smtp_host": HOST, "smtp_port": port, "smtp_timeout_s": 5.0, "smtp_tls": "none",
                              "mail_from": "Kiosk Một cửa <kiosk@tinh.gov.vn>"} | alerts
    return dataclasses.replace(ServerSettings(), alerts=Alerts(**values))


def tls_context_for_localhost(directory: Any) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a new self-signed certificate for 127.0.0.1, and the certificate's PEM path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = utc_now()
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = directory / "smtp-cert.pem"
    key_path = directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, str(cert_path)


# ---- data ------------------------------------------------------------------------------------------------------

@dataclass
class Place:
    """An agency with counters, officers and one registered device per counter, in a server database."""

    engine: Engine
    agency: str
    devices: dict[str, str] = field(default_factory=dict)   # counter code -> device id
    _seq: dict[str, int] = field(default_factory=dict)

    @property
    def agency_id(self) -> int:
        """The agency's row id."""
        with self.engine.connect() as conn:
            return registry.agency(conn, self.agency).id

    def rate(self, counter: str, levels: list[int], *, at: datetime, officer: str | None = "CB001",
             harassment: bool | None = None, comment: str | None = None, is_test: bool = False,
             repeat: bool = False, received_at: datetime | None = None) -> list[str]:
        """Rating rows at one counter, one per level, `at` (a second apart); their uuids."""
        device_id = self.devices[counter]
        with writing(self.engine) as conn:
            counter_pk, agency_pk = conn.execute(select(DEVICE.c.counter_id, DEVICE.c.agency_id)
                                                 .where(DEVICE.c.id == device_id)).one()
            made = []
            for i, level in enumerate(levels):
                seq = self._seq[device_id] = self._seq.get(device_id, 0) + 1
                rating = str(uuid.uuid4())
                moment = at + timedelta(seconds=i)
                conn.execute(insert(RATING).values(
                    device_id=device_id, uuid=rating, seq=seq, agency_id=agency_pk, counter_id=counter_pk,
                    counter_code=counter, officer_code=officer, procedure_code=None, language="vi", level=level,
                    recorded_at=moment, received_at=received_at or utc_now(), suspected_repeat=repeat,
                    is_test=is_test, harassment=harassment, comment=comment))
                made.append(rating)
        return made

    def contact(self, counter: str, at: datetime | None) -> str:
        """Make the counter's device active, last heard from at `at`; its id."""
        device_id = self.devices[counter]
        with writing(self.engine) as conn:
            conn.execute(update(DEVICE).where(DEVICE.c.id == device_id).values(
                status="active", enrolled_at=(at or utc_now()) - timedelta(days=30), last_contact_at=at,
                hostname=f"kiosk-{counter.lower()}"))
        return device_id


def make_place(engine: Engine, agency: str = "HK", counters: tuple[str, ...] = ("Q01", "Q02")) -> Place:
    """Register an agency (Vietnamese names), its counters, two officers and one device per counter."""
    registry.add_agency(engine, agency, {"name": f"Trung tâm Phục vụ hành chính công xã Hà Khê {agency}",
                                         "parent": "Tỉnh Thử nghiệm"}, exist_ok=True)
    place = Place(engine, agency)
    for code in counters:
        registry.add_counter(engine, agency, code, f"Quầy Tư pháp – Hộ tịch {code}", [], exist_ok=True)
        place.devices[code] = enrolment.add_device(engine, agency, code, timedelta(hours=1)).device_id
    registry.add_officer(engine, agency, "CB001", "Nguyễn Thị Hồng Nhung", "Công chức Tư pháp")
    registry.add_officer(engine, agency, "CB002", "Trần Văn Đức")
    return place


@pytest.fixture
def server_engine(server_db_url: str) -> Iterator[Engine]:
    """A fresh, migrated server database (SQLite and PostgreSQL)."""
    made = open_database(server_db_url)
    yield made
    made.dispose()


def events(engine: Engine) -> list[Any]:
    """Every alert_event row, oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(select(ALERT_EVENT).order_by(ALERT_EVENT.c.id)).all())
