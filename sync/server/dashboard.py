"""The results pages: the staff dashboard with its downloads and publishing, and the public results page.

The dashboard (sign-in required, like the fleet) shows what reports.py computes for the chosen period,
grouping and agency. Publishing freezes that report into a `publication` row; /ket-qua/<agency> shows only
such frozen reports, never live figures, so nothing reaches the public that the office did not choose.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from kiosk.domain.levels import LEVELS
from sync.server import admin, alerts, charts, dashboard_query, exports, publications, registry, report_view, reports
from sync.server.body import read_body
from sync.server.context import AppContext, context
from sync.server.dashboard_query import QueryError
from sync.server.db import reading, utc_now
from sync.server.errors import ApiError, ServerError
from sync.server.pages import SESSION_COOKIE, templates
from sync.server.settings import report_timezone
from sync.server.table_exports import table_csv, table_xlsx

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
DASHBOARD = "/dashboard"
PUBLIC = "/ket-qua"
FORM_LIMIT = 16 * 1024
COMMENTS_SHOWN = 20
HARASSMENT_SHOWN = 50
ALERTS_SHOWN = 50
EXPORTS = (*exports.TABLES, "trend", "harassment", "comments")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOTHING_CHANGED = (". Không có gì thay đổi.", ". Nothing changed.")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _zone(ctx: AppContext) -> ZoneInfo:
    return ZoneInfo(report_timezone(ctx.settings))


def _today(ctx: AppContext) -> date:
    return utc_now().astimezone(_zone(ctx)).date()


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M") if moment else "–"


def _signed_in(request: Request, ctx: AppContext) -> admin.Session | None:
    return admin.session(ctx.engine, request.cookies.get(SESSION_COOKIE))


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)


def _link(path: str, query: reports.ReportQuery, **extra: str) -> str:
    return path + "?" + urlencode(dashboard_query.to_params(query) | extra)


def _file_name(query: reports.ReportQuery, what: str, extension: str) -> str:
    period = query.period
    agency = query.agency_code or "tat-ca"
    name = f"ket-qua-{agency}-{period.first.isoformat()}-{period.last.isoformat()}-{query.group_by}-{what}"
    return _SAFE_NAME.sub("-", name) + "." + extension


def _download(body: str | bytes, file_name: str, media_type: str) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{file_name}\"", "Cache-Control": "no-store"})


# ---- the dashboard ------------------------------------------------------------------------------------------
#
# One GET of the dashboard is one pooled connection and one read transaction: the sign-in, the agencies, the
# report's four parts, the alerts and the publications are all read on it (one checkout, one ping, one
# rollback instead of six), then the connection goes back before the template is rendered.

def _agencies(ctx: AppContext) -> list[registry.Agency]:
    return registry.list_agencies(ctx.engine)


def _query(request_params: Mapping[str, str], ctx: AppContext,
           agencies: list[registry.Agency]) -> reports.ReportQuery:
    return dashboard_query.parse(request_params, _today(ctx), {a.code for a in agencies})


def _ranking_links(query_string: str, ranking: report_view.RankingPage) -> dict[str, Any]:
    """Every link of the ranking's pager and views: the page's choices kept, only page and view changed."""
    def link(number: int, view: str) -> str:
        extra = urlencode(dashboard_query.ranking_params(number, view))
        return f"{DASHBOARD}?{query_string}{'&' if extra else ''}{extra}#ranking"

    view, number, pages = ranking.view, ranking.number, ranking.pages
    return {
        "pages": [(n, link(n, view) if n is not None else "") for n in report_view.page_numbers(
            min(number, pages), pages)],
        "previous": link(min(number, pages + 1) - 1, view) if number > 1 else "",
        "next": link(number + 1, view) if number < pages else "",
        "all": link(1, "all"), "flagged": link(1, "flagged"),
    }


def _page_context(conn: Connection, ctx: AppContext, query: reports.ReportQuery, page: int,
                  view: str) -> dict[str, Any]:
    """Everything the dashboard shows for one query, each figure from reports.py, read on `conn`."""
    settings = ctx.settings
    span, bucket = report_view.trend_span(query.period)
    found = reports.dashboard_on(conn, query, settings, trend_period=span, bucket=bucket,
                                 harassment_limit=HARASSMENT_SHOWN, comments_limit=COMMENTS_SHOWN)
    report, trend, harassment, comments = found.report, found.trend, found.harassment, found.comments
    raised = alerts.active_alerts_on(conn, query.agency_code, limit=ALERTS_SHOWN)
    out = publications.published_on(conn, query.agency_code) if query.agency_code else []
    zone = _zone(ctx)
    previous = query.period.previous()
    query_string = urlencode(dashboard_query.to_params(query))
    ranking = report_view.ranking_page(report, page, view)
    return {
        "report": report, "query": query, "bucket": bucket, "trend_span": span,
        "trend_table": report_view.trend_table(trend, bucket),
        "harassment": report_view.comments_table("harassment", harassment, with_agency=not query.agency_code),
        "comments": report_view.comments_table("comments", comments, with_agency=not query.agency_code),
        "alerts": raised, "publications": out,
        "ranking": ranking, "ranking_links": _ranking_links(query_string, ranking),
        "previous_link": _link(DASHBOARD, dashboard_query.with_period(query, previous)),
        "next_link": _link(DASHBOARD, dashboard_query.with_period(query, report_view.next_period(query.period))),
        "previous_label": previous.label(),
        "distribution": charts.distribution_bar(report.total.levels),
        "distribution_narrow": charts.distribution_bar(report.total.levels, width=360, chart_id="dist-n"),
        "previous_distribution": charts.distribution_bar(report.previous_total.levels, height=24,
                                                         chart_id="dist-prev"),
        "trend_chart": charts.trend_chart(report_view.trend_values(trend, bucket)),
        "downloads": {name: {fmt: f"{DASHBOARD}/export/{name}.{fmt}?{query_string}" for fmt in ("csv", "xlsx")}
                      for name in EXPORTS},
        "default_title": _default_title(report, query),
        "local": lambda moment: _local(moment, zone),
    }


def _default_title(report: reports.Report, query: reports.ReportQuery) -> str:
    where = f" — {report.agency_name}" if report.agency_name else ""
    return f"Kết quả đánh giá sự hài lòng{where} — {query.period.label()}"


def _dashboard_values(conn: Connection, ctx: AppContext, session: admin.Session, params: Mapping[str, str], *,
                      status: int = 200, message: tuple[str, str] | None = None,
                      notice: tuple[str, str] | None = None) -> tuple[dict[str, Any], int]:
    """What the template shows for the choices in `params`, and the status; a choice that cannot be used is named
    and marked in the form, a ranking page past the last is said in words (404, the figures still shown)."""
    agencies = registry.list_agencies_on(conn)
    values: dict[str, Any] = {"session": session, "agencies": agencies, "params": dict(params),
                              "message": message, "notice": notice, "error_field": None, **_shared()}
    query: reports.ReportQuery | None = None
    try:
        query = _query(params, ctx, agencies)
        page, view = dashboard_query.ranking_choice(params)
    except QueryError as error:
        values |= {"message": message or (error.vi, error.en), "error_field": error.field}
        return values, max(status, 400)
    values |= _page_context(conn, ctx, query, page, view)
    values["params"] = dashboard_query.to_params(query)
    values["agency"] = next((a for a in agencies if a.code == query.agency_code), None)
    ranking: report_view.RankingPage = values["ranking"]
    if not ranking.exists:
        values["message"] = message or (
            f"Bảng xếp hạng không có trang {page}: chỉ có {ranking.pages} trang "
            f"({ranking.per_page} dòng một trang). Các số liệu khác vẫn hiện bên dưới.",
            f"The ranking has no page {page}: it has {ranking.pages} page{'s' if ranking.pages > 1 else ''} "
            f"({ranking.per_page} rows a page). The other figures are shown below.")
        status = max(status, 404)
    return values, status


def _respond(request: Request, values: dict[str, Any], status: int) -> Response:
    response = templates.TemplateResponse(request, "dashboard.html", values, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_dashboard(request: Request, ctx: AppContext, session: admin.Session, params: Mapping[str, str], *,
                      status: int = 200, message: tuple[str, str] | None = None,
                      notice: tuple[str, str] | None = None) -> Response:
    """The dashboard for the choices in `params`; a choice that cannot be used is named and marked in the form."""
    with reading(ctx.engine) as conn:
        values, status = _dashboard_values(conn, ctx, session, params, status=status, message=message,
                                           notice=notice)
    return _respond(request, values, status)


def _shared() -> dict[str, Any]:
    """Names every results template uses."""
    return _SHARED.copy()


_SHARED: dict[str, Any] = {
    "view": report_view, "charts": charts, "levels": LEVELS, "group_names": report_view.GROUP_NAMES,
    "period_names": report_view.PERIOD_NAMES, "percent": charts.percent, "count": report_view.count,
    "day": report_view.day}


@router.get(DASHBOARD)
def dashboard_page(request: Request) -> Response:
    """The results for the chosen period, grouping and agency, with downloads and the publish form."""
    ctx = context(request)
    notice = None
    published = request.query_params.get("published", "")
    if published.isdigit():
        notice = (f"Đã công bố (số {published}). Trang công khai đã hiện kết quả này.",
                  f"Published (number {published}). The public page now shows these results.")
    elif request.query_params.get("withdrawn", "").isdigit():
        notice = ("Đã thu hồi; trang công khai không còn hiện bản này.",
                  "Withdrawn; the public page no longer shows it.")
    with reading(ctx.engine) as conn:
        session = admin.session_on(conn, request.cookies.get(SESSION_COOKIE))
        if session is None:
            return _to_login(request)
        values, status = _dashboard_values(conn, ctx, session, request.query_params, notice=notice)
    return _respond(request, values, status)


def _export(ctx: AppContext, query: reports.ReportQuery, name: str, fmt: str) -> Response:
    engine, settings = ctx.engine, ctx.settings
    file_name = _file_name(query, name, fmt)
    if name in exports.TABLES:  # the report's own tables: one CSV each, one workbook for all three
        report = reports.build(engine, query, settings)
        if fmt == "csv":
            return _download(exports.report_csv(report, "vi", name), file_name, CSV_TYPE)
        return _download(exports.report_xlsx(report, "vi"), _file_name(query, "bao-cao", fmt), XLSX_TYPE)
    if name == "trend":
        span, bucket = report_view.trend_span(query.period)
        points = reports.trend(engine, dashboard_query.with_period(query, span), settings, bucket)
        if fmt == "csv":
            return _download(exports.trend_csv(points, "vi"), file_name, CSV_TYPE)
        table = report_view.trend_table(points, bucket)
    elif name == "harassment":
        table = report_view.comments_table(name, reports.harassment_reports(engine, query, settings,
                                                                            limit=HARASSMENT_SHOWN),
                                           with_agency=not query.agency_code)
    else:
        table = report_view.comments_table(name, reports.latest_comments(engine, query, settings,
                                                                         limit=COMMENTS_SHOWN),
                                           with_agency=not query.agency_code)
    if fmt == "csv":
        return _download(table_csv(table), file_name, CSV_TYPE)
    return _download(table_xlsx(table), file_name, XLSX_TYPE)


@router.get(DASHBOARD + "/export/{name}.{fmt}")
def export_download(request: Request, name: str, fmt: str) -> Response:
    """One table of the page as CSV or Excel, with the page's numbers (the report's tables share one workbook)."""
    ctx = context(request)
    if _signed_in(request, ctx) is None:
        return _to_login(request)
    if name not in EXPORTS or fmt not in ("csv", "xlsx"):
        return _not_found(request)
    try:
        query = _query(request.query_params, ctx, _agencies(ctx))
    except QueryError as error:
        return Response(f"{error.vi}\n{error.en}\n", status_code=400, media_type="text/plain; charset=utf-8")
    return _export(ctx, query, name, fmt)


# ---- publishing -------------------------------------------------------------------------------------------

async def _form(request: Request) -> dict[str, str]:
    raw = await read_body(request, FORM_LIMIT)
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {key: values[0] for key, values in parsed.items() if values}


async def _checked_form(request: Request, ctx: AppContext) -> tuple[admin.Session | None, dict[str, str],
                                                                   Response | None]:
    """The signed-in session and the form, or the answer that refuses it (nothing changed)."""
    session = await run_in_threadpool(_signed_in, request, ctx)
    if session is None:
        return None, {}, RedirectResponse("/login?next=" + quote(DASHBOARD, safe=""), status_code=303)
    try:
        form = await _form(request)
    except ApiError:
        return session, {}, await run_in_threadpool(
            _render_dashboard, request, ctx, session, {}, status=413,
            message=("Biểu mẫu quá lớn; không có gì thay đổi.", "The form is too large; nothing changed."))
    if not admin.csrf_ok(session.csrf_token, form.get("csrf")):
        return session, form, await run_in_threadpool(
            _render_dashboard, request, ctx, session, _params_of(form), status=403,
            message=("Biểu mẫu đã hết hạn hoặc không phải từ trang này; không có gì thay đổi. Hãy thử lại.",
                     "The form expired or did not come from this page; nothing changed. Please try again."))
    return session, form, None


def _params_of(form: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k in ("period", "date", "from", "to", "group", "agency", "repeats")}


@router.post(DASHBOARD + "/publish")
async def publish(request: Request) -> Response:
    """Freeze the report for the chosen agency, period and grouping into a publication."""
    ctx = context(request)
    session, form, refusal = await _checked_form(request, ctx)
    if refusal is not None:
        return refusal
    assert session is not None
    params = _params_of(form)
    try:
        query = await run_in_threadpool(lambda: _query(params, ctx, _agencies(ctx)))
    except QueryError as error:
        return await run_in_threadpool(_render_dashboard, request, ctx, session, params, status=400,
                                       message=(error.vi + NOTHING_CHANGED[0], error.en + NOTHING_CHANGED[1]))
    try:
        report = await run_in_threadpool(reports.build, ctx.engine, query, ctx.settings)
        made = await run_in_threadpool(publications.publish, ctx.engine, report, form.get("title", ""),
                                       session.username)
    except ServerError as error:
        status = 409 if isinstance(error, publications.AlreadyPublished) else 400
        return await run_in_threadpool(_render_dashboard, request, ctx, session, params, status=status,
                                       message=(error.vi + NOTHING_CHANGED[0], error.en + NOTHING_CHANGED[1]))
    log.info("publication %s by %s: %s %s–%s", made.id, session.username, made.agency_code, made.first, made.last)
    return RedirectResponse(_link(DASHBOARD, query, published=str(made.id)) + "#publish", status_code=303)


@router.post(DASHBOARD + "/withdraw")
async def withdraw(request: Request) -> Response:
    """Take a publication off the public page."""
    ctx = context(request)
    session, form, refusal = await _checked_form(request, ctx)
    if refusal is not None:
        return refusal
    assert session is not None
    params = _params_of(form)
    number = form.get("publication", "")
    try:
        if not number.isdigit() or len(number) > 12:
            raise ServerError(f"Số bản công bố không hợp lệ: {number[:20]!r}",
                              f"not a publication number: {number[:20]!r}")
        gone = await run_in_threadpool(publications.withdraw, ctx.engine, int(number))
    except ServerError as error:
        return await run_in_threadpool(_render_dashboard, request, ctx, session, params, status=400,
                                       message=(error.vi + NOTHING_CHANGED[0], error.en + NOTHING_CHANGED[1]))
    log.info("publication %s withdrawn by %s", gone.id, session.username)
    target = DASHBOARD + "?" + urlencode(params | {"withdrawn": str(gone.id)}) + "#publish"
    return RedirectResponse(target, status_code=303)


# ---- the public results page ----------------------------------------------------------------------------

def _not_found(request: Request, vi: str = "Không có trang này.", en: str = "No such page.") -> Response:
    response = templates.TemplateResponse(request, "public_missing.html", {"message": (vi, en)}, status_code=404)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _public_response(request: Request, name: str, values: dict[str, Any], embed: bool) -> Response:
    response = templates.TemplateResponse(request, name, values | _shared() | {"embed": embed})
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


def _agency_public(request: Request, code: str, publication_id: int | None) -> Response:
    ctx = context(request)
    embed = request.query_params.get("embed", "") in ("1", "true")
    try:
        with reading(ctx.engine) as conn:
            agency = registry.agency(conn, code)
    except ServerError:
        return _not_found(request, f"Không có cơ quan mã «{code[:64]}».", f"No agency with code '{code[:64]}'.")
    listed = publications.published(ctx.engine, code)
    chosen_id = publication_id if publication_id is not None else (listed[0].id if listed else None)
    chosen = publications.find(ctx.engine, code, chosen_id) if chosen_id is not None else None
    if chosen is None:
        if publication_id is not None:
            return _not_found(request, "Không có bản công bố này (có thể đã được thu hồi).",
                              "No such publication (it may have been withdrawn).")
        return _public_response(request, "public.html", {"agency": agency, "publication": None, "listed": [],
                                                         "report": None}, embed)
    report = chosen.report()
    zone = _zone(ctx)
    values = {"agency": agency, "publication": chosen, "listed": listed, "report": report,
              "published_at": _local(chosen.published_at, zone),
              "distribution": charts.distribution_bar(report.total.levels, chart_id="pub-dist"),
              "distribution_narrow": charts.distribution_bar(report.total.levels, width=360, chart_id="pub-dist-n"),
              "self_link": f"{PUBLIC}/{quote(code)}/{chosen.id}"}
    return _public_response(request, "public.html", values, embed)


@router.get(PUBLIC + "/{code}")
def public_latest(request: Request, code: str) -> Response:
    """The agency's latest published results and the list of its published periods."""
    return _agency_public(request, code, None)


@router.get(PUBLIC + "/{code}/{number}")
def public_one(request: Request, code: str, number: str) -> Response:
    """One published report of the agency."""
    if not number.isdigit() or len(number) > 12:
        return _not_found(request, f"Số bản công bố không hợp lệ: «{number[:20]}».",
                          f"Not a publication number: '{number[:20]}'.")
    return _agency_public(request, code, int(number))
