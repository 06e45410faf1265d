"""The figures every page, export and command shows, and what each number means.

- A rating counts in a period when its `recorded_at`, in the report time zone, falls on a day of the period
  (periods.py). Test ratings never count. Suspected repeats are left out unless the query includes them.
- Ratings from a kiosk whose chain is not intact (device.chain_state != 'intact') are not mixed into the
  figures: they are counted apart in `Report.unverified` until IT has reviewed the kiosk (`kiosk-server device
  review`, sync.server.devices.review). A rating of such a kiosk counts again when it was received at or before
  that review (everything the server held when IT looked); anything received later waits for the next review.
- Ratings whose time cannot be trusted (the kiosk's clock was off in a way the server could not work out:
  sync.server.devices.clock) count in no period; `Report.untimed` shows those received in the period.
- levels[i] is the count at level i+1 (levels[0] = "Rất không hài lòng" … levels[4] = "Rất hài lòng").
- satisfaction_index = (count at 4 + count at 5) / ratings; dissatisfied_share = (count at 1 + 2) / ratings;
  both None when ratings == 0 (an empty period shows "–", never 0 % or 100 %).
- An element (kiosk.domain.levels SCALE_KEYS: access, procedure, officer, result, feedback) has `answered`
  (ratings whose answer is not NULL) and `index` = answers at 4 or 5 / answered (None when 0).
- harassment_reports = ratings whose harassment answer (kiosk.domain.levels HARASSMENT_KEY) is yes.
- A group is flagged when dissatisfied_share > flag_share (settings [reports], default 0.25) AND ratings >=
  flag_min_ratings (default 30); the page shows the threshold next to the flag. A group under the minimum shows
  "chưa đủ số lượt đánh giá / too few ratings" instead of a flag.
- Group keys are unique within a report: with no agency chosen, counter and officer keys are "AGENCY/CODE".
  A rating without an officer or procedure forms a group with key "" and a label saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from kiosk.domain.levels import SCALE_KEYS
from sync.server.results.periods import Period

GROUPINGS = ("agency", "counter", "officer", "procedure", "field", "channel")
OTHER_FIELD = "Khác / Other"
NO_OFFICER = "(không ghi cán bộ) / (no officer recorded)"
NO_PROCEDURE = "(không ghi thủ tục) / (no procedure recorded)"
TOO_FEW_VI, TOO_FEW_EN = "chưa đủ số lượt đánh giá", "too few ratings"


@dataclass(frozen=True)
class Element:
    """One follow-up element's figures."""

    answered: int
    index: float | None
    satisfied: int = 0   # answers at 4 or 5 (what `index` divides by `answered`)

    @classmethod
    def of(cls, answered: int, satisfied: int) -> Element:
        """The element's figures from its two counts."""
        return cls(answered, satisfied / answered if answered else None, satisfied)


@dataclass(frozen=True)
class Figures:
    """The numbers of one group (or the total) in one period."""

    ratings: int
    levels: tuple[int, int, int, int, int]
    elements: dict[str, Element]
    harassment_reports: int

    @property
    def satisfaction_index(self) -> float | None:
        """Share at 4 or 5."""
        return (self.levels[3] + self.levels[4]) / self.ratings if self.ratings else None

    @property
    def dissatisfied_share(self) -> float | None:
        """Share at 1 or 2."""
        return (self.levels[0] + self.levels[1]) / self.ratings if self.ratings else None

    def share(self, level: int) -> float | None:
        """Share at one level (1–5)."""
        if level not in (1, 2, 3, 4, 5):
            raise ValueError(f"satisfaction level must be 1–5, got {level!r}")
        return self.levels[level - 1] / self.ratings if self.ratings else None

    @classmethod
    def empty(cls) -> Figures:
        """No ratings at all."""
        return cls(0, (0, 0, 0, 0, 0), {key: Element.of(0, 0) for key in SCALE_KEYS}, 0)


def add_figures(parts: Iterable[Figures]) -> Figures:
    """The figures of several disjoint sets of ratings taken together."""
    ratings, harassment = 0, 0
    levels = [0, 0, 0, 0, 0]
    answered = dict.fromkeys(SCALE_KEYS, 0)
    satisfied = dict.fromkeys(SCALE_KEYS, 0)
    for part in parts:
        ratings += part.ratings
        harassment += part.harassment_reports
        for i in range(5):
            levels[i] += part.levels[i]
        for key in SCALE_KEYS:
            answered[key] += part.elements[key].answered
            satisfied[key] += part.elements[key].satisfied
    return Figures(ratings, (levels[0], levels[1], levels[2], levels[3], levels[4]),
                   {key: Element.of(answered[key], satisfied[key]) for key in SCALE_KEYS}, harassment)


@dataclass(frozen=True)
class Row:
    """One group: its key (agency/counter/officer code, procedure code, field name), a label, and figures."""

    key: str
    label: str
    figures: Figures
    previous: Figures          # the same group in the previous period
    flagged: bool
    too_few: bool              # under flag_min_ratings: no flag either way


@dataclass(frozen=True)
class ReportQuery:
    """What to compute."""

    period: Period
    group_by: str                      # one of GROUPINGS
    agency_code: str | None = None     # None: every agency
    counter_code: str | None = None
    include_repeats: bool = False
    channel: str | None = None         # one of kiosk.domain.levels.CHANNEL_KEYS; None: every channel


@dataclass(frozen=True)
class Report:
    """Totals, rows best-to-worst by satisfaction index, and what is shown apart."""

    query: ReportQuery
    total: Figures
    previous_total: Figures
    rows: list[Row]
    flag_share: float
    flag_min_ratings: int
    unverified: Figures                # ratings from devices whose chain is broken or has a gap
    excluded_repeats: int              # suspected repeats left out (0 when included)
    timezone: str = "Asia/Ho_Chi_Minh"  # the zone the period's days were counted in
    agency_name: str = ""              # the chosen agency's name ("" for every agency)
    counter_name: str = ""             # the chosen counter's name ("" for every counter)
    # Ratings received in the period whose time cannot be trusted (the kiosk's clock was off in a way the server
    # could not work out: sync.server.devices.clock): in no period's figures, shown apart here.
    untimed: Figures = field(default_factory=Figures.empty)


@dataclass(frozen=True)
class TrendPoint:
    """One bucket of the trend chart."""

    first: date
    figures: Figures


@dataclass(frozen=True)
class Comment:
    """A citizen's comment for the dashboard, masked unless the citizen asked to be contacted."""

    recorded_at_local: str
    agency: str
    counter: str
    officer: str
    level: int
    text: str                          # phone numbers and e-mail addresses masked unless `callback`
    harassment: bool = False
    callback: bool = False             # the citizen asked to be contacted: the contact is shown as written


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows for one query."""

    report: Report
    trend: list[TrendPoint] = field(default_factory=list)
    harassment: list[Comment] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
