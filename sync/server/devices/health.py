"""Device health reports: kept as history, the latest copied onto the device row, the clock drift measured."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, update

from sync import protocol
from sync.server.db import writing
from sync.server.errors import ApiError
from sync.server.models import DEVICE, HEALTH


def drift_seconds(device_time: datetime, received_at: datetime) -> float:
    """How far the device's clock is ahead (+) or behind (-) the server's; a time without zone is read as UTC."""
    moment = device_time.replace(tzinfo=UTC) if device_time.tzinfo is None else device_time
    return (moment - received_at).total_seconds()


def record(engine: Engine, device_id: str, report: protocol.HealthReport, received_at: datetime,
           flag_after_s: float) -> protocol.HealthResponse:
    """Store one report and answer with the server's clock and its reading of the device's."""
    try:
        device_time = report.device_time.replace(tzinfo=UTC) if report.device_time.tzinfo is None \
            else report.device_time.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiError(422, protocol.E_MALFORMED, "device_time nằm ngoài khoảng thời gian đọc được",
                       "device_time is outside the range of readable times") from None
    drift = drift_seconds(device_time, received_at)
    flagged = abs(drift) > flag_after_s
    latest = {
        "app_version": report.app_version, "queue_depth": report.queue_depth, "head_seq": report.head_seq,
        "disk_free_bytes": report.disk_free_bytes, "printer_state": report.printer_state,
        "printer_fault": report.printer_fault, "catalog_version": report.catalog_version,
        "settings_version": report.settings_version, "last_error": report.last_error,
        "clock_drift_s": drift, "clock_flagged": flagged,
    }
    with writing(engine) as conn:
        conn.execute(insert(HEALTH).values(device_id=device_id, received_at=received_at, device_time=device_time,
                                           head_hash=report.head_hash, acked_seq=report.acked_seq, **latest))
        conn.execute(update(DEVICE).where(DEVICE.c.id == device_id).values(health_at=received_at,
                                                                           clock_drift_at=received_at, **latest))
    return protocol.HealthResponse(server_time=received_at, clock_drift_s=round(drift, 3), clock_flagged=flagged)
