"""When a kiosk's records really happened: each record's own device time, moved by what the server knows of that
device's clock, or held apart when no consistent reading exists.

A kiosk PC's clock can be hours or days off (a flat clock battery after a power cut) or jump mid-day. The signed
record keeps the device's own time, untouched; the server files each rating under its best-known true time:

- The server measures the device's clock whenever it hears from it: every push carries the device's own clock
  when the batch was sent (`PushRequest.device_time`), every health report too. The offset is the server's clock
  minus the device's; network delay makes it a little large, by milliseconds.
- Offsets within the tolerance (the fleet's `clock_drift_flag_s`, 120 s by default) are noise or ordinary drift:
  the device's time is used as it is. A larger offset moves the records by it.
- When the offset measured now differs from the one measured before (by more than the tolerance), the clock
  was changed in between. Records are in the order they were made, so their true times never go back: every
  point in the batch where the change may have happened is tried (records before it moved by the earlier offset,
  records from it by the new one), and those that keep the times in order, after the previous record, not after
  the push arrived and not before EARLIEST, are the possible readings. A record moved the same way in every
  possible reading is placed; one that different readings place differently cannot be trusted.
- With one offset (or none: a device never measured is taken at its word), each record is moved by it and
  trusted only if it keeps those same rules; a record that breaks them (a clock set to 2000 and put right
  before the next push, say) cannot be trusted, and the records after it are judged against the last good one.
  A device measured for the first time with a large offset may have been right until its clock changed: that
  reading (an earlier offset of 0) is taken instead when it places more records.

Records whose time cannot be trusted are stored with their device time and left out of every period; reports
show them apart, by when they were received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# No kiosk of this product rated anything before this: a device time earlier than it is a clock that lost its time.
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Placed:
    """Where one record falls: its best-known true time, the offset applied to its device time, and whether the
    time can be trusted (an untrusted record keeps its device time and counts in no period)."""

    at: datetime
    offset_s: float
    trusted: bool


def offset_of(device_time: datetime, server_time: datetime) -> float:
    """The server's clock minus the device's, in seconds (positive: the device is behind)."""
    return (server_time - device_time).total_seconds()


class _Bounds:
    """The rules a reading of true times keeps: in order (within the tolerance), after EARLIEST, not after the
    push arrived."""

    def __init__(self, received_at: datetime, tolerance_s: float) -> None:
        self.tolerance = timedelta(seconds=tolerance_s)
        self.ceiling = received_at + self.tolerance

    def fits(self, moment: datetime, previous: datetime | None) -> bool:
        """True when `moment` may follow `previous` (None: nothing before it is known)."""
        return EARLIEST <= moment <= self.ceiling and (previous is None or moment >= previous - self.tolerance)


def place(device_times: Sequence[datetime | None], *, received_at: datetime, offset_now: float | None,
          offset_before: float | None, last_at: datetime | None, tolerance_s: float) -> list[Placed]:
    """Each record's placing, in order; a record without a readable time (None) is never trusted."""
    bounds = _Bounds(received_at, tolerance_s)

    def applied(offset: float | None) -> float:
        return offset if offset is not None and abs(offset) > tolerance_s else 0.0

    single = _one_offset(device_times, applied(offset_now if offset_now is not None else offset_before), last_at,
                         bounds)
    if offset_now is None:
        return single
    # A device never measured before is taken at its word until now: its clock may have been right until a change.
    before = 0.0 if offset_before is None else offset_before
    if abs(offset_now - before) <= tolerance_s:
        return single
    changed = _one_change(device_times, applied(before), applied(offset_now), last_at, bounds)
    if changed is None:
        return single
    if offset_before is not None or _trusted(changed) > _trusted(single):
        return changed
    return single


def _trusted(placed: list[Placed]) -> int:
    return sum(1 for p in placed if p.trusted)


def _one_offset(device_times: Sequence[datetime | None], offset: float, last_at: datetime | None,
                bounds: _Bounds) -> list[Placed]:
    """Each record moved by `offset`, trusted while it keeps the rules (judged against the last trusted one)."""
    placed, previous = [], last_at
    for device_time in device_times:
        moment = None if device_time is None else device_time + timedelta(seconds=offset)
        if moment is not None and bounds.fits(moment, previous):
            placed.append(Placed(moment, offset, True))
            previous = moment
        else:
            placed.append(_untrusted(device_time))
    return placed


def _untrusted(device_time: datetime | None) -> Placed:
    return Placed(device_time or EARLIEST, 0.0, False)


def _one_change(device_times: Sequence[datetime | None], before: float, now: float, last_at: datetime | None,
                bounds: _Bounds) -> list[Placed] | None:
    """Placings when the clock changed once since the earlier measurement; None when no point of change gives a
    reading that keeps the rules (the records are then judged one by one).

    A change at k moves the records before k by `before` and the rest by `now`. Whether the records before k keep
    the rules is known walking forward, whether the rest do among themselves walking backward; k is possible when
    both hold and the two parts meet in order: one pass each way, however long the batch.
    """
    readable = [(i, t) for i, t in enumerate(device_times) if t is not None]
    shift_before, shift_now = timedelta(seconds=before), timedelta(seconds=now)
    # head[j]: the last time of the first j readable records moved by `before`, if they keep the rules.
    head: list[tuple[bool, datetime | None]] = [(True, last_at)]
    for _, device_time in readable:
        ok, previous = head[-1]
        moment = device_time + shift_before
        head.append((ok and bounds.fits(moment, previous), moment))
    # tail[j]: whether readable records j… moved by `now` keep the rules among themselves.
    tail = [True] * (len(readable) + 1)
    for j in range(len(readable) - 1, -1, -1):
        moment = readable[j][1] + shift_now
        following = readable[j + 1][1] + shift_now if j + 1 < len(readable) else None
        tail[j] = tail[j + 1] and bounds.fits(moment, None) and (following is None or bounds.fits(following, moment))
    possible = []   # in readable records: the first one moved by `now`
    for j in range(len(readable) + 1):
        ok, previous = head[j]
        if ok and tail[j] and (j == len(readable) or bounds.fits(readable[j][1] + shift_now, previous)):
            possible.append(j)
    if not possible:
        return None
    # A record before the earliest possible change is moved by `before` in every reading, one at or after the latest
    # by `now`; the readings disagree on those between.
    earliest, latest = possible[0], possible[-1]
    placed = [_untrusted(t) for t in device_times]
    for j, (i, device_time) in enumerate(readable):
        if j < earliest or j >= latest:
            offset = before if j < earliest else now
            placed[i] = Placed(device_time + timedelta(seconds=offset), offset, True)
    return placed
