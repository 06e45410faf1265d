"""The paper forms' staff pages, behind the IT sign-in: typing forms (/phieu-giay/nhap), uploading a spreadsheet or
scans, and deciding held scans (/phieu-giay/duyet). Thin handlers: the work is in paper_entry and omr."""

from __future__ import annotations

import email.parser
import email.policy
from datetime import datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import cv2
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from kiosk.domain.errors import BilingualError
from kiosk.domain.levels import LEVELS, QUESTIONS
from sync.server import settings as server_settings
from sync.server.admin import accounts
from sync.server.channels import omr, paper_entry
from sync.server.channels import paper_form as geo
from sync.server.channels.store import FormConflict
from sync.server.context import AppContext, context
from sync.server.db import reading, utc_now
from sync.server.devices.body import read_body
from sync.server.errors import ApiError
from sync.server.models import AGENCY
from sync.server.web import Form, SignedIn, templates

router = APIRouter(include_in_schema=False)
ENTRY, REVIEW = "/phieu-giay/nhap", "/phieu-giay/duyet"
UPLOAD_LIMIT = 40 * 1024 * 1024
ENTRY_FIELDS = ("form_number", geo.LEVEL_KEY, *(q.key for q in QUESTIONS), "procedure_code", "comment")


def _zone(ctx: AppContext) -> ZoneInfo:
    return ZoneInfo(server_settings.report_timezone(ctx.settings))


def _agencies(ctx: AppContext) -> list[tuple[str, str]]:
    with reading(ctx.engine) as conn:
        return [(r.code, r.name) for r in conn.execute(select(AGENCY.c.code, AGENCY.c.name).order_by(AGENCY.c.code))]


def _chosen(request: Request, agencies: list[tuple[str, str]], given: str = "") -> str:
    wanted = given or request.query_params.get("agency", "")
    codes = [code for code, _name in agencies]
    if wanted in codes:
        return wanted
    return codes[0] if len(codes) == 1 else ""


def _sign_in(path: str) -> RedirectResponse:
    return RedirectResponse("/login?next=" + quote(path), status_code=303)


