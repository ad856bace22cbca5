"""When a send may go out: quiet hours, send windows and frequency caps.

Quiet hours and windows are [start, end) in the journey's time zone
(precise rule 3); a local time that does not exist (spring forward) moves
forward to the next valid instant.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from journeyflow.model.journey import Limit, QuietHours, SendWindow

__all__ = ["DeliveryRules", "local_instant"]


def local_instant(day: date, clock: time, zone: ZoneInfo) -> float:
    """The instant of wall time ``clock`` on ``day``; inside a DST gap, the end of the gap."""
    early = datetime.combine(day, clock, zone).timestamp()
    late = datetime.combine(day, clock, zone).replace(fold=1).timestamp()
    if early == late:
        return early
    wall = datetime.combine(day, clock)
    if datetime.fromtimestamp(early, zone).replace(tzinfo=None) == wall:
        return min(early, late)  # an ambiguous time (fall back): its first occurrence
    low, high = min(early, late), max(early, late)  # the gap lies between the two readings
    while high - low > 1:
        mid = (low + high) / 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return float(int(high))


MISSING = object()


def _whole_hours(zone: ZoneInfo) -> bool:
    """Whether the zone's UTC offsets (sampled over the years a journey runs) are whole hours."""
    for year in (2020, 2026, 2030):
        for month in (1, 4, 7, 10):
            offset = datetime(year, month, 1, tzinfo=zone).utcoffset()
            if offset is None or offset.total_seconds() % 3600:
                return False
    return True


def _in_range(clock: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end  # wraps midnight, e.g. 22:00 to 08:00


class DeliveryRules:
    """The journey's quiet hours, send window and caps, compiled for fast checks."""

    def __init__(self, zone: str, quiet: QuietHours | None, window: SendWindow | None,
                 limits: tuple[Limit, ...]) -> None:
        self.zone = ZoneInfo(zone)
        self.quiet = quiet
        self.window = window
        self.timed = quiet is not None or window is not None
        self.limits: dict[str, list[tuple[int, float]]] = {}
        for limit in limits:
            self.limits.setdefault(limit.channel, []).append(
                (limit.count, limit.per.total_seconds()))
        self.keep = {ch: max(per for _, per in rules) for ch, rules in self.limits.items()}
        # channel -> the customer slot holding its recent delivery times (set by Program);
        # sends check and log them in generated code (codegen.BodyCompiler._deliver)
        self.slots: dict[str, str] = {}
        clocks = [quiet.start, quiet.end] if quiet else []
        clocks += [window.start, window.end] if window else []
        # When every boundary and every UTC offset of the zone sits on a whole bucket
        # (an hour, else a quarter hour), a bucket is open or closed as a whole, so the
        # answer can be cached per bucket.
        self._bucket = 3600 if all(c.minute == 0 for c in clocks) and _whole_hours(
            self.zone) else 900
        self._bucketed = all(c.minute % 15 == 0 for c in clocks)
        # bucket -> None when open, else the next opening (the same for all of it)
        self.openings: dict[int, float | None] = {}
        # The bucket length when answers are cached per bucket, else None.
        self.bucket = self._bucket if self._bucketed else None

    def next_allowed(self, at: float) -> float:
        """The first instant at or after ``at`` outside quiet hours and inside the window."""
        if not self._bucketed:
            return self._search(at) if self.timed else at
        size = self._bucket
        bucket = int(at // size)
        opening = self.openings.get(bucket, MISSING)
        if opening is MISSING:
            start = bucket * float(size)
            found = self._search(start)
            opening = self.openings[bucket] = None if found == start else found
            # Every whole bucket before the opening is closed until then too: one
            # search per night rather than one per hour of it.
            while (bucket + 2) * size <= found:
                bucket += 1
                self.openings[bucket] = found
        return at if opening is None else opening  # type: ignore[return-value]

    def _search(self, at: float) -> float:
        for _ in range(16):
            moved = self._after_quiet(at)
            moved = self._into_window(moved)
            if moved == at:
                return at
            at = moved
        return at

    def _after_quiet(self, at: float) -> float:
        quiet = self.quiet
        if quiet is None:
            return at
        local = datetime.fromtimestamp(at, self.zone)
        if not _in_range(local.time(), quiet.start, quiet.end):
            return at
        day = local.date()
        if quiet.start > quiet.end and local.time() >= quiet.start:
            day += timedelta(days=1)
        return max(at, local_instant(day, quiet.end, self.zone))

    def _into_window(self, at: float) -> float:
        window = self.window
        if window is None:
            return at
        local = datetime.fromtimestamp(at, self.zone)
        if local.weekday() in window.days and _in_range(local.time(), window.start, window.end):
            return at
        day = local.date()
        for offset in range(8):
            candidate = day + timedelta(days=offset)
            if candidate.weekday() not in window.days:
                continue
            opening = local_instant(candidate, window.start, self.zone)
            if opening > at:
                return opening
        return at
