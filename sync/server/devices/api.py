"""The device API, exactly as sync.protocol names it: enrol, push, acked position, settings, catalog, health, time.

Every handler reads the body itself (capped, see body.py), then does its database work on a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from sync import protocol
from sync.server import registry
from sync.server.catalog import store as catalog
from sync.server.context import AppContext, context
from sync.server.db import reading, utc_now
from sync.server.devices import auth, enrolment, health, ingest
from sync.server.devices.body import check_bigint, decode, parse, read_body
from sync.server.errors import ApiError
from sync.server.models import DEVICE

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
router = APIRouter()


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": protocol.ErrorBody} for status in statuses}


def _request_body(model: type[Any]) -> dict[str, Any]:
    """How the OpenAPI document describes a body these handlers read themselves."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def signing_headers(
    device: Annotated[str | None, Header(alias=protocol.H_DEVICE)] = None,
    timestamp: Annotated[str | None, Header(alias=protocol.H_TIMESTAMP)] = None,
    nonce: Annotated[str | None, Header(alias=protocol.H_NONCE)] = None,
    signature: Annotated[str | None, Header(alias=protocol.H_SIGNATURE)] = None,
) -> dict[str, str]:
    """The four signing headers (declared here so the OpenAPI document lists them)."""
    given = {protocol.H_DEVICE: device, protocol.H_TIMESTAMP: timestamp, protocol.H_NONCE: nonce,
             protocol.H_SIGNATURE: signature}
    return {name: value for name, value in given.items() if value is not None}


Signed = Annotated[dict[str, str], Depends(signing_headers)]
SIGNED_ERRORS = (400, 401, 403, 409, 413, 415, 422)
CATALOG_SCHEMA = {"type": "array", "items": {"type": "object"}}


async def _threaded(work: Callable[[], T]) -> T:
    return await run_in_threadpool(work)


@dataclass(frozen=True)
class DeviceCall:
    """A signed request from an enrolled, active device, authenticated: what a handler works with."""

    ctx: AppContext
    caller: auth.Caller
    raw: bytes        # the body as sent (still compressed, if it was)
    now: datetime     # when the request arrived
    request: Request

    def body(self, model: type[M]) -> M:
        """The body, decoded and parsed as `model` (400/415/422 when it cannot be)."""
        return parse(model, decode(self.raw, self.request.headers.get("content-encoding")))


async def _from_device(request: Request, signed: dict[str, str], handle: Callable[[DeviceCall], T]) -> T:
    """Read the body, then on a worker thread authenticate the signing device and hand the call to `handle`."""
    now = utc_now()
    ctx = context(request)
    raw = await read_body(request)

    def work() -> T:
        caller = auth.authenticate(ctx.engine, signed, request.method, request.url.path, raw, now)
        return handle(DeviceCall(ctx, caller, raw, now, request))

    return await _threaded(work)


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    """True when If-None-Match names this entity tag (weak or strong) or is '*'."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == tag:
            return True
    return False


@router.get(protocol.TIME_PATH, response_model=protocol.TimeResponse, tags=["device"])
def server_time() -> protocol.TimeResponse:
    """The server's clock (unsigned): an agent measures its offset with it before signing."""
    return protocol.TimeResponse(server_time=utc_now())


@router.post(protocol.ENROLL_PATH, response_model=protocol.EnrollResponse, tags=["device"],
             responses=_errors(*SIGNED_ERRORS), openapi_extra=_request_body(protocol.EnrollRequest))
async def enroll(request: Request, signed: Signed) -> protocol.EnrollResponse:
    """Enrol a kiosk: its public key bound to the device IT registered, with the one-time code."""
    now = utc_now()
    ctx = context(request)
    raw = await read_body(request)
    message = parse(protocol.EnrollRequest, decode(raw, request.headers.get("content-encoding")))

    def work() -> protocol.EnrollResponse:
        auth.authenticate_enrolment(ctx.engine, signed, request.url.path, raw, message, now)
        return enrolment.enrol(ctx.engine, message, now)

    return await _threaded(work)


@router.post(protocol.PUSH_PATH, response_model=protocol.PushResponse, tags=["device"],
             responses=_errors(*SIGNED_ERRORS), openapi_extra=_request_body(protocol.PushRequest))
async def push(request: Request, signed: Signed) -> protocol.PushResponse:
    """Store a batch of signed records; answer with what the server now holds without a gap."""
    def handle(call: DeviceCall) -> protocol.PushResponse:
        batch = call.body(protocol.PushRequest)
        if batch.device_id != call.caller.device_id:
            raise ApiError(400, protocol.E_WRONG_DEVICE,
                           "device_id trong nội dung khác với thiết bị đã ký yêu cầu",
                           "the body's device_id differs from the device that signed the request")
        result = ingest.push(call.ctx.engine, call.caller.device_id, batch.records,
                             public_key=call.caller.public_key, now=call.now, device_time=batch.device_time,
                             clock_tolerance_s=call.ctx.settings.fleet.clock_drift_flag_s)
        if result.error is not None:
            raise result.error
        return result.response()

    return await _from_device(request, signed, handle)


