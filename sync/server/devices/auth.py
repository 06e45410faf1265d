"""The signed-request check every device request passes (see protocol.signing_input).

Order matters: who is asking (unknown device 401, revoked 403), is it really them (signature 401), is it now
(timestamp within MAX_CLOCK_SKEW_S, else 401 with the server's time), and is it new (a nonce seen before is a
replay, 409). The nonce is stored under a database unique key, so two server processes cannot both accept a
replayed request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, delete, exc, insert, select, update

from kiosk.domain.keys import load_public_key, verify_signature
from sync import protocol
from sync.server.db import reading, writing
from sync.server.errors import ApiError
from sync.server.models import DEVICE, NONCE

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NONCE_FORMAT = re.compile(r"[A-Za-z0-9._~+/=-]{8,128}")
SIGNATURE_FORMAT = re.compile(r"[A-Za-z0-9+/]{86}==")  # 64 bytes of Ed25519 signature, base64


@dataclass(frozen=True)
class SignedHeaders:
    """The four signing headers of a request, checked for form."""

    device: str
    timestamp: int
    nonce: str
    signature: str


@dataclass(frozen=True)
class Caller:
    """The enrolled, active device a request came from."""

    device_id: str
    public_key: Ed25519PublicKey
    agency_id: int
    counter_id: int


def _unsigned(vi: str, en: str) -> ApiError:
    return ApiError(401, protocol.E_BAD_SIGNATURE, vi, en)


def signed_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """The signing headers, or 401 naming the one that is missing or malformed."""
    values = {name: headers.get(name, "").strip() for name in
              (protocol.H_DEVICE, protocol.H_TIMESTAMP, protocol.H_NONCE, protocol.H_SIGNATURE)}
    missing = [name for name, value in values.items() if not value]
    if missing:
        names = ", ".join(missing)
        raise _unsigned(f"Yêu cầu chưa được ký: thiếu tiêu đề {names}", f"the request is not signed: missing {names}")
    device = values[protocol.H_DEVICE].lower()
    if not UUID.fullmatch(device):
        raise ApiError(401, protocol.E_UNKNOWN_DEVICE, "Mã thiết bị không đúng dạng UUID",
                       "the device ID is not a UUID")
    stamp = values[protocol.H_TIMESTAMP]
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise _unsigned(f"Tiêu đề {protocol.H_TIMESTAMP} phải là số giây Unix",
                        f"{protocol.H_TIMESTAMP} must be Unix seconds")
    if not NONCE_FORMAT.fullmatch(values[protocol.H_NONCE]):
        raise _unsigned(f"Tiêu đề {protocol.H_NONCE} phải gồm 8 đến 128 ký tự chữ, số hoặc ._~+/=-",
                        f"{protocol.H_NONCE} must be 8 to 128 letters, digits or ._~+/=-")
    if not SIGNATURE_FORMAT.fullmatch(values[protocol.H_SIGNATURE]):
        raise _unsigned(f"Tiêu đề {protocol.H_SIGNATURE} không phải chữ ký Ed25519 dạng base64",
                        f"{protocol.H_SIGNATURE} is not a base64 Ed25519 signature")
    return SignedHeaders(device, int(stamp), values[protocol.H_NONCE], values[protocol.H_SIGNATURE])


def check_signature(key: Ed25519PublicKey, signed: SignedHeaders, method: str, path: str, body: bytes) -> None:
    """401 unless the signature covers exactly this method, path, time, nonce and body."""
    message = protocol.signing_input(method, path, signed.timestamp, signed.nonce, body)
    if not verify_signature(key, signed.signature, message):
        raise _unsigned("Chữ ký của yêu cầu không hợp lệ (giả mạo, sai khoá hoặc nội dung bị thay đổi)",
                        "the request's signature is not valid (forged, wrong key, or the content was changed)")


def check_clock(signed: SignedHeaders, now: datetime) -> None:
    """401 with the server's time when the request's timestamp is too far from it."""
    skew = signed.timestamp - now.timestamp()
    if abs(skew) > protocol.MAX_CLOCK_SKEW_S:
        raise ApiError(401, protocol.E_CLOCK_SKEW,
                       f"Đồng hồ của thiết bị lệch {skew:+.0f} giây so với máy chủ (cho phép "
                       f"±{protocol.MAX_CLOCK_SKEW_S} giây); ký lại theo giờ máy chủ",
                       f"the device's clock is {skew:+.0f} s off the server's (±{protocol.MAX_CLOCK_SKEW_S} s "
                       "allowed); sign again with the server's time", server_time=now)


def use_nonce(engine: Engine, device: str, nonce: str, now: datetime, *, contact: bool) -> None:
    """Record the nonce (409 if it was used before) and, for an enrolled device, its last contact."""
    horizon = now - timedelta(seconds=2 * protocol.MAX_CLOCK_SKEW_S)
    try:
        with writing(engine) as conn:
            # A nonce older than twice the allowed skew can never pass the timestamp check again.
            conn.execute(delete(NONCE).where(NONCE.c.device == device, NONCE.c.seen_at < horizon))
            conn.execute(insert(NONCE).values(device=device, nonce=nonce, seen_at=now))
            if contact:
                conn.execute(update(DEVICE).where(DEVICE.c.id == device).values(last_contact_at=now))
    except exc.IntegrityError:
        raise ApiError(409, protocol.E_REPLAY, "Yêu cầu này đã được gửi trước đó (mã nonce đã dùng); không xử lý lại",
                       "this request was already sent (its nonce was used); it is not processed again") from None


def authenticate(engine: Engine, headers: Mapping[str, str], method: str, path: str, body: bytes,
                 now: datetime) -> Caller:
    """The active device that signed this request, or the ApiError that refuses it."""
    signed = signed_headers(headers)
    with reading(engine) as conn:
        row = conn.execute(select(DEVICE.c.status, DEVICE.c.public_key, DEVICE.c.agency_id, DEVICE.c.counter_id)
                           .where(DEVICE.c.id == signed.device)).first()
    if row is None or row.public_key is None:
        raise ApiError(401, protocol.E_UNKNOWN_DEVICE,
                       f"Máy chủ không biết thiết bị {signed.device} (chưa đăng ký); hãy đăng ký bằng mã CNTT cấp",
                       f"the server does not know device {signed.device} (not enrolled); enrol it with IT's code")
    if row.status == "revoked":
        raise ApiError(403, protocol.E_REVOKED, "Thiết bị này đã bị thu hồi; máy chủ không nhận yêu cầu của nó",
                       "this device has been revoked; the server refuses its requests")
    key = load_public_key(row.public_key)
    check_signature(key, signed, method, path, body)
    check_clock(signed, now)
    use_nonce(engine, signed.device, signed.nonce, now, contact=True)
    return Caller(signed.device, key, row.agency_id, row.counter_id)


def authenticate_enrolment(engine: Engine, headers: Mapping[str, str], path: str, body: bytes,
                           request: protocol.EnrollRequest, now: datetime) -> None:
    """Proof of possession: the enrolment is signed, under the kiosk's local UUID, by the key it sends."""
    signed = signed_headers(headers)
    if signed.device != request.device_uuid:
        raise ApiError(400, protocol.E_WRONG_DEVICE,
                       f"Tiêu đề {protocol.H_DEVICE} phải là device_uuid của kiosk trong nội dung",
                       f"{protocol.H_DEVICE} must be the kiosk's device_uuid given in the body")
    try:
        key = load_public_key(request.public_key)
    except ValueError:
        raise ApiError(422, protocol.E_MALFORMED, "public_key không phải khoá công khai Ed25519 (32 byte, base64)",
                       "public_key is not an Ed25519 public key (32 bytes, base64)") from None
    check_signature(key, signed, "POST", path, body)
    check_clock(signed, now)
    use_nonce(engine, signed.device, signed.nonce, now, contact=False)
