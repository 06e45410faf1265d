"""Satisfaction targets: the index an agency aims for in a year (and optionally per SIPAS element), and whether a
figure met it.

A target is kept as an integer in tenths of a percent (per mille): 83% is 830, 83.5% is 835, so what the office
typed comes back as typed and comparisons are exact. The rule, as the plans word it ("đạt" a target of 83%): a
figure meets its target when it is at least the target, so 83.0% against 83% is met. It is compared in integers,
satisfied × 1000 ≥ target × rated, never in floating point. Every refusal is a ServerError in Vietnamese and
English, and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from kiosk.domain.levels import QUESTIONS, SCALE_KEYS
from sync.server import registry
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import AGENCY, SATISFACTION_TARGET
from sync.server.results.dashboard_query import EARLIEST, LATEST
from sync.server.results.figures import Figures
from sync.server.results.periods import Period

YEAR_MIN, YEAR_MAX = EARLIEST.year, LATEST.year   # the reports' range
PERMILLE_MAX = 1000
SET_BY_MAX = 64
ELEMENT_TITLES = {q.key: (q.title_vi, q.title_en) for q in QUESTIONS}


@dataclass(frozen=True)
class Goal:
    """What an agency aims for in one year: the index target and any element targets, in tenths of a percent."""

    year: int
    index_permille: int
    elements: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready (kept in a publication's snapshot)."""
        return {"year": self.year, "index_permille": self.index_permille,
                "elements": {key: self.elements[key] for key in SCALE_KEYS if key in self.elements}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Goal:
        """A Goal from `as_json`'s shape."""
        return cls(int(data["year"]), int(data["index_permille"]),
                   {str(k): int(v) for k, v in dict(data.get("elements") or {}).items()})


@dataclass(frozen=True)
class Target:
    """A stored target: the agency, its goal, who set it and when."""

    agency_code: str
    agency_name: str
    goal: Goal
    set_by: str
    set_at: datetime

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, the shares also as percent text."""
        data = {"agency": self.agency_code, "agency_name": self.agency_name, **self.goal.as_json(),
                "set_by": self.set_by, "set_at": self.set_at.isoformat()}
        data["index"] = permille_text(self.goal.index_permille, "en")
        data["elements_text"] = {k: permille_text(v, "en") for k, v in data["elements"].items()}
        return data


# ---- words and numbers ------------------------------------------------------------------------------------

def permille_text(permille: int, lang: str = "vi") -> str:
    """A target as people write it: 830 -> '83%', 835 -> '83,5%' (Vietnamese) or '83.5%' (English)."""
    whole, tenth = divmod(permille, 10)
    text = f"{whole}" if tenth == 0 else f"{whole}{',' if lang == 'vi' else '.'}{tenth}"
    return text + "%"


def parse_share(text: str, what_vi: str = "Chỉ tiêu", what_en: str = "the target") -> int:
    """A target as IT types it, in tenths of a percent: '83%', '83,5%', '83.5' (over 1: percent) or '0.835' (a
    share); a ServerError when not a number, finer than 0.1%, or not over 0% and at most 100%."""
    raw = text.strip()
    number = raw.removesuffix("%").strip().replace(",", ".")
    try:
        value = Decimal(number)
    except InvalidOperation:
        value = Decimal("NaN")
    if value.is_finite() and value.adjusted() > 4:   # '1e9999999%' would overflow Decimal's context below
        raise ServerError(f"{what_vi} phải lớn hơn 0% và không quá 100%, nhận được {raw[:40]!r}",
                          f"{what_en} must be over 0% and at most 100%, got {raw[:40]!r}")
    if not value.is_finite():
        raise ServerError(f"{what_vi} {raw[:40]!r} không phải một tỷ lệ (ví dụ 83% hoặc 83,5%)",
                          f"{what_en} {raw[:40]!r} is not a share (e.g. 83% or 83.5%)")
    permille = value * 10 if raw.endswith("%") or value > 1 else value * 1000
    if permille != permille.to_integral_value():
        raise ServerError(f"{what_vi} {raw[:40]!r} chi tiết quá: ghi tới một chữ số thập phân (ví dụ 83,5%)",
                          f"{what_en} {raw[:40]!r} is too fine: give at most one decimal (e.g. 83.5%)")
    return check_permille(int(permille), what_vi, what_en)


def check_permille(permille: int, what_vi: str = "Chỉ tiêu", what_en: str = "the target") -> int:
    """A target over 0% and at most 100%; a ServerError otherwise."""
    if not 0 < permille <= PERMILLE_MAX:
        raise ServerError(f"{what_vi} phải lớn hơn 0% và không quá 100%, nhận được {permille_text(permille)}",
                          f"{what_en} must be over 0% and at most 100%, got {permille_text(permille, 'en')}")
    return permille


def check_year(year: int) -> int:
    """A year from YEAR_MIN to YEAR_MAX; a ServerError otherwise."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ServerError(f"Năm phải từ {YEAR_MIN} đến {YEAR_MAX}, nhận được {year}",
                          f"the year must be from {YEAR_MIN} to {YEAR_MAX}, got {year}")
    return year


