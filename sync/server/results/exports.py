"""A report as files and text: CSV for Excel, an XLSX workbook, JSON, and an aligned table for the terminal; and
the dashboard's other tables (trend, harassment reports, comments: view.Table) as CSV and XLSX, written the same way.

Every export shows exactly the numbers of the `figures.Report` it is given (nothing is recomputed from ratings
here). Shares are fractions of 1 in JSON and XLSX (XLSX formats them as percentages) and percentages with two
decimals in CSV and in the table; an empty group's shares are blank, never 0. Every text cell goes through
kiosk.domain.spreadsheet, so a name or code that looks like a formula stays text (a leading quote in CSV, a string cell
in XLSX).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from kiosk.domain import spreadsheet
from kiosk.domain.levels import CHANNELS_BY_KEY, LEVELS, QUESTIONS, SCALE_KEYS
from sync.server.results.figures import TOO_FEW_EN, TOO_FEW_VI, Element, Figures, Report, ReportQuery, Row, TrendPoint
from sync.server.results.periods import Period
from sync.server.results.report_view import Table

TABLES = ("groups", "levels", "elements")
BOM = "\ufeff"
PERCENT_FORMAT = "0.0%"
_LEVELS_LOW_FIRST = tuple(sorted(LEVELS, key=lambda level: level.value))
_ELEMENT_TITLES = {q.key: q for q in QUESTIONS if q.key in SCALE_KEYS}
_GROUP_WORDS = {"agency": ("Cơ quan", "Agency"), "counter": ("Quầy", "Counter"), "officer": ("Cán bộ", "Officer"),
                "procedure": ("Thủ tục", "Procedure"), "field": ("Lĩnh vực", "Field"), "channel": ("Kênh", "Channel")}


def _t(lang: str, vi: str, en: str) -> str:
    return en if lang == "en" else vi


def _flag_text(row: Row, report: Report, lang: str) -> str:
    if row.too_few:
        return _t(lang, f"{TOO_FEW_VI} (< {report.flag_min_ratings})", f"{TOO_FEW_EN} (< {report.flag_min_ratings})")
    if row.flagged:
        return _t(lang, f"CẢNH BÁO: không hài lòng > {report.flag_share:.0%}",
                  f"FLAGGED: dissatisfied > {report.flag_share:.0%}")
    return ""


def _group_word(report: Report, lang: str) -> str:
    vi, en = _GROUP_WORDS[report.query.group_by]
    return _t(lang, vi, en)


def _element_title(key: str, lang: str) -> str:
    return _ELEMENT_TITLES[key].title(lang)


# ---- the tables, as rows of cells: shares as fractions of 1 (None when there is nothing to divide) --------

def _groups_columns(report: Report, lang: str) -> list[tuple[str, bool]]:
    """The groups table's column titles, each with whether it holds a share."""
    columns = [(_t(lang, "Mã", "Key"), False), (_group_word(report, lang), False),
               (_t(lang, "Số lượt đánh giá", "Ratings"), False)]
    for level in reversed(_LEVELS_LOW_FIRST):
        columns += [(f"{level.label(lang)} ({level.value})", False),
                    (_t(lang, f"Tỷ lệ mức {level.value}", f"Share at {level.value}"), True)]
    columns += [(_t(lang, "Chỉ số hài lòng (4–5)", "Satisfaction index (4–5)"), True),
                (_t(lang, "Tỷ lệ không hài lòng (1–2)", "Dissatisfied share (1–2)"), True)]
    for key in SCALE_KEYS:
        title = _element_title(key, lang)
        columns += [(_t(lang, f"{title}: chỉ số", f"{title}: index"), True),
                    (_t(lang, f"{title}: số trả lời", f"{title}: answered"), False)]
    columns += [(_t(lang, "Phản ánh sách nhiễu", "Harassment reports"), False),
                (_t(lang, "Số lượt kỳ trước", "Ratings, previous period"), False),
                (_t(lang, "Chỉ số hài lòng kỳ trước", "Satisfaction index, previous period"), True),
                (_t(lang, "Cảnh báo", "Flag"), False)]
    return columns


