"""Quiet hours, send windows and caps, daylight-saving time included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hypothesis import given, settings
from hypothesis import strategies as st

import journeyflow
from journeyflow.model.journey import QuietHours, SendWindow
from journeyflow.runtime.delivery import DeliveryRules, local_instant

QUIET = QuietHours(start=time(22, 0), end=time(8, 0))
WINDOW = SendWindow(days=frozenset(range(5)), start=time(9, 0), end=time(18, 0))


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_spring_forward_gap_moves_to_the_next_valid_instant() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    # 02:30 does not exist on 2026-03-29 in Berlin: the clock jumps from 02:00 to 03:00.
    assert local_instant(date(2026, 3, 29), time(2, 30), berlin) == utc("2026-03-29T01:00:00")
    assert local_instant(date(2026, 3, 30), time(2, 30), berlin) == utc("2026-03-30T00:30:00")


def test_quiet_hours_around_daylight_saving() -> None:
    rules = DeliveryRules("Europe/Berlin", QUIET, None, ())
    # 23:30 CET on the night before summer time: deferred to 08:00 CEST = 06:00 UTC.
    assert rules.next_allowed(utc("2026-03-28T22:30:00")) == utc("2026-03-29T06:00:00")
    # 23:30 CEST on the night autumn time begins: 08:00 CET = 07:00 UTC.
    assert rules.next_allowed(utc("2026-10-24T21:30:00")) == utc("2026-10-25T07:00:00")


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 366 * 24 * 3600), st.sampled_from(["Europe/Berlin", "America/New_York",
                                                          "Asia/Kathmandu", "UTC"]))
def test_cached_answer_equals_the_exact_search(offset: int, zone: str) -> None:
    rules = DeliveryRules(zone, QUIET, WINDOW, ())
    at = utc("2026-01-01T00:00:00") + offset
    assert rules.next_allowed(at) == rules._search(at)
    assert rules.next_allowed(at) >= at


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 60 * 24 * 3600), min_size=1, max_size=200),
       st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC"]))
def test_answers_cached_for_a_whole_night_equal_the_exact_search(offsets: list[int],
                                                                 zone: str) -> None:
    rules = DeliveryRules(zone, QUIET, None, ())
    for offset in offsets:
        at = utc("2026-03-20T00:00:00") + offset  # spans the spring-forward night
        assert rules.next_allowed(at) == rules._search(at)


def test_cap_counts_deliveries_in_the_half_open_window() -> None:
    engine = journeyflow.Engine(journeyflow.loads("""
journey "caps"
event go {}
message hi via email { subject "Hi" }
message ping via sms { body "Hi" }
limit email to 2 per 7d
stage a start {
  on go {
    send hi
    send ping
  }
}""", "caps.journey"))
    day = 86400.0
    t0 = utc("2026-01-05T10:00:00")

    def go(days: int) -> list[tuple[str, str]]:
        start = len(engine.trace)
        engine.handle({"at": t0 + days * day, "customer": "c1", "event": "go"})
        return [(r["kind"], r["message"]) for r in engine.trace[start:]
                if r["kind"] in ("action", "suppressed")]

    go(0)
    go(1)
    # Two emails in (t - 7d, t]: the third is over the cap; sms has no cap.
    assert go(6) == [("suppressed", "hi"), ("action", "ping")]
    c = engine.interpreter.customers["c1"]
    assert getattr(c, engine.program.layout.caps["email"]) == (t0, t0 + day)
    assert go(7) == [("action", "hi"), ("action", "ping")]  # the first send left (t-7d, t]
