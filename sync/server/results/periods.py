"""Report periods: spans of whole days in the report time zone, their labels, their UTC bounds, and the trend's
buckets within them.

A rating counts in a period when its `recorded_at`, in the report time zone (settings.report_timezone: [reports]
timezone, else [fleet] timezone, default Asia/Ho_Chi_Minh), falls on a day of the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sync.server.errors import ReportError

# "half" (January–June or July–December) and "nine_months" (January–September) are the office's 6- and 9-month
# reporting periods to the People's Committee.
PERIOD_KINDS = ("day", "week", "month", "quarter", "half", "nine_months", "year", "range")
# Longest period a report or trend covers: ten years of days is far more than any page asks for.
MAX_DAYS = 366 * 10
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:   # 29 February
        return day.replace(year=day.year - 1, day=28)


def month_last(first: date) -> date:
    """The last day of the month that begins on `first`."""
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """A span of whole days, inclusive at both ends, in the report time zone."""

    kind: str    # one of PERIOD_KINDS
    first: date
    last: date   # inclusive

    @classmethod
    def of(cls, kind: str, anchor: date) -> Period:
        """The day/week (Mon–Sun)/month/quarter/half-year/year containing `anchor`; for nine_months, January to
        September of `anchor`'s year (the 9-month report is written after September ends)."""
        if kind == "day":
            return cls(kind, anchor, anchor)
        if kind == "week":
            first = anchor - timedelta(days=anchor.weekday())
            return cls(kind, first, first + timedelta(days=6))
        if kind == "month":
            first = anchor.replace(day=1)
            return cls(kind, first, month_last(first))
        if kind == "quarter":
            first = date(anchor.year, (anchor.month - 1) // 3 * 3 + 1, 1)
            return cls(kind, first, month_last(date(anchor.year, first.month + 2, 1)))
        if kind == "half":
            first = date(anchor.year, 1 if anchor.month <= 6 else 7, 1)
            return cls(kind, first, month_last(date(anchor.year, first.month + 5, 1)))
        if kind == "nine_months":
            return cls(kind, date(anchor.year, 1, 1), date(anchor.year, 9, 30))
        if kind == "year":
            return cls(kind, date(anchor.year, 1, 1), date(anchor.year, 12, 31))
        raise ReportError(f"Loại kỳ {kind!r} không hợp lệ; dùng day, week, month, quarter, half, nine_months hoặc "
                          "year", f"invalid period kind {kind!r}; use day, week, month, quarter, half, nine_months "
                          "or year")

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        """A date range (kind 'range'); first > last is a ValueError with a vi/en message."""
        if first > last:
            raise ReportError(f"Ngày bắt đầu {_dmy(first)} sau ngày kết thúc {_dmy(last)}",
                              f"the start date {first.isoformat()} is after the end date {last.isoformat()}")
        if (last - first).days >= MAX_DAYS:
            raise ReportError(f"Khoảng thời gian dài quá {MAX_DAYS} ngày", f"the range is longer than {MAX_DAYS} days")
        return cls("range", first, last)

    def previous(self) -> Period:
        """The period just before, of the same kind and length (a range: the same number of days before)."""
        if self.kind == "range":
            return Period("range", self.first - timedelta(days=self.days), self.first - timedelta(days=1))
        if self.kind == "nine_months":
            # The nine months just before January–September: April–December of the year before.
            return Period("range", date(self.first.year - 1, 4, 1), date(self.first.year - 1, 12, 31))
        return Period.of(self.kind, self.first - timedelta(days=1))

    def a_year_before(self) -> Period:
        """The same period of the year before (a range: the same days; 29 February becomes the 28th)."""
        if self.kind in ("day", "range"):
            return Period(self.kind, _year_before(self.first), _year_before(self.last))
        if self.kind == "week":
            return Period.of("week", self.first - timedelta(days=364))
        return Period.of(self.kind, _year_before(self.first))

    def label(self, lang: str = "vi") -> str:
        """'Tháng 11/2026', 'Quý 4/2026', '6 tháng đầu năm 2026', '9 tháng đầu năm 2026', 'Năm 2026',
        'Tuần 23/11–29/11/2026', '01/11/2026 – 15/11/2026'."""
        en = lang == "en"
        first, last = self.first, self.last
        if self.kind == "day":
            return f"{'Day' if en else 'Ngày'} {_dmy(first)}"
        if self.kind == "week":
            start = first.strftime("%d/%m") if first.year == last.year else _dmy(first)
            return f"{'Week' if en else 'Tuần'} {start}–{_dmy(last)}"
        if self.kind == "month":
            return f"{_MONTHS_EN[first.month - 1]} {first.year}" if en else f"Tháng {first.month}/{first.year}"
        if self.kind == "quarter":
            quarter = (first.month - 1) // 3 + 1
            return f"Q{quarter} {first.year}" if en else f"Quý {quarter}/{first.year}"
        if self.kind == "half":
            if en:
                return f"{'First' if first.month == 1 else 'Second'} half of {first.year}"
            return f"6 tháng {'đầu' if first.month == 1 else 'cuối'} năm {first.year}"
        if self.kind == "nine_months":
            return f"First nine months of {first.year}" if en else f"9 tháng đầu năm {first.year}"
        if self.kind == "year":
            return f"{'Year' if en else 'Năm'} {first.year}"
        return f"{_dmy(first)} – {_dmy(last)}"

    @property
    def days(self) -> int:
        """How many days the period holds."""
        return (self.last - self.first).days + 1

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of the period's days in `zone` (what the WHERE on recorded_at uses)."""
        return midnight(self.first, zone), midnight(self.last + timedelta(days=1), zone)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


# ---- the trend's buckets and the zone's offsets --------------------------------------------------------

def default_bucket(period: Period) -> str:
    """The trend bucket that suits a period: days up to a month, weeks up to a quarter, else months."""
    if period.days <= 31:
        return "day"
    return "week" if period.days <= 92 else "month"


def bucket_start(day: date, bucket: str) -> date:
    """The first day of the day/week (Monday)/month bucket holding `day`."""
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    raise ReportError(f"Đơn vị xu hướng {bucket!r} không hợp lệ; dùng day, week hoặc month",
                      f"invalid trend bucket {bucket!r}; use day, week or month")


def offset_segments(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, int]]:
    """[(from UTC instant, UTC offset in seconds)] covering [start, end): a new piece where the offset changes."""

    def offset(moment: datetime) -> int:
        shift = moment.astimezone(zone).utcoffset()
        return int(shift.total_seconds()) if shift is not None else 0

    segments = [(start, offset(start))]
    probe = start
    while probe < end:
        following = min(probe + timedelta(days=1), end)
        if offset(following) != segments[-1][1]:
            low, high = probe, following   # the change is within this day: find its second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == segments[-1][1] else (low, middle)
            segments.append((high, offset(high)))
        probe = following
    return segments