def _figure_cells(figures: Figures) -> list[Any]:
    cells: list[Any] = [figures.ratings]
    for level in reversed(_LEVELS_LOW_FIRST):
        cells += [figures.levels[level.value - 1], figures.share(level.value)]
    cells += [figures.satisfaction_index, figures.dissatisfied_share]
    for key in SCALE_KEYS:
        cells += [figures.elements[key].index, figures.elements[key].answered]
    cells.append(figures.harassment_reports)
    return cells


def _groups_rows(report: Report, lang: str) -> list[list[Any]]:
    rows = [[row.key, row.label, *_figure_cells(row.figures), row.previous.ratings,
             row.previous.satisfaction_index, _flag_text(row, report, lang)] for row in report.rows]
    rows.append(["", _t(lang, "Tổng cộng", "Total"), *_figure_cells(report.total), report.previous_total.ratings,
                 report.previous_total.satisfaction_index, ""])
    return rows


def _levels_table(report: Report, lang: str) -> tuple[list[str], list[list[Any]], set[int]]:
    header = [_t(lang, "Mức", "Level"), _t(lang, "Mức độ hài lòng", "Satisfaction"),
              _t(lang, "Số lượt", "Ratings"), _t(lang, "Tỷ lệ", "Share"),
              _t(lang, "Số lượt kỳ trước", "Ratings, previous period"),
              _t(lang, "Tỷ lệ kỳ trước", "Share, previous period")]
    rows: list[list[Any]] = [[level.value, level.label(lang), report.total.levels[level.value - 1],
                              report.total.share(level.value), report.previous_total.levels[level.value - 1],
                              report.previous_total.share(level.value)] for level in LEVELS]
    rows.append(["", _t(lang, "Tổng cộng", "Total"), report.total.ratings, None, report.previous_total.ratings, None])
    return header, rows, {3, 5}


def _levels_summary_rows(report: Report, lang: str) -> list[list[Any]]:
    return [["", _t(lang, "Chỉ số hài lòng (4–5)", "Satisfaction index (4–5)"), None,
             report.total.satisfaction_index, None, report.previous_total.satisfaction_index],
            ["", _t(lang, "Tỷ lệ không hài lòng (1–2)", "Dissatisfied share (1–2)"), None,
             report.total.dissatisfied_share, None, report.previous_total.dissatisfied_share]]


def _elements_table(report: Report, lang: str) -> tuple[list[str], list[list[Any]], set[int]]:
    header = [_t(lang, "Mã", "Key"), _t(lang, "Yếu tố", "Element"), _t(lang, "Số trả lời", "Answered"),
              _t(lang, "Số trả lời mức 4–5", "Answers at 4–5"), _t(lang, "Chỉ số", "Index"),
              _t(lang, "Số trả lời kỳ trước", "Answered, previous period"),
              _t(lang, "Chỉ số kỳ trước", "Index, previous period")]
    rows: list[list[Any]] = []
    for key in SCALE_KEYS:
        now, before = report.total.elements[key], report.previous_total.elements[key]
        rows.append([key, _element_title(key, lang), now.answered, now.satisfied, now.index, before.answered,
                     before.index])
    return header, rows, {4, 6}


def table(report: Report, name: str, lang: str = "vi") -> tuple[list[str], list[list[Any]], set[int]]:
    """One of TABLES as (header, rows, the 0-based columns holding shares as fractions of 1)."""
    if name == "groups":
        columns = _groups_columns(report, lang)
        return ([title for title, _ in columns], _groups_rows(report, lang),
                {i for i, (_, share) in enumerate(columns) if share})
    if name == "levels":
        header, rows, shares = _levels_table(report, lang)
        return header, rows + _levels_summary_rows(report, lang), shares
    if name == "elements":
        return _elements_table(report, lang)
    raise ValueError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")


