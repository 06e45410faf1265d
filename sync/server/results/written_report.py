"""The office's written report to the People's Committee: a Word document in the administrative format of
Decree 30/2020/NĐ-CP (issuing body and number top left, the national motto and the place and date top right,
title, numbered sections, "Nơi nhận" and the signer's block), ready to edit and sign; also a PDF where LibreOffice
is installed.

Every figure comes from the report code (reports.build, reports.trend) and is written with the dashboard's words
(report_view, targets): this module only lays them out. For a quarter, a half-year, nine months or a year.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph
from PIL import Image, ImageDraw
from sqlalchemy import Engine, func, select

from kiosk.domain.errors import BilingualError
from kiosk.domain.levels import SCALE_KEYS, level
from kiosk.domain.spreadsheet import xlsx_value
from sync.server import registry
from sync.server.db import reading
from sync.server.fonts import font
from sync.server.models import COMMENTED
from sync.server.results import report_view, reports, targets
from sync.server.results.charts import percent
from sync.server.results.figures import Figures, Report, ReportQuery, TrendPoint
from sync.server.results.periods import Period
from sync.server.results.scope import counting, opened
from sync.server.settings import ServerSettings

# The periods the office reports on to the People's Committee.
WRITTEN_KINDS = ("quarter", "half", "nine_months", "year")
FONT_NAME = "Times New Roman"
ROMAN = ("I", "II", "III", "IV", "V", "VI")
DEFAULT_OFFICE = "Phòng Nội vụ"
PDF_TIMEOUT_S = 180


class WrittenReportError(BilingualError):
    """The written report cannot be made (bad period, no converter for the PDF …)."""


# ---- what the report says ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Feedback:
    """What citizens wrote in the period: comments and reports of harassment (both counted among the ratings that
    count)."""

    comments: int
    harassment: int


@dataclass(frozen=True)
class FeedbackCases:
    """How the feedback was handled as cases: received, answered, answered on time, median days to answer."""

    received: int
    answered: int
    on_time: int
    median_days: float | None


@dataclass(frozen=True)
class WrittenReport:
    """Everything the document says, gathered from the report code."""

    agency: registry.Agency
    period: Period
    by_counter: Report
    by_channel: Report
    by_officer: Report
    a_year_before: Figures
    trend: list[TrendPoint]
    goal: targets.Goal | None
    feedback: Feedback
    cases: FeedbackCases | None
    issued_on: date
    office: str = DEFAULT_OFFICE
    place: str = ""
    signer: str = ""

    @property
    def total(self) -> Figures:
        """The agency's figures for the period."""
        return self.by_counter.total


def written_period(kind: str, anchor: date) -> Period:
    """The quarter, half-year, nine months or year holding `anchor`; other kinds refused in both languages."""
    if kind not in WRITTEN_KINDS:
        raise WrittenReportError(
            f"Kỳ báo cáo {kind!r} không hợp lệ; dùng quarter (quý), half (6 tháng), nine_months (9 tháng) hoặc "
            "year (năm)", f"invalid report period {kind!r}; use quarter, half, nine_months or year")
    return Period.of(kind, anchor)


def feedback_received(engine: Engine, query: ReportQuery, settings: ServerSettings) -> Feedback:
    """The period's comments (ratings with a comment that count) and harassment reports for the query's place."""
    with opened(engine, query, settings) as at:
        start, end = query.period.bounds(at.zone)
        comments = at.conn.execute(select(func.count()).where(
            *counting(at.conn, query, at.scope, start, end, at.not_intact), COMMENTED)).scalar_one()
    harassment = reports.build(engine, query, settings).total.harassment_reports
    return Feedback(int(comments), harassment)


def feedback_cases(engine: Engine, settings: ServerSettings, agency_code: str, period: Period) -> FeedbackCases:
    """How the period's feedback was handled as cases (sync.server.cases): received, answered, on time, median
    working days to answer; the cases are made from the ratings first, so none received is missed."""
    from sync.server.cases import store as cases

    cases.sync_from_ratings(engine, settings)
    found = cases.report(engine, settings, period.first, period.last, agency_code)
    if not found:
        return FeedbackCases(0, 0, 0, None)
    mine = found[0]
    return FeedbackCases(mine.received, mine.answered, mine.on_time, mine.median_days)


