"""Instants as float seconds since the epoch (UTC), and their ISO 8601 text."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["EARLIEST", "LATEST", "format_instant", "in_range", "instant_of", "parse_instant",
           "to_datetime", "zone_info"]

# Instants an event may carry: 1000-01-01 to 9000-01-01 UTC. Far wider than any real
# event, yet far enough from datetime's limits (years 1 and 9999) that a time zone
# or a timer added to it can always be formatted.
EARLIEST = -30_610_224_000.0
LATEST = 221_845_392_000.0


def in_range(instant: float) -> bool:
    """Whether ``instant`` is a finite time between :data:`EARLIEST` and :data:`LATEST`.

    >>> in_range(1767607200.0), in_range(1e20), in_range(float("nan"))
    (True, False, False)
    """
    return EARLIEST <= instant < LATEST


def parse_instant(text: str, zone: str = "UTC") -> float:
    """An ISO 8601 date or date-time as epoch seconds.

    A date alone is midnight and a time without offset is local time, both in
    ``zone`` (the journey's time zone), as a marketer writing them means.

    >>> parse_instant("2026-01-05T10:00:00Z")
    1767607200.0
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(zone))
    return value.timestamp()


def instant_of(value: datetime, zone: str = "UTC") -> float:
    """A ``datetime`` as epoch seconds; without offset it is local time in ``zone``."""
    return (value if value.tzinfo else value.replace(tzinfo=_zone(zone))).timestamp()


def parse_date_value(value: object, zone: str) -> float:
    if isinstance(value, datetime):
        return instant_of(value, zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), _zone(zone)).timestamp()
    if isinstance(value, str):
        return parse_instant(value, zone)
    raise ValueError(f"not a date: {value!r}")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_info(name: str) -> ZoneInfo:
    """The time zone of a journey (cached: each look-up reads the zone database)."""
    return _zone(name)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(instant: float) -> datetime:
    return _EPOCH + timedelta(seconds=instant)


def format_instant(instant: float) -> str:
    """``2026-01-05T10:00:00Z``; fractions of a second only when there are some.

    Formatted from a cached date and clock texts rather than strftime: a bonus
    expiry or a deferred send is a new instant each time (in a simulation, a
    random one), and strftime would cost more than the step that made it. The
    microseconds are rounded half to even, as ``datetime`` rounds them.

    >>> format_instant(1767607200.0), format_instant(1767607200.25)
    ('2026-01-05T10:00:00Z', '2026-01-05T10:00:00.250000Z')
    >>> format_instant(1767607200.9999996)
    '2026-01-05T10:00:01Z'
    """
    whole = _floor(instant)
    micro = round((instant - whole) * 1e6)  # exact: instant - whole loses no bits
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    day, seconds = divmod(whole, 86400)
    minute, second = divmod(seconds, 60)
    if micro:
        return f"{_date_prefix(day)}{_MINUTES[minute]}{_SECONDS[second]}.{micro:06d}Z"
    return f"{_date_prefix(day)}{_MINUTES[minute]}{_SECONDS[second]}Z"


_floor = math.floor
_MINUTES = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]  # by minute of day
_SECONDS = [f"{s:02d}" for s in range(60)]


@lru_cache(maxsize=4096)
def _date_prefix(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT")