def parse_year(text: str) -> int:
    """A year as typed; a ServerError when not a whole number in range."""
    try:
        year = int(text.strip())
    except ValueError:
        raise ServerError(f"Năm {text[:40]!r} không phải một số nguyên (ví dụ 2026)",
                          f"the year {text[:40]!r} is not a whole number (e.g. 2026)") from None
    return check_year(year)


def check_element(key: str) -> str:
    """A SIPAS element key from kiosk.domain.levels; a ServerError naming the ones there are."""
    if key not in SCALE_KEYS:
        raise ServerError(f"Không có yếu tố {key[:40]!r}; chọn một trong: {', '.join(SCALE_KEYS)}",
                          f"no element {key[:40]!r}; choose one of: {', '.join(SCALE_KEYS)}")
    return key


def parse_element(text: str) -> tuple[str, int]:
    """'access=80%' -> ('access', 800); a ServerError for a missing '=', an unknown element or a bad share."""
    key, sep, share = text.partition("=")
    if not sep:
        raise ServerError(f"Chỉ tiêu yếu tố {text[:40]!r} cần dạng YẾU_TỐ=TỶ_LỆ (ví dụ access=80%)",
                          f"the element target {text[:40]!r} needs the form ELEMENT=SHARE (e.g. access=80%)")
    key = check_element(key.strip())
    return key, parse_share(share, f"Chỉ tiêu yếu tố {key}", f"the target for element {key}")


