"""Helpers for the agent's end-to-end tests (no tests here): a real kiosk data directory, the agent run in
process or as a `kiosk-sync` process, and what the real server holds, read from its own database."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from kiosk import state
from kiosk.services import Services
from kiosk.settings import Settings, load
from sync.agent.client import RetryPolicy
from sync.agent.device import Tuning
from sync.agent.enroll import enroll
from sync.agent.run import PassResult, run_pass
from tests.conftest import EXAMPLE_CONFIG, ROOT
from tests.sync_harness import ServerHandle

# Quick retries: a test waits tenths of a second where a kiosk would wait seconds.
FAST = Tuning(retry=RetryPolicy(attempts=8, base_s=0.05, cap_s=0.4))


def kiosk_settings(**sync: Any) -> Settings:
    """The example settings with some [sync] values changed."""
    settings = load(EXAMPLE_CONFIG)
    return dataclasses.replace(settings, sync=dataclasses.replace(settings.sync, **sync)) if sync else settings


@dataclasses.dataclass
class Kiosk:
    """A real kiosk's data directory with its services open (the same ones the app and `kiosk` use)."""

    data_dir: Path
    services: Services

    @classmethod
    def create(cls, data_dir: Path, settings: Settings | None = None) -> Kiosk:
        """A fresh kiosk: new database, new device key."""
        return cls(data_dir, Services.open(settings or kiosk_settings(), data_dir))

    def reopen(self, settings: Settings | None = None) -> None:
        """Close and open the services again (as a restarted app would)."""
        self.services.close()
        self.services = Services.open(settings or self.services.file_settings or kiosk_settings(), self.data_dir)

    def rate(self, count: int, *, answers: bool = False) -> None:
        """Record `count` ratings through the real rating log, with follow-up answers if asked."""
        log = self.services.ratings
        for i in range(count):
            receipt = log.record_rating(5 - i % 5, counter_id="Q01", officer_id="CB001", language="vi")
            if answers:
                log.record_answer(receipt.uuid, "access", 4)
                log.record_comment(receipt.uuid, f"Cán bộ hướng dẫn tận tình, lần {i}")

    def enroll(self, server: ServerHandle, url: str | None = None) -> str:
        """Enrol with the server through the agent; the device ID."""
        device = server.add_device()
        answer = enroll(self.services, url or server.url, device["code"], tuning=FAST)
        assert answer.device_id == device["device_id"]
        return answer.device_id

    def sync(self, **kwargs: Any) -> PassResult:
        """One pass in this process, with quick retries."""
        kwargs.setdefault("tuning", FAST)
        return run_pass(self.services, **kwargs)

    def chain(self) -> list[tuple[int, str]]:
        """(seq, hash) of every record on the device."""
        con = sqlite3.connect(self.services.database.path)
        try:
            return [(int(seq), str(digest)) for seq, digest in con.execute("SELECT seq, hash FROM log ORDER BY seq")]
        finally:
            con.close()

    def acked(self) -> int:
        """The server's number as the device stored it."""
        return int(self.services.state.get(state.ACKED_SEQ) or 0)

    def tamper(self, *statements: str, params: tuple[Any, ...] = ()) -> None:
        """Change the log behind the app's back, as someone with the file would (triggers dropped first)."""
        con = sqlite3.connect(self.services.database.path)
        try:
            con.execute("DROP TRIGGER IF EXISTS log_append_only_update")
            con.execute("DROP TRIGGER IF EXISTS log_append_only_delete")
            for statement in statements:
                con.execute(statement, params if "?" in statement else ())
            con.commit()
        finally:
            con.close()

    def close(self) -> None:
        """Release the database."""
        self.services.close()


@contextmanager
def kiosk(data_dir: Path, settings: Settings | None = None) -> Iterator[Kiosk]:
    """A Kiosk closed afterwards."""
    made = Kiosk.create(data_dir, settings)
    try:
        yield made
    finally:
        made.close()


def agent_command(data_dir: Path, *args: str, config: Path = EXAMPLE_CONFIG) -> list[str]:
    """`kiosk-sync` as a real process, the way the systemd unit runs it."""
    return [sys.executable, "-m", "sync.agent.cli", "--config", str(config), "--data-dir", str(data_dir), *args]


def agent_env() -> dict[str, str]:
    """The test's environment, with the repository importable and no settings pointing elsewhere."""
    env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_CONFIG", "KIOSK_DATA_DIR")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_agent(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `kiosk-sync` to the end; its exit code and output."""
    return subprocess.run(agent_command(data_dir, *args), capture_output=True, text=True, timeout=timeout,
                          env=agent_env(), check=False)


def start_agent(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    """Start `kiosk-sync` and return at once."""
    return subprocess.Popen(agent_command(data_dir, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=agent_env())


def server_chain(server: ServerHandle, device_id: str) -> list[tuple[int, str]]:
    """(seq, hash) of every record the server stored for the device, read from the server's database."""
    engine = create_engine(server.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT seq, hash FROM record WHERE device_id = :d ORDER BY seq"),
                                {"d": device_id}).all()
    finally:
        engine.dispose()
    return [(int(seq), str(digest)) for seq, digest in rows]


def fleet_row(server: ServerHandle, device_id: str) -> dict[str, Any]:
    """The device's row of `kiosk-server fleet --json`."""
    return next(row for row in server.fleet() if row["device_id"] == device_id)


def assert_exactly_once(server: ServerHandle, device: Kiosk, device_id: str) -> None:
    """Every record of the device on the server, once, with the same hashes, and the chain intact."""
    on_device, on_server = device.chain(), server_chain(server, device_id)
    assert on_server == on_device, (len(on_server), len(on_device))
    assert len({seq for seq, _ in on_server}) == len(on_server)
    row = fleet_row(server, device_id)
    assert row["acked_seq"] == len(on_device) and row["chain_state"] == "intact"
    assert device.acked() == len(on_device)
