"""The public results page (/ket-qua): the agencies that published results, and each one's published reports.

It shows only reports an office froze into a publication from the dashboard, never live figures, so nothing
reaches the public that the office did not choose. An embeddable variant (?embed=1) may sit in an agency's
website.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sync.server import registry
from sync.server.cases import store as cases
from sync.server.context import AppContext, context
from sync.server.db import reading
from sync.server.errors import ServerError
from sync.server.results import charts, publications, targets
from sync.server.results.rendering import local, not_found, shared, zone
from sync.server.web import templates

router = APIRouter(include_in_schema=False)
PUBLIC = "/ket-qua"


def _public_response(request: Request, name: str, values: dict[str, Any], embed: bool) -> Response:
    """A public page: asked for again on every view, frameable only in its embeddable variant."""
    response = templates.TemplateResponse(request, name, values | shared() | {"embed": embed})
    # Published results change only when the office publishes or withdraws: always ask again, cheaply.
    response.headers["Cache-Control"] = "no-cache"
    if embed:
        # The embeddable variant may sit in an agency's website; every other page refuses framing.
        response.headers["Content-Security-Policy"] = "frame-ancestors *"
    return response


@router.get(PUBLIC)
def public_index(request: Request) -> Response:
    """Every agency that has published results."""
    ctx = context(request)
    found = publications.agencies_with_publications(ctx.engine)
    return _public_response(request, "public_index.html", {"agencies": found}, False)


def _answers(ctx: AppContext, code: str) -> list[tuple[str, str, str]]:
    """The agency's published questions and replies (sync/server/cases), with the day each was published."""
    in_zone = zone(ctx)
    return [(question, reply, local(at, in_zone)) for question, reply, at in cases.published(ctx.engine, code)]


def _agency_public(request: Request, code: str, publication_id: int | None) -> Response:
    """The agency's chosen publication (None: its latest) with the list of the others."""
    ctx = context(request)
    embed = request.query_params.get("embed", "") in ("1", "true")
    try:
        with reading(ctx.engine) as conn:
            agency = registry.agency(conn, code)
    except ServerError:
        return not_found(request, f"Không có cơ quan mã «{code[:64]}».", f"No agency with code '{code[:64]}'.")
    listed = publications.published(ctx.engine, code)
    chosen_id = publication_id if publication_id is not None else (listed[0].id if listed else None)
    chosen = publications.find(ctx.engine, code, chosen_id) if chosen_id is not None else None
    if chosen is None:
        if publication_id is not None:
            return not_found(request, "Không có bản công bố này (có thể đã được thu hồi).",
                              "No such publication (it may have been withdrawn).")
        return _public_response(request, "public.html", {"agency": agency, "publication": None, "listed": [],
                                                         "report": None, "answers": _answers(ctx, code)}, embed)
    report = chosen.report()
    in_zone = zone(ctx)
    values = {"agency": agency, "publication": chosen, "listed": listed, "report": report,
              "published_at": local(chosen.published_at, in_zone),
              "distribution": charts.distribution_bar(report.total.levels, chart_id="pub-dist"),
              "distribution_narrow": charts.distribution_bar(report.total.levels, width=360, chart_id="pub-dist-n"),
              "self_link": f"{PUBLIC}/{quote(code)}/{chosen.id}",
              "target": targets.headline(report.total, chosen.goal()), "answers": _answers(ctx, code)}
    return _public_response(request, "public.html", values, embed)


@router.get(PUBLIC + "/{code}")
def public_latest(request: Request, code: str) -> Response:
    """The agency's latest published results and the list of its published periods."""
    return _agency_public(request, code, None)


@router.get(PUBLIC + "/{code}/{number}")
def public_one(request: Request, code: str, number: str) -> Response:
    """One published report of the agency."""
    if not (number.isascii() and number.isdigit()) or len(number) > 12:
        return not_found(request, f"Số bản công bố không hợp lệ: «{number[:20]}».",
                          f"Not a publication number: '{number[:20]}'.")
    return _agency_public(request, code, int(number))
