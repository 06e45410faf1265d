"""The web form's pages: the form per agency and counter (/y-kien/…), its thank-you page, its short link (/f/…)
and its printable A4 poster. Thin handlers over sync.server.channels.web_form (the rules) and posters (drawing).

The form is plain HTML that works with no JavaScript; after a stored answer the browser is sent (303) to the
thank-you page, so a reload never sends the answers again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kiosk.domain.levels import COMMENT_KEY, COMMENT_MAX_CHARS, LEVELS, PROCEDURE_KEY, QUESTIONS
from sync.server import settings as server_settings
from sync.server.channels import posters, web_form
from sync.server.channels.web_form import FORM_PATH, SHORT_PATH, Place, Problem
from sync.server.context import context
from sync.server.web import Form, PostedForm, templates

router = APIRouter(include_in_schema=False)
# Everything the pages use is the server's own: a page that tried to load anything else would be refused.
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
THANKS = "cam-on"
POSTER = "poster"

# The form's own words (the questions and levels come from kiosk.domain.levels).
TEXT: dict[str, tuple[str, str]] = {
    "title": ("Ý kiến về sự phục vụ", "Your opinion of our service"),
    "intro": ("Phiếu không ghi tên. Chỉ câu 1 là bắt buộc.",
              "This form is anonymous. Only question 1 is required."),
    "q_level": ("Ông/Bà hài lòng thế nào với sự phục vụ hôm nay?", "How satisfied are you with today's service?"),
    "more": ("Đánh giá chi tiết (không bắt buộc)", "In more detail (optional)"),
    "yes": ("Có", "Yes"), "no": ("Không", "No"),
    "skip": ("Bỏ qua", "Skip"),
    "procedure": ("Thủ tục Ông/Bà đến làm (không bắt buộc)", "The procedure you came for (optional)"),
    "procedure_hint": ("Mã thủ tục, ví dụ 1.001193", "Procedure code, e.g. 1.001193"),
    "procedure_none": ("— Không chọn —", "— None —"),
    "comment": ("Góp ý thêm (không bắt buộc)", "Any other comment (optional)"),
    "comment_hint": (f"Tối đa {COMMENT_MAX_CHARS} ký tự. Xin đừng ghi họ tên, số điện thoại.",
                     f"Up to {COMMENT_MAX_CHARS} characters. Please do not write your name or phone number."),
    "honeypot": ("Để trống ô này", "Leave this empty"),
    "send": ("Gửi ý kiến", "Send"),
    "errors": ("Xin sửa các chỗ sau rồi gửi lại:", "Please correct the following and send again:"),
    "thanks": ("Xin cảm ơn Ông/Bà đã góp ý!", "Thank you for your opinion!"),
    "thanks_body": ("Ý kiến của Ông/Bà đã được ghi nhận, không kèm thông tin cá nhân.",
                    "Your answers were recorded, with nothing that identifies you."),
    "hotline": ("Cần phản ánh, kiến nghị? Đường dây nóng:", "Need to complain? Hotline:"),
    "complaints": ("Địa chỉ tiếp nhận phản ánh, kiến nghị:", "Complaints and suggestions:"),
    "again": ("Quay lại phiếu", "Back to the form"),
    "counter": ("Quầy", "Counter"),
    "other_lang": ("English", "Tiếng Việt"),
}


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "vi"


def _words(lang: str) -> dict[str, str]:
    return {key: pair[1] if lang == "en" else pair[0] for key, pair in TEXT.items()}


def _page(request: Request, name: str, values: dict[str, Any], status: int = 200) -> Response:
    """A page of the form: never cached (it may carry a token or a citizen's entered values), strict CSP."""
    response = templates.TemplateResponse(request, name, values, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    return response


def error_page(request: Request, status: int, vi: str, en: str) -> Response:
    """A bilingual page that says why (not found, refused), Vietnamese first."""
    return _page(request, "webform_error.html", {"message": (vi, en), "status": status}, status)


def _missing(request: Request) -> Response:
    return error_page(request, 404, "Không có phiếu ý kiến cho cơ quan hoặc quầy này. Xin kiểm tra lại đường "
                      "dẫn hoặc mã QR.", "There is no form for this agency or counter. Please check the link or QR "
                      "code.")


def _place(request: Request, agency: str, counter: str | None) -> Place | None:
    return web_form.find_place(context(request).engine, agency, counter)


def _form_page(request: Request, place: Place, lang: str, values: dict[str, str],
               problems: tuple[Problem, ...] = (), status: int = 200) -> Response:
    path = web_form.form_path(quote(place.agency.code), quote(place.counter_code) if place.counter_code else None)
    query = {"lang": "en"} if lang == "vi" else {}   # the link to the other language keeps a card's token
    if values.get(web_form.TOKEN_FIELD):
        query[web_form.TOKEN_FIELD] = values[web_form.TOKEN_FIELD]
    known = {code for code, _name in place.procedures}
    entered_code = values.get(PROCEDURE_KEY, "")
    return _page(request, "webform.html", {
        "place": place, "lang": lang, "w": _words(lang), "levels": LEVELS, "questions": QUESTIONS,
        "face": posters.face_svg, "values": values, "problems": problems,
        "problem_fields": {p.field for p in problems}, "action": path, "other_lang_link":
        path + ("?" + urlencode(query) if query else ""), "honeypot": web_form.HONEYPOT_FIELD,
        "token_field": web_form.TOKEN_FIELD, "comment_key": COMMENT_KEY, "procedure_key": PROCEDURE_KEY,
        "comment_max": COMMENT_MAX_CHARS, "procedure_typed": entered_code if entered_code not in known else ""},
        status)


def _show(request: Request, agency: str, counter: str | None) -> Response:
    place = _place(request, agency, counter)
    if place is None:
        return _missing(request)
    token = request.query_params.get(web_form.TOKEN_FIELD, "")
    values = {web_form.TOKEN_FIELD: token} if web_form.TOKEN_PATTERN.fullmatch(token) else {}
    return _form_page(request, place, _lang(request), values)


def _client_address(request: Request) -> str:
    # uvicorn (proxy_headers) already puts the proxy's X-Forwarded-For here when the proxy is trusted.
    return request.client.host if request.client else ""


def _post(request: Request, agency: str, counter: str | None, form: PostedForm) -> Response:
    place = _place(request, agency, counter)
    if place is None:
        return _missing(request)
    if form.unreadable is not None:
        body = form.unreadable.body
        return error_page(request, form.unreadable.status, body.message_vi, body.message_en)
    read = web_form.read_form(form.fields)
    if read.forged:
        return error_page(request, 422, "Phiếu gửi lên có trường hoặc giá trị mà phiếu không có; không ghi nhận.",
                          "The form sent has fields or values this form does not have; nothing was recorded.")
    if read.answers is None:
        return _form_page(request, place, read.language, read.values, read.problems, 422)
    ctx = context(request)
    done = web_form.submit(ctx.engine, ctx.secret, ctx.settings.webform, place, read,
                           address=_client_address(request), cookie=request.cookies.get(web_form.COOKIE))
    path = web_form.form_path(quote(place.agency.code), quote(place.counter_code) if place.counter_code else None)
    response = RedirectResponse(f"{path}/{THANKS}" + ("?lang=en" if read.language == "en" else ""), 303)
    max_age = max(int(ctx.settings.webform.repeat_window_h * 3600), 60)
    response.set_cookie(web_form.COOKIE, done.cookie, max_age=max_age, path=FORM_PATH, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")
    return response


def _thanks(request: Request, agency: str, counter: str | None) -> Response:
    place = _place(request, agency, counter)
    if place is None:
        return _missing(request)
    lang = _lang(request)
    path = web_form.form_path(quote(place.agency.code), quote(place.counter_code) if place.counter_code else None)
    return _page(request, "webform_thanks.html", {
        "place": place, "lang": lang, "w": _words(lang), "back": path + ("?lang=en" if lang == "en" else "")})


def _poster(request: Request, agency: str, counter: str | None) -> Response:
    place = _place(request, agency, counter)
    if place is None:
        return _missing(request)
    settings = context(request).settings
    base = server_settings.public_base(settings) if settings.server.public_url else str(request.base_url)
    return _page(request, "webform_poster.html", posters.poster_values(place, base))


def _short(request: Request, agency: str, counter: str | None) -> Response:
    if _place(request, agency, counter) is None:
        return _missing(request)
    target = web_form.form_path(quote(agency), quote(counter) if counter else None)
    token = request.query_params.get(web_form.TOKEN_FIELD, "")
    if web_form.TOKEN_PATTERN.fullmatch(token):
        target += f"?{web_form.TOKEN_FIELD}={token}"
    return RedirectResponse(target, 302)


@router.get(SHORT_PATH + "/{agency}")
def short_agency(request: Request, agency: str) -> Response:
    """The short link printed on posters: to the agency's form."""
    return _short(request, agency, None)


@router.get(SHORT_PATH + "/{agency}/{counter}")
def short_counter(request: Request, agency: str, counter: str) -> Response:
    """The short link printed on posters and slips: to the counter's form."""
    return _short(request, agency, counter)


@router.get(FORM_PATH + "/{agency}/" + THANKS)
def thanks_agency(request: Request, agency: str) -> Response:
    """The thank-you page after an agency's form."""
    return _thanks(request, agency, None)


@router.get(FORM_PATH + "/{agency}/" + POSTER)
def poster_agency(request: Request, agency: str) -> Response:
    """The agency's printable A4 poster with the QR of its short link."""
    return _poster(request, agency, None)


@router.get(FORM_PATH + "/{agency}/{counter}/" + THANKS)
def thanks_counter(request: Request, agency: str, counter: str) -> Response:
    """The thank-you page after a counter's form."""
    return _thanks(request, agency, counter)


@router.get(FORM_PATH + "/{agency}/{counter}/" + POSTER)
def poster_counter(request: Request, agency: str, counter: str) -> Response:
    """The counter's printable A4 poster."""
    return _poster(request, agency, counter)


@router.get(FORM_PATH + "/{agency}")
def form_agency(request: Request, agency: str) -> Response:
    """The agency's form (no counter named)."""
    return _show(request, agency, None)


@router.post(FORM_PATH + "/{agency}")
def send_agency(request: Request, agency: str, form: Form) -> Response:
    """Answers to the agency's form."""
    return _post(request, agency, None, form)


@router.get(FORM_PATH + "/{agency}/{counter}")
def form_counter(request: Request, agency: str, counter: str) -> Response:
    """A counter's form."""
    return _show(request, agency, counter)


@router.post(FORM_PATH + "/{agency}/{counter}")
def send_counter(request: Request, agency: str, counter: str, form: Form) -> Response:
    """Answers to a counter's form."""
    return _post(request, agency, counter, form)
