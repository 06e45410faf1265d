"""Refused requests over real HTTP, on SQLite and PostgreSQL: each gets its own 4xx and ErrorBody, stores nothing.

Forged, replayed, stale, unknown, revoked, malformed, wrongly shaped, oversized, zip-bombed and oddly encoded.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from kiosk.domain.keys import DeviceKey
from sync import protocol
from sync.server.devices import enrolment
from sync.server.models import HEALTH, NONCE, RECORD
from tests.sync_harness import Device, ServerHandle, push, sign_headers, signed_request


def count(server: ServerHandle, table: Any, device_id: str) -> int:
    """Rows the server holds for the device in a table."""
    column = table.c.device_id if "device_id" in table.c else table.c.device
    with server.engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(column == device_id)).scalar_one())


def refused(response: requests.Response, status: int, code: str) -> protocol.ErrorBody:
    """Check a refusal's status and code; the body is an ErrorBody in both languages, never a stack trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = protocol.ErrorBody.model_validate(response.json())
    assert body.code == code
    assert body.message_vi and body.message_en and "Traceback" not in response.text
    assert protocol.H_SERVER_TIME in response.headers
    return body


def health_report(**changes: Any) -> dict[str, Any]:
    """A plausible health report."""
    report: dict[str, Any] = {
        "app_version": "0.1.0", "queue_depth": 0, "head_seq": 0, "head_hash": "0" * 64, "acked_seq": 0,
        "disk_free_bytes": 10**10, "printer_state": "ok", "device_time": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                       time.gmtime()),
    }
    report.update(changes)
    return report


def test_a_forged_signature_is_refused(module_server: ServerHandle, waiting_kiosk: tuple[Device, str],
                                       tmp_path: Path) -> None:
    device, device_id = waiting_kiosk
    forger = DeviceKey.load_or_create(tmp_path / "forger.pem")
    body = json.dumps({"device_id": device_id, "records": device.records()}).encode()
    headers = sign_headers(forger, device_id, "POST", protocol.PUSH_PATH, body)
    response = requests.post(module_server.url + protocol.PUSH_PATH, data=body, headers=headers, timeout=10)
    refused(response, 401, protocol.E_BAD_SIGNATURE)
    assert count(module_server, RECORD, device_id) == 0


