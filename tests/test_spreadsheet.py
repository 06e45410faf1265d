"""kiosk.domain.spreadsheet: which text a spreadsheet could run, and how CSV and XLSX cells are made safe from it
(the workbook is a real one, saved and read back with openpyxl)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from kiosk.domain import spreadsheet


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t", "\tx", "\rx", "\nx", "\r\n=1",
                                  " =1+1", "   -cmd", '"=1+1', "'=1+1", "\" ' =x", "\u00a0=1", "=", "-"])
def test_text_that_could_start_a_formula(text: str) -> None:
    assert spreadsheet.formula_like(text)
    assert spreadsheet.csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["", " ", "Quầy 1 — Tư pháp", "Nguyễn Văn An", "1.001193", "2025-11-01",
                                  "a=b", "CB-001", "x\n=1+1", "'", "'abc", "“=1+1”", "Đăng ký khai sinh"])
def test_plain_text_is_left_as_written(text: str) -> None:
    assert not spreadsheet.formula_like(text)
    assert spreadsheet.csv_cell(text) == text


@pytest.mark.parametrize("value", [0, 7, -5, -2.5, 0.4, Decimal("-1.50"), True, False, None])
def test_numbers_and_blanks_are_never_touched(value: object) -> None:
    made = spreadsheet.csv_cell(value)
    assert made is value


def test_other_values_are_written_as_their_text() -> None:
    assert spreadsheet.csv_cell(date(2025, 11, 1)) == "2025-11-01"


def test_the_csv_writer_passes_every_cell_through_the_rule() -> None:
    out = io.StringIO()
    writer = spreadsheet.CsvWriter(out, lineterminator="\r\n")
    writer.writerow(["Tên", "=HYPERLINK(\"x\")", -3, 1.5, None, "\t-1"])
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [
        ["Tên", "'=HYPERLINK(\"x\")", "-3", "1.5", "", "'\t-1"]]


def test_xlsx_text_stays_text_as_written_and_numbers_stay_numbers() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    row = ["=1+1", "#N/A", "-5", "Quầy 1", -5, -2.5, None, "@x", " =cmd|' /C calc'!A0"]
    spreadsheet.xlsx_append(sheet, ["Tiêu đề"] * len(row))
    spreadsheet.xlsx_append(sheet, row)
    out = io.BytesIO()
    book.save(out)
    cells = list(next(load_workbook(out).active.iter_rows(min_row=2, max_row=2)))
    assert [c.value for c in cells] == row
    assert [c.data_type for c in cells] == ["s", "s", "s", "s", "n", "n", "n", "s", "s"]
    assert [bool(c.quotePrefix) for c in cells] == [True, False, True, False, False, False, False, True, True]


def test_control_characters_xlsx_cannot_hold_are_dropped_not_fatal() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    spreadsheet.xlsx_append(sheet, ["Chờ\x07 lâu\x00", "=\x1b1+1", "dòng 1\ndòng 2\tcột"])
    out = io.BytesIO()
    book.save(out)
    cells = list(next(load_workbook(out).active.iter_rows()))
    assert [c.value for c in cells] == ["Chờ lâu", "=1+1", "dòng 1\ndòng 2\tcột"]
    assert cells[1].data_type == "s" and cells[1].quotePrefix
