"""Downloads of the dashboard's other tables (trend, harassment reports, comments) as CSV and Excel.

The report's own tables (groups, levels, elements) come from sync.server.exports; these follow the same
habits: CSV in UTF-8 with a BOM so Excel reads the Vietnamese right, headers "Vietnamese / English", shares as
real numbers (fractions in Excel, formatted as percentages), text that looks like a formula made inert by
kiosk.domain.spreadsheet.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from kiosk.domain import spreadsheet
from sync.server.report_view import Table

BOM = "\ufeff"


def _header(table: Table, *, percent_mark: bool = False) -> list[str]:
    return [f"{c.vi} / {c.en}" + (" (%)" if percent_mark and c.kind == "share" else "") for c in table.columns]


def table_csv(table: Table) -> str:
    """The table as CSV text (BOM first); a share is written as a percentage with two decimals, as exports does."""
    out = io.StringIO()
    out.write(BOM)
    writer = spreadsheet.CsvWriter(out, lineterminator="\r\n")
    writer.writerow(_header(table, percent_mark=True))
    for row in table.rows:
        writer.writerow(["" if value is None else
                         (f"{float(value) * 100:.2f}" if column.kind == "share" else value)
                         for column, value in zip(table.columns, row, strict=True)])
    return out.getvalue()


def table_xlsx(table: Table) -> bytes:
    """The table as an Excel workbook with one sheet: bold headers, shares as percent-formatted numbers."""
    book = Workbook()
    sheet = book.active
    sheet.title = table.vi[:31]
    spreadsheet.xlsx_append(sheet, _header(table))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        spreadsheet.xlsx_append(sheet, row)
        for column, cell in zip(table.columns, sheet[sheet.max_row], strict=True):
            if column.kind == "share" and cell.value is not None:
                cell.number_format = "0.0%"
    header = _header(table)
    for index in range(len(table.columns)):
        longest = max([len(header[index])] + [len(str(r[index] or "")) for r in table.rows])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(longest + 2, 10), 80)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