@router.get(protocol.PUSH_PATH, response_model=protocol.AckResponse, tags=["device"],
            responses=_errors(*SIGNED_ERRORS))
async def acked_position(request: Request, signed: Signed) -> protocol.AckResponse:
    """Where the server's copy of this device's chain ends: what a push would answer, without pushing."""
    def handle(call: DeviceCall) -> protocol.AckResponse:
        with reading(call.ctx.engine) as conn:
            row = conn.execute(select(DEVICE.c.acked_seq, DEVICE.c.acked_hash)
                               .where(DEVICE.c.id == call.caller.device_id)).one()
        return protocol.AckResponse(acked_seq=int(row.acked_seq), acked_hash=str(row.acked_hash))

    return await _from_device(request, signed, handle)


@router.get(protocol.SETTINGS_PATH, response_model=protocol.DeviceSettings, tags=["device"],
            responses={304: {"description": "Không đổi / Not modified"}, **_errors(*SIGNED_ERRORS)})
async def device_settings(request: Request, signed: Signed) -> Response:
    """The settings this device should run with; 304 when If-None-Match names the current version."""
    def handle(call: DeviceCall) -> Response:
        with reading(call.ctx.engine) as conn:
            settings = registry.device_settings(conn, call.caller.device_id)
        headers = {"ETag": f'"{settings.version}"', "Cache-Control": "no-cache"}
        if etag_matches(request.headers.get("if-none-match"), settings.version):
            return Response(status_code=304, headers=headers)
        return JSONResponse(settings.model_dump(mode="json"), headers=headers)

    return await _from_device(request, signed, handle)


@router.get(protocol.CATALOG_PATH, tags=["device"],
            responses={200: {"description": "Danh mục thủ tục dạng JSON quốc gia / the national procedure JSON",
                             "content": {"application/json": {"schema": CATALOG_SCHEMA}}},
                       304: {"description": "Không đổi / Not modified"}, **_errors(*SIGNED_ERRORS, 404)})
async def procedure_catalog(request: Request, signed: Signed) -> Response:
    """The procedure catalog to distribute (ETag: its SHA-256); 304 when unchanged, 404 when there is none."""
    def handle(call: DeviceCall) -> Response:
        ctx = call.ctx
        tag = catalog.current_tag(ctx.engine)
        if tag is None:
            raise ApiError(404, protocol.E_NOT_FOUND, "Máy chủ chưa có danh mục thủ tục để phân phối",
                           "the server has no procedure catalog to distribute")
        version, sha = tag
        headers = {"ETag": f'"{sha}"', protocol.H_CATALOG_VERSION: str(version), "Cache-Control": "no-cache",
                   "Vary": "Accept-Encoding"}
        if etag_matches(request.headers.get("if-none-match"), sha):
            return Response(status_code=304, headers=headers)
        body = catalog.current(ctx.engine)
        if body is None:  # removed between the two reads: nothing to send
            raise ApiError(404, protocol.E_NOT_FOUND, "Máy chủ chưa có danh mục thủ tục", "no procedure catalog")
        headers.update({"ETag": f'"{body.sha256}"', protocol.H_CATALOG_VERSION: str(body.version)})
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            headers["Content-Encoding"] = "gzip"
            return Response(body.body_gzip, media_type="application/json", headers=headers)
        return Response(body.body, media_type="application/json", headers=headers)

    return await _from_device(request, signed, handle)


@router.post(protocol.HEALTH_PATH, response_model=protocol.HealthResponse, tags=["device"],
             responses=_errors(*SIGNED_ERRORS), openapi_extra=_request_body(protocol.HealthReport))
async def device_health(request: Request, signed: Signed) -> protocol.HealthResponse:
    """Record what the device says about itself; answer with the clock drift the server measured."""
    def handle(call: DeviceCall) -> protocol.HealthResponse:
        report = call.body(protocol.HealthReport)
        check_bigint(queue_depth=report.queue_depth, head_seq=report.head_seq, acked_seq=report.acked_seq,
                     disk_free_bytes=report.disk_free_bytes)
        return health.record(call.ctx.engine, call.caller.device_id, report, call.now,
                             call.ctx.settings.fleet.clock_drift_flag_s)

    return await _from_device(request, signed, handle)


def request_models() -> list[type[Any]]:
    """The request bodies the OpenAPI document must describe (the handlers read them themselves)."""
    return [protocol.EnrollRequest, protocol.PushRequest, protocol.HealthReport]

