"""bulk.insert_rows stores exactly what SQLAlchemy Core's insert stores, keeps the totals, and fails the same way,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, exc, insert, select

from sync.server import bulk, db, registry
from sync.server.devices import enrolment
from sync.server.models import DEVICE, RATING, RECORD
from tests.test_server_reports_totals import assert_totals_exact


@pytest.fixture
def engine(server_db_url: str) -> Iterator[Engine]:
    """A migrated server database with one registered device."""
    made = db.open_database(server_db_url)
    registry.add_agency(made, "HK", {"name": "Trung tâm Phục vụ hành chính công xã Hòa Khánh"})
    registry.add_counter(made, "HK", "Q01", "Quầy 1", [])
    yield made
    made.dispose()


def _rows(device_id: str, agency_id: int, counter_id: int, first: int) -> list[dict[str, Any]]:
    hanoi = timezone(timedelta(hours=7))
    return [{
        "device_id": device_id, "uuid": f"00000000-0000-4000-8000-{first + i:012d}", "seq": first + i,
        "agency_id": agency_id, "counter_id": counter_id, "counter_code": "Q01",
        "officer_code": "CB001" if i % 2 else None, "procedure_code": "1.001193" if i == 1 else None,
        "language": "vi", "level": 1 + i % 5, "recorded_at": datetime(2025, 11, 30, 23, 59, 59, 999000, hanoi),
        "received_at": datetime(2025, 12, 1, tzinfo=UTC), "suspected_repeat": i == 2, "is_test": False,
        "harassment": True if i == 3 else None, "comment": "Cán bộ hướng dẫn tận tình; “ngoặc” \\ tab\t." if i else "",
        "q_access": 4 if i else None,
    } for i in range(4)]


def _stored(engine: Engine, first: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(RATING).where(RATING.c.seq.between(first, first + 3)).order_by(RATING.c.seq))
        return [{k: v for k, v in row._mapping.items() if k not in ("uuid", "seq")} for row in rows]


def _device(engine: Engine) -> tuple[str, int, int]:
    made = enrolment.add_device(engine, "HK", "Q01", timedelta(hours=1))
    with engine.connect() as conn:
        agency_id, counter_id = conn.execute(select(DEVICE.c.agency_id, DEVICE.c.counter_id)
                                             .where(DEVICE.c.id == made.device_id)).one()
    return made.device_id, agency_id, counter_id


def test_the_driver_stores_the_same_values_core_stores(engine: Engine) -> None:
    device_id, agency_id, counter_id = _device(engine)
    with db.writing(engine) as conn:
        conn.execute(insert(RATING), _rows(device_id, agency_id, counter_id, 1))
        bulk.insert_rows(conn, RATING, _rows(device_id, agency_id, counter_id, 101))
    assert_totals_exact(engine)   # COPY fires the totals trigger once for the whole statement (PostgreSQL)
    core, driver = _stored(engine, 1), _stored(engine, 101)
    assert len(driver) == 4 and driver == core
    assert driver[0]["recorded_at"] == datetime(2025, 11, 30, 16, 59, 59, 999000, UTC)
    assert driver[3]["harassment"] is True and driver[0]["harassment"] is None
    assert driver[1]["comment"] == "Cán bộ hướng dẫn tận tình; “ngoặc” \\ tab\t."


def test_a_repeated_key_raises_integrity_error_and_the_transaction_stores_nothing(engine: Engine) -> None:
    device_id, agency_id, counter_id = _device(engine)
    rows = _rows(device_id, agency_id, counter_id, 1)
    with pytest.raises(exc.IntegrityError), db.writing(engine) as conn:
        bulk.insert_rows(conn, RATING, rows[:3])
        bulk.insert_rows(conn, RATING, rows[2:])   # the third rating again
    assert _stored(engine, 1) == []
    with db.writing(engine) as conn:   # nothing is left half-done: the same rows go in afterwards
        bulk.insert_rows(conn, RATING, rows)
        bulk.insert_rows(conn, RECORD, [])
    assert len(_stored(engine, 1)) == 4
