"""Each customer's time zone: quiet hours, next(...), yearly dates, bad zones."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import journeyflow
from journeyflow.runtime.zones import anniversary, next_time

JOURNEY = """
journey "Zones"
timezone customer.tz or "Europe/Berlin"
customer { tz: text?  birthday: date? }
event signed_up {}
message welcome via email { subject "Welcome" }
message birthday_mail via email { subject "Happy birthday" }
message tip via email { subject "Tip" }
quiet hours 22:00 to 08:00
stage new start {
  on signed_up { send welcome  at next(09:00, mon-fri) { send tip } }
  at birthday + 9h every year { send birthday_mail }
}
"""


def run(customers: dict[str, dict[str, Any]], at: str = "2026-01-05T23:00:00Z",
        until: str = "2028-03-10T00:00:00Z") -> journeyflow.Engine:
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY, "z.journey"))
    for cid, attributes in customers.items():
        engine.handle({"at": at, "customer": cid, "event": "signed_up",
                       "attributes": attributes})
    engine.advance(until)
    return engine


def sends(engine: journeyflow.Engine, cid: str, message: str) -> list[str]:
    return [r["at"] for r in engine.trace if r["customer"] == cid
            and r.get("action") == "send" and r["message"] == message]


def test_quiet_hours_are_the_customers_own() -> None:
    engine = run({"la": {"tz": "America/Los_Angeles"}, "berlin": {}})
    # 23:00 UTC is 15:00 in Los Angeles (no quiet hours) and midnight in Berlin.
    assert sends(engine, "la", "welcome") == ["2026-01-05T23:00:00Z"]
    assert sends(engine, "berlin", "welcome") == ["2026-01-06T07:00:00Z"]


def test_next_is_a_local_time_on_the_given_days() -> None:
    engine = run({"la": {"tz": "America/Los_Angeles"}, "berlin": {}},
                 at="2026-01-09T23:00:00Z")  # a Friday: 15:00 in LA, Saturday in Berlin
    assert sends(engine, "la", "tip") == ["2026-01-12T17:00:00Z"]  # Monday 09:00 PST
    assert sends(engine, "berlin", "tip") == ["2026-01-12T08:00:00Z"]  # Monday 09:00 CET


def test_a_birthday_from_1990_fires_every_year_in_the_customers_zone() -> None:
    engine = run({"la": {"tz": "America/Los_Angeles", "birthday": "1990-01-07"},
                  "berlin": {"birthday": "1990-01-07"}})
    assert sends(engine, "la", "birthday_mail") == [
        "2026-01-07T17:00:00Z", "2027-01-07T17:00:00Z", "2028-01-07T17:00:00Z"]
    assert sends(engine, "berlin", "birthday_mail") == [
        "2026-01-07T08:00:00Z", "2027-01-07T08:00:00Z", "2028-01-07T08:00:00Z"]


def test_a_leap_day_birthday_falls_on_28_february_in_other_years() -> None:
    engine = run({"c": {"tz": "UTC", "birthday": "2000-02-29"}})
    assert sends(engine, "c", "birthday_mail") == [
        "2026-02-28T09:00:00Z", "2027-02-28T09:00:00Z", "2028-02-29T09:00:00Z"]


def test_an_invalid_zone_falls_back_and_counts_one_warning_per_customer() -> None:
    engine = run({"mars": {"tz": "Mars/Base"}, "empty": {"tz": ""}, "none": {}})
    assert sends(engine, "mars", "welcome") == ["2026-01-06T07:00:00Z"]
    assert engine.warnings == 2  # a null zone is simply the fallback


def test_one_zone_journeys_use_the_cached_delivery_rules() -> None:
    plain = JOURNEY.replace('timezone customer.tz or "Europe/Berlin"', 'timezone "Europe/Berlin"')
    engine = journeyflow.Engine(journeyflow.loads(plain, "p.journey"))
    sources = "\n".join(engine.interpreter.p.bodies.sources.values())
    assert "_zones.next_allowed" not in sources


def test_next_time_skips_a_missing_wall_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    before = datetime(2026, 3, 28, 12, tzinfo=berlin).timestamp()
    at = next_time(before, time(2, 30), range(7), berlin)  # 02:30 does not exist on 29 March
    assert datetime.fromtimestamp(at, berlin).isoformat() == "2026-03-29T03:00:00+02:00"


def test_anniversary_is_at_or_after_the_given_instant() -> None:
    utc = ZoneInfo("UTC")
    born = datetime(1990, 5, 17, 9, tzinfo=utc).timestamp()
    same = datetime(2026, 5, 17, 9, tzinfo=utc).timestamp()
    assert anniversary(born, same, utc, utc) == same
