"""How the pages say the report's numbers: formats, comparisons, flags in words, trend buckets, and the tables.

The dashboard, the public page and the table downloads all take their text from here, so a number reads the
same everywhere. Vietnamese first, English second; a share with nothing to divide is '–', never 0 % or 100 %.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from markupsafe import Markup

from kiosk.domain.levels import CHANNELS, HARASSMENT_KEY, LEVELS, QUESTIONS, SCALE_KEYS
from sync.server.results import charts
from sync.server.results.charts import TrendValue, percent
from sync.server.results.figures import TOO_FEW_EN, TOO_FEW_VI, Comment, Figures, Report, Row, TrendPoint
from sync.server.results.periods import Period, default_bucket
from sync.server.results.targets import Goal, Verdict, index_verdict

GROUP_NAMES: dict[str, tuple[str, str]] = {
    "agency": ("Cơ quan", "Agency"),
    "counter": ("Quầy", "Counter"),
    "officer": ("Cán bộ", "Officer"),
    "procedure": ("Thủ tục", "Procedure"),
    "field": ("Lĩnh vực", "Field"),
    "channel": ("Kênh", "Channel"),
}
# The channels as the dashboard's choice offers them, named by their owner (kiosk.domain.levels.CHANNELS).
CHANNEL_NAMES: dict[str, tuple[str, str]] = {channel.key: (channel.label_vi, channel.label_en) for channel in CHANNELS}
PERIOD_NAMES: dict[str, tuple[str, str]] = {
    "day": ("Ngày", "Day"),
    "week": ("Tuần", "Week"),
    "month": ("Tháng", "Month"),
    "quarter": ("Quý", "Quarter"),
    "half": ("6 tháng", "Half-year"),
    "nine_months": ("9 tháng", "Nine months"),
    "year": ("Năm", "Year"),
    "range": ("Khoảng ngày", "Date range"),
}
ELEMENTS = tuple(q for q in QUESTIONS if q.key in SCALE_KEYS)


def count(n: int) -> str:
    """A whole number as Vietnamese writes it: 1.234.567."""
    return f"{n:,}".replace(",", ".")


def day(d: date) -> str:
    """A date as dd/mm/yyyy."""
    return d.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class Change:
    """A share compared with the previous period, in words (colour is never the only sign)."""

    direction: str  # up, down, same, none
    vi: str
    en: str


def change(current: float | None, previous: float | None) -> Change:
    """How a share moved since the previous period, in percentage points."""
    if current is None or previous is None:
        return Change("none", "không có số liệu kỳ trước để so sánh", "nothing to compare with")
    points = (current - previous) * 100
    shown = f"{abs(points):.1f}"
    if shown == "0.0":
        return Change("same", "không đổi so với kỳ trước", "unchanged since the previous period")
    if points > 0:
        return Change("up", f"▲ tăng {shown.replace('.', ',')} điểm % so với kỳ trước",
                      f"up {shown} points on the previous period")
    return Change("down", f"▼ giảm {shown.replace('.', ',')} điểm % so với kỳ trước",
                  f"down {shown} points on the previous period")


@dataclass(frozen=True)
class Flag:
    """A group's standing against the flag rule, in words: flagged, too few ratings, within, or no ratings."""

    code: str  # flagged, too_few, ok, empty
    vi: str
    en: str


def flag(row: Row, report: Report) -> Flag:
    """The flag cell of a ranking row; the threshold is always written next to it."""
    figures = row.figures
    if figures.ratings == 0:
        return Flag("empty", "không có lượt đánh giá", "no ratings")
    share = percent(figures.dissatisfied_share)
    limit = percent(report.flag_share, 0)
    if row.too_few:
        return Flag("too_few", f"{TOO_FEW_VI} ({count(figures.ratings)} < {report.flag_min_ratings})",
                    f"{TOO_FEW_EN} ({figures.ratings} < {report.flag_min_ratings})")
    if row.flagged:
        return Flag("flagged", f"⚑ CẢNH BÁO: không hài lòng {share} > {limit}",
                    f"FLAGGED: dissatisfied {share} over {limit}")
    return Flag("ok", f"✓ Đạt: không hài lòng {share} ≤ {limit}", f"within: dissatisfied {share}, at most {limit}")


def rule_words(report: Report) -> tuple[str, str]:
    """The flag rule as the page states it next to the ranking."""
    limit = percent(report.flag_share, 0)
    return (f"Gắn cờ khi tỷ lệ không hài lòng (mức 1–2) trên {limit} và có ít nhất {report.flag_min_ratings} "
            "lượt đánh giá",
            f"flagged when the share dissatisfied (levels 1–2) is over {limit} with at least "
            f"{report.flag_min_ratings} ratings")


# ---- periods and the trend ---------------------------------------------------------------------------------

def next_period(period: Period) -> Period:
    """The period just after, of the same kind and length."""
    if period.kind == "range":
        length = (period.last - period.first).days
        first = period.last + timedelta(days=1)
        return Period.between(first, first + timedelta(days=length))
    return Period.of(period.kind, period.last + timedelta(days=1))


