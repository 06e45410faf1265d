"""The cases' staff pages, behind the sign-in: the list (/phan-anh) and one case (/phan-anh/{id}) to assign,
answer, close, publish or withdraw. Thin handlers: the work is in cases.store and cases.reply_mail."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from sync.server import settings as server_settings
from sync.server.cases import reply_mail, store
from sync.server.context import AppContext, context
from sync.server.db import reading, utc_now
from sync.server.models import AGENCY
from sync.server.results.periods import month_last
from sync.server.web import Form, SignedIn, templates

router = APIRouter(include_in_schema=False)
CASES = "/phan-anh"
ACTIONS = ("assign", "answer", "close", "publish", "withdraw", "requeue")
DONE = {"assign": ("Đã giao xử lý.", "Assigned."), "answer": ("Đã ghi câu trả lời.", "Reply saved."),
        "close": ("Đã đóng phản ánh.", "Case closed."), "publish": ("Đã công khai.", "Published."),
        "withdraw": ("Đã gỡ công khai.", "Withdrawn."),
        "requeue": ("Thư trả lời sẽ được gửi lại.", "The reply e-mail will be sent again.")}


def _zone(ctx: AppContext) -> ZoneInfo:
    return ZoneInfo(server_settings.report_timezone(ctx.settings))


def _sign_in(path: str) -> RedirectResponse:
    return RedirectResponse("/login?next=" + quote(path), status_code=303)


def _shared(ctx: AppContext) -> dict[str, Any]:
    zone = _zone(ctx)
    return {"statuses": store.STATUSES, "status_labels": store.STATUS_LABELS, "kind_labels": store.KIND_LABELS,
            "action_labels": store.ACTION_LABELS, "today": store.today(ctx.settings),
            "local": lambda moment: moment.astimezone(zone).strftime("%d/%m/%Y %H:%M") if moment else "—",
            "day": lambda value: value.strftime("%d/%m/%Y")}


@router.get(CASES)
async def case_list(request: Request, found: SignedIn) -> Response:
    """Every case, newest first, filtered by status, agency and overdue; this month's figures per agency."""
    if found is None:
        return _sign_in(str(request.url.path) + ("?" + request.url.query if request.url.query else ""))
    ctx = context(request)
    await run_in_threadpool(store.sync_from_ratings, ctx.engine, ctx.settings)
    status = request.query_params.get("status", "")
    status = status if status in store.STATUSES else ""
    agency = request.query_params.get("agency", "")[:64]
    overdue = request.query_params.get("overdue", "") == "1"
    with reading(ctx.engine) as conn:
        agencies = [(r.code, r.name) for r in conn.execute(select(AGENCY.c.code, AGENCY.c.name)
                                                           .order_by(AGENCY.c.code))]
    agency = agency if agency in {code for code, _ in agencies} else ""
    listed = await run_in_threadpool(lambda: store.list_cases(ctx.engine, ctx.settings, status=status,
                                                              agency=agency, overdue=overdue))
    today = store.today(ctx.settings)
    first = today.replace(day=1)
    figures = await run_in_threadpool(store.report, ctx.engine, ctx.settings, first, month_last(first), agency)
    response = templates.TemplateResponse(request, "cases.html", _shared(ctx) | {
        "session": found, "cases": listed, "agencies": agencies, "status": status, "agency": agency,
        "overdue": overdue, "figures": figures, "month": first})
    response.headers["Cache-Control"] = "no-store"
    return response


