"""What every results page (the dashboard and the public page) renders with: the names its templates use, times
in the report time zone, and the page that says something is not there."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response

from kiosk.domain.levels import LEVELS
from sync.server.context import AppContext
from sync.server.results import charts, report_view
from sync.server.settings import report_timezone
from sync.server.web import templates

_SHARED: dict[str, Any] = {
    "view": report_view, "charts": charts, "levels": LEVELS, "group_names": report_view.GROUP_NAMES,
    "channel_names": report_view.CHANNEL_NAMES,
    "period_names": report_view.PERIOD_NAMES, "percent": charts.percent, "count": report_view.count,
    "day": report_view.day}


def shared() -> dict[str, Any]:
    """Names every results template uses."""
    return _SHARED.copy()


def zone(ctx: AppContext) -> ZoneInfo:
    """The report time zone: the one the pages' days and times are in."""
    return ZoneInfo(report_timezone(ctx.settings))


def local(moment: datetime | None, in_zone: ZoneInfo) -> str:
    """A moment as the results pages write it, dd/mm/yyyy hh:mm in the zone; '–' for none."""
    return moment.astimezone(in_zone).strftime("%d/%m/%Y %H:%M") if moment else "–"


def not_found(request: Request, vi: str = "Không có trang này.", en: str = "No such page.") -> Response:
    """The page that says what is not there (404)."""
    response = templates.TemplateResponse(request, "public_missing.html", {"message": (vi, en)}, status_code=404)
    response.headers["Cache-Control"] = "no-cache"
    return response