def gather(engine: Engine, settings: ServerSettings, agency_code: str, period: Period, issued_on: date, *,
           office: str = DEFAULT_OFFICE, place: str = "", signer: str = "") -> WrittenReport:
    """The report's content for one agency and period (a ServerError for an unknown agency)."""
    if period.kind not in WRITTEN_KINDS:
        written_period(period.kind, period.first)
    with reading(engine) as conn:
        agency = registry.agency(conn, agency_code)

    def build(group_by: str, span: Period = period) -> Report:
        return reports.build(engine, ReportQuery(span, group_by, agency_code), settings)

    by_counter = build("counter")
    return WrittenReport(
        agency, period, by_counter, build("channel"), build("officer"), build("agency", period.a_year_before()).total,
        reports.trend(engine, ReportQuery(period, "agency", agency_code), settings, "month"),
        targets.goal_for(engine, agency_code, period),
        feedback_received(engine, ReportQuery(period, "agency", agency_code), settings),
        feedback_cases(engine, settings, agency_code, period), issued_on, office.strip() or DEFAULT_OFFICE,
        place.strip() or place_of(agency.name), signer.strip())


def place_of(agency_name: str) -> str:
    """The place for the date line: the agency's name without 'UBND phường' and the like ('Hoàn Kiếm')."""
    words = agency_name.split()
    lowered = [w.lower() for w in words]
    for prefix in (["ủy", "ban", "nhân", "dân"], ["uỷ", "ban", "nhân", "dân"], ["ubnd"], ["trung", "tâm"]):
        if lowered[:len(prefix)] == prefix:
            words, lowered = words[len(prefix):], lowered[len(prefix):]
            break
    for unit in ("phường", "xã", "thị trấn", "quận", "huyện", "thị xã", "thành phố", "tỉnh"):
        size = len(unit.split())
        if " ".join(lowered[:size]) == unit and len(words) > size:
            return " ".join(words[size:])
    return " ".join(words) or agency_name


def subject_period(period: Period) -> str:
    """The period as a report's subject line says it: 'quý III năm 2026', '6 tháng đầu năm 2026', 'năm 2026'."""
    if period.kind == "quarter":
        return f"quý {ROMAN[(period.first.month - 1) // 3]} năm {period.first.year}"
    if period.kind == "year":
        return f"năm {period.first.year}"
    return period.label("vi")


def abbreviation(office: str) -> str:
    """The office's initials for the number line: 'Phòng Nội vụ' → 'PNV'."""
    return "".join(word[0] for word in office.split() if word[0].isalpha()).upper()


# ---- the trend chart ---------------------------------------------------------------------------------------

