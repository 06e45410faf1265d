"""The central server's web application: the device API, the IT pages, and answers that are never a stack trace."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk import __version__
from sync import protocol
from sync.server import settings as server_settings
from sync.server import web
from sync.server.admin import pages
from sync.server.cases import pages as case_pages
from sync.server.catalog import pages as catalog_pages
from sync.server.channels import paper_pages, web_pages
from sync.server.context import AppContext
from sync.server.db import open_database, utc_now
from sync.server.devices import api
from sync.server.errors import ApiError
from sync.server.results import dashboard, public
from sync.server.secret import ServerSecret
from sync.server.settings import ServerSettings

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class ServerTimeHeaders:
    """Adds the server's clock (protocol.H_SERVER_TIME) and a few safety headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; stamp the response's headers as they go out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((protocol.H_SERVER_TIME.lower().encode(), utc_now().isoformat().encode()))
                # A response that says who may frame it (CSP frame-ancestors: the embeddable public results
                # page) keeps that choice; every other response refuses framing.
                framing_set = any(name.lower() == b"content-security-policy" and b"frame-ancestors" in value
                                  for name, value in headers)
                headers.extend(h for h in _SECURITY_HEADERS if not (framing_set and h[0] == b"x-frame-options"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, stamped)


def _error(status: int, code: str, vi: str, en: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return _api_error(ApiError(status, code, vi, en, headers=headers))


def _api_error(error: ApiError) -> JSONResponse:
    return JSONResponse(error.json(), status_code=error.status, headers=error.headers)


async def _on_api_error(_request: Request, error: ApiError) -> Response:
    return _api_error(error)


async def _on_early_response(_request: Request, early: web.EarlyResponse) -> Response:
    return early.response


async def _on_validation(_request: Request, error: RequestValidationError) -> Response:
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": ""}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return _error(422, protocol.E_MALFORMED, f"Yêu cầu sai dạng tại «{where}»: {first.get('msg', '')}",
                  f"malformed request at '{where}': {first.get('msg', '')}")


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at the request's path (Starlette's 405 names only the first route's)."""
    routes = request.app.router.routes
    return ", ".join(method for method in _METHODS
                     if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes))


async def _on_http(request: Request, error: StarletteHTTPException) -> Response:
    if error.status_code == 404:
        return _error(404, protocol.E_NOT_FOUND, "Không có địa chỉ này trên máy chủ", "no such path on this server")
    if error.status_code == 405:
        headers = dict(error.headers or {})
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = allowed
        return _error(405, protocol.E_METHOD, "Địa chỉ này không nhận phương thức đó",
                      "this path does not take that method", headers)
    return _error(error.status_code, protocol.E_MALFORMED, f"Yêu cầu bị từ chối: {error.detail}",
                  f"request refused: {error.detail}")


async def _on_database(_request: Request, error: Exception) -> Response:
    log.error("database unavailable: %s", error)
    return _error(503, protocol.E_UNAVAILABLE, "Máy chủ tạm thời không truy cập được cơ sở dữ liệu; hãy thử lại sau",
                  "the server cannot reach its database right now; try again later", {"Retry-After": "30"})


async def _on_anything(_request: Request, error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    response = _error(500, protocol.E_INTERNAL, "Lỗi trong máy chủ (đã ghi nhật ký); hãy thử lại sau",
                      "a fault in the server (logged); try again later")
    response.headers[protocol.H_SERVER_TIME] = utc_now().isoformat()
    return response


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus the request bodies the handlers read themselves (for clients and fuzzers)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in api.request_models():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    app.openapi_schema = document
    return document


def create_app(settings: ServerSettings, engine: Engine | None = None, *, database_url: str | None = None,
               data_dir: Path | None = None) -> FastAPI:
    """The application on `engine` (else on the settings' database, migrated in place first), keeping its files
    (the server's secret, scanned forms) in `data_dir` (else the settings' data directory)."""
    directory = data_dir or server_settings.data_dir(settings, None)
    if engine is None:
        engine = open_database(database_url or server_settings.database_url(settings, None, directory))
    # No Swagger UI or ReDoc: both load their scripts from a CDN, and no page of this server may need the
    # internet. The OpenAPI document itself stays at /openapi.json.
    app = FastAPI(title="Kiosk Một cửa — máy chủ trung tâm / central server", version=__version__,
                  docs_url=None, redoc_url=None,
                  description="API đồng bộ cho kiosk (sync.protocol) và trang quản trị / the kiosks' sync API "
                  f"(sync.protocol, version {protocol.PROTOCOL_VERSION}) and the IT pages")
    app.state.context = AppContext(settings, engine, directory, ServerSecret.load_or_create(directory))
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(dashboard.router)
    app.include_router(public.router)
    app.include_router(web.router)
    app.include_router(web_pages.router)
    app.include_router(paper_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(case_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Registered through the decorator, which takes each handler typed for the exception it handles.
    app.exception_handler(ApiError)(_on_api_error)
    app.exception_handler(web.EarlyResponse)(_on_early_response)
    app.exception_handler(RequestValidationError)(_on_validation)
    app.exception_handler(StarletteHTTPException)(_on_http)
    for database_error in (exc.OperationalError, exc.InterfaceError, exc.TimeoutError):
        app.add_exception_handler(database_error, _on_database)
    app.add_exception_handler(Exception, _on_anything)
    app.add_middleware(ServerTimeHeaders)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
