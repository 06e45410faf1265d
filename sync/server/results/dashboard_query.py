"""The dashboard's choices as they travel in a URL (period, grouping, agency, channel, repeats), read and written
back.

Every link on the page (previous/next period, downloads, the publish form) is made by `to_params`, and every
request is read by `parse`, which refuses anything malformed with a sentence saying which choice is wrong.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date

from kiosk.domain.errors import BilingualError
from kiosk.domain.levels import CHANNEL_KEYS
from sync.server.results.figures import GROUPINGS, ReportQuery
from sync.server.results.periods import PERIOD_KINDS, Period

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_RANGE_DAYS = 5 * 366
DEFAULT_KIND = "month"
DEFAULT_GROUP = "counter"
_TRUE = ("1", "on", "true", "yes")


class QueryError(BilingualError):
    """A dashboard choice that cannot be used; `field` names the form field."""

    def __init__(self, field: str, vi: str, en: str) -> None:
        super().__init__(vi, en)
        self.field = field


def _date(params: Mapping[str, str], name: str, label_vi: str, label_en: str) -> date:
    text = params.get(name, "").strip()
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise QueryError(name, f"«{label_vi}» không phải một ngày hợp lệ (dạng năm-tháng-ngày, ví dụ 2026-11-23): "
                         f"{text[:40]!r}",
                         f"'{label_en}' is not a valid date (year-month-day, e.g. 2026-11-23): {text[:40]!r}") from None
    if not EARLIEST <= value <= LATEST:
        raise QueryError(name, f"«{label_vi}» phải trong khoảng {EARLIEST:%d/%m/%Y}–{LATEST:%d/%m/%Y}",
                         f"'{label_en}' must be between {EARLIEST} and {LATEST}")
    return value


def parse(params: Mapping[str, str], today: date, agency_codes: Collection[str]) -> ReportQuery:
    """The report query a request asks for; defaults: this month, by counter, every agency, no repeats."""
    kind = params.get("period", "").strip() or DEFAULT_KIND
    if kind not in PERIOD_KINDS:
        raise QueryError("period", f"Không có loại kỳ {kind[:40]!r}; chọn một trong: {', '.join(PERIOD_KINDS)}",
                         f"no period kind {kind[:40]!r}; choose one of: {', '.join(PERIOD_KINDS)}")
    if kind == "range":
        first = _date(params, "from", "Từ ngày", "From")
        last = _date(params, "to", "Đến ngày", "To")
        if first > last:
            raise QueryError("to", f"«Đến ngày» ({last:%d/%m/%Y}) đứng trước «Từ ngày» ({first:%d/%m/%Y})",
                             f"'To' ({last}) is before 'From' ({first})")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise QueryError("to", f"Khoảng ngày dài quá {MAX_RANGE_DAYS} ngày; hãy chọn theo năm",
                             f"the range is longer than {MAX_RANGE_DAYS} days; choose years instead")
        period = Period.between(first, last)
    else:
        anchor = _date(params, "date", "Ngày", "Date") if params.get("date", "").strip() else today
        period = Period.of(kind, anchor)
    group = params.get("group", "").strip() or DEFAULT_GROUP
    if group not in GROUPINGS:
        raise QueryError("group", f"Không có cách nhóm {group[:40]!r}; chọn một trong: {', '.join(GROUPINGS)}",
                         f"no grouping {group[:40]!r}; choose one of: {', '.join(GROUPINGS)}")
    agency = params.get("agency", "").strip() or None
    if agency is not None and agency not in agency_codes:
        raise QueryError("agency", f"Không có cơ quan mã {agency[:64]!r}", f"no agency with code {agency[:64]!r}")
    channel = params.get("channel", "").strip() or None
    if channel is not None and channel not in CHANNEL_KEYS:
        raise QueryError("channel", f"Không có kênh {channel[:40]!r}; chọn một trong: {', '.join(CHANNEL_KEYS)}",
                         f"no channel {channel[:40]!r}; choose one of: {', '.join(CHANNEL_KEYS)}")
    repeats = params.get("repeats", "").strip().lower() in _TRUE
    return ReportQuery(period=period, group_by=group, agency_code=agency, include_repeats=repeats, channel=channel)


def to_params(query: ReportQuery) -> dict[str, str]:
    """The URL parameters that `parse` reads back into the same query."""
    period = query.period
    params = {"period": period.kind, "group": query.group_by}
    if period.kind == "range":
        params |= {"from": period.first.isoformat(), "to": period.last.isoformat()}
    else:
        params["date"] = period.first.isoformat()
    if query.agency_code:
        params["agency"] = query.agency_code
    if query.channel:
        params["channel"] = query.channel
    if query.include_repeats:
        params["repeats"] = "1"
    return params


def with_period(query: ReportQuery, period: Period) -> ReportQuery:
    """The same query over another period."""
    return replace(query, period=period)


MAX_PAGE_DIGITS = 6


def ranking_choice(params: Mapping[str, str]) -> tuple[int, str]:
    """Which page of the ranking (from 1) and which rows (every group, or only the flagged ones) a request asks
    for; defaults: page 1 of every group. A page past the last is not refused here: only the report knows."""
    text = params.get("page", "").strip() or "1"
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_PAGE_DIGITS and int(text) >= 1):
        raise QueryError("page", f"Số trang của bảng xếp hạng phải là một số nguyên dương: {text[:20]!r}",
                         f"the ranking's page must be a positive whole number: {text[:20]!r}")
    view = params.get("show", "").strip() or "all"
    if view not in ("all", "flagged"):
        raise QueryError("show", f"Bảng xếp hạng không có cách xem {view[:40]!r}; chọn all hoặc flagged",
                         f"the ranking has no view {view[:40]!r}; choose all or flagged")
    return int(text), view


def ranking_params(page: int, view: str) -> dict[str, str]:
    """The URL parameters of a ranking page, left out when they are the defaults (page 1, every group)."""
    params = {"page": str(page)} if page != 1 else {}
    if view != "all":
        params["show"] = view
    return params
