"""The results dashboard: the figures for the chosen period, grouping and agency, their downloads, and publishing.

The dashboard (sign-in required, like the fleet) shows what reports.py computes. Publishing freezes that report
into a `publication` row, which the public page (public.py) shows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from kiosk.domain.errors import BilingualError
from kiosk.domain.levels import HARASSMENT_KEY
from sync.server import registry
from sync.server.admin import accounts
from sync.server.alerts import checker
from sync.server.cases import store as cases
from sync.server.context import AppContext, context
from sync.server.db import reading, utc_now
from sync.server.errors import ReportError, ServerError
from sync.server.results import (
    charts,
    dashboard_query,
    exports,
    officer_sheet,
    publications,
    report_view,
    reports,
    targets,
    written_report,
)
from sync.server.results.comments import harassment_reports, latest_comments
from sync.server.results.dashboard_query import QueryError
from sync.server.results.figures import Report, ReportQuery
from sync.server.results.rendering import local, not_found, shared, zone
from sync.server.web import SESSION_COOKIE, EarlyResponse, Form, PostedForm, SignedIn, templates

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
DASHBOARD = "/dashboard"
COMMENTS_SHOWN = 20
HARASSMENT_SHOWN = 50
ALERTS_SHOWN = 50
EXPORTS = (*exports.TABLES, "trend", HARASSMENT_KEY, "comments")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOTHING_CHANGED = (". Không có gì thay đổi.", ". Nothing changed.")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _today(ctx: AppContext) -> date:
    return utc_now().astimezone(zone(ctx)).date()


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)


def _link(path: str, query: ReportQuery, **extra: str) -> str:
    return path + "?" + urlencode(dashboard_query.to_params(query) | extra)


def _file_name(query: ReportQuery, what: str, extension: str) -> str:
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
           agencies: list[registry.Agency]) -> ReportQuery:
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


def _page_context(conn: Connection, ctx: AppContext, query: ReportQuery, page: int,
                  view: str) -> dict[str, Any]:
    """Everything the dashboard shows for one query, each figure from reports.py, read on `conn`."""
    settings = ctx.settings
    span, bucket = report_view.trend_span(query.period)
    found = reports.dashboard_on(conn, query, settings, trend_period=span, bucket=bucket,
                                 harassment_limit=HARASSMENT_SHOWN, comments_limit=COMMENTS_SHOWN)
    report, trend, harassment, comments = found.report, found.trend, found.harassment, found.comments
    raised = checker.active_alerts_on(conn, query.agency_code, limit=ALERTS_SHOWN)
    out = publications.published_on(conn, query.agency_code) if query.agency_code else []
    in_zone = zone(ctx)
    previous = query.period.previous()
    query_string = urlencode(dashboard_query.to_params(query))
    goals = targets.goals_on(conn, targets.year_of(query.period), query.agency_code)
    goal = goals.get(query.agency_code) if query.agency_code else None
    target = targets.headline(report.total, goal)
    ranking = report_view.ranking_page(report, page, view, goal_of=_goal_of(query, goals))
    return {
        "report": report, "query": query, "bucket": bucket, "trend_span": span,
        "trend_table": report_view.trend_table(trend, bucket),
        HARASSMENT_KEY: report_view.comments_table(HARASSMENT_KEY, harassment,
                                                   with_agency=not query.agency_code),
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
        "trend_chart": charts.trend_chart(report_view.trend_values(trend, bucket),
                                          target=target.share if target else None,
                                          target_label=f"{target.text_vi} / {target.text_en}" if target else ""),
        "target": target,
        "downloads": {name: {fmt: f"{DASHBOARD}/export/{name}.{fmt}?{query_string}" for fmt in ("csv", "xlsx")}
                      for name in EXPORTS},
        "default_title": _default_title(report, query),
        "local": lambda moment: local(moment, in_zone),
        "sheet_path": officer_sheet.sheet_path,   # the ranking of one agency's officers by month links each sheet
        # The written report is one agency's, for a quarter, half-year, nine months or year.
        "written_report_link": (f"{DASHBOARD}/written-report.docx?{query_string}" if query.agency_code
                                and query.period.kind in written_report.WRITTEN_KINDS else ""),
    }


def _goal_of(query: ReportQuery, goals: dict[str, targets.Goal]) -> Any:
    """How a ranking row finds its target: every group within one agency is held to that agency's; with every
    agency ranked by agency, each to its own; otherwise there is no one target to hold a group to."""
    if query.agency_code:
        goal = goals.get(query.agency_code)
        return (lambda _key: goal) if goal is not None else None
    if query.group_by == "agency" and goals:
        return goals.get
    return None


def _default_title(report: Report, query: ReportQuery) -> str:
    where = f" — {report.agency_name}" if report.agency_name else ""
    return f"Kết quả đánh giá sự hài lòng{where} — {query.period.label()}"


def _dashboard_values(conn: Connection, ctx: AppContext, session: accounts.Session, params: Mapping[str, str], *,
                      status: int = 200, message: tuple[str, str] | None = None,
                      notice: tuple[str, str] | None = None) -> tuple[dict[str, Any], int]:
    """What the template shows for the choices in `params`, and the status; a choice that cannot be used is named
    and marked in the form, a ranking page past the last is said in words (404, the figures still shown)."""
    agencies = registry.list_agencies_on(conn)
    values: dict[str, Any] = {"session": session, "agencies": agencies, "params": dict(params),
                              "message": message, "notice": notice, "error_field": None, **shared()}
    query: ReportQuery | None = None
    try:
        query = _query(params, ctx, agencies)
        page, view = dashboard_query.ranking_choice(params)
    except QueryError as error:
        values |= {"message": message or (error.vi, error.en), "error_field": error.field}
        return values, max(status, 400)
    values |= _page_context(conn, ctx, query, page, view)
    values["params"] = dashboard_query.to_params(query)
    values["agency"] = next((a for a in agencies if a.code == query.agency_code), None)
    # Cases made so far (each alert check and each visit to /phan-anh makes new ones): no write on this page.
    values["case_figures"] = cases.report(ctx.engine, ctx.settings, query.period.first, query.period.last,
                                          query.agency_code or "")
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


def _render_dashboard(request: Request, ctx: AppContext, session: accounts.Session, params: Mapping[str, str], *,
                      status: int = 200, message: tuple[str, str] | None = None,
                      notice: tuple[str, str] | None = None) -> Response:
    """The dashboard for the choices in `params`; a choice that cannot be used is named and marked in the form."""
    with reading(ctx.engine) as conn:
        values, status = _dashboard_values(conn, ctx, session, params, status=status, message=message,
                                           notice=notice)
    return _respond(request, values, status)


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
        session = accounts.session_on(conn, request.cookies.get(SESSION_COOKIE))
        if session is None:
            return _to_login(request)
        values, status = _dashboard_values(conn, ctx, session, request.query_params, notice=notice)
    return _respond(request, values, status)




def _export(ctx: AppContext, query: ReportQuery, name: str, fmt: str) -> Response:
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
    else:
        found = (harassment_reports(engine, query, settings, limit=HARASSMENT_SHOWN) if name == HARASSMENT_KEY
                 else latest_comments(engine, query, settings, limit=COMMENTS_SHOWN))
        table = report_view.comments_table(name, found, with_agency=not query.agency_code)
    if fmt == "csv":
        return _download(exports.table_csv(table), file_name, CSV_TYPE)
    return _download(exports.table_xlsx(table), file_name, XLSX_TYPE)


@router.get(DASHBOARD + "/export/{name}.{fmt}")
def export_download(request: Request, session: SignedIn, name: str, fmt: str) -> Response:
    """One table of the page as CSV or Excel, with the page's numbers (the report's tables share one workbook)."""
    ctx = context(request)
    if session is None:
        return _to_login(request)
    if name not in EXPORTS or fmt not in ("csv", "xlsx"):
        return not_found(request)
    try:
        query = _query(request.query_params, ctx, _agencies(ctx))
    except QueryError as error:
        return Response(f"{error.vi}\n{error.en}\n", status_code=400, media_type="text/plain; charset=utf-8")
    return _export(ctx, query, name, fmt)


@router.get(DASHBOARD + "/written-report.docx")
def written_report_download(request: Request, session: SignedIn) -> Response:
    """The office's written report (Word) for the page's agency and quarter, half-year, nine months or year."""
    ctx = context(request)
    if session is None:
        return _to_login(request)
    try:
        query = _query(request.query_params, ctx, _agencies(ctx))
        if query.agency_code is None:
            raise BilingualError("Chọn một cơ quan để tải báo cáo", "choose an agency to download its report")
        written_report.written_period(query.period.kind, query.period.first)
        data = written_report.gather(ctx.engine, ctx.settings, query.agency_code, query.period, _today(ctx))
    except BilingualError as error:
        return Response(f"{error.vi}\n{error.en}\n", status_code=400, media_type="text/plain; charset=utf-8")
    return _download(written_report.render_docx(data), _file_name(query, "bao-cao-van-ban", "docx"), DOCX_TYPE)


# ---- an officer's monthly sheet ------------------------------------------------------------------------------

@router.get(officer_sheet.SHEET_PATH + "/{agency}/{officer}")
def officer_sheet_page(request: Request, session: SignedIn, agency: str, officer: str) -> Response:
    """One officer's printable A4 sheet for a month (?month=YYYY-MM; default: the last month that closed)."""
    ctx = context(request)
    if session is None:
        return _to_login(request)
    today = _today(ctx)
    month = request.query_params.get("month")
    try:
        period = officer_sheet.last_closed_month(today) if month is None else officer_sheet.parse_month(month, today)
        sheet = officer_sheet.build_sheet(ctx.engine, ctx.settings, agency, officer, period, utc_now())
    except officer_sheet.SheetNotFound as error:
        return not_found(request, error.vi, error.en)
    except ReportError as error:
        return Response(f"{error.vi}\n{error.en}\n", status_code=400, media_type="text/plain; charset=utf-8")
    return HTMLResponse(officer_sheet.render(sheet, toolbar=True), headers={"Cache-Control": "no-store"})


