"""One sync pass: push the records, pull settings and catalog, report health; remember how it went.

Every step runs even when an earlier one was refused (a broken chain must not keep new settings or the
health report from arriving), except after a failure that means the server cannot be reached or will not
talk to this device at all. The pass records when it started, when it last fully succeeded and its first
error, in device_state, where staff mode and `kiosk-sync status` read them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from kiosk import state
from kiosk.sync_status import last_error_value
from sync import protocol
from sync.agent import health, pull, push
from sync.agent.client import Budget, SyncClient
from sync.agent.device import Device, Tuning, make_client, require_enrolment, utc_iso
from sync.agent.errors import STOP_CODES, SyncError
from sync.agent.lock import pass_lock
from sync.agent.progress import Progress, QuietProgress

T = TypeVar("T")


@dataclass
class PassResult:
    """What one pass did, and every error it met (empty when everything reached the server)."""

    started_at: str
    push: push.PushResult | None = None
    settings_changed: bool = False
    catalog: pull.CatalogPull | None = None
    health: protocol.HealthResponse | None = None
    errors: list[SyncError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every step reached the server and was accepted."""
        return not self.errors


def run_pass(device: Device, *, budget_s: float | None = None, progress: Progress | None = None,
             tuning: Tuning | None = None) -> PassResult:
    """Push, pull and report health once, within the budget; never raises a SyncError (it is in the result)."""
    tuning = tuning or Tuning()
    progress = progress or QuietProgress()
    result = PassResult(started_at=utc_iso(tuning.clock()))
    device.state.put(state.LAST_ATTEMPT, result.started_at)
    client: SyncClient | None = None
    try:
        enrolled = require_enrolment(device)
        budget = Budget(budget_s if budget_s is not None else device.settings.sync.budget_s)
        client = make_client(device, enrolled.server_url, enrolled.device_id, budget, tuning)
    except SyncError as exc:
        result.errors.append(exc)
        _remember(device, result, client, tuning)
        return result
    try:
        progress.step("Đang gửi các đánh giá…", "Pushing ratings…")
        result.push = _step(result, lambda: push.push(client, device, progress))
        if not _stopped(result):
            progress.step("Đang lấy cài đặt và danh mục…", "Pulling settings and catalog…")
            result.settings_changed = bool(_step(result, lambda: pull.pull_settings(client, device)))
        if not _stopped(result):
            result.catalog = _step(result, lambda: pull.pull_catalog(client, device))
        if not _stopped(result):
            progress.step("Đang báo cáo tình trạng…", "Reporting health…")
            first = result.errors[0] if result.errors else None
            last_error = f"{first.code}: {first.en}" if first else ""
            result.health = _step(result, lambda: health.report_health(client, device, last_error,
                                                                       tuning.clock))
    finally:
        client.close()
        _remember(device, result, client, tuning)
    return result


def locked_pass(device: Device, *, budget_s: float | None = None, progress: Progress | None = None,
                tuning: Tuning | None = None) -> PassResult:
    """run_pass under the device's sync lock; raises lock.PassRunning at once when another pass holds it."""
    with pass_lock(device.data_dir):
        return run_pass(device, budget_s=budget_s, progress=progress, tuning=tuning)


def _step(result: PassResult, action: Callable[[], T]) -> T | None:
    try:
        return action()
    except SyncError as exc:
        result.errors.append(exc)
        return None


def _stopped(result: PassResult) -> bool:
    return any(error.code in STOP_CODES for error in result.errors)


def _remember(device: Device, result: PassResult, client: SyncClient | None, tuning: Tuning) -> None:
    """Keep the pass's outcome (and a clock offset it learnt) for status, staff mode and the next pass."""
    facts: dict[str, str] = {}
    if client is not None and client.offset_learnt:
        facts[state.CLOCK_OFFSET] = f"{client.offset_s:.3f}"
    if result.ok:
        facts.update({state.LAST_SUCCESS: utc_iso(tuning.clock()), state.LAST_ERROR: ""})
    else:
        first = result.errors[0]
        facts[state.LAST_ERROR] = last_error_value(utc_iso(tuning.clock()), first.vi, first.en)
    device.state.put_many(facts)
