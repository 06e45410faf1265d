"""Exports carry exactly the report's numbers: CSV (for Excel), XLSX (read back with openpyxl), JSON (and back),
and the terminal table. The report is the hand-worked one of tests/test_server_reports.py, on both databases."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from kiosk.domain.levels import LEVELS, QUESTIONS, SCALE_KEYS
from sync.server import db
from sync.server.results import exports, reports
from sync.server.results.figures import Figures, Report, ReportQuery
from sync.server.results.periods import Period
from sync.server.settings import Reports, ServerSettings
from tests import hostile_data
from tests.test_server_reports import HK_NAME, HK_NOVEMBER, NOVEMBER, Seeded, seed

# Flags on (at least 5 ratings), so the exports show a flag, a "too few" and a plain row.
FLAGGING = replace(ServerSettings(), reports=Reports(flag_share=0.25, flag_min_ratings=5))


@pytest.fixture(scope="module")
def seeded(module_db_url: str) -> Iterator[Seeded]:
    """The hand-worked data set, once per backend."""
    engine = db.open_database(module_db_url)
    yield seed(engine, module_db_url)
    engine.dispose()


@pytest.fixture
def report(seeded: Seeded) -> Report:
    """Agency HK, November 2025, by counter: Q02 (2 ratings, too few), Q01 (5 ratings, 40 % dissatisfied)."""
    return reports.build(seeded.engine, ReportQuery(NOVEMBER, "counter", "HK"), FLAGGING)


@pytest.fixture
def empty(seeded: Seeded) -> Report:
    """A month with no ratings at all."""
    return reports.build(seeded.engine, ReportQuery(Period.of("month", date(2025, 6, 1)), "counter", "HK"),
                         FLAGGING)


def percent(value: float | None) -> str:
    """How CSV writes a share."""
    return "" if value is None else f"{value * 100:.2f}"


def read_csv(text: str) -> list[list[str]]:
    """The CSV's rows, after checking the BOM Excel needs."""
    assert text.startswith("\ufeff") and "\r\n" in text
    return list(csv.reader(io.StringIO(text[1:])))


def expected_group_cells(figures: Figures) -> list[Any]:
    """The figures as the groups table lays them out: levels 5 to 1 (count, share), index, dissatisfied,
    each element (index, answered), harassment."""
    cells: list[Any] = [figures.ratings]
    for value in (5, 4, 3, 2, 1):
        cells += [figures.levels[value - 1], figures.share(value)]
    cells += [figures.satisfaction_index, figures.dissatisfied_share]
    for key in SCALE_KEYS:
        cells += [figures.elements[key].index, figures.elements[key].answered]
    return [*cells, figures.harassment_reports]


def test_the_report_under_export_is_the_hand_worked_one(report: Report) -> None:
    assert report.total == HK_NOVEMBER
    assert [(r.key, r.flagged, r.too_few) for r in report.rows] == [("Q02", False, True), ("Q01", True, False)]


def test_csv_groups_table_has_every_number_of_the_report(report: Report) -> None:
    rows = read_csv(exports.report_csv(report, "vi"))
    header, q02, q01, total = rows
    assert header[:3] == ["Mã", "Quầy", "Số lượt đánh giá"]
    assert header[3] == "Rất hài lòng (5)" and header[4] == "Tỷ lệ mức 5 (%)"
    assert header[13:15] == ["Chỉ số hài lòng (4–5) (%)", "Tỷ lệ không hài lòng (1–2) (%)"]
    assert header[15] == "Tiếp cận dịch vụ: chỉ số (%)" and header[-1] == "Cảnh báo"
    for line, key, label, figures, previous in (
            (q02, "Q02", "Quầy 2 — Đất đai", report.rows[0].figures, report.rows[0].previous),
            (q01, "Q01", "Quầy 1 — Tư pháp, hộ tịch", report.rows[1].figures, report.rows[1].previous),
            (total, "", "Tổng cộng", report.total, report.previous_total)):
        assert line[:2] == [key, label]
        shares = {i for i, title in enumerate(header) if title.endswith("(%)")}
        want = [*expected_group_cells(figures), previous.ratings, previous.satisfaction_index]
        got = line[2:-1]
        assert got == [percent(v) if i + 2 in shares else str(v) for i, v in enumerate(want)]
    assert q01[13] == "40.00" and q01[14] == "40.00" and q01[15] == "66.67"      # index, dissatisfied, access
    assert q02[14] == "0.00" and q02[15] == "" and q02[-2] == ""                  # no access answers; no October
    assert q01[-1] == "CẢNH BÁO: không hài lòng > 25%"
    assert q02[-1] == "chưa đủ số lượt đánh giá (< 5)" and total[-1] == ""


