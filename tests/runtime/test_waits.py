"""Delayed statements: `unless EVENT where ...` with `origin`, and delayed `at`."""

from __future__ import annotations

from typing import Any

import journeyflow

CARTS = """
journey "Carts"
customer { renewal: datetime? }
event cart_abandoned { cart_id: text }
event purchased { cart_id: text = "none" }
event moved {}
message cart_reminder via email { subject "Your cart {{ event.cart_id }}" }
stage shopping start {
  on cart_abandoned {
    after 4h unless purchased where event.cart_id == origin.cart_id { send cart_reminder }
  }
  on moved -> elsewhere
}
stage elsewhere { on purchased -> shopping }
"""


def run(source: str, events: list[tuple[str, str, dict[str, Any]]],
        until: str = "2026-01-06T00:00:00Z", **attributes: Any) -> journeyflow.Engine:
    engine = journeyflow.Engine(journeyflow.loads(source, "w.journey"))
    for at, name, data in events:
        engine.handle({"at": f"2026-01-05T{at}:00Z", "customer": "c1", "event": name,
                       "data": data, "attributes": attributes})
    engine.advance(until)
    return engine


def sent(engine: journeyflow.Engine) -> list[tuple[str, str]]:
    return [(r["at"][11:16], r["message"]) for r in engine.trace
            if r["kind"] == "action" and r["action"] == "send"]


def test_only_the_matching_purchase_cancels_its_own_reminder() -> None:
    engine = run(CARTS, [("10:00", "cart_abandoned", {"cart_id": "A"}),
                         ("10:30", "cart_abandoned", {"cart_id": "B"}),
                         ("11:00", "purchased", {"cart_id": "A"})])
    assert sent(engine) == [("14:30", "cart_reminder")]


def test_an_unrelated_purchase_cancels_nothing() -> None:
    engine = run(CARTS, [("10:00", "cart_abandoned", {"cart_id": "A"}),
                         ("11:00", "purchased", {"cart_id": "C"})])
    assert sent(engine) == [("14:00", "cart_reminder")]


def test_leaving_the_stage_still_cancels_every_wait() -> None:
    engine = run(CARTS, [("10:00", "cart_abandoned", {"cart_id": "A"}),
                         ("11:00", "moved", {}),
                         ("12:00", "purchased", {"cart_id": "Z"})])
    assert sent(engine) == []
    # The wait of the stay that was left is gone from the customer, not only stale.
    c = engine.interpreter.customers["c1"]
    assert all(not getattr(c, slot) for key, slot in c._layout.history.items()
               if key.startswith("waits:"))


AT = """
journey "Renewal"
customer { renewal: datetime? }
event signed {}
event renewed {}
message reminder via email { subject "Renew soon" }
stage active start {
  on signed {
    at renewal - 1d unless renewed { send reminder }
  }
}
"""


def test_a_delayed_at_is_due_at_its_instant_and_cancelled_by_unless() -> None:
    engine = run(AT, [("10:00", "signed", {})], until="2026-01-20T00:00:00Z",
                 renewal="2026-01-10T09:00:00Z")
    assert [r["at"] for r in engine.trace if r.get("action") == "send"] == [
        "2026-01-09T09:00:00Z"]
    engine = run(AT, [("10:00", "signed", {}), ("11:00", "renewed", {})],
                 until="2026-01-20T00:00:00Z", renewal="2026-01-10T09:00:00Z")
    assert sent(engine) == []


def test_a_delayed_at_in_the_past_is_due_at_once_and_a_null_one_never() -> None:
    engine = run(AT, [("10:00", "signed", {})], renewal="2026-01-01T09:00:00Z")
    assert sent(engine) == [("10:00", "reminder")]
    engine = run(AT, [("10:00", "signed", {})], until="2027-01-01T00:00:00Z")
    assert sent(engine) == []