def trend_span(period: Period) -> tuple[Period, str]:
    """The span the trend chart covers and its bucket (periods.default_bucket: by day for a month, by month for
    a year). A single day has no trend of its own, so its chart shows the 30 days up to it, by day.
    """
    if period.kind == "day":
        return Period.between(period.first - timedelta(days=29), period.last), "day"
    return period, default_bucket(period)


def bucket_label(first: date, bucket: str, *, same_year: bool = True) -> str:
    """A trend bucket's short label: 23/11, or T11 (month) within one year, else 11/2026."""
    if bucket == "month":
        return f"T{first.month}" if same_year else f"{first.month:02d}/{first.year}"
    return first.strftime("%d/%m")


def trend_values(points: list[TrendPoint], bucket: str) -> list[TrendValue]:
    """The trend points as the chart draws them."""
    same_year = len({p.first.year for p in points}) <= 1
    return [TrendValue(bucket_label(p.first, bucket, same_year=same_year), p.figures.satisfaction_index,
                       p.figures.ratings) for p in points]


# ---- tables: what the page shows and what the downloads hold ----------------------------------------------

@dataclass(frozen=True)
class Column:
    """A table column: its headers and how its values are written (text, count, share, date)."""

    key: str
    vi: str
    en: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """One table of the page, as rows of raw values (shares as fractions, None for '–')."""

    key: str
    vi: str
    en: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]


def cell_text(column: Column, value: Any) -> str:
    """One value as the page writes it."""
    if value is None:
        return "–"
    if column.kind == "share":
        return percent(float(value))
    if column.kind == "count":
        return count(int(value))
    return str(value)


@dataclass(frozen=True)
class HeadCell:
    """A column of a table as the page shows it: header words, the label a phone shows beside each value."""

    key: str
    vi: str
    en: str
    label: str                 # "vi / en", written once per table rather than once per cell
    numeric: bool


def table_heads(table: Table) -> list[HeadCell]:
    """The table's columns as the page shows them."""
    return [HeadCell(c.key, c.vi, c.en, f"{c.vi} / {c.en}", c.kind in ("count", "share")) for c in table.columns]


def table_texts(table: Table) -> list[list[str]]:
    """Every cell of the table as the page writes it (cell_text), made in one pass."""
    columns = table.columns
    return [[cell_text(column, value) for column, value in zip(columns, row, strict=True)] for row in table.rows]


def trend_table(points: list[TrendPoint], bucket: str) -> Table:
    """The trend chart's numbers, one row per bucket (the columns of exports.trend_csv)."""
    names = {"day": ("Ngày", "Day"), "week": ("Tuần từ", "Week from"), "month": ("Tháng từ", "Month from")}
    vi, en = names.get(bucket, names["day"])
    columns = (Column("first", vi, en, "date"), Column("ratings", "Số lượt", "Ratings", "count"),
               *(Column(f"level{lv.value}", f"{lv.label_vi} ({lv.value})", f"{lv.label_en} ({lv.value})", "count")
                 for lv in LEVELS),
               Column("index", "Chỉ số hài lòng", "Satisfaction index", "share"),
               Column("dissatisfied", "Không hài lòng", "Dissatisfied", "share"),
               Column(HARASSMENT_KEY, "Sách nhiễu", "Harassment", "count"))
    return Table("trend", "Chỉ số hài lòng theo thời gian", "Satisfaction index over time", columns, [
        (day(p.first), p.figures.ratings, *(p.figures.levels[lv.value - 1] for lv in LEVELS),
         p.figures.satisfaction_index, p.figures.dissatisfied_share, p.figures.harassment_reports)
        for p in points])


def comments_table(key: str, comments: list[Comment], *, with_agency: bool = True) -> Table:
    """Comments (or harassment reports), newest first, already masked; the agency column only across agencies."""
    title = (("Phản ánh bị gây phiền hà, sách nhiễu", "Reports of harassment or unofficial payments")
             if key == HARASSMENT_KEY else ("Ý kiến mới nhất", "Latest comments"))
    columns = (Column("recorded_at", "Thời điểm", "When"),
               *((Column("agency", "Cơ quan", "Agency"),) if with_agency else ()),
               Column("counter", "Quầy", "Counter"), Column("officer", "Cán bộ", "Officer"),
               Column("level", "Mức", "Level"), Column("text", "Ý kiến", "Comment"),
               Column("callback", "Liên hệ lại", "Callback"))
    return Table(key, title[0], title[1], columns, [
        (c.recorded_at_local, *((c.agency,) if with_agency else ()), c.counter, c.officer,
         f"{c.level} · {_level_label(c.level)}", c.text or None,
         "Xin liên hệ lại / Callback requested" if c.callback else None) for c in comments])


def _level_label(value: int) -> str:
    return next((lv.label_vi for lv in LEVELS if lv.value == value), str(value))


def levels_rows(figures: Figures, previous: Figures) -> list[tuple[int, str, str, int, float | None, float | None]]:
    """The five levels best first: (value, label vi, label en, count, share, share in the previous period)."""
    return [(lv.value, lv.label_vi, lv.label_en, figures.levels[lv.value - 1], figures.share(lv.value),
             previous.share(lv.value)) for lv in LEVELS]


