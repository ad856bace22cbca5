"""A minute-by-minute oracle for quiet hours and send windows, and strategies for them.

The oracle reads each instant on the zone's wall clock with zoneinfo and tests the
declarations as a marketer reads them; it shares no code with the runtime.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from journeyflow.model.journey import QuietHours, SendWindow

ZONES = ["Europe/Berlin", "America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kathmandu",
         "UTC"]


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _daily(clock: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def is_open(at: float, zone: ZoneInfo, quiet: QuietHours | None,
            window: SendWindow | None) -> bool:
    """Whether a send at ``at`` goes out at once."""
    local = datetime.fromtimestamp(at, zone)
    clock, day = local.time().replace(microsecond=0), local.weekday()
    if quiet is not None and _daily(clock, quiet.start, quiet.end):
        return False
    if window is None:
        return True
    if window.start < window.end:
        return day in window.days and window.start <= clock < window.end
    if window.start == window.end:
        return False
    # A window that wraps midnight belongs to the day it opens on.
    return (day in window.days and clock >= window.start) or \
        ((day - 1) % 7 in window.days and clock < window.end)


def first_open(at: float, zone: ZoneInfo, quiet: QuietHours | None,
               window: SendWindow | None, days: int = 16) -> float | None:
    """The first open instant at or after ``at``, trying each whole minute for ``days``.

    Every edge (a declared time minus a UTC offset, or a transition) falls on a whole
    minute in the years tested, so nothing between two minutes can open.
    """
    if is_open(at, zone, quiet, window):
        return at
    minute = math.floor(at / 60) * 60 + 60
    for step in range(days * 24 * 60):
        if is_open(minute + 60 * step, zone, quiet, window):
            return minute + 60 * step
    return None


quarter_clocks = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
any_clocks = st.builds(time, st.integers(0, 23), st.integers(0, 59))
clocks = st.one_of(quarter_clocks, any_clocks)
quiet_hours = st.one_of(st.none(), st.builds(QuietHours, start=clocks, end=clocks))
send_windows = st.one_of(st.none(), st.builds(
    SendWindow, days=st.frozensets(st.integers(0, 6), min_size=1), start=clocks, end=clocks))

# Instants in 2025 and 2026, half of them in the weeks around the DST changes of the
# zones tested (March to mid-April and late September to mid-November).
_SPRING = (int(utc("2026-03-01T00:00:00")), int(utc("2026-04-15T00:00:00")))
_AUTUMN = (int(utc("2025-09-25T00:00:00")), int(utc("2025-11-15T00:00:00")))
_YEARS = (int(utc("2025-01-01T00:00:00")), int(utc("2027-01-01T00:00:00")))
instants = st.builds(
    lambda second, fraction: second + fraction,
    st.one_of(st.integers(*_SPRING), st.integers(*_AUTUMN), st.integers(*_YEARS)),
    st.sampled_from([0.0, 0.0, 0.25]))
