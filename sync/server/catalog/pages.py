"""The public procedure pages (/thu-tuc): the catalog searched as at the kiosk, a page per procedure, an agency's list.

Plain HTML forms (GET ?q=), so search works without JavaScript; nothing is loaded from the internet; form and
online-service addresses from the catalog are shown as links and never fetched. `?embed=1` drops the header and
footer and allows framing, as the public results page does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sync.server.catalog import search as public_catalog
from sync.server.channels.posters import qr_svg
from sync.server.context import context
from sync.server.errors import ServerError
from sync.server.web import templates

router = APIRouter(include_in_schema=False)
PUBLIC = "/thu-tuc"
PAGE_SIZE = 30
MAX_QUERY = 200  # characters of a query kept; more than any procedure name


def procedure_path(code: str) -> str:
    """The public page of one procedure."""
    return f"{PUBLIC}/p/{code}"


def _embed(request: Request) -> bool:
    return request.query_params.get("embed", "") in ("1", "true")


def _page(request: Request, name: str, values: dict[str, Any], status: int = 200) -> Response:
    embed = _embed(request)
    response = templates.TemplateResponse(request, name, values | {"embed": embed, "public": PUBLIC,
                                                                   "procedure_path": procedure_path},
                                          status_code=status)
    response.headers["Cache-Control"] = "no-cache"
    if embed:
        # The embeddable variant may sit in a commune's website; every other page refuses framing.
        response.headers["Content-Security-Policy"] = "frame-ancestors *"
    return response


def _missing(request: Request, vi: str, en: str) -> Response:
    return _page(request, "catalog_missing.html", {"message": (vi, en)}, 404)


def _number(text: str) -> int:
    return max(1, int(text)) if text.isascii() and text.isdigit() and len(text) < 7 else 1


def _listing(request: Request, agency: Any = None, codes: frozenset[str] | None = None) -> Response:
    ctx = context(request)
    indexed = public_catalog.current_index(ctx.engine)
    query = request.query_params.get("q", "")[:MAX_QUERY]
    field_code = request.query_params.get("linh-vuc", "")[:64]
    page = _number(request.query_params.get("trang", "1"))
    values: dict[str, Any] = {"agency": agency, "query": query, "field_code": field_code, "indexed": indexed,
                              "hits": [], "fields": [], "total": 0, "page": page, "pages": 1, "links": {}}
    if indexed is not None:
        found = indexed.index.search(query, field_code or None, None, codes)
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = min(page, pages)
        base = {k: v for k, v in (("q", query), ("linh-vuc", field_code)) if v}
        if _embed(request):
            base["embed"] = "1"
        path = request.url.path
        values |= {"hits": found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], "total": len(found), "page": page,
                   "pages": pages, "fields": indexed.index.fields(),
                   "links": {n: f"{path}?{urlencode(base | {'trang': str(n)})}" for n in range(1, pages + 1)},
                   "field_name": next((f[1] for f in indexed.index.fields() if f[0] == field_code), "")}
    return _page(request, "catalog.html", values)


@router.get(PUBLIC)
def catalog_index(request: Request) -> Response:
    """Every procedure of the catalog, or those matching ?q= (diacritics optional), optionally of one field."""
    return _listing(request)


@router.get(PUBLIC + "/p/{code}")
def procedure_page(request: Request, code: str) -> Response:
    """One procedure: documents and forms, steps, time and fees per channel, where to submit, legal basis."""
    indexed = public_catalog.current_index(context(request).engine)
    procedure = indexed.index.get(code) if indexed is not None else None
    if procedure is None:
        return _missing(request, f"Không có thủ tục mã «{code[:40]}» trong danh mục.",
                        f"No procedure with code '{code[:40]}' in the catalog.")
    qr = None
    if procedure.online_url and public_catalog.web_link(procedure.online_url):
        qr = qr_svg(procedure.online_url, f"Mã QR: {procedure.online_url}")
    values = {"p": procedure, "qr": qr, "channels": public_catalog.channels(procedure),
              "documents": public_catalog.grouped(procedure.documents),
              "steps": public_catalog.grouped(procedure.steps), "forms": public_catalog.forms(procedure),
              "web_link": public_catalog.web_link, "version": indexed.version if indexed else None,
              "self_link": procedure_path(procedure.code)}
    return _page(request, "catalog_procedure.html", values)


@router.get(PUBLIC + "/{agency_code}")
def agency_catalog(request: Request, agency_code: str) -> Response:
    """The procedures an agency's counters handle (as IT listed them for each counter), searchable the same way."""
    try:
        agency, codes = public_catalog.agency_codes(context(request).engine, agency_code)
    except ServerError:
        return _missing(request, f"Không có cơ quan mã «{agency_code[:64]}».",
                        f"No agency with code '{agency_code[:64]}'.")
    return _listing(request, agency, codes)