def test_a_signature_over_another_body_is_refused(module_server: ServerHandle,
                                                  waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    records = device.records()
    signed_for = json.dumps({"device_id": device_id, "records": records[:1]}).encode()
    sent = json.dumps({"device_id": device_id, "records": records}).encode()
    headers = sign_headers(device.key, device_id, "POST", protocol.PUSH_PATH, signed_for)
    response = requests.post(module_server.url + protocol.PUSH_PATH, data=sent, headers=headers, timeout=10)
    refused(response, 401, protocol.E_BAD_SIGNATURE)
    assert count(module_server, RECORD, device_id) == 0


def test_a_request_without_signing_headers_is_refused(module_server: ServerHandle,
                                                      waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    response = requests.post(module_server.url + protocol.PUSH_PATH,
                             json={"device_id": device_id, "records": device.records()}, timeout=10)
    body = refused(response, 401, protocol.E_BAD_SIGNATURE)
    assert protocol.H_SIGNATURE in body.message_en


def test_a_replayed_request_is_refused_and_changes_nothing(module_server: ServerHandle,
                                                           waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    body = json.dumps(health_report()).encode()
    headers = sign_headers(device.key, device_id, "POST", protocol.HEALTH_PATH, body)
    headers["Content-Type"] = "application/json"
    first = requests.post(module_server.url + protocol.HEALTH_PATH, data=body, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    again = requests.post(module_server.url + protocol.HEALTH_PATH, data=body, headers=headers, timeout=10)
    refused(again, 409, protocol.E_REPLAY)
    assert count(module_server, HEALTH, device_id) == 1


def test_a_stale_timestamp_is_refused_with_the_server_time(module_server: ServerHandle,
                                                           waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    stale = int(time.time()) - protocol.MAX_CLOCK_SKEW_S - 60
    response = push(module_server.url, device, device_id, device.records(), timestamp=stale)
    body = refused(response, 401, protocol.E_CLOCK_SKEW)
    assert body.server_time is not None
    assert abs(body.server_time.timestamp() - stale) > protocol.MAX_CLOCK_SKEW_S
    assert count(module_server, RECORD, device_id) == 0
    # Signing again with the server's time works: the agent corrects its clock offset this way.
    retry = push(module_server.url, device, device_id, device.records(), timestamp=int(body.server_time.timestamp()))
    assert retry.status_code == 200, retry.text


def test_a_timestamp_from_the_future_is_refused(module_server: ServerHandle, waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    ahead = int(time.time()) + protocol.MAX_CLOCK_SKEW_S + 60
    refused(push(module_server.url, device, device_id, device.records(), timestamp=ahead), 401,
            protocol.E_CLOCK_SKEW)
    assert count(module_server, RECORD, device_id) == 0


def test_an_unknown_device_is_refused(module_server: ServerHandle, tmp_path: Path) -> None:
    stranger = Device.create(tmp_path / "stranger")
    stranger.rate(1)
    unknown_id = "0b1e7a7e-0000-4000-8000-000000000000"
    refused(push(module_server.url, stranger, unknown_id, stranger.records()), 401, protocol.E_UNKNOWN_DEVICE)
    refused(push(module_server.url, stranger, "not-a-uuid", stranger.records()), 401, protocol.E_UNKNOWN_DEVICE)
    stranger.close()


def test_a_registered_but_not_enrolled_device_is_unknown(module_server: ServerHandle, tmp_path: Path) -> None:
    made = module_server.register_device()
    kiosk = Device.create(tmp_path / "kiosk")
    kiosk.rate(1)
    refused(push(module_server.url, kiosk, made["device_id"], kiosk.records()), 401, protocol.E_UNKNOWN_DEVICE)
    kiosk.close()


def test_a_revoked_device_is_refused(module_server: ServerHandle, waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    assert push(module_server.url, device, device_id, device.records()[:1]).status_code == 200
    assert enrolment.revoke(module_server.engine(), device_id)
    refused(push(module_server.url, device, device_id, device.records()), 403, protocol.E_REVOKED)
    refused(signed_request(module_server.url, device.key, device_id, "POST", protocol.HEALTH_PATH, health_report()),
            403, protocol.E_REVOKED)
    assert count(module_server, RECORD, device_id) == 1
    assert count(module_server, HEALTH, device_id) == 0


def test_malformed_json_is_refused(module_server: ServerHandle, waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    for raw in (b'{"device_id": ', b"\xff\xfe not json", b""):
        response = signed_request(module_server.url, device.key, device_id, "POST", protocol.PUSH_PATH, raw=raw,
                                  gzip_body=bool(raw))
        refused(response, 400, protocol.E_MALFORMED)
    assert count(module_server, RECORD, device_id) == 0


@pytest.mark.parametrize("change", ["missing_records", "empty_records", "string_seq", "level_9", "extra_field",
                                    "bad_uuid", "too_many"])
def test_a_body_of_the_wrong_shape_is_refused_naming_the_field(module_server: ServerHandle,
                                                              waiting_kiosk: tuple[Device, str], change: str) -> None:
    device, device_id = waiting_kiosk
    records = device.records()
    payload: dict[str, Any] = {"device_id": device_id, "records": records}
    expected_field = "records"
    if change == "missing_records":
        del payload["records"]
    elif change == "empty_records":
        payload["records"] = []
    elif change == "string_seq":
        payload["records"] = [records[0] | {"seq": "một"}]
        expected_field = "records.0.seq"
    elif change == "level_9":
        payload["records"] = [records[0] | {"level": 9}]
        expected_field = "records.0.level"
    elif change == "extra_field":
        payload["records"] = [records[0] | {"approved_by": "chủ tịch"}]
        expected_field = "records.0.approved_by"
    elif change == "bad_uuid":
        payload["device_id"] = "Q01"
        expected_field = "device_id"
    else:
        payload["records"] = records * (protocol.MAX_BATCH_RECORDS // len(records) + 1)
    response = signed_request(module_server.url, device.key, device_id, "POST", protocol.PUSH_PATH, payload,
                              gzip_body=True)
    body = refused(response, 422, protocol.E_MALFORMED)
    assert expected_field in body.message_en
    assert count(module_server, RECORD, device_id) == 0


def test_an_oversized_body_is_refused_before_it_is_read(module_server: ServerHandle,
                                                        waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    big = os.urandom(protocol.MAX_BODY_BYTES + 1024)
    response = signed_request(module_server.url, device.key, device_id, "POST", protocol.PUSH_PATH, raw=big,
                              headers={"Content-Encoding": "gzip"})
    refused(response, 413, protocol.E_TOO_LARGE)
    assert count(module_server, RECORD, device_id) == 0
    assert count(module_server, NONCE, device_id) == 0  # refused before its signature was even looked at


def test_an_oversized_chunked_body_is_refused_while_streaming(module_server: ServerHandle,
                                                              waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    chunk = os.urandom(256 * 1024)
    total = protocol.MAX_BODY_BYTES + len(chunk)
    headers = sign_headers(device.key, device_id, "POST", protocol.PUSH_PATH, b"")

    def body() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        for _ in range(total // len(chunk)):
            yield chunk

    response = requests.post(module_server.url + protocol.PUSH_PATH, data=body(), headers=headers, timeout=30)
    refused(response, 413, protocol.E_TOO_LARGE)
    assert count(module_server, RECORD, device_id) == 0


def test_a_zip_bomb_is_refused(module_server: ServerHandle, waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    bomb = gzip.compress(b"[" + b" " * (protocol.MAX_INFLATED_BYTES + 1024) + b"]")
    assert len(bomb) < protocol.MAX_BODY_BYTES  # it passes the first check, only inflating it gives it away
    response = signed_request(module_server.url, device.key, device_id, "POST", protocol.PUSH_PATH, raw=bomb,
                              headers={"Content-Encoding": "gzip"})
    refused(response, 413, protocol.E_TOO_LARGE)
    assert count(module_server, RECORD, device_id) == 0


def test_corrupt_gzip_is_refused(module_server: ServerHandle, waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    broken = gzip.compress(json.dumps({"device_id": device_id, "records": device.records()}).encode())[:-12]
    response = signed_request(module_server.url, device.key, device_id, "POST", protocol.PUSH_PATH, raw=broken,
                              headers={"Content-Encoding": "gzip"})
    refused(response, 400, protocol.E_MALFORMED)
    assert count(module_server, RECORD, device_id) == 0


def test_an_unknown_content_encoding_is_refused(module_server: ServerHandle, waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    body = json.dumps({"device_id": device_id, "records": device.records()}).encode()
    response = signed_request(module_server.url, device.key, device_id, "POST", protocol.PUSH_PATH, raw=body,
                              headers={"Content-Encoding": "br"})
    refused(response, 415, protocol.E_ENCODING)
    assert count(module_server, RECORD, device_id) == 0


def test_unknown_paths_and_methods_get_error_bodies(module_server: ServerHandle) -> None:
    refused(requests.get(module_server.url + "/api/v1/nothing-here", timeout=10), 404, protocol.E_NOT_FOUND)
    refused(requests.delete(module_server.url + protocol.PUSH_PATH, timeout=10), 405, protocol.E_METHOD)


def test_the_time_is_public_and_every_answer_carries_the_server_clock(module_server: ServerHandle) -> None:
    before = time.time()
    response = requests.get(module_server.url + protocol.TIME_PATH, timeout=10)
    after = time.time()
    assert response.status_code == 200
    answer = protocol.TimeResponse.model_validate(response.json())
    assert before - 1 <= answer.server_time.timestamp() <= after + 1
    assert protocol.H_SERVER_TIME in response.headers
    assert protocol.H_SERVER_TIME in requests.get(module_server.url + "/login", timeout=10).headers