def test_csv_levels_and_elements_tables_and_english(report: Report) -> None:
    header, *levels = read_csv(exports.report_csv(report, "vi", "levels"))
    assert header == ["Mức", "Mức độ hài lòng", "Số lượt", "Tỷ lệ (%)", "Số lượt kỳ trước", "Tỷ lệ kỳ trước (%)"]
    assert [line[:4] for line in levels[:5]] == [
        [str(level.value), level.label_vi, str(report.total.levels[level.value - 1]),
         percent(report.total.share(level.value))] for level in LEVELS]
    assert levels[5][2] == "7" and levels[6][3] == "42.86" and levels[7][3] == "28.57"
    assert levels[0][4:] == ["0", "0.00"] and levels[4][4:] == ["1", "50.00"]      # October: one 4, one 1
    header, *elements = read_csv(exports.report_csv(report, "vi", "elements"))
    assert [line[:5] for line in elements] == [
        [q.key, q.title_vi, str(report.total.elements[q.key].answered),
         str(report.total.elements[q.key].satisfied), percent(report.total.elements[q.key].index)]
        for q in QUESTIONS if q.kind == "scale"]
    english = read_csv(exports.report_csv(report, "en"))
    assert english[0][:3] == ["Key", "Counter", "Ratings"] and english[-1][1] == "Total"
    assert english[2][-1] == "FLAGGED: dissatisfied > 25%" and english[1][-1] == "too few ratings (< 5)"
    with pytest.raises(ValueError):
        exports.report_csv(report, "vi", "comments")


def test_an_empty_report_exports_blanks_never_zero_percent(empty: Report) -> None:
    header, total = read_csv(exports.report_csv(empty))
    shares = [value for title, value in zip(header, total, strict=True) if title.endswith("(%)")]
    assert shares and all(value == "" for value in shares) and total[2] == "0"
    text = exports.report_table(empty)
    assert "–" in text and "0.0%" not in text
    data = exports.report_json(empty)
    assert data["total"]["satisfaction_index"] is None and data["rows"] == []


def test_xlsx_sheets_hold_the_same_numbers_as_real_percentages(report: Report) -> None:
    book = load_workbook(io.BytesIO(exports.report_xlsx(report, "vi")))
    assert book.sheetnames == ["Thông tin", "Nhóm", "Mức độ", "Yếu tố"]
    assert HK_NAME in str(book["Thông tin"]["A1"].value) and "Tháng 11/2025" in str(book["Thông tin"]["A2"].value)
    for name, sheet_name in (("groups", "Nhóm"), ("levels", "Mức độ"), ("elements", "Yếu tố")):
        header, rows, shares = exports.table(report, name, "vi")
        sheet = book[sheet_name]
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert values[0] == header and all(cell.font.bold for cell in sheet[1])
        # Excel keeps 15 significant digits: shares compare to that precision, everything else exactly.
        assert values[1:] == [[pytest.approx(v, rel=1e-13) if isinstance(v, float) else None if v == "" else v
                               for v in row] for row in rows]
        for column in shares:
            cells = [sheet.cell(row=r, column=column + 1) for r in range(2, len(rows) + 2)]
            assert all(c.number_format == exports.PERCENT_FORMAT for c in cells)
            assert all(c.value is None or isinstance(c.value, int | float) for c in cells)  # numbers, not text
        assert all((sheet.column_dimensions[letter].width or 0) >= 8 for letter in ("A", "B", "C"))
    groups = book["Nhóm"]
    header = [c.value for c in groups[1]]
    q01 = [c.value for c in groups[3]]
    assert q01[1] == "Quầy 1 — Tư pháp, hộ tịch"
    assert q01[header.index("Chỉ số hài lòng (4–5)")] == pytest.approx(0.4)
    assert q01[header.index("Số lượt đánh giá")] == 5 and q01[header.index("Rất không hài lòng (1)")] == 1
    english = load_workbook(io.BytesIO(exports.report_xlsx(report, "en")))
    assert english.sheetnames == ["About", "Groups", "Levels", "Elements"]


def test_json_round_trips_to_the_same_report(report: Report, empty: Report) -> None:
    for original in (report, empty):
        text = json.dumps(exports.report_json(original), ensure_ascii=False, allow_nan=False)
        assert exports.report_from_json(json.loads(text)) == original
    data = exports.report_json(report)
    assert data["query"]["period"] == {"kind": "month", "first": "2025-11-01", "last": "2025-11-30",
                                       "label_vi": "Tháng 11/2025", "label_en": "November 2025"}
    assert data["total"]["levels"] == [1, 1, 2, 2, 1] and data["total"]["satisfaction_index"] == 3 / 7
    assert data["rows"][1]["flagged"] and data["rows"][0]["too_few"]
    assert data["unverified"]["ratings"] == 2 and data["excluded_repeats"] == 1
    assert data["rows"][0]["figures"]["elements"]["access"] == {"answered": 0, "satisfied": 0, "index": None}


