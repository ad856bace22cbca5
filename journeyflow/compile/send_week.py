"""The times of a week at which a send may go out, read on a wall clock.

Quiet hours and a send window describe a set of wall-clock times that repeats
every week, whatever the time zone: a window ``mon-fri 09:00 to 18:00`` minus
quiet hours ``22:00 to 08:00``. This module computes that set once, as
half-open intervals of seconds since Monday 00:00, so that the question "when
does the next send go out" becomes a bisection instead of a search by day.

Both declarations are [start, end). One that ends earlier in the day than it
starts wraps midnight: ``22:00 to 02:00`` is open from 22:00 to 02:00 the next
morning, and the days of a send window name the day it opens, so ``fri 22:00 to
02:00`` is open from Friday 22:00 to Saturday 02:00. A declaration from a time
to the same time is empty (the compile check rejects it).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import time

from journeyflow.model.journey import QuietHours, SendWindow

__all__ = ["DAY", "WEEK", "SendWeek", "quiet_stretches", "window_stretches"]

DAY = 86_400
WEEK = 7 * DAY

Stretch = tuple[int, int]  # [start, end) in seconds since Monday 00:00, end may pass WEEK


def _seconds(clock: time) -> int:
    return clock.hour * 3600 + clock.minute * 60 + clock.second


def _daily(days: Iterable[int], start: time, end: time) -> list[Stretch]:
    """[start, end) on each of ``days`` (0 is Monday); wrapping midnight when end < start."""
    begin, finish = _seconds(start), _seconds(end)
    if begin == finish:
        return []
    length = finish - begin if finish > begin else DAY - begin + finish
    return [(day * DAY + begin, day * DAY + begin + length) for day in sorted(days)]


def window_stretches(window: SendWindow | None) -> list[Stretch]:
    """When the send window is open; no window is open all week."""
    if window is None:
        return [(0, WEEK)]
    return _daily(window.days, window.start, window.end)


def quiet_stretches(quiet: QuietHours | None) -> list[Stretch]:
    """When quiet hours hold sends back, every day of the week."""
    if quiet is None:
        return []
    return _daily(range(7), quiet.start, quiet.end)


def _folded(stretches: Iterable[Stretch]) -> list[Stretch]:
    """The stretches cut at the end of the week and the part past it moved to its start."""
    out: list[Stretch] = []
    for start, end in stretches:
        if end > WEEK:
            out += [(start, WEEK), (0, end - WEEK)]
        else:
            out.append((start, end))
    return out


def _union(stretches: Iterable[Stretch]) -> list[Stretch]:
    """Sorted, disjoint stretches covering the same times; touching ones are joined."""
    out: list[Stretch] = []
    for start, end in sorted(stretches):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif start < end:
            out.append((start, end))
    return out


def _minus(keep: list[Stretch], drop: list[Stretch]) -> list[Stretch]:
    """The times of ``keep`` outside ``drop`` (both sorted and disjoint)."""
    out: list[Stretch] = []
    for start, end in keep:
        for cut_start, cut_end in drop:
            if cut_end <= start or cut_start >= end:
                continue
            if cut_start > start:
                out.append((start, cut_start))
            start = max(start, cut_end)
            if start >= end:
                break
        if start < end:
            out.append((start, end))
    return out


class SendWeek:
    """The open times of a week; the same for every time zone.

    The open stretches are stored over two weeks, so that a stretch running past
    Sunday midnight into Monday is one stretch, and the next opening after any
    time of the first week is always found by one bisection.
    """

    def __init__(self, quiet: QuietHours | None, window: SendWindow | None) -> None:
        week = _minus(_union(_folded(window_stretches(window))),
                      _union(_folded(quiet_stretches(quiet))))
        self.stretches: tuple[Stretch, ...] = tuple(week)
        self.empty = not week
        self.always = week == [(0, WEEK)]
        two = _union([*week, *((s + WEEK, e + WEEK) for s, e in week)])
        self._starts = [s for s, _ in two]
        self._ends = [e for _, e in two]

    def locate(self, position: float) -> tuple[bool, int]:
        """Whether ``position`` (seconds since Monday 00:00, below WEEK) is open, and
        where that changes: the end of its open stretch, else the next opening.

        The answer is a position of the two-week span, so it may exceed WEEK; when the
        week is always open the stretch ends at 2 * WEEK.

        >>> week = SendWeek(None, SendWindow(days=frozenset({0}), start=time(9), end=time(18)))
        >>> week.locate(10 * 3600)
        (True, 64800)
        >>> week.locate(20 * 3600) == (False, WEEK + 9 * 3600)
        True
        """
        i = bisect_right(self._starts, position) - 1
        if i >= 0 and position < self._ends[i]:
            return True, self._ends[i]
        return False, self._starts[i + 1]
