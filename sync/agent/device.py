"""This device's enrolment as the agent keeps it in device_state, and a client to its server."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk import state
from kiosk.services import Services
from kiosk.settings import ca_file_path
from sync.agent.client import Budget, RetryPolicy, SyncClient
from sync.agent.errors import E_NOT_ENROLLED, SyncError


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


def enrolment(services: Services) -> Enrolment | None:
    """The stored enrolment, or None before `kiosk-sync enroll`."""
    with services.database.reading() as con:
        url, device_id = state.get(con, state.SERVER_URL), state.get(con, state.SERVER_DEVICE_ID)
    return Enrolment(url, device_id) if url and device_id else None


def require_enrolment(services: Services) -> Enrolment:
    """The stored enrolment; a clear error saying how to enrol when there is none."""
    found = enrolment(services)
    if found is None:
        raise SyncError(E_NOT_ENROLLED, "Máy này chưa đăng ký với máy chủ: chạy «kiosk-sync enroll --server URL "
                        "--code MÃ» (mã do CNTT cấp) hoặc đăng ký trong chế độ nhân viên",
                        "This device is not enrolled with a server: run 'kiosk-sync enroll --server URL --code CODE' "
                        "(the code comes from IT) or enrol from staff mode")
    return found


def make_client(services: Services, server_url: str, device_id: str, budget: Budget,
                tuning: Tuning | None = None) -> SyncClient:
    """A client to `server_url` signing as `device_id`, with the settings' CA file, timeout and stored offset."""
    tuning = tuning or Tuning()
    offset = services.state.get(state.CLOCK_OFFSET)
    return SyncClient(server_url, services.key, device_id, budget=budget, ca_file=ca_file_path(services.settings),
                      timeout_s=services.settings.sync.timeout_s, retry=tuning.retry, clock=tuning.clock,
                      offset_s=float(offset) if offset else 0.0, rng=tuning.rng, sleep=tuning.sleep)
