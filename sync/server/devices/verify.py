"""Walk again the chains the server holds (`kiosk-server device verify`): every stored record of a device, linked,
hashed and signed, against the public key it was enrolled with (or, for the server's own web and paper devices,
the key only the server's secret can make).

The push checks each record once, as it arrives; this finds what changed in the database afterwards: a record
edited, removed or inserted there no longer verifies, for kiosks and for the web and paper channels alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from kiosk.domain import chain
from kiosk.domain.keys import load_public_key
from sync.server.db import reading
from sync.server.errors import ServerError
from sync.server.models import DEVICE, RECORD

_SIGNED = [RECORD.c[name] for name in (*chain.SIGNED_FIELDS, "hash", "signature")]


@dataclass(frozen=True)
class Verified:
    """One device's stored chain as walked again: how many records, and the first bad one (if any) and why."""

    device_id: str
    channel: str
    records: int
    first_bad_seq: int | None
    problem_vi: str
    problem_en: str

    @property
    def ok(self) -> bool:
        """True when every stored record verified."""
        return self.first_bad_seq is None


def _records(conn: Connection, device_id: str) -> Iterator[dict[str, object]]:
    rows = conn.execute(select(*_SIGNED).where(RECORD.c.device_id == device_id).order_by(RECORD.c.seq))
    for row in rows:
        yield dict(row._mapping)


def verify(engine: Engine, device_id: str | None = None) -> list[Verified]:
    """Every device's stored chain walked again (or one device's); a ServerError for an unknown device."""
    found = []
    with reading(engine) as conn:
        query = select(DEVICE.c.id, DEVICE.c.channel, DEVICE.c.public_key, DEVICE.c.acked_seq, DEVICE.c.acked_hash)
        if device_id is not None:
            query = query.where(DEVICE.c.id == device_id)
        devices = conn.execute(query.order_by(DEVICE.c.id)).all()
        if device_id is not None and not devices:
            raise ServerError(f"Không có thiết bị {device_id!r}", f"no device {device_id!r}")
        for device in devices:
            if device.public_key is None:   # registered, never enrolled: nothing stored
                found.append(Verified(str(device.id), str(device.channel), 0, None, "", ""))
                continue
            report = chain.verify(_records(conn, str(device.id)), load_public_key(str(device.public_key)),
                                  (int(device.acked_seq), str(device.acked_hash)) if device.acked_seq else None)
            found.append(Verified(str(device.id), str(device.channel), report.count, report.first_bad_seq,
                                  report.problem_vi, report.problem_en))
    return found
