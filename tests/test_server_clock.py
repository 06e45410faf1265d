"""A kiosk whose clock is wrong: its ratings are filed under their best-known true time, or held apart when no
consistent reading exists. The placing rules alone, then real kiosks and the real agent against the real server on
SQLite and PostgreSQL: 3 hours ahead, 2 days behind, a clock that jumps back to 2000 mid-day (and one put right
before the push)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kiosk.ratings import RatingLog
from sync.agent.enroll import enroll
from sync.server.devices.clock import EARLIEST, Placed, place
from sync.server.models import AGENCY, RATING
from sync.server.results import reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.settings import ServerSettings
from tests.sync_harness import ServerHandle
from tests.test_sync_agent_support import FAST, Kiosk, kiosk

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SETTINGS = ServerSettings()
HOUR = timedelta(hours=1)
Y2K = datetime(2000, 1, 1, tzinfo=UTC)


def at(hours: float, *, day: int = 3) -> datetime:
    """A moment on 3 December 2026 (UTC), hours after midnight."""
    return datetime(2026, 12, day, tzinfo=UTC) + timedelta(hours=hours)


NOON = at(12)


def placed(times: list[datetime | None], *, received: datetime = NOON, now: float | None,
           before: float | None, last: datetime | None = None) -> list[Placed]:
    return place(times, received_at=received, offset_now=now, offset_before=before, last_at=last,
                 tolerance_s=120)


# ---- the placing rules ------------------------------------------------------------------------------------------

def test_a_clock_within_the_tolerance_is_taken_as_it_is() -> None:
    times = [at(1), at(2), at(3)]
    assert placed(times, now=45.0, before=-30.0) == [Placed(t, 0.0, True) for t in times]


@pytest.mark.parametrize("offset", [-3 * 3600.0, 2 * 86400.0])
def test_a_clock_off_by_the_same_amount_moves_every_record(offset: float) -> None:
    true_times = [at(1), at(2), at(3)]
    device = [t - timedelta(seconds=offset) for t in true_times]
    for before in (offset, None):   # measured before, or for the first time now
        assert placed(device, now=offset, before=before) == [Placed(t, offset, True) for t in true_times]


def test_a_jump_back_to_2000_mid_day_is_found_where_it_happened() -> None:
    morning = [at(2), at(3)]                                  # the clock was right
    afternoon = [Y2K + timedelta(minutes=30), Y2K + HOUR]     # set back to 2000 at 04:00
    jump = (at(4) - Y2K).total_seconds()
    for before in (0.5, None):
        result = placed([*morning, *afternoon], now=jump, before=before)
        assert [p.at for p in result] == [at(2), at(3), at(4.5), at(5)]
        assert all(p.trusted for p in result) and [p.offset_s for p in result] == [0.0, 0.0, jump, jump]


def test_a_clock_put_right_forward_finds_the_gap_it_left() -> None:
    offset = 2 * 86400.0                                       # two days behind, then put right at 06:00
    device = [at(2) - timedelta(seconds=offset), at(4) - timedelta(seconds=offset), at(7), at(8)]
    # The device pushed before (its offset was measured then): its last record was placed at 00:30.
    result = placed(device, now=0.0, before=offset, last=at(0.5))
    assert [p.at for p in result] == [at(2), at(4), at(7), at(8)] and all(p.trusted for p in result)


def test_records_the_readings_disagree_on_cannot_be_trusted() -> None:
    # Put right forward by 2 hours, with a 3-hour pause: the change fits before or after the middle record.
    offset = 2 * 3600.0
    device = [at(1) - timedelta(seconds=offset), at(4) - timedelta(seconds=offset), at(7) - timedelta(seconds=offset),
              at(11)]
    result = placed(device, now=0.0, before=offset, last=at(0.5))
    assert [p.trusted for p in result] == [True, False, False, True]
    assert result[0].at == at(1) and result[3].at == at(11)


def test_a_clock_set_to_2000_and_put_right_before_the_push_holds_those_records_apart() -> None:
    device = [at(1), Y2K, Y2K + timedelta(minutes=5), at(5)]
    result = placed(device, now=0.2, before=0.1)
    assert [p.trusted for p in result] == [True, False, False, True]
    assert result[1] == Placed(Y2K, 0.0, False)   # kept with its own time, counted nowhere


def test_times_in_the_future_before_2020_or_going_back_are_not_trusted() -> None:
    device = [at(13), datetime(2099, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC), at(2), at(1), None]
    result = placed(device, now=None, before=None, last=at(0.5))
    assert [p.trusted for p in result] == [False, False, False, True, False, False]
    assert datetime(2020, 1, 1, tzinfo=UTC) == EARLIEST


def test_a_long_batch_with_a_clock_change_is_placed_in_one_pass_each_way() -> None:
    device = [Y2K + timedelta(seconds=i) for i in range(1000)]
    result = placed(device, received=at(12), now=(at(11) - Y2K).total_seconds(), before=0.0)
    assert all(p.trusted for p in result) and result[-1].at == at(11) + timedelta(seconds=999)


# ---- real kiosks, the real agent, the real server ---------------------------------------------------------------

def yesterday() -> date:
    """Yesterday in Vietnam: every moment of it is already past, whatever the hour the test runs."""
    return datetime.now(VN).date() - timedelta(days=1)


def local(day: date, hours: float) -> datetime:
    """A Vietnam local time on `day`, as an aware UTC moment."""
    return (datetime.combine(day, datetime.min.time(), VN) + timedelta(hours=hours)).astimezone(UTC)


@pytest.fixture
def device(module_server: ServerHandle, tmp_path: Path) -> Iterator[tuple[Kiosk, str]]:
    """A kiosk enrolled at an agency of its own, so a report shows its ratings only."""
    with kiosk(tmp_path / "kiosk") as made:
        agency = f"CK{uuid.uuid4().hex[:8]}"
        registered = module_server.add_device(agency)
        enroll(made.services, module_server.url, registered["code"], tuning=FAST)
        yield made, agency


def rate_at(made: Kiosk, moments: list[datetime]) -> None:
    """Ratings whose device times are `moments`, written by the kiosk's real rating log."""
    queue = iter(moments)
    log = RatingLog(made.services.database, made.services.key, repeat_window_s=0, clock=lambda: next(queue))
    for level, _ in enumerate(moments, 1):
        log.record_rating(1 + level % 5, counter_id="Q01", officer_id=None, language="vi")
    log.close()


