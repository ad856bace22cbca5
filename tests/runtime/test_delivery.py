"""Quiet hours, send windows and caps, daylight-saving time included."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

import journeyflow
from journeyflow.model.journey import QuietHours, SendWindow
from journeyflow.runtime.delivery import DeliveryRules

QUIET = QuietHours(start=time(22, 0), end=time(8, 0))
WINDOW = SendWindow(days=frozenset(range(5)), start=time(9, 0), end=time(18, 0))


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_quiet_hours_around_daylight_saving() -> None:
    rules = DeliveryRules("Europe/Berlin", QUIET, None, ())
    # 23:30 CET on the night before summer time: deferred to 08:00 CEST = 06:00 UTC.
    assert rules.next_allowed(utc("2026-03-28T22:30:00")) == utc("2026-03-29T06:00:00")
    # 23:30 CEST on the night autumn time begins: 08:00 CET = 07:00 UTC.
    assert rules.next_allowed(utc("2026-10-24T21:30:00")) == utc("2026-10-25T07:00:00")


def test_no_quiet_hours_and_no_window_send_at_once() -> None:
    rules = DeliveryRules("Europe/Berlin", None, None, ())
    assert not rules.timed
    assert rules.next_allowed(utc("2026-03-29T01:30:00")) == utc("2026-03-29T01:30:00")


def test_the_journey_zone_schedule_is_what_generated_code_binds() -> None:
    rules = DeliveryRules("Europe/Berlin", QUIET, WINDOW, ())
    home = rules.schedule("Europe/Berlin")
    assert rules.openings is home.openings
    assert rules.bucket == home.bucket == 3600
    at = utc("2026-01-03T12:00:00")  # a Saturday: Monday 09:00 CET
    assert rules.next_allowed(at) == home.next_allowed(at) == utc("2026-01-05T08:00:00")
    assert rules.openings[int(at // 3600)] == utc("2026-01-05T08:00:00")


def test_schedules_are_made_per_zone_on_demand_and_kept() -> None:
    rules = DeliveryRules("Europe/Berlin", QUIET, WINDOW, ())
    tokyo = rules.schedule("Asia/Tokyo")
    assert rules.schedule("Asia/Tokyo") is tokyo
    assert tokyo is not rules.schedule("Europe/Berlin")
    # Monday 09:00 in Tokyo (+09:00) is Monday 00:00 UTC.
    assert tokyo.next_allowed(utc("2026-01-03T12:00:00")) == utc("2026-01-05T00:00:00")
    kathmandu = rules.schedule("Asia/Kathmandu")  # +05:45: buckets of a quarter hour
    assert kathmandu.bucket == 900
    assert kathmandu.next_allowed(utc("2026-01-03T12:00:00")) == utc("2026-01-05T03:15:00")


@pytest.mark.parametrize(("quiet", "window"), [
    (None, SendWindow(days=frozenset({2, 4}), start=time(0), end=time(0))),
    (QUIET, SendWindow(days=frozenset(range(7)), start=time(23), end=time(7))),
])
def test_rules_that_never_let_a_send_out_are_refused(quiet: QuietHours | None,
                                                      window: SendWindow) -> None:
    with pytest.raises(ValueError, match="never opens"):
        DeliveryRules("UTC", quiet, window, ())


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


def test_the_engine_delivers_a_held_send_at_the_exact_opening() -> None:
    engine = journeyflow.Engine(journeyflow.loads("""
journey "weekend nights"
timezone "Europe/Berlin"
event go {}
message hi via email { subject "Hi" }
quiet hours 23:00 to 01:00
send window fri 22:00 to 02:00
stage a start {
  on go { send hi }
}""", "nights.journey"))
    def go(at: str) -> None:
        engine.handle({"at": at, "customer": at, "event": "go"})

    # Friday 20:00 CET: held until 22:00; Friday 23:30: held by quiet hours until 01:00
    # Saturday; Saturday 01:59: inside the window's last minute, out at once.
    go("2026-01-09T19:00:00Z")
    go("2026-01-09T22:30:00Z")
    go("2026-01-10T00:59:00Z")
    engine.advance("2026-01-20T00:00:00Z")
    sent = sorted(r["at"] for r in engine.trace if r["kind"] == "action")
    assert sent == ["2026-01-09T21:00:00Z", "2026-01-10T00:00:00Z", "2026-01-10T00:59:00Z"]
