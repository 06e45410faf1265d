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

PERIOD_KINDS = ("day", "week", "month", "quarter", "year", "range")
# Longest period a report or trend covers: ten years of days is far more than any page asks for.
MAX_DAYS = 366 * 10
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


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
        """The day/week (Mon–Sun)/month/quarter/year containing `anchor`."""
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
        if kind == "year":
            return cls(kind, date(anchor.year, 1, 1), date(anchor.year, 12, 31))
        raise ReportError(f"Loại kỳ {kind!r} không hợp lệ; dùng day, week, month, quarter hoặc year",
                          f"invalid period kind {kind!r}; use day, week, month, quarter or year")

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
        return Period.of(self.kind, self.first - timedelta(days=1))

    def label(self, lang: str = "vi") -> str:
        """'Tháng 11/2026', 'Quý 4/2026', 'Năm 2026', 'Tuần 23/11–29/11/2026', '01/11/2026 – 15/11/2026'."""
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