def elements_rows(figures: Figures, previous: Figures) -> list[tuple[str, str, int, float | None, float | None]]:
    """The five SIPAS elements: (title vi, title en, answered, index, index in the previous period)."""
    rows = []
    for question in ELEMENTS:
        now = figures.elements.get(question.key)
        before = previous.elements.get(question.key)
        rows.append((question.title_vi, question.title_en, now.answered if now else 0,
                     now.index if now else None, before.index if before else None))
    return rows


# ---- the ranking, a page at a time ------------------------------------------------------------------------

RANKING_PAGE_ROWS = 50
RANKING_VIEWS = ("all", "flagged")


@dataclass(frozen=True)
class RankingRow:
    """One ranking row as the page writes it: every text made once here, none in the template's loop."""

    position: int              # the group's place in the whole ranking, whatever page or view shows it
    key: str
    label: str
    ratings: str
    index: str
    index_bar: Markup
    previous: str
    dissatisfied: str
    dissatisfied_bar: Markup
    harassment: str
    flag: Flag
    target: Verdict | None = None   # the group's index against its target, when it has one

    @property
    def key_shown(self) -> bool:
        """True when the key says more than the label (an officer's code beside the name)."""
        return self.label != self.key


def ranking_rows(report: Report, rows: Sequence[tuple[int, Row]], *, staff: bool = True,
                 goal_of: Callable[[str], Goal | None] | None = None) -> list[RankingRow]:
    """The given (position, row) pairs of the report's ranking, written out; the public page has no threshold,
    and no harassment count per group (empty: those are published only as the agency's total). `goal_of` gives
    a group's target by its key, when groups are held to one."""
    index_colour, dissatisfied_colour = charts.index_colour(), charts.dissatisfied_colour()
    threshold = report.flag_share if staff else None
    made = []
    for position, row in rows:
        figures = row.figures
        made.append(RankingRow(
            position, row.key, row.label, count(figures.ratings), percent(figures.satisfaction_index),
            charts.share_bar(figures.satisfaction_index, colour=index_colour),
            percent(row.previous.satisfaction_index), percent(figures.dissatisfied_share),
            charts.share_bar(figures.dissatisfied_share, colour=dissatisfied_colour, threshold=threshold),
            count(figures.harassment_reports) if staff else "", flag(row, report),
            _verdict(figures, goal_of(row.key) if goal_of else None)))
    return made


def _verdict(figures: Figures, goal: Goal | None) -> Verdict | None:
    return index_verdict(figures, goal) if goal is not None else None


def whole_ranking(report: Report, *, staff: bool = True) -> list[RankingRow]:
    """Every row of the report's ranking, written out (the public page shows a published report whole)."""
    return ranking_rows(report, list(enumerate(report.rows, start=1)), staff=staff)


@dataclass(frozen=True)
class RankingPage:
    """One page of the ranking (every group, or only the flagged ones), and where it stands among the pages."""

    rows: list[RankingRow]
    number: int                # the page asked for, from 1; may be past the last (then `rows` is empty)
    pages: int                 # at least 1: an empty ranking is one page saying so
    per_page: int
    shown: int                 # groups in this view: all of them, or the flagged ones
    groups: int                # every group of the ranking
    flagged: int
    view: str                  # "all" or "flagged"

    @property
    def exists(self) -> bool:
        """False for a page number past the last page."""
        return self.number <= self.pages

    @property
    def first(self) -> int:
        """The first row's number within the view (1-based)."""
        return (self.number - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        """The last row's number within the view."""
        return min(self.number * self.per_page, self.shown)


def ranking_page(report: Report, number: int = 1, view: str = "all", *, per_page: int = RANKING_PAGE_ROWS,
                 goal_of: Callable[[str], Goal | None] | None = None) -> RankingPage:
    """Page `number` of the report's ranking: `per_page` rows of every group, or of the flagged ones only."""
    if view not in RANKING_VIEWS:
        raise ValueError(f"no ranking view {view!r}")
    ranked = list(enumerate(report.rows, start=1))
    flagged = [pair for pair in ranked if pair[1].flagged]
    chosen = flagged if view == "flagged" else ranked
    pages = max(1, -(-len(chosen) // per_page))
    start = (number - 1) * per_page
    rows = ranking_rows(report, chosen[start:start + per_page], goal_of=goal_of) if number <= pages else []
    return RankingPage(rows, number, pages, per_page, len(chosen), len(ranked), len(flagged), view)


def page_numbers(current: int, pages: int, *, around: int = 2) -> list[int | None]:
    """The page numbers a pager links to: the first, the last, and a few around the current; None for a gap."""
    wanted = {1, pages, *range(max(1, current - around), min(pages, current + around) + 1)}
    numbers: list[int | None] = []
    previous = 0
    for n in sorted(wanted):
        if previous and n - previous > 1:
            numbers.append(None)
        numbers.append(n)
        previous = n
    return numbers
