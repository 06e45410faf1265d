"""What the web form prints and draws: QR codes as inline SVG, the faces of the five levels, the A4 poster and
the one-time token cards (HTML made on the server, so a poster needs nothing from the internet)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import qrcode
from markupsafe import Markup

from kiosk.domain.levels import LEVELS
from kiosk.domain.spreadsheet import CsvWriter
from sync.server import registry
from sync.server.channels.web_form import TOKEN_FIELD, Place, short_path

# Mouth of each level's face: the control point's height below (smile) or above (frown) the corners.
_MOUTH = {5: 14, 4: 8, 3: 0, 2: -8, 1: -14}


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR code's modules for `text` (error correction M, no quiet zone)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, box_size=1)
    code.add_data(text)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


def qr_svg(text: str, label: str) -> Markup:
    """The QR code for `text` as an inline SVG (one path, a 4-module quiet zone), named by `label`."""
    matrix = qr_matrix(text)
    size = len(matrix) + 8
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start + 4} {y + 4}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    escaped = Markup.escape(label)
    return Markup(f'<svg class="qr" role="img" aria-label="{escaped}" viewBox="0 0 {size} {size}" '
                  f'xmlns="http://www.w3.org/2000/svg" shape-rendering="crispEdges">'
                  f'<rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/></svg>')


def face_svg(value: int) -> Markup:
    """A simple face for a level, in its colour (decorative: the label beside it says the level)."""
    colour = next(level.colour for level in LEVELS if level.value == value)
    bend = _MOUTH[value]
    return Markup(f'<svg class="face" aria-hidden="true" focusable="false" viewBox="0 0 64 64">'
                  f'<circle cx="32" cy="32" r="30" fill="{colour}"/>'
                  f'<circle cx="22" cy="25" r="4.5" fill="#fff"/><circle cx="42" cy="25" r="4.5" fill="#fff"/>'
                  f'<path d="M18 {42 - bend / 4:g} Q32 {42 + bend:g} 46 {42 - bend / 4:g}" stroke="#fff" '
                  f'stroke-width="5" fill="none" stroke-linecap="round"/></svg>')


def short_url(base: str, agency_code: str, counter_code: str | None, token: str | None = None) -> str:
    """The short link a poster or card prints, from the server's public address."""
    url = base.rstrip("/") + short_path(quote(agency_code), quote(counter_code) if counter_code else None)
    return url + (f"?{TOKEN_FIELD}={token}" if token else "")


def poster_values(place: Place, base: str) -> dict[str, Any]:
    """What the A4 poster template shows for a place."""
    url = short_url(base, place.agency.code, place.counter_code)
    return {"place": place, "url": url, "qr": qr_svg(url, f"Mã QR: {url}"), "display_url": url.split("://", 1)[-1]}


def token_cards_values(place: Place, base: str, tokens: Sequence[str], batch: str) -> dict[str, Any]:
    """What the token cards template shows: one card per token, each with its own QR."""
    cards = []
    for token in tokens:
        url = short_url(base, place.agency.code, place.counter_code, token)
        cards.append({"url": url, "qr": qr_svg(url, f"Mã QR: {url}"), "display_url": url.split("://", 1)[-1]})
    return {"place": place, "cards": cards, "batch": batch}


def token_csv(place: Place, base: str, tokens: Sequence[str], batch: str) -> str:
    """The tokens' links as CSV (agency, counter, batch, url), for a print shop's own layout."""
    out = io.StringIO()
    writer = CsvWriter(out, lineterminator="\n")   # the batch label is free text: never a formula
    writer.writerow(["agency", "counter", "batch", "url"])
    for token in tokens:
        writer.writerow([place.agency.code, place.counter_code or "", batch,
                         short_url(base, place.agency.code, place.counter_code, token)])
    return out.getvalue()


def agency_line(agency: registry.Agency) -> str:
    """The agency as a poster heads it: its name, and its province or commune when known."""
    return agency.name + (f" — {agency.parent}" if agency.parent else "")
