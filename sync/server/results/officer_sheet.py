"""An officer's monthly sheet for the head of unit: the officer's figures beside their counter's and their agency's
for the same month and beside their own previous month, the flag the ranking gives (the same rule and settings:
reports.build decides it), harassment reports, and the comments left on their ratings, contacts masked.

Every figure comes from reports.build_on (three reports read in one transaction), never a second aggregation;
the comments from comments.comments_on. The sheet is filed with the officer's evaluation, so a phone number or
e-mail address in a comment is masked here even when the citizen asked for a callback (the dashboard shows that
contact to the staff who call back; the paper needs it not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, select

from kiosk.domain.levels import LEVELS
from sync.server.db import reading
from sync.server.errors import ReportError
from sync.server.models import AGENCY, COMMENTED, COUNTER, OFFICER, RATING
from sync.server.results import charts, report_view, reports
from sync.server.results.comments import comments_on, mask
from sync.server.results.dashboard_query import EARLIEST, LATEST
from sync.server.results.figures import Comment, Figures, Report, ReportQuery, Row
from sync.server.results.periods import Period
from sync.server.results.scope import resolved
from sync.server.settings import ServerSettings, public_base, report_timezone
from sync.server.web import templates

SHEET_PATH = "/dashboard/can-bo"
COMMENTS_SHOWN = 5        # what one A4 page holds beside the tables; the rest are counted and left to the dashboard
COMMENT_CHARS = 180       # a longer comment is cut (two printed lines), whole on the dashboard
COMMENTS_READ = 500       # enough to count a month's comments on one officer
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_CSS = Path(__file__).resolve().parent.parent / "static" / "officer_sheet.css"


class SheetNotFound(ReportError):
    """No such agency or officer: the page answers 404, the command exits 2."""


def parse_month(text: str, today: date) -> Period:
    """A month written YYYY-MM, not after the current one; a bilingual ReportError otherwise."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12 or not EARLIEST.year <= int(found.group(1)) <= LATEST.year:
        raise ReportError(f"Tháng {text[:20]!r} không hợp lệ; viết YYYY-MM, ví dụ 2026-11",
                          f"invalid month {text[:20]!r}; write YYYY-MM, e.g. 2026-11")
    period = Period.of("month", date(int(found.group(1)), int(found.group(2)), 1))
    if period.first > today:
        raise ReportError(f"Tháng {period.first.month:02d}/{period.first.year} chưa đến; chưa có số liệu",
                          f"{period.label('en')} has not begun; there are no figures yet")
    return period


def last_closed_month(today: date) -> Period:
    """The month before today's: the one a head evaluates at the start of a month."""
    return Period.of("month", today).previous()


def sheet_path(agency_code: str, officer_code: str, period: Period) -> str:
    """The sheet's address on the server (after the public base)."""
    return (f"{SHEET_PATH}/{quote(agency_code, safe='')}/{quote(officer_code, safe='')}"
            f"?month={period.first.strftime('%Y-%m')}")


def sheet_url(settings: ServerSettings, agency_code: str, officer_code: str, period: Period) -> str:
    """The sheet's full link, from [server] public_url (for the digest e-mail)."""
    return public_base(settings) + sheet_path(agency_code, officer_code, period)


@dataclass(frozen=True)
class Column:
    """One column of the sheet's comparison: whose figures, for which month."""

    vi: str
    en: str
    figures: Figures
    own: bool = False   # the officer's own month (drawn stronger)


@dataclass(frozen=True)
class Sheet:
    """Everything the sheet shows for one officer and month."""

    period: Period
    agency_code: str
    agency_name: str
    agency_parent: str
    officer_code: str
    officer_name: str
    officer_title: str
    counter_code: str            # "" when the officer served at no counter this month and has none registered
    counter_name: str
    counter_registered: bool     # False: the counter where the officer had the most ratings this month
    row: Row                     # the officer's ranking row: figures, previous month, flag
    report: Report               # the agency's officer ranking for the month (its total is the agency's)
    counter: Figures
    flag: report_view.Flag
    rule: tuple[str, str]
    rank: int | None             # the officer's place in the agency's ranking (None: no ratings)
    ranked: int                  # officers ranked in the agency this month
    comments: list[Comment]      # newest first, at most COMMENTS_SHOWN, contacts masked
    comments_total: int
    made_at: str                 # when the sheet was made, local dd/mm/yyyy hh:mm

    @property
    def columns(self) -> list[Column]:
        """The comparison's columns: the officer, their previous month, their counter, their agency."""
        previous = self.period.previous()
        columns = [Column("Cán bộ", "Officer", self.row.figures, own=True),
                   Column(f"Tháng {previous.first.month:02d}/{previous.first.year}",
                          f"Officer, {previous.label('en')}", self.row.previous)]
        if self.counter_code:
            columns.append(Column(f"Quầy {self.counter_code}", "Counter", self.counter))
        columns.append(Column("Cả cơ quan", "Whole agency", self.report.total))
        return columns

    @property
    def headline(self) -> tuple[str, str]:
        """The flag said as a sentence, for the top of the sheet (never colour alone)."""
        share, limit = charts.percent(self.row.figures.dissatisfied_share), charts.percent(self.report.flag_share, 0)
        if self.flag.code == "flagged":
            return (f"CẢNH BÁO: {share} đánh giá không hài lòng (mức 1–2), trên {limit} không hài lòng — "
                    "đề nghị xem xét, nhắc nhở và theo dõi trong đánh giá tháng.",
                    f"FLAGGED: {share} of ratings dissatisfied (levels 1–2), over {limit} — to be reviewed and "
                    "followed up in the monthly evaluation.")
        if self.flag.code == "too_few":
            return (f"Chưa xét cảnh báo: {self.flag.vi}; không hài lòng {share}.",
                    f"Not judged: {self.flag.en}; dissatisfied {share}.")
        if self.flag.code == "empty":
            return ("Không có lượt đánh giá nào trong tháng.", "No ratings this month.")
        return (f"Đạt: {share} đánh giá không hài lòng, không vượt {limit}.",
                f"Within: {share} of ratings dissatisfied, not over {limit}.")


