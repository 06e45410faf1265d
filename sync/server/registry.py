"""Agencies, their counters and officers: what IT registers, and the settings each device receives from them."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, exc, insert, or_, select, update

from kiosk.domain.levels import PROCEDURE_CODE
from sync import protocol
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import AGENCY, COUNTER, DEVICE, OFFICER

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
AGENCY_FIELDS = ("name", "parent", "hotline", "complaint_address", "email", "website")
# Longest text each field may hold: what protocol.DeviceSettings carries to the device.
_LIMITS = {"name": 200, "parent": 200, "hotline": 40, "complaint_address": 200, "email": 200, "website": 200,
           "title": 200}


@dataclass(frozen=True)
class Agency:
    """A public administrative service centre (or any unit that runs kiosks)."""

    id: int
    code: str
    name: str
    parent: str = ""
    hotline: str = ""
    complaint_address: str = ""
    email: str = ""
    website: str = ""


def _check_code(code: str, what_vi: str, what_en: str) -> str:
    code = code.strip()
    if not CODE.fullmatch(code):
        raise ServerError(f"Mã {what_vi} {code!r} không hợp lệ: dùng chữ, số, '.', '_' hoặc '-' (tối đa 64 ký tự)",
                          f"invalid {what_en} code {code!r}: use letters, digits, '.', '_' or '-' (up to 64)")
    return code


def _check_text(field: str, value: str, *, required: bool = False) -> str:
    value = " ".join(value.split())
    if required and not value:
        raise ServerError(f"«{field}» không được để trống", f"'{field}' must not be empty")
    limit = _LIMITS.get(field, 200)
    if len(value) > limit:
        raise ServerError(f"«{field}» dài quá {limit} ký tự", f"'{field}' is longer than {limit} characters")
    # Names and addresses go onto pages, slips, spreadsheets and Word documents, none of which can hold a control
    # character (XML refuses most outright): refused here, at the door, not stripped later by each.
    hidden = next((c for c in value if unicodedata.category(c) == "Cc"), None)
    if hidden is not None:
        raise ServerError(f"«{field}» có ký tự điều khiển U+{ord(hidden):04X}; hãy gõ lại",
                          f"'{field}' holds the control character U+{ord(hidden):04X}; type it again")
    return value


def agency(conn: Connection, code: str, *, lock: bool = False) -> Agency:
    """The agency with this code, or a ServerError naming it; `lock` holds its row for the rest of the transaction
    (PostgreSQL; SQLite's writers are one at a time anyway), so a check-then-insert under it cannot interleave."""
    query = select(AGENCY).where(AGENCY.c.code == code)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise ServerError(f"Không có cơ quan mã {code!r}; thêm bằng «kiosk-server agency add»",
                          f"no agency with code {code!r}; add it with 'kiosk-server agency add'")
    return Agency(row.id, row.code, row.name, row.parent, row.hotline, row.complaint_address, row.email,
                  row.website)


def counter_id(conn: Connection, agency_row: Agency, code: str) -> int:
    """The id of the agency's counter with this code, or a ServerError naming it."""
    found = conn.execute(select(COUNTER.c.id).where(COUNTER.c.agency_id == agency_row.id,
                                                    COUNTER.c.code == code)).scalar()
    if found is None:
        raise ServerError(f"Cơ quan {agency_row.code} không có quầy mã {code!r}; thêm bằng «kiosk-server counter add»",
                          f"agency {agency_row.code} has no counter {code!r}; add it with 'kiosk-server counter add'")
    return int(found)


def add_agency(engine: Engine, code: str, fields: dict[str, str], *, exist_ok: bool = False) -> tuple[Agency, bool]:
    """Register an agency; (the agency, whether it was new). A repeated code is an error unless exist_ok."""
    code = _check_code(code, "cơ quan", "agency")
    values = {name: _check_text(name, fields.get(name, ""), required=name == "name") for name in AGENCY_FIELDS}
    try:
        with writing(engine) as conn:
            if conn.execute(select(AGENCY.c.id).where(AGENCY.c.code == code)).first() is not None:
                if exist_ok:
                    return agency(conn, code), False
                raise ServerError(f"Đã có cơ quan mã {code!r}; sửa bằng «kiosk-server agency set»",
                                  f"an agency with code {code!r} already exists; "
                                  "change it with 'kiosk-server agency set'")
            conn.execute(insert(AGENCY).values(code=code, created_at=utc_now(), **values))
            return agency(conn, code), True
    except exc.IntegrityError:  # another process added the same code at the same moment
        if exist_ok:
            with reading(engine) as conn:
                return agency(conn, code), False
        raise ServerError(f"Đã có cơ quan mã {code!r}", f"an agency with code {code!r} already exists") from None


def set_agency(engine: Engine, code: str, fields: dict[str, str | None]) -> Agency:
    """Change the given fields of an agency (None leaves a field as it is)."""
    changes = {name: _check_text(name, value, required=name == "name")
               for name, value in fields.items() if value is not None and name in AGENCY_FIELDS}
    with writing(engine) as conn:
        found = agency(conn, code)
        if changes:
            conn.execute(update(AGENCY).where(AGENCY.c.id == found.id).values(**changes))
        return agency(conn, code)


def list_agencies(engine: Engine) -> list[Agency]:
    """Every agency, by code."""
    with reading(engine) as conn:
        return list_agencies_on(conn)


def list_agencies_on(conn: Connection) -> list[Agency]:
    """As list_agencies, read on an open connection (a page's one read transaction)."""
    return [Agency(r.id, r.code, r.name, r.parent, r.hotline, r.complaint_address, r.email, r.website)
            for r in conn.execute(select(AGENCY).order_by(AGENCY.c.code))]


def parse_procedures(text: str) -> list[str]:
    """Procedure codes from "1.001193, 1.000894" (commas or spaces), each checked against the national form."""
    codes = [part.strip().upper() for part in re.split(r"[,\s;]+", text) if part.strip()]
    for code in codes:
        if not PROCEDURE_CODE.fullmatch(code):
            raise ServerError(f"Mã thủ tục {code!r} không đúng dạng (ví dụ 1.001193 hoặc 1.012753.H19)",
                              f"procedure code {code!r} is malformed (expected e.g. 1.001193 or 1.012753.H19)")
    if len(codes) > 50:
        raise ServerError("Một quầy chỉ ghi tối đa 50 thủ tục hay dùng", "a counter lists at most 50 procedures")
    return list(dict.fromkeys(codes))


def add_counter(engine: Engine, agency_code: str, code: str, name: str, procedures: list[str], *,
                exist_ok: bool = False) -> bool:
    """Register a counter of an agency; True when it is new. A repeated code is an error unless exist_ok."""
    code = _check_code(code, "quầy", "counter")
    name = _check_text("name", name, required=True)
    try:
        with writing(engine) as conn:
            owner = agency(conn, agency_code)
            exists = conn.execute(select(COUNTER.c.id).where(COUNTER.c.agency_id == owner.id,
                                                             COUNTER.c.code == code)).first()
            if exists is not None:
                if exist_ok:
                    return False
                raise ServerError(f"Cơ quan {agency_code} đã có quầy mã {code!r}",
                                  f"agency {agency_code} already has a counter {code!r}")
            conn.execute(insert(COUNTER).values(agency_id=owner.id, code=code, name=name,
                                                procedures=json.dumps(procedures)))
            return True
    except exc.IntegrityError:
        if exist_ok:
            return False
        raise ServerError(f"Cơ quan {agency_code} đã có quầy mã {code!r}",
                          f"agency {agency_code} already has a counter {code!r}") from None


def add_officer(engine: Engine, agency_code: str, code: str, name: str, title: str = "",
                counter_code: str | None = None) -> None:
    """Register an officer of an agency, optionally at one counter (else at any of its counters)."""
    code = _check_code(code, "cán bộ", "officer")
    name = _check_text("name", name, required=True)
    title = _check_text("title", title)
    try:
        with writing(engine) as conn:
            owner = agency(conn, agency_code)
            at = counter_id(conn, owner, counter_code) if counter_code else None
            exists = conn.execute(select(OFFICER.c.id).where(OFFICER.c.agency_id == owner.id,
                                                             OFFICER.c.code == code)).first()
            if exists is not None:
                raise ServerError(f"Cơ quan {agency_code} đã có cán bộ mã {code!r}",
                                  f"agency {agency_code} already has an officer {code!r}")
            conn.execute(insert(OFFICER).values(agency_id=owner.id, code=code, name=name, title=title,
                                                counter_id=at))
    except exc.IntegrityError:
        raise ServerError(f"Cơ quan {agency_code} đã có cán bộ mã {code!r}",
                          f"agency {agency_code} already has an officer {code!r}") from None


def device_settings(conn: Connection, device_id: str) -> protocol.DeviceSettings:
    """What the device should run with now; `version` is a hash over all of it, so any change shows."""
    row = conn.execute(
        select(AGENCY.c.code.label("agency_code"), AGENCY.c.name.label("agency_name"), AGENCY.c.parent,
               AGENCY.c.hotline, AGENCY.c.complaint_address, AGENCY.c.email, AGENCY.c.website,
               COUNTER.c.id.label("counter_pk"), COUNTER.c.code.label("counter_code"),
               COUNTER.c.name.label("counter_name"), COUNTER.c.procedures, DEVICE.c.agency_id)
        .select_from(DEVICE.join(AGENCY, AGENCY.c.id == DEVICE.c.agency_id)
                     .join(COUNTER, COUNTER.c.id == DEVICE.c.counter_id))
        .where(DEVICE.c.id == device_id)).one()
    officers = conn.execute(
        select(OFFICER.c.code, OFFICER.c.name, OFFICER.c.title)
        .where(OFFICER.c.agency_id == row.agency_id,
               or_(OFFICER.c.counter_id.is_(None), OFFICER.c.counter_id == row.counter_pk))
        .order_by(OFFICER.c.code).limit(200)).all()
    content: dict[str, Any] = {
        "agency_name": row.agency_name, "agency_parent": row.parent, "agency_code": row.agency_code,
        "counter_id": row.counter_code, "counter_name": row.counter_name,
        "counter_procedures": json.loads(row.procedures or "[]"),
        "officers": [{"id": o.code, "name": o.name, "title": o.title} for o in officers],
        "hotline": row.hotline, "complaint_address": row.complaint_address, "email": row.email,
        "website": row.website,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    version = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
    return protocol.DeviceSettings(version=version, **content)
