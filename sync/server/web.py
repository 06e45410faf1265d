"""What every page of the server uses: the templates, the signed-in user and the posted form as FastAPI
dependencies, an answer a dependency gives in the handler's place, and the level colours' stylesheet."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from kiosk.domain.levels import LEVELS
from sync.server.admin import accounts
from sync.server.context import context
from sync.server.devices.body import read_body
from sync.server.errors import ApiError

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
# The templates ship with the server and never change under it: no file check on every page.
templates.env.auto_reload = False
SESSION_COOKIE = "kiosk_session"
FORM_LIMIT = 16 * 1024
FORM_FIELDS = 20
LEVELS_CSS = "/levels.css"


class EarlyResponse(Exception):
    """Raised by a dependency that has already made the request's answer (to the sign-in page, a form refused):
    the application sends `response` instead of calling the handler."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"answered early with status {response.status_code}")
        self.response = response


def signed_in(request: Request) -> accounts.Session | None:
    """The IT user signed in with the request's session cookie, or None."""
    return accounts.session(context(request).engine, request.cookies.get(SESSION_COOKIE))


@dataclass(frozen=True)
class PostedForm:
    """A posted form: the first value of each field, or the refusal of a body that could not be read."""

    fields: dict[str, str] = field(default_factory=dict)
    unreadable: ApiError | None = None   # too large, or a Content-Length that is not a number

    def get(self, name: str, default: str = "") -> str:
        """One field's value, `default` when the form does not have it."""
        return self.fields.get(name, default)

    def csrf_matches(self, expected: str) -> bool:
        """True when the form carries `expected` as its CSRF token (compared in constant time)."""
        return accounts.csrf_ok(expected, self.fields.get("csrf"))


async def posted_form(request: Request) -> PostedForm:
    """The request's URL-encoded form, at most FORM_LIMIT bytes and FORM_FIELDS fields; a body that is not one
    (not UTF-8, too many fields) reads as an empty form."""
    try:
        raw = await read_body(request, FORM_LIMIT)
    except ApiError as error:
        return PostedForm(unreadable=error)
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return PostedForm()
    return PostedForm({key: values[0] for key, values in parsed.items() if values})


SignedIn = Annotated[accounts.Session | None, Depends(signed_in)]
Form = Annotated[PostedForm, Depends(posted_form)]


def _levels_css() -> str:
    """The five levels' colours as CSS custom properties (--level-1 … --level-5), from kiosk.domain.levels."""
    colours = " ".join(f"--level-{level.value}: {level.colour};" for level in sorted(LEVELS, key=lambda lv: lv.value))
    return f"/* The five satisfaction levels' colours (kiosk.domain.levels). */\n:root {{ {colours} }}\n"


_LEVELS_CSS = _levels_css()


@router.get(LEVELS_CSS)
def levels_css() -> Response:
    """The stylesheet that names the level colours the results pages use (var(--level-N))."""
    return Response(_LEVELS_CSS, media_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"})
