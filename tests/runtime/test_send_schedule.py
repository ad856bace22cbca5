"""Deferred sends go out at the exact first open instant, checked against a brute force."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from journeyflow.compile.send_week import SendWeek
from journeyflow.model.journey import QuietHours, SendWindow
from journeyflow.runtime.send_schedule import SendSchedule
from tests.runtime.sendtimes import ZONES, first_open, instants, quiet_hours, send_windows, utc

FRI, SAT, SUN = 4, 5, 6


def schedule(zone: str, quiet: QuietHours | None, window: SendWindow | None) -> SendSchedule:
    return SendSchedule(SendWeek(quiet, window), ZoneInfo(zone))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), quiet_hours, send_windows, instants)
def test_next_allowed_is_the_first_open_minute(zone: str, quiet: QuietHours | None,
                                               window: SendWindow | None, at: float) -> None:
    week = SendWeek(quiet, window)
    assume(not week.empty)
    rules = SendSchedule(week, ZoneInfo(zone))
    expected = first_open(at, ZoneInfo(zone), quiet, window)
    assert rules.first_open(at) == expected
    assert rules.next_allowed(at) == expected  # through the bucket cache
    assert rules.next_allowed(at) == expected  # and once cached


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ZONES), quiet_hours, send_windows,
       st.lists(instants, min_size=20, max_size=80))
def test_the_bucket_cache_agrees_with_the_exact_answer(
        zone: str, quiet: QuietHours | None, window: SendWindow | None,
        ats: list[float]) -> None:
    week = SendWeek(quiet, window)
    assume(not week.empty)
    rules = SendSchedule(week, ZoneInfo(zone))
    for at in ats:
        assert rules.next_allowed(at) == rules.first_open(at)
    cached = sorted(rules.openings.items())
    for bucket, opening in cached[::max(1, len(cached) // 60)]:
        start = bucket * rules.bucket
        for at in (start, start + rules.bucket / 2, start + rules.bucket - 1):
            assert rules.first_open(at) == (at if opening is None else opening)


@settings(max_examples=150, deadline=None)
@given(quiet_hours, send_windows)
def test_a_week_is_empty_exactly_when_no_minute_of_it_is_open(
        quiet: QuietHours | None, window: SendWindow | None) -> None:
    week = SendWeek(quiet, window)
    found = first_open(utc("2026-06-01T00:00:00"), ZoneInfo("UTC"), quiet, window, days=8)
    assert week.empty == (found is None)


@pytest.mark.parametrize(("zone", "at", "expected"), [
    # Quiet hours 22:00 to 08:00 across the nights the clocks change.
    ("Europe/Berlin", "2026-03-28T22:30:00", "2026-03-29T06:00:00"),  # 08:00 CEST
    ("Europe/Berlin", "2026-10-24T21:30:00", "2026-10-25T07:00:00"),  # 08:00 CET
    ("America/Los_Angeles", "2026-03-08T06:00:00", "2026-03-08T15:00:00"),  # 08:00 PDT
    ("Australia/Lord_Howe", "2026-04-04T12:00:00", "2026-04-04T21:30:00"),  # 08:00 +10:30
])
def test_quiet_hours_end_on_the_wall_clock_of_the_day(zone: str, at: str,
                                                      expected: str) -> None:
    rules = schedule(zone, QuietHours(start=time(22), end=time(8)), None)
    assert rules.next_allowed(utc(at)) == utc(expected)


def test_a_window_opening_in_the_spring_forward_gap_opens_when_the_gap_ends() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: 02:00 CET is followed by 03:00 CEST.
    rules = schedule("Europe/Berlin", None,
                     SendWindow(days=frozenset({SUN}), start=time(2, 30), end=time(4)))
    assert rules.next_allowed(utc("2026-03-28T12:00:00")) == utc("2026-03-29T01:00:00")
    # A week later 02:30 exists again, in summer time.
    assert rules.next_allowed(utc("2026-03-29T02:00:00")) == utc("2026-04-05T00:30:00")


def test_a_window_wholly_inside_the_gap_stays_shut_that_day() -> None:
    rules = schedule("Europe/Berlin", None,
                     SendWindow(days=frozenset({SUN}), start=time(2, 15), end=time(2, 45)))
    assert rules.next_allowed(utc("2026-03-28T12:00:00")) == utc("2026-04-05T00:15:00")


def test_the_repeated_hour_of_fall_back_is_open_twice() -> None:
    # 02:00 to 03:00 happens twice on 2026-10-25 in Berlin (CEST, then CET).
    rules = schedule("Europe/Berlin", None,
                     SendWindow(days=frozenset({SUN}), start=time(2), end=time(2, 30)))
    assert rules.next_allowed(utc("2026-10-25T00:10:00")) == utc("2026-10-25T00:10:00")
    assert rules.next_allowed(utc("2026-10-25T00:40:00")) == utc("2026-10-25T01:00:00")


def test_a_window_wrapping_midnight_belongs_to_the_day_it_opens() -> None:
    rules = schedule("UTC", None,
                     SendWindow(days=frozenset({FRI}), start=time(22), end=time(2)))
    assert rules.next_allowed(utc("2026-01-10T01:30:00")) == utc("2026-01-10T01:30:00")  # Sat
    assert rules.next_allowed(utc("2026-01-09T01:30:00")) == utc("2026-01-09T22:00:00")  # Fri
    assert rules.next_allowed(utc("2026-01-10T02:00:00")) == utc("2026-01-16T22:00:00")


def test_a_window_over_the_end_of_the_week_is_one_stretch() -> None:
    rules = schedule("UTC", None,
                     SendWindow(days=frozenset({SUN}), start=time(20), end=time(6)))
    monday = utc("2026-01-05T05:59:00")
    assert rules.next_allowed(monday) == monday
    assert rules.scan(utc("2026-01-04T20:00:00")) == (True, utc("2026-01-05T06:00:00"))


def test_quiet_hours_cut_the_window_and_the_rest_opens_exactly() -> None:
    quiet = QuietHours(start=time(21), end=time(9, 10))
    window = SendWindow(days=frozenset({SAT}), start=time(20), end=time(10))
    rules = schedule("Asia/Kathmandu", quiet, window)  # +05:45
    # Saturday 20:00 to 21:00 local, then Sunday 09:10 to 10:00.
    assert rules.next_allowed(utc("2026-01-10T15:30:00")) == utc("2026-01-11T03:25:00")
    assert rules.next_allowed(utc("2026-01-11T04:15:00")) == utc("2026-01-17T14:15:00")


def test_a_far_opening_is_found_without_giving_up() -> None:
    # One minute a week, asked for just after it closed: the answer is seven days away.
    window = SendWindow(days=frozenset({SUN}), start=time(3, 59), end=time(4))
    rules = schedule("America/Los_Angeles", QuietHours(start=time(4), end=time(3, 59)), window)
    at = utc("2026-03-08T11:00:01")  # Sunday 04:00:01 PDT
    assert rules.next_allowed(at) == utc("2026-03-15T10:59:00")


def test_a_week_with_no_open_time_is_refused() -> None:
    with pytest.raises(ValueError, match="never opens"):
        schedule("UTC", QuietHours(start=time(20), end=time(10)),
                 SendWindow(days=frozenset({FRI}), start=time(21), end=time(9)))


def test_the_bucket_cache_is_bounded_and_cleared_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    import journeyflow.runtime.send_schedule as module

    monkeypatch.setattr(module, "_KEEP", 100)
    rules = schedule("UTC", None, SendWindow(days=frozenset({0}), start=time(9, 7),
                                             end=time(9, 8)))
    cache, lookup = rules.openings, rules.openings.get
    start = utc("2026-01-01T00:00:00")
    for day in range(120):
        at = start + day * 86_400
        assert rules.next_allowed(at) == rules.first_open(at)
    assert rules.openings is cache
    assert len(cache) + len(rules._mixed) <= 100 + 2 * 7 * 24 * 60
    assert lookup.__self__ is rules.openings
