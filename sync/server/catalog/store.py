"""The procedure catalog the server distributes: imported with the kiosk's own importer, served as national JSON.

`kiosk-server catalog import FILE` reads a national-format .json or a province's .csv exactly as a kiosk would
(kiosk.domain.catalog_import: a broken file is refused with its error and nothing changes), writes the procedures
back out in the national database's JSON shape, checks that the kiosk's importer reads that JSON back to the
same procedures, and stores it as a new version. The download's ETag is the SHA-256 of that body.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from kiosk.domain.catalog_import import load_file, parse_national
from kiosk.domain.procedures import Channel, Procedure
from sync import protocol
from sync.server.catalog.changes import CatalogChanges, compare
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import CATALOG, PROCEDURE_INFO

_CHUNK = 500  # codes per DELETE … IN (…): well under SQLite's limit on bound parameters


@dataclass(frozen=True)
class CatalogVersion:
    """One stored catalog version (without its body)."""

    version: int
    sha256: str
    source: str
    count: int
    imported_at: datetime
    size: int
    new: bool = True  # False when the import matched the current version and nothing was stored
    changes: CatalogChanges | None = None  # against the version before (None when nothing was stored)


@dataclass(frozen=True)
class CatalogBody:
    """The current catalog as served: its bytes, compressed copy, and identity."""

    version: int
    sha256: str
    body: bytes
    body_gzip: bytes


def _names(value: str, key: str) -> list[dict[str, str]]:
    return [{key: part} for part in value.split("; ") if part]


def _channel(channel: Channel) -> dict[str, Any]:
    fees = [{"MAPHILEPHI": fee.code, "SOTIEN": fee.amount if fee.amount is not None else "",
             "DONVI": fee.unit, "MOTA": fee.description} for fee in channel.fees]
    return {"KENH": channel.name,
            "THOIGIAN": [{"THOIGIANGIAIQUYET": "", "DONVITINH": "", "MOTA": channel.time_limit, "PHILEPHI": fees}]}


def _grouped(items: list[tuple[str, dict[str, Any]]], outer: str, inner: str) -> list[dict[str, Any]]:
    """Consecutive items of one case (trường hợp) under one group, as the national export nests them."""
    groups: list[dict[str, Any]] = []
    for case, item in items:
        if not groups or groups[-1][outer] != case:
            groups.append({outer: case, inner: []})
        groups[-1][inner].append(item)
    return groups


def to_national(procedure: Procedure) -> dict[str, Any]:
    """One procedure in the national database's JSON shape (upper-case keys), as kiosk.domain.catalog_import
    reads it."""
    record: dict[str, Any] = dict(procedure.extra)  # keys the kiosk kept but does not use, passed on as they came
    record.update({
        "MATTHC": procedure.code,
        "TENTTHC": procedure.name,
        "TRANGTHAI": procedure.status,
        "CAPTHUCHIEN": _names(procedure.level, "TENCAP"),
        "LINHVUCTHUCHIEN": ([{"MALINHVUC": procedure.field_code, "TENLINHVUC": procedure.field_name}]
                            if procedure.field_code or procedure.field_name else []),
        "COQUANTHUCHIEN": _names(procedure.agency, "TENDONVI"),
        "DOITUONGTHUCHIEN": _names(procedure.subjects, "TENDOITUONG"),
        "CACHTHUCTHUCHIEN": [_channel(c) for c in procedure.channels],
        "TRINHTUTHUCHIEN": _grouped([(s.case, {"TENTRINHTU": s.text}) for s in procedure.steps],
                                    "TRUONGHOP", "TRINHTU"),
        "THANHPHANHOSO": _grouped([(d.case, {"TENGIAYTO": d.name, "SOBANCHINH": d.originals, "SOBANSAO": d.copies,
                                             "TENMAUDON": d.form, "URL": d.form_url}) for d in procedure.documents],
                                  "TRUONGHOP", "GIAYTO"),
        "KETQUATHUCHIEN": [{"TENKETQUA": result} for result in procedure.results],
        "CANCUPHAPLY": [{"SOVANBAN": law.number, "TENVANBAN": law.title, "NGAYBANHANH": law.issued,
                         "COQUANBANHANH": law.issuer} for law in procedure.legal_basis],
        "YEUCAU": procedure.requirements,
        "DIACHITIEPNHAN": procedure.address,
    })
    if procedure.online_url:
        record["URL_DVC"] = procedure.online_url
    return record


def national_body(procedures: list[Procedure], source: str) -> bytes:
    """The catalog as compact UTF-8 national JSON, checked to read back to exactly these procedures."""
    body = json.dumps([to_national(p) for p in procedures], ensure_ascii=False, separators=(",", ":")).encode()
    again = parse_national(json.loads(body), source)
    for before, after in zip(procedures, again, strict=True):
        if before != after:
            raise ServerError(f"{source}: thủ tục {before.code} không chuyển được sang dạng JSON quốc gia mà vẫn giữ "
                              "nguyên nội dung; danh mục không thay đổi",
                              f"{source}: procedure {before.code} cannot be written as national JSON without "
                              "changing it; the catalog is unchanged")
    return body


def import_file(engine: Engine, path: Path) -> CatalogVersion:
    """Validate `path` with the kiosk's importer and store it as the new version (unless it is unchanged)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # the importer says what is wrong with the path, in its own words
    if size > protocol.MAX_CATALOG_BYTES:
        raise ServerError(f"{path}: tệp quá lớn ({size} byte; tối đa {protocol.MAX_CATALOG_BYTES})",
                          f"{path}: the file is too large ({size} bytes; at most {protocol.MAX_CATALOG_BYTES})")
    procedures = load_file(path)  # CatalogError (a BilingualError) names the file, record and field
    body = national_body(procedures, str(path))
    if len(body) > protocol.MAX_CATALOG_BYTES:
        raise ServerError(f"{path}: danh mục quá lớn ({len(body)} byte; tối đa {protocol.MAX_CATALOG_BYTES})",
                          f"{path}: the catalog is too large ({len(body)} bytes; at most {protocol.MAX_CATALOG_BYTES})")
    digest = hashlib.sha256(body).hexdigest()
    now = utc_now()
    # Compared before the write transaction, so a large catalog is not parsed while the database is locked.
    changes = _changes_since(engine, procedures)
    with writing(engine) as conn:
        refresh_procedure_info(conn, procedures)
        current = conn.execute(select(CATALOG.c.version, CATALOG.c.sha256, CATALOG.c.source, CATALOG.c.count,
                                      CATALOG.c.imported_at).order_by(CATALOG.c.version.desc()).limit(1)).first()
        if current is not None and current.sha256 == digest:
            return CatalogVersion(current.version, digest, current.source, current[3], current.imported_at,
                                  len(body), new=False)
        if changes.previous_version != (current.version if current is not None else None):
            changes = _changes_against(conn, procedures)  # another import came in between: compare with it
        version = (current.version if current is not None else 0) + 1
        conn.execute(insert(CATALOG).values(version=version, sha256=digest, body=body,
                                            body_gzip=gzip.compress(body, mtime=0), source=str(path)[:500],
                                            count=len(procedures), imported_at=now))
    return CatalogVersion(version, digest, str(path), len(procedures), now, len(body), changes=changes)


