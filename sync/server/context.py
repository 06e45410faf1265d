"""What every request handler needs: the settings and the database engine, kept on the application."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.requests import Request

from sync.server.settings import ServerSettings


@dataclass(frozen=True)
class AppContext:
    """The running server's settings and database."""

    settings: ServerSettings
    engine: Engine


def context(request: Request) -> AppContext:
    """The context of the application serving this request."""
    ctx = request.app.state.context
    if not isinstance(ctx, AppContext):
        raise RuntimeError("the application was not made by sync.server.app.create_app: it has no AppContext")
    return ctx
