"""What every request handler needs: the settings and the database engine, kept on the application."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from starlette.requests import Request

from sync.server.secret import ServerSecret
from sync.server.settings import ServerSettings


@dataclass(frozen=True)
class AppContext:
    """The running server's settings, database, data directory and secret."""

    settings: ServerSettings
    engine: Engine
    data_dir: Path
    secret: ServerSecret


def context(request: Request) -> AppContext:
    """The context of the application serving this request."""
    ctx = request.app.state.context
    if not isinstance(ctx, AppContext):
        raise RuntimeError("the application was not made by sync.server.app.create_app: it has no AppContext")
    return ctx
