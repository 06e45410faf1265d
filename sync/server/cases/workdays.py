"""Working days: Monday to Friday, minus the holidays, plus make-up working days (all in the report time zone)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from sync.server.settings import ServerSettings


def is_working(day: date, holidays: Collection[date] = (), working_days: Collection[date] = ()) -> bool:
    """True when `day` is a working day: a weekday that is not a holiday, or a make-up working day."""
    if day in working_days:
        return True
    return day.weekday() < 5 and day not in holidays


def due_date(received: date, days: int, holidays: Collection[date] = (),
             working_days: Collection[date] = ()) -> date:
    """The `days`-th working day after the day a case was received (the received day itself does not count)."""
    day, left = received, max(days, 0)
    while left:
        day += timedelta(days=1)
        if is_working(day, holidays, working_days):
            left -= 1
    return day


def working_days_between(first: date, last: date, holidays: Collection[date] = (),
                         working_days: Collection[date] = ()) -> int:
    """Working days after `first` up to and including `last` (0 when answered the day it came, or earlier)."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        if is_working(day, holidays, working_days):
            count += 1
    return count


def calendar(settings: ServerSettings) -> tuple[frozenset[date], frozenset[date]]:
    """The holidays and make-up working days of [cases], as dates (checked when the settings were read)."""
    return (frozenset(date.fromisoformat(text) for text in settings.cases.holidays),
            frozenset(date.fromisoformat(text) for text in settings.cases.working_days))


def due_for(settings: ServerSettings, received: date) -> date:
    """The due date of a case received on `received`, by the settings' [cases]."""
    holidays, working = calendar(settings)
    return due_date(received, settings.cases.answer_within_days, holidays, working)