def trend_png(points: Sequence[TrendPoint], goal: targets.Goal | None = None, *, width: int = 1600,
              height: int = 640) -> bytes:
    """The satisfaction index and the share dissatisfied per month as a bar chart (PNG), in the faces' colours,
    with the target as a dashed line; a month without ratings says so instead of a bar."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    ink, grid = "#1a1a1a", "#d0d0d0"
    small, label = font(26), font(28, bold=True)
    left, right, top, bottom = 110, width - 40, 120, height - 110
    satisfied, dissatisfied = level(4).colour, level(1).colour
    for tenth in range(0, 11, 2):
        y = bottom - (bottom - top) * tenth / 10
        draw.line([(left, y), (right, y)], fill=grid, width=2)
        text = f"{tenth * 10}%"
        draw.text((left - 14, y), text, font=small, fill=ink, anchor="rm")
    draw.line([(left, top), (left, bottom)], fill=ink, width=3)
    draw.line([(left, bottom), (right, bottom)], fill=ink, width=3)
    slot = (right - left) / max(len(points), 1)
    bar = min(slot * 0.32, 110)
    for i, point in enumerate(points):
        centre = left + slot * (i + 0.5)
        figures = point.figures
        name = f"T{point.first.month}/{point.first.year}"
        draw.text((centre, bottom + 14), name, font=label, fill=ink, anchor="ma")
        draw.text((centre, bottom + 52), f"{report_view.count(figures.ratings)} lượt", font=small, fill=ink,
                  anchor="ma")
        if not figures.ratings:
            draw.text((centre, bottom - 30), "không có lượt", font=small, fill="#555555", anchor="mm")
            continue
        for share, colour, x in ((figures.satisfaction_index, satisfied, centre - bar - 4),
                                 (figures.dissatisfied_share, dissatisfied, centre + 4)):
            value = share or 0.0
            y = bottom - (bottom - top) * value
            if value > 0:
                draw.rectangle([(x, min(y, bottom - 2)), (x + bar, bottom - 1)], fill=colour)
            draw.text((x + bar / 2, y - 6), percent(share, 0), font=small, fill=ink, anchor="md")
    if goal is not None:
        y = bottom - (bottom - top) * goal.index_permille / 1000
        x = left
        while x < right:
            draw.line([(x, y), (min(x + 24, right), y)], fill=ink, width=4)
            x += 40
        draw.text((right, y - 8), f"Chỉ tiêu {targets.permille_text(goal.index_permille)}", font=small, fill=ink,
                  anchor="rd")
    # The legend: colour is never the only sign, so each swatch is named.
    x = left
    for colour, words in ((satisfied, "Chỉ số hài lòng (mức 4–5)"), (dissatisfied, "Không hài lòng (mức 1–2)")):
        draw.rectangle([(x, 20), (x + 34, 48)], fill=colour)
        draw.text((x + 46, 34), words, font=small, fill=ink, anchor="lm")
        x += 46 + int(draw.textlength(words, font=small)) + 50
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(200, 200))
    return out.getvalue()


# ---- the document ------------------------------------------------------------------------------------------

def _run_font(run: object, size: float, *, bold: bool = False, italic: bool = False) -> None:
    r = run  # a docx Run
    r.font.name = FONT_NAME  # type: ignore[attr-defined]
    r.font.size = Pt(size)  # type: ignore[attr-defined]
    r.font.bold = bold  # type: ignore[attr-defined]
    r.font.italic = italic  # type: ignore[attr-defined]
    # Word takes Vietnamese letters from the "eastAsia"/"cs" slots in some locales: name the font in every slot.
    fonts = r._element.get_or_add_rPr().get_or_add_rFonts()  # type: ignore[attr-defined]
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT_NAME)


def _para(container: object, text: str = "", size: float = 13, *, bold: bool = False, italic: bool = False,
          align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = False,
          after: float = 6, before: float = 0) -> Paragraph:
    paragraph: Paragraph = container.add_paragraph()  # type: ignore[attr-defined]
    if text:
        # XML (so Word) has no place for control characters: one in a name would fail the whole document.
        _run_font(paragraph.add_run(xlsx_value(text)), size, bold=bold, italic=italic)
    if align is not None:
        paragraph.alignment = align
    shape = paragraph.paragraph_format
    shape.space_after, shape.space_before = Pt(after), Pt(before)
    shape.line_spacing = 1.15
    if indent:
        shape.first_line_indent = Cm(1.0)
    return paragraph


def _rule(container: object, indent_cm: float) -> None:
    """A short centred line (the underline beneath the issuing body and the title), as a paragraph border."""
    paragraph = _para(container, "", 2, align=WD_ALIGN_PARAGRAPH.CENTER, after=4)
    shape = paragraph.paragraph_format
    shape.left_indent = shape.right_indent = Cm(indent_cm)
    shape.line_spacing = Pt(2)
    borders = OxmlElement("w:pBdr")
    line = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        line.set(qn(name), value)
    borders.append(line)
    paragraph._p.get_or_add_pPr().append(borders)


def _cell_first(cell: object) -> object:
    """The cell, its default empty paragraph removed, ready for _para."""
    paragraphs = cell.paragraphs  # type: ignore[attr-defined]
    for paragraph in paragraphs:
        paragraph._element.getparent().remove(paragraph._element)
    return cell


def _borderless(document: object, widths_cm: Sequence[float]) -> DocxTable:
    table: DocxTable = document.add_table(rows=1, cols=len(widths_cm))  # type: ignore[attr-defined]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _widths(table, widths_cm)
    for cell, width in zip(table.rows[0].cells, widths_cm, strict=True):
        cell.width = Cm(width)
    return table


def _widths(table: DocxTable, widths_cm: Sequence[float]) -> None:
    # LibreOffice lays a table out by its grid, Word by its cells' widths: set both.
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)


def _grid(document: object, heads: Sequence[str], rows: Sequence[Sequence[str]], widths_cm: Sequence[float]) -> None:
    """A ruled table: bold centred headers, numbers right-aligned, 12 pt."""
    table: DocxTable = document.add_table(rows=1, cols=len(heads))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _widths(table, widths_cm)
    numbered = heads[0] == "STT"
    for cell, text, width in zip(table.rows[0].cells, heads, widths_cm, strict=True):
        cell.width = Cm(width)
        _para(_cell_first(cell), text, 12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    for values in rows:
        cells = table.add_row().cells  # type: ignore[no-untyped-call]
        for i, (cell, text, width) in enumerate(zip(cells, values, widths_cm, strict=True)):
            cell.width = Cm(width)
            numeric = i > 0 and (text[:1].isdigit() or text in ("–", "0"))
            align = WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.LEFT
            first = WD_ALIGN_PARAGRAPH.CENTER if numbered else WD_ALIGN_PARAGRAPH.LEFT
            _para(_cell_first(cell), text, 12, align=first if i == 0 else align, after=0)
    _para(document, "", 6, after=0)


def _heading(document: object, text: str) -> None:
    # Kept with what follows: a heading never ends a page alone.
    _para(document, text, 13, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, before=6,
          after=4).paragraph_format.keep_with_next = True


def _compare(current: Figures, before: Figures, words_vi: str) -> str:
    """'tăng 15,0 điểm % so với …' for the satisfaction index, from report_view.change."""
    moved = report_view.change(current.satisfaction_index, before.satisfaction_index)
    if moved.direction == "none":
        return f"không có số liệu {words_vi} để so sánh"
    return moved.vi.lstrip("▲▼ ").replace("so với kỳ trước", f"so với {words_vi}")


def _flag_words(row_flag: report_view.Flag) -> str:
    return row_flag.vi.lstrip("⚑✓ ")


def _group_rows(report: Report) -> list[list[str]]:
    # A group without a counter is labelled in both languages by the report: the document is in Vietnamese.
    return [[str(i), row.label.split(" / ")[0] if row.key in ("", "_") else row.label,
             report_view.count(row.figures.ratings), percent(row.figures.satisfaction_index),
             percent(row.figures.dissatisfied_share), report_view.count(row.figures.harassment_reports),
             _flag_words(report_view.flag(row, report))] for i, row in enumerate(report.rows, start=1)]


_GROUP_HEADS = ("STT", "{}", "Số lượt", "Chỉ số hài lòng", "Không hài lòng", "Sách nhiễu", "Đánh giá")
_GROUP_WIDTHS = (1.3, 3.5, 1.5, 2.0, 2.0, 1.7, 4.5)


def render_docx(data: WrittenReport) -> bytes:
    """The report as a .docx file's bytes."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT_NAME, Pt(13)
    _page_numbers(section)
    _header(document, data)
    _body(document, data)
    _footer(document, data)
    out = io.BytesIO()
    document.core_properties.title = xlsx_value(f"Báo cáo kết quả khảo sát sự hài lòng {subject_period(data.period)}")
    document.core_properties.author = xlsx_value(f"{data.office} – {data.agency.name}")
    document.save(out)
    return out.getvalue()