def _title_lines(report: Report, lang: str) -> list[str]:
    query = report.query
    where = report.agency_name or _t(lang, "Tất cả cơ quan", "All agencies")
    if report.counter_name:
        where += f" — {report.counter_name}"
    lines = [_t(lang, "Kết quả đánh giá mức độ hài lòng", "Satisfaction results") + f": {where}",
             _t(lang, "Kỳ", "Period") + f": {query.period.label(lang)} ({query.period.first.isoformat()} – "
             f"{query.period.last.isoformat()}, {report.timezone}); "
             + _t(lang, "kỳ trước", "previous") + f": {query.period.previous().label(lang)}",
             _t(lang, "Nhóm theo", "Grouped by") + f": {_group_word(report, lang)}; "
             + _t(lang, "cảnh báo khi tỷ lệ không hài lòng", "flagged when the dissatisfied share is")
             + f" > {report.flag_share:.0%} " + _t(lang, "và có ít nhất", "with at least")
             + f" {report.flag_min_ratings} " + _t(lang, "lượt", "ratings")]
    if query.channel is not None:
        channel = CHANNELS_BY_KEY[query.channel]
        lines.append(_t(lang, "Kênh", "Channel") + f": {channel.label(lang)}")
    if query.include_repeats:
        lines.append(_t(lang, "Gồm cả các lượt nghi bấm lặp", "Suspected repeats included"))
    else:
        lines.append(_t(lang, f"Không tính {report.excluded_repeats} lượt nghi bấm lặp",
                        f"{report.excluded_repeats} suspected repeats left out"))
    lines.append(_t(lang, f"Chưa xác minh (thiết bị có chuỗi hỏng, chưa được CNTT xem xét): "
                          f"{report.unverified.ratings} lượt, tính riêng",
                    f"Unverified (devices with a broken chain IT has not reviewed): "
                    f"{report.unverified.ratings} ratings, counted apart"))
    lines.append(_t(lang, f"Không rõ thời điểm (đồng hồ thiết bị sai, nhận trong kỳ): {report.untimed.ratings} lượt, "
                          "không tính vào kỳ nào",
                    f"Time unknown (the device's clock was wrong; received in the period): "
                    f"{report.untimed.ratings} ratings, counted in no period"))
    return lines


# ---- CSV ----------------------------------------------------------------------------------------------------

def _csv_cell(value: Any, share: bool) -> Any:
    if value is None:
        return ""
    return f"{value * 100:.2f}" if share else value


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]], shares: set[int]) -> str:
    """A table as CSV for Excel: UTF-8 with BOM, a share's column marked (%) and written in percent."""
    out = io.StringIO()
    writer = spreadsheet.CsvWriter(out, lineterminator="\r\n")
    writer.writerow([f"{name} (%)" if i in shares else name for i, name in enumerate(header)])
    for row in rows:
        writer.writerow([_csv_cell(value, i in shares) for i, value in enumerate(row)])
    return BOM + out.getvalue()


def report_csv(report: Report, lang: str = "vi", table_name: str = "groups") -> str:
    """One table (groups, levels or elements) as CSV for Excel: UTF-8 with BOM, shares in percent."""
    return _csv(*table(report, table_name, lang))


def table_csv(shown: Table) -> str:
    """One of the page's other tables as CSV, headers "Vietnamese / English", shares in percent."""
    return _csv(_page_header(shown), shown.rows, _page_shares(shown))


def trend_csv(points: Sequence[TrendPoint], lang: str = "vi") -> str:
    """The trend chart's buckets as CSV (UTF-8 with BOM): start date, ratings, levels, index, dissatisfied."""
    header = [_t(lang, "Từ ngày", "From"), _t(lang, "Số lượt đánh giá", "Ratings"),
              *(f"{level.label(lang)} ({level.value})" for level in LEVELS),
              _t(lang, "Chỉ số hài lòng", "Satisfaction index"), _t(lang, "Tỷ lệ không hài lòng", "Dissatisfied share"),
              _t(lang, "Phản ánh sách nhiễu", "Harassment reports")]
    index_at = 2 + len(LEVELS)
    rows = [[point.first.isoformat(), point.figures.ratings,
             *(point.figures.levels[level.value - 1] for level in LEVELS), point.figures.satisfaction_index,
             point.figures.dissatisfied_share, point.figures.harassment_reports] for point in points]
    return _csv(header, rows, {index_at, index_at + 1})