def _officer(conn: Connection, agency_code: str, officer_code: str) -> Any:
    row = conn.execute(
        select(AGENCY.c.code.label("agency_code"), AGENCY.c.name.label("agency_name"),
               AGENCY.c.parent.label("agency_parent"), OFFICER.c.code, OFFICER.c.name, OFFICER.c.title,
               COUNTER.c.code.label("counter_code"), COUNTER.c.name.label("counter_name"))
        .select_from(OFFICER.join(AGENCY, AGENCY.c.id == OFFICER.c.agency_id)
                     .outerjoin(COUNTER, COUNTER.c.id == OFFICER.c.counter_id))
        .where(AGENCY.c.code == agency_code, OFFICER.c.code == officer_code)).first()
    if row is None:
        agency = conn.execute(select(AGENCY.c.id).where(AGENCY.c.code == agency_code)).first()
        if agency is None:
            raise SheetNotFound(f"Không có cơ quan mã {agency_code[:64]!r}",
                                f"no agency with code {agency_code[:64]!r}")
        raise SheetNotFound(f"Cơ quan {agency_code} không có cán bộ mã {officer_code[:64]!r}",
                            f"agency {agency_code} has no officer {officer_code[:64]!r}")
    return row


def _busiest_counter(conn: Connection, settings: ServerSettings, period: Period, agency_code: str,
                     officer_code: str, counters: list[Row]) -> str:
    """The counter where the officer had the most ratings in the month ('' for none), from the officer ranking
    of each counter the agency's counter ranking lists."""
    best, most = "", 0
    for counter in counters:
        ranking = reports.build_on(conn, ReportQuery(period, "officer", agency_code, counter.key), settings)
        found = next((r for r in ranking.rows if r.key == officer_code), None)
        if found is not None and found.figures.ratings > most:
            best, most = counter.key, found.figures.ratings
    return best


def build_sheet(engine: Engine, settings: ServerSettings, agency_code: str, officer_code: str, period: Period,
                now: datetime) -> Sheet:
    """The officer's sheet for the month; SheetNotFound for an unknown agency or officer."""
    zone = ZoneInfo(report_timezone(settings))
    with reading(engine) as conn:
        officer = _officer(conn, agency_code, officer_code)
        query = ReportQuery(period, "officer", agency_code)
        report = reports.build_on(conn, query, settings)
        by_counter = reports.build_on(conn, ReportQuery(period, "counter", agency_code), settings)
        counter_code, registered = officer.counter_code or "", officer.counter_code is not None
        if not registered:
            counter_code = _busiest_counter(conn, settings, period, agency_code, officer_code, by_counter.rows)
        counter_row = next((r for r in by_counter.rows if r.key == counter_code), None)
        counter_name = officer.counter_name or (counter_row.label if counter_row else "")
        comments = comments_on(resolved(conn, query, settings), query,
                               and_(COMMENTED, RATING.c.officer_code == officer_code), COMMENTS_READ)
    position = next((i for i, r in enumerate(report.rows, start=1) if r.key == officer_code), None)
    row = report.rows[position - 1] if position is not None else Row(
        officer_code, str(officer.name), Figures.empty(), Figures.empty(), False, True)
    ranked = sum(1 for r in report.rows if r.figures.ratings)
    # The callback's contact stays on the dashboard for whoever calls back; the filed sheet never carries it.
    shown = [replace(c, text=_cut(mask(c.text))) for c in comments[:COMMENTS_SHOWN]]
    return Sheet(period, str(officer.agency_code), str(officer.agency_name), str(officer.agency_parent or ""),
                 str(officer.code), str(officer.name), str(officer.title or ""), counter_code, str(counter_name),
                 registered, row, report, counter_row.figures if counter_row else Figures.empty(),
                 report_view.flag(row, report), report_view.rule_words(report),
                 position if row.figures.ratings else None, ranked, shown, len(comments),
                 now.astimezone(zone).strftime("%d/%m/%Y %H:%M"))


def _cut(text: str) -> str:
    return text if len(text) <= COMMENT_CHARS else text[:COMMENT_CHARS].rstrip() + "… (rút gọn)"


def sheet_values(sheet: Sheet) -> dict[str, Any]:
    """What officer_sheet.html shows."""
    return {"sheet": sheet, "view": report_view, "percent": charts.percent, "count": report_view.count,
            "elements": report_view.ELEMENTS, "levels": LEVELS,
            "css": _CSS.read_text(encoding="utf-8")}


def render(sheet: Sheet, *, toolbar: bool = False) -> str:
    """The sheet as one self-contained HTML page (its stylesheet inline), ready to print on A4."""
    return templates.get_template("officer_sheet.html").render(sheet_values(sheet) | {"toolbar": toolbar})
