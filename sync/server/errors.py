"""The refusals the server makes: a device request's 4xx answer, and a command's or a page's error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiosk.domain.errors import BilingualError
from sync import protocol


class ServerError(BilingualError):
    """A failure an IT person must read: Vietnamese first, English second (CLI exit code 2)."""


class ReportError(ServerError, ValueError):
    """A report that cannot be made as asked (bad period, grouping, agency), or a device review refused."""


class ApiError(Exception):
    """A refused device request: its HTTP status and the protocol.ErrorBody it answers with."""

    def __init__(self, status: int, code: str, vi: str, en: str, *, acked_seq: int | None = None,
                 first_bad_seq: int | None = None, server_time: datetime | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {en}")
        self.status = status
        self.body = protocol.ErrorBody(code=code, message_vi=vi, message_en=en, acked_seq=acked_seq,
                                       first_bad_seq=first_bad_seq, server_time=server_time)
        self.headers = headers or {}

    def json(self) -> dict[str, Any]:
        """The ErrorBody as JSON-ready data, empty optional fields left out."""
        return self.body.model_dump(mode="json", exclude_none=True)