# ---- XLSX ---------------------------------------------------------------------------------------------------

_SHEETS = {"groups": ("Nhóm", "Groups"), "levels": ("Mức độ", "Levels"), "elements": ("Yếu tố", "Elements")}


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, float):
        return 7
    return len(unicodedata.normalize("NFC", str(value)))


def _write_sheet(sheet: Any, header: Sequence[str], rows: Sequence[Sequence[Any]], shares: set[int]) -> None:
    """Bold headers, the rows (text made inert), shares formatted as percentages, columns as wide as they need."""
    spreadsheet.xlsx_append(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        spreadsheet.xlsx_append(sheet, row)
    for column in shares:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
            cell.number_format = PERCENT_FORMAT
    for i, name in enumerate(header):
        widest = max([min(_display_width(name), 40)] + [_display_width(row[i]) for row in rows])
        sheet.column_dimensions[get_column_letter(i + 1)].width = min(max(widest + 2, 8), 60)
    sheet.freeze_panes = "A2"


def _saved(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_xlsx(report: Report, lang: str = "vi") -> bytes:
    """The report as an Excel workbook: a sheet per table (groups, levels, elements) and one describing it."""
    book = Workbook()
    about = book.active
    about.title = _t(lang, "Thông tin", "About")
    for line in _title_lines(report, lang):
        spreadsheet.xlsx_append(about, [line])
    about["A1"].font = Font(bold=True)
    about.column_dimensions["A"].width = 110
    for name in TABLES:
        vi, en = _SHEETS[name]
        _write_sheet(book.create_sheet(_t(lang, vi, en)), *table(report, name, lang))
    return _saved(book)


def table_xlsx(shown: Table) -> bytes:
    """One of the page's other tables as an Excel workbook with one sheet, written as the report's sheets are."""
    book = Workbook()
    sheet = book.active
    sheet.title = shown.vi[:31]
    _write_sheet(sheet, _page_header(shown), shown.rows, _page_shares(shown))
    return _saved(book)


def _page_header(shown: Table) -> list[str]:
    return [f"{c.vi} / {c.en}" for c in shown.columns]


def _page_shares(shown: Table) -> set[int]:
    return {i for i, c in enumerate(shown.columns) if c.kind == "share"}


# ---- JSON ---------------------------------------------------------------------------------------------------

def figures_json(figures: Figures) -> dict[str, Any]:
    """One set of figures as JSON-ready data, derived shares included for readers."""
    return {
        "ratings": figures.ratings,
        "levels": list(figures.levels),
        "level_shares": [figures.share(value) for value in range(1, 6)],
        "satisfaction_index": figures.satisfaction_index,
        "dissatisfied_share": figures.dissatisfied_share,
        "elements": {key: {"answered": e.answered, "satisfied": e.satisfied, "index": e.index}
                     for key, e in figures.elements.items()},
        "harassment_reports": figures.harassment_reports,
    }


def report_json(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data (what a publication freezes, and `report --format json` prints)."""
    query = report.query
    return {
        "query": {"period": {"kind": query.period.kind, "first": query.period.first.isoformat(),
                             "last": query.period.last.isoformat(), "label_vi": query.period.label("vi"),
                             "label_en": query.period.label("en")},
                  "group_by": query.group_by, "agency_code": query.agency_code,
                  "counter_code": query.counter_code, "include_repeats": query.include_repeats,
                  "channel": query.channel},
        "timezone": report.timezone,
        "agency_name": report.agency_name,
        "counter_name": report.counter_name,
        "flag_share": report.flag_share,
        "flag_min_ratings": report.flag_min_ratings,
        "total": figures_json(report.total),
        "previous_total": figures_json(report.previous_total),
        "unverified": figures_json(report.unverified),
        "untimed": figures_json(report.untimed),
        "excluded_repeats": report.excluded_repeats,
        "rows": [{"key": row.key, "label": row.label, "figures": figures_json(row.figures),
                  "previous": figures_json(row.previous), "flagged": row.flagged, "too_few": row.too_few}
                 for row in report.rows],
    }


def figures_from_json(data: dict[str, Any]) -> Figures:
    """Figures back from `figures_json`."""
    levels = [int(n) for n in data["levels"]]
    return Figures(int(data["ratings"]), (levels[0], levels[1], levels[2], levels[3], levels[4]),
                   {key: Element.of(int(e["answered"]), int(e["satisfied"])) for key, e in data["elements"].items()},
                   int(data["harassment_reports"]))


def report_from_json(data: dict[str, Any]) -> Report:
    """A Report back from `report_json` (a publication's frozen snapshot, as the public page shows it)."""
    q, p = data["query"], data["query"]["period"]
    query = ReportQuery(Period(p["kind"], date.fromisoformat(p["first"]), date.fromisoformat(p["last"])),
                        q["group_by"], q["agency_code"], q["counter_code"], bool(q["include_repeats"]),
                        q.get("channel"))
    rows = [Row(r["key"], r["label"], figures_from_json(r["figures"]), figures_from_json(r["previous"]),
                bool(r["flagged"]), bool(r["too_few"])) for r in data["rows"]]
    return Report(query, figures_from_json(data["total"]), figures_from_json(data["previous_total"]), rows,
                  float(data["flag_share"]), int(data["flag_min_ratings"]), figures_from_json(data["unverified"]),
                  int(data["excluded_repeats"]), str(data["timezone"]), str(data["agency_name"]),
                  str(data["counter_name"]),
                  figures_from_json(data["untimed"]) if "untimed" in data else Figures.empty())


# ---- the terminal table -------------------------------------------------------------------------------------

def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _aligned(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    cells = [header, *rows]
    widths = [max(len(unicodedata.normalize("NFC", row[i])) for row in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        parts = [text.rjust(widths[i]) if i in right else text.ljust(widths[i]) for i, text in enumerate(row)]
        return "  ".join(parts).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def _group_line(label: str, figures: Figures, previous: Figures, flag: str) -> list[str]:
    return [label, str(figures.ratings), *(str(figures.levels[level.value - 1]) for level in LEVELS),
            _percent(figures.satisfaction_index), _percent(figures.dissatisfied_share),
            str(figures.harassment_reports), _percent(previous.satisfaction_index), flag]


def report_table(report: Report, lang: str = "vi") -> str:
    """The report as aligned text for the terminal: title, groups, levels in words and elements."""
    lines = [*_title_lines(report, lang), ""]
    header = [_group_word(report, lang), _t(lang, "Lượt", "Ratings"), *(f"[{level.value}]" for level in LEVELS),
              _t(lang, "Chỉ số HL", "Index"), _t(lang, "Không HL", "Dissatisfied"),
              _t(lang, "Sách nhiễu", "Harassment"), _t(lang, "Chỉ số kỳ trước", "Previous index"),
              _t(lang, "Cảnh báo", "Flag")]
    rows = [_group_line(row.label, row.figures, row.previous, _flag_text(row, report, lang)) for row in report.rows]
    rows.append(_group_line(_t(lang, "Tổng cộng", "Total"), report.total, report.previous_total, ""))
    lines += _aligned(header, [[unicodedata.normalize("NFC", c) for c in row] for row in rows],
                      set(range(1, len(header) - 1)))
    lines += ["", "  ".join(f"[{level.value}] {level.label(lang)}" for level in LEVELS), ""]
    element_rows = [[_element_title(key, lang), str(report.total.elements[key].answered),
                     _percent(report.total.elements[key].index), _percent(report.previous_total.elements[key].index)]
                    for key in SCALE_KEYS]
    lines += _aligned([_t(lang, "Yếu tố", "Element"), _t(lang, "Số trả lời", "Answered"), _t(lang, "Chỉ số", "Index"),
                       _t(lang, "Chỉ số kỳ trước", "Previous index")], element_rows, {1, 2, 3})
    return "\n".join(lines) + "\n"
