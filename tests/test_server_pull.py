"""What devices fetch and report, over real HTTP on SQLite and PostgreSQL: settings and catalog with ETags
(304 when unchanged), and health with the clock drift the server measures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kiosk.domain.catalog_import import load_file, parse_national
from sync import protocol
from sync.server import registry
from sync.server.models import DEVICE, HEALTH
from tests.sync_harness import Device, ServerHandle, signed_request

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "assets" / "catalog" / "sample-procedures.json"


@pytest.fixture
def kiosk(module_server: ServerHandle, tmp_path: Path) -> Iterator[tuple[Device, str]]:
    """A real device enrolled at its own agency (so changing that agency affects no other test)."""
    agency = "P" + tmp_path.name[-8:].upper().replace("_", "")
    device, device_id = module_server.enrolled_device(tmp_path / "kiosk", agency, "Q01")
    yield device, device_id
    device.close()


def get(server: ServerHandle, kiosk: tuple[Device, str], path: str, **headers: str) -> Any:
    """A signed GET from the device."""
    device, device_id = kiosk
    return signed_request(server.url, device.key, device_id, "GET", path, headers=headers)


def report(server: ServerHandle, kiosk: tuple[Device, str], clock: datetime, **changes: Any) -> Any:
    """A signed health report from a device whose clock reads `clock`."""
    device, device_id = kiosk
    body: dict[str, Any] = {"app_version": "0.1.0", "queue_depth": 7, "head_seq": 12, "head_hash": "a" * 64,
                            "acked_seq": 5, "disk_free_bytes": 123456789, "printer_state": "fault",
                            "printer_fault": "Hết giấy / paper out", "device_time": clock.isoformat(),
                            "catalog_version": "3", "settings_version": "abc", "last_error": ""}
    body.update(changes)
    return signed_request(server.url, device.key, device_id, "POST", protocol.HEALTH_PATH, body, gzip_body=True)


def test_settings_carry_the_agency_counter_and_officers(module_server: ServerHandle,
                                                       kiosk: tuple[Device, str]) -> None:
    agency = module_server.fleet_row(kiosk[1])["agency_code"]
    engine = module_server.engine()
    registry.set_agency(engine, agency, {"complaint_address": "Số 5 Lê Lợi", "email": "hcc@example.gov.vn"})
    registry.add_counter(engine, agency, "Q02", "Quầy 2", [])
    registry.add_officer(engine, agency, "CB001", "Nguyễn Văn A", "Chuyên viên", "Q01")
    registry.add_officer(engine, agency, "CB002", "Trần Thị B")                  # any counter
    registry.add_officer(engine, agency, "CB003", "Lê Văn C", counter_code="Q02")  # another counter
    response = get(module_server, kiosk, protocol.SETTINGS_PATH)
    assert response.status_code == 200, response.text
    settings = protocol.DeviceSettings.model_validate(response.json())
    assert response.headers["ETag"] == f'"{settings.version}"'
    assert (settings.agency_code, settings.counter_id, settings.hotline) == (agency, "Q01", "1900 0000")
    assert (settings.complaint_address, settings.email) == ("Số 5 Lê Lợi", "hcc@example.gov.vn")
    assert [(o.id, o.name, o.title) for o in settings.officers] == [
        ("CB001", "Nguyễn Văn A", "Chuyên viên"), ("CB002", "Trần Thị B", "")]


def test_settings_answer_304_until_they_change(module_server: ServerHandle, kiosk: tuple[Device, str]) -> None:
    first = get(module_server, kiosk, protocol.SETTINGS_PATH)
    etag = first.headers["ETag"]
    same = get(module_server, kiosk, protocol.SETTINGS_PATH, **{"If-None-Match": etag})
    assert same.status_code == 304 and not same.content
    assert same.headers["ETag"] == etag
    agency = first.json()["agency_code"]
    registry.set_agency(module_server.engine(), agency, {"hotline": "0236 3 822 822"})
    changed = get(module_server, kiosk, protocol.SETTINGS_PATH, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["hotline"] == "0236 3 822 822"
    assert changed.json()["version"] != first.json()["version"]


def test_the_catalog_is_served_with_its_hash_and_version_and_304_when_unchanged(
        module_server: ServerHandle, kiosk: tuple[Device, str]) -> None:
    none_yet = get(module_server, kiosk, protocol.CATALOG_PATH)
    assert none_yet.status_code == 404 and none_yet.json()["code"] == protocol.E_NOT_FOUND
    module_server.cli_ok("catalog", "import", str(SAMPLE))
    response = get(module_server, kiosk, protocol.CATALOG_PATH, **{"Accept-Encoding": "identity"})
    assert response.status_code == 200, response.text
    digest = hashlib.sha256(response.content).hexdigest()
    assert response.headers["ETag"] == f'"{digest}"'
    version = response.headers[protocol.H_CATALOG_VERSION]
    # What a kiosk imports from the download is exactly what the file held.
    assert parse_national(json.loads(response.content), "download") == load_file(SAMPLE)
    compressed = get(module_server, kiosk, protocol.CATALOG_PATH, **{"Accept-Encoding": "gzip"})
    assert compressed.headers.get("Content-Encoding") == "gzip"
    assert compressed.content == response.content  # requests inflated it
    unchanged = get(module_server, kiosk, protocol.CATALOG_PATH, **{"If-None-Match": f'"{digest}"'})
    assert unchanged.status_code == 304 and not unchanged.content
    # Importing the same file again makes no new version.
    module_server.cli_ok("catalog", "import", str(SAMPLE))
    assert get(module_server, kiosk, protocol.CATALOG_PATH).headers[protocol.H_CATALOG_VERSION] == version


def test_health_is_recorded_and_a_wrong_clock_is_flagged(module_server: ServerHandle,
                                                         kiosk: tuple[Device, str]) -> None:
    device_id = kiosk[1]
    good = report(module_server, kiosk, datetime.now(UTC))
    assert good.status_code == 200, good.text
    answer = protocol.HealthResponse.model_validate(good.json())
    assert not answer.clock_flagged
    assert abs(answer.clock_drift_s) < protocol.CLOCK_DRIFT_FLAG_S
    slow = report(module_server, kiosk, datetime.now(UTC) - timedelta(minutes=10))
    flagged = protocol.HealthResponse.model_validate(slow.json())
    assert flagged.clock_flagged
    assert -700 < flagged.clock_drift_s < -500
    with module_server.engine().connect() as conn:
        history = conn.execute(select(func.count()).select_from(HEALTH).where(HEALTH.c.device_id == device_id))
        assert history.scalar_one() == 2
        row = conn.execute(select(DEVICE).where(DEVICE.c.id == device_id)).one()
    assert (row.queue_depth, row.printer_state, row.printer_fault, row.clock_flagged) == (
        7, "fault", "Hết giấy / paper out", True)
    alerts = [a["code"] for a in module_server.fleet_row(device_id)["alerts"]]
    assert "clock" in alerts


def test_a_device_time_without_a_zone_is_read_as_utc(module_server: ServerHandle, kiosk: tuple[Device, str]) -> None:
    naive = datetime.now(UTC).replace(tzinfo=None)
    answer = report(module_server, kiosk, naive)
    assert answer.status_code == 200
    assert not answer.json()["clock_flagged"]


@pytest.mark.parametrize("changes", [{"printer_state": "on fire"}, {"queue_depth": -1},
                                     {"queue_depth": 2**70}, {"device_time": "hôm nay"}])
def test_a_malformed_health_report_is_refused(module_server: ServerHandle, kiosk: tuple[Device, str],
                                              changes: dict[str, Any]) -> None:
    response = report(module_server, kiosk, datetime.now(UTC), **changes)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == protocol.E_MALFORMED
    with module_server.engine().connect() as conn:
        history = conn.execute(select(func.count()).select_from(HEALTH).where(HEALTH.c.device_id == kiosk[1]))
        assert history.scalar_one() == 0
