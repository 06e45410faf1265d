"""Runs the real central server for sync tests: a `kiosk-server run` process on 127.0.0.1, and its CLI.

Used by the server's own tests and by the agent's. The interface is stable: `free_port`, `start_server`,
`ServerHandle` (`url`, `db_url`, `data_dir`, `start`, `stop`, `kill`, `cli`, `add_device`), plus helpers that
build a real device (its key and rating log) and sign requests the way the protocol says.
"""

from __future__ import annotations

import gzip
import json
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine

from kiosk.db import Database, prepare
from kiosk.domain.chain import GENESIS_HASH, SIGNED_FIELDS, canonical, record_hash
from kiosk.domain.keys import DeviceKey, public_key_b64
from kiosk.ratings import RatingLog
from sync import protocol
from sync.server.admin import fleet
from sync.server.db import utc_now
from sync.server.process import ServerProcess, free_port


@dataclass
class ServerHandle(ServerProcess):
    """A running server with the conveniences the tests use: devices registered, enrolled and looked at."""

    _places: set[tuple[str, str]] = field(default_factory=set)

    def add_device(self, agency_code: str = "HK", counter_code: str = "Q01") -> dict[str, Any]:
        """Register a device (making the agency and counter if missing); its record and one-time code.

        The dict has at least "device_id" and "code" (see `kiosk-server device add --json`).
        """
        if (agency_code, counter_code) not in self._places:
            self.cli_ok("agency", "add", "--code", agency_code, "--exist-ok",
                        "--name", f"Trung tâm Phục vụ hành chính công {agency_code}",
                        "--parent", "Tỉnh Thử nghiệm", "--hotline", "1900 0000",
                        "--complaint-address", "Số 1 đường Thử nghiệm")
            self.cli_ok("counter", "add", "--agency", agency_code, "--code", counter_code, "--exist-ok",
                        "--name", f"Quầy {counter_code}")
            self._places.add((agency_code, counter_code))
        result: dict[str, Any] = json.loads(self.cli_ok("device", "add", "--agency", agency_code,
                                                        "--counter", counter_code, "--json").stdout)
        return result

    def enrolled_device(self, directory: Path, agency_code: str = "HK",
                        counter_code: str = "Q01") -> tuple[Device, str]:
        """A new real device in `directory`, registered and enrolled over HTTP; (the device, its server ID)."""
        made = self.register_device(agency_code, counter_code)
        device = Device.create(directory)
        answer = enroll(self.url, device, made["code"])
        if answer.status_code != 200:
            raise RuntimeError(f"enrolment failed: {answer.status_code} {answer.text}")
        return device, str(made["device_id"])

    def fleet_row(self, device_id: str) -> dict[str, Any]:
        """One device as the fleet page sees it (through the server's own code, in this process)."""
        rows = fleet.fleet(self.engine(), utc_now(), timedelta(hours=24))
        return next(row.as_json() for row in rows if row.device_id == device_id)

    def fleet(self) -> list[dict[str, Any]]:
        """The fleet as `kiosk-server fleet --json` prints it."""
        devices: list[dict[str, Any]] = json.loads(self.cli_ok("fleet", "--json").stdout)
        return devices


def start_server(db_url: str, data_dir: Path, port: int | None = None, *, config: Path | None = None,
                 env: Mapping[str, str] | None = None) -> ServerHandle:
    """Start a real `kiosk-server run` process on 127.0.0.1 and wait until it answers."""
    handle = ServerHandle(db_url, data_dir, port or free_port(), config, dict(env or {}))
    handle.start()
    return handle


# ---- a real device, and requests signed as the protocol says ------------------------------------------------

@dataclass
class Device:
    """A real kiosk's data: its key and signed rating log in a data directory (no Kivy)."""

    data_dir: Path
    key: DeviceKey
    database: Database
    log: RatingLog

    @classmethod
    def create(cls, data_dir: Path) -> Device:
        """A fresh device database and key in `data_dir`."""
        data_dir.mkdir(parents=True, exist_ok=True)
        key = DeviceKey.load_or_create(data_dir / "device_key.pem")
        database = prepare(data_dir / "kiosk.db")
        return cls(data_dir, key, database, RatingLog(database, key, repeat_window_s=0))

    @property
    def local_uuid(self) -> str:
        """The kiosk's own device UUID (made on first run)."""
        return self.log.device_uuid

    @property
    def public_key(self) -> str:
        """The public key as base64, as enrolment sends it."""
        return public_key_b64(self.key.public_key)

    def rate(self, count: int, *, with_answers: bool = False, counter_id: str = "Q01",
             officer_id: str | None = "CB001") -> list[str]:
        """Record `count` ratings (levels cycling 5..1), optionally each with answers; their uuids."""
        uuids = []
        for i in range(count):
            receipt = self.log.record_rating(5 - i % 5, counter_id=counter_id, officer_id=officer_id,
                                             language="vi")
            if with_answers:
                self.log.record_answer(receipt.uuid, "access", 4)
                self.log.record_answer(receipt.uuid, "harassment", 0)
                self.log.record_comment(receipt.uuid, "Cán bộ nhiệt tình")
            uuids.append(receipt.uuid)
        return uuids

    def records(self, after_seq: int = 0) -> list[dict[str, Any]]:
        """The log's records after `after_seq`, as the wire carries them."""
        with self.database.reading() as conn:
            return [wire_record(r) for r in self.log.records(conn, after_seq)]

    def close(self) -> None:
        """Release the database."""
        self.log.close()
        self.database.close()


