"""A send log shared by the engines of several journeys: a `limit` holds across them."""

from __future__ import annotations

from typing import Any

import journeyflow
from journeyflow.runtime.sendlog import SendLog

NEWS = """journey "news"
event signed_up {}
event opened {}
message digest via email { subject "Digest" }
message receipt via email transactional { subject "Receipt" }
stage reader start {
  on signed_up { send digest }
  on opened { send receipt }
}
"""
OFFERS = """journey "offers"
limit email to 1 per 7d
event signed_up {}
event visited {}
message offer via email { subject "10% off" }
stage prospect start {
  on signed_up { send offer }
  on visited { send offer }
}
"""
DAY = 86400.0
T0 = 1767261600.0


def engines(log: SendLog | None) -> tuple[journeyflow.Engine, journeyflow.Engine]:
    news = journeyflow.Engine(journeyflow.loads(NEWS), sends=log)
    offers = journeyflow.Engine(journeyflow.loads(OFFERS), sends=log)
    return news, offers


def kinds(engine: journeyflow.Engine) -> list[tuple[str, Any]]:
    return [(r["kind"], r.get("reason")) for r in engine.trace
            if r["kind"] in ("action", "suppressed") and r.get("message") != "receipt"]


def event(name: str, at: float, cid: str = "c1") -> dict[str, Any]:
    return {"at": at, "customer": cid, "event": name}


def test_a_limit_counts_the_other_journeys_deliveries() -> None:
    news, offers = engines(SendLog())
    news.handle(event("signed_up", T0))
    offers.handle(event("signed_up", T0 + 60))
    assert kinds(offers) == [("suppressed", "frequency_cap")]


def test_without_a_shared_log_each_journey_counts_its_own() -> None:
    news, offers = engines(None)
    news.handle(event("signed_up", T0))
    offers.handle(event("signed_up", T0 + 60))
    assert kinds(offers) == [("action", None)]


def test_the_window_ends_and_other_customers_are_apart() -> None:
    news, offers = engines(SendLog())
    news.handle(event("signed_up", T0))
    offers.handle(event("signed_up", T0 + 60, "c2"))  # another customer: not capped
    offers.handle(event("visited", T0 + 7 * DAY + 1))  # the digest left the window
    assert kinds(offers) == [("action", None), ("action", None)]


def test_suppressed_and_transactional_sends_do_not_count() -> None:
    log = SendLog()
    news, offers = engines(log)
    news.handle(event("opened", T0))  # a receipt: transactional, never counted
    offers.handle(event("signed_up", T0 + 60))  # delivered: the one allowed
    offers.handle(event("visited", T0 + 120))  # suppressed by the cap: not counted
    assert kinds(offers) == [("action", None), ("suppressed", "frequency_cap")]
    assert [channel for _, channel in log.sends("c1", T0 + 120)] == ["email"]


def test_the_log_keeps_the_longest_window_of_its_journeys() -> None:
    log = SendLog()
    engines(log)
    assert log.keep == 7 * DAY
