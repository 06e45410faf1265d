"""Devices: registering one with a one-time enrolment code, enrolling it with its key, revoking it."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, exc, insert, select, update

from sync import protocol
from sync.server import registry
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ApiError, ServerError
from sync.server.models import AGENCY, COUNTER, DEVICE, ENROLMENT_CODE

# No 0/O, 1/I/L or U: a code read aloud over the phone or typed on a touchscreen is not misread.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LEN = 3, 4


@dataclass(frozen=True)
class NewDevice:
    """A registered device and the one-time code that enrols it (the code is shown once, stored hashed)."""

    device_id: str
    code: str
    code_expires_at: str
    agency: str
    agency_name: str
    counter: str
    counter_name: str
    status: str = "pending"

    def as_json(self) -> dict[str, Any]:
        """For `device add --json`."""
        return asdict(self)


def new_code() -> str:
    """A random code such as K7QM-3XHD-PA9W (about 59 bits)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LEN))
    return "-".join(chars[i:i + CODE_GROUP_LEN] for i in range(0, len(chars), CODE_GROUP_LEN))


def code_hash(code: str) -> str:
    """How a code is stored and looked up: case, spaces and dashes do not matter."""
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _issue_code(conn: Connection, device_id: str, lifetime: timedelta, now: datetime) -> tuple[str, datetime]:
    # Only the newest code works: an older one printed and lost must not enrol someone else's kiosk.
    conn.execute(update(ENROLMENT_CODE).where(ENROLMENT_CODE.c.device_id == device_id,
                                              ENROLMENT_CODE.c.used_at.is_(None),
                                              ENROLMENT_CODE.c.expires_at > now).values(expires_at=now))
    code, expires = new_code(), now + lifetime
    conn.execute(insert(ENROLMENT_CODE).values(device_id=device_id, code_hash=code_hash(code), created_at=now,
                                               expires_at=expires))
    return code, expires


def add_device(engine: Engine, agency_code: str, counter_code: str, lifetime: timedelta) -> NewDevice:
    """Register a device at an agency's counter and issue its enrolment code."""
    now = utc_now()
    with writing(engine) as conn:
        owner = registry.agency(conn, agency_code)
        at = registry.counter_id(conn, owner, counter_code)
        device_id = str(uuid.uuid4())
        conn.execute(insert(DEVICE).values(id=device_id, agency_id=owner.id, counter_id=at, status="pending",
                                           created_at=now))
        code, expires = _issue_code(conn, device_id, lifetime, now)
        counter_name = str(conn.execute(select(COUNTER.c.name).where(COUNTER.c.id == at)).scalar_one())
    return NewDevice(device_id, code, expires.isoformat(), owner.code, owner.name, counter_code, counter_name)


def reissue_code(engine: Engine, device_id: str, lifetime: timedelta) -> tuple[str, datetime]:
    """A new enrolment code for a device not enrolled yet (the old one stops working)."""
    now = utc_now()
    with writing(engine) as conn:
        status = _status(conn, device_id)
        if status != "pending":
            raise ServerError(f"Thiết bị {device_id} đã {_STATUS_VI[status]}; không cấp mã mới",
                              f"device {device_id} is already {status}; no new code")
        return _issue_code(conn, device_id, lifetime, now)


_STATUS_VI = {"pending": "chờ đăng ký", "active": "đang hoạt động", "revoked": "bị thu hồi"}


def _status(conn: Connection, device_id: str) -> str:
    status = conn.execute(select(DEVICE.c.status).where(DEVICE.c.id == device_id)).scalar()
    if status is None:
        raise ServerError(f"Không có thiết bị {device_id!r}", f"no device {device_id!r}")
    return str(status)


def revoke(engine: Engine, device_id: str) -> bool:
    """Revoke a device: its requests are refused from now on and its codes stop working; False if it already was."""
    now = utc_now()
    with writing(engine) as conn:
        if _status(conn, device_id) == "revoked":
            return False
        conn.execute(update(DEVICE).where(DEVICE.c.id == device_id).values(status="revoked", revoked_at=now))
        conn.execute(update(ENROLMENT_CODE).where(ENROLMENT_CODE.c.device_id == device_id,
                                                  ENROLMENT_CODE.c.used_at.is_(None)).values(expires_at=now))
    return True