def columns(block: list[str]) -> list[tuple[int, int]]:
    """Column spans from the dashed line under a table's header."""
    spans, start = [], 0
    for part in block[1].split("  "):
        spans.append((start, start + len(part)))
        start += len(part) + 2
    return spans


def test_the_terminal_table_is_aligned_and_shows_the_same_numbers(report: Report) -> None:
    text = exports.report_table(report, "vi")
    lines = text.splitlines()
    assert lines[0] == f"Kết quả đánh giá mức độ hài lòng: {HK_NAME}"
    assert "Tháng 11/2025" in lines[1] and "Tháng 10/2025" in lines[1]
    assert "> 25%" in lines[2] and "ít nhất 5 lượt" in lines[2]
    assert "Không tính 1 lượt nghi bấm lặp" in text and "2 lượt, tính riêng" in text
    start = next(i for i, line in enumerate(lines) if line.startswith("Quầy "))
    block = lines[start:start + 5]
    spans = columns(block)

    def cell(line: str, column: int) -> str:
        begin, end = spans[column]
        return line[begin:end].strip()

    assert [cell(block[0], i) for i in range(len(spans))][:3] == ["Quầy", "Lượt", "[5]"]
    rows = {cell(line, 0): line for line in block[2:]}
    q01 = rows["Quầy 1 — Tư pháp, hộ tịch"]
    assert [cell(q01, i) for i in range(1, 9)] == ["5", "1", "1", "1", "1", "1", "40.0%", "40.0%"]
    assert cell(q01, 10) == "50.0%" and "CẢNH BÁO" in q01          # October: one 4 and one 1
    assert cell(rows["Quầy 2 — Đất đai"], 10) == "–" and "chưa đủ số lượt đánh giá" in rows["Quầy 2 — Đất đai"]
    assert [cell(rows["Tổng cộng"], i) for i in (1, 7, 8, 9)] == ["7", "42.9%", "28.6%", "1"]
    assert "[1] Rất không hài lòng" in text and "Tiếp cận dịch vụ" in text
    assert "Satisfaction results" in exports.report_table(report, "en")


# ---- stored text that looks like a formula --------------------------------------------------------------------

# The hostile texts each grouping's table shows (tests/hostile_data.py): its labels, and its keys when codes.
GROUP_TEXTS = {"agency": ("agency",), "counter": ("counter",), "officer": ("officer", "ocode"),
               "procedure": ("pcode", "procedure"), "field": ("field",)}


@pytest.fixture
def hostile(server_db_url: str) -> Iterator[tuple[Engine, hostile_data.Hostile]]:
    """A database whose every name, code and comment starts like a formula (see tests/hostile_data.py)."""
    engine = db.open_database(server_db_url)
    yield engine, hostile_data.seed(engine)
    engine.dispose()


def test_no_report_export_lets_stored_text_run_as_a_formula(hostile: tuple[Engine, hostile_data.Hostile]) -> None:
    engine, made = hostile
    period = Period.of("month", hostile_data.DAY)
    for group_by, kinds in GROUP_TEXTS.items():
        # Across agencies a label carries its agency's name after it; within one agency a key is the bare code.
        for agency in (None, made.agencies[0]):
            report = reports.build(engine, ReportQuery(period, group_by, agency), ServerSettings())
            expected = [text for kind in kinds for text in (made.texts[kind] if agency is None
                                                            else made.texts[kind][:1])]
            for lang in ("vi", "en"):
                groups = hostile_data.csv_rows(exports.report_csv(report, lang))
                hostile_data.assert_csv_inert(groups, expected)
                assert all(row[2].isdigit() for row in groups[1:])          # counts stay plain numbers
                for name in ("levels", "elements"):
                    hostile_data.assert_csv_inert(hostile_data.csv_rows(exports.report_csv(report, lang, name)), [])
                book = load_workbook(io.BytesIO(exports.report_xlsx(report, lang)))
                hostile_data.assert_xlsx_inert(book, expected)
                sheet = book.worksheets[1]
                assert all(isinstance(row[2], int) for row in sheet.iter_rows(min_row=2, values_only=True))
                shares = [c for row in sheet.iter_rows(min_row=2) for c in row if c.number_format == "0.0%"]
                assert shares and all(c.value is None or c.data_type == "n" for c in shares)
    trend = reports.trend(engine, ReportQuery(period, "agency"), ServerSettings(), "day")
    hostile_data.assert_csv_inert(hostile_data.csv_rows(exports.trend_csv(trend)), [])