def _changes_since(engine: Engine, procedures: list[Procedure]) -> CatalogChanges:
    with reading(engine) as conn:
        return _changes_against(conn, procedures)


def _changes_against(conn: Connection, procedures: list[Procedure]) -> CatalogChanges:
    """The changes from the newest stored version (its national JSON body, read back) to `procedures`."""
    row = conn.execute(select(CATALOG.c.version, CATALOG.c.body).order_by(CATALOG.c.version.desc()).limit(1)).first()
    if row is None:
        return compare(None, procedures, None)
    return compare(procedures_of(bytes(row.body), int(row.version)), procedures, int(row.version))


def procedures_of(body: bytes, version: int) -> list[Procedure]:
    """The procedures of a stored version's body (national JSON, written by national_body)."""
    return parse_national(json.loads(body), f"catalog version {version}")


def refresh_procedure_info(conn: Connection, procedures: list[Procedure]) -> None:
    """Names and fields of these procedures for reports; procedures no longer listed keep theirs.

    Old entries stay so that ratings of a procedure dropped from the catalog still show its name and field.
    Runs on every import, an unchanged catalog too, so a database upgraded from before reports fills up.
    """
    rows = {p.code: {"code": p.code, "name": p.name, "field_code": p.field_code[:64], "field_name": p.field_name}
            for p in procedures}
    codes = list(rows)
    for start in range(0, len(codes), _CHUNK):
        conn.execute(delete(PROCEDURE_INFO).where(PROCEDURE_INFO.c.code.in_(codes[start:start + _CHUNK])))
    if rows:
        conn.execute(insert(PROCEDURE_INFO), list(rows.values()))


def current(engine: Engine) -> CatalogBody | None:
    """The newest catalog version with its body, or None when none was imported."""
    with reading(engine) as conn:
        row = conn.execute(select(CATALOG.c.version, CATALOG.c.sha256, CATALOG.c.body, CATALOG.c.body_gzip)
                           .order_by(CATALOG.c.version.desc()).limit(1)).first()
    return None if row is None else CatalogBody(row.version, row.sha256, bytes(row.body), bytes(row.body_gzip))


def current_tag(engine: Engine) -> tuple[int, str] | None:
    """The newest version number and SHA-256, without loading the body (for 304 answers)."""
    with reading(engine) as conn:
        row = conn.execute(select(CATALOG.c.version, CATALOG.c.sha256)
                           .order_by(CATALOG.c.version.desc()).limit(1)).first()
    return None if row is None else (int(row.version), str(row.sha256))
