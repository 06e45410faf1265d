"""What the agent needs of the kiosk it runs on, this device's enrolment as kept in device_state, and a client
to its server."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk import state
from kiosk.settings import Settings, ca_file_path
from sync.agent.client import Budget, RetryPolicy, SyncClient
from sync.agent.errors import E_NOT_ENROLLED, SyncError

if TYPE_CHECKING:
    from kiosk.catalog import Catalog
    from kiosk.domain.keys import DeviceKey
    from kiosk.printing import SlipPrinter
    from kiosk.ratings import RatingLog
    from kiosk.state import DeviceState


class Device(Protocol):
    """The parts of the kiosk the agent works with; the kiosk's services are one, handed in by the caller."""

    @property
    def settings(self) -> Settings:
        """The settings in force: [sync] gives the budget, timeouts and CA file."""

    @property
    def file_settings(self) -> Settings | None:
        """The settings file as read, which settings pulled from the server are checked against."""

    @property
    def data_dir(self) -> Path:
        """The data directory: the sync lock, the free disk reported, the catalog download's temporary file."""

    @property
    def key(self) -> DeviceKey:
        """The device key every request and the enrolment are signed with."""

    @property
    def state(self) -> DeviceState:
        """The device facts the agent reads and writes: enrolment, acknowledged number, versions, outcome."""

    @property
    def ratings(self) -> RatingLog:
        """The rating log: the device's UUID and the records to push."""

    @property
    def printer(self) -> SlipPrinter:
        """The printer, whose state goes into the health report."""

    @property
    def catalog(self) -> Catalog:
        """The procedure catalog: its version for the health report, and the importer for a pulled one."""


@dataclass(frozen=True)
class Enrolment:
    """The server this device enrolled with and the ID it was given."""

    server_url: str
    device_id: str


@dataclass(frozen=True)
class Tuning:
    """What tests and benchmarks may change about a client: its clock, retries and waits."""

    clock: Callable[[], float] = time.time
    retry: RetryPolicy | None = None
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None


def utc_iso(moment: float | None = None) -> str:
    """UTC ISO 8601 with seconds and a Z."""
    when = datetime.now(UTC) if moment is None else datetime.fromtimestamp(moment, UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def enrolment(device: Device) -> Enrolment | None:
    """The stored enrolment, or None before `kiosk-sync enroll`."""
    stored = device.state.get_many(state.SERVER_URL, state.SERVER_DEVICE_ID)
    url, device_id = stored[state.SERVER_URL], stored[state.SERVER_DEVICE_ID]
    return Enrolment(url, device_id) if url and device_id else None


def require_enrolment(device: Device) -> Enrolment:
    """The stored enrolment; a clear error saying how to enrol when there is none."""
    found = enrolment(device)
    if found is None:
        raise SyncError(E_NOT_ENROLLED, "Máy này chưa đăng ký với máy chủ: chạy «kiosk-sync enroll --server URL "
                        "--code MÃ» (mã do CNTT cấp) hoặc đăng ký trong chế độ nhân viên",
                        "This device is not enrolled with a server: run 'kiosk-sync enroll --server URL --code CODE' "
                        "(the code comes from IT) or enrol from staff mode")
    return found


def make_client(device: Device, server_url: str, device_id: str, budget: Budget,
                tuning: Tuning | None = None) -> SyncClient:
    """A client to `server_url` signing as `device_id`, with the settings' CA file, timeout and stored offset."""
    tuning = tuning or Tuning()
    offset = device.state.get(state.CLOCK_OFFSET)
    return SyncClient(server_url, device.key, device_id, budget=budget, ca_file=ca_file_path(device.settings),
                      timeout_s=device.settings.sync.timeout_s, retry=tuning.retry, clock=tuning.clock,
                      offset_s=float(offset) if offset else 0.0, rng=tuning.rng, sleep=tuning.sleep)
