"""The IT pages: sign-in, the fleet (HTML and its JSON twin), sign-out. Vietnamese first, English second."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from sync.server.admin import accounts, fleet
from sync.server.context import AppContext, context
from sync.server.db import utc_now
from sync.server.web import SESSION_COOKIE, Form, SignedIn, templates

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "kiosk_login_csrf"


def _local(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M") if moment else "—"


def _ago(moment: datetime | None, now: datetime) -> tuple[str, str]:
    if moment is None:
        return "chưa bao giờ", "never"
    seconds = max((now - moment).total_seconds(), 0)
    if seconds < 90:
        return "vừa xong", "just now"
    if seconds < 5400:
        return f"{seconds / 60:.0f} phút trước", f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} giờ trước", f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} ngày trước", f"{seconds / 86400:.0f} days ago"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(target: str | None) -> str:
    # Only a path on this server: never an absolute or protocol-relative URL (an open redirect).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/fleet"


def _login_page(request: Request, *, status: int = 200, message: tuple[str, str] | None = None,
                username: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(request, "login.html", {
        "csrf": token, "message": message, "username": username,
        "next": _safe_next(request.query_params.get("next")),
    }, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        path="/login")
    return response


@router.get("/")
def home() -> RedirectResponse:
    """The fleet is the home page."""
    return RedirectResponse("/fleet", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    """The sign-in form."""
    return _login_page(request)


@router.post("/login")
async def login_submit(request: Request, form: Form) -> Response:
    """Check the sign-in; on success set the session cookie and go where the user was going."""
    ctx = context(request)
    if form.unreadable is not None:
        return _login_page(request, status=413, message=("Biểu mẫu quá lớn.", "The form is too large."))
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not form.csrf_matches(cookie):
        return _login_page(request, status=403, message=(
            "Phiên biểu mẫu đã hết hạn; hãy đăng nhập lại.", "The form expired; please sign in again."))
    username, password = form.get("username", ""), form.get("password", "")
    cfg = ctx.settings.admin
    result = await run_in_threadpool(accounts.login, ctx.engine, username, password,
                                     timedelta(hours=cfg.session_lifetime_h), free_attempts=cfg.free_attempts,
                                     max_delay_s=cfg.max_delay_s)
    if result.token is None:
        if result.throttled:
            # Refused without looking at the password: it says nothing about whether it was right.
            refused = _login_page(request, status=429, username=username, message=(
                f"Đăng nhập sai nhiều lần; mật khẩu chưa được kiểm tra. Hãy chờ {result.wait_s} giây rồi thử lại.",
                f"Too many failed sign-ins; the password was not checked. Wait {result.wait_s} s and try again."))
            refused.headers["Retry-After"] = str(result.wait_s)
            return refused
        wait_vi = f" Lần thử sau cần chờ {result.wait_s} giây." if result.wait_s else ""
        wait_en = f" The next try must wait {result.wait_s} s." if result.wait_s else ""
        return _login_page(request, status=401, username=username, message=(
            "Sai tên đăng nhập hoặc mật khẩu." + wait_vi, "Wrong username or password." + wait_en))
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(SESSION_COOKIE, result.token, max_age=int(cfg.session_lifetime_h * 3600), httponly=True,
                        samesite="strict", secure=_secure(request), path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, found: SignedIn, form: Form) -> Response:
    """End the session (the form carries the session's CSRF token)."""
    ctx = context(request)
    if form.unreadable is not None:
        raise form.unreadable  # answered as any request whose body cannot be read
    if found is not None:
        if not form.csrf_matches(found.csrf_token):
            return RedirectResponse("/fleet", status_code=303)  # not our form: the session stays as it is
        await run_in_threadpool(accounts.logout, ctx.engine, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _fleet_rows(ctx: AppContext) -> list[fleet.FleetDevice]:
    return fleet.fleet(ctx.engine, utc_now(), timedelta(hours=ctx.settings.fleet.silent_after_h))


@router.get("/fleet")
def fleet_page(request: Request, found: SignedIn) -> Response:
    """Every device and where it stands; those needing attention first, marked by colour and by a word."""
    ctx = context(request)
    if found is None:
        return RedirectResponse("/login?next=" + quote("/fleet"), status_code=303)
    now = utc_now()
    devices = _fleet_rows(ctx)
    zone = ctx.settings.fleet.timezone
    context_vars: dict[str, Any] = {
        "session": found, "devices": devices, "now": _local(now, zone), "zone": zone,
        "attention": sum(1 for d in devices if d.alerts),
        "silent_after_h": ctx.settings.fleet.silent_after_h,
        "local": lambda moment: _local(moment, zone), "ago": lambda moment: _ago(moment, now),
    }
    response = templates.TemplateResponse(request, "fleet.html", context_vars)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/fleet.json")
def fleet_json(request: Request, found: SignedIn) -> Response:
    """The fleet for scripts, behind the same sign-in as the page."""
    ctx = context(request)
    if found is None:
        return JSONResponse({"code": "login_required", "message_vi": "Cần đăng nhập",
                             "message_en": "sign-in required"}, status_code=401)
    return JSONResponse([d.as_json() for d in _fleet_rows(ctx)], headers={"Cache-Control": "no-store"})