def wire_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A log row as a protocol.Record dict (only the fields the protocol carries)."""
    return {name: row[name] for name in protocol.Record.model_fields}


def signed_chain(key: DeviceKey, records: Sequence[Mapping[str, Any]], *, after: Mapping[str, Any] | None = None
                 ) -> list[dict[str, Any]]:
    """Records made by hand (any fields, any values, as a faulty or foreign client might write them), numbered,
    linked, hashed and signed by `key` exactly as a kiosk would: continuing the chain after `after`, if given."""
    seq, previous = (int(after["seq"]), str(after["hash"])) if after else (0, GENESIS_HASH)
    made = []
    for fields in records:
        seq += 1
        record: dict[str, Any] = dict.fromkeys(SIGNED_FIELDS)
        record.update(suspected_repeat=False, is_test=False, uuid=str(uuid.uuid4()))
        record.update(fields)
        record.update(seq=seq, prev_hash=previous)
        record["hash"] = record_hash(record)
        record["signature"] = key.sign(canonical(record))
        previous = record["hash"]
        made.append(record)
    return made


def sign_headers(key: DeviceKey, device: str, method: str, path: str, body: bytes, *,
                 timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The four signing headers for one request, as protocol.signing_input defines them."""
    ts = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_hex(16)
    signature = key.sign(protocol.signing_input(method, path, ts, nonce, body))
    return {protocol.H_DEVICE: device, protocol.H_TIMESTAMP: str(ts), protocol.H_NONCE: nonce,
            protocol.H_SIGNATURE: signature}


def signed_request(base_url: str, key: DeviceKey, device: str, method: str, path: str,
                   payload: Any = None, *, raw: bytes | None = None, gzip_body: bool = False,
                   headers: Mapping[str, str] | None = None, timestamp: int | None = None,
                   nonce: str | None = None, timeout: float = 30) -> requests.Response:
    """Send one signed request: JSON `payload` (or `raw` bytes), gzip-compressed when asked."""
    body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode("utf-8"))
    all_headers: dict[str, str] = {}
    if payload is not None or raw is not None:
        all_headers["Content-Type"] = "application/json"
    if gzip_body:
        body = gzip.compress(body)
        all_headers["Content-Encoding"] = "gzip"
    all_headers.update(sign_headers(key, device, method, path, body, timestamp=timestamp, nonce=nonce))
    all_headers.update(headers or {})
    return requests.request(method, base_url + path, data=body if body else None, headers=all_headers,
                            timeout=timeout)


def enroll(base_url: str, device: Device, code: str) -> requests.Response:
    """Enrol the device with a one-time code (signed with its local UUID, proving it holds the key)."""
    payload = {"code": code, "public_key": device.public_key, "device_uuid": device.local_uuid,
               "app_version": "test", "hostname": "kiosk-test"}
    return signed_request(base_url, device.key, device.local_uuid, "POST", protocol.ENROLL_PATH, payload)


def push(base_url: str, device: Device, device_id: str, records: Sequence[Mapping[str, Any]],
         **kwargs: Any) -> requests.Response:
    """Push records (gzip-compressed, as the agent does)."""
    payload = {"device_id": device_id, "records": list(records)}
    return signed_request(base_url, device.key, device_id, "POST", protocol.PUSH_PATH, payload,
                          gzip_body=True, **kwargs)


def times_as_before_0006(engine: Engine) -> None:
    """SQLite: turn the integer times today's code wrote into a database at an older revision (seeded with
    today's code) into the text the server of that revision wrote, as if it had stored them itself."""
    if engine.dialect.name != "sqlite":
        return
    import importlib

    from sqlalchemy import inspect, text

    from sync.server.db import writing

    revision = importlib.import_module("sync.server.migrations.versions.0006_times")
    tables = set(inspect(engine).get_table_names())
    with writing(engine) as conn:
        for table, columns in revision.TIME_COLUMNS.items():
            present = {c["name"] for c in inspect(conn).get_columns(table)} if table in tables else set()
            for column in columns:
                if column in present:
                    conn.execute(text(f"UPDATE {table} SET {column} = {revision._sqlite_text(column)} "
                                      f"WHERE typeof({column}) = 'integer'"))