def goal(year: int, index_permille: int, elements: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> Goal:
    """A Goal after checking every part of it (the one place targets are validated)."""
    pairs = list(elements.items()) if isinstance(elements, Mapping) else list(elements)
    checked: dict[str, int] = {}
    for key, permille in pairs:
        check_element(key)
        if key in checked:
            raise ServerError(f"Yếu tố {key} được ghi chỉ tiêu hai lần", f"the element {key} is given twice")
        checked[key] = check_permille(permille, f"Chỉ tiêu yếu tố {key}", f"the target for element {key}")
    return Goal(check_year(year), check_permille(index_permille), checked)


# ---- met or not -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """Whether a figure met its target, in words: code 'met' or 'below', and the sentence in both languages."""

    code: str
    vi: str
    en: str
    target_vi: str
    target_en: str
    gap_vi: str = ""     # points below the target ('2,1'), empty when met
    gap_en: str = ""

    @property
    def met(self) -> bool:
        """True when the figure is at least the target."""
        return self.code == "met"


def verdict(satisfied: int, rated: int, permille: int) -> Verdict | None:
    """Met ('đạt': at least the target) or below it, by how many points (rounded up to 0.1, never 0); None
    with nothing rated."""
    if rated <= 0:
        return None
    target_vi, target_en = permille_text(permille), permille_text(permille, "en")
    short = permille * rated - satisfied * 1000          # tenths of a point × rated
    if short <= 0:
        return Verdict("met", f"Đạt chỉ tiêu {target_vi}", f"Target {target_en} met", target_vi, target_en)
    tenths = -(-short // rated)
    gap_vi, gap_en = permille_text(tenths).removesuffix("%"), permille_text(tenths, "en").removesuffix("%")
    return Verdict("below", f"Chưa đạt chỉ tiêu {target_vi} (thiếu {gap_vi} điểm)",
                   f"Below the {target_en} target by {gap_en} point{'' if tenths == 10 else 's'}", target_vi,
                   target_en, gap_vi, gap_en)


def index_verdict(figures: Figures, target: Goal) -> Verdict | None:
    """The figures' satisfaction index against the goal's index target."""
    return verdict(figures.levels[3] + figures.levels[4], figures.ratings, target.index_permille)


@dataclass(frozen=True)
class ElementTarget:
    """One element's target and verdict, as the elements table writes them."""

    key: str
    text: str
    verdict: Verdict | None


def element_targets(figures: Figures, target: Goal) -> dict[str, ElementTarget]:
    """Each element that has a target: its text and whether the element's index met it."""
    found = {}
    for key in SCALE_KEYS:
        if key in target.elements:
            element = figures.elements.get(key)
            permille = target.elements[key]
            found[key] = ElementTarget(key, permille_text(permille),
                                       verdict(element.satisfied, element.answered, permille) if element else None)
    return found


def year_of(period: Period) -> int | None:
    """The year whose target a period is held to; None for a period spanning two years (no one target)."""
    return period.first.year if period.first.year == period.last.year else None


# ---- storing ----------------------------------------------------------------------------------------------

def _select() -> Any:
    return (select(SATISFACTION_TARGET, AGENCY.c.code.label("agency_code"), AGENCY.c.name.label("agency_name"))
            .select_from(SATISFACTION_TARGET.join(AGENCY, AGENCY.c.id == SATISFACTION_TARGET.c.agency_id)))


def _from_row(row: Any) -> Target:
    elements = {str(k): int(v) for k, v in json.loads(row.elements).items()}
    return Target(row.agency_code, row.agency_name, Goal(int(row.year), int(row.index_permille), elements),
                  row.set_by, row.set_at)


def set_target(engine: Engine, agency_code: str, wanted: Goal, set_by: str = "") -> Target:
    """Set (or replace) the agency's target for the goal's year; a ServerError for an unknown agency."""
    checked = goal(wanted.year, wanted.index_permille, wanted.elements)
    who = " ".join(set_by.split())
    if len(who) > SET_BY_MAX:
        raise ServerError(f"Tên người đặt chỉ tiêu dài quá {SET_BY_MAX} ký tự",
                          f"the name of who set the target is longer than {SET_BY_MAX} characters")
    with writing(engine) as conn:
        # Locked: two people setting the same year at once would both delete, then both insert (PostgreSQL).
        owner = registry.agency(conn, agency_code, lock=True)
        conn.execute(delete(SATISFACTION_TARGET).where(SATISFACTION_TARGET.c.agency_id == owner.id,
                                                       SATISFACTION_TARGET.c.year == checked.year))
        conn.execute(insert(SATISFACTION_TARGET).values(
            agency_id=owner.id, year=checked.year, index_permille=checked.index_permille,
            elements=json.dumps(checked.as_json()["elements"]), set_by=who, set_at=utc_now()))
        return _from_row(conn.execute(_select().where(SATISFACTION_TARGET.c.agency_id == owner.id,
                                                      SATISFACTION_TARGET.c.year == checked.year)).one())


def list_targets(engine: Engine, agency_code: str | None = None) -> list[Target]:
    """The targets by agency and year (one agency's when told; a ServerError for an unknown one)."""
    with reading(engine) as conn:
        query = _select().order_by(AGENCY.c.code, SATISFACTION_TARGET.c.year)
        if agency_code is not None:
            query = query.where(SATISFACTION_TARGET.c.agency_id == registry.agency(conn, agency_code).id)
        return [_from_row(row) for row in conn.execute(query).all()]


def remove_target(engine: Engine, agency_code: str, year: int) -> Target:
    """Remove the agency's target for a year; a ServerError when there is none."""
    check_year(year)
    with writing(engine) as conn:
        owner = registry.agency(conn, agency_code)
        where = (SATISFACTION_TARGET.c.agency_id == owner.id, SATISFACTION_TARGET.c.year == year)
        row = conn.execute(_select().where(*where)).first()
        if row is None:
            raise ServerError(f"{owner.name} ({owner.code}) chưa có chỉ tiêu năm {year}; xem «kiosk-server target "
                              "list»", f"{owner.name} ({owner.code}) has no target for {year}; see "
                              "'kiosk-server target list'")
        conn.execute(delete(SATISFACTION_TARGET).where(*where))
        return _from_row(row)


def goals_on(conn: Connection, year: int | None, agency_code: str | None = None) -> dict[str, Goal]:
    """The goals of `year` by agency code (one agency's when told); empty for no year."""
    if year is None:
        return {}
    query = _select().where(SATISFACTION_TARGET.c.year == year)
    if agency_code is not None:
        query = query.where(AGENCY.c.code == agency_code)
    return {row.agency_code: _from_row(row).goal for row in conn.execute(query).all()}


# ---- what a page shows --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Headline:
    """A goal held against a report's total, as the headline and the elements table write it."""

    goal: Goal
    verdict: Verdict | None          # None: nothing rated yet
    elements: list[ElementTarget | None]   # in SCALE_KEYS order; None where the element has no target

    @property
    def text_vi(self) -> str:
        """'Chỉ tiêu năm 2026: 83%'."""
        return f"Chỉ tiêu năm {self.goal.year}: {permille_text(self.goal.index_permille)}"

    @property
    def text_en(self) -> str:
        """'2026 target: 83%'."""
        return f"{self.goal.year} target: {permille_text(self.goal.index_permille, 'en')}"

    @property
    def share(self) -> float:
        """The index target as a share, for drawing."""
        return self.goal.index_permille / 1000

    @property
    def has_elements(self) -> bool:
        """True when any element has a target."""
        return any(self.elements)


def headline(figures: Figures, target: Goal | None) -> Headline | None:
    """The goal against the figures; None without a goal."""
    if target is None:
        return None
    by_key = element_targets(figures, target)
    return Headline(target, index_verdict(figures, target), [by_key.get(key) for key in SCALE_KEYS])


def goal_for(engine: Engine, agency_code: str, period: Period) -> Goal | None:
    """The agency's goal for the period's year (None: none set, or a period spanning two years)."""
    with reading(engine) as conn:
        return goals_on(conn, year_of(period), agency_code).get(agency_code)