# ---- publishing -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffPost:
    """A form posted from the dashboard by a signed-in IT user, its CSRF token checked: safe to act on."""

    session: accounts.Session
    form: PostedForm
    params: dict[str, str]   # the page's choices the form carried, to show the dashboard as it was


def _params_of(form: PostedForm) -> dict[str, str]:
    return {k: v for k, v in form.fields.items()
            if k in ("period", "date", "from", "to", "group", "agency", "repeats")}


async def staff_post(request: Request, session: SignedIn, form: Form) -> StaffPost:
    """The dashboard form of a signed-in user, or an EarlyResponse that refuses it with nothing changed: to the
    sign-in page, the dashboard saying the form is too large (413), or that it did not come from this page (403)."""
    if session is None:
        raise EarlyResponse(RedirectResponse("/login?next=" + quote(DASHBOARD, safe=""), status_code=303))
    ctx = context(request)
    if form.unreadable is not None:
        raise EarlyResponse(await run_in_threadpool(
            _render_dashboard, request, ctx, session, {}, status=413,
            message=("Biểu mẫu quá lớn; không có gì thay đổi.", "The form is too large; nothing changed.")))
    params = _params_of(form)
    if not form.csrf_matches(session.csrf_token):
        raise EarlyResponse(await run_in_threadpool(
            _render_dashboard, request, ctx, session, params, status=403,
            message=("Biểu mẫu đã hết hạn hoặc không phải từ trang này; không có gì thay đổi. Hãy thử lại.",
                     "The form expired or did not come from this page; nothing changed. Please try again.")))
    return StaffPost(session, form, params)


