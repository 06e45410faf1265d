"""Enrolment: send the device's public key with IT's one-time code and keep the device ID the server gives."""

from __future__ import annotations

import socket

from kiosk import __version__, state
from kiosk.domain.keys import public_key_b64
from sync import protocol
from sync.agent.client import Budget, check_server_url
from sync.agent.device import Device, Tuning, enrolment, make_client, utc_iso
from sync.agent.errors import E_ALREADY_ENROLLED, E_CODE_FORMAT, SyncError

ENROLL_BUDGET_S = 60


def check_code(code: str) -> str:
    """The code as typed, without spaces; a clear error when it cannot be an enrolment code."""
    cleaned = "".join(code.split())
    if not 6 <= len(cleaned) <= 64:
        raise SyncError(E_CODE_FORMAT, f"Mã đăng ký phải có từ 6 đến 64 ký tự, nhận được {len(cleaned)}",
                        f"An enrolment code has 6 to 64 characters, got {len(cleaned)}")
    return cleaned


def enroll(device: Device, server_url: str, code: str, *, force: bool = False,
           tuning: Tuning | None = None) -> protocol.EnrollResponse:
    """Enrol this device with the server at `server_url`; refuses an enrolled device unless `force`.

    The request is signed with the device key under the device's local UUID, which proves the kiosk holds
    the private half of the key it sends. The private key never leaves the device.
    """
    url = check_server_url(server_url)
    cleaned = check_code(code)
    current = enrolment(device)
    if current is not None and not force:
        raise SyncError(E_ALREADY_ENROLLED,
                        f"Máy này đã đăng ký với {current.server_url} (mã thiết bị {current.device_id}); "
                        "thêm --force để đăng ký lại",
                        f"This device is already enrolled with {current.server_url} (device ID "
                        f"{current.device_id}); add --force to enrol again")
    request = protocol.EnrollRequest(code=cleaned, public_key=public_key_b64(device.key.public_key),
                                     device_uuid=device.ratings.device_uuid, app_version=__version__,
                                     hostname=socket.gethostname()[:200])
    client = make_client(device, url, device.ratings.device_uuid, Budget(ENROLL_BUDGET_S), tuning)
    try:
        answer = client.post_json(protocol.ENROLL_PATH, request, protocol.EnrollResponse,
                                  "Câu trả lời đăng ký của máy chủ không đúng giao thức",
                                  "The server's enrolment answer is outside the protocol")
    finally:
        client.close()
    # What the server already holds from this key is the truth the next push starts from.
    facts = {state.SERVER_URL: url, state.SERVER_DEVICE_ID: answer.device_id, state.ENROLLED_AT: utc_iso(),
             state.ACKED_SEQ: str(answer.acked_seq), state.LAST_ERROR: ""}
    if client.offset_learnt:
        facts[state.CLOCK_OFFSET] = f"{client.offset_s:.3f}"
    device.state.put_many(facts)
    return answer