def _page_numbers(section: Any) -> None:
    """The page number centred at the top from the second page on, as Decree 30/2020 lays a document out."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    _run_font(run, 13)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    number = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"   # shown until the word processor updates the field
    number.append(text)
    field.append(number)
    run._r.addnext(field)


def _header(document: object, data: WrittenReport) -> None:
    top = _borderless(document, (6.5, 10.0))
    left, right = (_cell_first(cell) for cell in top.rows[0].cells)
    _para(left, data.agency.name.upper(), 12, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _para(left, data.office.upper(), 12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _rule(left, 2.0)
    _para(left, f"Số:        /BC-{abbreviation(data.office)}", 13, align=WD_ALIGN_PARAGRAPH.CENTER, after=0,
          before=6)
    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    motto = _para(right, "", 13, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    run = motto.add_run("Độc lập - Tự do - Hạnh phúc")
    _run_font(run, 13, bold=True)
    run.font.underline = True
    day = data.issued_on
    _para(right, f"{data.place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}", 13, italic=True,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=0, before=10)
    _para(document, "BÁO CÁO", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0, before=18)
    _para(document, "Kết quả khảo sát, đánh giá sự hài lòng của người dân, tổ chức đối với việc giải quyết thủ tục "
          f"hành chính tại {data.agency.name} {subject_period(data.period)}", 14, bold=True,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _rule(document, 6.5)
    _para(document, f"Kính gửi: {data.agency.name}", 14, align=WD_ALIGN_PARAGRAPH.CENTER, after=10, before=6)


def _body(document: object, data: WrittenReport) -> None:
    period, total = data.period, data.total
    first, last = report_view.day(period.first), report_view.day(period.last)
    _para(document, f"Thực hiện nhiệm vụ theo dõi, đánh giá sự hài lòng của người dân, tổ chức đối với sự phục vụ của "
          f"cơ quan hành chính nhà nước, {data.office} báo cáo kết quả khảo sát {subject_period(period)} (từ ngày "
          f"{first} đến ngày {last}), tổng hợp từ ý kiến đánh giá trên máy kiosk tại Bộ phận Một cửa, trên trang "
          "khảo sát trực tuyến và trên phiếu giấy, như sau:", indent=True)

    _heading(document, "I. KẾT QUẢ CHUNG")
    _heading(document, "1. Số lượt đánh giá và chỉ số hài lòng")
    _para(document, f"Trong kỳ có {report_view.count(total.ratings)} lượt đánh giá. Chỉ số hài lòng (tỷ lệ đánh giá "
          f"mức «Hài lòng» và «Rất hài lòng») đạt {percent(total.satisfaction_index)}; tỷ lệ không hài lòng (mức "
          f"«Không hài lòng» và «Rất không hài lòng») là {percent(total.dissatisfied_share)}; có "
          f"{report_view.count(total.harassment_reports)} phản ánh bị gây phiền hà, sách nhiễu. Số lượt theo từng "
          "mức:", indent=True)
    _grid(document, ("Mức đánh giá", "Số lượt", "Tỷ lệ", "Kỳ trước"),
          [[f"{value}. {vi}", report_view.count(n), percent(share), percent(before)]
           for value, vi, _en, n, share, before in report_view.levels_rows(total, data.by_counter.previous_total)],
          (6.5, 3.0, 3.0, 3.0))

    _heading(document, "2. So sánh với kỳ trước và cùng kỳ năm trước")
    previous, year_before = data.by_counter.previous_total, data.a_year_before
    before_label = period.previous().label("vi")
    year_label = period.a_year_before().label("vi")
    _para(document, f"Chỉ số hài lòng {_compare(total, previous, 'kỳ trước')} ({before_label}: "
          f"{percent(previous.satisfaction_index)}); {_compare(total, year_before, 'cùng kỳ năm trước')} "
          f"({year_label}: {percent(year_before.satisfaction_index)}).", indent=True)
    _grid(document, ("Kỳ", "Số lượt", "Chỉ số hài lòng", "Không hài lòng"),
          [[label, report_view.count(f.ratings), percent(f.satisfaction_index), percent(f.dissatisfied_share)]
           for label, f in ((f"Kỳ này ({period.label('vi')})", total), (f"Kỳ trước ({before_label})", previous),
                            (f"Cùng kỳ năm trước ({year_label})", year_before))],
          (7.0, 2.2, 3.6, 3.7))

    _heading(document, "3. Kết quả so với chỉ tiêu")
    _para(document, _target_words(data), indent=True)

    _heading(document, "4. Diễn biến theo tháng")
    document.add_picture(io.BytesIO(trend_png(data.trend, data.goal)), width=Cm(16))  # type: ignore[attr-defined]
    picture = document.paragraphs[-1]  # type: ignore[attr-defined]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    _para(document, f"Hình 1. Chỉ số hài lòng và tỷ lệ không hài lòng theo tháng, {subject_period(period)}",
          12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    _heading(document, "II. KẾT QUẢ THEO QUẦY, THEO YẾU TỐ VÀ THEO KÊNH")
    _heading(document, "1. Theo quầy (bộ phận tiếp nhận)")
    _grid(document, [h.format("Quầy") for h in _GROUP_HEADS], _group_rows(data.by_counter), _GROUP_WIDTHS)
    _heading(document, "2. Theo yếu tố đánh giá (SIPAS)")
    headline = targets.headline(total, data.goal)
    goals = {item.key: item.text for item in (headline.elements if headline else []) if item is not None}
    _grid(document, ("Yếu tố", "Số lượt trả lời", "Chỉ số hài lòng", "Kỳ trước", "Chỉ tiêu"),
          [[vi, report_view.count(answered), percent(index), percent(before), goals.get(key, "–")]
           for key, (vi, _en, answered, index, before) in zip(
               SCALE_KEYS, report_view.elements_rows(total, previous), strict=True)],
          (6.4, 2.4, 2.5, 2.3, 2.4))
    _heading(document, "3. Theo kênh đánh giá")
    _grid(document, [h.format("Kênh") for h in _GROUP_HEADS],
          [[*row[:1], row[1].split(" / ")[0], *row[2:]] for row in _group_rows(data.by_channel)], _GROUP_WIDTHS)

    _heading(document, "4. Quầy và cán bộ bị cảnh báo")
    rule_vi, _ = report_view.rule_words(data.by_counter)
    _para(document, f"{rule_vi}.", indent=True)
    for what, report in (("Quầy", data.by_counter), ("Cán bộ", data.by_officer)):
        flagged = [row for row in report.rows if row.flagged]
        if not flagged:
            _para(document, f"- {what}: không có {what.lower()} nào bị cảnh báo.", indent=True)
            continue
        _para(document, f"- {what} bị cảnh báo ({len(flagged)}): " + "; ".join(
            f"{row.label} ({report_view.count(row.figures.ratings)} lượt, không hài lòng "
            f"{percent(row.figures.dissatisfied_share)})" for row in flagged) + ".", indent=True)

    _heading(document, "III. TIẾP NHẬN VÀ XỬ LÝ Ý KIẾN, PHẢN ÁNH")
    feedback = data.feedback
    _para(document, f"1. Trong kỳ tiếp nhận {report_view.count(feedback.comments)} ý kiến góp ý bằng văn bản và "
          f"{report_view.count(feedback.harassment)} phản ánh bị gây phiền hà, sách nhiễu, đòi hỏi chi phí ngoài quy "
          "định.", indent=True)
    _para(document, _cases_words(data.cases), indent=True)

    _heading(document, "IV. ĐỀ XUẤT, KIẾN NGHỊ")
    for number in (1, 2, 3):
        _para(document, f"{number}. [Đề xuất, kiến nghị – {data.office} bổ sung trước khi trình ký] ………………",
              align=WD_ALIGN_PARAGRAPH.LEFT, indent=True)
    _para(document, f"Trên đây là báo cáo kết quả khảo sát, đánh giá sự hài lòng {subject_period(period)} của "
          f"{data.office}, kính trình {data.agency.name} xem xét, chỉ đạo./.", indent=True, before=6)


def _target_words(data: WrittenReport) -> str:
    headline = targets.headline(data.total, data.goal)
    if headline is None:
        return (f"Chưa đặt chỉ tiêu chỉ số hài lòng năm {data.period.first.year} cho {data.agency.name} "
                "(đặt bằng lệnh «kiosk-server target set»).")
    if headline.verdict is None:
        return f"{headline.text_vi}. Trong kỳ chưa có lượt đánh giá để so sánh."
    return (f"{headline.text_vi}; chỉ số hài lòng của kỳ là {percent(data.total.satisfaction_index)}: "
            f"{headline.verdict.vi[0].lower()}{headline.verdict.vi[1:]}.")


def _cases_words(cases: FeedbackCases | None) -> str:
    if cases is None:
        return ("2. Kết quả xử lý, trả lời: [số ý kiến, phản ánh đã được xem xét, trả lời; số trả lời đúng hạn – "
                "bộ phận được giao bổ sung].")
    if cases.received == 0:
        return "2. Kết quả xử lý, trả lời: trong kỳ không có ý kiến, phản ánh cần trả lời."
    said = (f"2. Đã trả lời {report_view.count(cases.answered)}/{report_view.count(cases.received)} ý kiến, phản ánh "
            "nhận trong kỳ")
    if cases.median_days is None:
        return said + "."
    median = f"{cases.median_days:.1f}".replace(".", ",")
    return (f"{said}; trả lời đúng hạn {report_view.count(cases.on_time)}; thời gian trả lời trung vị {median} ngày "
            "làm việc.")


def _footer(document: object, data: WrittenReport) -> None:
    _para(document, "", 6, after=0)
    bottom = _borderless(document, (7.5, 9.0))
    left, right = (_cell_first(cell) for cell in bottom.rows[0].cells)
    _para(left, "Nơi nhận:", 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    _para(left, f"- {data.agency.name};", 11, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    _para(left, "- Các bộ phận, quầy tiếp nhận;", 11, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    _para(left, f"- Lưu: VT, {abbreviation(data.office)}.", 11, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    title = "TRƯỞNG PHÒNG" if data.office.lower().startswith("phòng") else "THỦ TRƯỞNG ĐƠN VỊ"
    _para(right, title, 13, bold=True,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _para(right, "(Ký, ghi rõ họ tên)", 12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=60)
    _para(right, data.signer, 13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)


# ---- PDF ---------------------------------------------------------------------------------------------------

def converter() -> str | None:
    """LibreOffice's command (soffice or libreoffice) when installed, else None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: Path, out_dir: Path) -> Path:
    """Convert a .docx to PDF with headless LibreOffice into out_dir; a WrittenReportError when it cannot."""
    command = converter()
    if command is None:
        raise WrittenReportError(
            "Không tìm thấy LibreOffice để chuyển sang PDF; cài gói libreoffice-writer-nogui (Debian) rồi chạy lại, "
            "hoặc mở tệp Word và lưu dưới dạng PDF",
            "LibreOffice was not found to convert to PDF; install the libreoffice-writer-nogui package (Debian) and "
            "run again, or open the Word file and save it as PDF")
    # A profile of its own: a LibreOffice already running for the user would otherwise take the job and hang.
    with tempfile.TemporaryDirectory(prefix="kiosk-soffice-") as profile:
        try:
            done = subprocess.run(
                [command, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(out_dir), str(docx)],
                capture_output=True, text=True, timeout=PDF_TIMEOUT_S, check=False,
                env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            done = None
    made = out_dir / (docx.stem + ".pdf")
    if done is None or done.returncode != 0 or not made.exists():
        why = "" if done is None else (done.stderr or done.stdout).strip()[-300:]
        raise WrittenReportError(f"LibreOffice không chuyển được sang PDF: {why or 'quá thời gian'}",
                                 f"LibreOffice could not convert to PDF: {why or 'timed out'}")
    return made