Posted = Annotated[StaffPost, Depends(staff_post)]


async def _refused(request: Request, ctx: AppContext, post: StaffPost, error: ServerError | QueryError,
                   status: int) -> Response:
    """The dashboard as it was, saying why the action was refused and that nothing changed."""
    return await run_in_threadpool(_render_dashboard, request, ctx, post.session, post.params, status=status,
                                   message=(error.vi + NOTHING_CHANGED[0], error.en + NOTHING_CHANGED[1]))


@router.post(DASHBOARD + "/publish")
async def publish(request: Request, post: Posted) -> Response:
    """Freeze the report for the chosen agency, period and grouping into a publication."""
    ctx = context(request)
    try:
        query = await run_in_threadpool(lambda: _query(post.params, ctx, _agencies(ctx)))
    except QueryError as error:
        return await _refused(request, ctx, post, error, 400)
    try:
        report = await run_in_threadpool(reports.build, ctx.engine, query, ctx.settings)
        # How many answers each channel gave, for the public page to say where the figures come from.
        by_channel = await run_in_threadpool(reports.build, ctx.engine, replace(query, group_by="channel"),
                                             ctx.settings)
        goal = await run_in_threadpool(targets.goal_for, ctx.engine, query.agency_code or "", query.period)
        made = await run_in_threadpool(publications.publish, ctx.engine, report, post.form.get("title"),
                                       post.session.username,
                                       {row.key: row.figures.ratings for row in by_channel.rows}, goal)
    except ServerError as error:
        return await _refused(request, ctx, post, error,
                              409 if isinstance(error, publications.AlreadyPublished) else 400)
    log.info("publication %s by %s: %s %s–%s", made.id, post.session.username, made.agency_code, made.first,
             made.last)
    return RedirectResponse(_link(DASHBOARD, query, published=str(made.id)) + "#publish", status_code=303)


@router.post(DASHBOARD + "/withdraw")
async def withdraw(request: Request, post: Posted) -> Response:
    """Take a publication off the public page."""
    ctx = context(request)
    number = post.form.get("publication")
    try:
        if not (number.isascii() and number.isdigit()) or len(number) > 12:
            raise ServerError(f"Số bản công bố không hợp lệ: {number[:20]!r}",
                              f"not a publication number: {number[:20]!r}")
        gone = await run_in_threadpool(publications.withdraw, ctx.engine, int(number))
    except ServerError as error:
        return await _refused(request, ctx, post, error, 400)
    log.info("publication %s withdrawn by %s", gone.id, post.session.username)
    target = DASHBOARD + "?" + urlencode(post.params | {"withdrawn": str(gone.id)}) + "#publish"
    return RedirectResponse(target, status_code=303)
