"""When a send may go out in one time zone: the open times of the week on its clock.

An instant is open when the zone's wall clock, at that instant, reads a time of
the :class:`~journeyflow.compile.send_week.SendWeek`. So a wall time that does
not exist (spring forward) is never read, and a send due in it goes out at the
next instant that is open; the hour a clock repeats (fall back) is read twice.

The answer is exact however far the next opening lies: the zone is walked
stretch by stretch of constant UTC offset (:mod:`~journeyflow.runtime.zone_offsets`),
and inside a stretch the next opening is one bisection of the week.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from journeyflow.compile.send_week import DAY, WEEK, SendWeek
from journeyflow.runtime.zone_offsets import ZoneOffsets

__all__ = ["SendSchedule"]

_MONDAY = 3 * DAY  # the epoch fell on a Thursday: wall seconds + this count from a Monday
_FILL = 2 * WEEK  # how far ahead one look-up may fill the bucket cache
_KEEP = 200_000  # buckets cached at most (a long-running engine would otherwise grow)


def _bucket_size(week: SendWeek, zone: ZoneInfo) -> int:
    """The largest of an hour, a quarter hour and a minute that every edge of the week
    and every UTC offset of the zone (sampled over the years a journey runs) is a
    multiple of: buckets of that size are mostly wholly open or wholly closed."""
    edges = {edge for stretch in week.stretches for edge in stretch}
    for year in (2020, 2026, 2030):
        for month in (1, 4, 7, 10):
            offset = datetime(year, month, 1, tzinfo=zone).utcoffset()
            edges.add(int(offset.total_seconds()) if offset is not None else 0)
    return next((size for size in (3600, 900) if all(e % size == 0 for e in edges)), 60)


class SendSchedule:
    """The first open instant at or after any instant, in one zone, cached per bucket.

    ``openings`` maps a bucket (``int(at // bucket)``) that is open or closed as a
    whole to ``None`` (open) or the instant it opens; a bucket with an edge inside
    it is never cached and answered exactly each time. Generated send code reads
    ``openings`` first and calls :meth:`next_allowed` only when a bucket is not
    known to be open.
    """

    def __init__(self, week: SendWeek, zone: ZoneInfo) -> None:
        if week.empty:
            raise ValueError("the send window never opens outside quiet hours")
        self.week = week
        self.zone = zone
        self.offsets = ZoneOffsets(zone)
        self.bucket = _bucket_size(week, zone)
        self.openings: dict[int, float | None] = {}
        self._mixed: set[int] = set()  # buckets with an edge inside: never cached

    def next_allowed(self, at: float) -> float:
        """The first open instant at or after ``at``."""
        bucket = int(at // self.bucket)
        if bucket not in self.openings and (bucket in self._mixed or not self._learn(bucket)):
            return self.first_open(at)
        opening = self.openings[bucket]
        return at if opening is None else opening

    def first_open(self, at: float) -> float:
        """:meth:`next_allowed` without the cache."""
        is_open, change = self.scan(at)
        return at if is_open else change

    def scan(self, at: float) -> tuple[bool, float]:
        """Whether ``at`` is open, and the first instant after it where that changes."""
        instant, first = at, None
        while True:
            offset, until = self.offsets.stretch(instant)
            wall = instant + offset + _MONDAY
            week_start = wall // WEEK * WEEK
            is_open, edge = self.week.locate(wall - week_start)
            if first is None:
                first = is_open
            elif is_open != first:
                return first, instant  # the change came with the new offset
            change = week_start + edge - offset - _MONDAY
            if change < until:
                return first, change
            instant = until  # the offset changes before the week does: read on from there

    def _learn(self, bucket: int) -> bool:
        """Cache ``bucket``, and the whole buckets after it in the same state; False when
        an edge lies inside it."""
        size = self.bucket
        if len(self.openings) + len(self._mixed) > _KEEP:
            self.openings.clear()  # cleared in place: generated code holds its .get
            self._mixed.clear()
        start = bucket * size
        is_open, change = self.scan(start)
        if change < start + size:
            self._mixed.add(bucket)
            return False
        opening = None if is_open else change
        last = int(min(change, start + _FILL) // size)  # buckets before it end by `change`
        for whole in range(bucket, last):
            self.openings[whole] = opening
        return True
