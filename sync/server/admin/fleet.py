"""The fleet: every device with where it stands, and which need IT's attention (silent, broken chain, wrong clock)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from sync.server.db import reading
from sync.server.models import AGENCY, COUNTER, DEVICE


@dataclass(frozen=True)
class Alert:
    """Why a device stands out: a stable code for scripts, a word for people in both languages."""

    code: str  # silent, chain_broken, chain_gap, clock
    vi: str
    en: str


@dataclass(frozen=True)
class FleetDevice:
    """One row of the fleet page."""

    device_id: str
    status: str
    agency_code: str
    agency_name: str
    counter_code: str
    counter_name: str
    hostname: str
    enrolled_at: datetime | None
    last_contact_at: datetime | None
    last_push_at: datetime | None
    acked_seq: int
    queue_depth: int | None
    app_version: str
    printer_state: str
    printer_fault: str
    chain_state: str
    first_bad_seq: int | None
    problem_vi: str
    problem_en: str
    clock_drift_s: float | None
    clock_flagged: bool
    silent_for_h: float | None
    alerts: list[Alert] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


def _alerts(row: Any, now: datetime, silent_after: timedelta) -> tuple[list[Alert], float | None]:
    alerts: list[Alert] = []
    if row.status != "active":
        return alerts, None
    since = row.last_contact_at or row.enrolled_at
    silent_for = (now - since) if since else None
    if silent_for is not None and silent_for > silent_after:
        hours = silent_for.total_seconds() / 3600
        alerts.append(Alert("silent", f"IM LẶNG {hours:.0f} giờ", f"SILENT for {hours:.0f} h"))
    if row.chain_state == "broken":
        alerts.append(Alert("chain_broken", f"CHUỖI HỎNG từ số {row.first_bad_seq}",
                            f"CHAIN BROKEN at {row.first_bad_seq}"))
    elif row.chain_state == "gap":
        alerts.append(Alert("chain_gap", f"THIẾU BẢN GHI từ số {row.first_bad_seq}",
                            f"GAP from {row.first_bad_seq}"))
    if row.clock_flagged:
        alerts.append(Alert("clock", f"LỆCH GIỜ {row.clock_drift_s:+.0f} giây",
                            f"CLOCK off by {row.clock_drift_s:+.0f} s"))
    return alerts, None if silent_for is None else silent_for.total_seconds() / 3600


def fleet(engine: Engine, now: datetime, silent_after: timedelta) -> list[FleetDevice]:
    """Every device, those needing attention first, then by agency and counter."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(DEVICE, AGENCY.c.code.label("agency_code"), AGENCY.c.name.label("agency_name"),
                   COUNTER.c.code.label("counter_code"), COUNTER.c.name.label("counter_name"))
            .select_from(DEVICE.join(AGENCY, AGENCY.c.id == DEVICE.c.agency_id)
                         .join(COUNTER, COUNTER.c.id == DEVICE.c.counter_id))
            # The kiosks: the server's own web and paper devices make no contact to watch.
            .where(DEVICE.c.channel == "kiosk")).all()
    devices = []
    for row in rows:
        alerts, silent_for = _alerts(row, now, silent_after)
        devices.append(FleetDevice(
            row.id, row.status, row.agency_code, row.agency_name, row.counter_code, row.counter_name, row.hostname,
            row.enrolled_at, row.last_contact_at, row.last_push_at, row.acked_seq, row.queue_depth,
            row.app_version, row.printer_state, row.printer_fault, row.chain_state, row.first_bad_seq,
            row.problem_vi, row.problem_en, row.clock_drift_s, bool(row.clock_flagged),
            None if silent_for is None else round(silent_for, 2), alerts))
    order = {"active": 0, "pending": 1, "revoked": 2}
    devices.sort(key=lambda d: (not d.alerts, order.get(d.status, 3), d.agency_code,
                                d.counter_code, d.device_id))
    return devices