def sync(made: Kiosk, device_clock: Callable[[], float]) -> None:
    """One pass of the real agent with the kiosk's own (wrong) clock."""
    result = made.sync(tuning=dataclasses.replace(FAST, clock=device_clock))
    assert result.ok, [e.en for e in result.errors]


def day_count(server: ServerHandle, agency: str, day: date) -> tuple[int, int]:
    """The agency's ratings counted on `day`, and those received that day whose time is unknown."""
    report = reports.build(server.engine(), ReportQuery(Period.of("day", day), "agency", agency), SETTINGS)
    return report.total.ratings, report.untimed.ratings


def placed_on_server(server: ServerHandle, agency: str) -> list[tuple[datetime, bool]]:
    """(placed time, trusted) of the agency's ratings on the server, in the kiosk's order."""
    with server.engine().connect() as conn:
        rows = conn.execute(select(RATING.c.recorded_at, RATING.c.time_trusted)
                            .select_from(RATING.join(AGENCY, AGENCY.c.id == RATING.c.agency_id))
                            .where(AGENCY.c.code == agency).order_by(RATING.c.seq)).all()
    return [(row.recorded_at, bool(row.time_trusted)) for row in rows]


def close_to(found: list[tuple[datetime, bool]], expected: list[datetime]) -> bool:
    """Placed within two seconds of the true times (the offset is measured over the network), all trusted."""
    return len(found) == len(expected) and all(
        trusted and abs((when - truth).total_seconds()) < 2 for (when, trusted), truth in zip(found, expected,
                                                                                              strict=True))


def test_a_kiosk_three_hours_ahead(module_server: ServerHandle, device: tuple[Kiosk, str]) -> None:
    made, agency = device
    day = yesterday()
    truth = [local(day, 22), local(day, 23)]          # late yesterday: the kiosk's clock said 01:00 and 02:00 today
    rate_at(made, [t + 3 * HOUR for t in truth])
    sync(made, lambda: time.time() + 3 * 3600)
    assert close_to(placed_on_server(module_server, agency), truth)
    assert day_count(module_server, agency, day) == (2, 0)
    assert day_count(module_server, agency, day + timedelta(days=1))[0] == 0


def test_a_kiosk_two_days_behind(module_server: ServerHandle, device: tuple[Kiosk, str]) -> None:
    made, agency = device
    day = yesterday()
    truth = [local(day, 12), local(day, 12.5)]
    rate_at(made, [t - timedelta(days=2) for t in truth])
    sync(made, lambda: time.time() - 2 * 86400)       # signs with the server's time once told (clock_skew)
    assert close_to(placed_on_server(module_server, agency), truth)
    assert day_count(module_server, agency, day) == (2, 0)
    assert day_count(module_server, agency, day - timedelta(days=2))[0] == 0


def test_a_kiosk_whose_clock_jumps_back_to_2000_mid_day(module_server: ServerHandle,
                                                        device: tuple[Kiosk, str]) -> None:
    made, agency = device
    day = yesterday()
    sync(made, time.time)                             # the clock is right: the server measures it so
    morning = [local(day, 9), local(day, 10)]
    jump = local(day, 12)                             # at noon the clock falls back to 2000-01-01 00:00
    afternoon = [local(day, 12.5), local(day, 13)]
    rate_at(made, [*morning, *(Y2K + (t - jump) for t in afternoon)])
    sync(made, lambda: Y2K.timestamp() + (time.time() - jump.timestamp()))
    assert close_to(placed_on_server(module_server, agency), [*morning, *afternoon])
    assert day_count(module_server, agency, day) == (4, 0)


def test_a_clock_set_to_2000_and_put_right_before_the_push(module_server: ServerHandle,
                                                           device: tuple[Kiosk, str]) -> None:
    made, agency = device
    day = yesterday()
    sync(made, time.time)
    rate_at(made, [local(day, 9), Y2K + timedelta(minutes=10), local(day, 14)])
    sync(made, time.time)
    found = placed_on_server(module_server, agency)
    assert [trusted for _, trusted in found] == [True, False, True]
    assert found[1][0] == Y2K + timedelta(minutes=10)   # kept with the device's own time
    assert day_count(module_server, agency, day)[0] == 2
    today = datetime.now(VN).date()
    # Shown apart where it was received (today, or yesterday if the test ran across midnight), in no period.
    assert day_count(module_server, agency, today)[1] + day_count(module_server, agency, day)[1] == 1
    assert day_count(module_server, agency, date(2000, 1, 1)) == (0, 0)
