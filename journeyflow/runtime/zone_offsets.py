"""A time zone as stretches of constant UTC offset.

Inside one stretch the wall clock runs at the pace of UTC, so the wall time of
an instant is the instant plus the offset, and "the next 09:00" is arithmetic.
zoneinfo does not list a zone's transitions, so they are found once per year on
demand: the offset is sampled once a day and each change pinned to its second
by bisection (no zone has changed its offset and back within one day). A year
is also a stretch boundary, so a zone without transitions (UTC, Asia/Kolkata)
costs one sample run per year it is asked about.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

__all__ = ["ZoneOffsets"]

_STEP = 86_400
_FIRST_YEAR, _LAST_YEAR = 2, 9998  # the years datetime can hold, with a margin


@cache
def _year_start(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp())


class ZoneOffsets:
    """The UTC offset of a zone at an instant, and how long it holds."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        # year -> (instants where an offset starts, the offsets); the first is Jan 1 UTC
        self._years: dict[int, tuple[list[int], list[int]]] = {}

    def offset(self, at: float) -> int:
        """The offset in seconds at ``at``.

        >>> ZoneOffsets(ZoneInfo("Europe/Berlin")).offset(1_767_225_600)  # 2026-01-01 UTC
        3600
        """
        return self.stretch(at)[0]

    def stretch(self, at: float) -> tuple[int, float]:
        """The offset at ``at`` and the instant it may change (a transition or a new year).

        >>> berlin = ZoneOffsets(ZoneInfo("Europe/Berlin"))
        >>> berlin.stretch(1_774_000_000)  # 2026-03-20: CET until 2026-03-29 01:00 UTC
        (3600, 1774746000)
        """
        year = datetime.fromtimestamp(min(max(at, _year_start(_FIRST_YEAR)),
                                          _year_start(_LAST_YEAR + 1) - 1), UTC).year
        starts, offsets = self._year(year)
        i = max(bisect_right(starts, at) - 1, 0)
        if i + 1 < len(starts):
            return offsets[i], starts[i + 1]
        if year >= _LAST_YEAR:
            return offsets[i], float("inf")  # beyond the calendar: the last offset holds
        return offsets[i], _year_start(year + 1)

    def _year(self, year: int) -> tuple[list[int], list[int]]:
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = self._transitions(year)
        return found

    def _transitions(self, year: int) -> tuple[list[int], list[int]]:
        begin, end = _year_start(year), _year_start(year + 1)
        starts, offsets = [begin], [self._offset_at(begin)]
        previous = begin
        for sample in [*range(begin + _STEP, end, _STEP), end - 1]:
            now = self._offset_at(sample)
            if now != offsets[-1]:
                starts.append(self._change_within(previous, sample, offsets[-1]))
                offsets.append(now)
            previous = sample
        return starts, offsets

    def _change_within(self, low: int, high: int, before: int) -> int:
        """The first second of (low, high] whose offset is no longer ``before``."""
        while high - low > 1:
            mid = (low + high) // 2
            if self._offset_at(mid) == before:
                low = mid
            else:
                high = mid
        return high

    def _offset_at(self, instant: int) -> int:
        offset = datetime.fromtimestamp(instant, self.zone).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0
