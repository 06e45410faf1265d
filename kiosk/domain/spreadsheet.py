"""Spreadsheet cells that cannot run: the one rule every CSV and XLSX the product writes follows.

Comments, names and codes come from citizens, officers and devices. Excel and LibreOffice take a cell that
begins with '=', '+', '-' or '@' for a formula (a tab, carriage return or line feed at the start is a way to
smuggle one past a check), so such text could run when a Home Affairs officer opens a download: fetch a URL,
start a program through DDE, or quietly change what the sheet shows (OWASP's "CSV injection").

Numbers (int, float, Decimal) are never touched, negative ones included: they reach the file as numbers.
This module imports nothing from Kivy, sync or openpyxl, so the device and the server share it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from numbers import Number
from typing import IO, Any, Protocol

QUOTE = "'"
# A formula starts with one of these, after any spaces or quotes a reader may trim or unwrap first.
_FORMULA_START = re.compile(r"""[\s"']*[=+\-@]""")
# Whitespace that spreadsheet importers may drop or split on, which leaves what follows at the cell's start.
_RISKY_FIRST = frozenset("\t\r\n")
# The control characters XLSX cannot hold (openpyxl refuses the whole workbook); tab, CR and LF it can.
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def formula_like(text: str) -> bool:
    """True when a spreadsheet could take the text for a formula (OWASP's characters, also after spaces or quotes)."""
    return text[:1] in _RISKY_FIRST or _FORMULA_START.match(text) is not None


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: formula-like text gets a single quote in front; numbers and None are unchanged."""
    if value is None or isinstance(value, Number):  # bool is a Number too: it is written as True/False
        return value
    text = str(value)
    return QUOTE + text if formula_like(text) else text


def csv_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through csv_cell."""
    return [csv_cell(value) for value in values]


class CsvWriter:
    """csv.writer with every cell passed through csv_cell, so no column can be forgotten."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, values: Iterable[Any]) -> None:
        """Write one row, neutralised."""
        self._writer.writerow(csv_row(values))


class XlsxCell(Protocol):
    """The part of an openpyxl cell that xlsx_text sets."""

    data_type: str
    quotePrefix: bool  # openpyxl's spelling


def xlsx_value(value: Any) -> Any:
    """A value an XLSX cell can hold: text without the control characters XLSX has no place for."""
    # One stray control character in a comment or a name would otherwise fail the whole download.
    return _NOT_IN_XLSX.sub("", value) if isinstance(value, str) else value


def xlsx_text(cell: XlsxCell, text: str) -> None:
    """Keep a cell that was given `text` a plain string, never a formula (nor an error code such as '#N/A').

    In XLSX a cell's type is stored with it, and a string cell is never calculated, so the text is kept exactly
    as written: the single quote of the CSV rule would show in every name and comment that needs it and spoil
    sorting and look-ups. Formula-like text also gets Excel's quote-prefix flag, which is what Excel itself
    stores when a person types a leading apostrophe: the quote stays hidden, the cell reads naturally, and it
    stays text if someone opens it for editing and presses Enter (without the flag Excel would then make
    '=…' a live formula).
    """
    cell.data_type = "s"  # openpyxl makes any string beginning with '=' a formula
    if formula_like(text):
        cell.quotePrefix = True


def xlsx_append(sheet: Any, values: Sequence[Any]) -> None:
    """Append a row to an openpyxl sheet, every text cell through xlsx_value and xlsx_text; numbers stay numbers."""
    cleaned = [xlsx_value(value) for value in values]
    sheet.append(cleaned)
    row = sheet.max_row
    for column, value in enumerate(cleaned, start=1):
        if isinstance(value, str):
            xlsx_text(sheet.cell(row=row, column=column), value)