def _detail(request: Request, ctx: AppContext, session: Any, case: store.Case, *, status: int = 200,
            message: tuple[str, str] | None = None, typed: dict[str, str] | None = None) -> Response:
    done = request.query_params.get("done", "")
    response = templates.TemplateResponse(request, "case.html", _shared(ctx) | {
        "session": session, "case": case, "message": message, "typed": typed or {},
        "done": DONE.get(done) if status == 200 else None}, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _case_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


@router.get(CASES + "/{number}")
async def case_page(request: Request, found: SignedIn, number: str) -> Response:
    """One case: the citizen's text, level, channel, counter, time and contact; the forms; the history."""
    if found is None:
        return _sign_in(str(request.url.path))
    ctx = context(request)
    case_id = _case_id(number)
    try:
        if case_id is None:
            raise store.CaseError(f"Số phản ánh không hợp lệ: «{number[:20]}»", f"not a case number: '{number[:20]}'")
        case = await run_in_threadpool(store.get_case, ctx.engine, case_id)
    except store.CaseError as error:
        return templates.TemplateResponse(request, "case.html", _shared(ctx) | {
            "session": found, "case": None, "message": (error.vi, error.en), "typed": {}, "done": None},
            status_code=404)
    return _detail(request, ctx, found, case)


@router.post(CASES + "/{number}")
async def case_change(request: Request, found: SignedIn, form: Form, number: str) -> Response:
    """Apply one action to the case (CSRF-checked, against the version shown); a refusal changes nothing."""
    if found is None:
        return _sign_in(str(request.url.path))
    ctx = context(request)
    if form.unreadable is not None:
        raise form.unreadable
    case_id = _case_id(number)
    if case_id is None:
        return await case_page(request, found, number)
    try:
        case = await run_in_threadpool(store.get_case, ctx.engine, case_id)
    except store.CaseError:
        return await case_page(request, found, number)
    typed = {name: form.get(name) for name in ("assignee", "reply", "note", "question", "public_reply")}
    if not form.csrf_matches(found.csrf_token):
        return _detail(request, ctx, found, case, status=403, typed=typed, message=(
            "Phiên biểu mẫu đã hết hạn; hãy tải lại trang.", "The form expired; reload the page."))
    action = form.get("action")
    version = form.get("version")
    if action not in ACTIONS or not (version.isascii() and version.isdigit() and len(version) <= 12):
        return _detail(request, ctx, found, case, status=400, typed=typed,
                       message=("Yêu cầu không hợp lệ.", "Not a valid request."))
    who, seen = found.username, int(version)
    try:
        if action == "assign":
            await run_in_threadpool(lambda: store.assign(ctx.engine, case_id, assignee=typed["assignee"], actor=who,
                                                         version=seen))
        elif action == "answer":
            await run_in_threadpool(lambda: store.answer(ctx.engine, case_id, reply=typed["reply"], actor=who,
                                                         version=seen))
            # Sent now if the mail server answers; else the alert checker retries it.
            await run_in_threadpool(reply_mail.send_pending, ctx.engine, ctx.settings, utc_now())
        elif action == "close":
            await run_in_threadpool(lambda: store.close(ctx.engine, case_id, actor=who, version=seen,
                                                        note=typed["note"]))
        elif action == "publish":
            await run_in_threadpool(lambda: store.publish(ctx.engine, case_id, question=typed["question"],
                                                          reply=typed["public_reply"], actor=who, version=seen))
        elif action == "withdraw":
            await run_in_threadpool(lambda: store.withdraw(ctx.engine, case_id, actor=who, version=seen))
        else:
            if not await run_in_threadpool(reply_mail.requeue, ctx.engine, case_id, who):
                raise store.CaseError("Thư trả lời này không ở trạng thái đang gửi dở",
                                      "this reply e-mail is not stuck mid-send")
            await run_in_threadpool(reply_mail.send_pending, ctx.engine, ctx.settings, utc_now())
    except store.CaseError as error:
        fresh = await run_in_threadpool(store.get_case, ctx.engine, case_id)
        code = 409 if isinstance(error, store.CaseConflict) else 400
        return _detail(request, ctx, found, fresh, status=code, typed=typed, message=(error.vi, error.en))
    return RedirectResponse(f"{CASES}/{case_id}?{urlencode({'done': action})}", status_code=303)