def _entry_page(request: Request, ctx: AppContext, session: Any, agency: str, *, status: int = 200,
                message: tuple[str, str] | None = None, ok: tuple[str, str] | None = None,
                typed: dict[str, str] | None = None, results: list[tuple[str, str, str]] | None = None) -> Response:
    agencies = _agencies(ctx)
    zone = _zone(ctx)
    now = utc_now()
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), zone)
    mine = paper_entry.count_since(ctx.engine, agency, midnight, session.username) if agency else 0
    everyone = paper_entry.count_since(ctx.engine, agency, midnight) if agency else 0
    response = templates.TemplateResponse(request, "paper_entry.html", {
        "session": session, "agencies": agencies, "agency": agency, "message": message, "ok": ok,
        "typed": typed or {}, "results": results or [], "levels": LEVELS, "questions": QUESTIONS,
        "mine_today": mine, "all_today": everyone, "pending": len(paper_entry.pending(ctx.engine, agency or None)),
        "recent": paper_entry.recent(ctx.engine, agency, 12) if agency else [],
        "local": lambda moment: moment.astimezone(zone).strftime("%d/%m %H:%M"),
        "columns": paper_entry.COLUMNS,
    }, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(ENTRY)
def entry_form(request: Request, found: SignedIn) -> Response:
    """One blank form to type, the day's count and the latest entries with who typed them."""
    if found is None:
        return _sign_in(str(request.url.path) + ("?" + request.url.query if request.url.query else ""))
    ctx = context(request)
    agency = _chosen(request, _agencies(ctx))
    last = request.query_params.get("saved", "")
    ok = (f"Đã ghi phiếu số {last}.", f"Form number {last} saved.") if last.isdigit() else None
    return _entry_page(request, ctx, found, agency, ok=ok)


@router.post(ENTRY)
async def entry_submit(request: Request, found: SignedIn, form: Form) -> Response:
    """Store one typed form, then a blank screen for the next (a refusal keeps what was typed, nothing stored)."""
    if found is None:
        return _sign_in(ENTRY)
    ctx = context(request)
    if form.unreadable is not None:
        raise form.unreadable
    agency = _chosen(request, _agencies(ctx), form.get("agency"))
    typed = {name: form.get(name) for name in ENTRY_FIELDS}
    if not form.csrf_matches(found.csrf_token):
        return _entry_page(request, ctx, found, agency, status=403, typed=typed, message=(
            "Phiên biểu mẫu đã hết hạn; hãy tải lại trang.", "The form expired; reload the page."))
    if not agency:
        return _entry_page(request, ctx, found, agency, status=400, typed=typed,
                           message=("Hãy chọn cơ quan.", "Choose the agency."))
    try:
        paper = paper_entry.from_digits(typed)
        await run_in_threadpool(paper_entry.enter, ctx.engine, ctx.secret, agency_code=agency, form=paper,
                                entered_by=found.username, zone=_zone(ctx))
    except BilingualError as error:
        status = 409 if isinstance(error, FormConflict) else 400
        return _entry_page(request, ctx, found, agency, status=status, typed=typed, message=(error.vi, error.en))
    return RedirectResponse(f"{ENTRY}?{urlencode({'agency': agency, 'saved': paper.number})}", status_code=303)


async def _multipart(request: Request) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    """A posted multipart form: its text fields, and its files (name, bytes) with a filename."""
    body = await read_body(request, UPLOAD_LIMIT)
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        raise ApiError(415, "unsupported", "Cần gửi tệp qua biểu mẫu tải lên", "send the files through the upload form")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {kind}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    files: list[tuple[str, bytes]] = []
    for part in message.iter_parts() if message.is_multipart() else ():
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename:
            files.append((Path(filename).name, data))
        elif (name := part.get_param("name", header="content-disposition")) is not None:
            fields[str(name)] = data.decode("utf-8", "replace")
    return fields, files


@router.post("/phieu-giay/tai-len")
async def upload(request: Request, found: SignedIn) -> Response:
    """A spreadsheet of typed forms (all rows or none), or scanned images (each stored, held, or refused)."""
    if found is None:
        return _sign_in(ENTRY)
    ctx = context(request)
    fields, files = await _multipart(request)
    agency = _chosen(request, _agencies(ctx), fields.get("agency", ""))
    if not accounts.csrf_ok(found.csrf_token, fields.get("csrf")):
        return _entry_page(request, ctx, found, agency, status=403, message=(
            "Phiên biểu mẫu đã hết hạn; hãy tải lại trang.", "The form expired; reload the page."))
    files = [(name, data) for name, data in files if data]
    if not agency or not files:
        return _entry_page(request, ctx, found, agency, status=400, message=(
            "Hãy chọn cơ quan và ít nhất một tệp.", "Choose the agency and at least one file."))
    zone = _zone(ctx)
    if fields.get("kind") == "table":
        name, data = files[0]
        try:
            rows = paper_entry.read_table(name, data)
            stored = await run_in_threadpool(paper_entry.import_rows, ctx.engine, ctx.secret, agency_code=agency,
                                             rows=rows, entered_by=found.username, zone=zone)
        except BilingualError as error:
            return _entry_page(request, ctx, found, agency, status=400, message=(
                f"{name}: không nhập phiếu nào. {error.vi}", f"{name}: no form was imported. {error.en}"))
        return _entry_page(request, ctx, found, agency, ok=(f"Đã nhập {len(stored)} phiếu từ {name}.",
                                                            f"{len(stored)} forms imported from {name}."))
    results: list[tuple[str, str, str]] = []
    for name, data in files:
        try:
            done = await run_in_threadpool(paper_entry.scan, ctx.engine, ctx.secret, ctx.data_dir, agency_code=agency,
                                           data=data, name=name, entered_by=found.username, zone=zone)
        except BilingualError as error:
            results.append(("refused", name, f"{error.vi} / {error.en}"))
            continue
        number = done.reading.form_number or "?"
        if done.status == "stored":
            results.append(("stored", name, f"Phiếu số {number} đã ghi nhận / form {number} stored"))
        else:
            results.append(("pending", name, f"Phiếu số {number} chờ duyệt / held for review"))
    return _entry_page(request, ctx, found, agency, results=results)


@router.get(REVIEW)
def review_page(request: Request, found: SignedIn) -> Response:
    """The oldest held scan: its unclear questions, each shown as cut from the scan, for a person to decide."""
    if found is None:
        return _sign_in(REVIEW)
    ctx = context(request)
    waiting = paper_entry.pending(ctx.engine)
    done = request.query_params.get("done", "")
    response = templates.TemplateResponse(request, "paper_review.html", {
        "session": found, "waiting": waiting, "current": waiting[0] if waiting else None, "titles": geo.titles(),
        "rows": geo.ROWS_BY_KEY, "message": None, "done": done,
    })
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(REVIEW + "/{reading_id}")
async def review_decide(request: Request, reading_id: int, found: SignedIn, form: Form) -> Response:
    """Store the decided scan (entered_by: the person deciding), or set it aside."""
    if found is None:
        return _sign_in(REVIEW)
    ctx = context(request)
    if form.unreadable is not None:
        raise form.unreadable
    message: tuple[str, str] | None = None
    if not form.csrf_matches(found.csrf_token):
        message = ("Phiên biểu mẫu đã hết hạn; hãy tải lại trang.", "The form expired; reload the page.")
    else:
        try:
            if form.get("action") == "reject":
                await run_in_threadpool(paper_entry.reject, ctx.engine, reading_id, decided_by=found.username)
            else:
                await run_in_threadpool(paper_entry.decide, ctx.engine, ctx.secret, reading_id, form.fields,
                                        decided_by=found.username, zone=_zone(ctx))
        except BilingualError as error:
            message = (error.vi, error.en)
    if message is None:
        return RedirectResponse(f"{REVIEW}?done={reading_id}", status_code=303)
    waiting = paper_entry.pending(ctx.engine)
    current = next((w for w in waiting if w.id == reading_id), waiting[0] if waiting else None)
    return templates.TemplateResponse(request, "paper_review.html", {
        "session": found, "waiting": waiting, "current": current, "titles": geo.titles(), "rows": geo.ROWS_BY_KEY,
        "message": message, "done": "", "typed": form.fields}, status_code=400)


@router.get(REVIEW + "/{reading_id}/anh")
def review_image(request: Request, reading_id: int, found: SignedIn) -> Response:
    """The held scan straightened onto the form, cut to one question's row (?row=KEY) or the whole page, as PNG."""
    if found is None:
        return Response(status_code=401)
    ctx = context(request)
    held = next((w for w in paper_entry.pending(ctx.engine) if w.id == reading_id), None)
    if held is None:
        return Response(status_code=404)
    try:
        page = omr.warp(omr.decode((ctx.data_dir / held.image_path).read_bytes()))
    except (OSError, BilingualError):
        return Response(status_code=404)
    key = request.query_params.get("row", "")
    if key in geo.ROWS_BY_KEY:
        row = geo.ROWS_BY_KEY[key]
        bottom = max(box.y for box in row.boxes) + geo.BOX + (120 if key == geo.LEVEL_KEY else 30)
        page = page[row.y - 20:bottom, 140:geo.PAGE_W - 140]
    elif key == geo.FORM_NUMBER_KEY:
        page = page[geo.QR_Y - 40:geo.QR_Y + geo.QR_SIZE + 80, geo.QR_X - 300:geo.PAGE_W - 60]
    else:
        page = cv2.resize(page, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", page)
    return Response(bytes(encoded) if ok else b"", media_type="image/png", headers={"Cache-Control": "no-store"})