def list_devices(engine: Engine) -> list[dict[str, Any]]:
    """Every device with its agency and counter codes, newest first."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(DEVICE.c.id, DEVICE.c.status, AGENCY.c.code.label("agency"), COUNTER.c.code.label("counter"),
                   DEVICE.c.hostname, DEVICE.c.created_at, DEVICE.c.enrolled_at, DEVICE.c.revoked_at,
                   DEVICE.c.acked_seq, DEVICE.c.chain_state, DEVICE.c.channel)
            .select_from(DEVICE.join(AGENCY, AGENCY.c.id == DEVICE.c.agency_id)
                         .join(COUNTER, COUNTER.c.id == DEVICE.c.counter_id))
            .order_by(DEVICE.c.created_at.desc(), DEVICE.c.id)).all()
    return [{"device_id": r.id, "status": r.status, "agency": r.agency, "counter": r.counter,
             "hostname": r.hostname, "created_at": _iso(r.created_at), "enrolled_at": _iso(r.enrolled_at),
             "revoked_at": _iso(r.revoked_at), "acked_seq": r.acked_seq, "chain_state": r.chain_state,
             "channel": r.channel}
            for r in rows]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _bad_code(vi: str, en: str) -> ApiError:
    return ApiError(403, protocol.E_BAD_CODE, f"Mã đăng ký {vi}; hãy xin cán bộ CNTT mã mới",
                    f"the enrolment code {en}; ask IT for a new one")


def _response(conn: Connection, device_id: str) -> protocol.EnrollResponse:
    row = conn.execute(
        select(DEVICE.c.id, DEVICE.c.acked_seq, AGENCY.c.code.label("agency_code"),
               AGENCY.c.name.label("agency_name"), COUNTER.c.code.label("counter_code"),
               COUNTER.c.name.label("counter_name"))
        .select_from(DEVICE.join(AGENCY, AGENCY.c.id == DEVICE.c.agency_id)
                     .join(COUNTER, COUNTER.c.id == DEVICE.c.counter_id))
        .where(DEVICE.c.id == device_id)).one()
    return protocol.EnrollResponse(device_id=row.id, agency_id=row.agency_code, agency_name=row.agency_name,
                                   counter_id=row.counter_code, counter_name=row.counter_name,
                                   acked_seq=row.acked_seq)


def enrol(engine: Engine, request: protocol.EnrollRequest, now: datetime) -> protocol.EnrollResponse:
    """Bind the kiosk's public key to the device its code was issued for (the signature was checked already).

    A retry with the same code, key and kiosk (its answer was lost) gets the same answer again.
    """
    try:
        with writing(engine) as conn:
            found = conn.execute(
                select(ENROLMENT_CODE.c.id, ENROLMENT_CODE.c.expires_at, ENROLMENT_CODE.c.used_at,
                       DEVICE.c.id.label("device_id"), DEVICE.c.status, DEVICE.c.public_key, DEVICE.c.local_uuid)
                .select_from(ENROLMENT_CODE.join(DEVICE, DEVICE.c.id == ENROLMENT_CODE.c.device_id))
                .where(ENROLMENT_CODE.c.code_hash == code_hash(request.code))
                .with_for_update(of=DEVICE)).first()
            if found is None:
                raise _bad_code("không đúng", "is not known")
            if found.used_at is not None:
                if (found.status == "active" and found.public_key == request.public_key
                        and found.local_uuid == request.device_uuid):
                    return _response(conn, found.device_id)
                raise _bad_code("đã được dùng", "was already used")
            if found.status != "pending":
                raise _bad_code("thuộc một thiết bị đã bị thu hồi", "belongs to a revoked device")
            if found.expires_at <= now:
                raise _bad_code("đã hết hạn", "has expired")
            holder = conn.execute(select(DEVICE.c.id).where(DEVICE.c.public_key == request.public_key)).scalar()
            if holder is not None:
                raise _key_in_use()
            conn.execute(update(DEVICE).where(DEVICE.c.id == found.device_id).values(
                status="active", public_key=request.public_key, local_uuid=request.device_uuid,
                hostname=request.hostname, app_version=request.app_version, enrolled_at=now, last_contact_at=now))
            conn.execute(update(ENROLMENT_CODE).where(ENROLMENT_CODE.c.id == found.id).values(used_at=now))
            return _response(conn, found.device_id)
    except exc.IntegrityError:  # the same key enrolled by another process at the same moment
        raise _key_in_use() from None


def _key_in_use() -> ApiError:
    return ApiError(409, protocol.E_KEY_IN_USE,
                    "Khoá của kiosk này đã được đăng ký cho một thiết bị khác; mỗi khoá chỉ dùng cho một thiết bị",
                    "this kiosk's key is already enrolled as another device; a key serves one device only")
