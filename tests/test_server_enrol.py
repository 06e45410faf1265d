"""Enrolment over real HTTP, on SQLite and PostgreSQL: one-time codes, proof of possession, one key per device."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from kiosk.domain.keys import DeviceKey, public_key_b64
from sync import protocol
from sync.server.db import utc_now
from sync.server.devices import enrolment
from sync.server.models import DEVICE, ENROLMENT_CODE
from tests.sync_harness import Device, ServerHandle, enroll, signed_request


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Device]:
    """A fresh real kiosk (its key and log), not enrolled."""
    device = Device.create(tmp_path / "kiosk")
    yield device
    device.close()


def device_row(server: ServerHandle, device_id: str) -> Any:
    """The server's row for a device."""
    with server.engine().connect() as conn:
        return conn.execute(select(DEVICE).where(DEVICE.c.id == device_id)).one()


def refused(response: Any, status: int, code: str) -> protocol.ErrorBody:
    """A refusal with this status and ErrorBody code."""
    assert response.status_code == status, response.text
    body = protocol.ErrorBody.model_validate(response.json())
    assert body.code == code and body.message_vi and body.message_en
    return body


def test_enrolment_binds_the_kiosk_key_to_the_registered_device(module_server: ServerHandle, kiosk: Device) -> None:
    made = module_server.register_device("EN1", "Q07")
    response = enroll(module_server.url, kiosk, made["code"].lower().replace("-", " "))  # as typed on a phone
    assert response.status_code == 200, response.text
    answer = protocol.EnrollResponse.model_validate(response.json())
    assert (answer.device_id, answer.agency_id, answer.counter_id, answer.acked_seq) == (
        made["device_id"], "EN1", "Q07", 0)
    assert answer.counter_name == "Quầy Q07"
    row = device_row(module_server, made["device_id"])
    assert (row.status, row.public_key, row.local_uuid, row.hostname) == (
        "active", kiosk.public_key, kiosk.local_uuid, "kiosk-test")
    assert row.enrolled_at is not None


def test_a_retry_of_the_same_enrolment_gets_the_same_answer(module_server: ServerHandle, kiosk: Device) -> None:
    made = module_server.register_device()
    first = enroll(module_server.url, kiosk, made["code"])
    again = enroll(module_server.url, kiosk, made["code"])  # the first answer was lost on the way back
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()


def test_a_used_code_does_not_enrol_another_kiosk(module_server: ServerHandle, kiosk: Device, tmp_path: Path) -> None:
    made = module_server.register_device()
    assert enroll(module_server.url, kiosk, made["code"]).status_code == 200
    other = Device.create(tmp_path / "other")
    refused(enroll(module_server.url, other, made["code"]), 403, protocol.E_BAD_CODE)
    assert device_row(module_server, made["device_id"]).public_key == kiosk.public_key
    other.close()


def test_an_unknown_code_is_refused(module_server: ServerHandle, kiosk: Device) -> None:
    refused(enroll(module_server.url, kiosk, "AAAA-BBBB-CCCC"), 403, protocol.E_BAD_CODE)


def test_an_expired_code_is_refused(module_server: ServerHandle, kiosk: Device) -> None:
    made = module_server.register_device()
    with module_server.engine().begin() as conn:  # the code's lifetime passes
        conn.execute(update(ENROLMENT_CODE).where(ENROLMENT_CODE.c.device_id == made["device_id"])
                     .values(expires_at=utc_now() - timedelta(seconds=1)))
    body = refused(enroll(module_server.url, kiosk, made["code"]), 403, protocol.E_BAD_CODE)
    assert "expired" in body.message_en
    assert device_row(module_server, made["device_id"]).status == "pending"


def test_a_reissued_code_replaces_the_old_one(module_server: ServerHandle, kiosk: Device) -> None:
    made = module_server.register_device()
    new_code, _ = enrolment.reissue_code(module_server.engine(), made["device_id"], timedelta(hours=1))
    refused(enroll(module_server.url, kiosk, made["code"]), 403, protocol.E_BAD_CODE)
    assert enroll(module_server.url, kiosk, new_code).status_code == 200


def test_a_revoked_device_code_is_refused(module_server: ServerHandle, kiosk: Device) -> None:
    made = module_server.register_device()
    enrolment.revoke(module_server.engine(), made["device_id"])
    refused(enroll(module_server.url, kiosk, made["code"]), 403, protocol.E_BAD_CODE)


def test_enrolment_must_be_signed_by_the_key_it_sends(module_server: ServerHandle, kiosk: Device,
                                                      tmp_path: Path) -> None:
    made = module_server.register_device()
    thief = DeviceKey.load_or_create(tmp_path / "thief.pem")
    # Someone who knows the code offers the kiosk's public key but cannot sign with it.
    payload = {"code": made["code"], "public_key": kiosk.public_key, "device_uuid": kiosk.local_uuid}
    response = signed_request(module_server.url, thief, kiosk.local_uuid, "POST", protocol.ENROLL_PATH, payload)
    refused(response, 401, protocol.E_BAD_SIGNATURE)
    assert device_row(module_server, made["device_id"]).status == "pending"
    # ... and the code still works for the real kiosk.
    assert enroll(module_server.url, kiosk, made["code"]).status_code == 200


def test_enrolment_is_signed_under_the_kiosk_uuid_it_sends(module_server: ServerHandle, kiosk: Device) -> None:
    made = module_server.register_device()
    payload = {"code": made["code"], "public_key": kiosk.public_key, "device_uuid": kiosk.local_uuid}
    other_uuid = "11111111-2222-4333-8444-555555555555"
    response = signed_request(module_server.url, kiosk.key, other_uuid, "POST", protocol.ENROLL_PATH, payload)
    refused(response, 400, protocol.E_WRONG_DEVICE)


def test_a_public_key_that_is_not_ed25519_is_refused(module_server: ServerHandle, kiosk: Device) -> None:
    made = module_server.register_device()
    payload = {"code": made["code"], "public_key": "AAAA", "device_uuid": kiosk.local_uuid}
    response = signed_request(module_server.url, kiosk.key, kiosk.local_uuid, "POST", protocol.ENROLL_PATH, payload)
    refused(response, 422, protocol.E_MALFORMED)


def test_a_key_already_enrolled_cannot_enrol_a_second_device(module_server: ServerHandle, kiosk: Device) -> None:
    first = module_server.register_device()
    second = module_server.register_device()
    assert enroll(module_server.url, kiosk, first["code"]).status_code == 200
    refused(enroll(module_server.url, kiosk, second["code"]), 409, protocol.E_KEY_IN_USE)
    assert device_row(module_server, second["device_id"]).status == "pending"


def test_a_replayed_enrolment_is_refused(module_server: ServerHandle, kiosk: Device) -> None:
    made = module_server.register_device()
    payload = {"code": made["code"], "public_key": public_key_b64(kiosk.key.public_key),
               "device_uuid": kiosk.local_uuid}
    nonce = "enrol-nonce-0001"
    first = signed_request(module_server.url, kiosk.key, kiosk.local_uuid, "POST", protocol.ENROLL_PATH, payload,
                           nonce=nonce)
    assert first.status_code == 200
    refused(signed_request(module_server.url, kiosk.key, kiosk.local_uuid, "POST", protocol.ENROLL_PATH, payload,
                           nonce=nonce), 409, protocol.E_REPLAY)
