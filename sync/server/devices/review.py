"""IT's review of a kiosk whose rating chain is not intact (`kiosk-server device review`).

Until IT has looked, the ratings of such a kiosk are counted apart in every report (unverified). The review
records who looked and when: the ratings the server held from the kiosk at that moment count again, and anything
received later waits for the next review (sync.server.results.scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from sync.server.db import utc_now, writing
from sync.server.errors import ReportError
from sync.server.models import DEVICE


@dataclass(frozen=True)
class Review:
    """What `review_device` did."""

    device_id: str
    chain_state: str
    reviewed_at: datetime
    reviewed_by: str


def review_device(engine: Engine, device_id: str, reviewed_by: str, now: datetime | None = None) -> Review:
    """Mark a device with a broken (or gapped) chain as looked at by IT: its ratings held so far count again."""
    reviewed_by = " ".join(reviewed_by.split())[:64]
    if not reviewed_by:
        raise ReportError("Cần ghi tên người xem xét", "the reviewer's name is needed")
    moment = now or utc_now()
    with writing(engine) as conn:
        row = conn.execute(select(DEVICE.c.chain_state).where(DEVICE.c.id == device_id)).first()
        if row is None:
            raise ReportError(f"Không có thiết bị {device_id!r}", f"no device {device_id!r}")
        if row.chain_state == "intact":
            raise ReportError(f"Chuỗi đánh giá của thiết bị {device_id} nguyên vẹn: không có gì cần xem xét",
                              f"the rating chain of device {device_id} is intact: there is nothing to review")
        conn.execute(update(DEVICE).where(DEVICE.c.id == device_id).values(chain_reviewed_at=moment,
                                                                           chain_reviewed_by=reviewed_by))
    return Review(device_id, str(row.chain_state), moment, reviewed_by)
