"""`kiosk-server survey`: the web form's printed side: an A4 poster with the QR of an agency's (or counter's)
short link, and one-time token cards (an HTML page of QR cards to print, or a CSV of their links)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from sync.server import settings as server_settings
from sync.server.channels import posters, web_form
from sync.server.cli.common import EXIT_OK, Adder, Handler, say, staged
from sync.server.errors import ServerError
from sync.server.settings import ServerSettings
from sync.server.web import templates

_CSS = Path(__file__).resolve().parent.parent / "static" / "webform.css"
# A card's own layout: eight to an A4 page, cut along the borders.
_CARDS_CSS = """
@page { size: A4; margin: 10mm; }
body { margin: 0; font-family: system-ui, "Noto Sans", Arial, sans-serif; color: #000; }
.cards-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0; }
.card-qr { border: 1px dashed #888; padding: 4mm; height: 69mm; text-align: center; break-inside: avoid; }
.c-agency { font-weight: 700; font-size: 9pt; margin: 0 0 1mm; }
.c-batch { font-size: 7pt; margin: 0; color: #333; }
.c-qr .qr { width: 38mm; height: 38mm; }
.c-text { font-size: 9pt; margin: 1mm 0; } .c-text span { display: block; color: #333; }
.c-url { font-size: 7pt; word-break: break-all; margin: 0; }
"""


def add_commands(sub: Any, add: Adder) -> None:
    """The `survey` command and its sub-commands."""
    survey = add(sub, "survey", "the web form's posters and one-time token cards")
    s_sub = survey.add_subparsers(dest="survey_command", required=True, metavar="ACTION")
    poster = add(s_sub, "poster", "write a printable A4 poster (HTML) with the QR of the form's short link")
    tokens = add(s_sub, "tokens", "make one-time tokens: QR cards to print (HTML) or their links (.csv)")
    for parser in (poster, tokens):
        parser.add_argument("--agency", required=True, metavar="CODE")
        parser.add_argument("--counter", metavar="CODE", help="a counter of the agency (default: the agency's form)")
        parser.add_argument("--out", type=Path, required=True, metavar="FILE")
    tokens.add_argument("--count", type=int, required=True, metavar="N", help="how many tokens (1-10000)")
    tokens.add_argument("--batch", default="", metavar="LABEL", help="a label kept with the tokens (e.g. 'Q4 2026')")


def _place(engine: Engine, args: argparse.Namespace) -> web_form.Place:
    place = web_form.find_place(engine, args.agency, args.counter)
    if place is None:
        where = args.agency + (f"/{args.counter}" if args.counter else "")
        raise ServerError(f"Không có cơ quan hoặc quầy {where!r}", f"no agency or counter {where!r}")
    return place


def _survey(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    place = _place(engine, args)
    if not settings.server.public_url:
        # The address the server listens on is seldom the one a citizen's phone reaches: a poster or a box of
        # cards printed with it would lead nowhere.
        raise ServerError(
            "Chưa đặt [server] public_url (địa chỉ người dân mở được, ví dụ https://kiosk.tinh.gov.vn) trong tệp "
            "cấu hình: mã QR in ra sẽ không mở được",
            "[server] public_url (the address citizens can open, e.g. https://kiosk.tinh.gov.vn) is not set in the "
            "settings file: the printed QR codes would lead nowhere")
    base = server_settings.public_base(settings)
    if args.survey_command == "poster":
        values = posters.poster_values(place, base) | {"css": _CSS.read_text(encoding="utf-8")}
        with staged(args.out) as partial:
            partial.write_text(templates.get_template("webform_poster.html").render(values), encoding="utf-8")
        say(f"Đã ghi áp phích vào {args.out} (đường dẫn {values['url']})",
            f"Poster written to {args.out} (link {values['url']})")
        return EXIT_OK
    if not 1 <= args.count <= 10_000:
        raise ServerError("--count phải từ 1 đến 10000", "--count must be from 1 to 10000")
    with staged(args.out) as partial:   # the folder is checked before any token is made
        made = web_form.make_tokens(engine, place.agency.code, place.counter_code, args.count, args.batch)
        if args.out.suffix.lower() == ".csv":
            text = posters.token_csv(place, base, made, args.batch)
        else:
            values = posters.token_cards_values(place, base, made, args.batch) | {"css": _CARDS_CSS}
            text = templates.get_template("webform_cards.html").render(values)
        partial.write_text(text, encoding="utf-8")
    say(f"Đã tạo {len(made)} mã dùng một lần, ghi vào {args.out} (chỉ lưu mã băm trên máy chủ)",
        f"Made {len(made)} one-time tokens, written to {args.out} (the server keeps only their hashes)")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"survey": _survey}

