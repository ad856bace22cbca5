"""Each customer's time zone, and the local-time arithmetic done in it.

With ``timezone customer.tz or "Europe/Berlin"`` a customer whose ``tz`` holds a
valid IANA zone has quiet hours, send windows, ``next(...)`` and yearly dates
in that zone; anyone else has the fallback. A bad zone is not a rejection: the
fallback is used and the (customer, value) pair is counted once as a warning.
Journeys with one zone never build this object.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Collection
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from journeyflow.runtime.send_schedule import SendSchedule
    from journeyflow.runtime.state import Customer

__all__ = ["CustomerZones", "anniversary", "local_instant", "next_time", "zone_named"]

ALL_DAYS = frozenset(range(7))


def local_instant(day: date, clock: time, zone: ZoneInfo) -> float:
    """The instant of wall time ``clock`` on ``day`` in ``zone``: inside a gap (spring
    forward), the end of the gap; an ambiguous time (fall back), its first occurrence.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> at = local_instant(date(2026, 3, 29), time(2, 30), berlin)
    >>> datetime.fromtimestamp(at, berlin).isoformat()
    '2026-03-29T03:00:00+02:00'
    """
    early = datetime.combine(day, clock, zone).timestamp()
    late = datetime.combine(day, clock, zone).replace(fold=1).timestamp()
    if early == late:
        return early
    wall = datetime.combine(day, clock)
    if datetime.fromtimestamp(early, zone).replace(tzinfo=None) == wall:
        return min(early, late)
    low, high = min(early, late), max(early, late)  # the gap lies between the two readings
    while high - low > 1:
        mid = (low + high) / 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return float(int(high))


def zone_named(name: object) -> ZoneInfo | None:
    """The zone of an IANA name, or None for anything else (null, "", "Mars/Base")."""
    if not isinstance(name, str) or not name or name != name.strip():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def next_time(now: float, clock: time, days: Collection[int], zone: ZoneInfo) -> float:
    """The first instant strictly after ``now`` at wall time ``clock`` in ``zone``, on
    one of ``days`` (0 is Monday); a wall time that does not exist moves forward.

    >>> utc = ZoneInfo("UTC")
    >>> monday_10 = datetime(2026, 1, 5, 10, tzinfo=utc).timestamp()
    >>> next_time(monday_10, time(9), frozenset(range(7)), utc) - monday_10
    82800.0
    >>> next_time(monday_10, time(9), frozenset({5}), utc) - monday_10  # Saturday 09:00
    428400.0
    """
    day = datetime.fromtimestamp(now, zone).date()
    for offset in range(8):
        candidate = day + timedelta(days=offset)
        if candidate.weekday() not in days:
            continue
        at = local_instant(candidate, clock, zone)
        if at > now:
            return at
    return local_instant(day + timedelta(days=8), clock, zone)  # unreachable with a day set


def anniversary(value: float, after: float, written: ZoneInfo, zone: ZoneInfo) -> float:
    """The first anniversary at or after ``after`` of the wall time ``value`` had in
    ``written`` (the zone it was read in), at that wall time in ``zone``; 29 February
    falls on 28 February in other years.

    >>> utc = ZoneInfo("UTC")
    >>> born = datetime(1990, 2, 28, 9, tzinfo=utc).timestamp()
    >>> now = datetime(2026, 3, 1, tzinfo=utc).timestamp()
    >>> datetime.fromtimestamp(anniversary(born, now, utc, utc), utc).isoformat()
    '2027-02-28T09:00:00+00:00'
    """
    wall = datetime.fromtimestamp(value, written)
    year = datetime.fromtimestamp(after, zone).year
    while True:
        day = min(wall.day, calendar.monthrange(year, wall.month)[1])
        at = local_instant(date(year, wall.month, day), wall.time(), zone)
        if at >= after:
            return at
        year += 1


class CustomerZones:
    """Finds each customer's zone from an attribute slot; caches zones and their rules."""

    def __init__(self, fallback: str, slot: str | None,
                 schedule: Callable[[str], SendSchedule]) -> None:
        self.fallback_name = fallback
        self.fallback = ZoneInfo(fallback)
        self.slot = slot
        self._zones: dict[Any, ZoneInfo | None] = {}
        self._schedule = schedule  # a zone's send schedule, made once per zone
        self.invalid: set[tuple[str, str]] = set()  # (customer, value) counted as warnings

    def of(self, c: Customer) -> ZoneInfo:
        """The customer's zone (the fallback when the attribute is null or not a zone)."""
        if self.slot is None:
            return self.fallback
        value = getattr(c, self.slot)
        try:
            zone = self._zones[value]
        except KeyError:
            zone = self._zones[value] = zone_named(value)
        except TypeError:  # an unhashable value, e.g. a list
            zone = None
        if zone is None:
            if value is not None:
                self.invalid.add((c.id, repr(value)))
            return self.fallback
        return zone

    def next_allowed(self, c: Customer, at: float) -> float:
        """The first instant at or after ``at`` quiet hours and the send window allow, on
        the customer's clock."""
        return self._schedule(self.of(c).key).next_allowed(at)

    def next_time(self, c: Customer, now: float, hour: int, minute: int,
                  days: Collection[int]) -> float:
        return next_time(now, time(hour, minute), days, self.of(c))

    def anniversary(self, c: Customer, value: float, after: float) -> float:
        # A date of the customer's was read in their zone (see ``localdates``): its wall
        # time there repeats every year there.
        zone = self.of(c)
        return anniversary(value, after, zone, zone)

    @property
    def warnings(self) -> int:
        return len(self.invalid)
