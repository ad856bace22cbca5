"""The open times of a week: send window minus quiet hours, on the wall clock."""

from __future__ import annotations

from datetime import time

from journeyflow.compile.send_week import DAY, WEEK, SendWeek
from journeyflow.model.journey import QuietHours, SendWindow

H = 3600
MON, FRI, SUN = 0, 4, 6


def window(days: set[int], start: time, end: time) -> SendWindow:
    return SendWindow(days=frozenset(days), start=start, end=end)


def test_quiet_hours_alone_leave_the_days_open() -> None:
    week = SendWeek(QuietHours(start=time(22), end=time(8)), None)
    assert week.stretches[:2] == ((0 * DAY + 8 * H, 0 * DAY + 22 * H),
                                  (1 * DAY + 8 * H, 1 * DAY + 22 * H))
    assert len(week.stretches) == 7
    assert not week.empty
    assert not week.always


def test_quiet_hours_cut_a_window_in_two() -> None:
    week = SendWeek(QuietHours(start=time(12), end=time(13)),
                    window({MON}, time(9), time(17)))
    assert week.stretches == ((9 * H, 12 * H), (13 * H, 17 * H))


def test_a_window_over_sunday_midnight_runs_into_monday() -> None:
    week = SendWeek(None, window({SUN}, time(22), time(2)))
    assert week.stretches == ((0, 2 * H), (SUN * DAY + 22 * H, WEEK))
    assert week.locate(SUN * DAY + 23 * H) == (True, WEEK + 2 * H)  # one stretch


def test_empty_and_full_weeks() -> None:
    assert SendWeek(None, window({FRI}, time(0), time(0))).empty
    assert SendWeek(QuietHours(start=time(21), end=time(9)),
                    window({MON, FRI}, time(22), time(8, 59))).empty
    assert SendWeek(None, None).always
    assert SendWeek(QuietHours(start=time(3), end=time(3)), None).always  # empty quiet hours
