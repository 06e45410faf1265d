"""Health: what the device says about itself at the end of a pass, and the clock drift the server measured."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime

from kiosk import __version__, state
from sync import protocol
from sync.agent.client import SyncClient
from sync.agent.device import Device


def printer_state(device: Device) -> tuple[protocol.PrinterState, str]:
    """The printer's state and fault for the report, from the faults the printer keeps in device_state."""
    printer = device.printer
    if not printer.enabled:
        return "none", ""
    fault = printer.fault()
    if fault is None:
        return "ok", ""
    return "fault", f"{fault.since}: {fault.vi} / {fault.en}"[:500]


def catalog_version(device: Device) -> str:
    """The server's version of the catalog in use, else the local import it came from."""
    pulled = device.state.get(state.CATALOG_VERSION)
    if pulled:
        return pulled
    local = device.catalog.version()
    return f"local:{local.id}" if local else ""


def build_report(device: Device, device_time: datetime, last_error: str = "") -> protocol.HealthReport:
    """The health report as of now; `device_time` is the device's own clock, uncorrected."""
    stored = device.state.get_many(state.HEAD_SEQ, state.HEAD_HASH, state.ACKED_SEQ, state.SETTINGS_VERSION)
    head = int(stored[state.HEAD_SEQ] or 0)
    head_hash = stored[state.HEAD_HASH] or ""
    acked = int(stored[state.ACKED_SEQ] or 0)
    printer, fault = printer_state(device)
    return protocol.HealthReport(
        app_version=__version__, queue_depth=max(head - acked, 0), head_seq=head, head_hash=head_hash,
        acked_seq=acked, disk_free_bytes=shutil.disk_usage(device.data_dir).free,
        printer_state=printer, printer_fault=fault, device_time=device_time,
        catalog_version=catalog_version(device), settings_version=stored[state.SETTINGS_VERSION] or "",
        last_error=last_error[:500])


def report_health(client: SyncClient, device: Device, last_error: str = "",
                  clock: Callable[[], float] | None = None) -> protocol.HealthResponse:
    """Send the report and keep the drift the server measured (shown by status and staff mode)."""
    device_clock = clock or client.clock
    report = build_report(device, datetime.fromtimestamp(device_clock(), UTC), last_error)
    answer = client.post_json(protocol.HEALTH_PATH, report, protocol.HealthResponse,
                              "Câu trả lời của máy chủ cho báo cáo tình trạng không đúng giao thức",
                              "The server's answer to the health report is outside the protocol")
    device.state.put_many({state.CLOCK_DRIFT: f"{answer.clock_drift_s:.1f}",
                           state.CLOCK_FLAGGED: "1" if answer.clock_flagged else "0"})
    return answer
